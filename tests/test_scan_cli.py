"""`gate run` and `gate scan` end to end with the real scanners on the sample projects.

The acceptance of issue D: the vulnerable sample closes the gate with bandit and semgrep
evidence, the clean one opens it, and with pip-audit offline the gate closes on the incomplete
dependency audit and says why. Each scanner run is shared across the tests that read it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from conftest import REPO, Result, run_gate
from scan_support import OFFLINE, require_tools

VULNERABLE = REPO / "examples" / "vulnerable-app"
CLEAN = REPO / "examples" / "clean-app"
SCHEMAS = REPO / "gate" / "schemas"
TIME = "2026-11-26T12:00:00Z"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def _tools() -> None:
    require_tools("bandit", "semgrep", "pip-audit", "cyclonedx-py")


@dataclass
class Run:
    result: Result
    verdict: dict[str, Any]
    document: dict[str, Any]
    out: Path


def _gate_run(tmp: Path, target: Path, *extra: str, env: dict[str, str] | None = None) -> Run:
    out = tmp / "reports"
    args = [
        "run",
        str(target),
        "--out",
        str(out),
        "--time",
        TIME,
        "--output",
        f"json={tmp / 'verdict.json'}",
        "--output",
        f"input={tmp / 'input.json'}",
        *extra,
    ]
    result = run_gate(args, env=env)
    verdict = json.loads((tmp / "verdict.json").read_text(encoding="utf-8"))
    document = json.loads((tmp / "input.json").read_text(encoding="utf-8"))
    return Run(result, verdict, document, out)


def _schema(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    return schema


def _cited_tools(verdict: dict[str, Any], rule_prefix: str = "") -> set[str]:
    tools = set()
    for v in verdict["violations"]:
        if v["rule"].startswith(rule_prefix):
            tools.update(verdict["findings"][fid]["tool"] for fid in v["evidence"]["findings"])
    return tools


@pytest.fixture(scope="module")
def vulnerable(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _gate_run(tmp_path_factory.mktemp("vulnerable"), VULNERABLE, "--scanners", "bandit,semgrep,sbom")


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _gate_run(tmp_path_factory.mktemp("clean"), CLEAN, "--scanners", "bandit,semgrep,sbom")


@pytest.fixture(scope="module")
def clean_offline_audit(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _gate_run(tmp_path_factory.mktemp("offline"), CLEAN, "--scanners", "bandit,pip-audit,sbom", env=OFFLINE)


# --------------------------------------------------------------------------------------------
# The vulnerable sample closes the gate


def test_vulnerable_app_closes_the_gate_with_bandit_and_semgrep_evidence(vulnerable: Run) -> None:
    assert vulnerable.result.exit_code == 10, vulnerable.result.stderr
    assert vulnerable.verdict["decision"] == "fail"
    tools = _cited_tools(vulnerable.verdict, "GATE-SAST")
    assert "bandit" in tools
    assert any(t.lower().startswith("semgrep") for t in tools)
    rules = {vulnerable.verdict["findings"][fid]["rule_id"] for v in vulnerable.verdict["violations"] for fid in v["evidence"]["findings"]}
    assert {"gate.python.sql-injection", "gate.python.command-injection.subprocess-shell", "B602", "B501"} <= rules


def test_example_verdict_lists_report_digests_and_coverage(vulnerable: Run) -> None:
    """The shipped example: each report's digest (recorded when its scanner ended, the bytes judged,
    the same as the copy kept in --out) and each code scanner's coverage; nothing unscanned."""
    import hashlib

    inputs = {i["path"]: i["sha256"] for i in vulnerable.verdict["inputs"]}
    scanners = {s["name"]: s for s in vulnerable.verdict["run"]["scanners"]}
    assert set(scanners) == {"bandit", "semgrep", "sbom"}
    for record in scanners.values():
        kept = Path(record["report"])
        assert kept.parent == vulnerable.out and record["sha256"] == hashlib.sha256(kept.read_bytes()).hexdigest()
        assert inputs[record["report"]] == record["sha256"]
    for name in ("bandit", "semgrep"):
        coverage = scanners[name]["coverage"]
        assert (coverage["targets"], coverage["files"], coverage["not_scanned"]) == (2, 2, []), name
    assert scanners["sbom"]["coverage"] is None
    assert vulnerable.verdict["run"]["coverage"]["sources"] == 2
    assert vulnerable.verdict["run"]["coverage"]["excluded"] == []
    assert vulnerable.verdict["unscanned"] == vulnerable.document["unscanned"] == []


def test_run_is_recorded_in_the_verdict(vulnerable: Run) -> None:
    run = vulnerable.verdict["run"]
    assert Path(run["target"]).resolve() == VULNERABLE.resolve()
    assert [s["name"] for s in run["scanners"]] == ["bandit", "semgrep", "sbom"]
    for s in run["scanners"]:
        assert s["status"] == "ok" and s["complete"] is True
        assert s["tool_version"] and s["command"] and s["duration"] > 0
        assert s["exit_code"] == (1 if s["name"] == "bandit" else 0)
        assert Path(s["report"]).is_file()
    assert run["wall_time"] >= max(s["duration"] for s in run["scanners"])
    jsonschema_rs.validate(_schema("verdict.schema.json"), vulnerable.verdict)
    jsonschema_rs.validate(_schema("input.schema.json"), vulnerable.document)


def test_reports_are_kept_and_judged_as_gate_evaluate_would(vulnerable: Run, tmp_path: Path) -> None:
    reports = [s["report"] for s in vulnerable.verdict["run"]["scanners"]]
    assert sorted(Path(r).name for r in reports) == ["bandit.json", "sbom.cdx.json", "semgrep.sarif"]
    assert {i["path"] for i in vulnerable.verdict["inputs"]} == set(reports)
    res = run_gate(["evaluate", *reports, "--time", TIME, "--output", f"json={tmp_path / 'v.json'}"])
    assert res.exit_code == vulnerable.result.exit_code
    alone = json.loads((tmp_path / "v.json").read_text(encoding="utf-8"))
    ignore = {"timing", "run", "unscanned"}  # gate run knows the tree; evaluate of the reports alone does not
    assert {k: v for k, v in alone.items() if k not in ignore} == {k: v for k, v in vulnerable.verdict.items() if k not in ignore}
    assert alone["run"] is None


def test_inline_suppressions_are_recorded_and_do_not_open_the_gate(vulnerable: Run) -> None:
    suppressed = {(f["tool"], f["rule_id"], f["location"]["start_line"]) for f in vulnerable.document["findings"] if f["suppressed"]}
    assert ("bandit", "B605", 64) in suppressed  # `# nosec`
    assert ("Semgrep OSS", "gate.python.code-injection", 113) in suppressed  # `# nosemgrep`
    cited = {fid for v in vulnerable.verdict["violations"] for fid in v["evidence"]["findings"]}
    eval_finding = next(f for f in vulnerable.document["findings"] if f["rule_id"] == "gate.python.code-injection")
    assert eval_finding["id"] in cited  # data honour_inline_suppressions is false: still a violation


def test_progress_lines_in_ci(vulnerable: Run) -> None:
    err = vulnerable.result.stderr
    assert "gate: scanning" in err
    for name in ("bandit", "semgrep", "sbom"):
        assert f"gate: {name}: ok in " in err


# --------------------------------------------------------------------------------------------
# The clean sample opens it


def test_clean_app_opens_the_gate(clean: Run) -> None:
    assert clean.result.exit_code == 0, clean.result.stdout + clean.result.stderr
    assert clean.verdict["decision"] == "pass" and clean.verdict["violations"] == []
    assert all(s["status"] == "ok" for s in clean.verdict["run"]["scanners"])
    sast = [f for f in clean.document["findings"] if f["kind"] in ("sast", "secret") and not f["test_code"]]
    assert all(f["severity"] in ("low", "info") for f in sast), sast
    assert len(clean.document["components"]) == 4


# --------------------------------------------------------------------------------------------
# pip-audit offline


def test_offline_dependency_audit_closes_the_gate_and_says_why(clean_offline_audit: Run) -> None:
    run = clean_offline_audit
    assert run.result.exit_code == 10, run.result.stderr
    assert [v["rule"] for v in run.verdict["violations"]] == ["GATE-SCAN-001"]
    violation = run.verdict["violations"][0]
    report = str(run.out / "pip-audit.json")
    assert violation["evidence"]["scans"] == [report]
    assert "pip-audit" in violation["msg"] and "wrote no report" in violation["msg"]
    assert any("ProxyError" in d or "Unable to connect" in d for d in violation["evidence"]["details"])
    audit = next(s for s in run.verdict["run"]["scanners"] if s["name"] == "pip-audit")
    assert audit["status"] == "failed" and audit["exit_code"] == 1 and audit["report"] is None
    scan = next(s for s in run.document["scans"] if s["tool"] == "pip-audit")
    assert scan["complete"] is False and scan["sha256"] is None and scan["path"] == report
    assert not Path(report).exists()


def test_only_failed_scanners_still_give_a_verdict(tmp_path: Path) -> None:
    run = _gate_run(tmp_path, CLEAN, "--scanners", "pip-audit", env=OFFLINE)
    assert run.result.exit_code == 10  # not 3: the failed audit itself is the evidence
    # and with no code scanner run, every source file of the project is unscanned
    assert [v["rule"] for v in run.verdict["violations"]] == ["GATE-SCAN-001", "GATE-SCAN-020"]
    assert {u["path"] for u in run.verdict["unscanned"]} == {
        "src/inventory/__init__.py",
        "src/inventory/app.py",
        "src/inventory/security.py",
        "src/inventory/storage.py",
        "tests/test_security.py",
    }


# --------------------------------------------------------------------------------------------
# Not applicable


@pytest.fixture(scope="module")
def no_manifest_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = tmp_path_factory.mktemp("nomanifest")
    (project / "tool.py").write_text('"""A script without dependencies."""\n\nprint("hello")\n', encoding="utf-8")
    return project


def test_no_manifest_audit_is_not_applicable(no_manifest_project: Path, tmp_path: Path) -> None:
    run = _gate_run(tmp_path, no_manifest_project, "--scanners", "bandit,pip-audit")
    assert run.result.exit_code == 0, run.result.stdout
    audit = next(s for s in run.verdict["run"]["scanners"] if s["name"] == "pip-audit")
    assert audit["status"] == "not_applicable" and "no dependency manifest" in audit["notes"][0]
    assert [s["tool"] for s in run.document["scans"]] == ["bandit"]
    assert "pip-audit: not_applicable" in run.result.stderr


def test_not_applicable_audit_does_not_satisfy_required_dependency_evidence(no_manifest_project: Path, tmp_path: Path) -> None:
    run = _gate_run(tmp_path, no_manifest_project, "--scanners", "bandit,pip-audit,sbom", "--stage", "prod")
    assert run.result.exit_code == 10
    missing = [v for v in run.verdict["violations"] if v["rule"] == "GATE-SCAN-003"]
    assert any("dependency" in v["msg"] for v in missing)
    assert any("sbom" in v["msg"] for v in missing)


# --------------------------------------------------------------------------------------------
# Usage and errors


def test_unknown_scanner_is_a_usage_error(tmp_path: Path) -> None:
    res = run_gate(["run", str(CLEAN), "--scanners", "bandit,nope", "--out", str(tmp_path)])
    assert res.exit_code == 2
    assert "unknown scanner 'nope'" in res.stderr
    assert not any(tmp_path.iterdir())  # nothing ran


def test_scanners_from_the_environment(tmp_path: Path) -> None:
    res = run_gate(["scan", str(CLEAN), "--out", str(tmp_path), "--progress", "off"], env={"GATE_SCANNERS": "bandit"})
    assert res.exit_code == 0, res.stderr
    assert res.stdout.splitlines() == [str(tmp_path / "bandit.json")]
    assert res.stderr == ""


def test_missing_target_is_an_input_error(tmp_path: Path) -> None:
    res = run_gate(["run", str(tmp_path / "missing"), "--scanners", "bandit", "--out", str(tmp_path / "out")])
    assert res.exit_code == 3 and "no such directory to scan" in res.stderr


def test_unusable_report_folder_is_an_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    res = run_gate(["scan", str(CLEAN), "--scanners", "bandit", "--out", str(blocker / "out")])
    assert res.exit_code == 5 and "cannot create the report folder" in res.stderr


def test_gate_scan_exits_3_when_a_scanner_did_not_complete(tmp_path: Path) -> None:
    res = run_gate(["scan", str(CLEAN), "--scanners", "bandit,pip-audit", "--out", str(tmp_path)], env=OFFLINE)
    assert res.exit_code == 3
    assert "1 scanner(s) did not complete: pip-audit (failed: pip-audit exited with code 1 and wrote no report" in res.stderr
    assert res.stdout.splitlines() == [str(tmp_path / "bandit.json")]  # what was written is kept


def test_output_options_are_checked_before_scanning(tmp_path: Path) -> None:
    res = run_gate(["run", str(CLEAN), "--scanners", "bandit", "--out", str(tmp_path / "out"), "--output", "nonsense=x"])
    assert res.exit_code == 2 and "unknown format 'nonsense'" in res.stderr
    assert not (tmp_path / "out").exists()
