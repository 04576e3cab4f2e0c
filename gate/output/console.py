"""`console`: a table for people reading the job log (no markup from input text).

Where the output lands in a CI log or a file, the table is plain text, one row a line, built
here; on an interactive terminal it is drawn by rich (boxes, long messages folded). Both show
the same lines and cells. Rich costs a fifth of a small run's start-up, so a run that is not
watched does not import it.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gate.output.common import error_text, not_used
from gate.output.interface import Formatter
from gate.output.text import clean

COLUMNS = ("rule", "severity", "where", "message")


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


def plain_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A titled table as lines: columns padded to their widest cell (the last one left ragged)."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    widths[-1] = len(header[-1])

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [title, line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


class ConsoleFormatter(Formatter):
    """Decision, counts and a table of violations and warnings."""

    name = "console"
    width = 160
    max_rows = 200
    interactive: bool | None = None
    """Draw with rich; None: when standard output is a terminal."""

    def render(self, verdict: Mapping[str, Any], document: Mapping[str, Any] | None) -> str:
        interactive = self.interactive if self.interactive is not None else _isatty()
        lines: list[str] = []
        tables: list[tuple[int, str, list[list[str]]]] = []  # (index in lines, title, rows)
        decision = verdict["decision"]
        s = verdict.get("summary") or {}
        if decision == "error":
            err = verdict.get("error") or {}
            where = err.get("file") or ""
            pos = err.get("position") or {}
            if where and pos.get("line"):
                where += f":{pos['line']}" + (f":{pos['column']}" if pos.get("column") else "")
            lines.append(f"gate: ERROR (exit {verdict['exit_code']}): " + clean((where + ": " if where else "") + error_text(err)))
            return _join(lines)
        head = "OPEN" if decision == "pass" else "CLOSED"
        lines.append(
            f"gate {head}: {s.get('violations', 0)} violation(s), {s.get('warnings', 0)} warning(s), "
            f"{s.get('waived', 0)} waived; {s.get('findings', 0)} finding(s), {s.get('components', 0)} component(s) "
            f"from {s.get('inputs', 0)} input(s); exit {verdict['exit_code']}"
        )
        changed = not_used(verdict)
        if changed:
            source = (verdict.get("policy") or {}).get("revision") or "the trusted ref"
            lines.append(
                clean(
                    f"{len(changed)} change(s) to governing files (policies, data, waivers, baseline, VEX, config) "
                    f"in the work tree were NOT used (read from {source}):"
                )
            )
            lines.extend(
                "  " + clean(f"{e.get('change')}: {e.get('path')} ({e.get('kind')})" + (f": {e['reason']}" if e.get("reason") else ""), 300)
                for e in changed[: self.max_rows]
            )
            if len(changed) > self.max_rows:
                lines.append(f"  ... and {len(changed) - self.max_rows} more")
        for title, key in (("Violations", "violations"), ("Warnings", "warnings")):
            entries = verdict.get(key) or []
            if not entries:
                continue
            rows = [
                [clean(e["rule"], 40), clean(e["severity"], 10), clean(location_of(verdict, e), 60), clean(e["msg"], 200)]
                for e in entries[: self.max_rows]
            ]
            tables.append((len(lines), f"{title} ({len(entries)})", rows))
            lines.append("")  # the table's place
            if len(entries) > self.max_rows:
                lines.append(f"... and {len(entries) - self.max_rows} more {key} (see --output json=FILE)")
        expired = verdict.get("waivers_expired") or []
        lines.extend(clean(f"waiver {w.get('id')} expired on {w.get('expires')}: it no longer applies") for w in expired)
        lines.extend(clean(f"waiver {w.get('id')} matched no finding") for w in verdict.get("waivers_unused") or [])
        draw = self._rich_table if interactive else _plain_block
        for index, title, rows in reversed(tables):
            lines[index : index + 1] = draw(title, rows)
        return _join(lines)

    def _rich_table(self, title: str, rows: Sequence[Sequence[str]]) -> list[str]:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        buf = io.StringIO()
        console = Console(file=buf, width=self.width, color_system=None, highlight=False, emoji=False, markup=False, soft_wrap=False)
        table = Table(title=title, show_lines=False, expand=False)
        for col in COLUMNS:
            table.add_column(col, overflow="fold")
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)
        return buf.getvalue().rstrip("\n").split("\n")


def _plain_block(title: str, rows: Sequence[Sequence[str]]) -> list[str]:
    return plain_table(title, COLUMNS, rows)


def _join(lines: Sequence[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _isatty() -> bool:
    isatty: Callable[[], bool] | None = getattr(sys.stdout, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False
