"""`gate explain`: a verdict told to the developer who asks why the build failed.

For each violation and warning: the rule (title, control, where it is written), what it
found (its message), why it matters (the rule's description) and how to fix it; then the
evidence (findings with their locations, components, scans); then the waivers that applied,
expired, are about to expire or matched nothing. On an error verdict: the error and nothing
else (an erring gate lists no violations at all).

Everything in a verdict that came from a report is attacker text: every line this module
returns has been through `gate.output.text.clean`, so no finding can start a line of its own
or a workflow command.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from gate.errors import InputError
from gate.output.text import clean

VERDICT_SCHEMA = "gate.verdict/v1"
INDENT = "   "


def load_verdict(path: str) -> dict[str, Any]:
    """Read and validate a verdict document (`--output json=...`); InputError (exit 3) if it is not one."""
    from gate.collect import load_document

    doc, media, _ = load_document(path)
    if media != "json" or not isinstance(doc, dict):
        raise InputError("not a verdict: a JSON object written by `--output json=FILE` was expected", file=path)
    if doc.get("schema") != VERDICT_SCHEMA:
        found = doc.get("schema")
        raise InputError(
            f"not a verdict: schema is {json.dumps(found)[:60] if found is not None else 'missing'}, expected {VERDICT_SCHEMA!r}",
            file=path,
        )
    _validate(doc, path)
    return doc


def _validate(doc: Mapping[str, Any], path: str) -> None:
    from gate.documents import schema as docschema

    if docschema.is_valid(doc, "verdict"):
        return
    errors = docschema.problems(doc, "verdict")
    if errors:
        err = errors[0]
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InputError(f"invalid verdict at {err.where}: {clean(err.message, 200)}{more}", file=path)


# --------------------------------------------------------------------------------------------


def _line(*parts: object, limit: int | None = 400) -> str:
    return clean("".join("" if p is None else str(p) for p in parts), limit)


def _location(f: Mapping[str, Any]) -> str:
    loc = f.get("location") or {}
    path = loc.get("path")
    if not path:
        return ""
    start, end = loc.get("start_line"), loc.get("end_line")
    if isinstance(start, int) and start > 0:
        if isinstance(end, int) and end > start:
            return f"{path}:{start}-{end}"
        return f"{path}:{start}"
    return str(path)


def _package(p: Mapping[str, Any] | None) -> str:
    if not p:
        return ""
    text = str(p.get("purl") or f"{p.get('name')}@{p.get('version')}")
    fixed = p.get("fixed_versions") or []
    return text + (f" (fixed in {', '.join(str(v) for v in fixed)})" if fixed else " (no fixed version known)")


def _finding_lines(fid: str, f: Mapping[str, Any] | None, indent: str, expired: Mapping[str, list[Mapping[str, Any]]]) -> list[str]:
    if f is None:
        return [_line(indent, "- finding ", fid, " (not in the verdict's finding index)")]
    head = f"{f.get('tool') or '?'} {f.get('rule_id') or '?'}"
    if f.get("rule_name") and f.get("rule_name") != f.get("rule_id"):
        head += f" ({f.get('rule_name')})"
    where = _location(f) or _package(f.get("package")) or str((f.get("source") or {}).get("path") or "")
    tags = [str(f.get("severity") or "unknown"), str(f.get("kind") or "other")]
    if f.get("test_code"):
        tags.append("test code")
    if f.get("baseline") in ("new", "existing"):
        tags.append(f"{f['baseline']} (baseline)")
    lines = [_line(indent, "- ", head, " [", ", ".join(tags), "]", f" at {where}" if where else "")]
    sub = indent + "    "
    lines.append(_line(sub, "finding ", fid))
    if f.get("message"):
        lines.append(_line(sub, '"', f["message"], '"', limit=300))
    if f.get("location") and f.get("package"):
        lines.append(_line(sub, "package ", _package(f["package"])))
    if f.get("cwe"):
        lines.append(_line(sub, "CWE: ", ", ".join(str(c) for c in f["cwe"])))
    if f.get("duplicates"):
        lines.append(_line(sub, "also reported as: ", ", ".join(str(d) for d in f["duplicates"])))
    if f.get("vex"):
        v = f["vex"]
        lines.append(_line(sub, "VEX: ", v.get("state"), f" ({v.get('justification')})" if v.get("justification") else ""))
    if f.get("waiver"):
        w = f["waiver"]
        lines.append(_line(sub, "waived by ", w.get("id"), f" until {w.get('expires')}" if w.get("expires") else ""))
    for w in expired.get(fid, []):
        lines.append(_line(sub, "waiver ", w.get("id"), " expired ", w.get("expires"), ": it no longer covers this finding"))
    if f.get("help_uri"):
        lines.append(_line(sub, "guidance: ", f["help_uri"]))
    source = f.get("source") or {}
    if source.get("path"):
        lines.append(_line(sub, "reported in ", source["path"], f" ({source.get('format')})" if source.get("format") else ""))
    return lines


def _entry_lines(n: int, e: Mapping[str, Any], verdict: Mapping[str, Any]) -> list[str]:
    rules = verdict.get("rules") or {}
    findings = verdict.get("findings") or {}
    meta = rules.get(e.get("rule")) or {}
    title = e.get("title") or meta.get("title") or ""
    lines = [_line(f"{n}. ", e.get("rule"), f" [{e.get('severity')}]" if e.get("severity") else "", f" {title}" if title else "")]
    lines.append(_line(INDENT, "What: ", e.get("msg"), limit=600))
    if meta.get("description"):
        lines.append(_line(INDENT, "Why: ", meta["description"], limit=800))
    control = e.get("control") or meta.get("control")
    if control:
        lines.append(_line(INDENT, "Control: ", control))
    fix = e.get("remediation") or meta.get("remediation")
    if fix:
        lines.append(_line(INDENT, "Fix: ", fix, limit=800))
    if e.get("not_yet_effective"):
        lines.append(_line(INDENT, "Not blocking yet: this rule blocks from ", e.get("effective_on") or meta.get("effective_on")))
    if meta.get("file"):
        lines.append(
            _line(
                INDENT,
                "Rule: ",
                meta["file"],
                f":{meta['line']}" if meta.get("line") else "",
                f" (package {meta['package']})" if meta.get("package") else "",
            )
        )
    ev = e.get("evidence") or {}
    ids = list(ev.get("findings") or [])
    comps = list(ev.get("components") or [])
    scans = list(ev.get("scans") or [])
    details = list(ev.get("details") or [])
    if not (ids or comps or scans or details):
        lines.append(_line(INDENT, "Evidence: none cited by the rule"))
        return lines
    lines.append(_line(INDENT, "Evidence:"))
    expired: dict[str, list[Mapping[str, Any]]] = {}
    for w in verdict.get("waivers_expired") or []:
        for covered in w.get("findings") or []:
            expired.setdefault(str(covered), []).append(w)
    for fid in ids:
        lines.extend(_finding_lines(str(fid), findings.get(fid), INDENT + "  ", expired))
    for c in comps:
        lines.append(_line(INDENT, "  - component ", c))
    scan_info = {s.get("path"): s for s in verdict.get("inputs") or [] if isinstance(s, dict)}
    for s in scans:
        info = scan_info.get(s) or {}
        extra = ""
        if info:
            extra = f" ({info.get('tool') or info.get('format')}{' ' + str(info['tool_version']) if info.get('tool_version') else ''}"
            extra += ", incomplete" if info.get("complete") is False else ""
            extra += ")"
        lines.append(_line(INDENT, "  - scan ", s, extra))
        for err in (info.get("errors") or [])[:5]:
            lines.append(_line(INDENT, "      tool error: ", err, limit=300))
    for d in details:
        lines.append(_line(INDENT, "  - ", d, limit=400))
    return lines


def _waiver_line(w: Mapping[str, Any], *, what: str) -> list[str]:
    wid = w.get("waiver") or w.get("id") or "?"
    head = f"- {wid}"
    if what == "applied":
        scope = " ".join(str(x) for x in (w.get("tool"), w.get("rule_id")) if x)
        head += f" covers finding {w.get('finding')}" + (
            f" ({scope}" + (f" at {w['path']}" if w.get("path") else "") + ")" if scope else ""
        )
    else:
        scope_keys = [k for k in ("finding", "rule", "path", "package", "vulnerability") if w.get(k)]
        if scope_keys:
            head += " (" + ", ".join(f"{k} {w[k]}" for k in scope_keys) + ")"
    lines = [_line(INDENT, head)]
    facts = []
    if w.get("reason"):
        facts.append(f'reason "{w["reason"]}"')
    if w.get("approved_by"):
        facts.append(f"approved by {w['approved_by']}")
    if w.get("expires"):
        facts.append(f"{'expired' if what == 'expired' else 'expires'} {w['expires']}")
    if w.get("days_left") is not None:
        facts.append(f"{w['days_left']} day(s) left")
    if w.get("ticket"):
        facts.append(f"ticket {w['ticket']}")
    if w.get("file"):
        facts.append(f"{w['file']}" + (f":{w['line']}" if w.get("line") else ""))
    if facts:
        lines.append(_line(INDENT, "  ", "; ".join(facts)))
    if what == "expired" and w.get("findings"):
        lines.append(_line(INDENT, "  no longer covers: ", ", ".join(str(x) for x in w["findings"])))
    return lines


def _section(title: str, items: Sequence[Mapping[str, Any]], what: str) -> list[str]:
    if not items:
        return []
    lines = ["", _line(title, f" ({len(items)}):")]
    for w in items:
        lines.extend(_waiver_line(w, what=what))
    return lines


def _header(verdict: Mapping[str, Any]) -> list[str]:
    decision = verdict.get("decision")
    code = verdict.get("exit_code")
    s = verdict.get("summary") or {}
    state = {"pass": "OPEN", "fail": "CLOSED", "error": "ERROR"}.get(str(decision), str(decision))
    lines = [
        _line(
            f"Gate {state} (decision {decision}, exit {code}): {s.get('violations', 0)} violation(s), "
            f"{s.get('warnings', 0)} warning(s), {s.get('waived', 0)} waived finding(s); "
            f"{s.get('findings', 0)} finding(s) and {s.get('components', 0)} component(s) from {s.get('inputs', 0)} input(s)"
        )
    ]
    ctx = verdict.get("context") or {}
    pol = verdict.get("policy") or {}
    eng = verdict.get("engine") or {}
    run = []
    if ctx.get("stage"):
        run.append(f"stage {ctx['stage']}")
    if ctx.get("time"):
        run.append(f"at {ctx['time']}")
    if pol.get("path"):
        run.append(f"policy {pol['path']}" + (f" ({pol['digest']})" if pol.get("digest") else ""))
    if eng.get("name"):
        run.append(f"engine {eng['name']}" + (f" ({eng['version']})" if eng.get("version") else ""))
    if run:
        lines.append(_line("Run: ", "; ".join(run)))
    for i in verdict.get("inputs") or []:
        counts = f"{i.get('findings', 0)} finding(s), {i.get('components', 0)} component(s)"
        tool = " ".join(str(x) for x in (i.get("tool"), i.get("tool_version")) if x) or str(i.get("format") or "?")
        flag = "; INCOMPLETE scan" if i.get("complete") is False else ""
        lines.append(_line("Input: ", i.get("path"), f" ({tool}; {counts}{flag})"))
    return lines


def explain(verdict: Mapping[str, Any]) -> list[str]:
    """The account of a verdict, line by line (each line safe to print on a terminal or CI log)."""
    lines = _header(verdict)
    if verdict.get("decision") == "error":
        err = verdict.get("error") or {}
        where = str(err.get("file") or "")
        pos = err.get("position") or {}
        if where and pos.get("line"):
            where += f":{pos['line']}" + (f":{pos['column']}" if pos.get("column") else "")
        lines.append("")
        first, *rest = str(err.get("message") or "unknown error").splitlines() or [""]
        lines.append(
            _line(
                f"Error ({err.get('kind') or 'error'}, exit {err.get('exit_code', verdict.get('exit_code'))}): ",
                f"{where}: " if where else "",
                first,
            )
        )
        lines.extend(_line(INDENT, r) for r in rest)
        lines.append(_line("The gate stopped on this error, so it judged nothing: fix it and run again. An error never opens the gate."))
        return lines
    for title, key, note in (
        ("Violations", "violations", "each closes the gate"),
        ("Warnings", "warnings", "reported; they close the gate only with --fail-on warn or a stage profile that says so"),
    ):
        entries = list(verdict.get(key) or [])
        if not entries:
            continue
        lines.append("")
        lines.append(_line(f"{title} ({len(entries)}) - {note}:"))
        for n, e in enumerate(entries, 1):
            lines.append("")
            lines.extend(_entry_lines(n, e, verdict))
    if not verdict.get("violations") and not verdict.get("warnings"):
        lines.append("")
        lines.append("No violation and no warning: every rule passed.")
    lines.extend(_section("Waivers that applied", verdict.get("waived") or [], "applied"))
    lines.extend(_section("Waivers that expired and no longer apply", verdict.get("waivers_expired") or [], "expired"))
    lines.extend(_section("Waivers about to expire", verdict.get("waivers_expiring") or [], "expiring"))
    lines.extend(_section("Waivers that matched no finding", verdict.get("waivers_unused") or [], "unused"))
    vex = list(verdict.get("vex") or [])
    if vex:
        lines.append("")
        lines.append(_line(f"VEX statements applied ({len(vex)}):"))
        for v in vex:
            lines.append(
                _line(
                    INDENT,
                    "- ",
                    v.get("vulnerability"),
                    " on finding ",
                    v.get("finding"),
                    ": ",
                    v.get("state"),
                    f" ({v['justification']})" if v.get("justification") else "",
                )
            )
    na = list(verdict.get("not_applicable") or [])
    if na:
        lines.append("")
        lines.append(_line(f"Rules that fired but do not apply at this stage ({len(na)}):"))
        for r in na:
            lines.append(_line(INDENT, "- ", r.get("rule"), " (stages: ", ", ".join(str(s) for s in r.get("stages") or []), ")"))
    return lines


def explain_file(path: str | Path) -> list[str]:
    """`explain(load_verdict(path))`."""
    return explain(load_verdict(str(path)))


def join(lines: Iterable[str]) -> str:
    """The lines as one text ending in a newline."""
    return "\n".join(lines) + "\n"
