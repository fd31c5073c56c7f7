"""Mail over the standard protocols: compose (templates, attachments, .eml drafts), SMTP
sending, IMAP fetching with remembered UIDs, and decoding what Chinese mailers really send.

Nothing here knows about campaigns; ``nianbao.campaign.mailing`` joins the two.
"""
