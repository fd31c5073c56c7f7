"""User text made safe to quote, publish and print.

* :func:`quote` — a short excerpt of user text for a message (a 1M-character narrative or a
  100k-character sheet name must not become a 2M-character message);
* :func:`hidden_chars` / :func:`strip_hidden` — bidi controls (U+202E turns "10" into "01" on
  screen), C0/C1 control characters and zero-width characters: found by check, removed by build;
* :func:`terminal` — text for a terminal line with escape sequences shown, not obeyed.
"""

from __future__ import annotations

import re
import unicodedata

#: Longest quoted user text in a message.
QUOTE_MAX = 40

# Bidi embedding/override/isolate controls and marks: they reorder what is shown.
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Zero-width characters: invisible, usually pasted along from web pages or Word.
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
# C0 and C1 control characters except tab, line feed and carriage return.
_CONTROLS = "".join(chr(c) for c in [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0)])
_HIDDEN = re.compile(f"[{re.escape(BIDI + _CONTROLS + ZERO_WIDTH)}]")
_DANGEROUS = re.compile(f"[{re.escape(BIDI + _CONTROLS)}]")
# An escape sequence (CSI, OSC) is removed whole on publishing, not only its ESC.
_ESCAPE_SEQUENCE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")


def quote(text: object, limit: int = QUOTE_MAX) -> str:
    """``text`` cut to ``limit`` characters (with …), hidden characters shown as U+XXXX."""
    text = "" if text is None else str(text)
    cut = text[:limit]
    shown = _HIDDEN.sub(lambda m: f"<U+{ord(m.group(0)):04X}>", cut)
    return shown + ("…" if len(text) > limit else "")


def hidden_chars(text: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(dangerous, invisible): positions and characters of bidi/control characters and of
    zero-width characters in ``text``."""
    dangerous, invisible = [], []
    for match in _HIDDEN.finditer(text):
        char = match.group(0)
        (invisible if char in ZERO_WIDTH else dangerous).append((match.start(), char))
    return dangerous, invisible


def char_name(char: str) -> str:
    """``U+202E（RIGHT-TO-LEFT OVERRIDE）`` — how a message names a hidden character."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f"（{name}）" if name else "")


def strip_hidden(text: str) -> str:
    """``text`` without escape sequences, bidi controls, control and zero-width characters."""
    return _HIDDEN.sub("", _ESCAPE_SEQUENCE.sub("", text))


def terminal(text: object) -> str:
    """Text for one terminal line: control and bidi characters shown as ``\\x1b``/``\\u202e``."""
    def show(match: re.Match[str]) -> str:
        code = ord(match.group(0))
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _DANGEROUS.sub(show, "" if text is None else str(text))


__all__ = ["BIDI", "QUOTE_MAX", "ZERO_WIDTH", "char_name", "hidden_chars", "quote", "strip_hidden", "terminal"]
