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
from typing import Any

from gate.engine.interface import RawDecision
from gate.errors import ExitCode, GateError, PolicyError
from gate.policy import PolicySet, RuleMeta

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


def _normalise_evidence(raw: Any, rule: str) -> dict[str, list[str]]:
    if raw is None:
        return {k: [] for k in EVIDENCE_KEYS}
    if isinstance(raw, list):  # a bare list of finding ids is accepted
        raw = {"findings": raw}
    if not isinstance(raw, dict):
        raise PolicyError(f"rule {rule} emitted evidence of type {type(raw).__name__}; an object is expected")
    out: dict[str, list[str]] = {}
    for key in EVIDENCE_KEYS:
        items = raw.get(key) or []
        if not isinstance(items, list):
            items = [items]
        out[key] = sorted({i if isinstance(i, str) else json.dumps(i, sort_keys=True) for i in items})
    return out


def _entry(item: Any, meta_by_id: Mapping[str, RuleMeta], decision: str) -> dict[str, Any]:
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


def _sort_key(e: Mapping[str, Any]) -> tuple[str, str, str]:
    return (e["rule"], e["msg"], json.dumps(e["evidence"], sort_keys=True))


def _sort_entries(entries: list[dict[str, Any]]) -> None:
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


def _identity(decision: str, e: Mapping[str, Any]) -> tuple[Any, ...]:
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
        *(tuple(e["evidence"][k]) for k in EVIDENCE_KEYS),
    )


def decide(
    raw: RawDecision,
    policy: PolicySet,
    *,
    stage: str,
    now: dt.datetime,
    fail_on: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], str, int]:
    """(violations, warnings, not_applicable, decision, exit code) from the raw decision."""
    violations: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    seen: set[tuple[Any, ...]] = set()
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
    unique_skipped = sorted({json.dumps(s, sort_keys=True) for s in skipped})
    if violations:
        return violations, warnings, [json.loads(s) for s in unique_skipped], "fail", int(ExitCode.DENY)
    if warnings and fail_on == "warn":
        return violations, warnings, [json.loads(s) for s in unique_skipped], "fail", int(ExitCode.WARN)
    return violations, warnings, [json.loads(s) for s in unique_skipped], "pass", int(ExitCode.OPEN)


def build_verdict(
    *,
    decision: str,
    exit_code: int,
    violations: Sequence[dict[str, Any]],
    warnings: Sequence[dict[str, Any]],
    document: Mapping[str, Any] | None,
    policy: Mapping[str, Any] | None,
    engine: Mapping[str, Any] | None,
    context: Mapping[str, Any] | None,
    timing: Mapping[str, Any],
    waived: Sequence[Mapping[str, Any]] = (),
    waivers_expired: Sequence[Mapping[str, Any]] = (),
    waivers_unused: Sequence[Mapping[str, Any]] = (),
    waivers_expiring: Sequence[Mapping[str, Any]] = (),
    vex_applied: Sequence[Mapping[str, Any]] = (),
    not_applicable: Sequence[Mapping[str, Any]] = (),
    error: GateError | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The verdict document (`gate.verdict/v1`). On error: no violations at all, never a partial list."""
    scans = list(document["scans"]) if document else []
    findings = document["findings"] if document else []
    inputs = [
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
    if error is not None:
        violations, warnings = [], []
        waived = waivers_expired = waivers_unused = waivers_expiring = vex_applied = not_applicable = []
    by_sev: dict[str, int] = {}
    for f in findings:
        by_sev[f["severity"]] = by_sev.get(f["severity"], 0) + 1
    verdict: dict[str, Any] = {
        "schema": VERDICT_SCHEMA,
        "decision": decision,
        "exit_code": exit_code,
        "summary": {
            "violations": len(violations),
            "warnings": len(warnings),
            "findings": len(findings),
            "components": len(document["components"]) if document else 0,
            "waived": len(waived),
            "findings_by_severity": dict(sorted(by_sev.items())),
            "inputs": len(inputs),
        },
        "violations": list(violations),
        "warnings": list(warnings),
        "waived": sorted(waived, key=lambda w: (str(w.get("finding")), str(w.get("waiver")))),
        "waivers_expired": list(waivers_expired),
        "waivers_unused": list(waivers_unused),
        "waivers_expiring": list(waivers_expiring),
        "vex": list(vex_applied),
        "not_applicable": list(not_applicable),
        "inputs": inputs,
        "policy": dict(policy) if policy else None,
        "engine": dict(engine) if engine else None,
        "context": dict(context) if context else None,
        "timing": dict(timing),
        "error": error.to_dict() if error is not None else None,
    }
    if extra:
        verdict.update(extra)
    return verdict


def mark_report_only(verdict: dict[str, Any]) -> None:
    """`--fail-on never`: record the exit code the verdict would have had, and open the exit (0).

    The decision stays what the policies said (`fail` stays `fail`, so no attestation claims a
    pass); only the exit code becomes 0, and `report_only.would_exit_code` says what would have
    closed the gate. An error verdict is left alone: an error never passes, report-only or not.
    """
    if verdict.get("decision") == "error":
        return
    verdict["report_only"] = {"would_exit_code": int(verdict["exit_code"])}
    verdict["exit_code"] = int(ExitCode.OPEN)
