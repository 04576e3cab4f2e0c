"""Incomplete scans never read as clean: `scans[].complete == false`, and the shipped policy denies
(exit 10) with the tool's own error text as evidence (THREATS.md, attack path 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.threats.helpers import DATA_DIR, evaluate_verdict, output, shipped_policy, write_json


def one_line(text: str) -> str:
    return " ".join(text.split())


def tool_errors(path: Path) -> list[str]:
    """The error texts as the tool wrote them in its native report (the reader adds only a prefix)."""
    doc: Any = json.loads(path.read_text(encoding="utf-8"))
    if path.suffix == ".sarif":
        texts = []
        for run in doc["runs"]:
            for inv in run.get("invocations") or []:
                texts += [n["message"]["text"] for n in inv.get("toolExecutionNotifications") or [] if n.get("level") == "error"]
        return texts
    if "dependencies" in doc:  # pip-audit
        return [d["skip_reason"] for d in doc["dependencies"] if d.get("skip_reason")]
    return [e.get("reason") or e.get("message") for e in doc["errors"]]


CASES = {
    "bandit errors": DATA_DIR / "bandit" / "bandit-1.9.4-nosec-errors.json",
    "semgrep errors (a file it could not parse)": DATA_DIR / "semgrep" / "semgrep-1.185-syntax-error.json",
    "semgrep errors (a rule it could not load)": DATA_DIR / "semgrep" / "semgrep-1.185-rule-error.json",
    "SARIF executionSuccessful false": DATA_DIR / "sarif" / "multiple-runs-failed.sarif",
    "pip-audit skip_reason": DATA_DIR / "pip_audit" / "pip-audit-2.10-skipped.json",
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_incomplete_scan_is_denied_with_the_tools_own_errors(tmp_path: Path, case: str) -> None:
    report = CASES[case]
    expected = tool_errors(report)
    assert expected, "the sample carries the tool's own errors"
    res, verdict, doc = evaluate_verdict(tmp_path, str(report), policy=shipped_policy())
    assert res.exit_code == 10, output(res)
    assert doc is not None
    (scan,) = doc["scans"]
    assert scan["complete"] is False
    for text in expected:
        assert any(one_line(text) in one_line(e) for e in scan["errors"]), (text, scan["errors"])
    denials = [v for v in verdict["violations"] if v["rule"] == "GATE-SCAN-001"]
    assert len(denials) == 1, verdict["violations"]
    (deny,) = denials
    assert deny["evidence"]["scans"] == [str(report)]
    assert "did not complete" in deny["msg"] and str(report) in deny["msg"]
    for text in expected:
        assert any(one_line(text)[:400] in d for d in deny["evidence"]["details"]), (text, deny["evidence"]["details"])
    assert "GATE-SCAN-001" in " ".join(output(res).split())


def test_a_complete_scan_of_the_same_tool_is_not_denied(tmp_path: Path) -> None:
    # bandit with --ignore-nosec and no errors. (A semgrep JSON report is never complete by
    # itself since issue 13: it cannot show what `# nosemgrep` hid; tests/test_report_claims.py.)
    report = DATA_DIR / "bandit" / "bandit-1.9.4-ignore-nosec.json"
    res, verdict, doc = evaluate_verdict(tmp_path, str(report), policy=shipped_policy())
    assert doc is not None and [s["complete"] for s in doc["scans"]] == [True]
    assert "GATE-SCAN-001" not in {v["rule"] for v in verdict["violations"]}, output(res)


def test_data_can_accept_a_tools_partial_scans_with_a_warning_and_evidence(tmp_path: Path) -> None:
    """A security officer relaxes it in data, with the evidence kept either way."""
    # honour_inline_suppressions: semgrep's JSON cannot show what `# nosemgrep` hid, and
    # allow_incomplete does not accept that (only this key does); the rule error is what is accepted.
    data = write_json(tmp_path / "accept.json", {"scans": {"allow_incomplete": ["semgrep"]}, "honour_inline_suppressions": True})
    report = DATA_DIR / "semgrep" / "semgrep-1.185-rule-error.json"
    res, verdict, _ = evaluate_verdict(tmp_path, str(report), "--data", str(data), policy=shipped_policy())
    assert res.exit_code == 0, output(res)
    (warning,) = [w for w in verdict["warnings"] if w["rule"] == "GATE-SCAN-002"]
    assert "accepted by data scans.allow_incomplete" in warning["msg"]
    assert any("invalid regex 'subprocess(('" in d for d in warning["evidence"]["details"])
    assert "GATE-SCAN-001" not in {v["rule"] for v in verdict["violations"]}


def test_sarif_run_that_failed_without_saying_why_is_still_incomplete(tmp_path: Path) -> None:
    log = {
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "Quiet"}}, "invocations": [{"executionSuccessful": False}], "results": []}],
    }
    report = write_json(tmp_path / "quiet.sarif", log)
    res, verdict, doc = evaluate_verdict(tmp_path, str(report), policy=shipped_policy())
    assert res.exit_code == 10, output(res)
    assert doc is not None and doc["scans"][0]["complete"] is False
    (deny,) = [v for v in verdict["violations"] if v["rule"] == "GATE-SCAN-001"]
    assert "executionSuccessful: false" in " ".join(deny["evidence"]["details"])
