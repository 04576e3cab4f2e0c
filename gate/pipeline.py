"""Pipeline: from the readers' results to the policy input document (`gate.input/v1`).

It adds what needs the whole run: fingerprints, cross-tool duplicate links, test-code marks,
baseline state, and the contract's uniform semantics that no policy may bend (VEX statements
and waivers mark the findings they cover before evaluation).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gate.collect import Report
from gate.fingerprint import fingerprints
from gate.model import Component, Finding, VexStatement
from gate.paths import compile_globs, normalise
from gate.waivers import WaiverSet, purl_matches

INPUT_SCHEMA = "gate.input/v1"


@dataclass(frozen=True)
class Context:
    """Who and when: the run's context as Rego sees it (`input.context`)."""

    stage: str
    time: str
    gate_version: str
    repository: str | None = None
    ref: str | None = None
    commit: str | None = None
    pull_request: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "repository": self.repository,
            "ref": self.ref,
            "commit": self.commit,
            "pull_request": self.pull_request,
            "time": self.time,
            "gate_version": self.gate_version,
        }


@dataclass
class Prepared:
    """The input document and what the verdict needs to report about the run's governance."""

    document: dict[str, Any]
    waived: list[dict[str, Any]] = field(default_factory=list)
    waivers_expired: list[dict[str, Any]] = field(default_factory=list)
    waivers_unused: list[dict[str, Any]] = field(default_factory=list)
    waivers_expiring: list[dict[str, Any]] = field(default_factory=list)
    vex_applied: list[dict[str, Any]] = field(default_factory=list)


def _finding_dict(f: Finding, fid: str, source_path: str, source_format: str, test_re: Any) -> dict[str, Any]:
    loc = f.location
    path = normalise(loc.path) if loc else None
    pkg = f.package
    return {
        "id": fid,
        "tool": f.tool,
        "tool_version": f.tool_version,
        "rule_id": f.rule_id,
        "rule_name": f.rule_name,
        "kind": f.kind,
        "severity": f.severity,
        "confidence": f.confidence,
        "message": f.message,
        "location": None
        if loc is None
        else {
            "path": path,
            "start_line": loc.start_line,
            "end_line": loc.end_line,
            "start_column": loc.start_column,
            "end_column": loc.end_column,
        },
        "cwe": list(f.cwe),
        "cve": list(f.cve),
        "aliases": list(f.aliases),
        "package": None
        if pkg is None
        else {"name": pkg.name, "version": pkg.version, "purl": pkg.purl, "fixed_versions": list(pkg.fixed_versions)},
        "suppressed": f.suppressed,
        "duplicates": [],
        "test_code": bool(path and test_re is not None and test_re.match(path)),
        "baseline": "unknown",
        "source": {"path": source_path, "format": source_format, "index": f.index},
        "waiver": None,
        "vex": None,
        "help_uri": f.help_uri,
    }


def _component_dict(c: Component, source_path: str, source_format: str) -> dict[str, Any]:
    return {
        "name": c.name,
        "version": c.version,
        "purl": c.purl,
        "type": c.type,
        "licenses": list(c.licenses),
        "scope": c.scope,
        "direct": c.direct,
        "hashes": {alg: value for alg, value in c.hashes},
        "bom_ref": c.bom_ref,
        "source": {"path": source_path, "format": source_format},
    }


def _scan_dict(r: Report) -> dict[str, Any]:
    res = r.result
    return {
        "path": r.path,
        "sha256": r.sha256,
        "format": res.format,
        "spec_version": res.spec_version,
        "tool": res.tool,
        "tool_version": res.tool_version,
        "complete": res.complete,
        "errors": list(res.errors),
        "findings": len(res.findings),
        "components": len(res.components),
        "vex": len(res.vex),
        "statistics": dict(sorted(res.statistics.items())),
    }


def link_duplicates(findings: list[dict[str, Any]], line_window: int) -> None:
    """Link findings from different tools that report the same flaw; never drop one.

    Code findings: same file, lines at most `line_window` apart, and a CWE in common.
    Dependency findings: same package (name and version) and a vulnerability id in common.
    """
    by_path: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_pkg: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for f in findings:
        loc = f["location"]
        if f["package"] is not None:
            p = f["package"]
            if p["name"]:
                by_pkg[(str(p["name"]).lower().replace("_", "-"), str(p["version"]))].append(f)
        elif loc and loc["path"] and loc["start_line"] is not None and f["cwe"]:
            by_path[loc["path"]].append(f)

    def link(a: dict[str, Any], b: dict[str, Any]) -> None:
        if b["id"] not in a["duplicates"]:
            a["duplicates"].append(b["id"])
        if a["id"] not in b["duplicates"]:
            b["duplicates"].append(a["id"])

    for group in by_path.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda f: f["location"]["start_line"])
        for i, a in enumerate(group):
            a_line = a["location"]["start_line"]
            a_cwe = set(a["cwe"])
            for b in group[i + 1 :]:
                if b["location"]["start_line"] - a_line > line_window:
                    break
                if b["tool"].lower() != a["tool"].lower() and a_cwe.intersection(b["cwe"]):
                    link(a, b)
    for group in by_pkg.values():
        if len(group) < 2:
            continue
        by_id: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for f in group:
            for vid in {f["rule_id"], *f["cve"], *f["aliases"]}:
                by_id[vid].append(f)
        for members in by_id.values():
            for i, a in enumerate(members):
                for b in members[i + 1 :]:
                    if a is not b and (a["tool"].lower() != b["tool"].lower() or a["source"]["path"] != b["source"]["path"]):
                        link(a, b)
    for f in findings:
        if f["duplicates"]:
            f["duplicates"].sort()


def apply_vex(findings: list[dict[str, Any]], statements: Sequence[VexStatement]) -> list[dict[str, Any]]:
    """Mark the findings VEX statements speak about; return what was applied, for the verdict.

    A statement is about a finding when one of its ids (the vulnerability and its aliases)
    equals one of the finding's (rule id, CVEs, aliases), without regard to case, and one of its
    products matches the finding's package purl (exactly, or a product without version,
    qualifiers or subpath matches any of them; pypi names compare normalised). A statement that
    names no product is about the document's subject as a whole, so it covers every finding of
    that vulnerability. Of several statements about one finding, the latest wins: by timestamp
    when every one of them has one, else by reading order (reports in path order, statements in
    document order), so a later `exploitable` overrides an earlier `not_affected`.

    Every state is recorded on the finding (`vex`); which states stop a finding from blocking
    is the policy's business (data `vex.suppressing_states`, through gate.lib.active).
    """
    if not statements:
        return []
    index: dict[str, list[int]] = defaultdict(list)
    for n, st in enumerate(statements):
        for vid in sorted({st.vulnerability, *st.aliases}):
            if vid:
                index[vid.casefold()].append(n)
    applied = []
    for f in findings:
        ids = {str(i).casefold() for i in (f["rule_id"], *f["cve"], *f["aliases"]) if i}
        candidates = sorted({n for vid in ids for n in index.get(vid, ())})
        if not candidates:
            continue
        matching = [n for n in candidates if _about(statements[n], f)]
        if not matching:
            continue
        chosen = statements[_latest(matching, statements)]
        f["vex"] = {
            "state": chosen.state,
            "justification": chosen.justification,
            "detail": chosen.detail,
            "response": list(chosen.response),
            "source": chosen.source,
        }
        applied.append({"finding": f["id"], "vulnerability": chosen.vulnerability, "products": list(chosen.products), **f["vex"]})
    return applied


def _about(st: VexStatement, f: Mapping[str, Any]) -> bool:
    """Whether a statement (whose ids match) speaks about this finding's product."""
    if not st.products:
        return True
    # A CycloneDX analysis covers the vulnerability entry it sits in, whatever its `affects` refs
    # resolve to (a bom-ref of the subject has no purl): so every finding read from that entry.
    if st.source is not None and st.source == (f.get("source") or {}).get("path"):
        return True
    purl = str((f.get("package") or {}).get("purl") or "")
    return bool(purl) and any(purl_matches(p, purl) for p in st.products)


def _latest(candidates: Sequence[int], statements: Sequence[VexStatement]) -> int:
    """The index of the latest statement: by timestamp when all have one, else the last read."""
    from gate.verdict import parse_time

    stamps = []
    for n in candidates:
        raw = statements[n].timestamp  # CycloneDX analysis.lastUpdated, OpenVEX statement/document time
        try:
            stamps.append((parse_time(raw), n) if raw else None)
        except ValueError:
            stamps.append(None)
    if stamps and all(s is not None for s in stamps):
        return max(s for s in stamps if s is not None)[1]
    return max(candidates)


def prepare(
    reports: Sequence[Report],
    *,
    context: Context,
    config_data: Mapping[str, Any],
    waivers: WaiverSet | None = None,
    baseline: set[str] | None = None,
    extra_vex: Sequence[VexStatement] = (),
) -> Prepared:
    """Build the input document from the reports, the data, the waivers and the baseline."""
    test_re = compile_globs(config_data.get("test_paths") or ())
    raw: list[Finding] = []
    raw_sources: list[str] = []
    formats: list[str] = []
    for r in reports:
        for f in r.result.findings:
            raw.append(f)
            raw_sources.append(r.path)
            formats.append(r.result.format)
    ids = fingerprints(raw, raw_sources)
    findings = [_finding_dict(f, ids[i], raw_sources[i], formats[i], test_re) for i, f in enumerate(raw)]
    components = [_component_dict(c, r.path, r.result.format) for r in reports for c in r.result.components]
    window = int((config_data.get("dedupe") or {}).get("line_window", 2))
    link_duplicates(findings, window)
    if baseline is not None:
        for rec in findings:
            rec["baseline"] = "existing" if rec["id"] in baseline else "new"
    statements = [st for r in reports for st in r.result.vex] + list(extra_vex)
    prepared = Prepared(document={})
    prepared.vex_applied = apply_vex(findings, statements)
    waiver_entries: list[dict[str, Any]] = []
    if waivers is not None:
        outcome = waivers.apply(findings, context.time)
        prepared.waived = outcome.waived
        prepared.waivers_expired = outcome.expired
        prepared.waivers_unused = outcome.unused
        prepared.waivers_expiring = outcome.expiring
        waiver_entries = waivers.entries()
    findings.sort(key=lambda f: (f["source"]["path"], f["source"]["index"]))
    prepared.document = {
        "schema": INPUT_SCHEMA,
        "context": context.to_dict(),
        "findings": findings,
        "components": components,
        "scans": [_scan_dict(r) for r in reports],
        "waivers": waiver_entries,
    }
    return prepared
