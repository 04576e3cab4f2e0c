"""What a report may claim (issue 13; SECURITY.md, section I, "What a report may claim").

Every test here was first an attack that opened the gate (or satisfied a stage) on the code
before issue 13; its docstring says what the attack was. The defences:

1. A scan that hid results is an incomplete scan: bandit's `nosec`/`skipped_tests` counts (JSON,
   and its SARIF's `run.properties.metrics`), semgrep's JSON (which cannot show what
   `# nosemgrep` hid) -> `complete: false` with an error saying how many, unless the data says
   `honour_inline_suppressions: true` (scanners/claims.py; the shipped pack denies it,
   GATE-SCAN-001; `scans.allow_incomplete` does not accept it).
2. A finding is what its producer is: its kind comes from the trusted producer table
   (data `evidence.producers` / `evidence.default_kinds`), a result's tags, CVE ids or purls only
   choose among the kinds the table lets its tool write.
3. Required evidence is met only by reports whose tool writes that format (the same table).
4. Out-of-spec values are input errors (exit 3) naming the JSON pointer.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate.collect import read_report
from gate.model import KINDS
from scanners.claims import FALLBACK_KIND, Producers, completeness
from scanners.run.interface import find_program
from tests.conftest import DATA, POLICIES
from tests.scan_support import require_tools
from tests.threats.helpers import evaluate_verdict, output, write_json

SAMPLES = DATA / "claims"

# The sources the samples in tests/data/claims were produced from (and the bandit tests scan).
NOSEC_SOURCE = '''"""Back-office commands; each flaw carries an inline suppression written by the change's author."""
import subprocess  # nosec B404


def run(cmd):
    return subprocess.call(cmd, shell=True)  # nosec


def run_checked(cmd):
    return subprocess.check_call(cmd, shell=True)  # nosec B602
'''
NOSEMGREP_SOURCE = '''"""Price rules typed by shop staff."""


def evaluate(expression):
    return eval(expression)  # nosemgrep
'''


def _shipped_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((POLICIES / "config" / "scanning.yaml").read_text(encoding="utf-8"))
    return data


def _judge(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any], dict[str, Any] | None, str]:
    res, verdict, doc = evaluate_verdict(tmp_path, *args, policy=POLICIES)
    return res.exit_code, verdict, doc, output(res)


def _rules(verdict: dict[str, Any], key: str = "violations") -> set[str]:
    return {v["rule"] for v in verdict[key]}


def _bandit(tmp_path: Path, source: str, *extra: str) -> Path:
    """Run the real bandit on `source` (as app/shell.py) and return its JSON report."""
    require_tools("bandit")
    project = tmp_path / "project"
    (project / "app").mkdir(parents=True, exist_ok=True)
    (project / "app" / "shell.py").write_text(source, encoding="utf-8")
    report = tmp_path / "bandit.json"
    bandit = find_program("bandit")
    assert bandit is not None
    subprocess.run([bandit, "-q", "-r", "app", "-f", "json", "-o", str(report), *extra], cwd=project, check=False, timeout=120)
    assert report.is_file()
    return report


# --------------------------------------------------------------------------------------------
# 1. A scan that hid results is an incomplete scan


@pytest.mark.slow
def test_bandit_report_that_obeyed_nosec_closes_the_gate(tmp_path: Path) -> None:
    """Attack: `# nosec` on the flaws; bandit (run without --ignore-nosec) drops the results and
    only counts them in its metrics; `gate evaluate` of that report said OPEN, exit 0."""
    report = _bandit(tmp_path, NOSEC_SOURCE)
    assert json.loads(report.read_text())["results"] == []  # nothing left to judge
    code, verdict, doc, said = _judge(tmp_path, str(report))
    assert code == 10, said
    assert doc is not None
    (scan,) = doc["scans"]
    assert scan["complete"] is False and scan["hidden_suppressions"] == 3
    assert any("left 3 results out of the report under inline suppressions" in e for e in scan["errors"])
    assert _rules(verdict) == {"GATE-SCAN-001"}


@pytest.mark.slow
def test_bandit_nosec_naming_a_test_id_is_counted_too(tmp_path: Path) -> None:
    """Variant: only `# nosec B602` (bandit counts it as `skipped_tests`, not `nosec`)."""
    source = "import subprocess  # nosec B404\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)  # nosec B602\n"
    report = _bandit(tmp_path, source)
    metrics = json.loads(report.read_text())["metrics"]["_totals"]
    assert (metrics["nosec"], metrics["skipped_tests"]) == (0, 2)
    code, verdict, doc, said = _judge(tmp_path, str(report))
    assert code == 10 and _rules(verdict) == {"GATE-SCAN-001"}, said
    assert doc is not None and doc["scans"][0]["hidden_suppressions"] == 2


@pytest.mark.slow
def test_data_that_honours_inline_suppressions_accepts_the_hidden_results(tmp_path: Path) -> None:
    """The one way to accept it: trusted data says inline suppressions are honoured."""
    report = _bandit(tmp_path, NOSEC_SOURCE)
    data = write_json(tmp_path / "honour.json", {"honour_inline_suppressions": True})
    code, verdict, doc, said = _judge(tmp_path, str(report), "--data", str(data))
    assert code == 0, said
    assert doc is not None and doc["scans"][0]["complete"] is True and doc["scans"][0]["hidden_suppressions"] == 3


@pytest.mark.slow
def test_allow_incomplete_does_not_accept_hidden_results(tmp_path: Path) -> None:
    """Variant: a data file that accepts bandit's partial scans (for files it cannot parse)
    must not turn `# nosec` into a warning."""
    report = _bandit(tmp_path, NOSEC_SOURCE)
    data = write_json(tmp_path / "accept.json", {"scans": {"allow_incomplete": ["bandit"]}})
    code, verdict, _, said = _judge(tmp_path, str(report), "--data", str(data))
    assert code == 10 and _rules(verdict) == {"GATE-SCAN-001"}, said


@pytest.mark.slow
def test_bandit_with_ignore_nosec_is_complete_and_the_suppressed_flaw_blocks(tmp_path: Path) -> None:
    """What `gate run` does: the results are kept, marked `suppressed`, and judged."""
    report = _bandit(tmp_path, NOSEC_SOURCE, "--ignore-nosec")
    code, verdict, doc, said = _judge(tmp_path, str(report))
    assert code == 10, said
    assert doc is not None and doc["scans"][0]["complete"] is True and doc["scans"][0]["hidden_suppressions"] == 0
    assert _rules(verdict) == {"GATE-SAST-001"}
    assert all(f["suppressed"] for f in doc["findings"])


def test_bandit_sarif_that_obeyed_nosec_closes_the_gate(tmp_path: Path) -> None:
    """Variant: the same run written by bandit's SARIF formatter (driver "Bandit"): no results,
    the counts in `run.properties.metrics`. Was exit 0."""
    code, verdict, doc, said = _judge(tmp_path, str(SAMPLES / "bandit-1.9.4-nosec.sarif"))
    assert code == 10 and _rules(verdict) == {"GATE-SCAN-001"}, said
    assert doc is not None and doc["scans"][0]["hidden_suppressions"] == 3


def test_semgrep_json_cannot_show_what_nosemgrep_hid(tmp_path: Path) -> None:
    """Variant: `# nosemgrep` on the flaw; semgrep's JSON drops the result without a trace (even
    with --disable-nosem it marks nothing), so such a report cannot claim a complete scan. Was exit 0."""
    report = SAMPLES / "semgrep-1.187-nosemgrep.json"
    assert json.loads(report.read_text())["results"] == []
    code, verdict, doc, said = _judge(tmp_path, str(report))
    assert code == 10 and _rules(verdict) == {"GATE-SCAN-001"}, said
    assert doc is not None
    (scan,) = doc["scans"]
    assert scan["hidden_suppressions"] is None
    assert any("cannot show the results the tool left out under inline suppressions" in e for e in scan["errors"])


def test_semgrep_sarif_keeps_the_nosemgrep_result_marked_and_it_blocks(tmp_path: Path) -> None:
    """semgrep's SARIF of the same run keeps the result with an `inSource` suppression: the
    report hid nothing (complete), and the suppression is recorded, not obeyed."""
    code, verdict, doc, said = _judge(tmp_path, str(SAMPLES / "semgrep-1.187-nosemgrep.sarif"))
    assert code == 10, said
    assert doc is not None and doc["scans"][0]["complete"] is True and doc["scans"][0]["hidden_suppressions"] == 0
    (finding,) = doc["findings"]
    assert finding["suppressed"] is True and finding["kind"] == "sast"
    assert _rules(verdict) == {"GATE-SAST-001"}


@pytest.mark.slow
def test_the_semgrep_samples_are_what_semgrep_writes(tmp_path: Path) -> None:
    """The committed semgrep samples, re-made by the installed semgrep: its JSON has no trace of
    the `# nosemgrep` result (even with --disable-nosem it marks nothing), its SARIF keeps it marked."""
    require_tools("semgrep")
    semgrep = find_program("semgrep")
    assert semgrep is not None
    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    (project / "app" / "calc.py").write_text(NOSEMGREP_SOURCE, encoding="utf-8")
    rules = Path(__file__).resolve().parent.parent / "scanners" / "rules" / "code-injection.yaml"
    env = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}
    common = [semgrep, "scan", "--metrics", "off", "--disable-version-check", "--config", str(rules), "--no-rewrite-rule-ids", "--quiet"]
    out = {"json": tmp_path / "s.json", "sarif": tmp_path / "s.sarif", "nosem": tmp_path / "n.json"}
    subprocess.run(
        [*common, "--json-output", str(out["json"]), "--sarif-output", str(out["sarif"]), "."], cwd=project, env=env, timeout=300
    )
    subprocess.run([*common, "--disable-nosem", "--json-output", str(out["nosem"]), "."], cwd=project, env=env, timeout=300)
    assert read_report(str(out["json"])).result.hidden_suppressions is None
    assert json.loads(out["json"].read_text())["results"] == []
    kept = read_report(str(out["nosem"])).result
    assert len(kept.findings) == 1 and not kept.findings[0].suppressed and kept.hidden_suppressions is None
    (finding,) = read_report(str(out["sarif"])).result.findings
    assert finding.suppressed and finding.suppressions == ("inSource:accepted",)


@pytest.mark.parametrize("status", [None, "accepted"])
def test_sarif_in_source_suppression_is_recorded_not_obeyed(tmp_path: Path, status: str | None) -> None:
    """Variant: any SARIF result suppressed in source (status absent or accepted) still blocks;
    a result carrying it is in the report, so nothing was hidden."""
    suppression: dict[str, Any] = {"kind": "inSource", "justification": "trust me"}
    if status:
        suppression["status"] = status
    log = _sarif("CodeQL", [_result("py/command-line-injection", "error", suppressions=[suppression])])
    code, verdict, doc, said = _judge(tmp_path, str(write_json(tmp_path / "codeql.sarif", log)))
    assert code == 10 and _rules(verdict) == {"GATE-SAST-001"}, said
    assert doc is not None and doc["findings"][0]["suppressed"] is True and doc["scans"][0]["complete"] is True


def test_completeness_unit() -> None:
    report = read_report(str(SAMPLES / "bandit-1.9.4-nosec.sarif"))
    complete, errors = completeness(report.result, {})
    assert not complete and errors[-1].startswith("Bandit: the tool left 3 results out of the report")
    assert completeness(report.result, {"honour_inline_suppressions": True}) == (True, ())
    assert completeness(report.result, {"honour_inline_suppressions": "yes"})[0] is False  # only true honours


# --------------------------------------------------------------------------------------------
# 2. A finding is what its producer is


def _sarif(tool: str, results: list[dict[str, Any]], rules: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    driver: dict[str, Any] = {"name": tool}
    if rules is not None:
        driver["rules"] = rules
    return {"version": "2.1.0", "runs": [{"tool": {"driver": driver}, "invocations": [{"executionSuccessful": True}], "results": results}]}


def _result(rule: str, level: str, **extra: Any) -> dict[str, Any]:
    loc = {"physicalLocation": {"artifactLocation": {"uri": "app/views.py"}, "region": {"startLine": 12}}}
    return {"ruleId": rule, "level": level, "message": {"text": "user input reaches a shell"}, "locations": [loc], **extra}


RECLASSING = {
    # The three instances: a CVE tag, a purl property, a tool name that sounds like SCA.
    "CVE tag on a CodeQL result": _sarif(
        "CodeQL",
        [_result("py/command-line-injection", "error")],
        [{"id": "py/command-line-injection", "properties": {"tags": ["security", "CVE-2024-3094"]}}],
    ),
    "purl property on a CodeQL result": _sarif(
        "CodeQL", [_result("py/command-line-injection", "error", properties={"purl": "pkg:pypi/requests@2.0.0"})]
    ),
    "tool named pip-audit-ish": _sarif("pip-audit-ish", [_result("CVE-2024-3094", "error")]),
    "tool named Dependency Checker": _sarif("Dependency Checker", [_result("GHSA-jfh8-c2jp-5v3q", "error")]),
    # Variants: a licence tag on an unknown tool (license findings only warn), and a package
    # object property on a semgrep SARIF result.
    "license tag on an unknown tool": _sarif(
        "Acme Scanner", [_result("ACME-1", "error")], [{"id": "ACME-1", "properties": {"tags": ["license"]}}]
    ),
    "package property on semgrep": _sarif(
        "Semgrep OSS",
        [_result("python.lang.security.audit.subprocess-shell-true", "error", properties={"package": {"name": "flask", "version": "0.1"}})],
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(RECLASSING))
def test_a_sast_result_claiming_to_be_a_dependency_stays_sast_and_blocks(tmp_path: Path, case: str) -> None:
    """Attack: a SARIF result from a code scanner (or a tool the data does not list) carrying a
    CVE tag, a purl, or a driver name that sounds like a dependency scanner was re-classed as a
    dependency (or licence) finding: with no fixed version it only warned, exit 0."""
    report = write_json(tmp_path / "r.sarif", RECLASSING[case])
    code, verdict, doc, said = _judge(tmp_path, str(report))
    assert doc is not None
    (finding,) = doc["findings"]
    assert finding["kind"] == "sast" and finding["package"] is None
    assert code == 10 and _rules(verdict) == {"GATE-SAST-001"}, said


def test_a_tool_the_table_lists_may_still_report_its_kinds(tmp_path: Path) -> None:
    """Trivy writes dependency, IaC, secret and licence results: the result's own hint chooses
    among those; gitleaks' every result is a secret by the table, whatever its rule says."""
    trivy = _sarif("Trivy", [_result("CVE-2023-30861", "error", properties={"purl": "pkg:pypi/flask@2.2.2"})])
    gitleaks = _sarif("gitleaks", [_result("generic-api-key", "error")])
    _, _, doc, said = _judge(
        tmp_path, str(write_json(tmp_path / "trivy.sarif", trivy)), str(write_json(tmp_path / "gitleaks.sarif", gitleaks))
    )
    assert doc is not None, said
    kinds = {f["tool"]: (f["kind"], (f["package"] or {}).get("name")) for f in doc["findings"]}
    assert kinds == {"Trivy": ("dependency", "flask"), "gitleaks": ("secret", None)}


def test_producer_table_unit() -> None:
    table = Producers.from_data(_shipped_data())
    assert table.kind("CodeQL", "sarif", "dependency") == "sast"
    assert table.kind("Trivy", "sarif", "iac") == "iac"
    assert table.kind("Trivy", "sarif", "sast") == "dependency"  # not one of trivy's: its default
    assert table.kind("pip-audit", "sarif", "dependency") == "sast"  # pip-audit writes no SARIF
    assert table.kind("whatever", "cyclonedx", "dependency") == "dependency"  # the format's default
    assert table.kind("whatever", "a-new-format", "license") == FALLBACK_KIND == "sast"
    assert table.kinds("Pip-Audit", "pip-audit") == ("dependency",)  # names compare lower-cased
    empty = Producers.from_data({})
    assert empty.kind("CodeQL", "sarif", "license") == "sast"
    broken = Producers.from_data({"evidence": {"producers": {"x": {"sarif": ["nonsense"]}, "y": "sarif"}, "default_kinds": {"sarif": 3}}})
    assert broken.kind("x", "sarif", "other") == "sast" and broken.kind("y", "sarif", "other") == "sast"
    assert set(table.kinds("trivy", "sarif")) <= set(KINDS)


# --------------------------------------------------------------------------------------------
# 3. Required evidence is met only by reports whose tool writes that format


def test_empty_sarif_files_named_bandit_and_pip_audit_do_not_meet_staging(tmp_path: Path) -> None:
    """Attack: two empty SARIF files whose drivers say "Bandit" and "pip-audit" satisfied
    staging's required evidence (sast, dependency): exit 0. bandit does write SARIF (its `sarif`
    formatter, driver "Bandit"), pip-audit never does."""
    bandit = write_json(tmp_path / "bandit.sarif", _sarif("Bandit", []))
    audit = write_json(tmp_path / "pip-audit.sarif", _sarif("pip-audit", []))
    code, verdict, _, said = _judge(tmp_path, str(bandit), str(audit), "--stage", "staging")
    assert code == 10 and _rules(verdict) == {"GATE-SCAN-003"}, said
    (deny,) = verdict["violations"]
    assert "requires dependency evidence" in deny["msg"] and "(provided: sast)" in deny["msg"]
    assert any("pip-audit does not write sarif reports" in d for d in deny["evidence"]["details"])


@pytest.mark.slow
def test_cyclonedx_claiming_pip_audit_with_vulnerabilities_is_no_dependency_evidence(tmp_path: Path) -> None:
    """Variant: a CycloneDX document whose metadata names pip-audit, with a (low) vulnerability:
    pip-audit's own CycloneDX output names cyclonedx-python-lib, and its findings proved the kind."""
    bom = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {"tools": {"components": [{"type": "application", "name": "pip-audit", "version": "2.10.1"}]}},
        "components": [{"type": "library", "name": "jinja2", "version": "3.1.2", "purl": "pkg:pypi/jinja2@3.1.2", "bom-ref": "j"}],
        "vulnerabilities": [{"id": "CVE-2024-22195", "ratings": [{"severity": "low"}], "affects": [{"ref": "j"}]}],
    }
    sbom = write_json(tmp_path / "audit.cdx.json", bom)
    bandit = _bandit(tmp_path, "import os\n", "--ignore-nosec")
    code, verdict, doc, said = _judge(tmp_path, str(bandit), str(sbom), "--stage", "staging")
    assert doc is not None and [f["kind"] for f in doc["findings"]] == ["dependency"]
    assert code == 10 and _rules(verdict) == {"GATE-SCAN-003"}, said
    (deny,) = verdict["violations"]
    assert "requires dependency evidence" in deny["msg"] and "(provided: sast, sbom)" in deny["msg"]
    assert any("pip-audit does not write cyclonedx reports" in d for d in deny["evidence"]["details"])


def test_a_tool_name_that_merely_sounds_right_provides_nothing(tmp_path: Path) -> None:
    """Variant: "pip-audit-ish" and "Semgrep" (semgrep's SARIF says "Semgrep OSS") in SARIF."""
    fake = write_json(tmp_path / "a.sarif", _sarif("pip-audit-ish", []))
    semgrep = write_json(tmp_path / "b.sarif", _sarif("Semgrep", []))
    code, verdict, _, said = _judge(tmp_path, str(fake), str(semgrep), "--stage", "staging")
    assert code == 10, said
    assert {v["msg"].split(",")[0] for v in verdict["violations"]} == {
        "stage staging requires dependency evidence",
        "stage staging requires sast evidence",
    }


# --------------------------------------------------------------------------------------------
# 4. Out-of-spec values are input errors naming the JSON pointer


@pytest.mark.parametrize(
    ("mutate", "pointer"),
    [
        (lambda log: log["runs"][0]["invocations"][0].update(executionSuccessful="false"), "/runs/0/invocations/0/executionSuccessful"),
        (
            lambda log: log["runs"][0]["results"][0].update(properties={"security-severity": "10.5"}),
            "/runs/0/results/0/properties/security-severity",
        ),
        (lambda log: log["runs"][0]["results"][0].update(level="critical"), "/runs/0/results/0/level"),
        (
            lambda log: log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"].update(startLine=-4),
            "/runs/0/results/0/locations/0/physicalLocation/region/startLine",
        ),
    ],
)
def test_out_of_spec_sarif_values_are_input_errors(tmp_path: Path, mutate: Any, pointer: str) -> None:
    """Attack: `executionSuccessful: "false"` read as a complete scan; a security-severity of
    10.5 fell back to the level (a `note`: low, passes); an unknown level or a negative line
    was read as absent."""
    log = _sarif("CodeQL", [_result("py/command-line-injection", "note")])
    mutate(log)
    code, verdict, _, said = _judge(tmp_path, str(write_json(tmp_path / "r.sarif", log)))
    assert code == 3, said
    assert verdict["decision"] == "error" and pointer in verdict["error"]["message"]


@pytest.mark.slow
def test_out_of_spec_bandit_severity_is_an_input_error(tmp_path: Path) -> None:
    report = _bandit(tmp_path, NOSEC_SOURCE, "--ignore-nosec")
    doc = json.loads(report.read_text())
    doc["results"][0]["issue_severity"] = "CRITICAL"
    code, verdict, _, said = _judge(tmp_path, str(write_json(tmp_path / "b.json", doc)))
    assert code == 3 and "results[0].issue_severity is 'CRITICAL'" in verdict["error"]["message"], said
