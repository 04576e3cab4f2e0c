"""Stages: `--stage` picks a profile from data; the shipped dev, staging and prod differ as documented.

End to end with the shipped policies (policies/config/stages.yaml) on real reports: a bandit
report of the sample project (only its low-severity finding, B404, for the threshold cases), a
pip-audit report with a vulnerability that has no fix (python-ecdsa, GHSA-wj6h-64fc-37mp) and a
CycloneDX SBOM from cyclonedx-py. The baseline switch (dev's `new_findings_only`) is proven in
tests/test_baseline.py; metadata `custom.stages` with the rollout test policy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.policy import load_policy
from tests.conftest import POLICIES, run_gate
from tests.governance_support import GOV, TIME, write
from tests.governance_support import evaluate as governance_evaluate

STAGES = GOV / "stages"
PIP_AUDIT = STAGES / "pip-audit-unfixable.json"
SBOM = STAGES / "sbom-cyclonedx-py-7.5.json"
BANDIT = GOV / "reports" / "bandit-sample.json"
ROLLOUT = GOV / "rollout"


def b404(tmp_path: Path) -> Path:
    """The real bandit report with only its low-severity finding (B404: subprocess imported)."""
    doc = json.loads(BANDIT.read_text())
    doc["results"] = [r for r in doc["results"] if r["test_id"] == "B404"]
    return write(tmp_path / "bandit-b404.json", json.dumps(doc))


def evaluate(tmp_path: Path, reports: list[Path], *args: str, policy: Path = POLICIES) -> tuple[int, dict[str, Any], dict[str, Any]]:
    code, verdict, doc = governance_evaluate(tmp_path, reports, *args, policy=policy)
    assert code == verdict["exit_code"]
    return code, verdict, doc


def cited(entries: list[dict[str, Any]]) -> set[str]:
    return {x for e in entries for key in ("findings", "components") for x in e["evidence"][key]}


def test_the_shipped_pack_defines_dev_staging_and_prod() -> None:
    stages = load_policy(POLICIES, include_tests=False).data["stages"]
    assert {"default", "dev", "staging", "prod"} <= set(stages)


def test_an_unknown_stage_is_a_usage_error_naming_the_known_ones(tmp_path: Path) -> None:
    res = run_gate(["evaluate", str(BANDIT), "--policy", str(POLICIES), "--time", TIME, "--stage", "production"])
    assert res.exit_code == 2
    out = res.stdout + res.stderr
    assert "production" in out and all(s in out for s in ("dev", "staging", "prod"))


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["default", "dev", "staging", "prod"])
def test_each_stage_with_full_evidence(tmp_path: Path, stage: str) -> None:
    args = [] if stage == "default" else ["--stage", stage]
    # B404 (`import subprocess`) is one of the shipped quiet hygiene rules since issue 17
    # (data.config.sast.quiet_rules); emptied here, it stands for any low-severity finding.
    loud = write(tmp_path / "loud.yaml", "sast:\n  quiet_rules: []\n")
    code, verdict, doc = evaluate(tmp_path, [b404(tmp_path), PIP_AUDIT, SBOM], *args, "--data", str(loud))
    assert doc["context"]["stage"] == stage
    unfixable = next(f["id"] for f in doc["findings"] if f["rule_id"] == "GHSA-wj6h-64fc-37mp")
    low = next(f["id"] for f in doc["findings"] if f["rule_id"] == "B404")
    blocking, warned = cited(verdict["violations"]), cited(verdict["warnings"])
    licence_gaps = {"pkg:pypi/ecdsa@0.18.0", "pkg:pypi/jinja2@3.1.6"} & warned
    if stage == "prod":
        # The last gate: a vulnerability without a fix blocks until someone accepts it
        # explicitly; low-severity code findings are reported.
        assert code == 10
        assert unfixable in blocking
        assert low in warned
        assert licence_gaps
    else:
        assert code == 0, verdict["violations"]
        assert unfixable in warned and unfixable not in blocking
        assert low not in blocking | warned
        # dev does not report licence gaps of generated SBOMs; the others warn.
        assert bool(licence_gaps) is (stage != "dev")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stage", "missing"),
    [("default", set()), ("dev", set()), ("staging", {"dependency"}), ("prod", {"dependency", "sbom"})],
)
def test_required_evidence_grows_towards_production(tmp_path: Path, stage: str, missing: set[str]) -> None:
    code, verdict, _ = evaluate(tmp_path, [b404(tmp_path)], "--stage", stage)
    about_evidence = [v for v in verdict["violations"] if not v["evidence"]["findings"] and "evidence" in v["msg"]]
    named = {kind for v in about_evidence for kind in ("sast", "dependency", "sbom") if f"requires {kind} evidence" in v["msg"]}
    assert named == missing
    assert code == (10 if missing else 0)


@pytest.mark.slow
def test_a_stage_profile_can_make_warnings_block_and_the_flag_wins(tmp_path: Path) -> None:
    reports = [b404(tmp_path), PIP_AUDIT, SBOM]
    strict = write(tmp_path / "strict.yaml", "stages:\n  staging:\n    fail_on: warn\n")
    code, verdict, _ = evaluate(tmp_path, reports, "--stage", "staging", "--data", str(strict))
    assert code == 11 and verdict["decision"] == "fail" and verdict["violations"] == []
    # Other stages keep their own profile.
    code, _, _ = evaluate(tmp_path, reports, "--stage", "dev", "--data", str(strict))
    assert code == 0
    # An explicit --fail-on wins over the stage profile.
    code, _, _ = evaluate(tmp_path, reports, "--stage", "staging", "--data", str(strict), "--fail-on", "deny")
    assert code == 0


def test_rules_bound_to_stages_apply_only_there(tmp_path: Path) -> None:
    doc = json.loads(BANDIT.read_text())
    doc["results"] = [r for r in doc["results"] if r["test_id"] == "B105"]
    report = write(tmp_path / "bandit-b105.json", json.dumps(doc))
    code, verdict, _ = evaluate(tmp_path, [report], "--stage", "dev", policy=ROLLOUT)
    assert code == 0 and verdict["violations"] == []
    assert verdict["not_applicable"] == [{"rule": "ROLL-PROD", "stages": ["prod"]}]
    code, verdict, _ = evaluate(tmp_path, [report], "--stage", "prod", policy=ROLLOUT)
    assert code == 10 and [v["rule"] for v in verdict["violations"]] == ["ROLL-PROD"]
    assert verdict["not_applicable"] == []
