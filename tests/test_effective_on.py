"""Gradual rollout: a rule whose `custom.effective_on` lies after `--time` only warns, and says from when it blocks.

The policy in tests/data/governance/rollout has a deny rule effective from 2026-09-01 (ROLL-NEW),
one effective since 2020 (ROLL-OLD) and a warn rule with a future date (ROLL-WARN), judged on a
real bandit report of the sample project.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_gate
from tests.governance_support import GOV, write

ROLLOUT = GOV / "rollout"
BANDIT = GOV / "reports" / "bandit-sample.json"


def only(tmp_path: Path, *rules: str) -> Path:
    """The real bandit report with only the results of these rules."""
    doc = json.loads(BANDIT.read_text())
    doc["results"] = [r for r in doc["results"] if r["test_id"] in rules]
    return write(tmp_path / "bandit.json", json.dumps(doc))


def evaluate(tmp_path: Path, report: Path, now: str, *args: str, policy: Path = ROLLOUT) -> tuple[int, dict[str, Any]]:
    out = tmp_path / "verdict.json"
    res = run_gate(["evaluate", str(report), "--policy", str(policy), "--time", now, "--output", f"json={out}", *args])
    verdict = json.loads(out.read_text())
    assert res.exit_code == verdict["exit_code"]
    return res.exit_code, verdict


@pytest.mark.parametrize("now", ["2026-01-01T00:00:00Z", "2026-08-31T23:59:59Z", "2026-09-01T01:59:59+02:00"])
def test_before_its_date_the_rule_warns_and_says_from_when_it_blocks(tmp_path: Path, now: str) -> None:
    code, verdict = evaluate(tmp_path, only(tmp_path, "B602"), now)
    assert code == 0 and verdict["decision"] == "pass"
    assert verdict["violations"] == []
    new = [w for w in verdict["warnings"] if w["rule"] == "ROLL-NEW"]
    assert len(new) == 2  # both shell=True calls
    for w in new:
        assert w["not_yet_effective"] is True
        assert w["effective_on"] == "2026-09-01"
        assert "blocks from 2026-09-01" in w["msg"]


@pytest.mark.parametrize("now", ["2026-09-01T00:00:00Z", "2026-08-31T20:00:00-04:00", "2027-03-01T12:00:00Z"])
def test_from_its_date_the_rule_blocks(tmp_path: Path, now: str) -> None:
    code, verdict = evaluate(tmp_path, only(tmp_path, "B602"), now)
    assert code == 10 and verdict["decision"] == "fail"
    assert sorted(v["rule"] for v in verdict["violations"]) == ["ROLL-NEW", "ROLL-NEW"]
    assert all("not_yet_effective" not in v and "blocks from" not in v["msg"] for v in verdict["violations"])
    assert not [w for w in verdict["warnings"] if w["rule"] == "ROLL-NEW"]


def test_an_established_rule_blocks_while_the_new_one_only_warns(tmp_path: Path) -> None:
    code, verdict = evaluate(tmp_path, BANDIT, "2026-08-01T00:00:00Z")
    assert code == 10
    assert [v["rule"] for v in verdict["violations"]] == ["ROLL-OLD"]
    assert sorted({w["rule"] for w in verdict["warnings"]}) == ["ROLL-NEW", "ROLL-WARN"]


def test_a_future_date_on_a_warn_rule_keeps_it_a_plain_warning(tmp_path: Path) -> None:
    code, verdict = evaluate(tmp_path, only(tmp_path, "B404"), "2026-08-01T00:00:00Z")
    assert code == 0
    [w] = verdict["warnings"]
    assert w["rule"] == "ROLL-WARN" and "not_yet_effective" not in w and w["msg"] == "subprocess imported"


def test_with_fail_on_warn_a_not_yet_effective_rule_closes_the_gate_on_warnings(tmp_path: Path) -> None:
    code, verdict = evaluate(tmp_path, only(tmp_path, "B602"), "2026-08-01T00:00:00Z", "--fail-on", "warn")
    assert code == 11 and verdict["decision"] == "fail" and verdict["violations"] == []


_PROBE = """
import json, sys
from click.testing import CliRunner
from gate.cli import cli
report, policy = sys.argv[1:3]
codes = [CliRunner().invoke(cli, ["evaluate", report, "--policy", policy, "--time", now, "--format", "json"]).exit_code
         for now in ("2026-08-31T23:59:59Z", "2026-09-01T00:00:00Z")]
print(json.dumps(codes))
"""


@pytest.mark.slow
def test_the_date_is_read_as_utc_whatever_the_runner_zone(tmp_path: Path) -> None:
    """One process per zone (TZ is read at start-up); the day starts 14 h early / 9 h late there."""
    report = only(tmp_path, "B602")
    for zone in ("Pacific/Kiritimati", "America/Adak"):
        proc = subprocess.run(  # noqa: S603
            [sys.executable, "-c", _PROBE, str(report), str(ROLLOUT)],
            env={**os.environ, "TZ": zone},
            capture_output=True,
            text=True,
            check=True,
        )
        assert json.loads(proc.stdout) == [0, 10], zone


def test_an_unparsable_effective_on_is_a_policy_error(tmp_path: Path) -> None:
    policy = tmp_path / "policy"
    text = (ROLLOUT / "rollout.rego").read_text().replace("effective_on: 2026-09-01", "effective_on: next autumn")
    write(policy / "rollout.rego", text)
    write(policy / "config" / "stages.yaml", (ROLLOUT / "config" / "stages.yaml").read_text())
    code, verdict = evaluate(tmp_path, only(tmp_path, "B602"), "2026-08-01T00:00:00Z", policy=policy)
    assert code == 4
    assert "effective_on" in verdict["error"]["message"] and verdict["error"]["file"].endswith("rollout.rego")
