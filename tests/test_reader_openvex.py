"""The OpenVEX reader on hand-written samples modelled on the OpenVEX spec (tests/data/openvex)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA

from gate.collect import read_report
from gate.errors import ExitCode, InputError
from gate.model import VEX_STATES, ReadResult, VexStatement
from sbom.cyclonedx import CycloneDxJsonReader
from sbom.openvex import STATUS_TO_STATE, OpenVexReader
from sbom.registry import FORMATS, READERS
from sbom.spdx import SpdxJsonReader

SAMPLES = DATA / "openvex"
SHOP = SAMPLES / "shop-api-vex-v0.2.0.json"
LEGACY = SAMPLES / "wolfi-git-legacy-ns.json"
READER = OpenVexReader()


def _doc(path: Path) -> dict[str, Any]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def _refused(doc: Any) -> InputError:
    with pytest.raises(InputError) as info:
        READER.read(doc, "vex.json")
    assert info.value.file == "vex.json"
    assert info.value.exit_code == ExitCode.INPUT
    return info.value


@pytest.fixture(scope="module")
def shop() -> ReadResult:
    return read_report(str(SHOP)).result


def test_detected_end_to_end_and_listed_in_the_registry(shop: ReadResult) -> None:
    assert shop.format == "openvex"
    assert shop.findings == () and shop.components == ()
    assert (shop.tool, shop.tool_version, shop.spec_version) == ("vexctl/0.3.0", None, "0.2.0")
    assert "openvex" in FORMATS
    assert any(isinstance(r, OpenVexReader) for r in READERS)


def test_statements_in_time_order(shop: ReadResult) -> None:
    # Statement timestamps (2026-01-05, 2026-01-10 -05:00) come before the document's (2026-01-20),
    # which the other two inherit; equal times keep document order. A later statement wins.
    assert [(v.vulnerability, v.state) for v in shop.vex] == [
        ("CVE-2023-0001", "resolved"),
        ("GHSA-9999-helper-0001", "in_triage"),
        ("CVE-2024-22195", "not_affected"),
        ("GHSA-9999-helper-0001", "exploitable"),
    ]


def test_statement_fields(shop: ReadResult) -> None:
    assert shop.vex[2].timestamp  # the statement's time, for "the latest statement wins"
    assert dataclasses.replace(shop.vex[2], timestamp=None) == VexStatement(
        vulnerability="CVE-2024-22195",
        state="not_affected",
        products=(
            "pkg:oci/shop-api@sha256%3A74634d9736a45ca9f6e1187e783492199e020f4a5c19d0b1abc2b604f894ac99",
            "pkg:pypi/shop-api@2.1.0",  # the product's identifiers.purl
            "pkg:pypi/jinja2@3.1.2",  # its subcomponent: the package a finding is about
        ),
        aliases=("GHSA-h5c8-rqwp-cp95",),  # the name itself is not repeated as an alias
        justification="vulnerable_code_not_in_execute_path",
        detail="shop-api never calls the xmlattr filter.",
        source=str(SHOP),
    )
    affected = shop.vex[3]
    assert affected.detail == "Upgrade flask-vendored-helper to 0.2 or later."  # the action statement
    assert affected.products == ("pkg:pypi/shop-api@2.1.0", "pkg:pypi/flask-vendored-helper@0.1")


def test_earlier_namespace_with_string_vulnerability_and_products() -> None:
    result = read_report(str(LEGACY)).result
    assert result.tool == "openvex" and result.spec_version is None
    assert tuple(dataclasses.replace(v, timestamp=None) for v in result.vex) == (
        VexStatement(
            vulnerability="CVE-2023-12345",
            state="not_affected",
            products=(
                "pkg:apk/wolfi/git@2.39.0-r1?arch=armv7",
                "pkg:apk/wolfi/git@2.39.0-r1?arch=x86_64",
                "pkg:apk/wolfi/openssl@3.0.7-r0",
            ),
            justification="component_not_present",
            source=str(LEGACY),
        ),
    )


def test_every_status_maps_to_a_gate_state() -> None:
    assert set(STATUS_TO_STATE.values()) <= set(VEX_STATES)
    for status, state in STATUS_TO_STATE.items():
        doc = _doc(SHOP)
        doc["statements"] = [{**doc["statements"][0], "status": status}]
        (statement,) = READER.read(doc, "vex.json").vex
        assert statement.state == state


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["statements"][1].update(status="maybe"), "statements[1].status 'maybe' is not an OpenVEX status"),
        (lambda d: d["statements"][1].pop("status"), "statements[1].status is missing"),
        (lambda d: d["statements"][0].pop("vulnerability"), "statements[0].vulnerability is missing"),
        (lambda d: d["statements"][0].update(vulnerability={"description": "x"}), "statements[0].vulnerability names no vulnerability"),
        (lambda d: d["statements"][3].update(products=[]), "statements[3].products names no product"),
        (lambda d: d["statements"][3].update(products=[7]), "statements[3].products[0] must be an object or a string, not a number"),
        (
            lambda d: [d["statements"][0].pop(k) for k in ("justification", "impact_statement")],
            "statements[0] is not_affected without a justification or an impact_statement",
        ),
        (lambda d: d.pop("timestamp"), "timestamp is missing"),
        (lambda d: d["statements"][1].update(timestamp="last tuesday"), "statements[1].timestamp 'last tuesday' is not an RFC 3339 time"),
        (lambda d: d["statements"][1].update(timestamp="2026-01-10T12:00:00"), "has no time zone"),
        (lambda d: d.update(statements={}), "statements must be an array, not an object"),
        (lambda d: d.pop("statements"), "statements is missing"),
        (lambda d: d["statements"][0]["vulnerability"].update(aliases=[1]), "statements[0].vulnerability.aliases[0] must be a string"),
    ],
)
def test_invalid_statements_are_refused_naming_the_path(mutate: Any, message: str) -> None:
    doc = _doc(SHOP)
    mutate(doc)
    error = _refused(doc)
    assert error.message.startswith("not a valid OpenVEX document: ")
    assert message in error.message


def test_unknown_context_version_is_refused() -> None:
    doc = _doc(SHOP)
    doc["@context"] = "https://openvex.dev/ns/v9.9.9"
    assert READER.detect(doc)
    error = _refused(doc)
    assert "https://openvex.dev/ns/v9.9.9" in error.message
    assert error.hint is not None and "https://openvex.dev/ns/v0.2.0" in error.hint


def test_detection_does_not_claim_other_formats() -> None:
    doc = _doc(SHOP)
    assert READER.detect(doc)
    assert not CycloneDxJsonReader().detect(doc) and not SpdxJsonReader().detect(doc)
    assert not READER.detect({"@context": "https://www.w3.org/ns/activitystreams"})
    assert not READER.detect({"bomFormat": "CycloneDX"})
    assert not READER.detect([doc])
