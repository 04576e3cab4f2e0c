"""`markdown`: the step summary and pull-request comment.

Attacker text (messages, paths, package names, waiver reasons) never renders as markup: each
piece is written as an inline code span, whose content Markdown shows verbatim: no emphasis,
link, image, heading, HTML, comment, entity, @mention or #reference can come alive inside it.
The fence is longer than any run of backticks in the text; line breaks become spaces; inside
table cells a `|` is written `\\|` (GitHub's table syntax turns it back into `|` even inside a
code span), so tables keep their shape. A legacy workflow command `##[` is broken with an
invisible word joiner, so the text stays inert if it is printed to a CI log.

Rules link to their documentation: a `related_resources` link in the rule's METADATA, else the
catalogue `gate policy doc` wrote, at `GATE_RULE_DOCS_URL` (read by the CLI; anchors `#rule-<id>`), else the
rule's own section at the end of this document.

The whole text is capped: `GATE_MARKDOWN_MAX_BYTES` (default 1 MiB, GitHub's step-summary limit;
the Action uses 60,000, under the 65,536 characters of a pull-request comment). Rows are left
out from the end (least important first) and a note says how many of each section were.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from gate.output.common import (
    SEVERITY_ORDER,
    Result,
    error_text,
    error_where,
    github_slug,
    iter_rules,
    not_used,
    report_only_note,
    results,
    rule_doc_url,
    summarize,
)
from gate.output.interface import Formatter
from gate.output.text import neutralise
from gate.records import InputDocument, RuleRecord, Verdict

DEFAULT_MAX_BYTES = 1024 * 1024
MIN_MAX_BYTES = 8000
_BREAKS = re.compile(r"\r\n|[\r\n\u2028\u2029\x85\x0b\x0c]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
_WORD_JOINER = "\u2060"
_PLAIN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def flatten(text: object, limit: int = 300) -> str:
    """One line of at most `limit` characters: line breaks become spaces, other controls U+FFFD,
    bidirectional and invisible characters visible escapes (`gate.output.text.neutralise`)."""
    s = "" if text is None else str(text)
    s = neutralise(_CONTROL.sub("\ufffd", _BREAKS.sub(" ", s)))  # bidi and invisible characters shown as `\u202e`
    if len(s) > limit:
        s = s[: max(0, limit - 1)] + "…"
    return s.replace("##[", "##" + _WORD_JOINER + "[")


def code(text: object, limit: int = 300, *, cell: bool = True) -> str:
    """`text` as an inline code span that shows it verbatim; `cell=True` inside a table row."""
    s = flatten(text, limit)
    if not s.strip():
        return "" if not s else "` `"
    runs = [len(r) for r in re.findall(r"`+", s)]
    fence = "`" * (max(runs, default=0) + 1)
    # A space pads the content when it starts or ends with a backtick (CommonMark strips one each side).
    pad = " " if s[0] == "`" or s[-1] == "`" or (s[0] == " " and s[-1] == " ") else ""
    out = f"{fence}{pad}{s}{pad}{fence}"
    return out.replace("|", "\\|") if cell else out


def _rule_cell(rule: str, href: str | None) -> str:
    label = code(rule, 80)
    return f"[{label}]({href})" if href else label


def _severity(severity: str) -> str:
    return severity if severity in SEVERITY_ORDER else code(severity, 12)


def _heading_for(rule: str) -> str:
    """The heading text of a rule's own section (the id, plain when it is a simple identifier)."""
    return rule if _PLAIN_ID.fullmatch(rule) else code(rule, 80, cell=False)


class MarkdownFormatter(Formatter):
    """Decision, counts, violations, warnings, waivers, rule references; capped in size."""

    name = "markdown"

    def render(self, verdict: Verdict, document: InputDocument | None) -> str:
        limit = max(MIN_MAX_BYTES, self.options.markdown_max_bytes or DEFAULT_MAX_BYTES)
        docs = self.options.docs_url
        decision = verdict["decision"]
        head = {"pass": "✅ Policy gate: open", "fail": "❌ Policy gate: closed", "error": "⚠️ Policy gate: error"}[decision]
        ctx = verdict.get("context")
        all_results = results(verdict)
        sm = summarize(verdict, document, all_results)
        note = report_only_note(verdict)
        if note:
            head = "👀 Policy gate: report-only, would have closed" if sm.would_exit else "👀 Policy gate: report-only, open"
        lines = [f"## {head}", ""]
        if note:
            lines += ["> [!NOTE]", f"> {note} (`--fail-on never`: this run does not block).", ""]
        if decision == "error":
            err = verdict.get("error")
            where = error_where(err)
            message = (f"{where}: " if where else "") + error_text(err)
            lines += [
                f"Exit code {verdict['exit_code']}: {code(message, 1000, cell=False)}",
                "",
            ]
        lines += [
            "| violations | warnings | waived | suppressed inline | results | findings | components | stage | exit code |",
            "|---:|---:|---:|---:|---:|---:|---:|---|---:|",
            f"| {sm.violations} | {sm.warnings} | {sm.waived} | {sm.suppressed} | {sm.results} | {sm.findings} | {sm.components} "
            f"| {code((ctx.get('stage') if ctx else None) or 'default', 40)} | {verdict['exit_code']} |",
            "",
        ]
        changed = not_used(verdict)
        sections: list[tuple[str, str, list[str]]] = []
        changed_section: tuple[str, str, list[str]] | None = None
        if changed:
            pol = verdict.get("policy")
            source = code((pol.get("revision") or pol.get("path") if pol else None) or "the trusted ref", 80, cell=False)
            lines += [
                "> [!WARNING]",
                f"> This change edits files that govern the gate ({len(changed)} file(s)). They were **not used**: the gate "
                f"read them from {source}, so a change cannot approve itself.",
                "",
            ]
            body = ["| file | kind | change | reason |", "|---|---|---|---|"]
            body += [
                f"| {code(e.get('path'), 200)} | {code(e.get('kind'), 20)} | {code(e.get('change'), 20)} "
                f"| {code(e.get('reason') or '', 300)} |"
                for e in changed
            ]
            changed_section = (f"### Changes not used ({len(changed)})", "not_used", body)

        rules_meta = dict(iter_rules(verdict))
        cited = sorted({r.rule for r in all_results if r.level != "waived"})
        rule_section = self._rules_section(cited, rules_meta)
        links = {
            rid: rule_doc_url(rid, rules_meta.get(rid), docs)
            or (f"#{github_slug(rid)}" if rid in rules_meta and _PLAIN_ID.fullmatch(rid) else None)
            for rid in cited
        }

        for level, title in (("deny", "Violations"), ("warn", "Warnings"), ("waived", "Waived findings")):
            if level == "waived" and changed_section:
                sections.append(changed_section)
            rows = [r for r in all_results if r.level == level]
            if not rows:
                continue
            if level == "waived":
                header = ["| waiver | rule | where | reason | approved by | expires |", "|---|---|---|---|---|---|"]
                body = [self._waived_row(r) for r in rows]
            else:
                header = ["| rule | rule severity | scanner severity | where | message |", "|---|---|---|---|---|"]
                body = [
                    f"| {_rule_cell(r.rule, links.get(r.rule))} | {_severity(r.severity)} "
                    f"| {_severity(str(r.finding.get('severity') or '-')) if r.finding else '-'} "
                    f"| {code(r.where(), 160)} | {code(r.msg, 400)} |"
                    for r in rows
                ]
            sections.append((f"### {title} ({len(rows)})", level, [*header, *body]))
        for key, title, items in (
            ("waivers_expired", "Expired waivers (no longer applied)", verdict.get("waivers_expired") or []),
            ("waivers_expiring", "Waivers expiring soon", verdict.get("waivers_expiring") or []),
            ("waivers_unused", "Unused waivers", verdict.get("waivers_unused") or []),
        ):
            if items:
                body = ["| waiver | expires | approved by |", "|---|---|---|"]
                body += [f"| {code(w.get('id'), 60)} | {code(w.get('expires'), 40)} | {code(w.get('approved_by'), 60)} |" for w in items]
                sections.append((f"### {title} ({len(items)})", key, body))

        footer = [self._footer(verdict)]
        return self._fit(lines, sections, rule_section, footer, limit)

    def _waived_row(self, r: Result) -> str:
        w: Mapping[str, object] = r.waiver or {}
        return (
            f"| {code(w.get('waiver'), 60)} | {code(r.rule, 60)} | {code(r.where(), 160)} | {code(w.get('reason'), 200)} "
            f"| {code(w.get('approved_by'), 60)} | {code(w.get('expires') or '-', 30)} |"
        )

    def _rules_section(self, cited: Sequence[str], meta: Mapping[str, RuleRecord]) -> list[str]:
        known = [rid for rid in cited if rid in meta]
        if not known:
            return []
        out = ["### Rules", ""]
        for rid in known:
            m = meta[rid]
            out += [
                f"#### {_heading_for(rid)}",
                "",
                f"{code(m.get('title') or rid, 200, cell=False)} · severity {_severity(str(m.get('severity') or 'unknown'))}"
                f" · control {code(m.get('control') or '-', 120, cell=False)}",
                "",
            ]
            if m.get("remediation"):
                out += [f"Remediation: {code(m.get('remediation'), 600, cell=False)}", ""]
        return out

    def _footer(self, verdict: Verdict) -> str:
        pol = verdict.get("policy")
        eng = verdict.get("engine")
        parts = []
        if pol:
            parts.append(f"policy {code(pol.get('path'), 200, cell=False)}")
            if pol.get("revision"):
                parts.append(f"revision {code(pol.get('revision'), 80, cell=False)}")
            parts.append(f"digest {code(pol.get('digest'), 80, cell=False)}")
        if eng:
            parts.append(f"engine {code(eng.get('name'), 40, cell=False)}")
        return ("Policy gate: " + " · ".join(parts)) if parts else "Policy gate"

    def _fit(
        self, head: list[str], sections: list[tuple[str, str, list[str]]], rule_section: list[str], footer: list[str], limit: int
    ) -> str:
        """Head, sections, rule references and footer within `limit` bytes; rows left out from the end."""

        def size(ls: Sequence[str]) -> int:
            return sum(len(x.encode()) + 1 for x in ls)

        notes_reserve = 400
        rules = rule_section if size(head) + size(rule_section) + size(footer) + notes_reserve < limit // 2 else []
        budget = limit - size(head) - size(rules) - size(footer) - notes_reserve
        out = list(head)
        left: dict[str, int] = {}
        for heading, _key, body in sections:
            header, rows = body[:2], body[2:]
            if left or size([heading, "", *header, rows[0] if rows else "", ""]) > budget:
                left[heading.split(" (")[0].removeprefix("### ")] = len(rows)
                continue
            out += [heading, "", *header]
            budget -= size([heading, "", *header, ""])
            for i, row in enumerate(rows):
                if size([row]) > budget:
                    left[heading.split(" (")[0].removeprefix("### ")] = len(rows) - i
                    break
                out.append(row)
                budget -= size([row])
            out.append("")
        if left:
            what = ", ".join(f"{n} of {name.lower()}" for name, n in left.items())
            out += [
                f"_… {sum(left.values())} more row(s) left out to stay within {limit} bytes ({what}); the verdict JSON has them all._",
                "",
            ]
        if rules:
            out += rules
        out += footer
        return "\n".join(out) + "\n"
