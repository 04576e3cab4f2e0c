"""The README's worked example ("Writing a rule"), run as written: the rule, its unit test and its
data file in tests/data/authoring/example/ added to a copy of the shipped pack."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.authoring_helpers import AUTHORING, copy_pack
from tests.conftest import run_gate

EXAMPLE = AUTHORING / "example"


@pytest.fixture
def pack(tmp_path: Path) -> Path:
    dest = copy_pack(tmp_path)
    shutil.copytree(EXAMPLE, dest, dirs_exist_ok=True)
    return dest


def _report(tmp_path: Path, severity_level: str = "warning") -> Path:
    """A SARIF result tagged CWE-78 at level `warning` (medium): below the general SAST threshold."""
    doc = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {"name": "ExampleScanner", "version": "1.0", "rules": [{"id": "X78", "properties": {"tags": ["CWE-78"]}}]}
                },
                "results": [
                    {
                        "ruleId": "X78",
                        "level": severity_level,
                        "message": {"text": "shell command built from request data"},
                        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/run.py"}, "region": {"startLine": 8}}}],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "scan.sarif"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.slow
def test_policy_test_passes_with_full_coverage_of_the_new_rule(pack: Path) -> None:
    res = run_gate(["policy", "test", str(pack), "-v"])
    assert res.exit_code == 0, res.stdout + res.stderr
    assert f"PASS gate.injection_test.test_medium_command_injection_denies ({pack}/injection_test.rego:28)" in res.stdout
    assert re.search(rf"^\s+{re.escape(str(pack))}/injection\.rego\s+100\.0%", res.stdout, re.MULTILINE), res.stdout


@pytest.mark.slow
def test_policy_check_lists_the_new_rule(pack: Path) -> None:
    res = run_gate(["policy", "check", str(pack)])
    assert res.exit_code == 0, res.stderr
    assert re.search(
        rf"GATE-INJ-001\s+deny\s+high\s+Injection flaw at or above the injection threshold\s+{re.escape(str(pack))}/injection\.rego:\d+",
        res.stdout,
    )


def test_policy_doc_documents_the_new_rule_under_its_control(pack: Path) -> None:
    res = run_gate(["policy", "doc", str(pack)])
    assert res.exit_code == 0
    section = res.stdout.split("## NIST SP 800-53 SI-10 Information input validation\n", 1)[1].split("\n## ", 1)[0]
    assert "### GATE-INJ-001: Injection flaw at or above the injection threshold" in section
    assert "| Effective | blocks from 2027-01-01; warns before |" in section


@pytest.mark.slow
def test_the_rule_warns_before_its_effective_date_and_blocks_after(pack: Path, tmp_path: Path) -> None:
    report = _report(tmp_path)
    before = tmp_path / "before.json"
    run_gate(["evaluate", str(report), "--policy", str(pack), "--time", "2026-12-01T00:00:00Z", "--output", f"json={before}"])
    verdict = json.loads(before.read_text(encoding="utf-8"))
    assert [w["rule"] for w in verdict["warnings"] if w["rule"] == "GATE-INJ-001"] == ["GATE-INJ-001"]
    assert not [v for v in verdict["violations"] if v["rule"] == "GATE-INJ-001"]
    res = run_gate(["evaluate", str(report), "--policy", str(pack), "--time", "2027-01-02T00:00:00Z"])
    assert res.exit_code == 10
    assert "GATE-INJ-001" in res.stdout
    # The what-if of adding the rule: the medium finding appears as a warning today.
    cmp = run_gate(["policy", "compare", str(copy_pack(tmp_path, "before-pack")), str(pack), str(report), "--time", "2026-12-01T00:00:00Z"])
    assert cmp.exit_code == 0
    assert re.search(r"^  GATE-INJ-001 \[new warn\] at src/run\.py:8: ", cmp.stdout, re.MULTILINE), cmp.stdout
