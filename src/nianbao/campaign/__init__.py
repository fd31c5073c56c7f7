"""The coordinator's campaign: one folder per collection round (units, outbox, inbox, ledger).

Modules: units (the unit list), ledger (SQLite record), store (content-addressed inbox),
sources (folders, .eml, mbox, Maildir → received items), collect, status, feedback, merge, init.
"""
