"""Outputs under hostile input: SARIF valid against the official 2.1.0 schema, JUnit re-parsed,
totals equal where a medium caps what it shows (and it says how many it left out), and an
unwritable output path is exit 5.

tests/test_outputs.py validates SARIF and JUnit on the tests' own reports and checks totals
across every format; here the inputs are the hostile ones (control characters, huge line
numbers, `../` URIs, an error verdict) and the caps are reached through the command line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from defusedxml import ElementTree as ET

from tests.conftest import SHARED, require_shared, run_gate
from tests.threats.helpers import CORE, CORE_POLICY, T, result, said, sarif, write_json
from tests.workflow_commands import commands

NASTY = [
    "nul \x00 esc \x1b[31m bell \x07",
    "noncharacters \ufffe \uffff",
    "cdata ]]> end",
    "bidi \u202e gnp.exe",
    "astral 😀 \U0010ffff",
    "<x/> & \"quotes\" 'apos'",
]


def sarif_validator() -> jsonschema_rs.Draft7Validator:
    require_shared()
    return jsonschema_rs.Draft7Validator(json.loads((SHARED / "schemas" / "sarif-schema-2.1.0.json").read_text()))


def run_all(tmp_path: Path, *reports: str) -> tuple[int, dict[str, str]]:
    fmts = ["json", "sarif", "junit", "github", "markdown"]
    args = ["evaluate", *reports, "--policy", str(CORE_POLICY), *T]
    for f in fmts:
        args += ["--output", f"{f}={tmp_path / f}"]
    res = run_gate(args)
    return res.exit_code, {f: (tmp_path / f).read_text(encoding="utf-8") for f in fmts}


def hostile_report(tmp_path: Path) -> Path:
    findings = [result(text, uri=uri, line=line) for text, uri, line in zip(
        NASTY,
        ["../../etc/passwd", "/abs/x.py", "file:///c:/w.py", "a b/c%20d.py", "😀.py", "x\ny.py"],
        [1, 10**300, 2**63, 1, 3, 4],
        strict=True,
    )]  # fmt: skip
    return write_json(tmp_path / "nasty.sarif", sarif(findings, tool="Nasty \x1b tool"))


def test_sarif_from_hostile_input_is_valid_against_the_official_schema(tmp_path: Path) -> None:
    code, out = run_all(tmp_path, str(hostile_report(tmp_path)))
    assert code == 10
    log = json.loads(out["sarif"])
    sarif_validator().validate(log)
    results = log["runs"][0]["results"]
    assert len(results) == len(NASTY)
    texts = " ".join(r["message"]["text"] for r in results)
    assert "cdata ]]> end" in texts and "😀" in texts


def test_sarif_of_an_error_verdict_is_valid_and_says_it_failed(tmp_path: Path) -> None:
    broken = tmp_path / "broken.sarif"
    broken.write_text('{"version": "2.1.0", "runs": [')
    code, out = run_all(tmp_path, str(broken))
    assert code == 3
    log = json.loads(out["sarif"])
    sarif_validator().validate(log)
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert log["runs"][0]["results"] == []


def test_junit_from_hostile_input_re_parses(tmp_path: Path) -> None:
    code, out = run_all(tmp_path, str(hostile_report(tmp_path)))
    assert code == 10
    root = ET.fromstring(out["junit"])
    text = " ".join(list(root.itertext()) + [v for el in root.iter() for v in el.attrib.values()])
    assert "cdata ]]> end" in text and "astral 😀" in text, "the text survives, as text"
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert props["violations"] == str(len(NASTY))


def _totals(verdict: dict[str, Any]) -> tuple[int, int]:
    return verdict["summary"]["violations"], verdict["summary"]["warnings"]


def test_github_caps_annotations_says_how_many_and_keeps_totals(tmp_path: Path) -> None:
    code, out = run_all(tmp_path, str(CORE / "many.sarif"), str(CORE / "medium.sarif"))
    assert code == 10
    verdict = json.loads(out["json"])
    violations, warnings = _totals(verdict)
    found = commands(out["github"])
    annotations = [c for c in found if c.name in ("error", "warning")]
    assert 0 < len(annotations) < violations + warnings, "GitHub shows only so many annotations per step"
    notices = " ".join(c.data for c in found if c.name == "notice")
    assert f"{violations + warnings - len(annotations)} more result(s) not annotated" in notices
    assert f"{violations} violation(s), {warnings} warning(s)" in notices
    sarif_totals = json.loads(out["sarif"])["runs"][0]["properties"]["totals"]
    assert sarif_totals["violations"] == violations


def test_equal_counts_in_every_format_on_hostile_input(tmp_path: Path) -> None:
    code, out = run_all(tmp_path, str(hostile_report(tmp_path)), str(CORE / "medium.sarif"))
    assert code == 10
    violations, warnings = _totals(json.loads(out["json"]))
    assert (violations, warnings) == (len(NASTY), 1)
    assert json.loads(out["sarif"])["runs"][0]["properties"]["totals"]["violations"] == violations
    props = {p.get("name"): p.get("value") for p in ET.fromstring(out["junit"]).iter("property")}
    assert (props["violations"], props["warnings"]) == (str(violations), str(warnings))
    assert f"{violations} violation(s), {warnings} warning(s)" in " ".join(c.data for c in commands(out["github"]))


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("{tmp}", "Is a directory"),
        ("{tmp}/file/inside.json", ""),
        ("/dev/full", "No space left on device"),
    ],
    ids=["a directory", "under a file", "disk full"],
)
def test_an_unwritable_output_is_5_naming_it(tmp_path: Path, target: str, reason: str) -> None:
    (tmp_path / "file").write_text("in the way")
    path = target.format(tmp=tmp_path)
    if path == "/dev/full" and not Path(path).exists():
        pytest.skip("no /dev/full here")
    res = run_gate(["evaluate", str(CORE / "high.sarif"), "--policy", str(CORE_POLICY), *T, "--output", f"json={path}"])
    assert res.exit_code == 5
    assert f"{path}: cannot write the json output" in said(res) and reason in said(res)
    assert "gate CLOSED" in res.stdout, "the verdict is still shown on the console"


def test_the_last_output_written_beside_the_console_still_fails_closed(tmp_path: Path) -> None:
    """The last file is written in a thread while the console report renders (issue 20): its
    failure is still exit 5 naming it, after the files before it were written, with the report."""
    (tmp_path / "file").write_text("in the way")
    first, bad = tmp_path / "v.sarif", tmp_path / "file" / "inside.json"
    res = run_gate(
        ["evaluate", str(CORE / "high.sarif"), "--policy", str(CORE_POLICY), *T, "--output", f"sarif={first}", "--output", f"json={bad}"]
    )
    assert res.exit_code == 5
    assert f"{bad}: cannot write the json output" in said(res)
    assert json.loads(first.read_text())["runs"], "the output before it was written"
    assert "gate CLOSED" in res.stdout, "the verdict is still shown on the console"
