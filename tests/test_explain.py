"""`gate explain VERDICT.json`: rules, reasons, fixes, evidence and waivers, safely printed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gate.authoring.explain import explain
from gate.output.text import clean
from tests.authoring_helpers import FINDINGS, TIME, append, copy_pack, first_deny
from tests.conftest import POLICIES, run_gate


def _evaluate(tmp_path: Path, *extra: str, policy: Path = POLICIES, name: str = "verdict") -> tuple[Path, dict[str, Any]]:
    out = tmp_path / f"{name}.json"
    run_gate(["evaluate", str(FINDINGS), "--policy", str(policy), "--time", TIME, "--output", f"json={out}", *extra])
    return out, json.loads(out.read_text(encoding="utf-8"))


def _waivers(tmp_path: Path, finding: str, rule: str) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(
        "waivers:\n"
        f'  - id: W-AUTH-1\n    finding: "{finding}"\n    reason: accepted until the legacy module is retired\n'
        "    approved_by: security-officer\n    ticket: SEC-1\n    expires: 2026-12-31\n"
        f'  - id: W-AUTH-2\n    rule: {rule}\n    reason: "old\\n::add-mask::x"\n    approved_by: so\n    expires: 2026-01-01\n',
        encoding="utf-8",
    )
    return path


def test_every_violation_and_warning_is_explained_with_its_evidence(tmp_path: Path) -> None:
    path, verdict = _evaluate(tmp_path)
    assert verdict["violations"] and verdict["warnings"]
    res = run_gate(["explain", str(path)])
    assert res.exit_code == 0, res.stderr
    out = res.stdout
    assert out.startswith(f"Gate CLOSED (decision fail, exit 10): {len(verdict['violations'])} violation(s)")
    for key in ("violations", "warnings"):
        for e in verdict[key]:
            meta = verdict["rules"][e["rule"]]
            assert re.search(rf"^\d+\. {re.escape(e['rule'])} \[{e['severity']}\] {re.escape(meta['title'])}$", out, re.MULTILINE)
            assert "   Why: " + clean(meta["description"], 800) in out
            assert "   Fix: " + clean(e["remediation"], 800) in out
            assert f"   Rule: {meta['file']}:{meta['line']} (package {meta['package']})" in out
            for fid in e["evidence"]["findings"]:
                f = verdict["findings"][fid]
                assert f"finding {fid}" in out
                assert clean(f["location"]["path"]) in out
    # Locations with their line range: the fixture's first finding spans lines 12-14.
    assert "at src/app.py:12-14" in out
    assert "Input: " + str(FINDINGS) in out


def test_waivers_that_applied_and_expired(tmp_path: Path) -> None:
    _, first = _evaluate(tmp_path, name="first")
    blocking = next(
        fid for v in first["violations"] for fid in v["evidence"]["findings"] if "app.py" in first["findings"][fid]["location"]["path"]
    )
    warned = first["findings"][first["warnings"][0]["evidence"]["findings"][0]]
    path, verdict = _evaluate(tmp_path, "--waivers", str(_waivers(tmp_path, blocking, warned["rule_id"])))
    assert verdict["waived"] and verdict["waivers_expired"]
    out = run_gate(["explain", str(path)]).stdout
    assert "Waivers that applied (1):" in out
    assert re.search(rf"^   - W-AUTH-1 covers finding {blocking} \(.+ at src/app\.py\)$", out, re.MULTILINE)
    assert 'reason "accepted until the legacy module is retired"; approved by security-officer; expires 2026-12-31; ticket SEC-1' in out
    assert "Waivers that expired and no longer apply (1):" in out
    assert "W-AUTH-2 expired 2026-01-01: it no longer covers this finding" in out
    # The waived finding is no longer evidence of a violation.
    assert all(blocking not in v["evidence"]["findings"] for v in verdict["violations"])


def test_attacker_text_cannot_start_a_line_or_a_command(tmp_path: Path) -> None:
    _, first = _evaluate(tmp_path, name="first")
    warned = first["findings"][first["warnings"][0]["evidence"]["findings"][0]]
    path, _ = _evaluate(tmp_path, "--waivers", str(_waivers(tmp_path, "0123456789abcdef" * 2, warned["rule_id"])))
    out = run_gate(["explain", str(path)]).stdout
    assert "evil" in out and "add-mask" in out  # the hostile finding is shown ...
    assert "\x1b" not in out and "\r" not in out  # ... without its control characters
    for line in out.splitlines():
        assert not line.lstrip().startswith("::"), line
        assert "::add-mask::" not in line and "::stop-commands::" not in line and "::warning::" not in line


def test_error_verdict_shows_the_error_and_where(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    target = Path(first_deny(pack).file)
    line = append(target, "this is not rego\n")
    path, verdict = _evaluate(tmp_path, policy=pack)
    assert verdict["decision"] == "error"
    res = run_gate(["explain", str(path)])
    assert res.exit_code == 0
    assert res.stdout.startswith("Gate ERROR (decision error, exit 4)")
    assert f"Error (policy, exit 4): {target}:{line}:1: " in res.stdout
    assert "it judged nothing" in res.stdout
    assert "Violations" not in res.stdout


def test_passing_verdict(tmp_path: Path) -> None:
    clean_report = tmp_path / "clean.sarif"
    clean_report.write_text(
        json.dumps({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "AuthoringFixture", "version": "1.0"}}, "results": []}]}),
        encoding="utf-8",
    )
    out = tmp_path / "v.json"
    run_gate(["evaluate", str(clean_report), "--policy", str(POLICIES), "--time", TIME, "--output", f"json={out}"])
    res = run_gate(["explain", str(out)])
    assert res.exit_code == 0
    assert res.stdout.startswith("Gate OPEN (decision pass, exit 0): 0 violation(s), 0 warning(s)")
    assert "No violation and no warning" in res.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"{not json", "invalid JSON"),
        (b"[1, 2]", "not a verdict"),
        (b'{"schema": "gate.input/v1"}', "expected 'gate.verdict/v1'"),
        (b'{"schema": "gate.verdict/v1", "decision": "maybe"}', "invalid verdict"),
        (b"<verdict/>", "not a verdict"),
    ],
    ids=["empty", "not-json", "array", "other-schema", "schema-invalid", "xml"],
)
def test_unreadable_or_invalid_verdict_exits_3(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "verdict.json"
    path.write_bytes(content)
    res = run_gate(["explain", str(path)])
    assert res.exit_code == 3, res.stdout + res.stderr
    assert str(path) in res.stderr and message in res.stderr
    assert res.stdout == ""


def test_missing_verdict_exits_3(tmp_path: Path) -> None:
    res = run_gate(["explain", str(tmp_path / "nope.json")])
    assert res.exit_code == 3
    assert "no such file" in res.stderr


def test_explain_pure_function_on_a_minimal_verdict() -> None:
    verdict = {
        "schema": "gate.verdict/v1",
        "decision": "fail",
        "exit_code": 10,
        "summary": {"violations": 1, "warnings": 0, "waived": 0, "findings": 0, "components": 1, "inputs": 1},
        "violations": [
            {
                "rule": "GATE-X-001",
                "title": "Banned\npackage",
                "severity": "high",
                "control": "SR-3",
                "msg": "pkg:pypi/evil@1.0 is banned\n::error::x",
                "remediation": "Remove it.",
                "evidence": {"findings": [], "components": ["pkg:pypi/evil@1.0"], "scans": ["sbom.json"], "details": ["listed in data"]},
                "not_yet_effective": True,
                "effective_on": "2099-01-01",
            }
        ],
        "warnings": [],
        "inputs": [
            {
                "path": "sbom.json",
                "format": "cyclonedx",
                "tool": "cyclonedx-py",
                "findings": 0,
                "components": 1,
                "complete": False,
                "errors": ["boom"],
            }
        ],
        "rules": {
            "GATE-X-001": {"description": "No banned packages.", "file": "policies/packages.rego", "line": 9, "package": "gate.packages"}
        },
        "not_applicable": [{"rule": "GATE-Y-001", "stages": ["prod"]}],
    }
    lines = explain(verdict)
    text = "\n".join(lines)
    assert "1. GATE-X-001 [high] Banned\\npackage" in text
    assert "  - component pkg:pypi/evil@1.0" in text
    assert "  - scan sbom.json (cyclonedx-py, incomplete)" in text and "tool error: boom" in text
    assert "  - listed in data" in text
    assert "Not blocking yet: this rule blocks from 2099-01-01" in text
    assert "GATE-Y-001 (stages: prod)" in text
    assert all("\n" not in line for line in lines)
    assert not any(line.lstrip().startswith("::") for line in lines)
