"""Acceptance scenarios: one folder per scenario (inputs, arguments, expected verdict).

Each folder under tests/scenarios/ holds report files and a `scenario.yaml`:
`args` (extra CLI arguments), `expect` {exit_code, decision, violations: [rule ids], warnings: [rule ids]}.
The runner evaluates every report in the folder with the shipped policies and compares the
rule ids (as sets, and counts where given) and the exit code; the verdict and input document
are validated against their JSON Schemas on the way.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs
import pytest
import yaml

from tests.conftest import POLICIES, TESTS, run_gate

SCENARIOS = TESTS / "scenarios"
REPORT_SUFFIXES = {".json", ".sarif", ".xml"}


def _scenarios() -> list[Path]:
    return sorted(p for p in SCENARIOS.iterdir() if (p / "scenario.yaml").is_file()) if SCENARIOS.is_dir() else []


def _schema(name: str) -> dict:
    return json.loads((Path(__file__).resolve().parents[1] / "gate" / "schemas" / f"{name}.schema.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("folder", _scenarios(), ids=lambda p: p.name)
def test_scenario(folder: Path, tmp_path: Path) -> None:
    spec = yaml.safe_load((folder / "scenario.yaml").read_text())
    expect = spec["expect"]
    reports = sorted(str(p) for p in folder.iterdir() if p.suffix in REPORT_SUFFIXES and p.name != "scenario.yaml")
    args = [str(a).replace("{folder}", str(folder)) for a in spec.get("args", [])]
    if "--policy" not in args:
        args += ["--policy", str(POLICIES)]
    if "--time" not in args:
        args += ["--time", "2026-11-26T12:00:00Z"]
    verdict_path = tmp_path / "verdict.json"
    input_path = tmp_path / "input.json"
    res = run_gate(["evaluate", *reports, *args, "--output", f"json={verdict_path}", "--output", f"input={input_path}"])
    verdict = json.loads(verdict_path.read_text())
    assert res.exit_code == expect["exit_code"], (res.stdout, res.stderr, verdict.get("error"))
    assert verdict["exit_code"] == expect["exit_code"]
    jsonschema_rs.validate(_schema("verdict"), verdict)
    if verdict["decision"] != "error":
        jsonschema_rs.validate(_schema("input"), json.loads(input_path.read_text()))
    if "decision" in expect:
        assert verdict["decision"] == expect["decision"]
    for key in ("violations", "warnings"):
        if key in expect:
            got = sorted({e["rule"] for e in verdict[key]})
            assert got == sorted(set(expect[key])), f"{key}: {got} != {expect[key]}"
        if f"{key}_count" in expect:
            assert len(verdict[key]) == expect[f"{key}_count"]
