"""The shipped pack on real projects (issue 17): decisions and the findings each must cite.

`gate run` (under the stage its ground truth names: prod, or `library` for a library) with the
default scanners (bandit, semgrep, the SBOM) and the local vulnerability database runs once per
project of `../shared/calibration` (four deliberately vulnerable applications, four healthy
libraries) and the verdict is held against the ground truth written down in
`tests/calibration/<project>.yaml`:

- the decision is the one recorded (every vulnerable application blocked);
- every finding the ground truth expects to block (`after: block`) is cited by a violation, and
  for a vulnerable application at least one of them is a confirmed real flaw;
- no finding the ground truth marks `after: warn` or `after: quiet` is cited by a violation
  (warn: it is cited by a warning; quiet: by nothing);
- a healthy library blocks on nothing (no false block: issue 17's goal), and its warnings stay
  few enough to be read (at most MAX_HEALTHY_WARNINGS).

The scoring and the runner are `bench/calibration.py` (which prints the before/after table).
Real bandit and semgrep on eight projects take minutes: the test is `slow` (in the default run
and CI, not in the fast lane), and each project is scanned once per session.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import REPO, require_shared
from scan_support import require_tools

pytestmark = pytest.mark.slow

# A maintainer reads a dozen warnings; a hundred are switched off.
MAX_HEALTHY_WARNINGS = 12


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gate_bench_calibration", REPO / "bench" / "calibration.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


calibration = _bench()


class Runs:
    """The verdict of each project, computed on first use (once per session)."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.db: Path | None = None
        self.verdicts: dict[str, dict[str, Any]] = {}

    def verdict(self, project: str) -> dict[str, Any]:
        if project not in self.verdicts:
            self.db = self.db or calibration.build_vulndb(self.work / "vulndb")
            self.verdicts[project] = calibration.run_gate(project, self.work, self.db)
        return self.verdicts[project]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    require_shared()
    require_tools("bandit", "semgrep", "cyclonedx-py")
    return Runs(tmp_path_factory.mktemp("calibration"))


def _cited_by(verdict: dict[str, Any], kind: str) -> set[str]:
    keys: set[str] = set()
    for item in verdict.get(kind) or []:
        keys |= calibration.cited(verdict, item)
    return keys


def _matches(keys: set[str], entry: dict[str, Any]) -> bool:
    key = calibration.truth_key(entry)
    if entry["rule"].endswith(":*"):
        tool = entry["rule"].split(":", 1)[0]
        return any(k.startswith(f"{tool}:") and k.endswith(f"@{entry['where']}") for k in keys)
    return key in keys


@pytest.mark.parametrize("project", calibration.PROJECTS)
def test_project_decision_and_citations(runs: Runs, project: str) -> None:
    truth = calibration.load_truth(project)
    verdict = runs.verdict(project)
    assert verdict["decision"] == truth["decision"], (project, [v["msg"][:160] for v in verdict["violations"]])
    blocking = _cited_by(verdict, "violations")
    warning = _cited_by(verdict, "warnings")
    for entry in truth.get("findings") or []:
        where = f"{project}: {entry['rule']} at {entry['where']}"
        if entry["after"] == "block":
            assert _matches(blocking, entry), f"{where} must block ({entry['why']})"
        else:
            assert not _matches(blocking, entry), f"{where} must not block ({entry['why']})"
        if entry["after"] == "warn":
            assert _matches(warning, entry), f"{where} must warn ({entry['why']})"
        if entry["after"] == "quiet":
            assert not _matches(warning, entry), f"{where} must not warn ({entry['why']})"
    score = calibration.score(project, verdict, truth)
    # Nothing blocks that the ground truth has not judged.
    assert score.unknown_blocks == 0, score.unknown_block_keys
    if truth["kind"] == "vulnerable":
        assert score.real_blocked >= 1
    else:
        assert score.warnings <= MAX_HEALTHY_WARNINGS, [w["msg"][:160] for w in verdict["warnings"]]
        # The goal of issue 17: no false block on a healthy library.
        assert score.false_blocks == 0, score.false_block_keys
