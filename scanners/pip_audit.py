"""Reader for pip-audit's JSON report (`pip-audit -f json`).

The shape pip-audit 2.x writes (`pip_audit/_format/json.py`)::

    {"dependencies": [
        {"name": "flask", "version": "0.5",
         "vulns": [{"id": "PYSEC-2019-179", "fix_versions": ["1.0"],
                    "aliases": ["CVE-2019-1010083"], "description": "..."}]},
        {"name": "my-pkg", "skip_reason": "Dependency not found on PyPI and could not be audited: ..."}],
     "fixes": [{"name", "old_version", "new_version"} or {"name", "version", "skip_reason"}]}

`aliases` and `description` are present unless turned off (`--aliases off`, `--desc off`).
pip-audit 1.x wrote the `dependencies` array alone as the whole document; both are read.

Mapping decisions:

- Every vulnerability of every dependency is a finding: `rule_id` is the vulnerability id
  (PYSEC-, GHSA-, CVE-...), kind `dependency`, `package` with a `pkg:pypi` purl of the PEP 503
  normalised name, and the fix versions. `cve` holds the id and aliases that are CVE ids;
  `aliases` all the aliases. pip-audit gives no severity: it is `unknown` (the policy decides
  what an unrated vulnerability means), never dropped. `message` is the description, or
  "<name> <version> is affected by <id>" when the report has none. There is no location: the
  report does not say which requirements file a dependency came from.
- A dependency with `skip_reason` was not audited: the scan is incomplete, with
  "<name>: <skip_reason>" as its error. A fix that could not be applied (`fixes[].skip_reason`)
  leaves the vulnerability reported as a finding and does not make the audit incomplete.
- Components: every dependency is also a component (type `library`, `pkg:pypi` purl; a skipped
  one has no version), so a policy can see what was audited. pip-audit knows no licences,
  hashes or scope, so those stay empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from packageurl import PackageURL

from gate.model import Component, Finding, Package, ReadResult
from gate.model import ShapeError as _Shape
from gate.model import at as _at
from gate.model import opt_str as _opt_str
from gate.model import req_str as _req_str
from gate.model import type_name as _type_name
from scanners.interface import ReportReader, read_checked

_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+")
_SEPARATORS = re.compile(r"[-_.]+")

# Keys that mark another format's document that also has a `dependencies` array.
_OTHER_FORMATS = ("bomFormat", "specVersion", "spdxVersion", "runs", "results", "$schema")


def _strings(obj: Mapping[str, Any], key: str, base: str) -> tuple[str, ...]:
    value = obj.get(key)
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _Shape(_at(base, key), f"must be an array, not {_type_name(value)}")
    for i, v in enumerate(value):
        if not isinstance(v, str):
            raise _Shape(f"{_at(base, key)}[{i}]", f"must be a string, not {_type_name(v)}")
    return tuple(value)


def _looks_like_dependency(item: Any) -> bool:
    return isinstance(item, dict) and "name" in item and ("vulns" in item or "skip_reason" in item)


def _canonical_name(name: str) -> str:
    """PEP 503 normalisation (the formula the PEP gives; pip-audit already writes names so)."""
    return _SEPARATORS.sub("-", name).lower()


def _purl(name: str, version: str | None) -> str:
    canonical = _canonical_name(name)
    # Unreserved characters (RFC 3986) are never percent-encoded: the common case needs no
    # PackageURL object, which costs tens of microseconds per dependency.
    if _UNRESERVED.fullmatch(canonical) and (version is None or _UNRESERVED.fullmatch(version)):
        return f"pkg:pypi/{canonical}@{version}" if version is not None else f"pkg:pypi/{canonical}"
    return str(PackageURL(type="pypi", name=canonical, version=version).to_string())


class PipAuditReader(ReportReader):
    """Reads pip-audit's JSON report: the 2.x object and the 1.x top-level array."""

    format: ClassVar[str] = "pip-audit"
    media: ClassVar[str] = "json"

    def detect(self, doc: Any) -> bool:
        """A `dependencies` array of `{name, vulns | skip_reason}` objects, or such an array alone.

        An empty 2.x audit (`{"dependencies": [], "fixes": []}`) is recognised by its `fixes`.
        CycloneDX and SPDX documents also have `dependencies`, but of another shape and beside
        their own marker keys.
        """
        if isinstance(doc, list):
            return bool(doc) and _looks_like_dependency(doc[0])
        if not isinstance(doc, dict) or any(k in doc for k in _OTHER_FORMATS):
            return False
        deps = doc.get("dependencies")
        if not isinstance(deps, list):
            return False
        return _looks_like_dependency(deps[0]) if deps else "fixes" in doc

    def read(self, doc: Any, source: str) -> ReadResult:
        """Every vulnerability as a finding, every dependency as a component."""
        return read_checked(self._read, doc, source, "pip-audit")

    def _read(self, doc: Any) -> ReadResult:
        deps: list[Any]
        if isinstance(doc, list):
            deps, prefix, fixes = doc, "", None
        elif isinstance(doc, dict):
            value = doc.get("dependencies")
            if value is None:
                raise _Shape("dependencies", "is missing")
            if not isinstance(value, list):
                raise _Shape("dependencies", f"must be an array, not {_type_name(value)}")
            deps, prefix, fixes = value, "dependencies", doc.get("fixes")
        else:
            raise _Shape("the document", f"must be an object or an array, not {_type_name(doc)}")

        findings: list[Finding] = []
        components: list[Component] = []
        errors: list[str] = []
        for i, dep in enumerate(deps):
            path = f"{prefix}[{i}]"
            if not isinstance(dep, dict):
                raise _Shape(path, f"must be an object, not {_type_name(dep)}")
            name = _req_str(dep, "name", path)
            if not name:
                raise _Shape(f"{path}.name", "is empty")
            skip = _opt_str(dep, "skip_reason", path)
            if skip is not None:
                errors.append(f"{name}: {skip}")
                version = _opt_str(dep, "version", path)
                components.append(Component(name=name, version=version, purl=_purl(name, version), type="library"))
                continue
            version = _req_str(dep, "version", path)
            purl = _purl(name, version)
            components.append(Component(name=name, version=version, purl=purl, type="library"))
            vulns = dep.get("vulns")
            if vulns is None:
                raise _Shape(f"{path}.vulns", "is missing (a dependency has `vulns` or `skip_reason`)")
            if not isinstance(vulns, list):
                raise _Shape(f"{path}.vulns", f"must be an array, not {_type_name(vulns)}")
            for j, vuln in enumerate(vulns):
                findings.append(_finding(vuln, f"{path}.vulns[{j}]", len(findings), name, version, purl))

        statistics = {"dependencies": len(deps), "skipped": len(errors), "vulnerabilities": len(findings)}
        if fixes is not None:
            if not isinstance(fixes, list):
                raise _Shape("fixes", f"must be an array, not {_type_name(fixes)}")
            for i, fix in enumerate(fixes):
                if not isinstance(fix, dict):
                    raise _Shape(f"fixes[{i}]", f"must be an object, not {_type_name(fix)}")
            statistics["fixes"] = len(fixes)
            statistics["fixes_skipped"] = sum(1 for f in fixes if "skip_reason" in f)
        return ReadResult(
            format=self.format,
            tool="pip-audit",
            tool_version=None,  # pip-audit's JSON carries no version
            findings=tuple(findings),
            components=tuple(components),
            complete=not errors,
            errors=tuple(errors),
            statistics=statistics,
        )


def _finding(vuln: Any, path: str, index: int, name: str, version: str, purl: str) -> Finding:
    if not isinstance(vuln, dict):
        raise _Shape(path, f"must be an object, not {_type_name(vuln)}")
    vuln_id = _req_str(vuln, "id", path)
    if not vuln_id:
        raise _Shape(f"{path}.id", "is empty")
    fixed = _strings(vuln, "fix_versions", path)
    aliases = _strings(vuln, "aliases", path)
    description = _opt_str(vuln, "description", path)
    cve = tuple(dict.fromkeys(a for a in (vuln_id, *aliases) if a[:4].upper() == "CVE-"))
    return Finding(
        tool="pip-audit",
        rule_id=vuln_id,
        severity="unknown",
        message=description.strip() if description and description.strip() else f"{name} {version} is affected by {vuln_id}",
        index=index,
        kind="dependency",
        cve=cve,
        aliases=aliases,
        package=Package(name=name, version=version, purl=purl, fixed_versions=fixed),
        description=description,
    )
