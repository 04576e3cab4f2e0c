"""Canonical purls (gate.purl), proven on the purl specification's own tests, then the attacks.

The attack (issue 14, "names that escape comparison"): an SBOM component
`pkg:pypi/py%63rypto@2.6.1` (a percent-encoded `c`) was not recognised as the banned `pycrypto`;
the gate opened. Variants of ours: `pkg:PyPI/PyCrypto@2.6.1` (type and name case) and
`pkg:pypi/py%43rypto@2.6.1?extension=tar.gz` (encoding, case and a qualifier), each under a
component name that says something else. `pkg:pypi/py.crypto` is NOT an equivalent: PEP 503
makes it the project `py-crypto`, a different name from `pycrypto`, and it stays apart.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.purl import build, canonical, canonical_or_text, parts, slow_canonical
from gate.waivers import purl_matches
from tests.conftest import SHARED, run_gate
from tests.governance_support import TIME, write

SPEC = SHARED / "purl-spec" / "tests"
SPEC_FILES = [
    "types/pypi-test.json",
    "types/npm-test.json",
    "types/maven-test.json",
    "types/generic-test.json",
    "spec/specification-test.json",
]


def _spec_params() -> list[Any]:
    out: list[Any] = []
    for rel in SPEC_FILES:
        path = SPEC / rel
        if not path.is_file():
            continue
        for n, test in enumerate(json.loads(path.read_text(encoding="utf-8"))["tests"]):
            out.append(pytest.param(test, id=f"{rel.split('/')[-1].removesuffix('-test.json')}-{n}-{test['test_type']}"))
    return out or [pytest.param(None, id="no-purl-spec")]


def _require_spec() -> None:
    import os

    if not SPEC.is_dir():
        reason = f"{SHARED} is absent (a fresh clone without the shared purl specification tests)"
        if os.environ.get("GATE_REQUIRE_SHARED") == "1":
            pytest.fail(reason + " but GATE_REQUIRE_SHARED=1")
        pytest.skip(reason)


@pytest.mark.parametrize("test", _spec_params())
def test_the_purl_specification_tests_pass_through_the_canonicaliser(test: dict[str, Any] | None) -> None:
    """Every pypi, npm, maven, generic and general test of the specification, as it is written."""
    _require_spec()
    assert test is not None
    given, expected = test["input"], test["expected_output"]
    if test["expected_failure"]:
        with pytest.raises(ValueError):
            if test["test_type"] == "build":
                build(given["type"], given["namespace"], given["name"], given["version"], given["qualifiers"], given["subpath"])
            else:
                canonical(given)
        return
    if test["test_type"] == "validate":
        assert canonical(given) == expected
        assert canonical(expected) == expected  # idempotent
    elif test["test_type"] == "parse":
        ptype, namespace, name, version, qualifiers, subpath = parts(given)
        got = {
            "type": ptype,
            "namespace": namespace,
            "name": name,
            "version": version,
            "qualifiers": qualifiers or None,
            "subpath": subpath,
        }
        assert got == expected
    else:
        assert build(given["type"], given["namespace"], given["name"], given["version"], given["qualifiers"], given["subpath"]) == expected


EQUIVALENT = [
    ("pkg:pypi/py%63rypto@2.6.1", "pkg:pypi/pycrypto@2.6.1"),
    ("pkg:PyPI/PyCrypto@2.6.1", "pkg:pypi/pycrypto@2.6.1"),
    ("pkg:pypi/%50y%43rypto@2.6.1", "pkg:pypi/pycrypto@2.6.1"),
    ("pkg:pypi/Django_Package@1.0", "pkg:pypi/django-package@1.0"),
    ("pkg:pypi/zope.interface@6.0", "pkg:pypi/zope-interface@6.0"),  # PEP 503
    ("pkg:pypi/a__b..c@1", "pkg:pypi/a-b-c@1"),
    ("pkg:pypi/pycrypto@2.6.1?Extension=tar.gz&arch=", "pkg:pypi/pycrypto@2.6.1?extension=tar.gz"),
    ("pkg:maven/Org.Apache/Commons-IO@2.0", "pkg:maven/Org.Apache/Commons-IO@2.0"),  # maven keeps case
    ("pkg:generic/openssl@1.1?download_url=https://x.org/a", "pkg:generic/openssl@1.1?download_url=https:%2F%2Fx.org%2Fa"),
]


@pytest.mark.parametrize(("given", "expected"), EQUIVALENT)
def test_equivalent_spellings_have_one_canonical_form(given: str, expected: str) -> None:
    assert canonical(given) == expected


@pytest.mark.parametrize(
    "purl",
    [
        "pkg:pypi/jinja2@3.1.2",
        "pkg:pypi/zope-interface@6.0",
        "pkg:pypi/a-b-c",
        "pkg:pypi/x@1.0~rc1",
        "pkg:pypi/x@1.0_post",
        "pkg:pypi/x@1.0-1",
        "pkg:pypi/x9@2024.1.1",
    ],
)
def test_the_fast_path_agrees_with_the_full_canonicaliser(purl: str) -> None:
    assert canonical(purl) == slow_canonical(purl) == purl


def test_text_that_is_no_purl_is_kept_as_given() -> None:
    assert canonical_or_text("product-ABC") == "product-ABC"
    assert canonical_or_text(None) is None


def test_pep_503_keeps_different_projects_apart() -> None:
    assert canonical("pkg:pypi/py_crypto@1") == canonical("pkg:pypi/py-crypto@1") != canonical("pkg:pypi/pycrypto@1")


@pytest.mark.parametrize(
    ("wanted", "purl", "matches"),
    [
        ("pkg:pypi/pycrypto", "pkg:pypi/py%63rypto@2.6.1", True),
        ("pkg:pypi/PyCrypto@2.6.1", "pkg:pypi/pycrypto@2.6.1?extension=tar.gz", True),
        ("pkg:pypi/pycrypto@2.6.1", "pkg:pypi/pycrypto@2.6.0", False),
        ("pkg:pypi/pycrypto", "pkg:pypi/py-crypto@2.6.1", False),
        ("pkg:npm/pycrypto", "pkg:pypi/pycrypto@2.6.1", False),
    ],
)
def test_waiver_package_scopes_compare_canonical_purls(wanted: str, purl: str, matches: bool) -> None:
    assert purl_matches(wanted, purl) is matches


# ------------------------------------------------------------------------------------------
# End to end: the banned-package rule


def _sbom(purl: str, name: str = "pycrypto") -> dict[str, Any]:
    """A CycloneDX 1.6 SBOM (cyclonedx-py's shape) with one component."""
    return {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-00000000e014",
        "version": 1,
        "metadata": {
            "timestamp": "2026-06-20T09:30:00Z",
            "tools": {"components": [{"type": "application", "group": "CycloneDX", "name": "cyclonedx-py", "version": "7.5.0"}]},
            "component": {"type": "application", "bom-ref": "shop-api", "name": "shop-api", "version": "1.4.0"},
        },
        "components": [
            {
                "type": "library",
                "bom-ref": "c1",
                "name": name,
                "version": "2.6.1",
                "purl": purl,
                "licenses": [{"license": {"id": "MIT"}}],
            }
        ],
    }


def _banned(tmp_path: Path, purl: str, name: str = "pycrypto") -> tuple[int, dict[str, Any], dict[str, Any]]:
    sbom = write(tmp_path / "sbom.cdx.json", json.dumps(_sbom(purl, name)))
    verdict, doc = tmp_path / "verdict.json", tmp_path / "input.json"
    res = run_gate(["evaluate", str(sbom), "--time", TIME, "--output", f"json={verdict}", "--output", f"input={doc}"])
    assert res.exit_code in (0, 10), res.stdout + res.stderr
    return res.exit_code, json.loads(verdict.read_text()), json.loads(doc.read_text())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("purl", "name"),
    [
        ("pkg:pypi/py%63rypto@2.6.1", "innocent"),  # the instance (the name says something else)
        ("pkg:PyPI/PyCrypto@2.6.1", "innocent"),
        ("pkg:pypi/py%43rypto@2.6.1?extension=tar.gz", "innocent"),
    ],
)
def test_attack_a_percent_encoded_or_recased_purl_is_recognised_as_banned(tmp_path: Path, purl: str, name: str) -> None:
    code, verdict, doc = _banned(tmp_path, purl, name)
    assert doc["components"][0]["purl"].startswith("pkg:pypi/pycrypto@2.6.1")
    assert "GATE-PKG-001" in {v["rule"] for v in verdict["violations"]}, verdict["violations"]
    assert code == 10


def test_a_different_project_by_pep_503_is_not_banned(tmp_path: Path) -> None:
    _, verdict, _ = _banned(tmp_path, "pkg:pypi/py.crypto@2.6.1", "py.crypto")
    assert "GATE-PKG-001" not in {v["rule"] for v in verdict["violations"]}
