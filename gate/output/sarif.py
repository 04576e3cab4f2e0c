"""`sarif`: SARIF 2.1.0 for code scanning, valid against the official schema.

One reportingDescriptor per policy rule (with its METADATA, a `security-severity` and, when
known, a `helpUri` to its documentation), one result per (rule × cited finding) at the
finding's location, waived findings as results with an accepted external suppression,
`partialFingerprints` from the gate's fingerprints, `baselineState` from the baseline.

For GitHub code scanning (https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning):
URIs are relative to the repository root (`--source-root`, default the git top level; a
`gate run services/api` places alerts at `services/api/...`); each result carries
`primaryLocationLineHash`, computed as GitHub's upload action does (`gate.output.locate`), when
the source file is at hand, and a `gateFingerprint/v1` that no other result of the run shares;
dependency and licence results sit at the manifest line that declares the package; rule tags
are short (`security`, the rule's severity, the control's id, CWE ids), never a control's text;
`automationDetails.id` is `policy-gate/<stage>/`, so the stages' analyses do not replace each
other.

GitHub's upload limits (https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning):
at most 20 runs per file (the gate writes one), 25,000 results and 25,000 rules per run, 1,000
locations per result (the gate writes one), 20 tags per rule (at most 10 shown; the gate writes
at most 3), and 10 MB for the gzip-compressed file. Past a limit the least important results are
left out, and the run says so twice: a tool-execution notification with the number left out,
and `properties.totals`, which keeps the verdict's whole totals with `resultsShown` and
`resultsOmitted`. GitHub displays only the top 5,000 results of a run, by severity; a
notification says so when there are more.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from gate import __version__
from gate.output.common import (
    Result,
    error_text,
    iter_rules,
    not_used,
    package_name,
    report_only_note,
    results,
    rule_doc_url,
    summarize,
    unique_fingerprints,
    waived_by,
)
from gate.output.interface import Formatter
from gate.output.json_format import dump
from gate.output.locate import SourceTree, repo_path
from gate.output.text import neutralise
from gate.records import InputDocument, Verdict

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
MAX_RESULTS = 25_000
MAX_RULES = 25_000
MAX_GZIP_BYTES = 10 * 1000 * 1000
DISPLAYED_RESULTS = 5_000
MAX_TEXT = 4_000
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0", "info": "0.0", "unknown": "5.0"}
LEVEL = {"deny": "error", "warn": "warning", "waived": "note"}
BASELINE_STATE = {"new": "new", "existing": "unchanged"}
WAIVED_RULE = "GATE-WAIVED"
INFORMATION_URI = "https://github.com/policy-gate/policy-gate"


def sarif_text(text: object, limit: int = MAX_TEXT) -> str:
    """Plain message text: literal braces doubled (SARIF §3.11.5 placeholders), bounded length;
    bidirectional and invisible characters shown as `\u202e` (code scanning shows the text to reviewers)."""
    s = neutralise(text)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return s.replace("{", "{{").replace("}", "}}")


_NIST_ID = re.compile(r"\b([A-Z]{2}-\d+(?:\(\d+\))?)")
_SSDF_ID = re.compile(r"\b((?:PO|PS|PW|RV)\.\d+(?:\.\d+)?)")
_CWE = re.compile(r"CWE-\d+")


def short_tags(meta: Mapping[str, Any], severity: str) -> list[str]:
    """Short rule tags: `security`, `policy-gate`, the severity, the control ids (`NIST-SA-11(1)`, `SSDF-PW.7.2`), CWE ids.

    Never the control's text (GitHub shows tags as chips; a sentence cut at 100 characters is no
    tag). At most 12, well under GitHub's 20.
    """
    tags = {"security", "policy-gate"}
    if severity in SECURITY_SEVERITY and severity != "unknown":
        tags.add(f"severity-{severity}")
    control = str(meta.get("control") or "")
    ids: list[str] = []
    for part in control.split(";"):
        if "SSDF" in part:
            ids += [f"SSDF-{m}" for m in _SSDF_ID.findall(part)]
        else:
            prefix = "NIST-" if "NIST" in part or "800-53" in part else ""
            ids += [f"{prefix}{m}" for m in _NIST_ID.findall(part.replace("800-53", ""))]
    text = " ".join(str(meta.get(k) or "") for k in ("title", "description", "control"))
    extra = [t for t in dict.fromkeys([*ids, *_CWE.findall(text)]) if len(t) <= 40]
    return sorted(tags) + extra[: 12 - len(tags)]


def artifact_uri(path: str) -> str:
    """A finding's path as a URI reference; the text is kept (percent-encoded), never resolved."""
    if path.startswith("file://"):
        path = path[7:]
    return quote(path, safe="/:@-._~!$&'()*+,;=")


class SarifFormatter(Formatter):
    """SARIF 2.1.0 log with one run of `policy-gate`."""

    name = "sarif"
    max_results = MAX_RESULTS
    max_gzip_bytes = MAX_GZIP_BYTES

    def render(self, verdict: Verdict, document: InputDocument | None) -> str:
        all_results = results(verdict)
        shown = min(len(all_results), self.max_results)
        text = self._render(verdict, document, all_results, shown)
        data = text.encode()  # once: at 25,000 results it is tens of MB
        too_big = len(data) > self.max_gzip_bytes and len(gzip.compress(data, 6)) > self.max_gzip_bytes
        del data
        if too_big:
            # Too big even compressed: the longest prefix of the results that fits (binary search).
            lo, hi = 0, shown
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if len(gzip.compress(self._render(verdict, document, all_results, mid).encode(), 6)) <= self.max_gzip_bytes:
                    lo = mid
                else:
                    hi = mid - 1
            text = self._render(verdict, document, all_results, lo)
        return text

    def _render(self, verdict: Verdict, document: InputDocument | None, all_results: Sequence[Result], count: int) -> str:
        rule_meta = dict(iter_rules(verdict))
        docs = self.options.docs_url
        tree = SourceTree(self.options.source_root, self.options.findings_base)
        fingerprints = unique_fingerprints(all_results)
        shown = list(all_results[:count])
        omitted = len(all_results) - len(shown)
        cited = [r.rule for r in shown if r.level != "waived"]
        rule_ids = sorted({*cited, *list(rule_meta)[: max(0, MAX_RULES - len(set(cited)) - 1)]})
        if any(r.level == "waived" for r in shown):
            rule_ids.append(WAIVED_RULE)
        index = {rid: i for i, rid in enumerate(rule_ids)}
        rules = [self._rule(rid, rule_meta.get(rid), docs) for rid in rule_ids]
        sarif_results = [self._result(r, index, verdict, document, tree, fp) for r, fp in zip(shown, fingerprints, strict=False)]
        notifications: list[dict[str, Any]] = []
        if omitted:
            notifications.append(
                {
                    "level": "warning",
                    "message": {
                        "text": f"{omitted} of {len(all_results)} results left out to stay within GitHub's upload limits "
                        f"({self.max_results} results per run, {self.max_gzip_bytes} bytes compressed); the verdict JSON has them all."
                    },
                    "descriptor": {"id": "GATE-OUTPUT-CAP"},
                }
            )
        if len(shown) > DISPLAYED_RESULTS:
            notifications.append(
                {
                    "level": "note",
                    "message": {
                        "text": f"{len(shown)} results: GitHub code scanning displays the top {DISPLAYED_RESULTS} of a run, by severity."
                    },
                    "descriptor": {"id": "GATE-OUTPUT-DISPLAY"},
                }
            )
        err = verdict.get("error")
        if err:
            notifications.append({"level": "error", "message": {"text": sarif_text(error_text(err))}, "descriptor": {"id": "GATE-ERROR"}})
        note = report_only_note(verdict)
        if note:
            notifications.append({"level": "note", "message": {"text": note}, "descriptor": {"id": "GATE-REPORT-ONLY"}})
        sm = summarize(verdict, document, all_results)
        t = {
            "violations": sm.violations,
            "warnings": sm.warnings,
            "waived": sm.waived,
            "suppressed": sm.suppressed,
            "findings": sm.findings,
            "components": sm.components,
        }
        ctx = verdict.get("context")
        invocation: dict[str, Any] = {
            "executionSuccessful": verdict["decision"] != "error",
            "exitCode": int(verdict["exit_code"]),
        }
        if notifications:
            invocation["toolExecutionNotifications"] = notifications
        if ctx and ctx.get("time"):
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
            "automationDetails": {"id": f"policy-gate/{(ctx.get('stage') if ctx else None) or 'default'}/"},
            "columnKind": "unicodeCodePoints",
            "properties": {
                "decision": verdict["decision"],
                "exitCode": int(verdict["exit_code"]),
                "totals": {**t, "results": len(all_results), "resultsShown": len(shown), "resultsOmitted": omitted},
                "byRule": {rid: dict(c) for rid, c in sm.by_rule.items()},
                "policyDigest": pol.get("digest") if (pol := verdict.get("policy")) else None,
            },
        }
        changed = not_used(verdict)
        if changed:  # under --policy-ref: what the work tree changed in governing files, not used
            run["properties"]["notUsed"] = [dict(e) for e in changed]
        if sm.would_exit is not None:
            run["properties"]["reportOnly"] = {"wouldExitCode": sm.would_exit}
        if self.options.source_root:
            run["originalUriBaseIds"] = {"SRCROOT": {"uri": Path(self.options.source_root).resolve().as_uri() + "/"}}
        log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
        return dump(log)

    def _rule(self, rid: str, meta: Mapping[str, Any] | None, docs: str | None) -> dict[str, Any]:
        if rid == WAIVED_RULE:
            meta = {
                "title": "Finding accepted by a waiver",
                "description": "A finding covered by a valid waiver: visible, not blocking.",
                "severity": "info",
                "control": "risk acceptance",
                "remediation": "Fix the finding before the waiver expires.",
            }
        known = meta is not None
        meta = meta or {}
        severity = str(meta.get("severity") or "unknown")
        control = str(meta.get("control") or "")
        rule: dict[str, Any] = {
            "id": rid,
            "name": "".join(ch for ch in str(meta.get("title") or rid).title() if ch.isalnum()) or "Rule",
            "shortDescription": {"text": sarif_text(meta.get("title") or rid, 1000)},
            "fullDescription": {"text": sarif_text(meta.get("description") or meta.get("title") or rid)},
            "help": {"text": sarif_text(meta.get("remediation") or "See the policy's documentation.")},
            "defaultConfiguration": {"level": "error" if meta.get("decision", "deny") == "deny" else "warning"},
            "properties": {
                "security-severity": SECURITY_SEVERITY.get(severity, "5.0"),
                "tags": short_tags(meta, severity),
                "control": control,
                "severity": severity,
            },
        }
        url = rule_doc_url(rid, meta, docs) if known and rid != WAIVED_RULE else None
        if url:
            rule["helpUri"] = url
        return rule

    def _result(
        self,
        r: Result,
        index: Mapping[str, int],
        verdict: Verdict,
        document: InputDocument | None,
        tree: SourceTree,
        fingerprint: str,
    ) -> dict[str, Any]:
        rid = WAIVED_RULE if r.level == "waived" else r.rule
        f: Mapping[str, Any] = r.finding or {}
        if r.level == "waived":
            text = f"Waived by {waived_by(r.waiver)}: {r.msg}"
        else:
            text = r.msg
            if r.package and r.package not in text:
                text += f" (package {r.package})"
        res: dict[str, Any] = {
            "ruleId": rid,
            "ruleIndex": index[rid],
            "level": LEVEL[r.level],
            "kind": "fail",
            "message": {"text": sarif_text(text)},
            "partialFingerprints": {"gateFingerprint/v1": fingerprint},
            "properties": {"gateLevel": r.level, "severity": r.severity},
        }
        if f:
            res["properties"].update({"tool": f.get("tool"), "toolRuleId": f.get("rule_id"), "findingSeverity": f.get("severity")})
            state = BASELINE_STATE.get(str(f.get("baseline")))
            if state:
                res["baselineState"] = state
        if r.related:
            res["properties"]["relatedFindings"] = list(r.related)
        loc = f.get("location") or {}
        path: str | None
        line: int | None
        if loc.get("path"):
            path, line, end = repo_path(str(loc["path"]), self.options.findings_base, self.options.source_root), r.start_line, r.end_line
        elif (name := package_name(r)) and (placed := tree.manifest_line(name)):
            path, line = placed  # relative to the source root already
            end = line
        else:
            path, line = r.path, None
            if not path:
                path, line = self._evidence_path(r, verdict, document, self._component_paths(document))
            end = line
            if path:  # a report, an SBOM or a policy file: named relative to the working directory
                path = repo_path(path, self.options.working_dir, self.options.source_root)
        if path:
            phys: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(path)}}
            if self.options.source_root and not os.path.isabs(path):
                phys["artifactLocation"]["uriBaseId"] = "SRCROOT"
            if line:
                phys["region"] = {"startLine": line, "endLine": end or line}
                line_hash = tree.line_hash(path, line)
                if line_hash:
                    res["partialFingerprints"]["primaryLocationLineHash"] = line_hash
            res["locations"] = [{"physicalLocation": phys}]
        if r.level == "waived":
            w: Mapping[str, Any] = r.waiver or {}
            res["suppressions"] = [
                {
                    "kind": "external",
                    "status": "accepted",
                    "justification": sarif_text(
                        f"{waived_by(r.waiver)}: {w.get('reason')}"
                        if w.get("by") == "vex"
                        else f"{w.get('waiver')}: {w.get('reason')} (approved by {w.get('approved_by')}, expires {w.get('expires')})",
                        2000,
                    ),
                }
            ]
        return res

    _paths_cache: tuple[InputDocument | None, dict[str, tuple[int, str]]] | None = None

    def _component_paths(self, document: InputDocument | None) -> dict[str, tuple[int, str]]:
        """purl -> (position, SBOM path) of the first component with that purl and a source path,
        built once per document: a per-result scan of the components was quadratic (issue 20:
        thousands of package results times 5,000 components)."""
        cached = self._paths_cache
        if cached is not None and cached[0] is document:
            return cached[1]
        index: dict[str, tuple[int, str]] = {}
        for i, c in enumerate((document.get("components") if document else None) or []):
            purl, source = c.get("purl"), c.get("source")
            if isinstance(purl, str) and purl not in index and source and source.get("path"):
                index[purl] = (i, str(source["path"]))
        self._paths_cache = (document, index)
        return index

    @staticmethod
    def _evidence_path(
        r: Result, verdict: Verdict, document: InputDocument | None, paths: Mapping[str, tuple[int, str]]
    ) -> tuple[str | None, int | None]:
        """Where a result about no finding points: the scan or the SBOM it cites (the first such
        component in the document's order), else the rule's own file."""
        ev: Mapping[str, Any] = (r.entry.get("evidence") if r.entry else None) or {}
        if ev.get("scans"):
            return str(ev["scans"][0]), None
        purls = set(ev.get("components") or [])
        if purls and document:
            hits = [paths[p] for p in purls if isinstance(p, str) and p in paths]
            if hits:
                return min(hits)[1], None
        meta: Mapping[str, Any] = (verdict.get("rules") or {}).get(r.rule) or {}
        policy = verdict.get("policy")
        root = str((policy.get("path") if policy else None) or "")
        if ":" in root and not os.path.isabs(root):  # REF:path, a policy folder read from git
            root = root.split(":", 1)[1]
        if meta.get("file") and root and not os.path.isabs(root) and not root.endswith((".tar.gz", ".tgz")):
            line = meta.get("line")
            return f"{root.rstrip('/')}/{meta['file']}", line if isinstance(line, int) and line > 0 else None
        return None, None
