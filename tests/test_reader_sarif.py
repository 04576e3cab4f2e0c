"""The SARIF 2.1.0 reader, on the shared corpus (real tools' logs) and on small samples
(tests/data/sarif) that each pin one part of the spec or of the contract."""

from __future__ import annotations

import copy
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, DATA, corpus_params, require_shared
from reader_support import assert_reads_in_linear_time

from gate.collect import load_document, read_report
from gate.errors import ExitCode, InputError
from gate.model import CONFIDENCES, KINDS, SEVERITIES, Finding, ReadResult
from scanners.sarif import NO_RULE_ID, SarifReader

SAMPLES = DATA / "sarif"
READER = SarifReader()
OTHER_KINDS = ("pass", "open", "review", "notApplicable", "informational")


def _doc(name: str) -> Any:
    return json.loads((SAMPLES / name).read_text(encoding="utf-8"))


def _read(doc: Any) -> ReadResult:
    return READER.read(doc, "log.sarif")


def _sample(name: str) -> ReadResult:
    return _read(_doc(name))


def _by_message(result: ReadResult) -> dict[str, Finding]:
    return {f.message: f for f in result.findings}


def _path(finding: Finding) -> str | None:
    assert finding.location is not None
    return finding.location.path


def _refused(doc: Any) -> InputError:
    with pytest.raises(InputError) as info:
        _read(doc)
    assert info.value.file == "log.sarif"
    assert info.value.exit_code == ExitCode.INPUT
    return info.value


def _minimal(**run: Any) -> dict[str, Any]:
    return {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "T"}}, **run}]}


# --------------------------------------------------------------------------------------------
# The shared corpus, end to end through gate.collect


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate key")
    return dict(pairs)


def _claims_sarif(raw: Any) -> bool:
    schema = raw.get("$schema") if isinstance(raw, dict) else None
    return isinstance(raw, dict) and ("runs" in raw or (isinstance(schema, str) and "sarif" in schema.lower()))


def _results_are_arrays(raw: dict[str, Any]) -> bool:
    runs = raw.get("runs")
    if runs is None:
        return True
    return isinstance(runs, list) and all(isinstance(r, dict) and isinstance(r.get("results"), (list, type(None))) for r in runs)


@pytest.mark.slow
@pytest.mark.shared
@pytest.mark.parametrize("path", corpus_params("sarif"))
def test_corpus_file_reads_as_its_document_says(path: Path | None) -> None:
    """Each corpus log is judged by its own content: what is not JSON, not SARIF, not 2.1.0 or
    not well-formed is refused (exit 3) saying why; every other log yields exactly one finding
    per result of kind `fail` (or no kind)."""
    if path is None:
        require_shared()
        return
    data = path.read_bytes()
    if not data:
        with pytest.raises(InputError, match="empty") as info:
            read_report(str(path))
        assert info.value.exit_code == ExitCode.INPUT
        return
    try:
        raw = json.loads(data.decode("utf-8-sig"), object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        with pytest.raises(InputError, match="invalid JSON") as info:
            read_report(str(path))
        assert info.value.position is not None
        assert (info.value.position.line, info.value.position.column) == (exc.lineno, exc.colno)
        return
    if not _claims_sarif(raw):
        assert not READER.detect(raw)
        with pytest.raises(InputError, match="unknown format"):
            read_report(str(path))
        return
    version = raw.get("version")
    if version != "2.1.0":
        with pytest.raises(InputError) as info:
            read_report(str(path))
        assert f"SARIF version {version} is not supported" in info.value.message
        assert "reads SARIF 2.1.0" in info.value.message
        assert info.value.exit_code == ExitCode.INPUT
        return
    if not _results_are_arrays(raw):
        with pytest.raises(InputError, match=r"runs\[\d+\]\.results must be an array") as info:
            read_report(str(path))
        assert info.value.exit_code == ExitCode.INPUT
        return

    report = read_report(str(path))
    result = report.result
    assert result.format == "sarif" and result.spec_version == "2.1.0"
    runs = raw.get("runs") or []
    results = [r for run in runs for r in (run.get("results") or [])]
    failing = [r for r in results if r.get("kind", "fail") == "fail"]
    assert len(result.findings) == len(failing)
    assert result.statistics["results"] == len(results)
    for kind in OTHER_KINDS:
        assert result.statistics.get(f"kind:{kind}", 0) == sum(1 for r in results if r.get("kind") == kind)
    drivers = [run["tool"]["driver"] for run in runs]
    assert set(result.tool.split(", ")) == ({d["name"] for d in drivers} or {"(no runs)"})
    if drivers:
        assert result.tool_version == (drivers[0].get("version") or drivers[0].get("semanticVersion"))
    failed = any(inv.get("executionSuccessful") is False for run in runs for inv in run.get("invocations") or [])
    assert result.complete is not failed
    indexes = [f.index for f in result.findings]
    assert indexes == sorted(set(indexes)) and all(0 <= i < len(results) for i in indexes)
    for finding in result.findings:
        item = results[finding.index]
        assert finding.severity in SEVERITIES and finding.kind in KINDS and finding.confidence in CONFIDENCES
        assert finding.tool in result.tool
        if isinstance(item.get("ruleId"), str):
            assert finding.rule_id == item["ruleId"]
        else:
            assert finding.rule_id
        message = item.get("message") or {}
        if isinstance(message.get("text"), str) and not message.get("arguments"):
            assert finding.message == message["text"]
        physical = [loc["physicalLocation"] for loc in item.get("locations") or [] if "physicalLocation" in loc]
        uri = physical[0].get("artifactLocation", {}).get("uri") if physical else None
        if uri is not None:
            assert finding.location is not None and finding.location.path == uri  # the URI, as text
        if not item.get("locations"):
            assert finding.location is None
        for cwe in finding.cwe:
            assert cwe.startswith("CWE-") and cwe[4:].isdigit() and not cwe[4:].startswith("0")


@pytest.mark.shared
def test_corpus_sarif_of_other_versions_is_refused_naming_both_versions() -> None:
    require_shared()
    seen = set()
    for path in sorted((CORPUS / "sarif").iterdir()):
        try:
            raw = json.loads(path.read_text(encoding="utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if isinstance(raw, dict) and "runs" in raw and raw.get("version") != "2.1.0":
            with pytest.raises(InputError) as info:
                read_report(str(path))
            assert str(info.value).startswith(f"{path}: SARIF version {raw['version']} is not supported; this gate reads SARIF 2.1.0")
            seen.add(raw["version"].split(".")[0])
    assert {"1", "2"} <= seen  # SARIF 1.0.0 and the 2.x drafts (2.0.0-csd, 2.2) are in the corpus


# --------------------------------------------------------------------------------------------
# detect()


@pytest.mark.parametrize(
    "doc",
    [
        {"version": "2.1.0", "runs": []},
        {"runs": []},
        {"version": "2.2", "runs": [{"tool": {"driver": {"name": "x"}}}]},
        {"$schema": "https://json.schemastore.org/sarif-2.1.0.json"},
        {"$schema": "http://json.schemastore.org/sarif-1.0.0", "version": "1.0.0"},
    ],
)
def test_detects_sarif_and_what_claims_to_be_sarif(doc: Any) -> None:
    assert READER.detect(doc)


@pytest.mark.parametrize(
    "doc",
    [
        {"tool": {"driver": {"name": "CodeScanner", "rules": []}}},  # a spec fragment: a run's tool
        {"ruleId": "X", "message": {"text": "a lone result"}},
        {"version": "2.1.0"},
        {"results": [], "errors": []},  # bandit / semgrep shape
        [{"runs": []}],
        "runs",
        None,
    ],
)
def test_does_not_detect_fragments_or_other_formats(doc: Any) -> None:
    assert not READER.detect(doc)


# --------------------------------------------------------------------------------------------
# Versions and structure


@pytest.mark.parametrize("version", ["2.2", "1.0.0", "2.0.0-csd.2.beta.2019-02-20", "2.1", "2.1.0-rtm.5", "3.0.0"])
def test_other_versions_are_refused_naming_theirs_and_ours(version: str) -> None:
    error = _refused({"version": version, "runs": []})
    assert error.message == f"SARIF version {version} is not supported; this gate reads SARIF 2.1.0"


def test_a_log_without_version_is_refused() -> None:
    error = _refused({"runs": []})
    assert "declares no version" in error.message and "2.1.0" in error.message


def test_a_number_as_version_is_refused() -> None:
    assert "SARIF version 2.1 is not supported" in _refused({"version": 2.1, "runs": []}).message


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.update(runs={"tool": {}}), "runs must be an array, not an object"),
        (lambda d: d["runs"].append(7), "runs[1] must be an object, not the number 7"),
        (lambda d: d["runs"][0].update(results=42), "runs[0].results must be an array, not the number 42"),
        (lambda d: d["runs"][0].update(results="none"), "runs[0].results must be an array, not a string"),
        (lambda d: d["runs"][0]["results"].append([]), "runs[0].results[1] must be an object (a SARIF result), not an array"),
        (lambda d: d["runs"][0].pop("tool"), "runs[0].tool is required"),
        (lambda d: d["runs"][0]["tool"].pop("driver"), "runs[0].tool.driver is required"),
        (lambda d: d["runs"][0]["tool"]["driver"].pop("name"), "runs[0].tool.driver.name must be a string"),
        (lambda d: d["runs"][0]["tool"]["driver"].update(rules={}), "runs[0].tool.driver.rules must be an array"),
        (lambda d: d["runs"][0]["tool"]["driver"].update(rules=[1]), "runs[0].tool.driver.rules[0] must be an object"),
        (lambda d: d["runs"][0]["results"][0].update(locations={}), "runs[0].results[0].locations must be an array"),
        (lambda d: d["runs"][0]["results"][0].update(locations=["x"]), "runs[0].results[0].locations[0] must be an object"),
        (lambda d: d["runs"][0]["results"][0].update(message="text"), "runs[0].results[0].message must be an object, not a string"),
        (lambda d: d["runs"][0]["results"][0].update(suppressions={}), "runs[0].results[0].suppressions must be an array"),
        (lambda d: d["runs"][0]["results"][0].update(suppressions=[None]), "runs[0].results[0].suppressions[0] must be an object"),
        (lambda d: d["runs"][0]["results"][0].update(properties=[]), "runs[0].results[0].properties must be an object"),
        (lambda d: d["runs"][0]["results"][0].update(partialFingerprints="x"), "runs[0].results[0].partialFingerprints must be an object"),
        (lambda d: d["runs"][0]["results"][0].update(kind="Fail"), 'runs[0].results[0].kind is "Fail", which is not a SARIF result kind'),
        (lambda d: d["runs"][0]["results"][0].update(rule="R1"), "runs[0].results[0].rule must be an object"),
        (lambda d: d["runs"][0].update(invocations=[True]), "runs[0].invocations[0] must be an object"),
    ],
)
def test_wrong_types_at_required_places_name_the_json_path(mutate: Any, expected: str) -> None:
    doc = _minimal(results=[{"ruleId": "R1", "message": {"text": "m"}}])
    mutate(doc)
    assert expected in _refused(doc).message


@pytest.mark.parametrize("results", [None, "absent", []])
def test_null_absent_or_empty_results_are_no_findings(results: Any) -> None:
    doc = _minimal() if results == "absent" else _minimal(results=results)
    result = _read(doc)
    assert result.findings == () and result.complete
    assert result.statistics["results"] == 0
    assert result.statistics.get("runs-without-results", 0) == (0 if results == [] else 1)


def test_zero_runs_is_a_valid_empty_log() -> None:
    result = _read({"version": "2.1.0", "runs": []})
    assert result.findings == () and result.tool == "(no runs)" and result.tool_version is None


# --------------------------------------------------------------------------------------------
# Levels, kinds and rules


def test_level_defaults_follow_the_spec() -> None:
    found = _by_message(_sample("levels-and-kinds.sarif"))
    expected = {
        "index only, no level anywhere: the spec default warning": ("NO-CONFIG", "medium"),
        "index only, the rule's default level": ("DEFAULT-ERROR", "high"),
        "rule default note": ("DEFAULT-NOTE", "low"),
        "rule default none": ("DEFAULT-NONE", "info"),
        "the result's own level wins": ("DEFAULT-NOTE", "high"),
        "an invocation override beats the default": ("OVERRIDDEN", "high"),
        "a run policy beats the default": ("BY-POLICY", "medium"),
        "a rule id with no descriptor": ("UNDECLARED", "medium"),
        "no rule at all": (NO_RULE_ID, "medium"),
        "an explicit fail": ("NO-CONFIG", "medium"),
    }
    for message, (rule_id, severity) in expected.items():
        assert (found[message].rule_id, found[message].severity) == (rule_id, severity), message


def test_ruleindex_only_results_take_id_and_metadata_from_the_rule() -> None:
    found = _by_message(_sample("levels-and-kinds.sarif"))
    first = found["index only, no level anywhere: the spec default warning"]
    assert first.rule_id == "NO-CONFIG" and first.rule_name == "No default configuration"


# --------------------------------------------------------------------------------------------
# Out-of-spec values (issue 13): an input error (exit 3) naming the JSON path and pointer, never
# "treated as absent" (a score of 10.5 fell back to the level, a string "false" read as success).

_LOC = {"physicalLocation": {"artifactLocation": {"uri": "app.py"}, "region": {"startLine": 3}}}


def _with_region(**region: Any) -> dict[str, Any]:
    loc = copy.deepcopy(_LOC)
    loc["physicalLocation"]["region"].update(region)
    return {"ruleId": "R1", "message": {"text": "m"}, "locations": [loc]}


@pytest.mark.parametrize(
    ("result", "pointer", "problem"),
    [
        ({"level": "catastrophic"}, "/runs/0/results/0/level", 'is "catastrophic", not a SARIF level (none, note, warning, error)'),
        ({"level": 3}, "/runs/0/results/0/level", "is 3, not a SARIF level"),
        ({"level": "Error"}, "/runs/0/results/0/level", 'is "Error", not a SARIF level'),
        ({"properties": {"security-severity": "10.5"}}, "/runs/0/results/0/properties/security-severity", 'is "10.5", not a score'),
        ({"properties": {"security-severity": 10.5}}, "/runs/0/results/0/properties/security-severity", "is 10.5, not a score"),
        ({"properties": {"security-severity": "-1"}}, "/runs/0/results/0/properties/security-severity", 'is "-1", not a score'),
        ({"properties": {"security-severity": "high"}}, "/runs/0/results/0/properties/security-severity", 'is "high", not a score'),
        ({"properties": {"security-severity": "NaN"}}, "/runs/0/results/0/properties/security-severity", 'is "NaN", not a score'),
        ({"properties": {"security-severity": ""}}, "/runs/0/results/0/properties/security-severity", 'is "", not a score'),
        ({"properties": {"security-severity": True}}, "/runs/0/results/0/properties/security-severity", "is true, not a score"),
        (_with_region(startLine=0), "/runs/0/results/0/locations/0/physicalLocation/region/startLine", "is 0; SARIF numbers lines"),
        (_with_region(startLine=-1), "/runs/0/results/0/locations/0/physicalLocation/region/startLine", "is -1;"),
        (_with_region(startLine="12"), "/runs/0/results/0/locations/0/physicalLocation/region/startLine", 'is "12";'),
        (_with_region(startLine=2.5), "/runs/0/results/0/locations/0/physicalLocation/region/startLine", "is 2.5;"),
        (_with_region(endLine=True), "/runs/0/results/0/locations/0/physicalLocation/region/endLine", "is true;"),
        (_with_region(startColumn=-1), "/runs/0/results/0/locations/0/physicalLocation/region/startColumn", "is -1;"),
        (_with_region(endColumn=0), "/runs/0/results/0/locations/0/physicalLocation/region/endColumn", "is 0;"),
    ],
)
def test_out_of_spec_result_values_are_input_errors_naming_the_pointer(result: dict[str, Any], pointer: str, problem: str) -> None:
    doc = _minimal(results=[{"ruleId": "R1", "message": {"text": "m"}, **result}])
    error = _refused(doc)
    assert error.exit_code == ExitCode.INPUT
    assert problem in error.message and f"(JSON pointer {pointer})" in error.message


@pytest.mark.parametrize("value", ["false", "true", 0, 1, None])
def test_execution_successful_must_be_a_boolean(value: Any) -> None:
    """Attack: `executionSuccessful: "false"` (a string) read as a complete scan."""
    doc = _minimal(results=[], invocations=[{"executionSuccessful": value}])
    if value is None:  # absent is the spec's business (required), not a claim of success or failure
        assert _read(doc).complete
        return
    error = _refused(doc)
    assert "runs[0].invocations[0].executionSuccessful must be a boolean (true or false)" in error.message
    assert "(JSON pointer /runs/0/invocations/0/executionSuccessful)" in error.message


def test_out_of_spec_rule_values_are_input_errors() -> None:
    doc = _minimal(results=[{"ruleId": "R1", "message": {"text": "m"}}])
    doc["runs"][0]["tool"]["driver"]["rules"] = [{"id": "R1", "properties": {"security-severity": "11"}}]
    assert "(JSON pointer /runs/0/tool/driver/rules/0/properties/security-severity)" in _refused(doc).message
    doc["runs"][0]["tool"]["driver"]["rules"] = [{"id": "R1", "defaultConfiguration": {"level": "critical"}}]
    assert "(JSON pointer /runs/0/tool/driver/rules/0/defaultConfiguration/level)" in _refused(doc).message
    doc["runs"][0]["tool"]["driver"]["rules"] = [{"id": "R1"}]
    doc["runs"][0]["invocations"] = [
        {"executionSuccessful": True, "ruleConfigurationOverrides": [{"descriptor": {"id": "R1"}, "configuration": {"level": "fatal"}}]}
    ]
    assert "(JSON pointer /runs/0/invocations/0/ruleConfigurationOverrides/0/configuration/level)" in _refused(doc).message


def test_snyk_null_string_security_severity_is_no_score() -> None:
    """Snyk Container writes "null" (a string) for a vulnerability without a score (corpus:
    snyk-container-1.1293.1.sarif): what the tool really writes reads as no score, the level decides."""
    doc = _minimal(results=[{"ruleId": "R1", "level": "error", "message": {"text": "m"}, "properties": {"security-severity": "null"}}])
    assert _read(doc).findings[0].severity == "high"


def test_only_fail_results_are_findings_other_kinds_are_counted() -> None:
    result = _sample("levels-and-kinds.sarif")
    assert len(result.findings) == 10
    assert result.statistics == {
        "runs": 1,
        "results": 16,
        "findings": 10,
        "kind:pass": 2,
        "kind:open": 1,
        "kind:review": 1,
        "kind:notApplicable": 1,
        "kind:informational": 1,
    }
    assert not {f.message for f in result.findings} & {"passed", "could not decide", "needs a human", "for information"}
    # `index` is the result's position in the log, so it still points at the right result.
    assert [f.index for f in result.findings] == list(range(10))


def test_rule_resolved_through_an_extension_by_rule_reference() -> None:
    result = _sample("multiple-runs-failed.sarif")
    sqli, xss = result.findings[0], result.findings[1]
    assert (sqli.rule_id, sqli.rule_name, sqli.severity, sqli.confidence) == ("zeta/sqli", "SQL injection", "high", "high")
    assert sqli.cwe == ("CWE-89",)
    assert sqli.help_uri == "https://zeta.example/rules/sqli" and sqli.description == "Building SQL from user input."
    # No ruleId: the id comes from the extension's rule that rule.index names.
    assert (xss.rule_id, xss.rule_name, xss.severity, xss.confidence) == ("zeta/xss", "Cross-site scripting", "medium", "medium")


def test_a_ruleid_is_preferred_over_a_contradicting_ruleindex() -> None:
    """anchore and gosec write wrong ruleIndex values: the id the result names wins."""
    doc = _minimal(results=[{"ruleId": "B", "ruleIndex": 0, "message": {"text": "m"}}])
    doc["runs"][0]["tool"]["driver"]["rules"] = [
        {"id": "A", "defaultConfiguration": {"level": "note"}},
        {"id": "B", "defaultConfiguration": {"level": "error"}},
    ]
    finding = _read(doc).findings[0]
    assert (finding.rule_id, finding.severity) == ("B", "high")


def test_a_hierarchical_rule_id_finds_its_parent_rule() -> None:
    doc = _minimal(results=[{"ruleId": "C2001/unused", "message": {"text": "m"}}])
    doc["runs"][0]["tool"]["driver"]["rules"] = [{"id": "C2001", "name": "Parent", "defaultConfiguration": {"level": "error"}}]
    finding = _read(doc).findings[0]
    assert (finding.rule_id, finding.rule_name, finding.severity) == ("C2001/unused", "Parent", "high")


@pytest.mark.parametrize(
    "result",
    [
        {"ruleId": "R9", "ruleIndex": 5, "message": {"text": "m"}},
        {"ruleIndex": 5, "message": {"text": "m"}},
        {"rule": {"id": "R9", "index": 0, "toolComponent": {"index": 3}}, "message": {"text": "m"}},
    ],
)
def test_broken_rule_references_keep_the_finding_and_are_counted(result: dict[str, Any]) -> None:
    """Decision: a reference past the end of its array does not refuse the log (real trivy and
    anchore logs have them); the finding keeps what the result says and the statistics say it."""
    doc = _minimal(results=[result])
    doc["runs"][0]["tool"]["driver"]["rules"] = [{"id": "R0", "defaultConfiguration": {"level": "error"}}]
    read = _read(doc)
    assert len(read.findings) == 1
    finding = read.findings[0]
    assert finding.rule_id == ("R9" if "R9" in json.dumps(result) else NO_RULE_ID)
    assert finding.severity == "medium"  # not the level of a rule it does not name
    assert read.statistics["unresolved:rule"] == 1


# --------------------------------------------------------------------------------------------
# security-severity


@pytest.mark.parametrize(
    ("rule_id", "severity"),
    [
        ("S-0", "info"),
        ("S-0.1", "low"),
        ("S-3.99", "low"),
        ("S-4.0", "medium"),
        ("S-6.99", "medium"),
        ("S-7.0", "high"),
        ("S-8.95", "high"),
        ("S-9.0", "critical"),
        ("S-10.0", "critical"),
        ("S-number-9.5", "critical"),
    ],
)
def test_security_severity_bands_are_half_open_and_beat_the_level(rule_id: str, severity: str) -> None:
    """The result levels in the sample contradict the scores on purpose: the score wins."""
    result = _sample("security-severity.sarif")
    first = next(f for f in result.findings if f.rule_id == rule_id)
    assert first.severity == severity


def test_a_result_security_severity_beats_the_rule_one() -> None:
    found = _by_message(_sample("security-severity.sarif"))
    assert found["the result's own score wins"].severity == "critical"  # 9.8 on a rule scored 0.1


# --------------------------------------------------------------------------------------------
# Suppressions


def test_suppressed_only_when_a_suppression_is_accepted_or_has_no_status() -> None:
    found = _by_message(_sample("suppressions.sarif"))
    expected = {
        "no suppressions property": (False, ()),
        "empty suppressions": (False, ()),
        "in source, no status": (True, ("inSource:accepted",)),
        "accepted": (True, ("external:accepted: Accepted by the security team (SEC-12)",)),
        "under review": (False, ("external:underReview",)),
        "rejected": (False, ("inSource:rejected: not a false positive",)),
        "one accepted among rejected": (True, ("external:rejected", "external:accepted")),
        "under review and rejected": (False, ("external:underReview", "external:rejected")),
    }
    for message, (suppressed, suppressions) in expected.items():
        assert (found[message].suppressed, found[message].suppressions) == (suppressed, suppressions), message
    assert _sample("suppressions.sarif").statistics["suppressed"] == 3


# --------------------------------------------------------------------------------------------
# CWE


def test_cwes_from_taxonomies_tags_properties_and_result_taxa() -> None:
    found = _by_message(_sample("taxonomies-cwe.sarif"))
    assert found["CWE by relationship id"].cwe == ("CWE-79",)
    assert found["CWE by relationship index into the taxonomy"].cwe == ("CWE-89",)
    assert found["a NIST control is not a CWE"].cwe == ()
    assert found["CWEs from tags"].cwe == ("CWE-22", "CWE-79", "CWE-89")  # leading zeros dropped
    assert found["CWEs from a property"].cwe == ("CWE-327", "CWE-798")
    assert found["CWEs from result.taxa"].cwe == ("CWE-22", "CWE-1333")
    assert found["taxa that point nowhere add nothing"].cwe == ("CWE-79",)


# --------------------------------------------------------------------------------------------
# Messages


def test_messages_from_text_message_strings_and_arguments() -> None:
    found = [f.message for f in _sample("messages.sarif").findings]
    assert found == [
        'Variable "count" was used without being initialized in main.c.',
        "Use { and } around x; {2} has no argument.",
        "Shared text about the driver.",
        "**eval** is unsafe",
        "Text with an argument placeholder",
        "Only *markdown*",
        "",  # a message id that names nothing: kept, without text
        "",  # no message at all: kept
    ]


def test_attack_placeholders_cannot_blow_a_small_file_up_into_gigabytes_of_messages() -> None:
    """Attack (found by the parallel-reading review, issue 20): a message string of 20,000 `{0}`s
    filled with one 15 KB argument, 60 KB of file per result, asked for 300 MB of text per
    message, enough for a few results to exhaust a runner's memory. Filling now adds at most
    MAX_FILL characters to a message and cuts it there."""
    from scanners.sarif.reading import MAX_FILL

    template = "{0}" * 20_000
    arg = "A" * 15_000
    results = [{"ruleId": "R", "message": {"text": template, "arguments": [arg]}, "level": "error"} for _ in range(3)]
    started = time.perf_counter()
    found = _read(_minimal(results=results)).findings
    assert time.perf_counter() - started < 5
    assert len(found) == 3
    for f in found:
        assert len(f.message) == len(template) + MAX_FILL + 1 and f.message.endswith("…")
        assert f.message.startswith(arg * 4)
    # Below the bound nothing changes: every placeholder filled, literal braces kept.
    small = _read(_minimal(results=[{"ruleId": "R", "message": {"text": "{0}-{{x}}-{1}-{5}", "arguments": ["a", "b"]}}]))
    assert small.findings[0].message == "a-{x}-b-{5}"


def test_attack_a_rules_long_message_string_named_by_every_result_is_refused() -> None:
    """Attack (review of issue 20's change): a result naming a rule's 1 MB message string by id
    is 40 bytes of log, and every finding, the input document and the verdict carried the whole
    text again: 10^4 such results asked for 10 GB. The text of one log's findings is bounded
    (MAX_TEXT characters): past it the log is refused, naming the result."""
    from scanners.sarif.reading import MAX_TEXT

    size = 1 << 20
    rule = {"id": "R", "messageStrings": {"m": {"text": "x" * size}}}
    count = MAX_TEXT // size + 2
    doc = _minimal(results=[{"ruleId": "R", "ruleIndex": 0, "message": {"id": "m"}} for _ in range(count)])
    doc["runs"][0]["tool"]["driver"]["rules"] = [rule]
    err = _refused(doc)
    assert f"runs[0].results[{MAX_TEXT // size - 1}]" in err.message or f"runs[0].results[{MAX_TEXT // size}]" in err.message
    assert f"over {MAX_TEXT:,} characters" in err.message


def test_a_placeholder_with_thousands_of_digits_is_text_not_a_crash() -> None:
    """`{` and 5,000 digits: int() refuses literals over 4,300 digits (exit 6 before); it is no
    placeholder SARIF could fill (no result has that many arguments) and stays as written."""
    digits = "9" * 5000
    got = _read(_minimal(results=[{"ruleId": "R", "message": {"text": "{0} {" + digits + "}", "arguments": ["a"]}}]))
    assert got.findings[0].message == "a {" + digits + "}"


# --------------------------------------------------------------------------------------------
# Runs, tools, completeness


def test_findings_from_every_run_with_each_runs_tool() -> None:
    result = _sample("multiple-runs-failed.sarif")
    assert [(f.tool, f.tool_version, f.rule_id) for f in result.findings] == [
        ("Zeta Analyzer", "3.1.4", "zeta/sqli"),
        ("Zeta Analyzer", "3.1.4", "zeta/xss"),
        ("Alpha Linter", "1.2", "A001"),
    ]
    assert result.tool == "Alpha Linter, Zeta Analyzer"
    assert result.tool_version == "3.1.4"  # the first run's


def test_execution_failure_makes_the_scan_incomplete_with_the_tools_errors() -> None:
    result = _sample("multiple-runs-failed.sarif")
    assert result.complete is False
    assert result.errors == (
        "Zeta Analyzer: the tool reported executionSuccessful: false (runs[0].invocations[0]), exit code 2",
        "Zeta Analyzer: Out of memory while analysing src/big.py",
        "Alpha Linter: Could not parse src/broken.py",
    )
    # Warnings, notes and notifications without a level (the default is warning) are no errors.
    assert not any("Skipped" in e or "default" in e for e in result.errors)


def test_error_notifications_alone_do_not_make_a_scan_incomplete() -> None:
    doc = _doc("multiple-runs-failed.sarif")
    doc["runs"][0]["invocations"][0]["executionSuccessful"] = True
    result = _read(doc)
    assert result.complete is True
    assert result.errors == ("Zeta Analyzer: Out of memory while analysing src/big.py", "Alpha Linter: Could not parse src/broken.py")


def test_fingerprints_are_preferred_to_partial_ones_and_sorted() -> None:
    sqli, xss, lint = _sample("multiple-runs-failed.sarif").findings
    assert sqli.fingerprint_hint == "primaryLocationLineHash=39fa2ee980eb94b0:1;primaryLocationStartColumnFingerprint=4"
    assert xss.fingerprint_hint == "zeta/v1=feedface"
    assert lint.fingerprint_hint is None
    assert sqli.snippet == 'cur.execute("SELECT * FROM t WHERE id=" + request.args["id"])'


# --------------------------------------------------------------------------------------------
# Locations: text, never files


_OPENED: list[str] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _OPENED is not None and event == "open":
        _OPENED.append(str(args[0]))


sys.addaudithook(_audit)


@contextmanager
def _recording_opens() -> Iterator[list[str]]:
    global _OPENED
    _OPENED = []
    try:
        yield _OPENED
    finally:
        _OPENED = None


def test_uris_are_kept_as_text_and_never_opened() -> None:
    doc = _doc("locations.sarif")
    with _recording_opens() as opened:
        result = _read(doc)
    assert opened == []
    found = _by_message(result)
    assert _path(found["path traversal"]) == "../../../../etc/passwd"
    assert _path(found["absolute file URI"]) == "file:///etc/shadow"
    assert _path(found["absolute path with a base id"]) == "/var/lib/app/config.yml"
    assert _path(found["not a valid URI"]) == "not a valid URI"
    assert _path(found["by artifact index"]) == "../outside/secrets.env"


def test_regions_read_lines_and_columns() -> None:
    result = _sample("locations.sarif")
    found = _by_message(result)
    loc = found["absolute file URI"].location
    assert loc is not None and (loc.start_line, loc.end_line, loc.start_column, loc.end_column) == (2, 4, 1, 9)
    huge = found["huge line numbers"].location
    assert huge is not None and huge.start_line == 123456789012345678901234567890
    assert huge.end_line == 123456789012345678901234567891
    single = found["path traversal"].location
    assert single is not None and single.end_line == single.start_line == 1  # endLine defaults to startLine


def test_logical_only_missing_and_unresolvable_locations() -> None:
    result = _sample("locations.sarif")
    found = _by_message(result)
    logical = found["logical location only"].location
    assert logical is not None and logical.path is None
    assert _path(found["logical first, physical second"]) == "src/c.py"
    assert found["no locations"].location is None
    broken = found["artifact index past the end"].location
    assert broken is not None and broken.path is None and broken.start_line == 6
    assert result.statistics["unresolved:artifact"] == 1
    assert len(result.findings) == 10


# --------------------------------------------------------------------------------------------
# Kinds, vulnerabilities and packages


def test_kind_hint_is_derived_from_tags_names_and_ids_never_the_tool_name() -> None:
    """The reader's `kind` is the result's own hint; the gate decides the kind from the producer
    table (tests/test_report_claims.py): gitleaks and KICS are secret and iac by the table, not
    because their names sound like it."""
    result = _sample("kinds-and-packages.sarif")
    kinds = {(f.tool, f.rule_id): f.kind for f in result.findings if f.index != 8}
    assert kinds == {
        ("Multi Scanner", "CVE-2023-30861"): "dependency",
        ("Multi Scanner", "GHSA-m2qf-hxjv-5gpq"): "dependency",
        ("Multi Scanner", "dep-by-package-object"): "dependency",
        ("Multi Scanner", "mit-in-gpl-project"): "license",
        ("Multi Scanner", "aws-access-key-id"): "secret",
        ("Multi Scanner", "AVD-AWS-0086"): "iac",
        # "Security Misconfiguration" is an OWASP category, not an IaC tag.
        ("Multi Scanner", "python.lang.security.audit.eval-detected"): "sast",
        ("Multi Scanner", "generic.secrets.security.detected-private-key"): "secret",
        ("gitleaks", "generic-api-key"): "other",
        ("KICS", "a227ec01-f97a-4084-91a4-47b350c1db54"): "other",
    }


def test_vulnerability_ids_and_packages_from_properties_and_key_lines() -> None:
    findings = _sample("kinds-and-packages.sarif").findings
    flask, werkzeug, babel = findings[0], findings[1], findings[2]
    assert flask.cve == ("CVE-2023-30861",) and flask.aliases == ()
    assert flask.package is not None
    assert (flask.package.name, flask.package.version, flask.package.fixed_versions) == ("flask", "2.2.2", ("2.2.5", "2.3.2"))
    assert flask.severity == "high"
    assert werkzeug.cve == ("CVE-2023-25577",) and werkzeug.aliases == ("GHSA-m2qf-hxjv-5gpq",)
    assert werkzeug.package is not None
    assert (werkzeug.package.name, werkzeug.package.version, werkzeug.package.purl, werkzeug.package.fixed_versions) == (
        "werkzeug",
        "2.2.2",
        "pkg:pypi/werkzeug@2.2.2",
        ("2.2.3",),
    )
    assert babel.package is not None and (babel.package.name, babel.package.version) == ("@babel/traverse", "7.22.0")


def test_result_properties_can_make_a_finding_a_dependency_one() -> None:
    finding = _sample("kinds-and-packages.sarif").findings[8]
    assert finding.kind == "dependency" and finding.cve == ("CVE-2024-22195",)
    assert finding.package is not None and (finding.package.name, finding.package.version) == ("jinja2", "3.1.2")
    assert finding.cwe == ("CWE-95",) and finding.confidence == "high"  # the rule's facts are kept


def test_hostile_rule_text_is_read_in_bounded_time() -> None:
    """Descriptions of dependency rules are searched for vulnerability ids: text built to make a
    backtracking pattern explode must not stall the gate."""
    hostile = "SNYK-" + "1-" * 100_000 + "x " + "GHSA-" * 50_000 + "CVE-" + "1" * 100_000 + "x"
    doc = _minimal(results=[{"ruleId": "CVE-2024-0001", "message": {"text": "Package: a\nVersion: " + "9" * 10_000}}])
    doc["runs"][0]["tool"]["driver"]["rules"] = [{"id": "CVE-2024-0001", "fullDescription": {"text": hostile}}]
    started = time.perf_counter()
    finding = _read(doc).findings[0]
    assert time.perf_counter() - started < 2.0
    assert finding.cve == ("CVE-2024-0001",) and finding.package is not None and finding.package.name == "a"


def test_code_rules_carry_no_package() -> None:
    for finding in _sample("multiple-runs-failed.sarif").findings:
        assert finding.kind in ("sast", "other") and finding.package is None and finding.cve == ()


def test_code_quality_results_without_security_signal_are_other() -> None:
    """A lint rule (no CWE, no security-severity, no security tag, not a security tool) is code
    quality, not SAST: a security gate must not block on style."""
    doc = _minimal(results=[{"ruleId": "no-unused-vars", "level": "error", "message": {"text": "x is unused"}}])
    doc["runs"][0]["tool"]["driver"]["name"] = "ESLint"
    assert _read(doc).findings[0].kind == "other"
    doc["runs"][0]["tool"]["driver"]["rules"] = [{"id": "no-unused-vars", "properties": {"tags": ["security"]}}]
    assert _read(doc).findings[0].kind == "sast"
    doc["runs"][0]["tool"]["driver"]["rules"] = [{"id": "no-unused-vars", "properties": {"security-severity": "7.5"}}]
    assert _read(doc).findings[0].kind == "sast"
    # A security tool's name is no signal here: the producer table makes gosec's findings sast.
    doc["runs"][0]["tool"]["driver"] = {"name": "gosec", "rules": [{"id": "G101"}]}
    doc["runs"][0]["results"][0]["ruleId"] = "G101"
    assert _read(doc).findings[0].kind == "other"


# --------------------------------------------------------------------------------------------
# Through gate.collect: the same reader, from bytes


def test_read_report_detects_sarif_and_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_bytes(b"\xef\xbb\xbf" + (SAMPLES / "suppressions.sarif").read_bytes())  # a BOM is accepted
    report = read_report(str(path))
    assert report.result.format == "sarif" and len(report.result.findings) == 8
    doc, media, _ = load_document(str(path))
    assert media == "json" and READER.detect(doc)


def test_read_report_refuses_sarif_2_2_with_exit_code_3(tmp_path: Path) -> None:
    path = tmp_path / "new.sarif"
    path.write_text(json.dumps({"version": "2.2", "runs": []}), encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_report(str(path))
    assert info.value.exit_code == ExitCode.INPUT
    assert str(info.value).startswith(f"{path}: SARIF version 2.2 is not supported; this gate reads SARIF 2.1.0")


# --------------------------------------------------------------------------------------------
# Scale


def _big_log(n: int) -> dict[str, Any]:
    rules = [
        {"id": f"R{i}", "name": f"rule {i}", "properties": {"tags": ["security", f"external/cwe/cwe-{i + 1:03d}"], "precision": "high"}}
        for i in range(200)
    ]
    template = _minimal()["runs"][0]
    run = copy.deepcopy(template)
    run["tool"]["driver"]["rules"] = rules
    run["results"] = [
        {
            "ruleId": f"R{i % 200}",
            "ruleIndex": i % 200,
            "level": ("error", "warning", "note")[i % 3],
            "message": {"text": f"problem {i}"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": f"src/m{i % 500}.py"}, "region": {"startLine": i % 4000 + 1}}}],
            "partialFingerprints": {"primaryLocationLineHash": f"{i:016x}:1"},
        }
        for i in range(n)
    ]
    return {"version": "2.1.0", "runs": [run]}


@pytest.mark.slow
def test_a_hundred_thousand_results_read_in_linear_time() -> None:
    """Well under a second for 100k results on a quiet machine; the bounds leave room for a busy CI."""
    result = assert_reads_in_linear_time(_read, _big_log)
    assert result.findings[-1].cwe == ("CWE-200",)
