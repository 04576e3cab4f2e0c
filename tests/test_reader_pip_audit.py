"""The pip-audit reader, on samples written by pip-audit 2.10's own JSON formatter (tests/data/pip_audit)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import DATA
from reader_support import ReaderHarness, assert_reads_in_linear_time
from reader_support import doc as _doc
from reader_support import json_documents as json_documents_of_samples_and_corpus

from gate.collect import read_report
from gate.errors import InputError
from gate.model import Finding, ReadResult
from scanners.pip_audit import PipAuditReader

SAMPLES = DATA / "pip_audit"
VULNS = SAMPLES / "pip-audit-2.10-vulns.json"
SKIPPED = SAMPLES / "pip-audit-2.10-skipped.json"
BARE = SAMPLES / "pip-audit-2.10-no-desc-no-aliases.json"
CLEAN = SAMPLES / "pip-audit-2.10-clean.json"
LEGACY = SAMPLES / "pip-audit-1.x-legacy-array.json"
READER = PipAuditReader()
HARNESS = ReaderHarness(READER, "audit.json")
_read, _shape_error = HARNESS.read, HARNESS.shape_error


def _by_id(result: ReadResult) -> dict[str, Finding]:
    return {f.rule_id: f for f in result.findings}


def _vuln_count(doc: Any) -> int:
    deps = doc["dependencies"] if isinstance(doc, dict) else doc
    return sum(len(d.get("vulns", [])) for d in deps)


# --------------------------------------------------------------------------------------------
# Every sample, end to end through gate.collect


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_every_sample_reads_as_its_document_says(path: Path) -> None:
    raw = _doc(path)
    result = read_report(str(path)).result
    deps = raw["dependencies"] if isinstance(raw, dict) else raw
    assert result.format == "pip-audit" and result.tool == "pip-audit" and result.tool_version is None
    assert len(result.findings) == _vuln_count(raw)
    assert [f.index for f in result.findings] == list(range(len(result.findings)))
    skipped = [d for d in deps if "skip_reason" in d]
    assert result.complete is (not skipped)
    assert list(result.errors) == [f"{d['name']}: {d['skip_reason']}" for d in skipped]
    assert [c.name for c in result.components] == [d["name"] for d in deps]


# --------------------------------------------------------------------------------------------
# Mapping


def test_each_vulnerability_is_a_dependency_finding() -> None:
    result = _read(_doc(VULNS))
    assert [f.rule_id for f in result.findings] == ["PYSEC-2019-179", "PYSEC-2018-66", "GHSA-h5c8-rqwp-cp95"]
    flask = _by_id(result)["PYSEC-2019-179"]
    assert flask.tool == "pip-audit" and flask.kind == "dependency"
    assert flask.severity == "unknown"  # pip-audit rates nothing; the finding is kept
    assert flask.location is None
    assert flask.package is not None
    assert (flask.package.name, flask.package.version, flask.package.purl) == ("flask", "0.5", "pkg:pypi/flask@0.5")
    assert flask.package.fixed_versions == ("1.0",)
    assert flask.cve == ("CVE-2019-1010083",)
    assert flask.aliases == ("CVE-2019-1010083", "GHSA-5wv5-4vpf-pj6m")
    assert flask.message.startswith("The Pallets Project Flask before 1.0 is affected by")
    assert flask.description == flask.message
    jinja = _by_id(result)["GHSA-h5c8-rqwp-cp95"]
    assert jinja.package is not None and jinja.package.purl == "pkg:pypi/jinja2@3.1.2"
    assert jinja.cve == ("CVE-2024-22195",)


def test_without_descriptions_and_aliases_the_message_names_package_and_id() -> None:
    result = _read(_doc(BARE))
    flask = _by_id(result)["PYSEC-2019-179"]
    assert flask.message == "flask 0.5 is affected by PYSEC-2019-179"
    assert flask.description is None
    assert (flask.cve, flask.aliases) == ((), ())


def test_a_cve_id_is_a_cve_and_names_are_normalised_in_the_purl() -> None:
    raw = _doc(BARE)
    raw["dependencies"][0]["name"] = "Foo_Bar.Baz"
    raw["dependencies"][0]["version"] = "1.0+local"
    raw["dependencies"][0]["vulns"][0]["id"] = "CVE-2024-0001"
    result = _read(raw)
    first = result.findings[0]
    assert first.cve == ("CVE-2024-0001",)
    assert first.package is not None
    assert first.package.name == "Foo_Bar.Baz"  # as the report gives it
    assert first.package.purl == "pkg:pypi/foo-bar-baz@1.0%2Blocal"
    assert result.components[0].purl == first.package.purl


def test_every_dependency_is_a_library_component() -> None:
    result = _read(_doc(VULNS))
    assert [(c.name, c.version, c.purl, c.type) for c in result.components] == [
        ("flask", "0.5", "pkg:pypi/flask@0.5", "library"),
        ("jinja2", "3.1.2", "pkg:pypi/jinja2@3.1.2", "library"),
        ("requests", "2.32.3", "pkg:pypi/requests@2.32.3", "library"),
    ]


def test_a_clean_audit_has_components_and_no_findings() -> None:
    result = _read(_doc(CLEAN))
    assert result.findings == () and result.complete is True
    assert [c.purl for c in result.components] == ["pkg:pypi/requests@2.32.3"]


# --------------------------------------------------------------------------------------------
# Incomplete audits


def test_a_skipped_dependency_makes_the_audit_incomplete() -> None:
    result = _read(_doc(SKIPPED))
    assert result.complete is False
    assert result.errors == (
        "my-local-pkg: Dependency not found on PyPI and could not be audited: my-local-pkg (0.1.0)",
        "gate-demo: distribution marked as editable",
    )
    assert len(result.findings) == 3  # the audited dependencies still report their vulnerabilities
    skipped = [c for c in result.components if c.name in ("my-local-pkg", "gate-demo")]
    assert [(c.version, c.purl) for c in skipped] == [(None, "pkg:pypi/my-local-pkg"), (None, "pkg:pypi/gate-demo")]


def test_a_fix_that_could_not_be_applied_is_counted_not_an_error() -> None:
    raw = _doc(SKIPPED)
    raw["dependencies"] = [d for d in raw["dependencies"] if "skip_reason" not in d]
    result = _read(raw)
    assert result.complete is True and result.errors == ()
    assert result.statistics["fixes"] == 2 and result.statistics["fixes_skipped"] == 1


def test_the_legacy_array_shape_reads_like_the_current_one() -> None:
    legacy = _read(_doc(LEGACY))
    current = _read(_doc(VULNS))
    assert [(f.rule_id, f.package) for f in legacy.findings] == [(f.rule_id, f.package) for f in current.findings]
    assert legacy.findings[0].message == current.findings[0].message
    assert legacy.findings[0].aliases == ()  # pip-audit 1.x wrote no aliases
    assert legacy.complete is False
    assert legacy.errors == ("azure-devops: Dependency not found on PyPI and could not be audited: azure-devops (0.17.0)",)


# --------------------------------------------------------------------------------------------
# Invalid shapes


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d.__setitem__("dependencies", {"flask": {}}), "dependencies must be an array, not an object"),
        (lambda d: d.pop("dependencies"), "dependencies is missing"),
        (lambda d: d["dependencies"].__setitem__(1, "jinja2"), "dependencies[1] must be an object, not a string"),
        (lambda d: d["dependencies"][2].pop("name"), "dependencies[2].name is missing"),
        (lambda d: d["dependencies"][1].pop("version"), "dependencies[1].version is missing"),
        (lambda d: d["dependencies"][1].__setitem__("version", 3.1), "dependencies[1].version must be a string, not a number"),
        (lambda d: d["dependencies"][2].pop("vulns"), "dependencies[2].vulns is missing"),
        (lambda d: d["dependencies"][0].__setitem__("vulns", "PYSEC-2019-179"), "dependencies[0].vulns must be an array, not a string"),
        (lambda d: d["dependencies"][0]["vulns"][1].pop("id"), "dependencies[0].vulns[1].id is missing"),
        (
            lambda d: d["dependencies"][0]["vulns"][0].__setitem__("fix_versions", "1.0"),
            "dependencies[0].vulns[0].fix_versions must be an array, not a string",
        ),
        (
            lambda d: d["dependencies"][0]["vulns"][0].__setitem__("aliases", [7]),
            "dependencies[0].vulns[0].aliases[0] must be a string, not a number",
        ),
        (lambda d: d.__setitem__("fixes", {}), "fixes must be an array, not an object"),
    ],
)
def test_invalid_shape_is_an_input_error_naming_the_json_path(mutate: Any, expected: str) -> None:
    raw = _doc(VULNS)
    mutate(raw)
    assert expected in _shape_error(raw).message


def test_invalid_legacy_array_names_its_index() -> None:
    raw = _doc(LEGACY)
    del raw[1]["name"]
    assert "[1].name is missing" in _shape_error(raw).message
    assert "must be an object or an array, not a string" in _shape_error("flask").message


def test_a_bandit_report_forced_as_pip_audit_is_refused_not_empty() -> None:
    with pytest.raises(InputError, match="dependencies is missing"):
        read_report(str(DATA / "bandit" / "bandit-1.9.4-ignore-nosec.json"), as_format="pip-audit")


# --------------------------------------------------------------------------------------------
# Detection


@pytest.fixture(scope="module")
def json_documents() -> list[tuple[str, Any]]:
    """Every JSON document among the samples and the corpus, with the folder it lies in."""
    return json_documents_of_samples_and_corpus()


@pytest.mark.slow
def test_detects_pip_audit_reports_and_nothing_else(json_documents: list[tuple[str, Any]]) -> None:
    """CycloneDX and SPDX documents (in the corpus) have `dependencies` too, and are not taken."""
    docs = json_documents
    assert any(folder == "pip_audit" for folder, _ in docs)
    for folder, doc in docs:
        assert READER.detect(doc) is (folder == "pip_audit"), folder


def test_an_empty_audit_is_detected_by_its_fixes_an_empty_array_is_not() -> None:
    assert READER.detect({"dependencies": [], "fixes": []})
    assert not READER.detect({"dependencies": []})
    assert not READER.detect([])
    assert not READER.detect({"bomFormat": "CycloneDX", "dependencies": [{"name": "x", "vulns": []}]})


# --------------------------------------------------------------------------------------------
# Scale


def _many_vulnerabilities(vulnerabilities: int) -> Any:
    raw = _doc(VULNS)
    two = raw["dependencies"][0]["vulns"]
    raw["dependencies"] = [{"name": f"pkg-{i}", "version": "1.0", "vulns": list(two)} for i in range(vulnerabilities // 2)]
    return raw


@pytest.mark.slow
def test_a_hundred_thousand_vulnerabilities_read_in_linear_time() -> None:
    """About a second for 100k vulnerabilities on a quiet machine; the bounds leave room for a busy CI."""
    result = assert_reads_in_linear_time(_read, _many_vulnerabilities, "vulnerabilities")
    assert len(result.components) == 50_000
