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
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from gate.model import Component, Finding, Package, severity_from_score
from gate.vulndb.records import package_key
from gate.vulndb.store import Database
from gate.vulndb.versions import (
    Span,
    Unorderable,
    base_ecosystem,
    canonical_pypi,
    compile_range,
    covers,
    in_range,
    overlaps,
    parser,
    pypi_version,
    spans,
    vers_interval,
)

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
    ranges: list[dict[str, Any]] = field(default_factory=list)
    """Components without a version whose declared range admits affected versions (`input.vulndb.ranges`)."""


def _name_of(ecosystem: str, namespace: str | None, name: str) -> str:
    if ecosystem == "Maven":
        return f"{namespace}:{name}" if namespace else name
    if namespace and ecosystem in ("npm", "Go", "Packagist"):
        return f"{namespace}/{name}"
    return name


# A purl with nothing to decode or normalise beyond case: `pkg:pypi/flask@0.12.2`. Such purls
# (nearly all of a generated SBOM) skip packageurl-python's parser, which costs more than the
# whole match; every other purl (percent-encoding, a namespace, qualifiers, a subpath, odd
# characters) goes through it.
_SIMPLE_PURL: Final = re.compile(r"pkg:(pypi|PyPI|PYPI)/([A-Za-z0-9][A-Za-z0-9._-]*)(?:@([A-Za-z0-9][A-Za-z0-9.!+_-]*))?")


def _parse_purl(text: str) -> tuple[str, str | None, str, str | None]:
    """(type, namespace, name, version) as packageurl-python reads them (ValueError when it cannot)."""
    simple = _SIMPLE_PURL.fullmatch(text)
    if simple is not None:  # packageurl-python: type lower-cased, pypi names lower-cased with _ as -
        return "pypi", None, simple.group(2).lower().replace("_", "-"), simple.group(3)
    from packageurl import PackageURL

    purl = PackageURL.from_string(text)
    return purl.type, purl.namespace, purl.name, purl.version


def _purl_text(ptype: str, namespace: str | None, name: str) -> str:
    if ptype == "pypi" and namespace is None and _SIMPLE_PURL.fullmatch(f"pkg:pypi/{name}"):
        return f"pkg:pypi/{name}"
    from packageurl import PackageURL

    return str(PackageURL(type=ptype, namespace=namespace, name=name).to_string())


def targets(component: Component) -> tuple[list[Target], str | None]:
    """The (ecosystem, name, version) claims of a component, or the reason it cannot be matched."""
    if not component.purl:
        return [], "no purl"
    try:
        ptype, namespace, pname, pversion = _parse_purl(component.purl)
    except ValueError as exc:
        return [], f"unparsable purl: {exc}"
    ecosystem = PURL_ECOSYSTEMS.get(ptype)
    if ecosystem is None:
        return [], f"no OSV ecosystem for purl type {ptype!r}"
    name = _name_of(ecosystem, namespace, pname)
    if ecosystem == "PyPI" and (not name.isascii() or not name.replace("-", "").replace("_", "").replace(".", "").isalnum()):
        return [], f"{name!r} is not a valid PyPI project name"
    versions = [v for v in dict.fromkeys((pversion, component.version)) if v]
    if not versions:
        return [], "no version"
    canon = _purl_text(ptype, namespace, pname)
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
        compiled = db.cache.get(id(entry))
        if compiled is None:  # once per entry and run: the listed versions as a set, the ranges sorted and parsed
            ranges = []
            for rng in entry["ranges"]:
                try:
                    parse_r = parser(target.ecosystem, rng["type"])
                except Unorderable:
                    continue
                ranges.append((parse_r, compile_range(rng["events"], parse_r)))
            fixed = [value for rng in entry["ranges"] for kind, value in rng["events"] if kind == "fixed"]
            compiled = db.cache[id(entry)] = (frozenset(entry["versions"]), ranges, fixed)
        listed_versions, ranges, fixed = compiled
        hit = listed in listed_versions
        if not hit:
            for parse_r, rng in ranges:
                try:
                    v = version if parse_r is parse else parse_r(target.version)
                except Unorderable:
                    continue
                if in_range(v, rng):
                    hit = True
                    break
        if hit:
            out.setdefault(rid, []).extend(fixed)
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
    held = {base_ecosystem(e) for e in db.packages}
    ranged: dict[tuple[str, str, str], list[str]] = {}
    for comp, source in components:
        found, reason = targets(comp)
        if reason == "no version" and comp.version_range:
            ranged_key = _ranged(comp, held)
            if ranged_key is not None:
                ranged.setdefault(ranged_key, [])
                if source not in ranged[ranged_key]:
                    ranged[ranged_key].append(source)
                continue
        if reason is None:
            for t in found:
                if t.ecosystem not in db.packages and base_ecosystem(t.ecosystem) not in held:
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
        for template in _templates(db, target, hits):
            result.findings.append(_finding(template, target, age_note, gate_version, index))
            index += 1
    for (purl, name, vers), sources in sorted(ranged.items()):
        judged = _judge_range(db, purl, name, vers)
        if judged is None:
            key = (purl, name, "", f"the range {vers} cannot be judged")
            unmatched[key] = {"name": name, "version": None, "purl": purl, "reason": key[3], "sources": sources}
            continue
        result.matched_components += 1
        if judged["advisories"]:
            result.affected_components += 1
            result.ranges.append({"name": name, "purl": purl, "range": vers, "sources": sources, **judged})
    result.unmatched = sorted(unmatched.values(), key=lambda u: (str(u["purl"] or ""), u["name"], str(u["version"] or ""), u["reason"]))
    return result


def _ranged(comp: Component, held: set[str]) -> tuple[str, str, str] | None:
    """(purl, name, vers) of a PyPI component without a version whose range can be judged."""
    if not comp.purl or not comp.version_range or "PyPI" not in held:
        return None
    try:
        ptype, namespace, pname, pversion = _parse_purl(comp.purl)
    except ValueError:
        return None
    if ptype != "pypi" or namespace or pversion:
        return None
    return _purl_text(ptype, namespace, pname), pname, comp.version_range


def _judge_range(db: Database, purl: str, name: str, vers: str) -> dict[str, Any] | None:
    """What the database says about every version a range admits (issue 17): per advisory
    group, whether it affects every admitted version (`every_version`) or some; and the lowest
    lower bound that leaves every advisory out (`raise_to`, None when one has no fix). None when
    the range is not one `vers_interval` reads (the component is then unmatched)."""
    bounds = vers_interval(vers, "PyPI")
    if bounds is None:
        return None
    lower, upper = bounds
    key = package_key("PyPI", name)
    entries = db.packages.get("PyPI", {}).get(key) or []
    hits: dict[str, list[str]] = {}
    every: set[str] = set()
    ends: list[tuple[Any, bool] | None] = []
    for rid, entry in entries:
        found: list[Span] = []
        for text in entry["versions"]:
            try:
                v = pypi_version(text)
            except Unorderable:
                continue
            found.append((v, v, True))
        for rng in entry["ranges"]:
            try:
                parse_r = parser("PyPI", rng["type"])
            except Unorderable:
                continue
            if parse_r is not pypi_version:
                continue
            found.extend(spans(compile_range(rng["events"], parse_r)))
        inside = [sp for sp in found if overlaps(lower, upper, sp)]
        if not inside:
            continue
        hits.setdefault(rid, []).extend(v for rng in entry["ranges"] for kind, v in rng["events"] if kind == "fixed")
        if any(covers(lower, upper, sp) for sp in inside):
            every.add(rid)
        ends.extend(None if sp[1] is None else (sp[1], sp[2]) for sp in inside)
    if not hits:
        return {"advisories": [], "raise_to": None}
    target = Target("PyPI", key, name, vers, purl)
    advisories = []
    for t in _templates(db, target, sorted(hits.items())):
        members = {t.primary, *t.aliases, *t.cve}
        advisories.append(
            {
                "id": t.primary,
                "severity": t.severity,
                "every_version": bool(members & every),
                "fixed": list(t.fixed),
                "summary": t.summary[:200],
            }
        )
    raise_to = None
    if ends and all(e is not None for e in ends):
        top = max((e for e in ends if e is not None), key=lambda e: (e[0], e[1]))
        raise_to = f">{top[0]}" if top[1] else f">={top[0]}"
    return {"advisories": advisories, "raise_to": raise_to}


def _record_score(db: Database, rid: str) -> tuple[float | None, str | None]:
    """A record's highest CVSS base score and its database's severity label (once per record and run)."""
    key = ("score", rid)
    if key not in db.cache:
        r = db.records[rid]
        label = _LABELS.get(str(r["db_severity"]).upper()) if r.get("db_severity") else None
        db.cache[key] = (cvss_score(r["severity"]) if r["severity"] else None, label)
    value: tuple[float | None, str | None] = db.cache[key]
    return value


@dataclass(frozen=True)
class _Template:
    """What a finding says about one alias group of records, whatever the package version."""

    primary: str
    severity: str
    prefix: str
    summary: str
    cve: tuple[str, ...]
    aliases: tuple[str, ...]
    fixed: tuple[str, ...]


def _templates(db: Database, target: Target, hits: list[tuple[str, list[str]]]) -> list[_Template]:
    """One template per alias group of the records hit (the same sets recur across a package's versions: cached).

    Fixed versions are those of the records' entries for this package: the cache keys name it.
    """
    key = ("groups", target.ecosystem, target.key, tuple(rid for rid, _ in hits))
    cached: list[_Template] | None = db.cache.get(key)
    if cached is not None:
        return cached
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
    out = [_template(db, target, tuple(sorted(m, key=_id_rank)), fixed_by) for m in by_root.values()]
    out.sort(key=lambda t: t.primary)
    db.cache[key] = out
    return out


def _template(db: Database, target: Target, members: tuple[str, ...], fixed_by: Mapping[str, list[str]]) -> _Template:
    """The template of one alias group of a package's records (once per group and run)."""
    ecosystem = target.ecosystem
    key = ("template", ecosystem, target.key, members)
    cached: _Template | None = db.cache.get(key)
    if cached is None:
        records = [db.records[rid] for rid in members]
        ids = {*members, *(a for r in records for a in r["aliases"])}
        primary = members[0]
        score = None
        label = None
        for rid in members:
            sc, lab = _record_score(db, rid)
            if sc is not None:
                score = sc if score is None else max(score, sc)
            label = label or lab
        severity = severity_from_score(score) if score is not None else (label or "unknown")
        fixed = _sorted_versions(ecosystem, (v for rid in members for v in fixed_by.get(rid, ())))
        fix_text = f"fixed in {', '.join(fixed)}" if fixed else "no fixed version known"
        cvss_text = f"; CVSS {score:.1f}" if score is not None else ""
        cached = db.cache[key] = _Template(
            primary=primary,
            severity=severity,
            prefix=f"{fix_text}{cvss_text}",
            summary=next((r["summary"] for r in records if r.get("summary")), ""),
            cve=tuple(sorted(i for i in ids if i.startswith("CVE-"))),
            aliases=tuple(sorted((i for i in ids if i != primary and not i.startswith("CVE-")), key=_id_rank)),
            fixed=tuple(fixed),
        )
    return cached


def _finding(t: _Template, target: Target, age_note: str, gate_version: str, index: int) -> Finding:
    # The database's age early in the message: the outputs shorten long messages, and it must survive in every format.
    return Finding(
        tool=TOOL,
        tool_version=gate_version,
        rule_id=t.primary,
        rule_name=t.summary[:120] or t.primary,
        kind="dependency",
        severity=t.severity,
        confidence="high",
        message=f"{t.prefix}; {age_note}: {t.summary}",
        index=index,
        cve=t.cve,
        aliases=t.aliases,
        package=Package(name=target.name, version=target.version, purl=target.purl, fixed_versions=t.fixed),
        help_uri=f"https://osv.dev/vulnerability/{t.primary}",
        description=t.summary or None,
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
