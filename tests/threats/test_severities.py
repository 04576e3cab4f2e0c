"""Severities: every finding is kept; what cannot be mapped is `unknown`, never dropped; SARIF
defaults follow the spec (`level` absent = warning, `kind` absent = fail) and `security-severity`
follows GitHub's bands exactly, half-open: [9.0, 10] critical, [7.0, 9.0) high, [4.0, 7.0)
medium, (0, 4.0) low, 0 info."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.collect import read_document
from gate.errors import ExitCode, InputError
from tests.threats.helpers import DATA_DIR, evaluate_verdict, output, result, sarif, shipped_policy, write_json


def severities(doc: dict[str, Any], path: str = "s.sarif") -> list[str]:
    report = read_document(json.dumps(doc).encode(), path)
    return [f.severity for f in report.result.findings]


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        (10, "critical"), (10.0, "critical"), (9.0, "critical"), ("9.0", "critical"), (8.999, "high"), (8.95, "high"),
        (8.9, "high"), (7.0, "high"), (6.99, "medium"), (6.95, "medium"), (4.0, "medium"), (3.99, "low"),
        (3.95, "low"), (0.1, "low"), (0.01, "low"), (0, "info"), ("0.0", "info"),
    ],
)  # fmt: skip
def test_security_severity_bands_are_half_open(score: object, expected: str) -> None:
    rules = [{"id": "R1", "properties": {"security-severity": score}}]
    assert severities(sarif([result(rule="R1", level="note")], rules=rules)) == [expected]


def test_absent_security_severity_falls_back_to_the_level() -> None:
    rules = [{"id": "R1", "properties": {"security-severity": None}}]
    assert severities(sarif([result(rule="R1", level="note")], rules=rules)) == ["low"]


@pytest.mark.parametrize("score", [10.5, -1, "abc", "", True, [], {"v": 9}, "11"])
def test_out_of_spec_security_severity_is_an_input_error(score: object) -> None:
    """Issue 13: a score outside 0-10 used to fall back to the level (10.5 on a `note`: low)."""
    rules = [{"id": "R1", "properties": {"security-severity": score}}]
    with pytest.raises(InputError) as info:
        severities(sarif([result(rule="R1", level="note")], rules=rules))
    assert info.value.exit_code == ExitCode.INPUT
    assert "(JSON pointer /runs/0/tool/driver/rules/0/properties/security-severity)" in info.value.message


def test_the_results_own_security_severity_wins_over_the_rules() -> None:
    rules = [{"id": "R1", "properties": {"security-severity": "2.0"}}]
    r = result(rule="R1", level="note", properties={"security-severity": "9.1"})
    assert severities(sarif([r], rules=rules)) == ["critical"]


@pytest.mark.parametrize(
    ("level", "expected"),
    [("error", "high"), ("warning", "medium"), ("note", "low"), ("none", "info"), (None, "medium")],
)
def test_sarif_levels_and_the_spec_default_warning(level: object, expected: str) -> None:
    r = result(level=None)
    if level is not None:
        r["level"] = level
    assert severities(sarif([r])) == [expected]


@pytest.mark.parametrize("level", ["bogus", 5, "critical", "ERROR"])
def test_a_level_outside_the_spec_is_an_input_error(level: object) -> None:
    """Issue 13: an unknown level used to read as severity `unknown`."""
    r = result(level=None)
    r["level"] = level
    with pytest.raises(InputError) as info:
        severities(sarif([r]))
    assert "not a SARIF level (none, note, warning, error) (JSON pointer /runs/0/results/0/level)" in info.value.message


def test_the_rules_default_level_applies_when_the_result_has_none() -> None:
    rules = [{"id": "R1", "defaultConfiguration": {"level": "error"}}]
    assert severities(sarif([result(rule="R1", level=None)], rules=rules)) == ["high"]


@pytest.mark.parametrize(
    ("kind", "counted"), [(None, True), ("fail", True), ("pass", False), ("notApplicable", False), ("informational", False)]
)
def test_sarif_kind_absent_is_fail(kind: str | None, counted: bool) -> None:
    extra = {"kind": kind} if kind else {}
    report = read_document(json.dumps(sarif([result(**extra)])).encode(), "k.sarif")
    assert len(report.result.findings) == (1 if counted else 0)
    if not counted:
        assert report.result.statistics.get(f"kind:{kind}") == 1, "counted in the statistics, not dropped silently"


def test_bandit_and_semgrep_severities_that_cannot_be_mapped_are_unknown(tmp_path: Path) -> None:
    bandit = json.loads((DATA_DIR / "bandit" / "bandit-1.9.4-nosec-errors.json").read_text())
    bandit["results"][0]["issue_severity"] = "UNDEFINED"
    del bandit["results"][1]["issue_severity"]
    found = read_document(json.dumps(bandit).encode(), "b.json").result.findings
    assert [f.severity for f in found[:2]] == ["unknown", "unknown"]
    semgrep = json.loads((DATA_DIR / "semgrep" / "semgrep-1.185-clean.json").read_text())
    semgrep["results"][0]["extra"]["severity"] = "SEVERE-ISH"
    del semgrep["results"][1]["extra"]["severity"]
    found = read_document(json.dumps(semgrep).encode(), "s.json").result.findings
    assert [f.severity for f in found[:2]] == ["unknown", "unknown"]
    assert len(found) == len(semgrep["results"]), "kept, never dropped"


def test_pip_audit_gives_no_severity_so_it_is_unknown() -> None:
    found = read_document((DATA_DIR / "pip_audit" / "pip-audit-2.10-vulns.json").read_bytes(), "p.json").result.findings
    assert found and {f.severity for f in found} == {"unknown"}


def test_unknown_severity_reaches_the_policy_and_is_never_dropped(tmp_path: Path) -> None:
    """The shipped default stage warns on it; prod denies it (stages.yaml unknown_severity)."""
    bandit = json.loads((DATA_DIR / "bandit" / "bandit-1.9.4-ignore-nosec.json").read_text())
    bandit["results"] = bandit["results"][:1]
    bandit["results"][0]["issue_severity"] = "UNDEFINED"  # bandit's value when a check sets none
    report = write_json(tmp_path / "u.json", bandit)
    res, verdict, doc = evaluate_verdict(tmp_path, str(report), policy=shipped_policy())
    assert doc is not None and [f["severity"] for f in doc["findings"]] == ["unknown"]
    fid = doc["findings"][0]["id"]
    cited = [e for e in verdict["violations"] + verdict["warnings"] if fid in e["evidence"]["findings"]]
    assert cited and res.exit_code == 0, output(res)
    assert all(e in verdict["warnings"] for e in cited)
    res, verdict, _ = evaluate_verdict(tmp_path, str(report), "--stage", "prod", policy=shipped_policy())
    assert res.exit_code == 10, output(res)
    assert any(fid in v["evidence"]["findings"] for v in verdict["violations"])
