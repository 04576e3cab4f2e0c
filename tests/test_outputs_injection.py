"""Finding text never becomes a workflow command or markup (THREATS.md, attack path 3).

The runner obeys `::command::` at the start of any line of stdout and stderr (lines end at `\\n`
or a bare `\\r`) and the legacy `##[command]` anywhere in a line. Every format the gate can print
to the console is parsed here the way the runner does (tests/workflow_commands.py, which is
stricter: any command name, and no `stop-commands` pause), on inputs whose every text field
carries `\\n::add-mask::x`, `\\r::stop-commands::t`, `%0A`, `##[error]` mid-line and `::set-output`.
Only the gate's own annotations may come out. Property tests then do the same for arbitrary text.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as ET
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from gate.output.common import results
from gate.output.github import command, escape_data, escape_property
from gate.output.json_format import dump
from gate.output.markdown import code, flatten
from gate.output.registry import FORMATS, get_formatter
from gate.output.text import clean
from tests.conftest import DATA, run_gate
from tests.workflow_commands import commands, parse_legacy, parse_v2, unescape_data, unescape_property

OUT = DATA / "outputs"
CORE = DATA / "core"
T = ["--time", "2026-11-26T12:00:00Z"]
CONSOLE_FORMATS = [f for f in FORMATS if f != "input"]
ANNOTATIONS = {"error", "warning", "notice"}
INJECTIONS = ["\n::add-mask::x", "\r::stop-commands::t", "%0A", "mid ##[error]x", "::set-output name=a::b", "##[add-mask]y"]


def gate_output(fmt: str, *extra: str) -> tuple[int, str]:
    """Everything `gate evaluate` prints (stdout and stderr) in one format on the hostile inputs."""
    res = run_gate(
        [
            "evaluate",
            str(OUT / "hostile.sarif"),
            str(OUT / "hostile.cdx.json"),
            str(CORE / "hostile.sarif"),
            "--policy",
            str(OUT / "policy"),
            "--waivers",
            str(OUT / "waivers.yaml"),
            *T,
            "--format",
            fmt,
            *extra,
        ]
    )
    return res.exit_code, res.stdout + "\n" + res.stderr


@pytest.mark.parametrize("fmt", CONSOLE_FORMATS)
def test_every_format_printed_to_the_log_yields_only_the_gates_own_commands(fmt: str) -> None:
    code_, text = gate_output(fmt)
    assert code_ == 10
    if fmt != "vsa":  # the VSA carries no finding text
        for needle in ("add-mask", "stop-commands", "set-output"):
            assert needle in text, f"{fmt}: the hostile text is shown, as data"
    found = commands(text)
    if fmt != "github":
        assert found == [], [c.line for c in found]
        return
    assert found and all(c.name in ANNOTATIONS and not c.legacy for c in found), [c.line for c in found if c.name not in ANNOTATIONS]
    lines = [ln for ln in re.split(r"\r\n|\n|\r", text) if ln.strip()]
    assert len(found) == len(lines), "every line printed is exactly one of the gate's annotations"
    datas = " ".join(c.data for c in found)
    assert "\n::add-mask::x" in datas and "\r::stop-commands::t" in datas, "the runner shows the text as it was"
    assert all(set(c.properties) <= {"title", "file", "line", "endLine", "col"} for c in found)


@pytest.mark.parametrize("fmt", CONSOLE_FORMATS)
def test_an_error_about_a_hostile_file_name_carries_no_command(fmt: str, tmp_path: Path) -> None:
    bad = tmp_path / "x\n::add-mask::name %0A.sarif"
    bad.write_text("{not json")
    res = run_gate(["evaluate", str(bad), "--policy", str(CORE / "policy"), *T, "--format", fmt])
    assert res.exit_code == 3
    found = commands(res.stdout + "\n" + res.stderr)
    if fmt == "github":
        assert [c.name for c in found] == ["error"] and "::add-mask::name" in found[0].properties["file"] + found[0].data
    else:
        assert found == [], [c.line for c in found]


# --- property tests over arbitrary text ---------------------------------------------------------------

# Text the runner shows back exactly as it was: no control, format or separator characters
# (percent-encoded, or shown as a visible `\uXXXX` by gate.output.text.neutralise, for good) and no
# legacy marker (broken for good).
_LOSSY_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


class _Lossy:
    @staticmethod
    def search(text: str) -> bool:
        return "##[" in text or any(unicodedata.category(c) in _LOSSY_CATEGORIES for c in text)


_LOSSY = _Lossy()
hostile_text = st.one_of(
    st.text(),
    st.lists(
        st.sampled_from([*INJECTIONS, "::", "%", "%25", "\r\n", ",", ":", "=", "`", "|", "<!--", "@", "#", " ", "a"]), max_size=12
    ).map("".join),
)


@pytest.mark.slow
@given(data=hostile_text, prop=hostile_text)
def test_workflow_command_escaping_round_trips_and_stays_one_command(data: str, prop: str) -> None:
    line = command("error", data, title=prop, file=prop)
    assert "\n" not in line and "\r" not in line and "##[" not in line
    assert parse_legacy(line) is None
    parsed = parse_v2(line)
    assert parsed is not None and parsed.name == "error"
    assert commands(line) == [parsed]
    if prop.strip():
        # The runner trims the property list, so only the last value can lose trailing blanks.
        assert set(parsed.properties) == {"title", "file"}
        assert parsed.properties["file"] == unescape_property(escape_property(prop).rstrip())
        assert parsed.properties["title"] == unescape_property(escape_property(prop))
    assert parsed.data == unescape_data(escape_data(data))
    if not _LOSSY.search(data) and len(data) < 4000:
        assert parsed.data == data
    if prop.strip() and not _LOSSY.search(prop):
        assert parsed.properties["title"] == prop


@given(text=hostile_text)
def test_console_text_is_one_inert_line(text: str) -> None:
    s = clean(text)
    assert commands(s) == []
    assert "::" not in s and "##[" not in s
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", s)


_md = MarkdownIt("commonmark").enable("table").enable("strikethrough")


@given(text=hostile_text)
def test_markdown_cell_shows_the_text_verbatim_and_nothing_else(text: str) -> None:
    cell = code(text)
    doc = f"| a | b |\n|---|---|\n| {cell} | end |\n"
    tokens = _md.parse(doc)
    cells = [i for i, t in enumerate(tokens) if t.type == "td_open"]
    assert len(cells) == 2, doc
    children = tokens[cells[0] + 1].children or []
    expected = flatten(text)
    if expected.strip():
        assert [c.type for c in children] == ["code_inline"], doc
        assert children[0].content == expected
    else:
        assert all(c.type == "code_inline" for c in children)
    assert (tokens[cells[1] + 1].children or [])[0].content == "end"
    assert "##[" not in doc and commands(doc) == []


@pytest.mark.slow
@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | hostile_text,
        lambda kids: st.lists(kids, max_size=4) | st.dictionaries(hostile_text, kids, max_size=4),
        max_leaves=12,
    )
)
def test_json_outputs_read_back_exactly_and_carry_no_command(value: Any) -> None:
    text = dump(value)
    assert json.loads(text) == value
    assert commands(text) == []
    assert not re.search(r"[\x7f-\x9f\u2028\u2029]", text)


def synthetic_verdict(text: str) -> dict[str, Any]:
    """A closed verdict whose every text field is `text`: a finding, a component and a scan, waived and not."""
    fid, wid = "a" * 32, "b" * 32
    finding = {
        "tool": text,
        "rule_id": text,
        "severity": "high",
        "message": text,
        "location": {"path": text, "start_line": 3, "end_line": 4},
        "package": {"name": text, "version": text, "purl": text},
        "source": {"path": text, "format": "sarif", "index": 0},
    }
    return {
        "schema": "gate.verdict/v1",
        "decision": "fail",
        "exit_code": 10,
        "summary": {"violations": 2, "warnings": 1, "waived": 1, "findings": 2, "components": 1, "inputs": 1},
        "violations": [
            {
                "rule": "R-1",
                "title": text,
                "severity": "high",
                "control": text,
                "msg": text,
                "remediation": text,
                "evidence": {"findings": [fid], "components": [], "scans": []},
            },
            {
                "rule": "R-2",
                "title": text,
                "severity": "high",
                "control": text,
                "msg": text,
                "remediation": "",
                "evidence": {"findings": [], "components": [text], "scans": [text]},
            },
        ],
        "warnings": [
            {
                "rule": "R-1",
                "title": text,
                "severity": "medium",
                "control": text,
                "msg": text,
                "remediation": text,
                "evidence": {"findings": [fid], "components": [], "scans": []},
            }
        ],
        "waived": [
            {
                "finding": wid,
                "waiver": text,
                "reason": text,
                "approved_by": text,
                "expires": text,
                "ticket": text,
                "rule_id": text,
                "path": text,
            }
        ],
        "waivers_expired": [{"id": text, "expires": text, "approved_by": text}],
        "waivers_unused": [{"id": text, "expires": text, "approved_by": text}],
        "waivers_expiring": [],
        "not_used": [{"path": text, "kind": "policy", "change": "symlink", "reason": text}],
        "findings": {fid: finding, wid: finding},
        "rules": {"R-1": {"title": text, "severity": "high", "control": text, "remediation": text, "description": text}},
        "inputs": [{"path": text, "sha256": "c" * 64}],
        "policy": {"path": text, "digest": "sha256:" + "d" * 64, "revision": text, "source": "git"},
        "engine": {"name": "embedded", "version": text},
        "context": {"stage": text, "time": "2026-11-26T12:00:00Z", "repository": text, "commit": text},
        "error": None,
    }


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(text=hostile_text)
def test_no_format_lets_a_command_or_markup_through(text: str) -> None:
    verdict = synthetic_verdict(text)
    assert len(results(verdict)) == 4
    for fmt in FORMATS:
        out = get_formatter(fmt).render(verdict, None)
        found = commands(out)
        if fmt == "github":
            assert all(c.name in ANNOTATIONS and not c.legacy for c in found), (fmt, [c.line for c in found])
            assert len(found) == len(out.splitlines())
        else:
            assert found == [], (fmt, [c.line for c in found])
        if fmt == "junit":
            ET.fromstring(out)
        if fmt in ("json", "sarif", "vsa"):
            json.loads(out)
        if fmt == "markdown":
            inline = [c for t in _md.parse(out) if t.type == "inline" for c in (t.children or [])]
            assert not [c for c in inline if c.type in ("html_inline", "image")]
            assert all(str(c.attrGet("href")).startswith("#") for c in inline if c.type == "link_open")
