"""`markdown`: the step summary and pull-request comment.

Attacker text never renders as markup: every character Markdown or HTML could read as syntax is
written as an HTML character reference, and line breaks become spaces, so tables keep their
shape and nothing (links, images, headings, HTML, comments, mentions) comes alive. The whole
text is capped (1 MiB by default, GitHub's step-summary limit; `GATE_MARKDOWN_MAX_BYTES` sets
another, e.g. 65,000 for a PR comment), with a note saying how many rows were left out.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from gate.output.common import Result, results, totals
from gate.output.interface import Formatter

DEFAULT_MAX_BYTES = 1_000_000
_SPECIAL = re.compile(r"[\\`*_{}\[\]()<>#+\-.!|~&:\"'@=$^%;/]")
_BREAKS = re.compile(r"[\r\n\u2028\u2029\x85]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def md(text: object, limit: int = 300) -> str:
    """Text safe inside a Markdown table cell: no markup, one line, bounded length."""
    s = "" if text is None else str(text)
    s = _CONTROL.sub("\ufffd", _BREAKS.sub(" ", s))
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return _SPECIAL.sub(lambda m: f"&#{ord(m.group(0))};", s)


def _where(r: Result) -> str:
    path = r.path
    if path:
        return md(f"{path}:{r.start_line}" if r.start_line else path, 120)
    pkg = (r.finding or {}).get("package") or {}
    if pkg.get("purl") or pkg.get("name"):
        return md(pkg.get("purl") or f"{pkg.get('name')}@{pkg.get('version')}", 120)
    ev = (r.entry or {}).get("evidence") or {}
    for key in ("components", "scans"):
        if ev.get(key):
            return md(ev[key][0], 120)
    return ""


def _rule_link(rule: str, base: str | None) -> str:
    label = md(rule, 60)
    if not base:
        return label
    anchor = re.sub(r"[^a-z0-9-]", "", rule.lower())
    return f"[{label}]({base.rstrip('#')}#{anchor})"


class MarkdownFormatter(Formatter):
    """Decision, counts, violations, warnings, waivers; capped in size."""

    name = "markdown"

    def render(self, verdict: Mapping[str, Any], document: Mapping[str, Any] | None) -> str:
        limit = int(os.environ.get("GATE_MARKDOWN_MAX_BYTES") or DEFAULT_MAX_BYTES)
        docs = os.environ.get("GATE_RULE_DOCS_URL")
        t = totals(verdict)
        decision = verdict["decision"]
        head = {"pass": "✅ Policy gate: open", "fail": "❌ Policy gate: closed", "error": "⚠️ Policy gate: error"}[decision]
        lines = [f"## {head}", ""]
        if decision == "error":
            err = verdict.get("error") or {}
            pos = err.get("position") or {}
            where = (err.get("file") or "") + (f":{pos.get('line')}" if pos.get("line") else "") + (f":{pos.get('column')}" if pos.get("column") else "")
            lines += [f"Exit code {verdict['exit_code']}: " + md((where + ": " if where else "") + str(err.get("message", "")), 2000), ""]
        ctx = verdict.get("context") or {}
        lines += [
            "| violations | warnings | waived | findings | components | stage | exit code |",
            "|---:|---:|---:|---:|---:|---|---:|",
            f"| {t['violations']} | {t['warnings']} | {t['waived']} | {t['findings']} | {t['components']} | {md(ctx.get('stage') or 'default', 40)} | {verdict['exit_code']} |",
            "",
        ]
        all_results = results(verdict)
        footer: list[str] = []
        pol = verdict.get("policy") or {}
        if pol:
            footer.append(f"<sub>policy {md(pol.get('path'), 200)} · digest {md(pol.get('digest'), 80)} · engine {md((verdict.get('engine') or {}).get('name'), 40)}</sub>")
        body: list[str] = []
        sections = (("deny", "Violations"), ("warn", "Warnings"), ("waived", "Waived findings"))
        for level, title in sections:
            rows = [r for r in all_results if r.level == level]
            if not rows:
                continue
            body.append(f"### {title} ({len(rows)})")
            body.append("")
            if level == "waived":
                body.append("| waiver | finding | where | reason | approved by | expires |")
                body.append("|---|---|---|---|---|---|")
            else:
                body.append("| rule | severity | where | message |")
                body.append("|---|---|---|---|")
            for r in rows:
                if level == "waived":
                    w = r.waiver or {}
                    body.append(f"| {md(w.get('waiver'), 60)} | {md(r.rule, 60)} | {_where(r)} | {md(w.get('reason'), 200)} | {md(w.get('approved_by'), 60)} | {md(w.get('expires'), 30)} |")
                else:
                    body.append(f"| {_rule_link(r.rule, docs)} | {md(r.severity, 12)} | {_where(r)} | {md(r.msg)} |")
            body.append("")
        for key, title in (("waivers_expired", "Expired waivers (no longer applied)"), ("waivers_unused", "Unused waivers"), ("waivers_expiring", "Waivers expiring soon")):
            items = verdict.get(key) or []
            if items:
                body.append(f"### {title} ({len(items)})")
                body.append("")
                for w in items:
                    body.append(f"- {md(w.get('id'), 60)}: expires {md(w.get('expires'), 30)}")
                body.append("")
        text = "\n".join(lines)
        tail = "\n".join(footer) + "\n"
        budget = limit - len(text.encode()) - len(tail.encode()) - 200
        kept: list[str] = []
        used = 0
        for i, line in enumerate(body):
            size = len(line.encode()) + 1
            if used + size > budget:
                left = sum(1 for ln in body[i:] if ln.startswith("| ") and not ln.startswith("| rule") and not ln.startswith("| waiver"))
                kept.append("")
                kept.append(f"_… {left} more row(s) left out to stay within {limit} bytes; the verdict JSON has them all._")
                kept.append("")
                break
            kept.append(line)
            used += size
        return text + "\n".join(kept) + "\n" + tail
