"""Readers for CycloneDX SBOMs and VEX: JSON (spec 1.2 to 1.7) and XML (spec 1.0 to 1.7).

What is read:

- Components: every component of the tree, nested ones included, in document order (a parent
  before its children); the subject (`metadata.component`) is not a component but the result's
  `subject` ("name@version"). Duplicate entries are kept as listed. Licences are taken as given:
  `license.id`, else `license.name`, or the `expression`. `direct` comes from the dependency
  graph: a component is direct when the subject's own `dependencies` entry lists its bom-ref;
  it is None when the document has no graph, no subject bom-ref, or no entry for the subject.
- Vulnerabilities (spec 1.4+): one finding per `affects[]` entry (one with no package when a
  vulnerability affects nothing listed). The ref is resolved by bom-ref to the component (or the
  subject); a ref that resolves to nothing (a BOM-Link into another BOM, a hanging ref) keeps
  its text as the package purl. Severity is the highest among the ratings: a rating's own
  `severity`, else its `score` by the CVSS bands when the rating is a CVSS one (or names no
  method; an EPSS probability or an SSVC decision is no CVSS score). `fixed_versions` are the
  `affects[].versions[].version` whose status is `unaffected`.
- VEX: a vulnerability's `analysis` with a `state` becomes one `VexStatement` for the products
  it affects (their purls, else the refs as given; a purl without version at each single version
  its `affects[].versions` lists as affected). A `not_affected` analysis without a
  `justification` is refused, as OpenVEX does. Which findings a statement covers (dependency
  findings of the same vulnerability, component and version) is `gate.pipeline.apply_vex`'s.
- Tool: the first `application` among `metadata.tools.components` (1.5+), else the first tool
  listed (both forms); "cyclonedx" when the document names none.

Validation, and why it is not cyclonedx-python-lib's own validator or deserialiser:

- Every document is checked against the official schema of its spec version, the files that
  cyclonedx-python-lib ships (JSON Schema for 1.2+, XSD for 1.0+; the library's `SchemaVersion`
  says which versions exist), and refused with the first error's JSON path or XML element. The
  CycloneDX format has no JSON before 1.2, so a JSON document claiming 1.0 or 1.1 is refused.
- XML is validated with the library's `XmlValidator` (lxml, ~50 ms for a 1 MB BOM).
- JSON is validated with jsonschema-rs over the library's schema files. The library's
  `JsonValidator` (pure-Python jsonschema) took 80 s on a 2 MB corpus BOM and 3.4 s on a 73 KB
  one: its `iri-reference` format check runs an Earley parser per URL and `uniqueItems` compares
  objects pairwise. jsonschema-rs gives the same verdicts, formats included, in ~10 ms for 2 MB
  and ~30 ms for a 5,000-component BOM.
- The spec says every bom-ref is unique within a BOM. The XSD enforces it (an identity
  constraint); JSON Schema cannot, so JSON documents are checked for it here, so that the same
  BOM gets the same verdict in both encodings.
- The model is then built from the validated dict (or, for XML, from a dict of the same shape
  made from the element tree) rather than through `Bom.from_json`/`Bom.from_xml`: the library's
  object model keeps components in sorted sets (document order is lost), and it took 0.7 s for
  the 2 MB corpus BOM and 6.5 s for a 5,000-component one, against ~0.1 s for this whole reader.
- Vulnerabilities outside the spec are refused, not ignored: a `vulnerabilities` member in a
  1.2/1.3 JSON document (which those schemas leave unchecked) or the pre-1.4 XML vulnerability
  extension. A gate that silently dropped them would read a vulnerable SBOM as clean.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from cyclonedx.schema import OutputFormat, SchemaVersion

from gate.errors import InputError
from gate.model import SEVERITIES, Component, Finding, Package, ReadResult, VexStatement, severity_from_score
from sbom.interface import SbomReader

NAMESPACE_PREFIX = "http://cyclonedx.org/schema/bom/"
"""CycloneDX XML namespaces are this prefix plus the spec version."""

_VULN_EXTENSION_NS = "http://cyclonedx.org/schema/ext/vulnerability/"

# Every spec version the installed cyclonedx-python-lib knows, oldest first.
_VERSIONS: dict[str, SchemaVersion] = {sv.to_version(): sv for sv in sorted(SchemaVersion, key=lambda s: s.value)}
_VULNERABILITIES_SINCE = (1, 4)

_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
_RATING_SEVERITY = {"critical": "critical", "high": "high", "medium": "medium", "low": "low", "info": "info", "none": "info"}
_CVSS_METHODS = frozenset({"CVSSv2", "CVSSv3", "CVSSv31", "CVSSv4"})
_CVE = re.compile(r"CVE-\d{4}-\d{4,}")
_IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_MAX_MESSAGE = 300


def supported_versions() -> tuple[str, ...]:
    """The CycloneDX spec versions read, oldest first (those cyclonedx-python-lib has schemas for)."""
    return tuple(_VERSIONS)


def _range_text(versions: Sequence[str]) -> str:
    return f"{versions[0]} to {versions[-1]}"


def _json_versions() -> tuple[str, ...]:
    from cyclonedx.schema._res import BOM_JSON

    return tuple(v for v, sv in _VERSIONS.items() if BOM_JSON.get(sv))


# --------------------------------------------------------------------------------------------
# Schema validation


@cache
def _json_validator(version: str) -> Any:
    """jsonschema-rs over the official JSON schema of `version`, as cyclonedx-python-lib ships it."""
    import jsonschema_rs

    # The schema files live in the library's private `_res` package; it is where its own
    # validators read them from, and no public name exposes the paths.
    from cyclonedx.schema import _res

    schema_file = _res.BOM_JSON[_VERSIONS[version]]
    if schema_file is None:  # pragma: no cover - _json_versions() filters these out
        raise ValueError(f"no JSON schema for CycloneDX {version}")
    local = {Path(p).name: p for p in (_res.SPDX_JSON, _res.JSF, _res.CRYPTOGRAPHY_DEFS)}

    def retrieve(uri: str) -> Any:
        # The schemas refer to their siblings by URL; serve the shipped copies, never the network.
        name = uri.rsplit("/", 1)[-1].split("#", 1)[0]
        if name not in local:
            raise ValueError(f"the CycloneDX schema refers to {uri}, which is not shipped")
        return json.loads(Path(local[name]).read_text(encoding="utf-8"))

    schema = json.loads(Path(schema_file).read_text(encoding="utf-8"))
    return jsonschema_rs.Draft7Validator(schema, retriever=retrieve, validate_formats=True)


@cache
def _xml_validator(version: str) -> Any:
    from cyclonedx.validation import make_schemabased_validator

    return make_schemabased_validator(OutputFormat.XML, _VERSIONS[version])


def _json_path(parts: Sequence[Any]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.fullmatch(str(part)):
            text += f".{part}" if text else str(part)
        else:
            text += f"[{json.dumps(str(part))}]"
    return text or "the document"


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def _schema_error(version: str, media: str, where: str, problem: str, source: str) -> InputError:
    return InputError(
        f"not a valid CycloneDX {version} document: {where}: {_shorten(problem)}",
        file=source,
        hint=f"the official CycloneDX {version} {media} schema refuses it; fix or regenerate the SBOM",
    )


def _validate_json(doc: dict[str, Any], version: str, source: str) -> None:
    try:
        error = next(iter(_json_validator(version).iter_errors(doc)), None)
    except ValueError as exc:  # the validator's own recursion bound, on very deep documents
        raise InputError(f"cannot validate this CycloneDX {version} document: {exc}", file=source, hint="lower --max-depth") from None
    if error is not None:
        raise _schema_error(version, "JSON", _json_path(list(error.instance_path)), str(error.message), source)


_NS_IN_TEXT = re.compile(r"\{[^{}]*\}")
_PREFIX_IN_PATH = re.compile(r"(?<=/)ns\d+:")


def _validate_xml(root: ET.Element, version: str, source: str) -> None:
    # The validator takes text: the tree that defusedxml built is serialised again (no DTD or
    # entity survives that parse). Line numbers would be those of the copy, so the error names
    # the element by its path instead.
    text = ET.tostring(root, encoding="unicode")
    error = _xml_validator(version).validate_str(text)
    if error is not None:
        entry = error.data
        where = _PREFIX_IN_PATH.sub("", str(getattr(entry, "path", "") or "")) or "the document"
        problem = _NS_IN_TEXT.sub("", str(getattr(entry, "message", entry)))
        raise _schema_error(version, "XML", f"element {where}", problem, source)


def _check_unique_refs(doc: Any, source: str, version: str) -> None:
    """Every bom-ref unique within the BOM (the XSD's identity constraint, for JSON)."""
    duplicate = _first_duplicate_ref(doc)
    if duplicate is None:
        return
    places = sorted(_ref_places(doc, duplicate), key=_path_order)
    raise InputError(
        f"not a valid CycloneDX {version} document: {_json_path(places[1])}: "
        f"bom-ref {_shorten(json.dumps(duplicate))} is already used at {_json_path(places[0])}",
        file=source,
        hint="every bom-ref must be unique within a BOM (CycloneDX specification)",
    )


def _first_duplicate_ref(doc: Any) -> str | None:
    # The fast pass keeps no paths (they are only worth building for the error message) and
    # tests exact types: a parsed JSON document holds plain dicts and lists only.
    seen: set[str] = set()
    stack = [doc]
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if type(node) is dict:
            ref = node.get("bom-ref")
            if type(ref) is str:
                if ref in seen:
                    return ref
                seen.add(ref)
            values: Any = node.values()
        else:
            values = node
        for value in values:
            kind = type(value)
            if kind is dict or kind is list:
                push(value)
    return None


def _ref_places(doc: Any, ref: str) -> Iterator[list[Any]]:
    stack: list[tuple[Any, list[Any]]] = [(doc, [])]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            if node.get("bom-ref") == ref:
                yield path
            stack.extend((v, [*path, k]) for k, v in node.items() if isinstance(v, (dict, list)))
        else:
            stack.extend((v, [*path, i]) for i, v in enumerate(node) if isinstance(v, (dict, list)))


def _path_order(path: list[Any]) -> list[tuple[int, Any]]:
    return [(0, p) if isinstance(p, int) else (1, str(p)) for p in path]


# --------------------------------------------------------------------------------------------
# Building the model from a validated document (JSON, or XML turned into the same shape)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _walk_components(roots: list[Any]) -> Iterator[dict[str, Any]]:
    """Every component of the tree, depth first, a parent before its children, in document order."""
    stack = list(reversed(_list(roots)))
    while stack:
        comp = stack.pop()
        if isinstance(comp, dict):
            yield comp
            stack.extend(reversed(_list(comp.get("components"))))


def _licences(entries: Any) -> tuple[str, ...]:
    out: list[str] = []
    for entry in _list(entries):
        entry = _dict(entry)
        lic = _dict(entry.get("license"))
        text = _text(lic.get("id")) or _text(lic.get("name")) or _text(entry.get("expression"))
        if text:
            out.append(text)
    return tuple(out)


def _hashes(entries: Any) -> tuple[tuple[str, str], ...]:
    out = []
    for h in _list(entries):
        alg, content = _text(_dict(h).get("alg")), _text(_dict(h).get("content"))
        if alg and content is not None:
            out.append((alg, content))
    return tuple(out)


def _component(comp: dict[str, Any], direct: set[str] | None) -> Component:
    ref = _text(comp.get("bom-ref"))
    return Component(
        name=_text(comp.get("name")) or "",
        version=_text(comp.get("version")),
        purl=_text(comp.get("purl")),
        type=_text(comp.get("type")),
        licenses=_licences(comp.get("licenses")),
        scope=_text(comp.get("scope")),
        direct=None if direct is None else (ref is not None and ref in direct),
        hashes=_hashes(comp.get("hashes")),
        bom_ref=ref,
        version_range=_version_range(comp),
    )


# cyclonedx-py's description of a component it read from a requirements file (`gate run`
# writes one from the project's pyproject dependencies or requirement files):
# "requirements line 4: certifi>=2023.5.7".
_REQUIREMENT_LINE = re.compile(r"requirements line \d+: (.+)")


def _version_range(comp: Mapping[str, Any]) -> str | None:
    """The versions a component without a version admits, as a `vers` range: its CycloneDX 1.7
    `versionRange`, else the specifier of the requirement line cyclonedx-py names in its
    description (PyPI). None when the component has a version or no range can be read (it is
    then matched, or listed as unmatched, as before)."""
    if _text(comp.get("version")):
        return None
    given = _text(comp.get("versionRange"))
    if given:
        return given
    found = _REQUIREMENT_LINE.fullmatch(_text(comp.get("description")) or "")
    if not found:
        return None
    return pep440_vers(found.group(1), _text(comp.get("name")) or "")


def pep440_vers(requirement: str, name: str) -> str | None:
    """The `vers:pypi/...` range a PEP 508 requirement line admits, or None.

    The requirement must name `name` (PEP 503). `>=`, `>`, `<`, `<=`, `!=`, `==` (exact) map
    as they are; `~=X.Y` is `>=X.Y|<X+1`, `==X.*` is `>=X.dev0|<X+1.dev0`. An arbitrary
    equality (`===`), a wildcard exclusion or an unreadable line gives None (the component
    stays unmatched). A line without a specifier admits every version (`vers:pypi/*`).
    """
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    try:
        req = Requirement(requirement)
    except InvalidRequirement:
        return None
    if canonicalize_name(req.name) != canonicalize_name(name):
        return None
    parts: list[tuple[Version, str]] = []
    for spec in req.specifier:
        op, text = spec.operator, spec.version
        try:
            if op in (">=", ">", "<", "<=", "!=", "==") and not text.endswith(".*"):
                parts.append((Version(text), f"{'=' if op == '==' else op}{text}"))
            elif op == "==" and text.endswith(".*"):
                prefix = text[:-2]
                parts.append((Version(f"{prefix}.dev0"), f">={prefix}.dev0"))
                upper = _bump(Version(prefix).release, Version(prefix).epoch)
                parts.append((Version(f"{upper}.dev0"), f"<{upper}.dev0"))
            elif op == "~=":
                release = Version(text).release
                parts.append((Version(text), f">={text}"))
                upper = _bump(release[:-1], Version(text).epoch)
                parts.append((Version(upper), f"<{upper}"))
            else:
                return None
        except InvalidVersion:
            return None
    if not parts:
        return "vers:pypi/*"
    return "vers:pypi/" + "|".join(c for _, c in sorted(parts, key=lambda p: (p[0], p[1])))


def _bump(release: tuple[int, ...], epoch: int = 0) -> str:
    """`2.2` -> `3`... the release with its last part incremented (`1.4` of `~=1.4.5` -> `1.5`),
    under the same epoch (`1!1.4` -> `1!2`: without it the bound fell below the lower one and the
    range admitted nothing, so no advisory matched; red team, round 2)."""
    if not release:
        from packaging.version import InvalidVersion

        raise InvalidVersion("empty release")
    bumped = ".".join([*(str(p) for p in release[:-1]), str(release[-1] + 1)])
    return f"{epoch}!{bumped}" if epoch else bumped


def _direct_refs(bom: Mapping[str, Any], subject: dict[str, Any]) -> set[str] | None:
    subject_ref = _text(subject.get("bom-ref"))
    graph = bom.get("dependencies")
    if subject_ref is None or not isinstance(graph, list):
        return None
    for entry in graph:
        entry = _dict(entry)
        if entry.get("ref") == subject_ref:
            return {r for r in _list(entry.get("dependsOn")) if isinstance(r, str)}
    return None


def _tool(tools: Any) -> tuple[str, str | None]:
    if isinstance(tools, dict):
        comps = [c for c in _list(tools.get("components")) if isinstance(c, dict)]
        apps = [c for c in comps if c.get("type") == "application"]
        entries = apps + comps + [s for s in _list(tools.get("services")) if isinstance(s, dict)]
    else:
        entries = [t for t in _list(tools) if isinstance(t, dict)]
    for entry in entries:
        name = _text(entry.get("name"))
        if name:
            return name, _text(entry.get("version"))
    return "cyclonedx", None


def _rating_severity(rating: dict[str, Any]) -> str:
    severity = _RATING_SEVERITY.get(str(rating.get("severity")))
    if severity is not None:
        return severity
    score, method = rating.get("score"), rating.get("method")
    if isinstance(score, (int, float)) and not isinstance(score, bool) and (method is None or method in _CVSS_METHODS):
        return severity_from_score(float(score))
    return "unknown"


def _severity(ratings: Any) -> str:
    found = [_rating_severity(_dict(r)) for r in _list(ratings)]
    known = [s for s in found if s != "unknown"]
    return min(known, key=_SEVERITY_RANK.__getitem__) if known else "unknown"


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _fixed_versions(affect: dict[str, Any]) -> tuple[str, ...]:
    """The single versions an `affects` entry marks unaffected (a `range` is no version)."""
    found = []
    for entry in _list(affect.get("versions")):
        entry = _dict(entry)
        version = _text(entry.get("version"))
        if version and entry.get("status") == "unaffected":
            found.append(version)
    return _unique(found)


def _vex_products(purl: str, affect: dict[str, Any], component_version: str | None = None) -> list[str]:
    """What a VEX analysis speaks about for one `affects` entry: the purl, or when it names no
    version, the purl at each single version the entry lists as affected (or with no status),
    else at the component's own `version`.

    A version `range` is not resolved (the gate has no `vers` evaluator): a statement that gives
    only ranges names no version, and so covers no finding (tests/test_vex_scope.py).
    """
    from gate.purl import build, parts

    if not purl:
        return []
    if "@" in purl.split("?", 1)[0].split("#", 1)[0].rsplit("/", 1)[-1]:
        return [purl]  # it names its version (the common case, without the cost of parsing)
    try:
        ptype, namespace, name, version, qualifiers, subpath = parts(purl)
    except ValueError:
        return [purl]  # an unresolved ref: kept as evidence, it matches no package
    if version is not None:
        return [purl]
    versions = []
    for entry in _list(affect.get("versions")):
        entry = _dict(entry)
        v = _text(entry.get("version"))
        if v and entry.get("status") in (None, "affected", "unknown"):
            versions.append(v)
    if not versions and component_version:
        versions.append(component_version)
    return [build(ptype, namespace, name, v, qualifiers, subpath) for v in versions] or [purl]


class _Bom:
    """One validated BOM (a dict in the JSON shape) turned into the model."""

    def __init__(self, bom: Mapping[str, Any], version: str, source: str) -> None:
        self.bom = bom
        self.version = version
        self.source = source

    def read(self) -> ReadResult:
        metadata = _dict(self.bom.get("metadata"))
        subject = _dict(metadata.get("component"))
        direct = _direct_refs(self.bom, subject)
        raw_components = list(_walk_components(_list(self.bom.get("components"))))
        components = tuple(_component(c, direct) for c in raw_components)

        by_ref: dict[str, dict[str, Any]] = {}
        for comp in [subject, *raw_components]:
            ref = _text(comp.get("bom-ref"))
            if ref is not None:
                by_ref.setdefault(ref, comp)

        tool, tool_version = _tool(metadata.get("tools"))
        findings: list[Finding] = []
        vex: list[VexStatement] = []
        for i, vuln in enumerate(_list(self.bom.get("vulnerabilities"))):
            self._vulnerability(_dict(vuln), i, by_ref, tool, tool_version, findings, vex)

        name, version = _text(subject.get("name")), _text(subject.get("version"))
        return ReadResult(
            format="cyclonedx",
            tool=tool,
            tool_version=tool_version,
            findings=tuple(findings),
            components=components,
            vex=tuple(vex),
            spec_version=self.version,
            subject=(f"{name}@{version}" if version else name) if name else None,
        )

    def _vulnerability(
        self,
        vuln: dict[str, Any],
        index: int,
        by_ref: dict[str, dict[str, Any]],
        tool: str,
        tool_version: str | None,
        findings: list[Finding],
        vex: list[VexStatement],
    ) -> None:
        vuln_id = _text(vuln.get("id")) or _text(vuln.get("bom-ref")) or f"vulnerabilities[{index}]"
        ref_ids = [i for i in (_text(_dict(r).get("id")) for r in _list(vuln.get("references"))) if i]
        cve = _unique([i for i in [vuln_id, *ref_ids] if _CVE.fullmatch(i)])
        aliases = _unique([i for i in ref_ids if i != vuln_id])
        cwe = _unique([f"CWE-{c}" for c in _list(vuln.get("cwes")) if isinstance(c, int) and not isinstance(c, bool)])
        description, detail = _text(vuln.get("description")), _text(vuln.get("detail"))
        message = description or detail or vuln_id
        severity = _severity(vuln.get("ratings"))
        help_uri = _text(_dict(vuln.get("source")).get("url"))

        products: list[str] = []
        affects = [_dict(a) for a in _list(vuln.get("affects"))]
        targets: list[Package | None] = []
        for affect in affects:
            ref = _text(affect.get("ref")) or ""
            fixed = _fixed_versions(affect)
            comp = by_ref.get(ref)
            if comp is None:
                targets.append(Package(name=None, purl=ref or None, fixed_versions=fixed))
                products.extend(_vex_products(ref, affect))
            else:
                purl = _text(comp.get("purl"))
                targets.append(Package(name=_text(comp.get("name")), version=_text(comp.get("version")), purl=purl, fixed_versions=fixed))
                products.extend(_vex_products(purl or ref, affect, _text(comp.get("version")) if purl else None))
        for package in targets or [None]:
            findings.append(
                Finding(
                    tool=tool,
                    tool_version=tool_version,
                    rule_id=vuln_id,
                    severity=severity,
                    message=message,
                    index=len(findings),
                    kind="dependency",
                    cwe=cwe,
                    cve=cve,
                    aliases=aliases,
                    package=package,
                    help_uri=help_uri,
                    description=detail if description and detail else None,
                )
            )

        analysis = _dict(vuln.get("analysis"))
        state = _text(analysis.get("state"))
        if state == "not_affected" and not _text(analysis.get("justification")):
            # As OpenVEX requires (and the gate refuses there): "not affected" must say why.
            raise InputError(
                f"not a usable CycloneDX VEX: vulnerabilities[{index}] ({vuln_id[:60]}) is not_affected without "
                "analysis.justification; a statement that silences a finding must say why",
                file=self.source,
                hint="add analysis.justification (code_not_present, code_not_reachable, requires_configuration, ...)",
            )
        if state:
            vex.append(
                VexStatement(
                    vulnerability=vuln_id,
                    state=state,
                    products=_unique([p for p in products if p]),
                    aliases=aliases,
                    justification=_text(analysis.get("justification")),
                    detail=_text(analysis.get("detail")),
                    response=tuple(r for r in _list(analysis.get("response")) if isinstance(r, str)),
                    source=self.source,
                    timestamp=_text(analysis.get("lastUpdated")),
                )
            )


# --------------------------------------------------------------------------------------------
# XML into the JSON shape


class _XmlBom:
    """The parts of a validated CycloneDX XML tree the model needs, as a dict of the JSON shape."""

    def __init__(self, namespace: str) -> None:
        self.ns = "{" + namespace + "}"

    def _child(self, el: ET.Element | None, name: str) -> ET.Element | None:
        if el is None:
            return None
        tag = self.ns + name
        for child in el:
            if child.tag == tag:
                return child
        return None

    def _children(self, el: ET.Element | None, name: str) -> list[ET.Element]:
        if el is None:
            return []
        tag = self.ns + name
        return [child for child in el if child.tag == tag]

    def _text(self, el: ET.Element | None, name: str) -> str | None:
        child = self._child(el, name)
        if child is None or child.text is None:
            return None
        return child.text.strip()

    def bom(self, root: ET.Element) -> dict[str, Any]:
        out: dict[str, Any] = {}
        metadata = self._child(root, "metadata")
        if metadata is not None:
            meta: dict[str, Any] = {}
            subject = self._child(metadata, "component")
            if subject is not None:
                meta["component"] = self._component(subject)
            tools = self._child(metadata, "tools")
            if tools is not None:
                meta["tools"] = self._tools(tools)
            out["metadata"] = meta
        components = self._child(root, "components")
        if components is not None:
            out["components"] = [self._component(c) for c in self._children(components, "component")]
        dependencies = self._child(root, "dependencies")
        if dependencies is not None:
            out["dependencies"] = [
                {"ref": d.get("ref"), "dependsOn": [x.get("ref") for x in self._children(d, "dependency")]}
                for d in self._children(dependencies, "dependency")
            ]
        vulnerabilities = self._child(root, "vulnerabilities")
        if vulnerabilities is not None:
            out["vulnerabilities"] = [self._vulnerability(v) for v in self._children(vulnerabilities, "vulnerability")]
        return out

    def _tools(self, tools: ET.Element) -> Any:
        legacy = self._children(tools, "tool")
        if legacy:
            return [{"name": self._text(t, "name"), "version": self._text(t, "version")} for t in legacy]
        return {
            "components": [
                {"type": c.get("type"), "name": self._text(c, "name"), "version": self._text(c, "version")}
                for c in self._children(self._child(tools, "components"), "component")
            ],
            "services": [
                {"name": self._text(s, "name"), "version": self._text(s, "version")}
                for s in self._children(self._child(tools, "services"), "service")
            ],
        }

    def _component(self, el: ET.Element) -> dict[str, Any]:
        licenses: list[dict[str, Any]] = []
        licence_el = self._child(el, "licenses")
        for lic in [] if licence_el is None else list(licence_el):
            if lic.tag == self.ns + "license":
                licenses.append({"license": {"id": self._text(lic, "id"), "name": self._text(lic, "name")}})
            elif lic.tag == self.ns + "expression":
                licenses.append({"expression": (lic.text or "").strip()})
            elif lic.tag == self.ns + "expression-detailed":
                licenses.append({"expression": lic.get("expression")})
        return {
            "bom-ref": el.get("bom-ref"),
            "type": el.get("type"),
            "name": self._text(el, "name"),
            "version": self._text(el, "version"),
            "purl": self._text(el, "purl"),
            "scope": self._text(el, "scope"),
            "licenses": licenses,
            "hashes": [{"alg": h.get("alg"), "content": (h.text or "").strip()} for h in self._children(self._child(el, "hashes"), "hash")],
            "components": [self._component(c) for c in self._children(self._child(el, "components"), "component")],
        }

    def _source(self, el: ET.Element | None) -> dict[str, Any]:
        return {"name": self._text(el, "name"), "url": self._text(el, "url")}

    def _vulnerability(self, el: ET.Element) -> dict[str, Any]:
        ratings = []
        for r in self._children(self._child(el, "ratings"), "rating"):
            score = self._text(r, "score")
            ratings.append(
                {
                    "score": float(score) if score else None,
                    "severity": self._text(r, "severity"),
                    "method": self._text(r, "method"),
                }
            )
        analysis = self._child(el, "analysis")
        return {
            "bom-ref": el.get("bom-ref"),
            "id": self._text(el, "id"),
            "source": self._source(self._child(el, "source")),
            "references": [
                {"id": self._text(r, "id"), "source": self._source(self._child(r, "source"))}
                for r in self._children(self._child(el, "references"), "reference")
            ],
            "ratings": ratings,
            "cwes": [int((c.text or "").strip()) for c in self._children(self._child(el, "cwes"), "cwe")],
            "description": self._text(el, "description"),
            "detail": self._text(el, "detail"),
            "analysis": {}
            if analysis is None
            else {
                "state": self._text(analysis, "state"),
                "justification": self._text(analysis, "justification"),
                "response": [(r.text or "").strip() for r in self._children(self._child(analysis, "responses"), "response")],
                "detail": self._text(analysis, "detail"),
            },
            "affects": [
                {
                    "ref": self._text(t, "ref"),
                    "versions": [
                        {
                            "version": self._text(v, "version"),
                            "range": self._text(v, "range"),
                            "status": self._text(v, "status") or "affected",
                        }
                        for v in self._children(self._child(t, "versions"), "version")
                    ],
                }
                for t in self._children(self._child(el, "affects"), "target")
            ],
        }


# --------------------------------------------------------------------------------------------
# The readers


def _version_tuple(version: str) -> tuple[int, int]:
    major, minor = version.split(".")
    return int(major), int(minor)


class CycloneDxJsonReader(SbomReader):
    """Reads CycloneDX JSON (spec 1.2 to 1.7), validated against the official schema of its version."""

    format: ClassVar[str] = "cyclonedx"
    media: ClassVar[str] = "json"

    def detect(self, doc: Any) -> bool:
        """A JSON object whose `bomFormat` is "CycloneDX" (a member the spec requires)."""
        return isinstance(doc, dict) and doc.get("bomFormat") == "CycloneDX"

    def read(self, doc: Any, source: str) -> ReadResult:
        """Validate, then read components, vulnerabilities and VEX analysis."""
        if not isinstance(doc, dict):
            raise InputError(f"not a CycloneDX JSON document: it is a JSON {type(doc).__name__}, not an object", file=source)
        version = self._spec_version(doc, source)
        _validate_json(doc, version, source)
        _check_unique_refs(doc, source, version)
        if "vulnerabilities" in doc and _version_tuple(version) < _VULNERABILITIES_SINCE:
            raise InputError(
                f"a CycloneDX {version} document with a `vulnerabilities` member: vulnerabilities are part of "
                "CycloneDX from 1.4 on, and the gate does not read them outside the spec",
                file=source,
                hint="write the SBOM as CycloneDX 1.4 or later",
            )
        return _Bom(doc, version, source).read()

    @staticmethod
    def _spec_version(doc: dict[str, Any], source: str) -> str:
        supported = _json_versions()
        if "specVersion" not in doc:
            raise InputError("not a valid CycloneDX document: specVersion is missing", file=source)
        version = doc["specVersion"]
        if not isinstance(version, str):
            raise InputError(f"not a valid CycloneDX document: specVersion must be a string, not {json.dumps(version)[:40]}", file=source)
        if version in supported:
            return version
        if version in _VERSIONS:
            raise InputError(
                f"CycloneDX {version} has no JSON format (CycloneDX JSON starts at 1.2)",
                file=source,
                hint=f"supported: CycloneDX JSON {_range_text(supported)}, XML {_range_text(supported_versions())}",
            )
        raise InputError(
            f"CycloneDX specVersion {_shorten(json.dumps(version))} is not supported (supported: {_range_text(supported)})",
            file=source,
        )


class CycloneDxXmlReader(SbomReader):
    """Reads CycloneDX XML (spec 1.0 to 1.7), validated against the official XSD of its version."""

    format: ClassVar[str] = "cyclonedx"
    media: ClassVar[str] = "xml"

    def detect(self, doc: Any) -> bool:
        """A root element `bom` in no namespace or one under cyclonedx.org (read() refuses unknown ones)."""
        if not isinstance(doc, ET.Element) or not isinstance(doc.tag, str):
            return False
        namespace, local = _split_tag(doc.tag)
        return local == "bom" and (namespace == "" or "cyclonedx.org" in namespace)

    def read(self, doc: Any, source: str) -> ReadResult:
        """Check the namespace, validate against the XSD, then read as the JSON reader does."""
        if not isinstance(doc, ET.Element) or not isinstance(doc.tag, str):
            raise InputError("not a CycloneDX XML document", file=source)
        namespace, local = _split_tag(doc.tag)
        supported = supported_versions()
        expected = f"{NAMESPACE_PREFIX}{supported[0]} to {NAMESPACE_PREFIX}{supported[-1]}"
        if local != "bom":
            raise InputError(f"not a CycloneDX XML document: the root element is <{local}>, not <bom>", file=source)
        if not namespace:
            raise InputError(
                "the root element <bom> has no XML namespace, so no CycloneDX version",
                file=source,
                hint=f"CycloneDX XML declares xmlns={NAMESPACE_PREFIX}<version> ({expected})",
            )
        version = namespace[len(NAMESPACE_PREFIX) :] if namespace.startswith(NAMESPACE_PREFIX) else None
        if version not in _VERSIONS:
            raise InputError(
                f"the root element <bom> is in the XML namespace {_shorten(namespace)!r}, which is no CycloneDX version",
                file=source,
                hint=f"supported namespaces: {expected}",
            )
        assert version is not None
        _validate_xml(doc, version, source)
        if any(isinstance(el.tag, str) and el.tag.startswith("{" + _VULN_EXTENSION_NS) for el in doc.iter()):
            raise InputError(
                f"a CycloneDX {version} XML document with the pre-1.4 vulnerability extension, which the gate does not read",
                file=source,
                hint="write the SBOM as CycloneDX 1.4 or later, where vulnerabilities are part of the spec",
            )
        return _Bom(_XmlBom(namespace).bom(doc), version, source).read()


def _split_tag(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag
