"""The scanner runners with the real tools: command lines, records, time limits, failures, suppressions.

The tools take seconds (semgrep most), so each scenario runs once per module and its records are
shared. Offline behaviour is made deterministic, whatever the machine's network, by pointing
pip-audit at a closed local port: that is exactly "its service cannot be reached".
"""

from __future__ import annotations

import json
import threading
from importlib import metadata
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from conftest import REPO
from scan_support import require_tools

from gate.collect import read_report
from scanners.run.bandit import BanditRunner
from scanners.run.interface import RunRecord, ScannerRunner
from scanners.run.parallel import ScanRun, run_all
from scanners.run.pip_audit import PipAuditRunner
from scanners.run.registry import SCANNERS, UnknownScanner, get_runner, parse_scanners
from scanners.run.sbom import SbomRunner
from scanners.run.semgrep import IGNORE_FILE_NAME, IGNORE_FILE_PREFIX, SemgrepRunner, rules_dir

VULNERABLE = REPO / "examples" / "vulnerable-app"
CLOSED_PORT_OSV = "http://127.0.0.1:9/v1/query"  # discard port: nothing listens, connection refused

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module", autouse=True)
def _tools() -> None:
    require_tools("bandit", "semgrep", "pip-audit", "cyclonedx-py")


def _by_name(run: ScanRun) -> dict[str, RunRecord]:
    return {r.name: r for r in run.records}


@pytest.fixture(scope="module")
def vulnerable_run(tmp_path_factory: pytest.TempPathFactory) -> ScanRun:
    """bandit, semgrep, the SBOM and an unreachable pip-audit on the vulnerable sample, in parallel."""
    out = tmp_path_factory.mktemp("reports")
    runners = [
        get_runner("bandit"),
        get_runner("semgrep"),
        get_runner("sbom"),
        get_runner("pip-audit", pip_audit_service="osv", osv_url=CLOSED_PORT_OSV),
    ]
    return run_all(runners, VULNERABLE, out, 300)


# --------------------------------------------------------------------------------------------
# Selection


def test_parse_scanners() -> None:
    assert parse_scanners("semgrep, bandit,semgrep") == ("semgrep", "bandit")
    assert parse_scanners(["BANDIT", "sbom"]) == ("bandit", "sbom")
    assert parse_scanners(",".join(SCANNERS)) == SCANNERS
    with pytest.raises(UnknownScanner, match=r"unknown scanner 'trivy' \(choose from bandit, semgrep, pip-audit, sbom\)"):
        parse_scanners("bandit,trivy")
    with pytest.raises(UnknownScanner, match="no scanner selected"):
        parse_scanners(" , ")


def test_every_registered_name_has_a_runner() -> None:
    for name in SCANNERS:
        runner = get_runner(name)
        assert isinstance(runner, ScannerRunner) and runner.name == name


# --------------------------------------------------------------------------------------------
# What a normal run records


def test_workers_are_finished_when_run_all_returns(vulnerable_run: ScanRun) -> None:
    # The embedded engine forks for its time limit only in a single-threaded process.
    assert threading.active_count() == 1
    assert [r.name for r in vulnerable_run.records] == ["bandit", "semgrep", "sbom", "pip-audit"]


def test_records_carry_version_command_exit_code_duration(vulnerable_run: ScanRun) -> None:
    records = _by_name(vulnerable_run)
    expected = {"bandit": ("bandit", 1), "semgrep": ("semgrep", 0), "sbom": ("cyclonedx-bom", 0)}
    for name, (dist, code) in expected.items():
        r = records[name]
        assert r.status == "ok" and r.complete and r.errors == (), (name, r.errors)
        assert r.tool_version == metadata.version(dist), name
        assert r.exit_code == code, name  # bandit exits 1 because it found something: not a failure
        assert r.duration > 0
        assert r.report is not None and Path(r.report).is_file()
        assert r.command[0].endswith(r.command[0].split("/")[-1]) and Path(r.command[0]).is_file()
        assert r.cwd is not None and Path(r.cwd).resolve() == VULNERABLE.resolve()  # the project scanned
        assert r.sha256 is not None and r.data is not None and len(r.sha256) == 64
        shown = r.to_dict()
        assert shown["command"] == list(r.command) and shown["exit_code"] == code and shown["tool_version"] == r.tool_version


def test_semgrep_command_line(vulnerable_run: ScanRun) -> None:
    cmd = _by_name(vulnerable_run)["semgrep"].command
    assert cmd[1] == "scan"
    assert cmd[cmd.index("--metrics") + 1] == "off"
    assert "--disable-version-check" in cmd and "--no-rewrite-rule-ids" in cmd
    assert cmd[cmd.index("--config") + 1] == str(rules_dir())
    # the gate's own ignore file, under a name chosen at random per run (never the fixed name a
    # pull request could plant), no .gitignore, no size limit
    ignore = [a for a in cmd if a.startswith("--x-semgrepignore-filename=")]
    assert len(ignore) == 1 and ignore[0].startswith(f"--x-semgrepignore-filename={IGNORE_FILE_PREFIX}")
    assert IGNORE_FILE_NAME not in ignore[0]
    assert "--no-git-ignore" in cmd and "--max-target-bytes=0" in cmd
    assert cmd[-2:] == ("--", ".")
    env = SemgrepRunner().env()
    assert env["SEMGREP_ENABLE_VERSION_CHECK"] == "0" and env["SEMGREP_SEND_METRICS"] == "off"


def test_bandit_command_line(vulnerable_run: ScanRun) -> None:
    cmd = _by_name(vulnerable_run)["bandit"].command
    assert "--ignore-nosec" in cmd and "--ini" in cmd
    assert cmd[cmd.index("-f") + 1] == "json" and cmd[1] == "-r" and cmd[-2:] == ("--", ".")
    # -x names one path that exists nowhere: bandit's built-in excludes (.tox, .eggs, ...) do not apply
    excludes = cmd[cmd.index("-x") + 1]
    assert "," not in excludes and excludes.startswith("/") and not Path(excludes).exists()


def test_reports_are_read_by_the_gates_readers(vulnerable_run: ScanRun) -> None:
    by_format = {read_report(p).result.format: read_report(p).result for p in vulnerable_run.reports()}
    assert set(by_format) == {"bandit", "sarif", "cyclonedx"}
    assert len(by_format["bandit"].findings) >= 15
    assert {f.rule_id for f in by_format["sarif"].findings} >= {
        "gate.python.sql-injection",
        "gate.python.sql-injection-variable",
        "gate.python.command-injection.subprocess-shell",
        "gate.python.unsafe-deserialization",
        "gate.python.unsafe-yaml-load",
        "gate.python.tls-verification-off",
        "gate.python.flask-debug-mode",
        "gate.python.secrets.hardcoded-secret",
    }
    assert len(by_format["cyclonedx"].components) == 5


def test_inline_suppressions_are_recorded_not_obeyed(vulnerable_run: ScanRun) -> None:
    """`# nosec` and `# nosemgrep` lines are reported, marked suppressed (the policy decides)."""
    records = _by_name(vulnerable_run)
    bandit = read_report(records["bandit"].report or "").result
    nosec = [f for f in bandit.findings if f.suppressed]
    assert [(f.rule_id, f.location.start_line) for f in nosec if f.location] == [("B605", 64)]
    semgrep = read_report(records["semgrep"].report or "").result
    nosemgrep = [f for f in semgrep.findings if f.suppressed]
    assert [(f.rule_id, f.location.start_line) for f in nosemgrep if f.location] == [("gate.python.code-injection", 113)]
    # the same flaws, unsuppressed in the other tool, are reported plainly
    assert any(f.rule_id == "B307" and not f.suppressed for f in bandit.findings)
    assert any(f.rule_id == "gate.python.command-injection.os-shell" and not f.suppressed for f in semgrep.findings)


# --------------------------------------------------------------------------------------------
# pip-audit where its service cannot be reached


def test_unreachable_pip_audit_is_recorded_incomplete_with_its_own_words(vulnerable_run: ScanRun) -> None:
    r = _by_name(vulnerable_run)["pip-audit"]
    assert r.status == "failed" and not r.complete
    assert r.exit_code == 1 and r.report is None and r.report_path is not None
    assert not Path(r.report_path).exists()
    assert r.errors[0].startswith("pip-audit exited with code 1 and wrote no report: ")
    assert "Connection refused" in r.errors[0] or "ConnectionError" in r.errors[0]
    assert not any(line.startswith(("  File ", "Traceback")) for line in r.errors)
    assert "--no-deps" in r.command and "--disable-pip" in r.command  # pinned: nothing resolved or built
    # pip-audit reads the gate's checked copy of the lines, in its private work folder, never the project's file
    audited = Path(r.command[r.command.index("-r") + 1])
    assert audited.is_absolute() and audited.name == "requirements.txt" and VULNERABLE.resolve() not in audited.parents


def test_incomplete_run_becomes_a_schema_valid_scan_entry(vulnerable_run: ScanRun) -> None:
    entries = vulnerable_run.extra_scans()
    assert len(entries) == 1
    entry = entries[0]
    assert entry["tool"] == "pip-audit" and entry["complete"] is False and entry["sha256"] is None
    assert entry["errors"] == list(_by_name(vulnerable_run)["pip-audit"].errors)
    assert (entry["findings"], entry["components"]) == (0, 0)
    schema = json.loads((REPO / "gate" / "schemas" / "input.schema.json").read_text(encoding="utf-8"))
    jsonschema_rs.validate(schema["properties"]["scans"]["items"], entry)


def test_pip_audit_socket_timeout_stays_under_the_time_limit() -> None:
    runner = PipAuditRunner()
    assert runner.socket_timeout == 10
    # the adjustment happens at the start of run(): exercise it on a project without manifest
    record = runner.run(REPO / "scanners" / "rules", REPO / "scanners" / "rules", 4)
    assert record.status == "not_applicable"
    assert runner.socket_timeout == 2


# --------------------------------------------------------------------------------------------
# Not applicable, unavailable, time limit, failure, semgrep errors


def test_project_without_manifest_is_not_applicable(tmp_path: Path) -> None:
    (tmp_path / "tool.py").write_text("print('hello')\n", encoding="utf-8")
    for runner in (PipAuditRunner(), SbomRunner()):
        r = runner.run(tmp_path, tmp_path / "out", 30)
        assert r.status == "not_applicable" and r.complete
        assert "no dependency manifest" in r.notes[0]
        assert r.scan_entry() is None  # provides no evidence: a stage requiring it still fails
        assert r.exit_code is None and r.command == ()


class _MissingTool(BanditRunner):
    """bandit under a name no installation provides."""

    program = "gate-test-no-such-scanner"


def test_missing_tool_is_unavailable_and_incomplete(tmp_path: Path) -> None:
    r = _MissingTool().run(VULNERABLE, tmp_path, 30)
    assert r.status == "unavailable" and not r.complete
    assert "gate-test-no-such-scanner is not installed" in r.errors[0]
    entry = r.scan_entry()
    assert entry is not None and entry["complete"] is False and entry["tool"] == "bandit"


def test_time_limit_stops_the_tool(tmp_path: Path) -> None:
    r = SemgrepRunner().run(VULNERABLE, tmp_path, 0.5)
    assert r.status == "timeout" and not r.complete
    assert r.exit_code is None and r.report is None
    assert not (tmp_path / "semgrep.sarif").exists()
    assert r.errors[0] == "semgrep did not finish within 0.5 s and was stopped; its report is not used"
    assert r.duration < 0.5 + 3.5  # SIGTERM, then SIGKILL after the grace period at worst


def test_tool_failure_with_a_report_is_evaluated_but_incomplete(tmp_path: Path) -> None:
    """semgrep exits 7 on a missing config yet writes a SARIF report: its exit code is recorded,
    the report is kept for evaluation, and the run counts as incomplete with semgrep's own words."""
    missing = tmp_path / "missing-rules.yaml"
    r = SemgrepRunner([str(missing)]).run(VULNERABLE, tmp_path / "out", 120)
    assert r.status == "failed" and not r.complete
    assert r.exit_code == 7 and r.report is not None and Path(r.report).is_file()
    assert r.errors[0].startswith("semgrep exited with code 7 (a failure, not a finding)")
    assert any(str(missing) in e and "does not exist" in e for e in r.errors[1:])
    entry = r.scan_entry()
    assert entry is not None and entry["statistics"] == {"exit_code": 7}


@pytest.fixture(scope="module")
def hostile_project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, RunRecord]]:
    """A project that tries to hide from the scanners with its own configuration, and has a file
    semgrep can parse only in part."""
    project = tmp_path_factory.mktemp("hostile")
    (project / "app.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call('sh -c ' + cmd, shell=True)\n",
        encoding="utf-8",
    )
    (project / "broken.py").write_text("import subprocess\nx = = 1\nsubprocess.call('a' + x, shell=True)\n", encoding="utf-8")
    (project / ".bandit").write_text("[bandit]\nskips: B602,B404\nexclude: ./app.py\n", encoding="utf-8")
    (project / ".semgrepignore").write_text("app.py\nbroken.py\n", encoding="utf-8")
    out = project / "reports"
    run = run_all([BanditRunner(), SemgrepRunner()], project, out, 120)
    return project, _by_name(run)


def test_project_bandit_configuration_is_not_obeyed(hostile_project: tuple[Path, dict[str, RunRecord]]) -> None:
    _, records = hostile_project
    r = records["bandit"]
    assert "project bandit configuration not used: .bandit" in r.notes
    assert r.coverage is not None and r.coverage["targets"] == r.coverage["files"] == 2
    result = read_report(r.report or "").result
    assert any(f.rule_id == "B602" and f.location and f.location.path == "./app.py" for f in result.findings)
    # bandit could not parse broken.py: its own error list makes the scan incomplete
    assert not result.complete and any("broken.py" in e for e in result.errors)


def test_project_semgrepignore_is_not_obeyed(hostile_project: tuple[Path, dict[str, RunRecord]]) -> None:
    _, records = hostile_project
    r = records["semgrep"]
    assert "project ignore files not obeyed: .semgrepignore" in r.notes
    result = read_report(r.report or "").result
    paths = {f.location.path for f in result.findings if f.location}
    assert {"app.py", "broken.py"} <= paths


def test_semgrep_json_errors_make_the_run_incomplete(hostile_project: tuple[Path, dict[str, RunRecord]]) -> None:
    """The SARIF report only warns about a partly parsed file; semgrep's JSON calls it an error."""
    _, records = hostile_project
    r = records["semgrep"]
    sarif = read_report(r.report or "").result
    assert sarif.complete  # what the SARIF reader alone would conclude
    assert r.status == "ok" and not r.complete
    assert any("PartialParsing" in e and "broken.py" in e for e in r.errors)
    entry = r.scan_entry()
    assert entry is not None and entry["path"] == r.report and entry["errors"] == list(r.errors)


def test_code_scanners_scan_the_snapshot_not_the_tree(hostile_project: tuple[Path, dict[str, RunRecord]]) -> None:
    """Reports a scanner wrote into a folder of the project are not source: only the gate's
    snapshot of the source (outside the tree) is scanned, so its coverage is exactly the survey."""
    project, records = hostile_project
    assert not any(p.suffix == ".py" for p in (project / "reports").iterdir())
    assert records["bandit"].scanned == frozenset({"app.py", "broken.py"})


def test_run_summary_for_the_verdict(vulnerable_run: ScanRun) -> None:
    shown: dict[str, Any] = vulnerable_run.to_dict()
    assert set(shown) == {"target", "out", "wall_time", "scanners", "coverage"}
    assert shown["coverage"]["sources"] == 2 and shown["coverage"]["excluded"] == []
    assert [s["name"] for s in shown["scanners"]] == ["bandit", "semgrep", "sbom", "pip-audit"]
    slowest = max(s["duration"] for s in shown["scanners"])
    assert slowest <= shown["wall_time"] < sum(s["duration"] for s in shown["scanners"]) + 5
