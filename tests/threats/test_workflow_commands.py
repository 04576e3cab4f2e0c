"""Workflow commands: parsing everything the gate prints the way the runner does yields only the
gate's own commands (THREATS.md, attack path 3).

tests/test_outputs_injection.py already covers finding, component and file-name text in every
format of `gate evaluate` (`\\n::add-mask::x`, `\\r::stop-commands::t`, `%0A`, `##[error]`
mid-line, `::set-output`) and the escape/unescape round trip as property tests. This module adds
the paths it does not: attacker text that reaches an *error message* (a SARIF `version`, a
duplicated key), the other commands that print such errors, and `gate explain` of a hostile
verdict. The parser is tests/workflow_commands.py (stricter than the runner).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import DATA, run_gate
from tests.threats.helpers import CORE_POLICY, T, output
from tests.workflow_commands import commands

PAYLOAD = "\\n::add-mask::x\\r::stop-commands::t %0A mid ##[error]y \\n::set-output name=a::b"
FORMATS = ["console", "github", "markdown", "junit", "sarif", "json", "vsa"]


def hostile_reports(tmp_path: Path) -> dict[str, Path]:
    version = tmp_path / "version.sarif"
    version.write_text('{"version": "' + PAYLOAD + '", "runs": []}')
    dup = tmp_path / "dup.sarif"
    dup.write_text('{"version": "2.1.0", "runs": [], "' + PAYLOAD + '": 1, "' + PAYLOAD + '": 2}')
    shape = tmp_path / "bandit.json"
    shape.write_text(
        '{"generated_at": "x", "metrics": {}, "errors": [], "results": [{"test_id": "' + PAYLOAD + '", "line_number": "' + PAYLOAD + '"}]}'
    )
    return {"version": version, "dup": dup, "shape": shape}


def only_the_gates_own(text: str, fmt: str) -> None:
    found = commands(text)
    if fmt == "github":
        assert [c.name for c in found] == ["error"] and not found[0].legacy, [c.line for c in found]
    else:
        assert found == [], [c.line for c in found]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("which", ["version", "dup", "shape"])
def test_document_text_quoted_in_an_error_carries_no_command(tmp_path: Path, fmt: str, which: str) -> None:
    report = hostile_reports(tmp_path)[which]
    for verbose in ([], ["--verbose"]):
        res = run_gate(["evaluate", str(report), "--policy", str(CORE_POLICY), *T, "--format", fmt, *verbose])
        assert res.exit_code == 3, output(res)
        only_the_gates_own(output(res), fmt)


def test_baseline_error_quoting_document_text_carries_no_command(tmp_path: Path) -> None:
    """Errors raised outside `evaluate` (here `gate baseline`) are printed by the CLI itself, cleaned."""
    report = hostile_reports(tmp_path)["version"]
    res = run_gate(["baseline", str(report), "-o", str(tmp_path / "baseline.json")])
    assert res.exit_code == 3
    assert "add-mask" in output(res), "shown, as data"
    only_the_gates_own(output(res), "console")


def test_verbose_traceback_quoting_document_text_carries_no_command(tmp_path: Path) -> None:
    report = hostile_reports(tmp_path)["version"]
    res = run_gate(["baseline", str(report), "-o", str(tmp_path / "baseline.json"), "--verbose"])
    assert res.exit_code == 3
    only_the_gates_own(output(res), "console")


def test_policy_compare_error_carries_no_command(tmp_path: Path) -> None:
    report = hostile_reports(tmp_path)["version"]
    res = run_gate(["policy", "compare", str(CORE_POLICY), str(CORE_POLICY), str(report), *T])
    assert res.exit_code == 3
    only_the_gates_own(output(res), "console")


def test_explain_of_a_verdict_from_hostile_reports_carries_no_command(tmp_path: Path) -> None:
    out = DATA / "outputs"
    verdict = tmp_path / "verdict.json"
    res = run_gate(
        [
            "evaluate",
            str(out / "hostile.sarif"),
            str(out / "hostile.cdx.json"),
            str(DATA / "core" / "hostile.sarif"),
            "--policy",
            str(out / "policy"),
            *T,
            "--output",
            f"json={verdict}",
        ]
    )
    assert res.exit_code == 10, output(res)
    res = run_gate(["explain", str(verdict)])
    assert res.exit_code == 0, output(res)
    assert "add-mask" in res.stdout, "the hostile text is shown, as data"
    only_the_gates_own(output(res), "console")


def test_annotations_show_bidi_and_zero_width_characters(tmp_path: Path) -> None:
    """Issue 14: U+202E in a finding's message and path reached the annotations as is; a zero-width
    joiner in a rule id made it pass for another. Each is now a visible `\\u202e` escape."""
    import json

    from tests.threats.helpers import result, sarif

    report = tmp_path / "bidi.sarif"
    findings = [result("ok \u202etxt.exe", rule="R\u200d1", uri="src/a\u202egnp.py", line=2), result("b", uri="src/x\u200by.py")]
    report.write_text(json.dumps(sarif(findings)), encoding="utf-8")
    res = run_gate(["evaluate", str(report), "--policy", str(CORE_POLICY), *T, "--format", "github"])
    assert res.exit_code == 10, output(res)
    lines = [c.line for c in commands(res.stdout)]
    assert lines and not any(ch in res.stdout for ch in "\u202e\u200b\u200d")
    assert any("\\u202e" in line for line in lines) and any("\\u200b" in line for line in lines)
