"""The bandit reader, on real bandit 1.9.4 output (tests/data/bandit) and the shared corpus."""

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

SAMPLES = DATA / "bandit"
NOSEC_ERRORS = SAMPLES / "bandit-1.9.4-nosec-errors.json"
IGNORE_NOSEC = SAMPLES / "bandit-1.9.4-ignore-nosec.json"
SAMPLE_FOR_SCALE = IGNORE_NOSEC
READER = BanditReader()
HARNESS = ReaderHarness(READER, "report.json")
_read, _shape_error = HARNESS.read, HARNESS.shape_error


# --------------------------------------------------------------------------------------------
# The shared corpus, end to end through gate.collect


@pytest.mark.shared
@pytest.mark.parametrize("path", corpus_params("bandit"))
def test_corpus_file_reads_as_its_document_says(path: Path | None) -> None:
    if path is None:
        require_shared()
        return
    raw = corpus_document(path)  # None: not a document at all (the truncated report), refused at line:column
    if raw is None:
        return
    report = read_report(str(path))
    result = report.result
    assert result.format == "bandit"
    assert len(result.findings) == len(raw["results"])
    assert [f.index for f in result.findings] == list(range(len(raw["results"])))
    assert [f.rule_id for f in result.findings] == [r["test_id"] for r in raw["results"]]
    errors = raw.get("errors") or []
    assert result.complete is (not errors)
    assert list(result.errors) == [f"{e['filename']}: {e['reason']}" for e in errors]
    for finding, item in zip(result.findings, raw["results"], strict=True):
        assert finding.location is not None
        assert finding.location.path == item["filename"]
        assert finding.location.start_line == item["line_number"]
        scale = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low"}
        assert finding.severity == scale.get(item.get("issue_severity"), "unknown")
        assert finding.confidence == scale.get(item.get("issue_confidence"), "unknown")


@pytest.mark.shared
def test_corpus_report_before_issue_cwe_has_no_cwe_and_no_docs_version() -> None:
    """bandit reports from before 1.7.1 carry no `issue_cwe`; their links say /latest/."""
    require_shared()
    for path in sorted((CORPUS / "bandit").glob("*.json")):
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            continue
        if any("issue_cwe" in r for r in raw["results"]):
            continue
        result = _read(raw)
        assert result.findings and all(f.cwe == () for f in result.findings)
        if all("/latest/" in r.get("more_info", "/latest/") for r in raw["results"]):
            assert result.tool_version is None
        return
    pytest.fail("the corpus holds no bandit report without issue_cwe")


# --------------------------------------------------------------------------------------------
# Mapping, on the real samples


def test_every_result_is_a_finding_with_bandits_own_fields() -> None:
    raw = _doc(NOSEC_ERRORS)
    result = _read(raw)
    assert result.tool == "bandit" and result.format == "bandit"
    assert len(result.findings) == len(raw["results"]) == 8
    b602 = _by_line(result)[("B602", 9)]
    assert b602.rule_name == "subprocess_popen_with_shell_equals_true"
    assert b602.message == "subprocess call with shell=True identified, security issue."
    assert b602.help_uri == "https://bandit.readthedocs.io/en/1.9.4/plugins/b602_subprocess_popen_with_shell_equals_true.html"
    assert b602.package is None and b602.cve == ()


@pytest.mark.parametrize(
    ("rule", "line", "severity", "confidence"),
    [("B602", 9, "high", "high"), ("B608", 26, "medium", "medium"), ("B404", 2, "low", "high"), ("B105", 5, "low", "medium")],
)
def test_severity_and_confidence_follow_bandits_scale(rule: str, line: int, severity: str, confidence: str) -> None:
    finding = _by_line(_read(_doc(NOSEC_ERRORS)))[(rule, line)]
    assert (finding.severity, finding.confidence) == (severity, confidence)


@pytest.mark.parametrize(("value", "expected"), [("UNDEFINED", "unknown"), (None, "unknown"), ("high", "high")])
def test_undefined_severity_is_unknown_and_kept(value: str | None, expected: str) -> None:
    raw = _doc(NOSEC_ERRORS)
    for item in raw["results"]:
        item["issue_severity"] = value
        item["issue_confidence"] = value
    result = _read(raw)
    assert len(result.findings) == 8
    assert {f.severity for f in result.findings} == {expected}
    assert {f.confidence for f in result.findings} == {expected}


def test_cwe_from_issue_cwe_and_absent_in_old_reports() -> None:
    raw = _doc(NOSEC_ERRORS)
    found = _by_line(_read(raw))
    assert found[("B602", 9)].cwe == ("CWE-78",)
    assert found[("B301", 21)].cwe == ("CWE-502",)
    del raw["results"][0]["issue_cwe"]  # the shape before bandit 1.7.1
    raw["results"][1]["issue_cwe"] = {}  # what bandit writes for a test without a CWE
    result = _read(raw)
    assert result.findings[0].cwe == () and result.findings[1].cwe == ()


def test_location_spans_line_range_and_columns_become_one_based() -> None:
    found = _by_line(_read(_doc(NOSEC_ERRORS)))
    b107 = found[("B107", 30)]  # line_range [30, 31], col_offset 0, end_col_offset 27
    assert b107.location is not None
    assert (b107.location.path, b107.location.start_line, b107.location.end_line) == ("app/views.py", 30, 31)
    assert (b107.location.start_column, b107.location.end_column) == (1, 28)
    b602 = found[("B602", 9)]  # col_offset 11, end_col_offset 43: `subprocess.call(...)` after "    return "
    assert b602.location is not None
    assert (b602.location.start_column, b602.location.end_column) == (12, 44)


def test_snippet_is_the_flagged_lines_without_bandits_line_numbers() -> None:
    found = _by_line(_read(_doc(NOSEC_ERRORS)))
    assert found[("B602", 9)].snippet == "    return subprocess.call(cmd, shell=True)"
    assert found[("B107", 30)].snippet == 'def connect(user, password="secret123"):\n    return (user, password)'
    assert found[("B608", 26)].snippet == "        \"SELECT * FROM users WHERE name = '%s'\" % name"


def test_snippet_does_not_change_when_a_neighbouring_line_does() -> None:
    raw = _doc(NOSEC_ERRORS)
    before = _read(raw).findings[3]
    item = raw["results"][3]
    assert item["line_number"] == 9
    item["code"] = item["code"].replace("8 def run(cmd):", "8 def run(command_line):")
    assert _read(raw).findings[3].snippet == before.snippet


def test_hard_coded_password_tests_are_secrets_the_rest_sast() -> None:
    result = _read(_doc(NOSEC_ERRORS))
    kinds = {f.rule_id: f.kind for f in result.findings}
    assert kinds["B105"] == kinds["B107"] == "secret"
    assert {k for r, k in kinds.items() if r not in ("B105", "B106", "B107")} == {"sast"}


def test_tool_version_from_the_docs_links() -> None:
    result = _read(_doc(NOSEC_ERRORS))
    assert result.tool_version == "1.9.4"
    assert {f.tool_version for f in result.findings} == {"1.9.4"}
    raw = _doc(NOSEC_ERRORS)
    raw["results"][0]["more_info"] = "https://bandit.readthedocs.io/en/1.8.6/blacklists/blacklist_imports.html"
    assert _read(raw).tool_version is None  # links disagree: no guess


# --------------------------------------------------------------------------------------------
# Inline suppressions


def test_default_run_drops_nosec_results_and_only_counts_them() -> None:
    raw = _doc(NOSEC_ERRORS)
    result = _read(raw)
    assert result.statistics == {"nosec": 1, "skipped_tests": 1}
    assert result.hidden_suppressions == 2  # the policy's evidence that the scan hid results
    lines = {f.location.start_line for f in result.findings if f.location}
    assert 13 not in lines and 35 not in lines  # `# nosec B602` and bare `# nosec`
    assert not any(f.suppressed for f in result.findings)


def test_counts_written_as_floats_are_read_and_nonsense_is_ignored() -> None:
    raw = _doc(NOSEC_ERRORS)
    raw["metrics"]["_totals"]["nosec"] = 2.0  # bandit 1.6 wrote floats
    raw["metrics"]["_totals"]["skipped_tests"] = float("inf")  # what 1e999 parses to
    assert _read(raw).statistics == {"nosec": 2}


def test_ignore_nosec_run_marks_the_covered_findings_suppressed() -> None:
    result = _read(_doc(IGNORE_NOSEC))
    found = _by_line(result)
    assert len(result.findings) == 10
    assert found[("B602", 13)].suppressed and found[("B602", 13)].suppressions == ("inSource",)  # nosec B602
    assert found[("B602", 35)].suppressed  # bare nosec
    assert not found[("B602", 9)].suppressed
    assert sum(f.suppressed for f in result.findings) == 2
    assert result.statistics == {"nosec": 0, "skipped_tests": 0}
    assert result.hidden_suppressions == 0  # kept and marked: nothing hidden


def test_hidden_count_from_the_files_when_totals_say_less() -> None:
    """A `_totals` edited down to 0 does not argue away a file's own count; nonsense counts as none."""
    raw = _doc(NOSEC_ERRORS)
    raw["metrics"]["_totals"].update(nosec=0, skipped_tests=0)
    raw["metrics"]["app/x.py"] = {"nosec": 3, "skipped_tests": "many"}
    assert _read(raw).hidden_suppressions == 5  # app/views.py's 1 + 1, and app/x.py's 3
    raw["metrics"] = {"_totals": {"nosec": float("inf"), "skipped_tests": -2}}
    assert _read(raw).hidden_suppressions == 0
    del raw["metrics"]
    assert _read(raw).hidden_suppressions == 0


def test_nosec_for_another_test_does_not_suppress() -> None:
    raw = _doc(IGNORE_NOSEC)
    item = next(r for r in raw["results"] if r["line_number"] == 13)
    item["code"] = item["code"].replace("# nosec B602", "# nosec B101")
    finding = _read(raw).findings[raw["results"].index(item)]
    assert finding.rule_id == "B602" and not finding.suppressed
    item["code"] = item["code"].replace("# nosec B101", "# nosec: B101, subprocess_popen_with_shell_equals_true")
    assert _read(raw).findings[raw["results"].index(item)].suppressed


# --------------------------------------------------------------------------------------------
# Incomplete scans


def test_errors_make_the_scan_incomplete_with_bandits_text() -> None:
    result = _read(_doc(NOSEC_ERRORS))
    assert result.complete is False
    assert result.errors == ("app/broken.py: syntax error while parsing AST from file",)
    clean = _read(_doc(IGNORE_NOSEC))
    assert clean.complete is True and clean.errors == ()


def test_a_half_filled_error_entry_still_makes_the_scan_incomplete() -> None:
    raw = _doc(IGNORE_NOSEC)
    raw["errors"] = [{"filename": "app/x.py"}, "exception while scanning file"]
    result = _read(raw)
    assert result.complete is False
    assert result.errors == ("app/x.py: (no reason given)", "exception while scanning file")


# --------------------------------------------------------------------------------------------
# Invalid shapes


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.__setitem__("results", {"0": {}}), "results must be an array, not an object"),
        (lambda d: d.pop("results"), "results is missing"),
        (lambda d: d["results"].__setitem__(1, "B602"), "results[1] must be an object, not a string"),
        (lambda d: d["results"][3].pop("test_id"), "results[3].test_id is missing"),
        (lambda d: d["results"][2].__setitem__("test_id", 602), "results[2].test_id must be a string, not a number"),
        (lambda d: d["results"][0].__setitem__("line_number", "2"), "results[0].line_number must be an integer, not a string"),
        (lambda d: d["results"][4].pop("filename"), "results[4].filename is missing"),
        (lambda d: d["results"][5].__setitem__("line_range", 21), "results[5].line_range must be an array, not a number"),
        (lambda d: d["results"][5].__setitem__("issue_cwe", 502), "results[5].issue_cwe must be an object, not a number"),
        (lambda d: d["results"][0].__setitem__("issue_severity", ["HIGH"]), "results[0].issue_severity must be a string, not an array"),
        (lambda d: d.__setitem__("errors", "app/broken.py"), "errors must be an array, not a string"),
        # Out-of-spec values (issue 13): bandit writes only its own words and lines from 1.
        (
            lambda d: d["results"][2].__setitem__("issue_severity", "CATASTROPHIC"),
            "results[2].issue_severity is 'CATASTROPHIC', which is not one of bandit's values (HIGH, MEDIUM, LOW, UNDEFINED)",
        ),
        (lambda d: d["results"][1].__setitem__("issue_confidence", "SURE"), "results[1].issue_confidence is 'SURE', which is not"),
        (lambda d: d["results"][0].__setitem__("line_number", 0), "results[0].line_number is 0; bandit numbers lines from 1"),
        (lambda d: d["results"][0].__setitem__("line_number", -3), "results[0].line_number is -3"),
    ],
)
def test_invalid_shape_is_an_input_error_naming_the_json_path(mutate: Any, expected: str) -> None:
    raw = _doc(NOSEC_ERRORS)
    mutate(raw)
    assert expected in _shape_error(raw).message


def test_a_semgrep_report_forced_as_bandit_is_refused_not_empty() -> None:
    with pytest.raises(InputError, match=r"results\[0\]\.test_id is missing"):
        read_report(str(DATA / "semgrep" / "semgrep-1.185-clean.json"), as_format="bandit")


def test_a_document_that_is_not_an_object_is_refused() -> None:
    assert "must be an object, not an array" in _shape_error([]).message


# --------------------------------------------------------------------------------------------
# Detection


@pytest.fixture(scope="module")
def json_documents() -> list[tuple[str, Any]]:
    """Every JSON document among the samples and the corpus, with the folder it lies in."""
    return json_documents_of_samples_and_corpus()


@pytest.mark.slow
def test_detects_bandit_reports_and_nothing_else(json_documents: list[tuple[str, Any]]) -> None:
    docs = json_documents
    assert any(folder == "bandit" for folder, _ in docs)
    for folder, doc in docs:
        assert READER.detect(doc) is (folder == "bandit"), folder


def test_empty_report_of_a_clean_run_is_detected() -> None:
    raw = _doc(IGNORE_NOSEC)
    raw["results"] = []
    assert READER.detect(raw)
    result = _read(raw)
    assert result.findings == () and result.complete


def test_read_report_detects_and_reads_a_sample() -> None:
    report = read_report(str(NOSEC_ERRORS))
    assert report.result.format == "bandit" and len(report.result.findings) == 8 and not report.result.complete


# --------------------------------------------------------------------------------------------
# Scale


@pytest.mark.slow
def test_a_hundred_thousand_results_read_in_linear_time() -> None:
    """About a second for 100k results on a quiet machine; the bounds leave room for a busy CI."""
    assert_reads_in_linear_time(_read, lambda n: repeated_results(SAMPLE_FOR_SCALE, n))
