"""The CLI only wires: the rules it used to carry live in one function each, which the CLI (and the
GitHub Action) call.

- `gate.sources.policy_root`: `--policy`, else `./policies`, else the shipped pack; the Action asks
  it too (with `has_policies=False` when the trusted ref has no policies folder).
- `gate.runner.make_baseline`: what `gate baseline` writes, without the CLI.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gate.policy import default_policy_dir
from gate.runner import make_baseline
from gate.sources import policy_root
from tests.conftest import REPO, run_gate

REPORTS = REPO / "examples" / "reports"


def test_policy_root_prefers_the_given_then_the_project_folder_then_the_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert policy_root() == str(default_policy_dir())
    (tmp_path / "policies").mkdir()
    assert policy_root() == "policies"
    assert policy_root(has_policies=False) == str(default_policy_dir()), "the Action's answer for a ref without policies/"
    assert policy_root("elsewhere") == "elsewhere"


def test_the_rule_is_written_once() -> None:
    """No other module (nor the Action's bash) spells `./policies, else the pack` again."""
    pattern = 'Path("policies").is_dir()'
    holders = [str(p.relative_to(REPO)) for p in (REPO / "gate").rglob("*.py") if pattern in p.read_text(encoding="utf-8")]
    assert holders == [], holders
    action = (REPO / "action.yml").read_text(encoding="utf-8")
    assert "policy_root(has_policies=False)" in action and "default_policy_dir" not in action


def test_make_baseline_is_what_gate_baseline_writes(tmp_path: Path) -> None:
    args = [str(REPORTS / "bandit.json"), str(REPORTS / "semgrep.sarif")]
    out = tmp_path / "baseline.json"
    res = run_gate(["baseline", *args, "-o", str(out), "--time", "2026-12-06T00:00:00Z", "--policy", str(REPO / "policies")])
    assert res.exit_code == 0, res.stderr
    doc = make_baseline(args, policy=str(REPO / "policies"), time_text="2026-12-06T00:00:00Z")
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(json.dumps(doc))
    assert doc["findings"], "the example's findings are fingerprinted"
    assert os.path.basename(str(out)) in res.stderr
