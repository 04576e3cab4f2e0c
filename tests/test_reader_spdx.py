"""The SPDX 2.2/2.3 JSON reader on the shared corpus and on hand-written samples (tests/data/spdx)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, corpus_params, require_shared

from gate.collect import read_report
from gate.errors import ExitCode, InputError
from gate.model import ReadResult
from sbom.cyclonedx import CycloneDxJsonReader
from sbom.registry import FORMATS
from sbom.spdx import SpdxJsonReader

SAMPLES = DATA / "spdx"
SHOP = SAMPLES / "shop-api-relationships-spdx2.3.json"
TINY = SAMPLES / "described-by-field-spdx2.2.json"
READER = SpdxJsonReader()


def _doc(path: Path) -> dict[str, Any]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def _refused(doc: Any) -> InputError:
    with pytest.raises(InputError) as info:
        READER.read(doc, "sbom.spdx.json")
    assert info.value.file == "sbom.spdx.json"
    assert info.value.exit_code == ExitCode.INPUT
    return info.value


@pytest.mark.parametrize("path", corpus_params("spdx"))
def test_every_corpus_document_gives_one_component_per_package(path: Path | None) -> None:
    if path is None:
        require_shared()
        return
    raw = _doc(path)
    result = read_report(str(path)).result
    assert result.format == "spdx"
    assert [c.name for c in result.components] == [p["name"] for p in raw.get("packages", [])]
    assert [c.bom_ref for c in result.components] == [p["SPDXID"] for p in raw.get("packages", [])]
    assert result.spec_version == raw["spdxVersion"].removeprefix("SPDX-")
    tools = [c for c in raw["creationInfo"]["creators"] if c.startswith("Tool:")]
    assert (result.tool in tools[0]) if tools else result.tool == "spdx"
    assert result.findings == () and result.vex == ()


@pytest.fixture(scope="module")
def shop() -> ReadResult:
    return read_report(str(SHOP)).result


def test_package_fields(shop: ReadResult) -> None:
    flask = shop.components[1]
    assert (flask.name, flask.version, flask.purl, flask.type) == ("flask", "2.2.0", "pkg:pypi/flask@2.2.0", "framework")
    # The purl is the `purl` external reference, not the first one (a CPE here).
    assert flask.hashes == (
        ("SHA256", "0844ae8c212a64cc48d764fddca5beb4f1a85c50917fe7a952672405b90e4269"),
        ("SHA1", "4374212b291cd28f7e40036df9024adb4f7244fb"),
    )
    assert flask.licenses == ("BSD-3-Clause",)  # concluded and declared agree: once
    assert shop.components[5].type == "operating-system"  # OPERATING-SYSTEM in CycloneDX spelling
    assert shop.components[3].type is None and shop.components[3].purl is None


def test_licences_skip_noassertion_and_none_and_keep_expressions(shop: ReadResult) -> None:
    by_name = {c.name: c.licenses for c in shop.components}
    assert by_name["shop-api"] == ("Apache-2.0",)  # concluded NOASSERTION, declared Apache-2.0
    assert by_name["jinja2"] == ("BSD-3-Clause OR MIT",)  # declared NONE
    assert by_name["markupsafe"] == ()
    assert by_name["pytest"] == ("MIT",)


def test_direct_from_relationships(shop: ReadResult) -> None:
    assert {c.name: c.direct for c in shop.components} == {
        "shop-api": None,  # the described root itself
        "flask": True,  # root DEPENDS_ON flask
        "jinja2": False,  # only through flask
        "markupsafe": False,  # a DEPENDENCY_OF jinja2, not of the root
        "pytest": True,  # DEV_DEPENDENCY_OF the root
        "base-image-libc": True,  # CONTAINED_BY the root
    }
    assert shop.subject == "shop-api@2.1.0"


def test_tool_from_creators(shop: ReadResult) -> None:
    # The first Tool: creator; the version follows the last hyphen before a digit.
    assert (shop.tool, shop.tool_version) == ("syft-go-module", "1.4.2")


def test_spdx_2_2_with_document_describes() -> None:
    result = read_report(str(TINY)).result
    assert result.spec_version == "2.2"
    assert result.subject == "tiny-cli@1.0.0"
    assert {c.name: c.direct for c in result.components} == {"tiny-cli": None, "click": True, "colorama": False}
    assert (result.tool, result.tool_version) == ("spdx", None)  # only a Person: creator


def test_direct_is_unknown_without_root_or_relationships() -> None:
    doc = _doc(SHOP)
    del doc["relationships"]
    result = READER.read(doc, "x.json")
    assert {c.direct for c in result.components} == {None} and result.subject is None
    doc = _doc(SHOP)
    doc["relationships"] = [r for r in doc["relationships"] if r["relationshipType"] == "DESCRIBES"]
    result = READER.read(doc, "x.json")
    assert {c.direct for c in result.components} == {None} and result.subject == "shop-api@2.1.0"


def test_described_by_relationship_marks_the_root() -> None:
    doc = _doc(SHOP)
    doc["relationships"][0] = {
        "spdxElementId": "SPDXRef-Package-shop-api",
        "relationshipType": "DESCRIBED_BY",
        "relatedSpdxElement": "SPDXRef-DOCUMENT",
    }
    result = READER.read(doc, "x.json")
    assert result.subject == "shop-api@2.1.0" and result.components[1].direct is True


@pytest.mark.parametrize("version", ["SPDX-2.1", "SPDX-3.0", "2.3", None, 2.3])
def test_unsupported_versions_are_named(version: Any) -> None:
    doc = _doc(SHOP)
    doc["spdxVersion"] = version
    error = _refused(doc)
    assert repr(version) in error.message
    assert error.hint is not None and "SPDX-2.2, SPDX-2.3" in error.hint


def test_spdx3_json_ld_is_recognised_and_refused() -> None:
    doc = {"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}
    assert READER.detect(doc)
    assert "SPDX 3 (JSON-LD)" in _refused(doc).message


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d.update(packages={"name": "x"}), "packages must be an array, not an object"),
        (lambda d: d["packages"].append("flask"), "packages[6] must be an object, not a string"),
        (lambda d: d["packages"][1].pop("name"), "packages[1].name is missing"),
        (lambda d: d["packages"][2].update(versionInfo=3), "packages[2].versionInfo must be a string, not a number"),
        (lambda d: d["packages"][1]["externalRefs"][1].pop("referenceLocator"), "packages[1].externalRefs[1].referenceLocator is missing"),
        (
            lambda d: d["packages"][1]["checksums"][0].update(checksumValue=None),
            "packages[1].checksums[0].checksumValue must be a string, not null",
        ),
        (lambda d: d["relationships"][2].pop("relationshipType"), "relationships[2].relationshipType is missing"),
        (lambda d: d.pop("creationInfo"), "creationInfo is missing"),
        (lambda d: d["creationInfo"].update(creators="Tool: x-1"), "creationInfo.creators must be an array, not a string"),
        (lambda d: d.pop("SPDXID"), "SPDXID is missing"),
    ],
)
def test_wrong_shapes_are_refused_naming_the_path(mutate: Any, path: str) -> None:
    doc = _doc(SHOP)
    mutate(doc)
    error = _refused(doc)
    assert error.message == f"not a valid SPDX-2.3 document: {path}"


def test_detection_and_registry() -> None:
    assert READER.detect(_doc(SHOP))
    assert not READER.detect({"bomFormat": "CycloneDX", "specVersion": "1.6"})
    assert not READER.detect([{"spdxVersion": "SPDX-2.3"}])
    assert not CycloneDxJsonReader().detect(_doc(SHOP))
    assert "spdx" in FORMATS
    assert "not an SPDX JSON document" in _refused([1]).message
