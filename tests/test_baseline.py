"""Baselines: `gate baseline` writes today's fingerprints; `--baseline` marks findings new or existing.

End to end on real bandit and semgrep runs over the sample project: a baseline of the project as
it was, then the project with lines inserted at the top, an unrelated edit and one new flaw, with
the report's results reordered: only the new flaw is `new`. With the shipped policies, a stage
whose profile sets `new_findings_only` (dev) blocks on the new flaw and only warns on the
existing ones; a stage that judges every finding (staging) blocks on all of them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from gate.baseline import BASELINE_SCHEMA, build_baseline, load_baseline
from gate.documents.schema import load_schema
from gate.errors import ConfigError
from tests.conftest import POLICIES, run_gate
from tests.governance_support import TIME, evaluate, finding, real_scans, reordered, write


def test_build_is_sorted_unique_and_valid_against_the_schema() -> None:
    findings = [finding("b" * 32), finding("a" * 32, rule_id="B324"), finding("b" * 32)]
    findings.append(
        finding(
            "c" * 32, package={"name": "jinja2", "version": "3.1.2", "purl": "pkg:pypi/jinja2@3.1.2", "fixed_versions": []}, location=None
        )
    )
    doc = build_baseline(findings, created="2026-07-01T12:00:00Z", gate_version="0.1.0")
    jsonschema_rs.validate(load_schema("baseline"), doc)
    assert doc["schema"] == BASELINE_SCHEMA
    assert [e["id"] for e in doc["findings"]] == ["a" * 32, "b" * 32, "c" * 32]
    assert doc["findings"][2] == {"id": "c" * 32, "tool": "bandit", "rule_id": "B602", "path": None, "package": "pkg:pypi/jinja2@3.1.2"}


def test_load_round_trip(tmp_path: Path) -> None:
    doc = build_baseline([finding("a" * 32), finding("b" * 32)], created="2026-07-01T12:00:00Z", gate_version="0.1.0")
    path = write(tmp_path / "baseline.json", json.dumps(doc, indent=2))
    assert load_baseline(str(path)) == {"a" * 32, "b" * 32}


BAD = [
    # (case, text, line or None, message)
    ("empty", "", 1, "is empty"),
    ("invalid-json", '{"schema": "gate.baseline/v1",\n "findings": [}\n', 2, "invalid JSON"),
    ("duplicate-key", '{"schema": "gate.baseline/v1", "findings": [], "findings": []}', None, "duplicate key"),
    ("a-verdict", '{"schema": "gate.verdict/v1", "decision": "pass"}', 1, "not a baseline file"),
    ("a-report", '{"results": [], "errors": []}', 1, "not a baseline file"),
    ("a-list", "[]", 1, "not a baseline file"),
    (
        "bad-id",
        '{\n  "schema": "gate.baseline/v1",\n  "findings": [\n    {"id": "0123456789abcdef0123456789abcdef"},\n'
        '    {"id": "not-a-fingerprint"}\n  ]\n}\n',
        5,
        "does not match",
    ),
    ("missing-findings", '{\n  "schema": "gate.baseline/v1"\n}\n', 1, '"findings" is a required property'),
    ("unknown-key", '{\n  "schema": "gate.baseline/v1",\n  "findings": [],\n  "extra": 1\n}\n', 1, "Additional properties"),
]


@pytest.mark.parametrize(("text", "line", "needle"), [pytest.param(t, ln, n, id=c) for c, t, ln, n in BAD])
def test_a_bad_baseline_is_a_configuration_error(tmp_path: Path, text: str, line: int | None, needle: str) -> None:
    path = write(tmp_path / "baseline.json", text)
    with pytest.raises(ConfigError) as err:
        load_baseline(str(path))
    assert err.value.exit_code == 2 and err.value.file == str(path)
    assert needle in err.value.message, str(err.value)
    if line is not None:
        assert err.value.position is not None and err.value.position.line == line, str(err.value)


def test_a_missing_baseline_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_baseline(str(tmp_path / "nope.json"))
    assert "not found" in err.value.message and "gate baseline" in str(err.value.hint)


def test_a_hand_written_yaml_baseline_is_read(tmp_path: Path) -> None:
    path = write(tmp_path / "baseline.yaml", f"schema: {BASELINE_SCHEMA}\nfindings:\n  - id: {'d' * 32}\n    rule_id: B602\n")
    assert load_baseline(str(path)) == {"d" * 32}


# ------------------------------------------------------------------------------------------
# End to end on real tool runs


def _evaluate(tmp_path: Path, reports: list[Path], *args: str) -> tuple[int, dict[str, Any], dict[str, Any]]:
    return evaluate(tmp_path, reports, *args)


@pytest.fixture(scope="module")
def baseline_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scans = real_scans()
    out = tmp_path_factory.mktemp("baseline") / "baseline.json"
    res = run_gate(
        ["baseline", str(scans.before.bandit), str(scans.before.semgrep), "-o", str(out), "--policy", str(POLICIES), "--time", TIME]
    )
    assert res.exit_code == 0, (res.stdout, res.stderr)
    return out


@pytest.mark.slow
def test_gate_baseline_writes_a_valid_deterministic_file(baseline_file: Path, tmp_path: Path) -> None:
    doc = json.loads(baseline_file.read_text())
    jsonschema_rs.validate(load_schema("baseline"), doc)
    assert doc["created"] == TIME
    assert len(doc["findings"]) == 8  # bandit 5 + semgrep 3 over the sample project
    scans = real_scans()
    # Reports given in another order, and re-run: the same bytes.
    again = tmp_path / "again.json"
    res = run_gate(
        ["baseline", str(scans.rerun.semgrep), str(scans.rerun.bandit), "-o", str(again), "--policy", str(POLICIES), "--time", TIME]
    )
    assert res.exit_code == 0
    assert again.read_bytes() == baseline_file.read_bytes()


@pytest.mark.slow
def test_without_a_baseline_every_finding_is_unknown(tmp_path: Path) -> None:
    scans = real_scans()
    _, _, doc = _evaluate(tmp_path, [scans.after.bandit, scans.after.semgrep])
    assert {f["baseline"] for f in doc["findings"]} == {"unknown"}


@pytest.mark.slow
def test_only_the_new_flaw_is_new_across_a_shifted_and_reordered_report(baseline_file: Path, tmp_path: Path) -> None:
    scans = real_scans()
    bandit = reordered(scans.after.bandit, tmp_path / "bandit.json")
    semgrep = reordered(scans.after.semgrep, tmp_path / "semgrep.json")
    _, _, doc = _evaluate(tmp_path, [bandit, semgrep], "--baseline", str(baseline_file))
    new = sorted(
        (f["tool"].lower(), f["rule_id"].rsplit(".", 1)[-1], f["location"]["start_line"]) for f in doc["findings"] if f["baseline"] == "new"
    )
    # The purge() function added at the end of orders.py (line 29 after the 5 inserted lines).
    assert new == [("bandit", "B602", 29), ("semgrep", "subprocess-shell-true", 29)]
    assert sum(f["baseline"] == "existing" for f in doc["findings"]) == 8


@pytest.mark.slow
def test_dev_blocks_only_on_new_code_findings_and_warns_on_existing_ones(baseline_file: Path, tmp_path: Path) -> None:
    scans = real_scans()
    args = ["--baseline", str(baseline_file), "--stage", "dev"]
    code, verdict, doc = _evaluate(tmp_path, [scans.after.bandit, scans.after.semgrep], *args)
    by_id = {f["id"]: f for f in doc["findings"]}
    blocking = {fid for e in verdict["violations"] for fid in e["evidence"]["findings"]}
    warned = {fid for e in verdict["warnings"] for fid in e["evidence"]["findings"]}
    assert code == 10
    code_blocking = {i for i in blocking if by_id[i]["kind"] == "sast"}
    assert code_blocking, "the new shell=True call must block"
    assert {by_id[i]["baseline"] for i in code_blocking} == {"new"}
    existing_high = {i for i, f in by_id.items() if f["baseline"] == "existing" and f["severity"] == "high" and f["kind"] == "sast"}
    assert len(existing_high) == 5, "bandit: 2 x B602 and B324; semgrep: 2 x shell=True (its MD5 rule is medium)"
    assert existing_high <= warned, "existing findings stay visible as warnings"
    assert existing_high.isdisjoint(blocking)
    # The pack's one exception: a committed secret blocks even when it is old (it must be rotated).
    assert {by_id[i]["kind"] for i in blocking if by_id[i]["baseline"] == "existing"} <= {"secret"}


@pytest.mark.slow
def test_staging_blocks_on_existing_findings_too(baseline_file: Path, tmp_path: Path) -> None:
    scans = real_scans()
    _, verdict, doc = _evaluate(tmp_path, [scans.after.bandit, scans.after.semgrep], "--baseline", str(baseline_file), "--stage", "staging")
    blocking = {fid for e in verdict["violations"] for fid in e["evidence"]["findings"]}
    existing_high = {f["id"] for f in doc["findings"] if f["baseline"] == "existing" and f["severity"] == "high"}
    assert existing_high & blocking


@pytest.mark.slow
def test_a_bad_baseline_file_exits_2(tmp_path: Path) -> None:
    scans = real_scans()
    bad = write(tmp_path / "baseline.json", '{"schema": "gate.verdict/v1"}')
    res = run_gate(["evaluate", str(scans.before.bandit), "--policy", str(POLICIES), "--baseline", str(bad), "--time", TIME])
    assert res.exit_code == 2
    assert "not a baseline file" in res.stdout + res.stderr
