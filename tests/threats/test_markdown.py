"""Markdown (step summary, PR comment): finding text with `|`, newlines, headings, links, images,
HTML and an unclosed `<!--` keeps every table's shape and renders as no markup; the summary is
capped near 1 MiB with a note saying how many rows were left out.

tests/test_outputs_injection.py checks one cell at a time for arbitrary text (property tests) and
tests/test_outputs.py a small cap through GATE_MARKDOWN_MAX_BYTES; here the whole summary of a
real run is rendered by a CommonMark parser with tables, and the default cap is reached for real.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tests.conftest import run_gate
from tests.threats.helpers import CORE_POLICY, T, output, result, sarif, write_json

HOSTILE = [
    "a | b || c \\| d",
    "line one\nline two\r\nline three",
    "# Heading one",
    "\n## Heading two\n",
    "[click me](https://evil.example/phish)",
    "![tracker](https://evil.example/pixel.png)",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<!-- unclosed comment swallowing the rest",
    "<details><summary>x</summary>",
    "`code` **bold** _em_ ~~strike~~",
    "@octocat please merge",
    "https://evil.example/autolink <https://evil.example/auto>",
    "---",
    "| forged | row |\n|---|---|",
]

md = MarkdownIt("commonmark").enable("table").enable("strikethrough")


def render(tmp_path: Path, texts: list[str], env: dict[str, str] | None = None) -> tuple[str, dict]:
    findings = [result(text, rule=f"R{i}-{text}", uri=f"src/{text}.py", line=i + 1) for i, text in enumerate(texts)]
    report = write_json(tmp_path / "hostile.sarif", sarif(findings, tool="Tool | <b>x</b>"))
    summary, verdict = tmp_path / "summary.md", tmp_path / "verdict.json"
    res = run_gate(
        ["evaluate", str(report), "--policy", str(CORE_POLICY), *T, "--output", f"markdown={summary}", "--output", f"json={verdict}"],
        env=env,
    )
    assert res.exit_code == 10, output(res)
    return summary.read_text(encoding="utf-8"), json.loads(verdict.read_text())


def test_hostile_text_keeps_tables_and_renders_no_markup(tmp_path: Path) -> None:
    text, verdict = render(tmp_path, HOSTILE)
    tokens = md.parse(text)
    # Every table: each row has exactly as many cells as its header.
    shape: list[int] = []
    rows: list[int] = []
    cells = 0
    for t in tokens:
        if t.type == "tr_open":
            cells = 0
        elif t.type in ("th_open", "td_open"):
            cells += 1
        elif t.type == "tr_close":
            rows.append(cells)
        elif t.type == "table_close":
            assert len(set(rows)) == 1, rows
            shape.append(rows[0])
            rows = []
    assert shape, "the summary has tables"
    body_rows = sum(1 for t in tokens if t.type == "tr_open") - len(shape)
    assert body_rows >= len(HOSTILE), "one row per violation at least"
    inline = [c for t in tokens if t.type == "inline" for c in (t.children or [])]
    assert not [t for t in tokens if t.type == "html_block"] and not [c for c in inline if c.type == "html_inline"]
    assert not [c for c in inline if c.type == "image"]
    assert all(str(c.attrGet("href")).startswith("#") for c in inline if c.type == "link_open"), "no link but the gate's own anchors"
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert not [h for h in headings if "Heading" in h], headings
    assert "evil.example" not in "".join(str(c.attrGet("href") or "") + str(c.attrGet("src") or "") for c in inline)
    assert len(verdict["violations"]) == len(HOSTILE)


@pytest.mark.slow
def test_the_summary_is_capped_near_1_mib_with_a_note(tmp_path: Path) -> None:
    filler = "|<>[]()#*_`!&" * 23  # 299 characters that all need escaping
    text, verdict = render(tmp_path, [f"{i} {filler}" for i in range(3000)], env={"GATE_MARKDOWN_MAX_BYTES": ""})
    size = len(text.encode("utf-8"))
    assert 0.9 * 2**20 <= size <= 2**20, size
    note = re.search(r"_… (\d+) more row\(s\) left out to stay within 1048576 bytes", text)
    assert note, text[-500:]
    shown = sum(1 for t in md.parse(text) if t.type == "tr_open") - sum(1 for t in md.parse(text) if t.type == "table_open")
    assert int(note.group(1)) > 0 and len(verdict["violations"]) == 3000, "the verdict keeps every violation"
    assert shown < 3000


def test_bidi_override_and_zero_width_characters_are_shown_not_obeyed(tmp_path: Path) -> None:
    """Issue 14: U+202E in a finding's message and path passed into the summary as is, so the
    text read reversed; a zero-width space made two paths look alike. Now each is `\\u202e`."""
    text, _ = render(tmp_path, ["admin\u202egnp.py", "zero\u200bwidth", "joiner\u200did"])
    assert not any(c in text for c in "\u202e\u200b\u200d")
    assert "admin\\u202egnp.py" in text and "zero\\u200bwidth" in text and "joiner\\u200did" in text
