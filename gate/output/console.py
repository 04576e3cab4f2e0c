"""`console`: a table for people reading the job log (no markup from input text).

Where the output lands in a CI log or a file, the table is plain text, one row a line, built
here; on an interactive terminal it is drawn by rich, within the terminal's width (down to 80
columns: long cells fold), in colour unless `NO_COLOR` is set (https://no-color.org). Both show
the same lines and cells. Rich costs a fifth of a small run's start-up, so a run that is not
watched does not import it.

Two severities are shown and labelled: the rule's (`rule severity`, from its METADATA or what
the rule emitted) and the scanner's (`scanner severity`, the finding's severity as the tool
rated it, normalised). `--quiet` prints only the decision line. Every count comes from
`summarize`, so the header, the table titles and every other format agree.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from gate.output.common import Result, error_text, not_used, primary_finding, report_only_note, results, summarize
from gate.output.interface import Formatter
from gate.output.text import clean, error_lines
from gate.records import Entry, InputDocument, Verdict

COLUMNS = ("rule", "rule severity", "scanner severity", "where", "message")
WAIVED_COLUMNS = ("waiver", "rule", "scanner severity", "where", "message")
LEVEL_TITLES = (("deny", "Violations"), ("warn", "Warnings"), ("waived", "Waived"))
_STYLE = {"deny": "bold red", "warn": "yellow", "waived": "dim"}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def location_of(verdict: Verdict, entry: Entry) -> str:
    """`path:line` of the entry's primary finding (the one its message names), or its package, component or scan."""
    findings = verdict.get("findings") or {}
    ev = entry.get("evidence")
    fid, _related = primary_finding(entry, findings)
    f = findings.get(fid) if fid else None
    loc = f.get("location") if f else None
    if loc and loc.get("path"):
        return f"{loc['path']}:{loc['start_line']}" if loc.get("start_line") else str(loc["path"])
    p = f.get("package") if f else None
    if p:
        return str(p.get("purl") or f"{p.get('name')}@{p.get('version')}")
    for cited in (ev.get("components"), ev.get("scans")) if ev else ():
        if cited:
            return str(cited[0])
    return ""


def row_cells(r: Result) -> list[str]:
    """The cells of one result's row (each one safe line)."""
    scanner = str((r.finding.get("severity") if r.finding else None) or "-")
    if r.level == "waived":
        head = clean((r.waiver.get("waiver") if r.waiver else None) or "", 40)
        return [head, clean(r.rule, 40), clean(scanner, 10), clean(r.where(), 60), clean(r.msg, 200)]
    return [clean(r.rule, 40), clean(r.severity, 10), clean(scanner, 10), clean(r.where(), 60), clean(r.msg, 200)]


def plain_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A titled table as lines: columns padded to their widest cell (the last one left ragged)."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    widths[-1] = len(header[-1])

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [title, line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]


def strip_ansi(text: str) -> str:
    """Text without colour escapes (for measuring and tests)."""
    return _ANSI.sub("", text)


class ConsoleFormatter(Formatter):
    """Decision, counts and a table of violations, warnings and waived findings."""

    name = "console"
    max_rows = 200
    interactive: bool | None = None
    """Draw with rich; None: as the options say (`OutputOptions.interactive`)."""

    def render(self, verdict: Verdict, document: InputDocument | None) -> str:
        interactive = self.interactive if self.interactive is not None else self.options.interactive
        lines: list[str] = []
        tables: list[tuple[int, str, str, list[list[str]]]] = []  # (index in lines, level, title, rows)
        decision = verdict["decision"]
        if decision == "error":
            err = verdict.get("error")
            where = (err.get("file") if err else None) or ""
            pos = err.get("position") if err else None
            if where and pos and pos.get("line"):
                where += f":{pos['line']}" + (f":{pos['column']}" if pos.get("column") else "")
            message = (str(where) + ": " if where else "") + error_text(err)
            return _join(error_lines(message, f"gate: error (exit {verdict['exit_code']}): "))
        shown = results(verdict, limit=self.max_rows)  # the rows drawn: the first max_rows of each level
        sm = summarize(verdict, document, rules=False)
        head = "OPEN" if decision == "pass" else "CLOSED"
        note = report_only_note(verdict)
        if note:
            head += ", report-only"
        counts = f"{sm.violations} violation(s), {sm.warnings} warning(s), {sm.waived} waived"
        lines.append(f"gate {head}: {counts}; exit {verdict['exit_code']}")
        if note:
            lines.append(note)
        if self.options.quiet:
            return _join(lines)
        lines.append(f"{sm.suppressed} suppressed inline; {sm.findings} finding(s), {sm.components} component(s) from {sm.inputs} input(s)")
        changed = not_used(verdict)
        if changed:
            pol = verdict.get("policy")
            source = (pol.get("revision") if pol else None) or "the trusted ref"
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
        total = {"deny": sm.violations, "warn": sm.warnings, "waived": sm.waived}
        for level, title in LEVEL_TITLES:
            if not total[level]:
                continue
            rows = [row_cells(r) for r in shown if r.level == level]
            tables.append((len(lines), level, f"{title} ({total[level]})", rows))
            lines.append("")  # the table's place
            if total[level] > len(rows):
                lines.append(f"... and {total[level] - len(rows)} more {title.lower()} (see --output json=FILE)")
        expired = verdict.get("waivers_expired") or []
        lines.extend(clean(f"waiver {w.get('id')} expired on {w.get('expires')}: it no longer applies") for w in expired)
        lines.extend(clean(f"waiver {w.get('id')} matched no finding") for w in verdict.get("waivers_unused") or [])
        if note:
            lines.append(note)
        for index, level, title, rows in reversed(tables):
            header = WAIVED_COLUMNS if level == "waived" else COLUMNS
            drawn = self._rich_table(title, header, rows, level) if interactive else plain_table(title, header, rows)
            lines[index : index + 1] = drawn
        return _join(lines)

    def _rich_table(self, title: str, header: Sequence[str], rows: Sequence[Sequence[str]], level: str) -> list[str]:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        width = max(80, self.options.width or 80)
        color = self.options.color
        buf = io.StringIO()
        console = Console(
            file=buf,
            width=width,
            color_system="standard" if color else None,
            force_terminal=color,
            no_color=not color,
            highlight=False,
            emoji=False,
            markup=False,
            soft_wrap=False,
            _environ={},  # rich would read TERM, FORCE_COLOR, COLUMNS...: the options decide, not the environment
        )
        table = Table(title=title, show_lines=False, expand=False)
        for i, col in enumerate(header):
            flexible = col in ("where", "message")
            table.add_column(
                col.replace(" ", "\n"),  # "rule\nseverity": narrow columns keep their labels
                overflow="fold",
                ratio=(3 if col == "message" else 1) if flexible else None,
                no_wrap=not flexible,
                max_width=(max(16, width // 4) if col == "where" else None) if flexible else (16 if i == 0 or col == "rule" else 9),
                style=_STYLE[level] if (color and i == 0) else None,
            )
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))
        console.print(table)
        return buf.getvalue().rstrip("\n").split("\n")


def _join(lines: Sequence[str]) -> str:
    return "".join(line + "\n" for line in lines)
