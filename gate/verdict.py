"""The verdict: the gate's own semantics applied once to what the policies said.

The policies decide what violates. Here, uniformly and for every engine: each violation is
joined to its rule's METADATA, rules not meant for this stage are set aside, a deny whose rule
is not yet effective (`custom.effective_on` after `--time`) becomes a warning that says from
when it will block, the decision and exit code are derived, and everything is sorted so the
same inputs give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from gate.engine.interface import RawDecision
from gate.errors import ExitCode, GateError, PolicyError
from gate.policy import PolicySet, RuleMeta
from gate.records import (
    CompactFinding,
    ContextRecord,
    EngineInfo,
    Entry,
    ErrorRecord,
    Evidence,
    FindingRecord,
    InputSummary,
    JsonObject,
    NotApplicable,
    NotUsedRecord,
    PolicyInfo,
    Prepared,
    RuleRecord,
    Verdict,
    WaivedRecord,
)

VERDICT_SCHEMA = "gate.verdict/v1"
EVIDENCE_KEYS = ("findings", "components", "scans", "details")


def parse_time(text: str) -> dt.datetime:
    """An RFC 3339 time (or a bare date, meaning its start) as an aware UTC datetime."""
    t = text.strip()
    if len(t) == 10:
        d = dt.date.fromisoformat(t)
        return dt.datetime(d.year, d.month, d.day, tzinfo=dt.timezone.utc)
    if t.endswith(("Z", "z")):
        t = t[:-1] + "+00:00"
    value = dt.datetime.fromisoformat(t.replace("t", "T").replace(" ", "T", 1))
    if value.tzinfo is None:
        raise ValueError("an RFC 3339 time needs a zone (Z or +hh:mm)")
    return value.astimezone(dt.timezone.utc)


def format_time(value: dt.datetime) -> str:
    """RFC 3339 in UTC with a `Z`, to the second."""
    return value.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _normalise_evidence(raw: Any, rule: str) -> Evidence:
    if raw is None:
        return {"findings": [], "components": [], "scans": [], "details": []}
    if isinstance(raw, list):  # a bare list of finding ids is accepted
        raw = {"findings": raw}
    if not isinstance(raw, dict):
        raise PolicyError(f"rule {rule} emitted evidence of type {type(raw).__name__}; an object is expected")
    return {
        "findings": _ids(raw, "findings"),
        "components": _ids(raw, "components"),
        "scans": _ids(raw, "scans"),
        "details": _ids(raw, "details"),
    }


def _ids(raw: dict[str, Any], key: str) -> list[str]:
    """The evidence list `raw[key]` as sorted distinct strings (a value that is not a string as its canonical JSON)."""
    items = raw.get(key) or []
    if not isinstance(items, list):
        items = [items]
    if not items:
        return []
    if len(items) == 1 and isinstance(items[0], str):  # most lists: one finding id (10^5 entries: issue 20)
        return [items[0]]
    return sorted({i if isinstance(i, str) else json.dumps(i, sort_keys=True) for i in items})


def _entry(item: Any, meta_by_id: Mapping[str, RuleMeta], decision: str) -> Entry:
    if not isinstance(item, dict):
        raise PolicyError(f"a {decision} rule emitted {json.dumps(item)[:120]}; an object with `rule` and `msg` is expected")
    rule = item.get("rule")
    msg = item.get("msg")
    if not isinstance(rule, str) or not rule:
        raise PolicyError(f"a {decision} rule emitted an object without a `rule` id: {json.dumps(item, sort_keys=True)[:160]}")
    if not isinstance(msg, str):
        raise PolicyError(f"rule {rule} emitted a {decision} without a `msg` string")
    meta = meta_by_id.get(rule)
    if meta is None:
        raise PolicyError(f"rule {rule} has no METADATA block (custom.id: {rule}) in the policy folder")
    remediation = item.get("remediation")
    return {
        "rule": rule,
        "title": meta.title,
        "severity": str(item.get("severity") or meta.severity),
        "control": meta.control,
        "msg": msg,
        "remediation": remediation if isinstance(remediation, str) and remediation else meta.remediation,
        "evidence": _normalise_evidence(item.get("evidence"), rule),
        "effective_on": meta.effective_on,
    }


def _sort_key(e: Entry) -> tuple[str, str, str]:
    return (e["rule"], e["msg"], json.dumps(e["evidence"], sort_keys=True))


def _sort_entries(entries: list[Entry]) -> None:
    """Sort in place by `_sort_key`, serialising the evidence only where rule and message tie.

    Sorting by (rule, msg) and then each run of equal (rule, msg) by its evidence gives the same
    order as sorting by the whole key (tuples compare element by element; both sorts are stable),
    without 10^5 JSON serialisations for entries that never tie.
    """
    entries.sort(key=lambda e: (e["rule"], e["msg"]))
    start = 0
    for i in range(1, len(entries) + 1):
        if i == len(entries) or (entries[i]["rule"], entries[i]["msg"]) != (entries[start]["rule"], entries[start]["msg"]):
            if i - start > 1:
                entries[start:i] = sorted(entries[start:i], key=_sort_key)
            start = i


def _identity(decision: str, e: Entry) -> tuple[str | tuple[str, ...] | None, ...]:
    """What makes two entries the same: every field (strings or None) and the evidence lists."""
    return (
        decision,
        e["rule"],
        e["title"],
        e["severity"],
        e["control"],
        e["msg"],
        e["remediation"],
        e["effective_on"],
        tuple(e["evidence"]["findings"]),
        tuple(e["evidence"]["components"]),
        tuple(e["evidence"]["scans"]),
        tuple(e["evidence"]["details"]),
    )


@dataclass(frozen=True)
class Decision:
    """What the policies decided, once the gate's own semantics are applied (`decide`), or the
    error that stopped the run (`Decision.failed`): an error verdict has no violations at all."""

    decision: Literal["pass", "fail", "error"]
    exit_code: int
    violations: list[Entry] = field(default_factory=list)
    warnings: list[Entry] = field(default_factory=list)
    not_applicable: list[NotApplicable] = field(default_factory=list)
    error: GateError | None = None

    @classmethod
    def failed(cls, error: GateError) -> Decision:
        """The decision of a run a GateError stopped: `error`, with the error's exit code."""
        return cls("error", int(error.exit_code), error=error)


def decide(raw: RawDecision, policy: PolicySet, *, stage: str, now: dt.datetime, fail_on: str) -> Decision:
    """The decision (violations, warnings, rules not meant for the stage, pass or fail, exit code) from the raw decision."""
    violations: list[Entry] = []
    warnings: list[Entry] = []
    skipped: list[NotApplicable] = []
    seen: set[tuple[str | tuple[str, ...] | None, ...]] = set()
    for decision, items in (("deny", raw.deny), ("warn", raw.warn)):
        for item in items:
            e = _entry(item, policy.rules, decision)
            key = _identity(decision, e)
            if key in seen:
                continue
            seen.add(key)
            meta = policy.rules[e["rule"]]
            if meta.stages is not None and stage not in meta.stages:
                skipped.append({"rule": e["rule"], "stages": list(meta.stages)})
                continue
            if decision == "deny" and meta.effective_on:
                try:
                    effective = parse_time(meta.effective_on)
                except ValueError:
                    raise PolicyError(
                        f"rule {e['rule']}: custom.effective_on {meta.effective_on!r} is not a date", file=meta.file
                    ) from None
                if now < effective:
                    e["not_yet_effective"] = True
                    e["msg"] = f"{e['msg']} (not blocking yet: rule {e['rule']} blocks from {meta.effective_on})"
                    warnings.append(e)
                    continue
            (violations if decision == "deny" else warnings).append(e)
    _sort_entries(violations)
    _sort_entries(warnings)
    not_applicable = [cast("NotApplicable", json.loads(s)) for s in sorted({json.dumps(s, sort_keys=True) for s in skipped})]
    if violations:
        return Decision("fail", int(ExitCode.DENY), violations, warnings, not_applicable)
    if warnings and fail_on == "warn":
        return Decision("fail", int(ExitCode.WARN), violations, warnings, not_applicable)
    return Decision("pass", int(ExitCode.OPEN), violations, warnings, not_applicable)


@dataclass(frozen=True)
class RunInfo:
    """What the verdict says about the run itself: which policies and engine, when, how long.

    `rules`, `not_used` and `vulndb` are reported by a run that reached a decision; an error
    verdict leaves them out.
    """

    policy: PolicyInfo | None = None
    engine: EngineInfo | None = None
    context: ContextRecord | None = None
    timing: dict[str, float] = field(default_factory=dict)
    run: JsonObject | None = None
    """`gate run`'s record of the scanners it ran (None for `gate evaluate`)."""
    rules: dict[str, RuleRecord] = field(default_factory=dict)
    not_used: list[NotUsedRecord] = field(default_factory=list)
    vulndb: JsonObject | None = None


def build_verdict(decision: Decision, prepared: Prepared | None, run: RunInfo) -> Verdict:
    """The verdict document (`gate.verdict/v1`). On error: no violations at all, never a partial list.

    `prepared` is None when the run stopped before the input document was built.
    """
    document = prepared.document if prepared is not None else None
    scans = document["scans"] if document is not None else []
    findings = document["findings"] if document is not None else []
    inputs: list[InputSummary] = [
        {
            "path": s["path"],
            "sha256": s["sha256"],
            "format": s["format"],
            "tool": s["tool"],
            "tool_version": s["tool_version"],
            "complete": s["complete"],
            "errors": s["errors"],
            "findings": s["findings"],
            "components": s["components"],
        }
        for s in scans
    ]
    failed = decision.error is not None
    governance = prepared if prepared is not None and not failed else None
    waived = governance.waived if governance is not None else []
    by_sev: dict[str, int] = {}
    for f in findings:
        by_sev[f["severity"]] = by_sev.get(f["severity"], 0) + 1
    verdict: Verdict = {
        "schema": VERDICT_SCHEMA,
        "decision": decision.decision,
        "exit_code": decision.exit_code,
        "summary": {
            "violations": len(decision.violations),
            "warnings": len(decision.warnings),
            "findings": len(findings),
            "components": len(document["components"]) if document is not None else 0,
            "waived": len(waived),
            "findings_by_severity": dict(sorted(by_sev.items())),
            "inputs": len(inputs),
        },
        "violations": list(decision.violations),
        "warnings": list(decision.warnings),
        "waived": sorted(waived, key=lambda w: (str(w.get("finding")), str(w.get("waiver")))),
        "waivers_expired": list(governance.waivers_expired) if governance is not None else [],
        "waivers_unused": list(governance.waivers_unused) if governance is not None else [],
        "waivers_expiring": list(governance.waivers_expiring) if governance is not None else [],
        "vex": list(governance.vex_applied) if governance is not None else [],
        "not_applicable": list(decision.not_applicable),
        "inputs": inputs,
        "policy": run.policy or None,
        "engine": run.engine or None,
        "context": run.context or None,
        "timing": dict(run.timing),
        "error": cast("ErrorRecord", decision.error.to_dict()) if decision.error is not None else None,
    }
    if failed:
        verdict["findings"] = {}
        verdict["run"] = dict(run.run) if run.run else None
        return verdict
    verdict["findings"] = cited_findings(decision, waived, findings)
    verdict["rules"] = run.rules
    verdict["run"] = dict(run.run) if run.run else None
    verdict["not_used"] = sorted(run.not_used, key=lambda e: (str(e["path"]), str(e["change"])))
    if document is not None and "unscanned" in document:
        verdict["unscanned"] = document["unscanned"]
    verdict["vulndb"] = run.vulndb
    return verdict


def cited_findings(decision: Decision, waived: Sequence[WaivedRecord], findings: Sequence[FindingRecord]) -> dict[str, CompactFinding]:
    """The findings the verdict cites (as evidence, or waived), by id, with what the formats show of them."""
    cited: set[str] = set()
    for e in (*decision.violations, *decision.warnings):
        cited.update(e["evidence"]["findings"])
    cited.update(str(w.get("finding")) for w in waived)
    by_id = {f["id"]: f for f in findings if f["id"] in cited}
    return {
        fid: {
            "tool": f["tool"],
            "rule_id": f["rule_id"],
            "rule_name": f["rule_name"],
            "kind": f["kind"],
            "severity": f["severity"],
            "message": f["message"],
            "location": f["location"],
            "package": f["package"],
            "cwe": f["cwe"],
            "test_code": f["test_code"],
            "baseline": f["baseline"],
            "duplicates": f["duplicates"],
            "waiver": f["waiver"],
            "vex": f["vex"],
            "help_uri": f["help_uri"],
            "source": f["source"],
        }
        for fid, f in sorted(by_id.items())
    }


def mark_report_only(verdict: Verdict) -> None:
    """`--fail-on never`: record the exit code the verdict would have had, and open the exit (0).

    The decision stays what the policies said (`fail` stays `fail`, so no attestation claims a
    pass); only the exit code becomes 0, and `report_only.would_exit_code` says what would have
    closed the gate. An error verdict is left alone: an error never passes, report-only or not.
    """
    if verdict.get("decision") == "error":
        return
    verdict["report_only"] = {"would_exit_code": int(verdict["exit_code"])}
    verdict["exit_code"] = int(ExitCode.OPEN)
