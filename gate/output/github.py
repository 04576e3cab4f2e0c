"""`github`: workflow commands that annotate files and lines on the pull request.

Only the gate's own commands may reach the runner, which reads `::name props::data` at the
start of every line of stdout and stderr (lines end at `\\n` or a bare `\\r`) and the legacy
`##[name]data` anywhere in a line. So every line printed here is one of the gate's own
commands, and data is escaped as the runner requires: `%`, CR and LF in a message; also `:`
and `,` in a property. Other control characters are percent-encoded too (the runner leaves
them as they are, so they show as `%1B` and the like), and a legacy `##[` is broken as
`##%5B`: neither can ever read as anything but text.

GitHub shows at most 10 error, 10 warning and 10 notice annotations per step (50 per job).
The gate prints at most that many of each kind, most important first, then a notice that says
how many results of each kind it left out, and always a final notice with the verdict's
totals, which are those of every other format.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from gate.output.common import LEVELS, Result, error_text, not_used, report_only_note, results, summarize, waived_by
from gate.output.interface import Formatter
from gate.output.locate import repo_path
from gate.output.text import neutralise
from gate.records import InputDocument, Verdict

# GitHub's display limits per step, for each kind of annotation.
MAX_PER_KIND = 10
MAX_MESSAGE = 4000
COMMAND = {"deny": "error", "warn": "warning", "waived": "notice"}
_DATA_ESCAPES = {"%": "%25", "\r": "%0D", "\n": "%0A"}
_PROPERTY_ESCAPES = {**_DATA_ESCAPES, ":": "%3A", ",": "%2C"}
# Characters the runner does not unescape but that have no business in one log line.
_OTHER_CONTROL = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")


def _encode(ch: str) -> str:
    return "".join(f"%{b:02X}" for b in ch.encode("utf-8"))


def _escape(text: object, table: Mapping[str, str]) -> str:
    s = "" if text is None else str(text)
    s = "".join(table.get(c, c) for c in s)
    s = _OTHER_CONTROL.sub(lambda m: _encode(m.group(0)), s)
    s = neutralise(s)  # bidirectional and invisible characters: shown as `\u202e`
    return s.replace("##[", "##%5B")


def escape_data(text: object) -> str:
    """A workflow command's message: `%`, CR, LF (and other controls) escaped; legacy `##[` broken."""
    return _escape(text, _DATA_ESCAPES)


def escape_property(text: object) -> str:
    """A workflow command's property value: as data, plus `:` and `,`."""
    return _escape(text, _PROPERTY_ESCAPES)


def unescape(text: str) -> str:
    """What the runner does to escaped data and properties (ActionCommand.Unescape*), for tests."""
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def command(name: str, message: object, **props: object) -> str:
    """One workflow command line; properties that are None or empty are left out."""
    prop_text = ",".join(f"{k}={escape_property(v)}" for k, v in props.items() if v is not None and v != "")
    msg = "" if message is None else str(message)
    if len(msg) > MAX_MESSAGE:
        msg = msg[: MAX_MESSAGE - 1] + "…"
    return f"::{name}{(' ' + prop_text) if prop_text else ''}::{escape_data(msg)}"


class GithubFormatter(Formatter):
    """Annotations (error for deny, warning for warn, notice for waived), bounded per kind, with totals."""

    name = "github"
    max_per_kind = MAX_PER_KIND

    def render(self, verdict: Verdict, document: InputDocument | None) -> str:
        if verdict["decision"] == "error":
            err = verdict.get("error")
            pos = err.get("position") if err else None
            line = command(
                "error",
                f"policy gate error (exit {verdict['exit_code']}): {error_text(err)}",
                title="policy-gate",
                file=err.get("file") if err else None,
                line=pos.get("line") if pos else None,
                col=pos.get("column") if pos else None,
            )
            return line + "\n"
        all_results = results(verdict)
        changed = not_used(verdict)
        budget = {"error": self.max_per_kind, "warning": self.max_per_kind, "notice": self.max_per_kind - 1}  # totals notice
        if changed:
            budget["warning"] -= 1
        by_level = {lv: [r for r in all_results if r.level == lv] for lv in LEVELS}
        if any(len(by_level[lv]) > budget[COMMAND[lv]] for lv in LEVELS):
            budget["notice"] -= 1  # the "left out" notice
        shown = {lv: by_level[lv][: max(0, budget[COMMAND[lv]])] for lv in LEVELS}
        lines = [self._annotation(r) for lv in LEVELS for r in shown[lv]]
        if changed:
            paths = ", ".join(f"{e.get('path')} ({e.get('change')})" for e in changed[:20])
            more = f" and {len(changed) - 20} more" if len(changed) > 20 else ""
            pol = verdict.get("policy")
            source = (pol.get("revision") if pol else None) or "the trusted ref"
            lines.append(
                command(
                    "warning",
                    f"{len(changed)} change(s) to governing files (policies, data, waivers, baseline, VEX, config) "
                    "in this work tree were not used; "
                    f"they were read from {source}: {paths}{more}",
                    title="policy-gate: changes not used",
                )
            )
        left = {lv: len(by_level[lv]) - len(shown[lv]) for lv in LEVELS}
        if any(left.values()):
            lines.append(
                command(
                    "notice",
                    f"{sum(left.values())} more result(s) not annotated ({left['deny']} deny, {left['warn']} warn, "
                    f"{left['waived']} waived): GitHub shows at most {self.max_per_kind} annotations of each kind per step; "
                    "see the step summary or the verdict JSON.",
                    title="policy-gate",
                )
            )
        sm = summarize(verdict, document, all_results)
        state = "open" if verdict["decision"] == "pass" else "closed"
        note = report_only_note(verdict)
        lines.append(
            command(
                "notice",
                f"policy gate {state}{' (' + note + ')' if note else ''}: {sm.violations} violation(s), {sm.warnings} warning(s), "
                f"{sm.waived} waived, {sm.suppressed} suppressed inline; {sm.results} result(s); exit code {verdict['exit_code']}",
                title="policy-gate",
            )
        )
        return "\n".join(lines) + "\n"

    def _annotation(self, r: Result) -> str:
        title = f"{r.rule}: {r.title}" if r.title else r.rule
        if r.level == "waived":
            msg = f"waived by {waived_by(r.waiver)}: {r.msg}"
        else:
            msg = r.msg
            if r.package and r.package not in msg:
                msg += f"\nPackage: {r.package}"
            if r.remediation:
                msg += f"\nRemediation: {r.remediation}"
        loc = r.finding.get("location") if r.finding else None
        file = repo_path(str(loc["path"]), self.options.findings_base, self.options.source_root) if loc and loc.get("path") else None
        return command(
            COMMAND[r.level], msg, title=title, file=file, line=r.start_line if file else None, endLine=r.end_line if file else None
        )
