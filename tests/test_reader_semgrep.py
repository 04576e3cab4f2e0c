"""The semgrep reader, on real semgrep 1.185 output (tests/data/semgrep) and the shared corpus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, DATA, corpus_params, require_shared
from reader_support import ReaderHarness, assert_reads_in_linear_time, corpus_document, repeated_results
from reader_support import by_line as _by_line
from reader_support import doc as _doc
from reader_support import json_documents as json_documents_of_samples_and_corpus

from gate.collect import read_report
from gate.errors import InputError
from scanners.bandit import BanditReader
from scanners.pip_audit import PipAuditReader
from scanners.semgrep import SemgrepReader

SAMPLES = DATA / "semgrep"
SYNTAX_ERROR = SAMPLES / "semgrep-1.185-syntax-error.json"
CLEAN = SAMPLES / "semgrep-1.185-clean.json"
RULE_ERROR = SAMPLES / "semgrep-1.185-rule-error.json"
SAMPLE_FOR_SCALE = CLEAN
READER = SemgrepReader()
HARNESS = ReaderHarness(READER, "semgrep.json")
_read, _shape_error = HARNESS.read, HARNESS.shape_error


# --------------------------------------------------------------------------------------------
# The shared corpus, end to end through gate.collect


@pytest.mark.shared
@pytest.mark.parametrize("path", corpus_params("semgrep"))
def test_corpus_file_reads_as_its_document_says(path: Path | None) -> None:
    if path is None:
        require_shared()
        return
    raw = corpus_document(path)  # None: not one document (the 2020 stream of concatenated results), refused at line:column
    if raw is None:
        return
    result = read_report(str(path)).result
    assert result.format == "semgrep"
    assert len(result.findings) == len(raw["results"])
    assert [f.rule_id for f in result.findings] == [r["check_id"] for r in raw["results"]]
    assert result.tool_version == raw.get("version")
    errors = raw.get("errors") or []
    assert result.complete is (not errors)
    assert len(result.errors) == len(errors)
    for text_, error in zip(result.errors, errors, strict=True):
        assert text_.startswith(f"{error['level']}: ")
        assert error["message"] in text_
        if "path" in error:
            assert f": {error['path']}: " in text_
    for finding, item in zip(result.findings, raw["results"], strict=True):
        assert finding.location is not None
        assert (finding.location.path, finding.location.start_line) == (item["path"], item["start"]["line"])
        assert finding.message == item["extra"]["message"]


@pytest.mark.shared
def test_corpus_report_with_code_and_fingerprints_keeps_them() -> None:
    """Older semgrep releases wrote the code and fingerprint; they feed the gate's fingerprint."""
    require_shared()
    for path in sorted((CORPUS / "semgrep").glob("*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            continue
        items = raw["results"]
        if not items or items[0]["extra"].get("lines") in (None, "requires login"):
            continue
        result = _read(raw)
        for finding, item in zip(result.findings, items, strict=True):
            assert finding.snippet == item["extra"]["lines"]
            assert finding.fingerprint_hint == item["extra"].get("fingerprint")
            assert finding.suppressed is bool(item["extra"].get("is_ignored"))
        return
    pytest.fail("the corpus holds no semgrep report with code lines")


# --------------------------------------------------------------------------------------------
# Mapping, on the real samples


def test_every_result_is_a_finding() -> None:
    raw = _doc(CLEAN)
    result = _read(raw)
    assert result.tool == "semgrep" and result.tool_version == "1.185.0"
    assert len(result.findings) == len(raw["results"]) == 5
    assert [f.index for f in result.findings] == list(range(5))
    first = result.findings[0]
    assert first.rule_id == "subprocess-shell-true"
    assert first.message == "subprocess called with shell=True; pass an argument list instead"
    assert first.help_uri == "https://docs.python.org/3/library/subprocess.html#security-considerations"
    assert {f.tool_version for f in result.findings} == {"1.185.0"}


@pytest.mark.parametrize(
    ("rule", "line", "severity", "confidence"),
    [
        ("subprocess-shell-true", 9, "high", "high"),  # ERROR, HIGH
        ("insecure-hash-md5", 17, "medium", "low"),  # WARNING, LOW
        ("hardcoded-password-default", 30, "low", "low"),  # INFO, LOW
    ],
)
def test_severity_and_confidence(rule: str, line: int, severity: str, confidence: str) -> None:
    finding = _by_line(_read(_doc(CLEAN)))[(rule, line)]
    assert (finding.severity, finding.confidence) == (severity, confidence)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("CRITICAL", "critical"),
        ("HIGH", "high"),
        ("MEDIUM", "medium"),
        ("LOW", "low"),
        ("INVENTORY", "info"),
        ("EXPERIMENT", "info"),
        ("warning", "medium"),
        ("SEVERE", "unknown"),
        (None, "unknown"),
    ],
)
def test_newer_and_unknown_severities(value: str | None, expected: str) -> None:
    raw = _doc(CLEAN)
    for item in raw["results"]:
        if value is None:
            del item["extra"]["severity"]
        else:
            item["extra"]["severity"] = value
    result = _read(raw)
    assert len(result.findings) == 5
    assert {f.severity for f in result.findings} == {expected}


def test_missing_metadata_gives_unknown_confidence_and_no_cwe() -> None:
    raw = _doc(CLEAN)
    del raw["results"][0]["extra"]["metadata"]
    raw["results"][1]["extra"]["metadata"] = {}
    result = _read(raw)
    for finding in result.findings[:2]:
        assert (finding.confidence, finding.cwe, finding.kind, finding.help_uri) == ("unknown", (), "sast", None)


def test_cwe_from_a_list_or_a_single_string() -> None:
    found = _by_line(_read(_doc(CLEAN)))
    assert found[("subprocess-shell-true", 9)].cwe == ("CWE-78",)  # ["CWE-78: Improper ..."]
    assert found[("insecure-hash-md5", 17)].cwe == ("CWE-328",)  # "CWE-328: Use of Weak Hash"
    assert found[("hardcoded-password-default", 30)].cwe == ("CWE-798",)
    raw = _doc(CLEAN)
    raw["results"][0]["extra"]["metadata"]["cwe"] = ["CWE-89: SQL Injection", "cwe-89", "CWE-564: Hibernate"]
    assert _read(raw).findings[0].cwe == ("CWE-89", "CWE-564")


def test_location_with_lines_and_columns() -> None:
    finding = _by_line(_read(_doc(CLEAN)))[("hardcoded-password-default", 30)]
    assert finding.location is not None
    loc = finding.location
    assert (loc.path, loc.start_line, loc.end_line, loc.start_column, loc.end_column) == ("app/views.py", 30, 31, 1, 28)


def test_requires_login_is_no_snippet_and_no_fingerprint() -> None:
    raw = _doc(CLEAN)
    assert {r["extra"]["lines"] for r in raw["results"]} == {"requires login"}
    result = _read(raw)
    assert all(f.snippet is None and f.fingerprint_hint is None for f in result.findings)
    raw["results"][0]["extra"]["lines"] = "    return subprocess.call(cmd, shell=True)"
    raw["results"][0]["extra"]["fingerprint"] = "ab12_0"
    first = _read(raw).findings[0]
    assert (first.snippet, first.fingerprint_hint) == ("    return subprocess.call(cmd, shell=True)", "ab12_0")


def test_secrets_rules_are_secrets_the_rest_sast() -> None:
    kinds = {(f.rule_id, f.kind) for f in _read(_doc(CLEAN)).findings}
    assert kinds == {("subprocess-shell-true", "sast"), ("insecure-hash-md5", "sast"), ("hardcoded-password-default", "secret")}


# --------------------------------------------------------------------------------------------
# Inline suppressions


def test_current_semgrep_leaves_nosemgrep_results_out_of_its_json() -> None:
    result = _read(_doc(CLEAN))
    lines = {f.location.start_line for f in result.findings if f.location}
    assert 21 not in lines  # `pickle.loads(blob)  # nosemgrep`
    assert not any(f.suppressed for f in result.findings)


def test_is_ignored_marks_the_finding_suppressed() -> None:
    raw = _doc(CLEAN)
    raw["results"][2]["extra"]["is_ignored"] = True
    raw["results"][3]["extra"]["is_ignored"] = False
    result = _read(raw)
    assert len(result.findings) == 5
    assert result.findings[2].suppressed and result.findings[2].suppressions == ("inSource",)
    assert not result.findings[3].suppressed and result.findings[3].suppressions == ()
    assert result.hidden_suppressions == 0  # the report shows it kept what # nosemgrep covers


def test_a_report_that_kept_no_suppressed_result_cannot_say_what_it_hid() -> None:
    """semgrep's JSON drops `# nosemgrep` results without a trace (issue 13): None, not 0."""
    assert _read(_doc(CLEAN)).hidden_suppressions is None


# --------------------------------------------------------------------------------------------
# Incomplete scans


def test_a_warn_level_syntax_error_makes_the_scan_incomplete() -> None:
    raw = _doc(SYNTAX_ERROR)
    result = _read(raw)
    assert len(result.findings) == 5
    assert result.complete is False
    assert len(result.errors) == 1
    assert result.errors[0].startswith("warn: PartialParsing: app/broken.py: Syntax error at line app/broken.py:2:")
    assert result.statistics == {"errors.warn": 1}


def test_a_rule_error_with_no_results_is_incomplete_not_clean() -> None:
    result = _read(_doc(RULE_ERROR))
    assert result.findings == ()
    assert result.complete is False
    assert result.errors == (
        "error: Rule parse error: bad-regex: Rule parse error in rule bad-regex:\n"
        " invalid regex 'subprocess((': missing closing parenthesis at position 12",
    )
    assert result.statistics == {"errors.error": 1}


def test_a_clean_run_is_complete() -> None:
    result = _read(_doc(CLEAN))
    assert result.complete is True and result.errors == () and result.statistics == {}


# --------------------------------------------------------------------------------------------
# Invalid shapes


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.__setitem__("results", "none"), "results must be an array, not a string"),
        (lambda d: d.pop("results"), "results is missing"),
        (lambda d: d["results"].__setitem__(1, ["subprocess-shell-true"]), "results[1] must be an object, not an array"),
        (lambda d: d["results"][3].pop("check_id"), "results[3].check_id is missing"),
        (lambda d: d["results"][0].__setitem__("check_id", None), "results[0].check_id must be a string, not null"),
        (lambda d: d["results"][2].pop("path"), "results[2].path is missing"),
        (lambda d: d["results"][2]["start"].__setitem__("line", "17"), "results[2].start.line must be an integer, not a string"),
        (lambda d: d["results"][4].__setitem__("end", 31), "results[4].end must be an object, not a number"),
        (lambda d: d["results"][2]["start"].__setitem__("line", 0), "results[2].start.line is 0; semgrep numbers lines from 1"),
        (lambda d: d["results"][1].pop("extra"), "results[1].extra is missing"),
        (lambda d: d["results"][1]["extra"].pop("message"), "results[1].extra.message is missing"),
        (lambda d: d["results"][1]["extra"].__setitem__("metadata", []), "results[1].extra.metadata must be an object, not an array"),
        (
            lambda d: d["results"][0]["extra"].__setitem__("is_ignored", "yes"),
            "results[0].extra.is_ignored must be a boolean, not a string",
        ),
        (lambda d: d.__setitem__("errors", {"level": "error"}), "errors must be an array, not an object"),
        (lambda d: d.__setitem__("errors", [3]), "errors[0] must be an object, not a number"),
    ],
)
def test_invalid_shape_is_an_input_error_naming_the_json_path(mutate: Any, expected: str) -> None:
    raw = _doc(CLEAN)
    mutate(raw)
    assert expected in _shape_error(raw).message


def test_a_bandit_report_forced_as_semgrep_is_refused_not_empty() -> None:
    with pytest.raises(InputError, match=r"results\[0\]\.check_id is missing"):
        read_report(str(DATA / "bandit" / "bandit-1.9.4-ignore-nosec.json"), as_format="semgrep")


# --------------------------------------------------------------------------------------------
# Detection


@pytest.fixture(scope="module")
def json_documents() -> list[tuple[str, Any]]:
    """Every JSON document among the samples and the corpus, with the folder it lies in."""
    return json_documents_of_samples_and_corpus()


@pytest.mark.slow
def test_detects_semgrep_reports_and_nothing_else(json_documents: list[tuple[str, Any]]) -> None:
    docs = json_documents
    assert any(folder == "semgrep" for folder, _ in docs)
    for folder, doc in docs:
        assert READER.detect(doc) is (folder == "semgrep"), folder


@pytest.mark.slow
def test_detection_is_mutually_exclusive_with_bandit_and_pip_audit(json_documents: list[tuple[str, Any]]) -> None:
    readers = (READER, BanditReader(), PipAuditReader())
    for _folder, doc in json_documents:
        assert sum(r.detect(doc) for r in readers) <= 1


def test_a_report_with_no_results_is_detected_by_its_errors_and_paths() -> None:
    assert READER.detect(_doc(RULE_ERROR))
    assert not READER.detect({"results": []})  # nothing says it is semgrep's


def test_read_report_detects_and_reads_a_sample() -> None:
    report = read_report(str(SYNTAX_ERROR))
    assert report.result.format == "semgrep" and len(report.result.findings) == 5 and not report.result.complete


# --------------------------------------------------------------------------------------------
# Scale


@pytest.mark.slow
def test_a_hundred_thousand_results_read_in_linear_time() -> None:
    """About a second for 100k results on a quiet machine; the bounds leave room for a busy CI."""
    assert_reads_in_linear_time(_read, lambda n: repeated_results(SAMPLE_FOR_SCALE, n))
