"""Matching SBOM components against the database: one finding per flaw per package version.

Component names and versions are attacker text (an SBOM in a pull request says what it likes).
So: purls are parsed by packageurl-python (percent-encoding decoded, type lower-cased) and
names compared as their ecosystem does (PEP 503 for PyPI); a component whose purl version and
`version` field disagree is matched under both; a component with no purl, no version, a version
its ecosystem cannot order, or an ecosystem the database does not hold is *unmatched* and listed
as such in the input document, never taken as safe.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from gate.model import Component, Finding, Package, severity_from_score
from gate.vulndb.records import package_key
from gate.vulndb.store import Database
from gate.vulndb.versions import Unorderable, base_ecosystem, canonical_pypi, parser

TOOL: Final = "gate-vulndb"

# purl type -> OSV ecosystem. The purl spec's types; the name as OSV spells the ecosystem.
PURL_ECOSYSTEMS: Final = {
    "pypi": "PyPI",
    "npm": "npm",
    "maven": "Maven",
    "golang": "Go",
    "cargo": "crates.io",
    "gem": "RubyGems",
    "nuget": "NuGet",
    "composer": "Packagist",
    "hex": "Hex",
    "pub": "Pub",
}

# Identifier prefixes in the order the finding's rule id is chosen from an alias group: the
# ecosystem's own advisory first, then GitHub's, then any other, CVE last (it is listed anyway).
_ID_ORDER: Final = ("PYSEC-", "GHSA-")


@dataclass(frozen=True)
class Target:
    """A component reduced to what is matched: ecosystem, index key, display name, version."""

    ecosystem: str
    key: str
    name: str
    version: str
    purl: str


@dataclass
class Audit:
    """The result of matching a run's components."""

    findings: list[Finding] = field(default_factory=list)
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    matched_components: int = 0
    affected_components: int = 0


def _name_of(ecosystem: str, namespace: str | None, name: str) -> str:
    if ecosystem == "Maven":
        return f"{namespace}:{name}" if namespace else name
    if namespace and ecosystem in ("npm", "Go", "Packagist"):
        return f"{namespace}/{name}"
    return name


def targets(component: Component) -> tuple[list[Target], str | None]:
    """The (ecosystem, name, version) claims of a component, or the reason it cannot be matched."""
    from packageurl import PackageURL

    if not component.purl:
        return [], "no purl"
    try:
        purl = PackageURL.from_string(component.purl)
    except ValueError as exc:
        return [], f"unparsable purl: {exc}"
    ecosystem = PURL_ECOSYSTEMS.get(purl.type)
    if ecosystem is None:
        return [], f"no OSV ecosystem for purl type {purl.type!r}"
    name = _name_of(ecosystem, purl.namespace, purl.name)
    if ecosystem == "PyPI" and (not name.isascii() or not name.replace("-", "").replace("_", "").replace(".", "").isalnum()):
        return [], f"{name!r} is not a valid PyPI project name"
    versions = [v for v in dict.fromkeys((purl.version, component.version)) if v]
    if not versions:
        return [], "no version"
    canon = PackageURL(type=purl.type, namespace=purl.namespace, name=purl.name).to_string()
    key = package_key(ecosystem, name)
    out = [Target(ecosystem, key, name, v, f"{canon}@{v}") for v in versions]
    if ecosystem == "PyPI" and len(out) == 2 and canonical_pypi(out[0].version) == canonical_pypi(out[1].version):
        out = out[:1]
    return out, None


class _Groups:
    """Union-find over vulnerability ids: the records of one flaw (PYSEC, GHSA, CVE) become one group."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _id_rank(vid: str) -> tuple[int, str]:
    for n, prefix in enumerate(_ID_ORDER):
        if vid.startswith(prefix):
            return (n, vid)
    return (len(_ID_ORDER) + (1 if vid.startswith("CVE-") else 0), vid)


def cvss_score(severity: Sequence[Mapping[str, str]]) -> float | None:
    """The highest base score of the record's CVSS vectors (CVSS v2, v3.x, v4), by the `cvss` library."""
    best: float | None = None
    for sev in severity:
        kind, vector = sev.get("type"), sev.get("score", "")
        try:
            if kind == "CVSS_V3":
                from cvss import CVSS3

                score = float(CVSS3(vector).base_score)
            elif kind == "CVSS_V4":
                from cvss import CVSS4

                score = float(CVSS4(vector).base_score)
            elif kind == "CVSS_V2":
                from cvss import CVSS2

                score = float(CVSS2(vector).base_score)
            else:
                continue
        except Exception:  # noqa: BLE001, S112 - the cvss library raises its own hierarchy and ValueError/KeyError on bad vectors
            continue  # an unreadable vector is no score: the record's label or "unknown" stands in
        best = score if best is None else max(best, score)
    return best


_LABELS: Final = {"CRITICAL": "critical", "HIGH": "high", "MODERATE": "medium", "MEDIUM": "medium", "LOW": "low"}


def _affects(db: Database, target: Target) -> list[tuple[str, list[str]]]:
    """(record id, fixed versions of its affected entries) of every record affecting the target.

    Raises Unorderable when the target's version cannot be ordered in its ecosystem.
    """
    entries = db.packages.get(target.ecosystem, {}).get(target.key)
    parse = parser(target.ecosystem)
    version = parse(target.version)  # Unorderable -> unmatched, even with no record for the package
    if not entries:
        return []
    listed = canonical_pypi(target.version) if base_ecosystem(target.ecosystem) == "PyPI" else target.version
    out: dict[str, list[str]] = {}
    for rid, entry in entries:
        hit = listed in entry["versions"]
        if not hit:
            for rng in entry["ranges"]:
                parse_r = parser(target.ecosystem, rng["type"])
                v = version if parse_r is parse else parse_r(target.version)
                from gate.vulndb.versions import in_range

                if in_range(v, rng["events"], parse_r):
                    hit = True
                    break
        if hit:
            fixed = out.setdefault(rid, [])
            for rng in entry["ranges"]:
                fixed.extend(value for kind, value in rng["events"] if kind == "fixed")
    return sorted(out.items())


def _sorted_versions(ecosystem: str, versions: Iterable[str]) -> list[str]:
    unique = sorted(set(versions))
    try:
        parse = parser(ecosystem)
        return sorted(unique, key=parse)
    except Unorderable:
        return unique


def audit(components: Sequence[tuple[Component, str]], db: Database, *, age_note: str, gate_version: str) -> Audit:
    """Match (component, source path) pairs; findings in a stable order, unmatched listed with a reason."""
    result = Audit()
    seen: dict[Target, list[str]] = {}
    unmatched: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for comp, source in components:
        found, reason = targets(comp)
        if reason is None:
            for t in found:
                if t.ecosystem not in db.packages and base_ecosystem(t.ecosystem) not in {base_ecosystem(e) for e in db.packages}:
                    reason = f"the database holds no {t.ecosystem} records"
                    break
        if reason is not None:
            key = (str(comp.purl or ""), comp.name, str(comp.version or ""), reason)
            unmatched.setdefault(key, {"name": comp.name, "version": comp.version, "purl": comp.purl, "reason": reason, "sources": []})
            if source not in unmatched[key]["sources"]:
                unmatched[key]["sources"].append(source)
            continue
        for t in found:
            seen.setdefault(t, [])
            if source not in seen[t]:
                seen[t].append(source)
    index = 0
    for target in sorted(seen, key=lambda t: (t.ecosystem, t.key, t.version)):
        try:
            hits = _affects(db, target)
        except Unorderable as exc:
            key = (target.purl, target.name, target.version, str(exc))
            unmatched[key] = {
                "name": target.name,
                "version": target.version,
                "purl": target.purl,
                "reason": str(exc),
                "sources": seen[target],
            }
            continue
        result.matched_components += 1
        if not hits:
            continue
        result.affected_components += 1
        groups = _Groups()
        fixed_by: dict[str, list[str]] = {}
        for rid, fixed in hits:
            groups.find(rid)
            fixed_by[rid] = fixed
            for alias in db.records[rid]["aliases"]:
                groups.union(rid, alias)
        by_root: dict[str, list[str]] = {}
        for rid, _ in hits:
            by_root.setdefault(groups.find(rid), []).append(rid)
        built = []
        for members in by_root.values():
            built.append(_finding(db, target, sorted(members, key=_id_rank), fixed_by, age_note, gate_version))
        for f in sorted(built, key=lambda f: f.rule_id):
            result.findings.append(_with_index(f, index))
            index += 1
    result.unmatched = sorted(unmatched.values(), key=lambda u: (str(u["purl"] or ""), u["name"], str(u["version"] or ""), u["reason"]))
    return result


def _with_index(f: Finding, index: int) -> Finding:
    import dataclasses

    return dataclasses.replace(f, index=index)


def _finding(
    db: Database, target: Target, members: list[str], fixed_by: Mapping[str, list[str]], age_note: str, gate_version: str
) -> Finding:
    records = [db.records[rid] for rid in members]
    ids = {*members, *(a for r in records for a in r["aliases"])}
    primary = members[0]
    score = None
    label = None
    for r in records:
        s = cvss_score(r["severity"])
        if s is not None:
            score = s if score is None else max(score, s)
        if r.get("db_severity") and label is None:
            label = _LABELS.get(str(r["db_severity"]).upper())
    if score is not None:
        severity = severity_from_score(score)
    else:
        severity = label or "unknown"
    fixed = _sorted_versions(target.ecosystem, (v for rid in members for v in fixed_by.get(rid, ())))
    summary = next((r["summary"] for r in records if r.get("summary")), "")
    fix_text = f"fixed in {', '.join(fixed)}" if fixed else "no fixed version known"
    cvss_text = f"; CVSS {score:.1f}" if score is not None else ""
    # The database's age first: the outputs shorten long messages, and it must survive in every format.
    message = f"{fix_text}{cvss_text}; {age_note}: {summary}"
    return Finding(
        tool=TOOL,
        tool_version=gate_version,
        rule_id=primary,
        rule_name=summary[:120] or primary,
        kind="dependency",
        severity=severity,
        confidence="high",
        message=message,
        index=0,
        cve=tuple(sorted(i for i in ids if i.startswith("CVE-"))),
        aliases=tuple(sorted((i for i in ids if i != primary and not i.startswith("CVE-")), key=_id_rank)),
        package=Package(name=target.name, version=target.version, purl=target.purl, fixed_versions=tuple(fixed)),
        help_uri=f"https://osv.dev/vulnerability/{primary}",
        description=summary or None,
    )


def age_days(db: Database, now: dt.datetime) -> int:
    """Whole days from the database's newest record (else the time it was fetched) to `now`."""
    import re

    from gate.verdict import parse_time

    stamps = []
    for text in (db.manifest.newest_record, db.manifest.fetched):
        if text:
            try:  # fractions of a second dropped: OSV writes up to 9 digits, Python 3.10 reads 3 or 6
                stamps.append(parse_time(re.sub(r"\.\d+", "", text)))
            except ValueError:
                continue
    if not stamps:
        return 0
    return max(0, math.floor((now - min(stamps)).total_seconds() / 86400))
