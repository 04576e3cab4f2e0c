"""`gate policy check [DIR]`: compile, check METADATA, data and builtins, list the rules."""

from __future__ import annotations

import json

import click

from gate.authoring.check import CheckReport, Problem, check_policy
from gate.cli import verbose_option
from gate.cli.policy_test import default_dir
from gate.output.text import clean

LABELS = {
    "compile": "compile error",
    "forbidden": "forbidden builtin",
    "metadata": "METADATA error",
    "data": "data error",
    "load": "error",
}


def _problem_lines(p: Problem, label: str) -> list[str]:
    where = clean(p.where())
    lines = [f"{where}: {label}: {clean(p.message)}" if where else f"{label}: {clean(p.message)}"]
    lines.extend("    " + clean(ln) for ln in p.excerpt.splitlines())
    return lines


def _text(report: CheckReport) -> tuple[list[str], list[str]]:
    """(stdout lines, stderr lines)."""
    err: list[str] = []
    for problem in report.problems:
        err.extend(_problem_lines(problem, LABELS.get(problem.kind, "error")))
    for note in report.notes:
        err.extend(_problem_lines(note, "note"))
    out: list[str] = []
    if report.rules:
        rows = [
            (
                clean(m.id or "(no id)", 40),
                m.decision,
                clean(m.severity or "?", 10),
                clean(m.title or "(no title)", 70),
                clean(f"{m.file}:{m.line}"),
            )
            for m in report.rules
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        out.append(f"rules ({len(rows)}):")
        for r in rows:
            out.append("  " + "  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4])
    n = len(report.problems)
    out.append(
        f"policy check: {len(report.modules)} module(s), {len(report.tests)} test module(s), {len(report.data_files)} data file(s), "
        f"{len(report.rules)} rule(s): " + (f"{n} problem(s); exit {report.exit_code}" if n else "no problems")
    )
    return out, err


def _json(report: CheckReport) -> str:
    def prob(p: Problem) -> dict[str, object]:
        return {"kind": p.kind, "message": p.message, "file": p.file, "line": p.line, "column": p.column, "excerpt": p.excerpt}

    doc = {
        "schema": "gate.policy-check/v1",
        "root": report.root,
        "digest": report.digest,
        "modules": report.modules,
        "tests": report.tests,
        "data_files": report.data_files,
        "rules": [m.to_dict() for m in report.rules],
        "problems": [prob(p) for p in report.problems],
        "notes": [prob(p) for p in report.notes],
        "exit_code": report.exit_code,
    }
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@click.command("check")
@click.argument("directory", required=False)
@click.option("--format", "format_", type=click.Choice(["text", "json"]), default="text", show_default=True, help="Report format.")
@click.option(
    "--timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True, help="Seconds allowed for the trial evaluation."
)
@verbose_option
def check_command(directory: str | None, format_: str, timeout: float) -> int:
    """Compile every module, check METADATA, data files and builtins, and list the rules.

    Reports every problem with file:line:column (compile errors with the offending line and a
    caret). Exit 0 when clean; 4 on compile errors, forbidden builtins or METADATA problems;
    2 when only the data files are invalid.
    """
    report = check_policy(directory or default_dir(), timeout=timeout)
    if format_ == "json":
        click.echo(_json(report), nl=False)
        return report.exit_code
    out, err = _text(report)
    for line in err:
        click.echo(line, err=True)
    for line in out:
        click.echo(line)
    return report.exit_code
