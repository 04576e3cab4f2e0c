"""Attacker text made safe to show on a terminal or in a CI log, and to a reviewer anywhere.

Control characters (newlines, carriage returns, escape sequences, Unicode line separators) are
shown as escapes, so one finding is one line and no text can start a line of its own; the
runner's command markers (`::` at a line start, `##[` anywhere) are broken so a finding's text
can never become a workflow command.

`neutralise` is the one rule every human-facing output applies (console, Markdown, annotations,
JUnit, SARIF message texts, `gate explain`, `gate policy doc`): a character a reader cannot see
or that reorders what they see (bidirectional overrides and isolates U+202A-U+202E and
U+2066-U+2069, the marks U+200E/U+200F and U+061C, zero-width U+200B-U+200D and U+2060, the byte
order mark U+FEFF, tag characters, line and paragraph separators: every character of Unicode's
categories Cc, Cf, Cs, Zl and Zp) is shown as a visible escape, `\\u202e`. So `src/admin\u202egnp.py`
cannot pass for `src/adminyp.png`, and a rule id with a zero-width space cannot pass for another.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_WORD_JOINER = "\u2060"
_COLONS = re.compile(r":(?=:)")  # every `::`, overlapping ones too (`:::`)
_NOT_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e]")
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def is_hidden(ch: str) -> bool:
    """True for a character a reader cannot see or that reorders the text (see the module doc)."""
    return unicodedata.category(ch) in _HIDDEN_CATEGORIES


def visible_escape(ch: str) -> str:
    """`\\u202e` (or `\\U000e0041` beyond the basic plane): how a hidden character is shown."""
    return f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}"


def neutralise(text: object, *, keep: str = "") -> str:
    """`text` with every hidden character (but those in `keep`) shown as a visible escape."""
    s = "" if text is None else str(text)
    if s.isascii() and s.isprintable():  # U+0020 to U+007E only: nothing to show (most texts; no regex pass)
        return s

    def swap(m: re.Match[str]) -> str:
        c = m.group(0)
        return c if c in keep or not is_hidden(c) else visible_escape(c)

    return _NOT_PRINTABLE_ASCII.sub(swap, s)


def _escape(m: re.Match[str]) -> str:
    c = m.group(0)
    return {"\n": "\\n", "\r": "\\r", "\t": " "}.get(c, f"\\u{ord(c):04x}")


def clean(text: object, limit: int | None = None) -> str:
    """One safe line of at most `limit` characters (an ellipsis marks a cut)."""
    s = "" if text is None else str(text)
    s = neutralise(_CONTROL.sub(_escape, s))
    s = _COLONS.sub(":" + _WORD_JOINER, s).replace("##[", "##" + _WORD_JOINER + "[")
    if limit is not None and len(s) > limit:
        s = s[: max(0, limit - 1)] + "…"
    return s


def error_lines(message: object, prefix: str = "gate: error: ") -> list[str]:
    """An error message for stderr: the one prefix on its first line, its own lines kept (each made safe).

    A compile error's message has several lines (the file:line:col, the offending line, a caret):
    they stay lines, indented under the first, instead of one line with literal `\\n`s.
    """
    text = "" if message is None else str(message)
    parts = text.replace("\r\n", "\n").split("\n")
    while len(parts) > 1 and not parts[-1].strip():
        parts.pop()
    return [prefix + clean(parts[0]), *("  " + clean(p) for p in parts[1:])]
