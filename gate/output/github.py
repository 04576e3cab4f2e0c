"""`github`: workflow commands that annotate files and lines on the pull request.

Only the gate's own commands may reach the runner. Data is escaped as the runner requires
(`%` `\\r` `\\n` in messages; also `:` and `,` in properties), legacy `##[` markers in text are
broken, and every line the gate prints starts with its own `::` command. GitHub shows a limited
number of annotations per step, so at most `MAX_ANNOTATIONS` are printed and a notice says how
many were left out; a final notice states the verdict's totals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gate.output.common import Result, results, totals
from gate.output.interface import Formatter

MAX_ANNOTATIONS = 50
COMMAND = {"deny": "error", "warn": "warning", "waived": "notice"}


def escape_data(text: object) -> str:
    """A workflow command's message: `%`, CR and LF escaped; legacy `##[` broken."""
    s = "" if text is None else str(text)
    s = s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return _neutralise(s)


def escape_property(text: object) -> str:
    """A workflow command's property value: as data, plus `:` and `,`."""
    s = "" if text is None else str(text)
    s = s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace(":", "%3A").replace(",", "%2C")
    return _neutralise(s)


def _neutralise(s: str) -> str:
    # The runner also splits on other line breaks some terminals honour, and finds legacy
    # `##[command]` anywhere in a line: neither may survive in data.
    for ch, rep in (("\u2028", "%E2%80%A8"), ("\u2029", "%E2%80%A9"), ("\x85", "%C2%85"), ("\x0b", "%0B"), ("\x0c", "%0C")):
        s = s.replace(ch, rep)
    return s.replace("##[", "##%5B")


def unescape(text: str) -> str:
    """What the runner does to escaped data (for round-trip tests)."""
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def command(name: str, message: str, **props: object) -> str:
    """One workflow command line."""
    prop_text = ",".join(f"{k}={escape_property(v)}" for k, v in props.items() if v not in (None, ""))
    return f"::{name}{(' ' + prop_text) if prop_text else ''}::{escape_data(message)}"


class GithubFormatter(Formatter):
    """Annotations (error for deny, warning for warn, notice for waived), bounded, with totals."""

    name = "github"
    max_annotations = MAX_ANNOTATIONS

    def render(self, verdict: Mapping[str, Any], document: Mapping[str, Any] | None) -> str:
        lines: list[str] = []
        if verdict["decision"] == "error":
            err = verdict.get("error") or {}
            pos = err.get("position") or {}
            lines.append(command("error", f"policy gate error (exit {verdict['exit_code']}): {err.get('message', '')}", title="policy-gate", file=err.get("file"), line=pos.get("line"), col=pos.get("column")))
            return "\n".join(lines) + "\n"
        all_results = results(verdict)
        shown = all_results[: self.max_annotations]
        for r in shown:
            lines.append(self._annotation(r))
        left = len(all_results) - len(shown)
        if left:
            lines.append(command("notice", f"{left} more result(s) not annotated (at most {self.max_annotations}); see the step summary or the verdict JSON.", title="policy-gate"))
        t = totals(verdict)
        state = "open" if verdict["decision"] == "pass" else "closed"
        lines.append(
            command(
                "notice",
                f"policy gate {state}: {t['violations']} violation(s), {t['warnings']} warning(s), {t['waived']} waived; exit code {verdict['exit_code']}",
                title="policy-gate",
            )
        )
        return "\n".join(lines) + "\n"

    def _annotation(self, r: Result) -> str:
        title = f"{r.rule}: {r.title}" if r.title else r.rule
        msg = r.msg if r.level != "waived" else f"waived by {(r.waiver or {}).get('waiver')}: {r.msg}"
        if r.remediation and r.level != "waived":
            msg += f"\nRemediation: {r.remediation}"
        return command(COMMAND[r.level], msg, title=title, file=r.path, line=r.start_line, endLine=r.end_line)
