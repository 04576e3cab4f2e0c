"""VEX reaches dependency vulnerabilities only, of the component and version it names, and every
finding it sets aside is shown and counted like a waived one (issue 14, "VEX reaches further than
dependencies").

The attack, run first against the old code: a bandit report with a B602 finding and a CycloneDX
VEX document whose vulnerability `id: B602` was `not_affected`, with no justification and no
`affects`; the statement covered the SAST finding (a statement without products "spoke of the
whole subject", and a finding matched on its rule id), the gate opened, and console, Markdown
and annotations said "0 waived". Variants of ours: a statement about CVE-X on component A
covering the same CVE on component B; a statement about another version, or only a version
range, of the same component.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gate.model import VexStatement
from gate.pipeline import apply_vex
from tests.conftest import POLICIES, run_gate
from tests.governance_support import GOV, TIME, dependency, finding, write
from tests.test_path_scopes import _bandit

VEX = GOV / "vex"


def _cyclonedx_vex(vulnerabilities: list[dict[str, Any]], components: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a6e014",
        "version": 1,
        "metadata": {
            "timestamp": "2026-06-01T09:00:00Z",
            "component": {"type": "application", "name": "sample-shop", "version": "1.4.0", "bom-ref": "sample-shop"},
        },
        "components": components or [],
        "vulnerabilities": vulnerabilities,
    }


def _run(tmp_path: Path, *reports: Path, fmt: str = "json") -> tuple[int, dict[str, Any], str]:
    verdict = tmp_path / "verdict.json"
    res = run_gate(
        ["evaluate", *map(str, reports), "--policy", str(POLICIES), "--time", TIME, "--output", f"json={verdict}", "--format", fmt]
    )
    return res.exit_code, json.loads(verdict.read_text()) if verdict.exists() else {}, res.stdout + res.stderr


def test_attack_a_cyclonedx_vex_for_a_bandit_test_id_is_refused_without_justification(tmp_path: Path) -> None:
    """The issue's instance: `id: B602`, not_affected, no justification, no affects."""
    bandit = write(tmp_path / "bandit.json", json.dumps(_bandit("src/app.py")))
    vex = write(tmp_path / "vex.cdx.json", json.dumps(_cyclonedx_vex([{"id": "B602", "analysis": {"state": "not_affected"}}])))
    code, _, out = _run(tmp_path, bandit, vex)
    assert code == 3, out
    assert "not_affected without analysis.justification" in out


def test_attack_a_justified_vex_without_affects_covers_no_sast_finding(tmp_path: Path) -> None:
    """The same with a justification: the statement names no product, so it covers nothing."""
    bandit = write(tmp_path / "bandit.json", json.dumps(_bandit("src/app.py")))
    vuln = {"id": "B602", "analysis": {"state": "not_affected", "justification": "code_not_reachable"}}
    vex = write(tmp_path / "vex.cdx.json", json.dumps(_cyclonedx_vex([vuln])))
    code, verdict, out = _run(tmp_path, bandit, vex)
    assert code == 10, out
    assert verdict["vex"] == []
    assert verdict["summary"]["waived"] == 0
    assert "GATE-SAST-001" in {v["rule"] for v in verdict["violations"]}


def test_a_sast_finding_is_never_covered_even_when_a_statement_names_its_rule_and_a_product() -> None:
    f = finding(package={"name": "shop", "version": "1.0", "purl": "pkg:pypi/shop@1.0", "fixed_versions": []})
    st = VexStatement(vulnerability="B602", state="not_affected", products=("pkg:pypi/shop@1.0",), justification="code_not_reachable")
    assert apply_vex([f], [st]) == []
    assert f["vex"] is None


def _openvex(vuln: str, product: str) -> dict[str, Any]:
    return {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.org/vex/e014",
        "author": "security",
        "timestamp": "2026-06-03T10:00:00Z",
        "version": 1,
        "statements": [
            {
                "vulnerability": {"name": vuln},
                "products": [{"@id": product}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
            }
        ],
    }


@pytest.mark.slow
@pytest.mark.parametrize(
    ("vuln", "product"),
    [
        ("CVE-2024-35195", "pkg:pypi/jinja2@3.1.2"),  # requests' CVE, stated for jinja2
        ("CVE-2024-22195", "pkg:pypi/jinja2@3.1.3"),  # another version of jinja2
        ("CVE-2024-22195", "pkg:pypi/jinja2"),  # no version
        ("CVE-2024-22195", "pkg:npm/jinja2@3.1.2"),  # another ecosystem
    ],
    ids=["other-component", "other-version", "no-version", "other-type"],
)
def test_attack_a_statement_about_another_component_or_version_covers_nothing(tmp_path: Path, vuln: str, product: str) -> None:
    audit = VEX / "pip-audit-vulns.json"
    vex = write(tmp_path / "vex.openvex.json", json.dumps(_openvex(vuln, product)))
    code, verdict, out = _run(tmp_path, audit, vex)
    assert code == 10, out
    assert verdict["vex"] == [] and verdict["summary"]["waived"] == 0


def _jinja_statement(tmp_path: Path, affects: dict[str, Any], component_version: str | None = None) -> tuple[dict[str, Any], str]:
    """pip-audit's jinja2 3.1.2 advisories with a CycloneDX VEX statement CVE-2024-22195
    `not_affected` whose one `affects` entry is `affects`, on the component `jinja` (purl without
    version, `component_version` as its own); the verdict and the gate's output."""
    vuln = {"id": "CVE-2024-22195", "analysis": {"state": "not_affected", "justification": "code_not_reachable"}, "affects": [affects]}
    comp = {"type": "library", "name": "jinja2", "purl": "pkg:pypi/jinja2", "bom-ref": "jinja"}
    if component_version is not None:
        comp["version"] = component_version
    vex = write(tmp_path / "vex.cdx.json", json.dumps(_cyclonedx_vex([vuln], [comp])))
    _, verdict, out = _run(tmp_path, VEX / "pip-audit-vulns.json", vex)
    return verdict, out


def test_a_cyclonedx_version_range_is_not_resolved_and_covers_nothing(tmp_path: Path) -> None:
    affects = {"ref": "jinja", "versions": [{"range": "vers:pypi/>=3.0.0|<4.0.0", "status": "affected"}]}
    verdict, out = _jinja_statement(tmp_path, affects)
    assert verdict["vex"] == [], out


def test_a_cyclonedx_single_affected_version_names_the_version(tmp_path: Path) -> None:
    verdict, out = _jinja_statement(tmp_path, {"ref": "jinja", "versions": [{"version": "3.1.2", "status": "affected"}]})
    covered = {e["vulnerability"] for e in verdict["vex"]}
    assert covered == {"CVE-2024-22195"}, out


@pytest.mark.slow
@pytest.mark.parametrize(("version", "covers"), [("3.1.2", True), ("3.1.3", False)])
def test_a_cyclonedx_component_without_purl_version_is_taken_at_its_own_version(tmp_path: Path, version: str, covers: bool) -> None:
    verdict, out = _jinja_statement(tmp_path, {"ref": "jinja"}, component_version=version)
    pip_audit = {e["finding"] for e in verdict["vex"]} & {w["finding"] for w in verdict["waived"] if w.get("tool") == "pip-audit"}
    assert bool(pip_audit) is covers, out


def test_unit_matching_needs_the_component_and_its_version() -> None:
    a = dependency("a" * 32, "jinja2", "3.1.2", "CVE-2024-22195")
    b = dependency("b" * 32, "markupsafe", "3.1.2", "CVE-2024-22195")
    st = VexStatement(vulnerability="CVE-2024-22195", state="not_affected", products=("pkg:pypi/jinja2@3.1.2",), justification="x")
    apply_vex([a, b], [st])
    assert a["vex"] is not None and b["vex"] is None


# ------------------------------------------------------------------------------------------
# Shown and counted like a waived finding, in every format


@pytest.fixture(scope="module")
def covered() -> dict[str, str]:
    """Every format of one run where the CycloneDX VEX covers jinja2's advisory (not_affected)."""
    out: dict[str, str] = {}
    for fmt in ("console", "json", "markdown", "sarif", "junit", "github"):
        res = run_gate(
            ["evaluate", str(VEX / "pip-audit-vulns.json"), str(VEX / "cyclonedx-vex.json"), "--policy", str(POLICIES), "--time", TIME]
            + ["--format", fmt]
        )
        assert res.exit_code == 10, res.stdout + res.stderr
        out[fmt] = res.stdout
    return out


def _covered_ids(verdict: dict[str, Any]) -> set[str]:
    return {str(w["finding"]) for w in verdict["waived"] if w.get("by") == "vex"}


@pytest.mark.slow
def test_the_verdict_lists_vex_covered_findings_as_waived(covered: dict[str, str]) -> None:
    verdict = json.loads(covered["json"])
    vex_waived = [w for w in verdict["waived"] if w.get("by") == "vex"]
    # jinja2's advisory, read from pip-audit and from the VEX document's own vulnerability entry.
    assert len(vex_waived) == 2
    assert verdict["summary"]["waived"] == len(verdict["waived"]) == 2
    assert all(w["waiver"] == "VEX" and w["state"] == "not_affected" and w["justification"] == "code_not_reachable" for w in vex_waived)
    assert all(str(w["approved_by"]).endswith("cyclonedx-vex.json") for w in vex_waived)


def test_console_counts_them(covered: dict[str, str]) -> None:
    assert re.search(r"\b2 waived\b", covered["console"]), covered["console"]


def test_markdown_counts_and_shows_them(covered: dict[str, str]) -> None:
    md = covered["markdown"]
    assert "Waived findings" in md
    assert "`VEX`" in md and "not_affected (code_not_reachable)" in md
    row = next(line for line in md.splitlines() if line.startswith("| violations |"))
    values = md.splitlines()[md.splitlines().index(row) + 2]
    assert values.split("|")[3].strip() == "2"


def test_sarif_has_external_suppressions_with_the_justification(covered: dict[str, str]) -> None:
    sarif = json.loads(covered["sarif"])
    suppressed = [r for r in sarif["runs"][0]["results"] if r.get("suppressions")]
    assert len(suppressed) == 2
    for r in suppressed:
        (s,) = r["suppressions"]
        assert s["kind"] == "external" and s["status"] == "accepted"
        assert "VEX statement" in s["justification"] and "code_not_reachable" in s["justification"]


def test_junit_lists_them_as_skipped(covered: dict[str, str]) -> None:
    assert '<skipped message="2 finding(s) waived"' in covered["junit"]
    assert "VEX statement in" in covered["junit"]


def test_annotations_show_and_count_them(covered: dict[str, str]) -> None:
    gh = covered["github"]
    notices = [line for line in gh.splitlines() if line.startswith("::notice") and "waived by VEX statement" in line]
    assert len(notices) == 2
    assert "2 waived" in gh
