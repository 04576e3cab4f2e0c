"""Markdown text that renders as exactly the characters it was given.

Rule metadata and verdict text end up in Markdown catalogues and PR comments. Every character
Markdown (GitHub Flavoured) could read as markup is backslash-escaped, HTML is entity-encoded,
and line breaks become spaces inside table cells, so a `|` never splits a cell and no text can
open a heading, a link, an image or an HTML comment. Balanced single-backtick code spans
written by the policy author are kept (their contents are literal in Markdown anyway).
"""

from __future__ import annotations

import re

from gate.output.text import neutralise

# Inline markup (emphasis, code, links, tables, strike-through, headings, @mentions, #refs).
_SPECIAL = re.compile(r"([\\`*_\[\]!|~#@$])")
# Block markup that only counts at the start of a line: lists, quotes, rules, headings.
_LINE_START = re.compile(r"^(\s*)([-+=]|\d+[.)])")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]")


def _escape_plain(text: str, *, at_line_start: bool) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _SPECIAL.sub(r"\\\1", text)
    if at_line_start:
        text = _LINE_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], text)
    return text


def escape(text: object, *, cell: bool = False, keep_code: bool = True) -> str:
    """`text` as one line of Markdown that shows it literally; `cell=True` inside a table."""
    s = "" if text is None else str(text)
    s = neutralise(" ".join(_CONTROL.sub(" ", s).split()))  # bidi and invisible characters: `\u202e`
    out: list[str] = []
    pos = 0
    spans = list(_CODE_SPAN.finditer(s)) if keep_code else []
    for m in spans:
        out.append(_escape_plain(s[pos : m.start()], at_line_start=pos == 0))
        code = m.group(1)
        # A pipe ends a table cell even inside a code span; GFM lets `\|` stand for it there.
        out.append("`" + (code.replace("|", "\\|") if cell else code) + "`")
        pos = m.end()
    out.append(_escape_plain(s[pos:], at_line_start=pos == 0))
    return "".join(out)


def paragraphs(text: object) -> str:
    """Free text as escaped Markdown paragraphs (blank lines separate them; single newlines fold)."""
    s = "" if text is None else str(text)
    blocks = [" ".join(b.split()) for b in re.split(r"\n\s*\n", s)]
    return "\n\n".join(escape(b) for b in blocks if b)


def code(text: object) -> str:
    """An inline code span holding `text` verbatim (fence long enough for any backticks inside)."""
    s = neutralise(" ".join(("" if text is None else str(text)).split()))
    runs = [len(r) for r in re.findall(r"`+", s)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or not s else ""
    return f"{fence}{pad}{s}{pad}{fence}".replace("|", "\\|")
