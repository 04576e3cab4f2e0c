"""What several formats share: the flat list of results a verdict implies, in one order.

Every format shows the same totals. A "result" is one (violation or warning) × (cited finding),
or the violation itself when it cites no finding (a component, a scan, a missing piece of
evidence); waived findings are results too, marked as waived. Formats that must cap what they
show (GitHub's SARIF and annotation limits, a PR comment's size) take a prefix of this list,
which is ordered most important first, and say how many they left out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4, "unknown": 5}
LEVEL_ORDER = {"deny": 0, "warn": 1, "waived": 2}


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
    finding: Mapping[str, Any] | None
    entry: Mapping[str, Any] | None
    waiver: Mapping[str, Any] | None = None

    @property
    def path(self) -> str | None:
        loc = (self.finding or {}).get("location") or {}
        path = loc.get("path")
        if path:
            return str(path)
        source = (self.finding or {}).get("source") or {}
        return str(source["path"]) if source.get("path") else None

    @property
    def start_line(self) -> int | None:
        loc = (self.finding or {}).get("location") or {}
        line = loc.get("start_line")
        return int(line) if isinstance(line, int) and line > 0 else None

    @property
    def end_line(self) -> int | None:
        loc = (self.finding or {}).get("location") or {}
        line = loc.get("end_line")
        start = self.start_line
        return int(line) if isinstance(line, int) and start is not None and line >= start else start

    def fingerprint(self) -> str:
        """The gate's fingerprint of the finding, or a stable hash of the rule and message."""
        if self.finding_id:
            return self.finding_id
        return hashlib.sha256(f"{self.rule}\x1f{self.msg}".encode()).hexdigest()[:32]


def results(verdict: Mapping[str, Any]) -> list[Result]:
    """Every result of the verdict, most important first, deterministic."""
    findings = verdict.get("findings") or {}
    out: list[Result] = []
    for level, key in (("deny", "violations"), ("warn", "warnings")):
        for e in verdict.get(key) or []:
            ids = (e.get("evidence") or {}).get("findings") or []
            if not ids:
                out.append(Result(level, e["rule"], e.get("title", ""), e.get("severity", ""), e["msg"], e.get("remediation", ""), None, None, e))
            for fid in ids:
                out.append(Result(level, e["rule"], e.get("title", ""), e.get("severity", ""), e["msg"], e.get("remediation", ""), fid, findings.get(fid), e))
    for w in verdict.get("waived") or []:
        fid = str(w.get("finding"))
        f = findings.get(fid)
        sev = str((f or {}).get("severity") or "unknown")
        msg = str((f or {}).get("message") or "")
        out.append(
            Result("waived", str((f or {}).get("rule_id") or w.get("rule_id") or "waived"), "Waived finding", sev, msg, "", fid, f, None, w)
        )
    out.sort(key=lambda r: (LEVEL_ORDER[r.level], SEVERITY_ORDER.get(r.severity, 9), r.rule, r.path or "", r.start_line or 0, r.fingerprint()))
    return out


def totals(verdict: Mapping[str, Any]) -> dict[str, int]:
    """The counts every format states."""
    s = verdict.get("summary") or {}
    return {
        "violations": int(s.get("violations", len(verdict.get("violations") or []))),
        "warnings": int(s.get("warnings", len(verdict.get("warnings") or []))),
        "waived": int(s.get("waived", len(verdict.get("waived") or []))),
        "findings": int(s.get("findings", 0)),
        "components": int(s.get("components", 0)),
    }


def iter_rules(verdict: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(id, metadata) of every rule of the policy set, sorted by id."""
    rules = verdict.get("rules") or {}
    for rid in sorted(rules):
        yield rid, rules[rid]
