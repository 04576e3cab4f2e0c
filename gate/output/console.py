"""`console`: a table for people reading the job log (rich, no markup from input text)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from gate.output.common import error_text, not_used
from gate.output.interface import Formatter
from gate.output.text import clean


def location_of(verdict: Mapping[str, Any], entry: Mapping[str, Any]) -> str:
    """`path:line` of the first cited finding, or the first component/scan, for a table cell."""
    findings = verdict.get("findings") or {}
    ev = entry.get("evidence") or {}
    for fid in ev.get("findings", []):
        f = findings.get(fid)
        if f and f.get("location") and f["location"].get("path"):
            loc = f["location"]
            return f"{loc['path']}:{loc['start_line']}" if loc.get("start_line") else str(loc["path"])
        if f and f.get("package"):
            p = f["package"]
            return str(p.get("purl") or f"{p.get('name')}@{p.get('version')}")
    for key in ("components", "scans"):
        if ev.get(key):
            return str(ev[key][0])
    return ""


class ConsoleFormatter(Formatter):
    """Decision, counts and a table of violations and warnings."""

    name = "console"
    width = 160
    max_rows = 200

    def render(self, verdict: Mapping[str, Any], document: Mapping[str, Any] | None) -> str:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        buf = io.StringIO()
        console = Console(file=buf, width=self.width, color_system=None, highlight=False, emoji=False, markup=False, soft_wrap=False)
        decision = verdict["decision"]
        s = verdict.get("summary") or {}
        if decision == "error":
            err = verdict.get("error") or {}
            where = err.get("file") or ""
            pos = err.get("position") or {}
            if where and pos.get("line"):
                where += f":{pos['line']}" + (f":{pos['column']}" if pos.get("column") else "")
            console.print(Text(f"gate: ERROR (exit {verdict['exit_code']}): " + clean((where + ": " if where else "") + error_text(err))))
            return buf.getvalue()
        head = "OPEN" if decision == "pass" else "CLOSED"
        console.print(
            Text(
                f"gate {head}: {s.get('violations', 0)} violation(s), {s.get('warnings', 0)} warning(s), "
                f"{s.get('waived', 0)} waived; {s.get('findings', 0)} finding(s), {s.get('components', 0)} component(s) "
                f"from {s.get('inputs', 0)} input(s); exit {verdict['exit_code']}"
            )
        )
        changed = not_used(verdict)
        if changed:
            source = (verdict.get("policy") or {}).get("revision") or "the trusted ref"
            console.print(
                Text(clean(f"{len(changed)} change(s) to policies, data or waivers in the work tree were NOT used (read from {source}):"))
            )
            for e in changed[: self.max_rows]:
                console.print(Text("  " + clean(f"{e.get('change')}: {e.get('path')} ({e.get('kind')})", 300)))
            if len(changed) > self.max_rows:
                console.print(Text(f"  ... and {len(changed) - self.max_rows} more"))
        for title, key in (("Violations", "violations"), ("Warnings", "warnings")):
            entries = verdict.get(key) or []
            if not entries:
                continue
            table = Table(title=f"{title} ({len(entries)})", show_lines=False, expand=False)
            for col in ("rule", "severity", "where", "message"):
                table.add_column(col, overflow="fold")
            for e in entries[: self.max_rows]:
                table.add_row(
                    Text(clean(e["rule"], 40)),
                    Text(clean(e["severity"], 10)),
                    Text(clean(location_of(verdict, e), 60)),
                    Text(clean(e["msg"], 200)),
                )
            console.print(table)
            if len(entries) > self.max_rows:
                console.print(Text(f"... and {len(entries) - self.max_rows} more {key} (see --output json=FILE)"))
        for w in verdict.get("waivers_expired") or []:
            console.print(Text(clean(f"waiver {w.get('id')} expired on {w.get('expires')}: it no longer applies")))
        for w in verdict.get("waivers_unused") or []:
            console.print(Text(clean(f"waiver {w.get('id')} matched no finding")))
        return buf.getvalue()
