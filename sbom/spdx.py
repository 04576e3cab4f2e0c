"""Reader for SPDX 2.2 and 2.3 JSON documents.

What is read:

- Every package is a component (the described root packages included: SPDX has no separate
  subject): `name`, `versionInfo`, the purl of the first `externalRefs` entry whose
  `referenceType` is `purl`, licences from `licenseConcluded` then `licenseDeclared` (NOASSERTION
  and NONE skipped, expressions kept whole, the same text once), `type` from
  `primaryPackagePurpose` in lower case (the CycloneDX spelling: LIBRARY -> library,
  OPERATING-SYSTEM -> operating-system), hashes from `checksums` as given, and the SPDXID as
  `bom_ref`. Files and snippets are not components.
- `direct` from the relationships: the roots are what the document describes
  (`documentDescribes`, `DOCUMENT DESCRIBES x`, `x DESCRIBED_BY DOCUMENT`). A package is direct
  when a root DEPENDS_ON or CONTAINS it, or it is a DEPENDENCY_OF (or any *_DEPENDENCY_OF) or
  CONTAINED_BY a root. Where the document has no root, or no such relationship touches a root,
  nothing is known and `direct` is None; the roots themselves are None too. The first root is
  the result's `subject`.
- Tool: the first `creationInfo.creators` entry "Tool: name-version" (the version is what
  follows the last hyphen that is followed by a digit); "spdx" when no tool is named.

There is no official SPDX 2.x JSON Schema among the installed libraries, so the members read
are checked here by hand, and a document of the wrong shape is refused naming the JSON path.
SPDX 3 (JSON-LD) is recognised and refused with its own message rather than as "unknown".
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from gate.errors import InputError
from gate.model import Component, ReadResult
from gate.model import ShapeError as _Shape
from gate.model import objects as _objects
from gate.model import opt_str as _opt_str
from gate.model import req_str as _req_str
from gate.model import strings as _strings
from gate.model import type_name as _type_name
from sbom.interface import SbomReader

SUPPORTED_VERSIONS = ("SPDX-2.2", "SPDX-2.3")

_NO_LICENCE = frozenset({"NOASSERTION", "NONE", ""})
_TOOL = re.compile(r"Tool:\s*(?P<text>.+)")
_NAME_VERSION = re.compile(r"(?P<name>.+?)-(?P<version>v?\d[^\s]*)")
_DOWNWARD = frozenset({"DEPENDS_ON", "CONTAINS"})
_UPWARD = frozenset(
    {
        "DEPENDENCY_OF",
        "CONTAINED_BY",
        "BUILD_DEPENDENCY_OF",
        "DEV_DEPENDENCY_OF",
        "OPTIONAL_DEPENDENCY_OF",
        "PROVIDED_DEPENDENCY_OF",
        "RUNTIME_DEPENDENCY_OF",
        "TEST_DEPENDENCY_OF",
    }
)


def _tool(creators: list[str]) -> tuple[str, str | None]:
    for creator in creators:
        m = _TOOL.match(creator.strip())
        if m:
            text = m.group("text").strip()
            nv = _NAME_VERSION.fullmatch(text)
            return (nv.group("name"), nv.group("version")) if nv else (text, None)
    return "spdx", None


def _is_spdx3(doc: dict[str, Any]) -> bool:
    context = doc.get("@context")
    contexts = context if isinstance(context, list) else [context]
    return any(isinstance(c, str) and "spdx.org/rdf/3" in c for c in contexts)


class SpdxJsonReader(SbomReader):
    """Reads SPDX 2.2/2.3 JSON: every package a component, `direct` from the relationships."""

    format: ClassVar[str] = "spdx"
    media: ClassVar[str] = "json"

    def detect(self, doc: Any) -> bool:
        """A JSON object with `spdxVersion`, or an SPDX 3 JSON-LD document (refused by read())."""
        return isinstance(doc, dict) and ("spdxVersion" in doc or _is_spdx3(doc))

    def read(self, doc: Any, source: str) -> ReadResult:
        """Packages as components, or `InputError` naming the member of the wrong shape."""
        if not isinstance(doc, dict):
            raise InputError(f"not an SPDX JSON document: it is {_type_name(doc)}, not an object", file=source)
        version = doc.get("spdxVersion")
        if version not in SUPPORTED_VERSIONS:
            shown = "SPDX 3 (JSON-LD)" if version is None and _is_spdx3(doc) else repr(version)[:60]
            raise InputError(
                f"SPDX version {shown} is not supported",
                file=source,
                hint=f"supported: {', '.join(SUPPORTED_VERSIONS)} JSON",
            )
        try:
            return self._read(doc, version)
        except _Shape as exc:
            raise InputError(f"not a valid {version} document: {exc}", file=source) from None

    def _read(self, doc: dict[str, Any], version: str) -> ReadResult:
        document_id = _req_str(doc, "SPDXID", "")
        creation = doc.get("creationInfo")
        if not isinstance(creation, dict):
            raise _Shape("creationInfo", "is missing" if creation is None else f"must be an object, not {_type_name(creation)}")
        tool, tool_version = _tool(_strings(creation, "creators", "creationInfo"))

        packages = _objects(doc, "packages", "")
        ids: list[str] = []
        for i, pkg in enumerate(packages):
            path = f"packages[{i}]"
            _req_str(pkg, "name", path)
            ids.append(_req_str(pkg, "SPDXID", path))
        known = set(ids)

        relationships = []
        for i, rel in enumerate(_objects(doc, "relationships", "")):
            path = f"relationships[{i}]"
            relationships.append(
                (_req_str(rel, "spdxElementId", path), _req_str(rel, "relationshipType", path), _req_str(rel, "relatedSpdxElement", path))
            )

        roots = [r for r in _strings(doc, "documentDescribes", "") if r in known]
        for element, kind, related in relationships:
            if kind == "DESCRIBES" and element == document_id and related in known:
                roots.append(related)
            elif kind == "DESCRIBED_BY" and related == document_id and element in known:
                roots.append(element)
        root_set = set(dict.fromkeys(roots))
        direct: set[str] = set()
        graph_known = False
        for element, kind, related in relationships:
            if kind in _DOWNWARD and element in root_set:
                graph_known = True
                direct.add(related)
            elif kind in _UPWARD and related in root_set:
                graph_known = True
                direct.add(element)

        components = []
        subject = None
        for i, (pkg, spdx_id) in enumerate(zip(packages, ids, strict=True)):
            component = self._component(
                pkg, spdx_id, f"packages[{i}]", None if spdx_id in root_set or not graph_known else spdx_id in direct
            )
            components.append(component)
            if subject is None and roots and spdx_id == roots[0]:
                subject = f"{component.name}@{component.version}" if component.version else component.name
        return ReadResult(
            format="spdx",
            tool=tool,
            tool_version=tool_version,
            components=tuple(components),
            spec_version=version.removeprefix("SPDX-"),
            subject=subject,
        )

    @staticmethod
    def _component(pkg: dict[str, Any], spdx_id: str, path: str, direct: bool | None) -> Component:
        purl = None
        for j, ref in enumerate(_objects(pkg, "externalRefs", path)):
            if _opt_str(ref, "referenceType", f"{path}.externalRefs[{j}]") == "purl":
                purl = _req_str(ref, "referenceLocator", f"{path}.externalRefs[{j}]")
                break
        licences: list[str] = []
        for key in ("licenseConcluded", "licenseDeclared"):
            text = _opt_str(pkg, key, path)
            if text is not None and text.strip() not in _NO_LICENCE and text.strip() not in licences:
                licences.append(text.strip())
        hashes = []
        for j, checksum in enumerate(_objects(pkg, "checksums", path)):
            where = f"{path}.checksums[{j}]"
            hashes.append((_req_str(checksum, "algorithm", where), _req_str(checksum, "checksumValue", where)))
        purpose = _opt_str(pkg, "primaryPackagePurpose", path)
        return Component(
            name=_req_str(pkg, "name", path),
            version=_opt_str(pkg, "versionInfo", path),
            purl=purl,
            type=purpose.lower() if purpose else None,
            licenses=tuple(licences),
            direct=direct,
            hashes=tuple(hashes),
            bom_ref=spdx_id,
        )
