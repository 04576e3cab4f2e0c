"""`sarif`: SARIF 2.1.0 for code scanning, valid against the official schema.

One reportingDescriptor per policy rule (with its METADATA and a `security-severity`), one
result per (rule × cited finding) at the finding's location, waived findings as results with an
accepted external suppression, `partialFingerprints` from the gate's fingerprints. GitHub
accepts at most 25,000 results per run: beyond that the least important are left out and the
run says how many (its `properties` carry the verdict's totals, which stay whole).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from gate import __version__
from gate.output.common import Result, iter_rules, results, totals
from gate.output.interface import Formatter

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
MAX_RESULTS = 25_000
MAX_TEXT = 8_000
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0", "info": "0.0", "unknown": "5.0"}
LEVEL = {"deny": "error", "warn": "warning", "waived": "note"}
WAIVED_RULE = "GATE-WAIVED"
INFORMATION_URI = "https://github.com/policy-gate/policy-gate"


def sarif_text(text: object, limit: int = MAX_TEXT) -> str:
    """Plain message text: literal braces doubled (SARIF §3.11.5 placeholders), bounded length."""
    s = "" if text is None else str(text)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return s.replace("{", "{{").replace("}", "}}")


def artifact_uri(path: str) -> str:
    """A finding's path as a URI reference; the text is kept (percent-encoded), never resolved."""
    if path.startswith("file://"):
        path = path[7:]
    return quote(path, safe="/:@-._~!$&'()*+,;=")


class SarifFormatter(Formatter):
    """SARIF 2.1.0 log with one run of `policy-gate`."""

    name = "sarif"
    max_results = MAX_RESULTS

    def render(self, verdict: Mapping[str, Any], document: Mapping[str, Any] | None) -> str:
        rule_meta = dict(iter_rules(verdict))
        all_results = results(verdict)
        shown = all_results[: self.max_results]
        omitted = len(all_results) - len(shown)
        rule_ids = sorted({*rule_meta, *(r.rule for r in shown if r.level != "waived")})
        if any(r.level == "waived" for r in shown):
            rule_ids.append(WAIVED_RULE)
        index = {rid: i for i, rid in enumerate(rule_ids)}
        rules = [self._rule(rid, rule_meta.get(rid)) for rid in rule_ids]
        sarif_results = [self._result(r, index) for r in shown]
        notifications: list[dict[str, Any]] = []
        if omitted:
            notifications.append(
                {
                    "level": "warning",
                    "message": {"text": f"{omitted} of {len(all_results)} results left out (GitHub accepts at most {self.max_results} per run); the verdict JSON has them all."},
                    "descriptor": {"id": "GATE-OUTPUT-CAP"},
                }
            )
        err = verdict.get("error")
        if err:
            notifications.append({"level": "error", "message": {"text": sarif_text(err.get("message", ""))}, "descriptor": {"id": "GATE-ERROR"}})
        t = totals(verdict)
        ctx = verdict.get("context") or {}
        invocation: dict[str, Any] = {
            "executionSuccessful": verdict["decision"] != "error",
            "exitCode": int(verdict["exit_code"]),
        }
        if notifications:
            invocation["toolExecutionNotifications"] = notifications
        if ctx.get("time"):
            invocation["endTimeUtc"] = ctx["time"]
        run: dict[str, Any] = {
            "tool": {
                "driver": {
                    "name": "policy-gate",
                    "semanticVersion": __version__,
                    "version": __version__,
                    "informationUri": INFORMATION_URI,
                    "rules": rules,
                }
            },
            "invocations": [invocation],
            "results": sarif_results,
            "automationDetails": {"id": f"policy-gate/{ctx.get('stage') or 'default'}/"},
            "properties": {
                "decision": verdict["decision"],
                "exitCode": int(verdict["exit_code"]),
                "totals": {**t, "results": len(all_results), "resultsShown": len(shown), "resultsOmitted": omitted},
                "policyDigest": (verdict.get("policy") or {}).get("digest"),
            },
        }
        log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
        return json.dumps(log, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def _rule(self, rid: str, meta: Mapping[str, Any] | None) -> dict[str, Any]:
        if rid == WAIVED_RULE:
            meta = {"title": "Finding accepted by a waiver", "description": "A finding covered by a valid waiver: visible, not blocking.", "severity": "info", "control": "risk acceptance", "remediation": "Fix the finding before the waiver expires."}
        meta = meta or {}
        severity = str(meta.get("severity") or "unknown")
        control = str(meta.get("control") or "")
        rule: dict[str, Any] = {
            "id": rid,
            "name": "".join(ch for ch in str(meta.get("title") or rid).title() if ch.isalnum()) or rid,
            "shortDescription": {"text": sarif_text(meta.get("title") or rid, 1000)},
            "fullDescription": {"text": sarif_text(meta.get("description") or meta.get("title") or rid)},
            "help": {"text": sarif_text(meta.get("remediation") or "See the policy's documentation.")},
            "defaultConfiguration": {"level": "error" if meta.get("decision", "deny") == "deny" else "warning"},
            "properties": {
                "security-severity": SECURITY_SEVERITY.get(severity, "5.0"),
                "tags": sorted({"security", *( [control[:100]] if control else [])}),
                "control": control,
            },
        }
        return rule

    def _result(self, r: Result, index: Mapping[str, int]) -> dict[str, Any]:
        rid = WAIVED_RULE if r.level == "waived" else r.rule
        f = r.finding or {}
        text = r.msg if r.level != "waived" else f"Waived by {(r.waiver or {}).get('waiver')}: {r.msg}"
        res: dict[str, Any] = {
            "ruleId": rid,
            "ruleIndex": index[rid],
            "level": LEVEL[r.level],
            "kind": "fail",
            "message": {"text": sarif_text(text)},
            "partialFingerprints": {"gateFingerprint/v1": r.fingerprint()},
            "properties": {"gateLevel": r.level, "severity": r.severity},
        }
        if f:
            res["properties"].update({"tool": f.get("tool"), "toolRuleId": f.get("rule_id"), "findingSeverity": f.get("severity")})
        path = r.path
        if path:
            phys: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(path)}}
            if r.start_line:
                phys["region"] = {"startLine": r.start_line, "endLine": r.end_line or r.start_line}
            res["locations"] = [{"physicalLocation": phys}]
        if r.level == "waived":
            w = r.waiver or {}
            res["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": sarif_text(f"{w.get('waiver')}: {w.get('reason')} (approved by {w.get('approved_by')}, expires {w.get('expires')})", 2000),
                }
            ]
        return res
