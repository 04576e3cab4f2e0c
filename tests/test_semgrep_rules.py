"""The gate's semgrep rule pack (`scanners/rules`): semgrep's own `--test` run, and the rules' metadata."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO
from scan_support import require_tools

from scanners.run.semgrep import rules_dir

RULES = REPO / "scanners" / "rules"
SEMGREP = Path(sys.executable).parent / "semgrep"
CWE = re.compile(r"^CWE-\d+: \S")


@pytest.fixture(scope="module", autouse=True)
def _tools() -> None:
    require_tools("semgrep")


def _rule_files() -> list[Path]:
    return sorted(RULES.glob("*.yaml"))


def _rules() -> list[tuple[Path, dict[str, Any]]]:
    out = []
    for path in _rule_files():
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        out.extend((path, rule) for rule in doc["rules"])
    return out


@pytest.fixture(scope="module")
def semgrep_test() -> dict[str, Any]:
    """One `semgrep --test --json` over the whole pack."""
    env = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}
    done = subprocess.run(
        [str(SEMGREP), "--test", "--json", "--metrics", "off", "--disable-version-check", str(RULES)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_pack_is_found_through_the_scanners_package() -> None:
    assert rules_dir().resolve() == RULES.resolve()
    assert len(_rule_files()) >= 10


@pytest.mark.slow
def test_semgrep_test_passes_for_every_rule(semgrep_test: dict[str, Any]) -> None:
    # semgrep --test prints "All tests passed" even when a rule file failed to load: check both.
    assert semgrep_test["config_with_errors"] == []
    assert semgrep_test["config_missing_tests"] == []
    checked = {}
    for config, result in semgrep_test["results"].items():
        for rule_id, check in result["checks"].items():
            checked[rule_id] = check
            assert check["passed"], (config, rule_id, check["matches"])
            assert check["errors"] == []
    assert set(checked) == {rule["id"] for _, rule in _rules()}


@pytest.mark.slow
def test_every_rule_has_true_and_false_positive_cases(semgrep_test: dict[str, Any]) -> None:
    for path, rule in _rules():
        test_file = path.with_suffix(".py")
        text = test_file.read_text(encoding="utf-8")
        assert re.search(rf"#\s*ruleid:.*\b{re.escape(rule['id'])}\b", text), f"{rule['id']}: no `# ruleid:` case in {test_file.name}"
        assert re.search(rf"#\s*ok:.*\b{re.escape(rule['id'])}\b", text), f"{rule['id']}: no `# ok:` case in {test_file.name}"
        expected = [
            m["expected_lines"]
            for result in semgrep_test["results"].values()
            for rid, check in result["checks"].items()
            if rid == rule["id"]
            for m in check["matches"].values()
        ]
        assert expected and all(expected), f"{rule['id']}: semgrep expected no match at all"


def test_every_rule_carries_security_metadata() -> None:
    ids = []
    for _path, rule in _rules():
        rid = rule["id"]
        ids.append(rid)
        assert rid.startswith("gate.python."), rid
        assert rule["severity"] in ("ERROR", "WARNING", "INFO"), rid
        assert rule["languages"] == ["python"], rid
        assert len(rule["message"].split()) >= 12, f"{rid}: the message should say what is wrong and the fix"
        meta = rule["metadata"]
        assert meta["category"] == "security", rid
        assert meta["confidence"] in ("HIGH", "MEDIUM", "LOW"), rid
        assert meta["cwe"] and all(CWE.match(c) for c in meta["cwe"]), rid
        assert meta["references"] and all(r.startswith("https://") for r in meta["references"]), rid
        assert meta["likelihood"] in ("HIGH", "MEDIUM", "LOW") and meta["impact"] in ("HIGH", "MEDIUM", "LOW"), rid
    assert len(ids) == len(set(ids)), "rule ids must be unique"


def test_pack_covers_the_required_weakness_classes() -> None:
    cwes = {c.split(":")[0] for _, rule in _rules() for c in rule["metadata"]["cwe"]}
    required = {
        "CWE-78": "command injection",
        "CWE-95": "code injection",
        "CWE-502": "unsafe deserialisation and YAML",
        "CWE-328": "weak hashing",
        "CWE-338": "weak randomness for secrets",
        "CWE-89": "SQL built from strings",
        "CWE-295": "TLS verification off",
        "CWE-489": "debug modes",
        "CWE-798": "hard-coded secrets",
        "CWE-377": "insecure temporary files",
        "CWE-611": "XML without protection",
    }
    missing = {cwe: what for cwe, what in required.items() if cwe not in cwes}
    assert not missing


def test_secret_rules_read_as_secret_findings() -> None:
    # The SARIF reader classes a semgrep rule as a secret when a segment of its id says so; only
    # the hard-coded credential rules may (weak randomness for tokens is a code flaw).
    for _, rule in _rules():
        segments = set(re.split(r"[.\-_]", rule["id"]))
        is_secret_rule = rule["metadata"]["cwe"][0].startswith("CWE-798")
        assert bool(segments & {"secret", "secrets"}) == is_secret_rule, rule["id"]


@pytest.mark.slow
def test_sql_rule_covers_every_string_building_shape(semgrep_test: dict[str, Any]) -> None:
    # FIELD-NOTES: %, f-strings, .format and + all occur; the test file has a case of each.
    text = (RULES / "sql-injection.py").read_text(encoding="utf-8")
    shapes = {"%": r'"\s*%\s*\w', "f-string": r'\(f"', ".format": r'"\.format\(', "+": r'"\s*\+\s*\w'}
    flagged = [ln for i, ln in enumerate(text.splitlines()) if i > 0 and "# ruleid:" in text.splitlines()[i - 1]]
    for shape, pattern in shapes.items():
        assert any(re.search(pattern, ln) for ln in flagged), f"no flagged case of the {shape} shape"
