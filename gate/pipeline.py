"""Pipeline: from the readers' results to the policy input document (`gate.input/v1`).

It adds what needs the whole run: fingerprints, cross-tool duplicate links, test-code marks,
baseline state, canonical purls (`gate.purl`: every purl a policy or a waiver compares is in the
purl specification's canonical form, so `pkg:pypi/py%63rypto` is `pkg:pypi/pycrypto`), and the
contract's uniform semantics that no policy may bend (VEX statements
and waivers mark the findings they cover before evaluation).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from gate.collect import Report
from gate.errors import ConfigError
from gate.fingerprint import fingerprints
from gate.model import Component, Finding, VexStatement
from gate.paths import compile_globs, match_form, normalise, scope_problem
from gate.purl import canonical_or_text
from gate.records import (
    ComponentRecord,
    ConstantPickleRecord,
    ContextRecord,
    FindingRecord,
    InputDocument,
    JsonObject,
    Prepared,
    ScanRecord,
    UnscannedRecord,
    VexApplied,
    VexMark,
    WaivedRecord,
    WaiverEntry,
)
from scanners.claims import Producers, completeness

if TYPE_CHECKING:  # imported on use: a run without waivers or VEX never loads the module
    from gate.waivers import WaiverSet

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

    def to_dict(self) -> ContextRecord:
        """`input.context`."""
        return {
            "stage": self.stage,
            "repository": self.repository,
            "ref": self.ref,
            "commit": self.commit,
            "pull_request": self.pull_request,
            "time": self.time,
            "gate_version": self.gate_version,
        }


class _Paths:
    """Each distinct path a run reports, normalised and judged test code once (findings share files).

    Test code is what the trusted data's `test_paths` name, anchored at the project root and
    matched against the path's lexical form (`gate.paths.match_form`): `tests/../app/main.py`
    is `app/main.py`, and a path outside the root is never test code.
    """

    def __init__(self, test_re: re.Pattern[str] | None) -> None:
        self.test_re = test_re
        self.seen: dict[str, tuple[str | None, bool]] = {}

    def get(self, raw: str | None) -> tuple[str | None, bool]:
        known = self.seen.get(raw) if raw is not None else None
        if known is None:
            path = normalise(raw)
            test_re = self.test_re
            form = match_form(raw) if test_re is not None else None
            known = (path, bool(form and test_re is not None and test_re.match(form)))
            if raw is not None:
                self.seen[raw] = known
        return known


def _finding_dict(f: Finding, fid: str, source_path: str, source_format: str, paths: _Paths) -> FindingRecord:
    loc = f.location
    path, test_code = paths.get(loc.path) if loc else (None, False)
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
        else {"name": pkg.name, "version": pkg.version, "purl": canonical_or_text(pkg.purl), "fixed_versions": list(pkg.fixed_versions)},
        "suppressed": f.suppressed,
        "duplicates": [],
        "test_code": test_code,
        "baseline": "unknown",
        "source": {"path": source_path, "format": source_format, "index": f.index},
        "waiver": None,
        "vex": None,
        "help_uri": f.help_uri,
    }


def _component_dict(c: Component, source_path: str, source_format: str) -> ComponentRecord:
    return {
        "name": c.name,
        "version": c.version,
        "purl": canonical_or_text(c.purl),
        "type": c.type,
        "licenses": list(c.licenses),
        "scope": c.scope,
        "direct": c.direct,
        "hashes": {alg: value for alg, value in c.hashes},
        "bom_ref": c.bom_ref,
        "source": {"path": source_path, "format": source_format},
    }


def _scan_dict(r: Report, config_data: Mapping[str, Any]) -> ScanRecord:
    res = r.result
    complete, errors = completeness(res, config_data)  # a report that hid results is incomplete
    return {
        "path": r.path,
        "sha256": r.sha256,
        "format": res.format,
        "spec_version": res.spec_version,
        "tool": res.tool,
        "tool_version": res.tool_version,
        "complete": complete,
        "errors": list(errors),
        "findings": len(res.findings),
        "components": len(res.components),
        "vex": len(res.vex),
        "statistics": dict(sorted(res.statistics.items())),
        "hidden_suppressions": res.hidden_suppressions,
    }


def duplicate_key(finding: FindingRecord) -> tuple[str, str, Any] | None:
    """What a finding is compared on for duplicates: ("pkg", name, version) for a dependency
    finding, ("code", path, line) for a located finding with a CWE, else None (never linked)."""
    pkg = finding["package"]
    if pkg is not None:
        return ("pkg", str(pkg["name"]).lower().replace("_", "-"), str(pkg["version"])) if pkg["name"] else None
    loc = finding["location"]
    if loc and loc["path"] and loc["start_line"] is not None and finding["cwe"]:
        return ("code", loc["path"], loc["start_line"])
    return None


def _duplicate_key(f: Finding, path: str | None) -> tuple[str, str, Any] | None:
    """`duplicate_key` of the record `_finding_dict` makes of `f` (`path` normalised), from `f` itself."""
    pkg = f.package
    if pkg is not None:
        return ("pkg", str(pkg.name).lower().replace("_", "-"), str(pkg.version)) if pkg.name else None
    loc = f.location
    if loc is not None and path and loc.start_line is not None and f.cwe:
        return ("code", path, loc.start_line)
    return None


@dataclass(frozen=True)
class WeaknessFamilies:
    """Which CWEs (and which tool rules) name one weakness, from trusted policy data
    (`data.config.dedupe.families`): two tools' findings on nearby lines of one file are one flaw
    only when their families overlap.

    A rule listed by `tool:rule_id` is in exactly the families that list it (a tool whose CWE is
    off, e.g. bandit B201 says CWE-94 for Flask's debug mode); any other finding is in the
    families of its CWEs, and a CWE no family lists is a family of its own.
    """

    by_cwe: Mapping[str, frozenset[str]] = field(default_factory=dict)
    by_rule: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def from_data(cls, config_data: Mapping[str, Any]) -> WeaknessFamilies:
        """The table in `dedupe.families` (the data schema checks its shape)."""
        by_cwe: dict[str, set[str]] = defaultdict(set)
        by_rule: dict[str, set[str]] = defaultdict(set)
        for family in (config_data.get("dedupe") or {}).get("families") or ():
            name = "family:" + str(family["name"])
            for cwe in family.get("cwe") or ():
                by_cwe[str(cwe).upper()].add(name)
            for rule in family.get("rules") or ():
                by_rule[str(rule).lower()].add(name)
        return cls({k: frozenset(v) for k, v in by_cwe.items()}, {k: frozenset(v) for k, v in by_rule.items()})

    def of(self, finding: FindingRecord) -> frozenset[str]:
        """The weakness families of a finding (see the class docstring)."""
        listed = self.by_rule.get(f"{str(finding['tool']).lower()}:{str(finding['rule_id']).lower()}")
        if listed:
            return listed
        out: set[str] = set()
        for cwe in finding["cwe"]:
            key = str(cwe).upper()
            out |= self.by_cwe.get(key, {key})
        return frozenset(out)


def link_duplicates(
    findings: list[FindingRecord],
    line_window: int,
    keys: Sequence[tuple[str, str, Any] | None] | None = None,
    families: WeaknessFamilies | None = None,
) -> None:
    """Link findings from different tools that report the same flaw; never drop one.

    Code findings: same file, lines at most `line_window` apart, and overlapping weakness
    families (`WeaknessFamilies`; without a table, a CWE in common).
    Dependency findings: same package (name and version) and a vulnerability id in common.
    `keys` are the findings' `duplicate_key`s when the caller has them at hand: at 10^5 findings
    reading them back out of the records costs more than the linking. Links are direct (a
    finding's `duplicates` are the findings it was compared with and matched), never transitive.
    """
    table = families or WeaknessFamilies()
    known: dict[int, frozenset[str]] = {}

    def families_of(n: int) -> frozenset[str]:
        got = known.get(n)
        if got is None:
            got = known[n] = table.of(findings[n])
        return got

    if keys is None:
        keys = [duplicate_key(f) for f in findings]
    by_path: dict[str, list[tuple[int, int]]] = defaultdict(list)  # path -> [(line, finding)]
    by_pkg: dict[tuple[str, str], list[int]] = defaultdict(list)
    for n, key in enumerate(keys):
        if key is None:
            continue
        if key[0] == "pkg":
            by_pkg[(key[1], key[2])].append(n)
        else:
            by_path[key[1]].append((key[2], n))
    linked: set[int] = set()

    def link(ai: int, bi: int) -> None:
        a, b = findings[ai], findings[bi]
        if b["id"] not in a["duplicates"]:
            a["duplicates"].append(b["id"])
        if a["id"] not in b["duplicates"]:
            b["duplicates"].append(a["id"])
        linked.update((ai, bi))

    for group in by_path.values():
        if len(group) < 2:
            continue
        group.sort()  # by line, then reading order
        count = len(group)
        for i in range(count - 1):
            a_line, ai = group[i]
            if group[i + 1][0] - a_line > line_window:
                continue
            a = findings[ai]
            a_families = families_of(ai)
            a_tool = a["tool"].lower()
            for j in range(i + 1, count):
                b_line, bi = group[j]
                if b_line - a_line > line_window:
                    break
                b = findings[bi]
                if b["tool"].lower() != a_tool and not a_families.isdisjoint(families_of(bi)):
                    link(ai, bi)
    for members_of_pkg in by_pkg.values():
        if len(members_of_pkg) < 2:
            continue
        by_id: dict[str, list[int]] = defaultdict(list)
        for n in members_of_pkg:
            f = findings[n]
            for vid in {f["rule_id"], *f["cve"], *f["aliases"]}:
                by_id[vid].append(n)
        for members in by_id.values():
            for i, ai in enumerate(members):
                a = findings[ai]
                for bi in members[i + 1 :]:
                    b = findings[bi]
                    if a is not b and (a["tool"].lower() != b["tool"].lower() or a["source"]["path"] != b["source"]["path"]):
                        link(ai, bi)
    for n in linked:
        findings[n]["duplicates"].sort()


_SEVERITY_RANK = {"info": 0, "low": 1, "medium": 2, "high": 3, "critical": 4}


def spread_waivers(findings: list[FindingRecord]) -> list[WaivedRecord]:
    """One waiver covers one flaw: a waiver on a finding also covers the findings linked to it
    (`duplicates`), as far as it names their flaw; the records of the findings it came to cover.

    - a dependency finding's links are the same vulnerability of the same package version: the
      waiver covers them all;
    - a code finding's links are other tools' reports of one weakness nearby: the waiver covers
      a linked report only when it is not more severe than the waived one (unknown counts as the
      most severe). A waiver reviewed for a low-severity report does not silence a high one.

    Only direct links, from findings the waivers file itself covers: a waiver never travels on
    through a finding it came to cover. Inline suppressions and VEX do not spread.
    """
    waived = [(f, f["waiver"]) for f in findings if f["waiver"] is not None and f["duplicates"]]  # before any spreads
    if not waived:
        return []
    from gate.waivers import waived_record

    by_id = {f["id"]: f for f in findings}
    out: list[WaivedRecord] = []
    for f, mark in waived:
        top = _SEVERITY_RANK.get(str(f["severity"]), len(_SEVERITY_RANK))
        for other_id in f["duplicates"]:
            g = by_id.get(other_id)
            if g is None or g["waiver"] is not None:
                continue
            if f["package"] is None and _SEVERITY_RANK.get(str(g["severity"]), len(_SEVERITY_RANK)) > top:
                continue
            g["waiver"] = {**mark}
            out.append({**waived_record(g, mark), "linked_to": f["id"]})
    return out


def apply_vex(findings: list[FindingRecord], statements: Sequence[VexStatement]) -> list[VexApplied]:
    """Mark the findings VEX statements speak about; return what was applied, for the verdict.

    VEX speaks about dependency vulnerabilities only (issue 14: a CycloneDX entry `id: B602`
    with no `affects` silenced a bandit finding). A statement is about a finding when:

    - the finding is of kind `dependency` and names a package purl;
    - one of the statement's ids (the vulnerability and its aliases) equals one of the
      finding's (rule id, CVEs, aliases), without regard to case;
    - one of its products is the finding's package at the finding's version: same canonical
      type, namespace and name (`gate.purl`), the product's version equal to the package's (a
      product that names no version names nothing), its qualifiers and subpath, where given,
      the package's too.

    A statement with no product covers nothing. Of several statements about one finding, the
    latest wins: by timestamp when every one of them has one, else by reading order (reports
    in path order, statements in document order), so a later `exploitable` overrides an
    earlier `not_affected`.

    Every state is recorded on the finding (`vex`); which states stop a finding from blocking
    is the policy's business (data `vex.suppressing_states`, through gate.lib.active), and
    `prepare` lists the findings they cover among the waived ones, in every output.
    """
    if not statements:
        return []
    index: dict[str, list[int]] = defaultdict(list)
    for n, st in enumerate(statements):
        for vid in sorted({st.vulnerability, *st.aliases}):
            if vid:
                index[vid.casefold()].append(n)
    applied: list[VexApplied] = []
    for f in findings:
        pkg = f["package"]
        if f["kind"] != "dependency" or pkg is None or not pkg["purl"]:
            continue
        ids = {str(i).casefold() for i in (f["rule_id"], *f["cve"], *f["aliases"]) if i}
        candidates = sorted({n for vid in ids for n in index.get(vid, ())})
        if not candidates:
            continue
        matching = [n for n in candidates if _about(statements[n], f)]
        if not matching:
            continue
        chosen = statements[_latest(matching, statements)]
        mark: VexMark = {
            "state": chosen.state,
            "justification": chosen.justification,
            "detail": chosen.detail,
            "response": list(chosen.response),
            "source": chosen.source,
        }
        f["vex"] = mark
        applied.append({"finding": f["id"], "vulnerability": chosen.vulnerability, "products": list(chosen.products), **mark})
    return applied


def _about(st: VexStatement, f: FindingRecord) -> bool:
    """Whether a statement (whose ids match) speaks about this finding's package and version."""
    from gate.purl import build, parts
    from gate.waivers import purl_matches

    pkg = f["package"]
    if pkg is None:
        return False
    purl = str(pkg["purl"] or "")
    try:
        ptype, namespace, name, version, qualifiers, subpath = parts(purl)
    except ValueError:
        return False
    if version is None and pkg["version"]:
        purl = build(ptype, namespace, name, str(pkg["version"]), qualifiers, subpath)
    for product in st.products:
        try:
            named_version = parts(product)[3]
        except ValueError:
            continue  # an unresolved ref names no package
        if named_version is not None and purl_matches(product, purl):
            return True
    return False


def vex_waived(findings: Sequence[FindingRecord], applied: Sequence[VexApplied], suppressing: Sequence[str]) -> list[WaivedRecord]:
    """The findings a suppressing VEX state covers (and no waiver does), as entries of the
    verdict's `waived` list: every output shows and counts them exactly like waived findings.

    `waiver` is "VEX", `reason` the state, justification and detail, `approved_by` the VEX
    document, `expires` None; `by: "vex"` and the statement's fields tell them apart.
    """
    states = set(suppressing)
    by_id = {str(f["id"]): f for f in findings}
    out: list[WaivedRecord] = []
    for a in applied:
        f = by_id.get(str(a["finding"]))
        if f is None or f["waiver"] is not None or a["state"] not in states:
            continue
        why = f"{a['state']} ({a['justification']})" if a["justification"] else str(a["state"])
        if a["detail"]:
            why += f": {a['detail']}"
        loc = f["location"]
        out.append(
            {
                "finding": f["id"],
                "waiver": "VEX",
                "by": "vex",
                "reason": why,
                "approved_by": a["source"],
                "expires": None,
                "ticket": None,
                "rule_id": f["rule_id"],
                "tool": f["tool"],
                "path": loc["path"] if loc is not None else None,
                "vulnerability": a["vulnerability"],
                "state": a["state"],
                "justification": a["justification"],
                "source": a["source"],
            }
        )
    return out


DEFAULT_SUPPRESSING_STATES = ("not_affected", "false_positive", "resolved", "resolved_with_pedigree")
"""As gate.lib's `default_suppressing_states`, for data that leaves `vex.suppressing_states` out."""


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


def _in_source_order(findings: list[FindingRecord], indexes: Sequence[int], sources: Sequence[str]) -> list[FindingRecord]:
    """The findings sorted by (source path, index in the source), stably, as `sorted` with that key.

    They come report by report, each report's in reading order (ascending indexes), so the
    sort is a sort of the reports, checked: a report whose indexes do not ascend is sorted.
    """
    runs: dict[str, list[tuple[int, int]]] = {}  # source path -> [start, end) of its findings, in order
    start = 0
    for end in range(1, len(findings) + 1):
        if end == len(findings) or sources[end] != sources[start]:
            runs.setdefault(sources[start], []).append((start, end))
            start = end
    out: list[FindingRecord] = []
    for source in sorted(runs):
        spans = runs[source]
        part = [i for a, b in spans for i in range(a, b)]
        keys = [indexes[i] for i in part]
        if keys != sorted(keys):
            part.sort(key=indexes.__getitem__)
        out.extend(findings[i] for i in part)
    return out


def _decide_kinds(raw: list[Finding], formats: Sequence[str], producers: Producers) -> None:
    """Give each finding the kind its producer may claim (scanners/claims.py), in place: a
    reader's `kind` is only the result's own hint. A finding that is not a dependency one keeps
    no package: a purl on a code finding must not make its fingerprint (or its duplicates) those
    of a dependency finding. Done before fingerprinting, which reads both."""
    for i, f in enumerate(raw):
        kind = producers.kind(f.tool, formats[i], f.kind)
        if kind != f.kind or (f.package is not None and kind != "dependency"):
            raw[i] = replace(f, kind=kind, package=f.package if kind == "dependency" else None)


def constant_pickles(findings: Sequence[FindingRecord], proven: Sequence[Mapping[str, Any]]) -> list[ConstantPickleRecord]:
    """`input.constant_pickles`: the findings whose call the gate proved loads a constant data
    pickle (scanners.run.constant_pickles), each with the place and the globals the pickle imports.

    A finding is listed only when it and every finding linked to it as the same flaw
    (`duplicates`) sit on a proven line: a linked report a line away may be another call.
    """
    at = {(str(p["path"]), int(p["line"])): p for p in proven}
    by_id = {f["id"]: f for f in findings}

    def place(f: FindingRecord) -> tuple[str, int] | None:
        loc: Mapping[str, Any] = f.get("location") or {}
        path = match_form(loc.get("path"))
        line = loc.get("start_line")
        return (path, line) if path and isinstance(line, int) and (path, line) in at else None

    out: list[ConstantPickleRecord] = []
    for f in findings:
        here = place(f)
        if here is None or not f.get("test_code"):
            continue
        if all(d in by_id and place(by_id[d]) is not None for d in f.get("duplicates") or []):
            out.append({"finding": f["id"], "path": here[0], "line": here[1], "imports": [str(i) for i in at[here]["imports"]]})
    return out


def prepare(
    reports: Sequence[Report],
    *,
    context: Context,
    config_data: Mapping[str, Any],
    waivers: WaiverSet | None = None,
    baseline: set[str] | None = None,
    extra_vex: Sequence[VexStatement] = (),
    extra_scans: Sequence[ScanRecord] = (),
    vulndb: JsonObject | None = None,
    unscanned: list[UnscannedRecord] | None = None,
    proven_pickles: Sequence[Mapping[str, Any]] = (),
) -> Prepared:
    """Build the input document from the reports, the data, the waivers and the baseline.

    `extra_scans` are scans the run records itself (the vulnerability database's, `gate run`'s),
    after the reports' own; `vulndb` and `unscanned` become the document's keys of those names
    (left out when None). `proven_pickles` are the pickle loads the gate proved, from the tree it
    surveyed, read constant data pickles (scanners.run.constant_pickles); the findings on them become
    `constant_pickles`. The document is complete when it is returned: nothing edits it after.

    Raises ConfigError (exit 2) for a `test_paths` glob that names nothing: the data files are
    checked with their lines as they are loaded (`gate.policy.check_data_scopes`); this is the
    check for data that reaches the run another way (a bundle's data.json).
    """
    test_paths = list(config_data.get("test_paths") or ())
    for i, glob in enumerate(test_paths):
        problem = scope_problem(glob)
        if problem is not None:
            raise ConfigError(
                f"invalid policy data: test_paths[{i}] {glob!r} {problem[0]}: a scope must name something concrete", hint=problem[1]
            )
    paths = _Paths(compile_globs(test_paths))
    raw: list[Finding] = []
    raw_sources: list[str] = []
    formats: list[str] = []
    for r in reports:
        raw.extend(r.result.findings)
        raw_sources.extend([r.path] * len(r.result.findings))
        formats.extend([r.result.format] * len(r.result.findings))
    _decide_kinds(raw, formats, Producers.from_data(config_data))
    ids = fingerprints(raw, raw_sources)
    findings: list[FindingRecord] = []
    keys: list[tuple[str, str, Any] | None] = []
    for i, f in enumerate(raw):
        record = _finding_dict(f, ids[i], raw_sources[i], formats[i], paths)
        findings.append(record)
        keys.append(_duplicate_key(f, record["location"]["path"] if record["location"] else None))
    components = [_component_dict(c, r.path, r.result.format) for r in reports for c in r.result.components]
    window = int((config_data.get("dedupe") or {}).get("line_window", 2))
    link_duplicates(findings, window, keys, WeaknessFamilies.from_data(config_data))
    if baseline is not None:
        for rec in findings:
            rec["baseline"] = "existing" if rec["id"] in baseline else "new"
    statements = [st for r in reports for st in r.result.vex] + list(extra_vex)
    vex_applied = apply_vex(findings, statements)
    waived: list[WaivedRecord] = []
    expired: list[WaiverEntry] = []
    unused: list[WaiverEntry] = []
    expiring: list[WaiverEntry] = []
    waiver_entries: list[WaiverEntry] = []
    if waivers is not None:
        outcome = waivers.apply(findings, context.time)
        expired, unused, expiring = outcome.expired, outcome.unused, outcome.expiring
        waiver_entries = waivers.entries()
        waived = sorted([*outcome.waived, *spread_waivers(findings)], key=lambda r: (str(r["finding"]), str(r["waiver"])))
    if vex_applied:
        configured = (config_data.get("vex") or {}).get("suppressing_states")
        states = configured if isinstance(configured, list) else DEFAULT_SUPPRESSING_STATES
        waived = sorted([*waived, *vex_waived(findings, vex_applied, states)], key=lambda r: (str(r["finding"]), str(r["waiver"])))
    findings = _in_source_order(findings, [f.index for f in raw], raw_sources)
    document: InputDocument = {
        "schema": INPUT_SCHEMA,
        "context": context.to_dict(),
        "findings": findings,
        "components": components,
        "scans": [*(_scan_dict(r, config_data) for r in reports), *extra_scans],
        "waivers": waiver_entries,
    }
    if vulndb is not None:
        document["vulndb"] = vulndb
    if unscanned is not None:
        document["unscanned"] = unscanned
    if proven_pickles:
        pickles = constant_pickles(findings, proven_pickles)
        if pickles:
            document["constant_pickles"] = pickles
    return Prepared(
        document=document,
        waived=waived,
        waivers_expired=expired,
        waivers_unused=unused,
        waivers_expiring=expiring,
        vex_applied=vex_applied,
    )
