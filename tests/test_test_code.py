"""Test code cannot hide a secret or a flaw class the data names (issue 14, "test code chosen by the author").

The attacks, run first against the old pack: a cloud key (gitleaks `aws-access-token`) in
`app/conftest.py` only warned (GATE-SEC-002: the shipped `**/conftest.py` made it test code);
production code in `app/tests/` only warned (tests/test_path_scopes.py). Variants of ours: the
same key in the top-level `tests/conftest.py` (test code by any definition) and a
deserialisation flaw (bandit B301, CWE-502, a class the shipped data's
`test_code.always_block` names) in a test helper.

How it is closed: secrets block wherever they are (policies/secrets.rego); test globs come only
from trusted data, anchored at the project root, and the shipped ones name the top-level
`tests/` and `test/` folders only; data names the rules and CWEs that block in test code too
(`test_code.always_block`, read by gate.lib.in_test_code and views).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import POLICIES, TESTS, run_gate
from tests.governance_support import TIME, write
from tests.test_path_scopes import _bandit

GITLEAKS = TESTS / "scenarios" / "secrets-in-test-fixture-denies" / "gitleaks.sarif"


def _gitleaks_at(path: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(GITLEAKS.read_text(encoding="utf-8"))
    result = doc["runs"][0]["results"][0]
    result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = path
    result["message"]["text"] = f"aws-access-token has detected secret for file {path}."
    return doc


def _evaluate(tmp_path: Path, report: Path) -> tuple[int, dict[str, Any]]:
    verdict = tmp_path / "verdict.json"
    doc = tmp_path / "input.json"
    res = run_gate(
        ["evaluate", str(report), "--policy", str(POLICIES), "--time", TIME, "--output", f"json={verdict}", "--output", f"input={doc}"]
    )
    assert verdict.exists(), res.stdout + res.stderr
    return res.exit_code, json.loads(verdict.read_text())


@pytest.mark.slow
@pytest.mark.parametrize("path", ["app/conftest.py", "tests/conftest.py", "tests/fixtures/aws.py"])
def test_attack_a_cloud_key_in_test_code_blocks(tmp_path: Path, path: str) -> None:
    report = write(tmp_path / "gitleaks.sarif", json.dumps(_gitleaks_at(path)))
    code, verdict = _evaluate(tmp_path, report)
    assert code == 10
    assert [v["rule"] for v in verdict["violations"]] == ["GATE-SEC-001"]
    assert verdict["warnings"] == []


def test_attack_a_flaw_class_the_data_names_blocks_in_test_code(tmp_path: Path) -> None:
    doc = _bandit("tests/helpers.py")
    r = doc["results"][0]
    r.update(
        {
            "test_id": "B301",
            "test_name": "blacklist",
            "issue_cwe": {"id": 502, "link": "https://cwe.mitre.org/data/definitions/502.html"},
            "issue_text": "Pickle and modules that wrap it can be unsafe when used to deserialize untrusted data, possible security issue.",
            "code": "8 pickle.loads(blob)\n",
        }
    )
    code, verdict = _evaluate(tmp_path, write(tmp_path / "bandit.json", json.dumps(doc)))
    assert code == 10
    assert [v["rule"] for v in verdict["violations"]] == ["GATE-SAST-001"]


def test_a_flaw_class_the_data_does_not_name_still_only_warns_in_test_code(tmp_path: Path) -> None:
    code, verdict = _evaluate(tmp_path, write(tmp_path / "bandit.json", json.dumps(_bandit("tests/test_shell.py"))))
    assert code == 0
    assert [w["rule"] for w in verdict["warnings"]] == ["GATE-SAST-003"]
