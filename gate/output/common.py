"""What several formats share: the flat list of results a verdict implies, in one order.

Every format shows the same totals, and they all come from one place: `summarize(verdict)`,
computed once from the verdict (and the input document, where there is one). A "result" is one
violation or warning (an entry of the verdict), located at its *primary* finding: the cited
finding whose `path:line` the message names (a cross-tool group cites every member as evidence,
and the message is written about one of them), else the first cited finding; the other cited
findings are the result's `related` evidence, not rows of their own. So a violation is one row,
one SARIF result, one annotation, one Code Quality issue, everywhere. Waived findings are
results too, marked as waived. Formats that must cap what they show (GitHub's SARIF and
annotation limits, a PR comment's size) take a prefix of this list, which is ordered most
important first, and say how many they left out.
"""

from __future__ import annotations

import hashlib
import heapq
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from gate.records import CompactFinding, Entry, ErrorRecord, InputDocument, LocationRecord, NotUsedRecord, RuleRecord, Verdict, WaivedRecord

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4, "unknown": 5}
LEVEL_ORDER = {"deny": 0, "warn": 1, "waived": 2}
LEVELS = ("deny", "warn", "waived")


@dataclass(frozen=True)
class Result:
    """One thing to show: a rule's verdict about one finding (or about no finding in particular)."""

    level: str  # deny | warn | waived
    rule: str
    title: str
    severity: str
    msg: str
    remediation: str
    finding_id: str | None
    finding: CompactFinding | None
    entry: Entry | None
    waiver: WaivedRecord | None = None
    related: tuple[str, ...] = ()
    """The other findings the entry cites (the rest of a cross-tool group), by id."""

    def _location(self) -> LocationRecord | None:
        return self.finding.get("location") if self.finding else None

    @property
    def path(self) -> str | None:
        """The file the result is about: the finding's location, else the report it came from."""
        loc = self._location()
        path = loc.get("path") if loc else None
        if path:
            return str(path)
        source = self.finding.get("source") if self.finding else None
        if source and source.get("path"):
            return str(source["path"])
        if self.waiver and self.waiver.get("path"):
            return str(self.waiver["path"])
        return None

    @property
    def start_line(self) -> int | None:
        loc = self._location()
        line = loc.get("start_line") if loc else None
        return int(line) if isinstance(line, int) and not isinstance(line, bool) and line > 0 else None

    @property
    def end_line(self) -> int | None:
        loc = self._location()
        line = loc.get("end_line") if loc else None
        start = self.start_line
        if isinstance(line, int) and not isinstance(line, bool) and start is not None and line >= start:
            return line
        return start

    @property
    def package(self) -> str | None:
        """The package the finding is about (its purl, else name@version)."""
        pkg = self.finding.get("package") if self.finding else None
        if not pkg:
            return None
        if pkg.get("purl"):
            return str(pkg["purl"])
        if pkg.get("name"):
            return f"{pkg['name']}@{pkg.get('version') or ''}".rstrip("@")
        return None

    def where(self) -> str:
        """`path:line`, the package, or the first component or scan the evidence names ('' if none)."""
        loc = self._location()
        if loc and loc.get("path"):
            return f"{loc['path']}:{self.start_line}" if self.start_line else str(loc["path"])
        if self.package:
            return self.package
        ev = self.entry.get("evidence") if self.entry else None
        for cited in (ev.get("components"), ev.get("scans")) if ev else ():
            if cited:
                return str(cited[0])
        return self.path or ""

    def fingerprint(self) -> str:
        """The gate's fingerprint of the finding, or a stable hash of the rule and message."""
        if self.finding_id:
            return self.finding_id
        return hashlib.sha256(f"{self.rule}\x1f{self.msg}".encode()).hexdigest()[:32]


def _cites_location(msg: str, f: CompactFinding | None) -> bool:
    """Whether `msg` names the finding's `path:line` (not a longer line number: `app.py:4` is not in `app.py:40`)."""
    loc = f.get("location") if f else None
    if not loc or not loc.get("path") or not isinstance(loc.get("start_line"), int):
        return False
    where = f"{loc['path']}:{loc['start_line']}"
    at = msg.find(where)
    while at >= 0:
        end = at + len(where)
        if end == len(msg) or not msg[end].isdigit():
            return True
        at = msg.find(where, at + 1)
    return False


def primary_finding(entry: Entry, findings: Mapping[str, CompactFinding]) -> tuple[str | None, tuple[str, ...]]:
    """(the primary finding's id, the other cited ids) of a violation or warning.

    The primary is the cited finding whose `path:line` the message names (the rule wrote the
    message about it), else the first cited id; a row's location then always agrees with its text.
    """
    ids = [str(i) for i in (entry.get("evidence") or {}).get("findings") or []]
    if not ids:
        return None, ()
    if len(ids) == 1:  # the primary whatever the message names (most entries cite one finding)
        return ids[0], ()
    msg = str(entry.get("msg") or "")
    named = [i for i in ids if _cites_location(msg, findings.get(i))]
    first = named[0] if named else ids[0]
    return first, tuple(i for i in ids if i != first)


def results(verdict: Verdict, limit: int | None = None) -> list[Result]:
    """Every result of the verdict (one per violation, warning and waived finding), most important first.

    With `limit`, the first `limit` results of each level only: the same results, in the same
    order, as the full list's (the console shows 200 rows per level of the 60,000 results of a
    violation-heavy run, and drawing every one cost a third of its output time; issue 20).
    Within a level the order is the key `_order` gives, then the entry's place in the verdict.
    """
    findings = verdict.get("findings") or {}
    out: list[Result] = []
    for level, entries in (("deny", verdict.get("violations") or []), ("warn", verdict.get("warnings") or [])):
        keyed = []
        for i, e in enumerate(entries):
            ev = e.get("evidence")
            ids = ev.get("findings") if ev else None
            fid: str | None
            related: tuple[str, ...]
            if ids and len(ids) == 1:  # most entries: primary_finding's first case, without its call
                fid, related = str(ids[0]), ()
            else:
                fid, related = primary_finding(e, findings)
            f = findings.get(fid) if fid else None
            keyed.append((_order(str(e.get("severity") or "unknown"), str(e["rule"]), str(e["msg"]), fid, f, None), i, fid, f, related))
        out.extend(entry_result(level, entries[i], fid, f, related) for _key, i, fid, f, related in _first(keyed, limit))
    # Waived findings are few (each needs a reviewed waiver or VEX statement): built whole, then ordered.
    waived = [waived_result(w, findings) for w in verdict.get("waived") or []]
    ordered = _first([(_order(r.severity, r.rule, r.msg, r.finding_id, r.finding, r.waiver), i) for i, r in enumerate(waived)], limit)
    out.extend(waived[i] for _key, i in ordered)
    return out


def entry_result(level: str, e: Entry, fid: str | None, f: CompactFinding | None, related: tuple[str, ...]) -> Result:
    """The result of a violation or warning `e`, located at its primary finding `fid` (`f`)."""
    return Result(
        level,
        str(e["rule"]),
        str(e.get("title") or ""),
        str(e.get("severity") or "unknown"),
        str(e["msg"]),
        str(e.get("remediation") or ""),
        fid,
        f,
        e,
        None,
        related,
    )


def waived_result(w: WaivedRecord, findings: Mapping[str, CompactFinding]) -> Result:
    """The result of a waived finding: its finding's severity, rule and message."""
    fid = str(w.get("finding"))
    f = findings.get(fid)
    sev = str((f.get("severity") if f else None) or "unknown")
    msg = str((f.get("message") if f else None) or "")
    rule = str((f.get("rule_id") if f else None) or w.get("rule_id") or "waived")
    return Result("waived", rule, "Waived finding", sev, msg, "", fid, f, None, w)


def _first(keyed: list[Any], limit: int | None) -> list[Any]:
    """The (key, place, ...) tuples in order, or the first `limit` of them (places are unique, so
    comparisons never reach what follows; the order is a stable sort's by key)."""
    if limit is None:
        keyed.sort()
        return keyed
    return heapq.nsmallest(limit, keyed)


def _order(
    severity: str, rule: str, msg: str, fid: str | None, f: CompactFinding | None, waiver: WaivedRecord | None
) -> tuple[int, str, str, int, str, str]:
    """A result's sort key within its level, from its parts: what `Result(...)`'s severity, rule,
    `path`, `start_line`, `fingerprint()` and message give, computed without building it
    (tests/test_output_common.py checks the two agree)."""
    loc = f.get("location") if f else None
    path = loc.get("path") if loc else None
    if not path:
        source = f.get("source") if f else None
        if source and source.get("path"):
            path = source["path"]
        elif waiver and waiver.get("path"):
            path = waiver["path"]
    line = loc.get("start_line") if loc else None
    start = line if isinstance(line, int) and not isinstance(line, bool) and line > 0 else 0
    fingerprint = fid if fid else hashlib.sha256(f"{rule}\x1f{msg}".encode()).hexdigest()[:32]
    return (SEVERITY_ORDER.get(severity, 9), rule, str(path) if path else "", int(start), fingerprint, msg)


def package_name(r: Result) -> str | None:
    """The Python package a result is about: its finding's package, else the first PyPI component it cites."""
    pkg = r.finding.get("package") if r.finding else None
    if pkg and pkg.get("name"):
        return str(pkg["name"])
    ev = r.entry.get("evidence") if r.entry else None
    for purl in (ev.get("components") if ev else None) or []:
        m = re.match(r"pkg:pypi/([^@?#/]+)", str(purl))
        if m:
            return m.group(1)
    return None


def unique_fingerprints(items: Sequence[Result]) -> list[str]:
    """One fingerprint per result, no two alike, stable across runs.

    The base is a hash of the rule and the finding's fingerprint (or the message, for a result
    about no finding): the same finding judged by two rules gives two fingerprints. Where two
    results would still share one (a rule that cites the same finding twice, with different
    messages), the later ones in the results' deterministic order get `:2`, `:3`, ..., as
    GitHub's own line hashes do.
    """
    seen: dict[str, int] = {}
    out = []
    for r in items:
        base = hashlib.sha256(f"{r.rule}\x1f{r.fingerprint()}".encode()).hexdigest()[:32]
        seen[base] = seen.get(base, 0) + 1
        out.append(base if seen[base] == 1 else f"{base}:{seen[base]}")
    return out


@dataclass(frozen=True)
class Summary:
    """Every count any format states, computed once from the verdict (and the input document)."""

    decision: str
    exit_code: int
    violations: int
    warnings: int
    waived: int
    suppressed: int
    findings: int
    components: int
    inputs: int
    results: int
    by_rule: Mapping[str, Mapping[str, int]]
    """rule id -> {"deny": n, "warn": n, "waived": n}, sorted by id."""
    would_exit: int | None
    """Report-only runs (`--fail-on never`): the exit code the gate would have closed with."""

    def headline(self) -> str:
        """The counts sentence every text format prints in the same words."""
        return (
            f"{self.violations} violation(s), {self.warnings} warning(s), {self.waived} waived, "
            f"{self.suppressed} suppressed inline; {self.findings} finding(s), {self.components} component(s) "
            f"from {self.inputs} input(s)"
        )


def report_only_note(verdict: Verdict) -> str | None:
    """'report-only: would have failed with exit N' for a report-only run that would have closed."""
    ro = verdict.get("report_only")
    if not isinstance(ro, Mapping):
        return None
    code = ro.get("would_exit_code")
    if isinstance(code, int) and code != 0:
        return f"report-only: would have failed with exit {code}"
    return "report-only: would have passed"


def summarize(
    verdict: Verdict, document: InputDocument | None = None, items: Sequence[Result] | None = None, *, rules: bool = True
) -> Summary:
    """The one place the counts come from: the verdict's entries, its waived list and summary.

    `items` is `results(verdict)` when the caller has it already (it is not computed twice).
    `rules=False` leaves `by_rule` empty, for a format that does not state it (the console):
    every other count comes from the verdict's lists, not from `items`.
    """
    s: Mapping[str, object] = verdict.get("summary") or {}
    by_rule: dict[str, dict[str, int]] = {}
    if rules:
        for r in items if items is not None else results(verdict):
            by_rule.setdefault(r.rule, dict.fromkeys(LEVELS, 0))[r.level] += 1
    if document is not None:
        suppressed = sum(1 for f in document.get("findings") or [] if f.get("suppressed") is True)
    else:
        suppressed = _count(s, "suppressed", 0)
    ro = verdict.get("report_only")
    would = ro.get("would_exit_code") if isinstance(ro, Mapping) else None
    violations, warnings, waived = (
        len(verdict.get("violations") or []),
        len(verdict.get("warnings") or []),
        len(verdict.get("waived") or []),
    )
    return Summary(
        decision=str(verdict.get("decision")),
        exit_code=int(verdict.get("exit_code", 0)),
        violations=violations,
        warnings=warnings,
        waived=waived,
        suppressed=suppressed,
        findings=_count(s, "findings", 0),
        components=_count(s, "components", 0),
        inputs=_count(s, "inputs", len(verdict.get("inputs") or [])),
        results=violations + warnings + waived,
        by_rule=dict(sorted(by_rule.items())),
        would_exit=would if isinstance(would, int) else None,
    )


def _count(summary: Mapping[str, object], key: str, default: int) -> int:
    value = summary.get(key, default)
    return int(value) if isinstance(value, (int, float, str)) else default


def totals(verdict: Verdict, document: InputDocument | None = None) -> dict[str, int]:
    """The counts every format states (from `summarize`)."""
    sm = summarize(verdict, document)
    return {
        "violations": sm.violations,
        "warnings": sm.warnings,
        "waived": sm.waived,
        "suppressed": sm.suppressed,
        "findings": sm.findings,
        "components": sm.components,
    }


def waived_by(w: WaivedRecord | None) -> str:
    """Who set a waived finding aside, in one phrase every format uses.

    `W-2026-014 (expires 2026-09-30)` for a waiver; `VEX statement in vex.json: not_affected
    (code_not_reachable)` for a finding a suppressing VEX state covers (`by: "vex"`), which every
    format shows and counts exactly like a waived one.
    """
    if w is None:
        return "None (expires None)"
    if w.get("by") == "vex":
        state = f"{w.get('state')} ({w.get('justification')})" if w.get("justification") else str(w.get("state"))
        return f"VEX statement in {w.get('source') or 'a VEX document'}: {state}"
    return f"{w.get('waiver')} (expires {w.get('expires')})"


def count_by_level(items: list[Result]) -> dict[str, int]:
    """How many results of each level (deny, warn, waived) a list holds."""
    out = dict.fromkeys(LEVELS, 0)
    for r in items:
        out[r.level] += 1
    return out


def iter_rules(verdict: Verdict) -> Iterator[tuple[str, RuleRecord]]:
    """(id, metadata) of every rule of the policy set, sorted by id."""
    rules = verdict.get("rules") or {}
    for rid in sorted(rules):
        yield rid, rules[rid]


def error_where(err: ErrorRecord | None) -> str:
    """`file:line:column` of an error verdict's error, as far as it is known ('' if not at all)."""
    if not err:
        return ""
    pos = err.get("position")
    return str(err.get("file") or "") + "".join(f":{v}" for v in ((pos.get("line"), pos.get("column")) if pos else ()) if v)


def error_text(err: ErrorRecord | None) -> str:
    """An error verdict's message, with the fix when the error names one (`hint`)."""
    if err is None:
        return ""
    message = str(err.get("message") or "")
    return f"{message} ({err['hint']})" if err.get("hint") else message


def not_used(verdict: Verdict) -> list[NotUsedRecord]:
    """What the work tree changed in policies, data or waivers that the gate did not use (--policy-ref)."""
    return [e for e in verdict.get("not_used") or [] if isinstance(e, Mapping)]


def rule_anchor(rule_id: str) -> str:
    """The anchor `gate policy doc` gives a rule in its catalogue (`rule-` + the id, lower-cased)."""
    return "rule-" + "".join(c if c.isalnum() else "-" for c in rule_id.lower())


def safe_url(url: object) -> str | None:
    """An http(s) URL with the characters that could end a Markdown link or a JSON/XML string encoded."""
    if not isinstance(url, str) or not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return quote(url.strip(), safe="/:@-._~!$&'*+,;=?#%")


def rule_doc_url(rule_id: str, meta: Mapping[str, Any] | None, docs_base: str | None) -> str | None:
    """Where a rule is documented: its METADATA `related_resources` link, else the catalogue at `docs_base`."""
    for res in (meta or {}).get("related_resources") or (meta or {}).get("related") or []:
        ref = res.get("ref") if isinstance(res, Mapping) else res
        url = safe_url(ref)
        if url:
            return url
    base = safe_url(docs_base)
    if base:
        return f"{base.split('#', 1)[0]}#{rule_anchor(rule_id)}"
    return None


_SLUG_DROP = re.compile(r"[^\w\- ]", re.UNICODE)


def github_slug(heading_text: str) -> str:
    """The anchor GitHub gives a Markdown heading with this text (lower-cased, punctuation dropped)."""
    return _SLUG_DROP.sub("", heading_text.strip().lower()).replace(" ", "-")
