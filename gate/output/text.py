"""Attacker text made safe to show on a terminal or in a CI log.

Control characters (newlines, carriage returns, escape sequences, Unicode line separators) are
shown as escapes, so one finding is one line and no text can start a line of its own; the
runner's command markers (`::` at a line start, `##[` anywhere) are broken so a finding's text
can never become a workflow command.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_WORD_JOINER = "\u2060"
_COLONS = re.compile(r":(?=:)")  # every `::`, overlapping ones too (`:::`)


def _escape(m: re.Match[str]) -> str:
    c = m.group(0)
    return {"\n": "\\n", "\r": "\\r", "\t": " "}.get(c, f"\\u{ord(c):04x}")


def clean(text: object, limit: int | None = None) -> str:
    """One safe line of at most `limit` characters (an ellipsis marks a cut)."""
    s = "" if text is None else str(text)
    s = _CONTROL.sub(_escape, s)
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
