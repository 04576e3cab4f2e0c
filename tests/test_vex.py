"""VEX: statements mark the vulnerability findings they speak about; suppressing states stop them blocking.

Unit tests of gate.pipeline.apply_vex (matching by vulnerability id and alias, product purl with
and without version, the latest statement winning), then end to end: a real pip-audit-formatted
report with a CycloneDX VEX and an OpenVEX document, through the shipped policies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gate.model import VexStatement
from gate.pipeline import apply_vex
from tests.governance_support import GOV, dependency, evaluate

VEX = GOV / "vex"


def _jinja(**over: Any) -> dict[str, Any]:
    return dependency("f" * 32, "Jinja2", "3.1.2", "GHSA-h5c8-rqwp-cp95", ("CVE-2024-22195",), **over)


def st(vuln: str, state: str = "not_affected", products: tuple[str, ...] = ("pkg:pypi/jinja2@3.1.2",), **kw: Any) -> VexStatement:
    return VexStatement(vulnerability=vuln, state=state, products=products, source="vex.json", **kw)


def test_a_statement_marks_the_finding_and_is_reported_as_evidence() -> None:
    f = _jinja()
    applied = apply_vex([f], [st("CVE-2024-22195", justification="code_not_reachable", detail="xmlattr is never called")])
    assert f["vex"] == {
        "state": "not_affected",
        "justification": "code_not_reachable",
        "detail": "xmlattr is never called",
        "response": [],
        "source": "vex.json",
    }
    assert applied == [{"finding": f["id"], "vulnerability": "CVE-2024-22195", "products": ["pkg:pypi/jinja2@3.1.2"], **f["vex"]}]


@pytest.mark.parametrize(
    "vuln",
    ["CVE-2024-22195", "GHSA-h5c8-rqwp-cp95", "cve-2024-22195", "ghsa-H5C8-rqwp-cp95"],
    ids=["cve", "advisory-id", "lower-case", "mixed-case"],
)
def test_the_vulnerability_matches_rule_id_cve_or_alias_without_regard_to_case(vuln: str) -> None:
    f = _jinja()
    assert apply_vex([f], [st(vuln)])
    assert f["vex"]["state"] == "not_affected"


def test_a_statement_matches_through_its_own_aliases() -> None:
    f = _jinja()
    apply_vex([f], [st("PYSEC-2099-1", aliases=("CVE-2024-22195",))])
    assert f["vex"] is not None


@pytest.mark.parametrize(
    ("product", "matches"),
    [
        ("pkg:pypi/jinja2@3.1.2", True),
        ("pkg:pypi/jinja2", False),  # no version names no version (issue 14: purl AND version)
        ("pkg:PyPI/Jinja_2@3.1.2", False),  # PEP 503: jinja-2 is another project
        ("pkg:pypi/jin%6Aa2@3.1.2", True),  # percent-encoding: compared canonical
        ("pkg:pypi/Jinja2@3.1.2", True),  # pypi names are case-insensitive
        ("pkg:pypi/jinja2@3.1.2?extension=tar.gz", False),  # a qualifier the finding does not have
        ("pkg:pypi/jinja2@3.1.3", False),  # another version
        ("pkg:pypi/markupsafe@3.1.2", False),
        ("pkg:npm/jinja2@3.1.2", False),
        ("product-ABC", False),  # an unresolved bom-ref names nothing the gate knows
    ],
)
def test_product_matching_by_purl(product: str, matches: bool) -> None:
    f = _jinja()
    apply_vex([f], [st("CVE-2024-22195", products=(product,))])
    assert (f["vex"] is not None) is matches


def test_a_finding_purl_with_qualifiers_matches_a_plain_product() -> None:
    f = _jinja()
    f["package"]["purl"] = "pkg:pypi/jinja2@3.1.2?extension=whl"
    apply_vex([f], [st("CVE-2024-22195", products=("pkg:pypi/jinja2@3.1.2",))])
    assert f["vex"] is not None


def test_a_statement_without_products_covers_nothing() -> None:
    """It used to speak of "the whole subject", covering every finding of that vulnerability."""
    f = _jinja()
    other = dependency("e" * 32, "requests", "2.31.0", "GHSA-9wx4-h78v-vm56", ("CVE-2024-35195",))
    assert apply_vex([f, other], [st("CVE-2024-22195", products=())]) == []
    assert f["vex"] is None and other["vex"] is None


def test_other_vulnerabilities_and_code_findings_are_untouched() -> None:
    f = _jinja()
    other = dependency("e" * 32, "requests", "2.31.0", "GHSA-9wx4-h78v-vm56", ("CVE-2024-35195",))
    assert apply_vex([f, other], [st("CVE-2099-0001")]) == []
    assert f["vex"] is None and other["vex"] is None


def test_the_latest_statement_wins_whatever_id_it_uses() -> None:
    # The earlier statement names the CVE, the later one the GHSA alias: the later one wins.
    f = _jinja()
    apply_vex([f], [st("GHSA-h5c8-rqwp-cp95", "not_affected"), st("CVE-2024-22195", "exploitable")])
    assert f["vex"]["state"] == "exploitable"
    g = _jinja()
    apply_vex([g], [st("CVE-2024-22195", "exploitable"), st("GHSA-h5c8-rqwp-cp95", "not_affected")])
    assert g["vex"]["state"] == "not_affected"


def test_with_timestamps_on_every_statement_the_latest_time_wins_over_reading_order() -> None:
    f = _jinja()
    apply_vex(
        [f],
        [
            st("CVE-2024-22195", "not_affected", timestamp="2026-06-02T00:00:00+02:00"),  # 2026-06-01T22:00Z: the latest
            st("CVE-2024-22195", "exploitable", timestamp="2026-06-01T21:00:00Z"),
        ],
    )
    assert f["vex"]["state"] == "not_affected"
    # One statement without a time: reading order decides.
    g = _jinja()
    apply_vex([g], [st("CVE-2024-22195", "not_affected", timestamp="2026-06-02T00:00:00Z"), st("CVE-2024-22195", "exploitable")])
    assert g["vex"]["state"] == "exploitable"


def test_an_earlier_statement_is_overridden_by_a_later_one_with_another_product_spelling() -> None:
    f = _jinja()
    apply_vex([f], [st("CVE-2024-22195", "not_affected", products=("pkg:PYPI/Jinja2@3.1.2",)), st("CVE-2024-22195", "in_triage")])
    assert f["vex"]["state"] == "in_triage"


def test_a_statement_for_another_product_does_not_override_the_matching_one() -> None:
    f = _jinja()
    apply_vex([f], [st("CVE-2024-22195", "not_affected"), st("CVE-2024-22195", "exploitable", products=("pkg:pypi/jinja2@2.0",))])
    assert f["vex"]["state"] == "not_affected"


# ------------------------------------------------------------------------------------------
# End to end through the shipped policies


def _evaluate(tmp_path: Path, *reports: Path, extra: tuple[str, ...] = ()) -> tuple[int, dict[str, Any], dict[str, Any]]:
    return evaluate(tmp_path, reports, *extra)


def _blocking_findings(verdict: dict[str, Any]) -> set[str]:
    return {fid for e in verdict["violations"] for fid in e["evidence"]["findings"]}


def _by_rule(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """pip-audit's findings by advisory id (a CycloneDX VEX's own vulnerabilities are findings too)."""
    return {f["rule_id"]: f for f in document["findings"] if f["tool"] == "pip-audit"}


def test_without_vex_every_vulnerability_blocks(tmp_path: Path) -> None:
    code, verdict, doc = _evaluate(tmp_path, VEX / "pip-audit-vulns.json")
    assert code == 10
    assert _blocking_findings(verdict) >= {f["id"] for f in doc["findings"]}
    assert verdict["vex"] == []


def test_cyclonedx_vex_not_affected_stops_blocking_and_exploitable_does_not(tmp_path: Path) -> None:
    code, verdict, doc = _evaluate(tmp_path, VEX / "pip-audit-vulns.json", VEX / "cyclonedx-vex.json")
    found = _by_rule(doc)
    jinja, requests_ = found["GHSA-h5c8-rqwp-cp95"], found["GHSA-9wx4-h78v-vm56"]
    assert jinja["vex"]["state"] == "not_affected"
    assert jinja["vex"]["justification"] == "code_not_reachable"
    assert requests_["vex"]["state"] == "exploitable"
    blocking = _blocking_findings(verdict)
    assert jinja["id"] not in blocking
    assert requests_["id"] in blocking
    assert code == 10
    shown = {e["finding"]: e for e in verdict["vex"]}
    assert shown[jinja["id"]]["state"] == "not_affected"
    assert "cyclonedx-vex.json" in str(shown[jinja["id"]]["source"] or "") or shown[jinja["id"]]["source"] is None


def test_openvex_not_affected_stops_blocking(tmp_path: Path) -> None:
    _, verdict, doc = _evaluate(tmp_path, VEX / "pip-audit-vulns.json", VEX / "openvex.json")
    urllib3 = _by_rule(doc)["GHSA-34jh-p97f-mpxf"]
    assert urllib3["vex"]["state"] == "not_affected"
    assert urllib3["id"] not in _blocking_findings(verdict)
    assert urllib3["id"] in {e["finding"] for e in verdict["vex"]}


def test_all_covered_opens_the_gate_and_keeps_the_statements_as_evidence(tmp_path: Path) -> None:
    code, verdict, doc = _evaluate(tmp_path, VEX / "pip-audit-vulns.json", VEX / "cyclonedx-vex-all.json")
    assert all(f["vex"]["state"] in ("not_affected", "false_positive", "resolved") for f in doc["findings"])
    assert _blocking_findings(verdict) == set()
    assert code == 0, verdict["violations"]
    # Every statement stays on the record as evidence (for the VEX document's own findings too).
    shown = {e["finding"]: e["state"] for e in verdict["vex"]}
    found = _by_rule(doc)
    assert {rule: shown[f["id"]] for rule, f in found.items()} == {
        "GHSA-h5c8-rqwp-cp95": "not_affected",
        "GHSA-9wx4-h78v-vm56": "resolved",
        "GHSA-34jh-p97f-mpxf": "false_positive",
    }
    assert len(shown) == len(doc["findings"])
