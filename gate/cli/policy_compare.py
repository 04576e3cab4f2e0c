"""`gate policy compare OLD NEW REPORT...`: the verdicts of two policy versions on the same reports."""

from __future__ import annotations

from typing import Any

import click

from gate.authoring.compare import RENDERERS, compare
from gate.cli import verbose_option
from gate.cli.choices import reader_format_choice
from gate.engine.registry import ENGINES
from gate.errors import ExitCode
from gate.output.text import clean
from gate.runner import Config, Outcome, evaluate, resolve_time
from gate.verdict import format_time


def _error_line(label: str, policy: str, outcome: Outcome) -> str:
    err = outcome.error
    record = outcome.verdict["error"]
    text = str(err) if err is not None else str(record["message"] if record else None)
    return clean(f"gate: error with the {label} policy ({policy}): {text}", 2000)


@click.command("compare")
@click.argument("old")
@click.argument("new")
@click.argument("reports", nargs=-1, required=True, type=click.Path())
@click.option("--stage", envvar="GATE_STAGE", help="Stage profile used on both sides.")
@click.option("--time", "time_", envvar="GATE_TIME", help='"Now" for both sides (RFC 3339); default: the current time, the same for both.')
@click.option("--format", "format_", type=click.Choice(sorted(RENDERERS)), default="text", show_default=True, help="Report format.")
@click.option("--fail-on-change", is_flag=True, help="Exit 10 when anything appears, disappears or changes level, or the decision differs.")
@click.option(
    "--data", multiple=True, type=click.Path(dir_okay=False), help="Extra data file merged over both policies' data (repeatable)."
)
@click.option("--waivers", type=click.Path(dir_okay=False), help="Waivers file used on both sides.")
@click.option("--baseline", type=click.Path(dir_okay=False), help="Baseline file used on both sides.")
@click.option("--as", "as_format", type=reader_format_choice(), help="Force the report format instead of detecting it.")
@click.option("--engine", type=click.Choice([e for e in ENGINES if e != "opa-server"]), default="embedded", show_default=True)
@click.option(
    "--eval-timeout", type=click.FloatRange(min=0.01), default=60.0, show_default=True, help="Seconds allowed for each evaluation."
)
@click.option("--allow-empty", is_flag=True, help="Accept having no report at all.")
@verbose_option
def compare_command(old: str, new: str, reports: tuple[str, ...], format_: str, fail_on_change: bool, time_: str | None, **kw: Any) -> int:
    """What-if: judge the same REPORTs under the OLD and the NEW policy folder (or bundle) and
    show the violations and warnings that appear, disappear or change level (deny <-> warn).

    Exit 0 (it informs), or 10 with --fail-on-change when something changed. When either
    side cannot be evaluated, that side's error and exit code (the new side's first).
    """
    # One clock for both sides, or effective dates and waiver expiry could differ between them.
    now = format_time(resolve_time(time_))
    common = {
        "reports": tuple(reports),
        "as_format": kw["as_format"],
        "data": tuple(kw["data"]),
        "waivers": kw["waivers"],
        "baseline": kw["baseline"],
        "stage": kw["stage"],
        "engine": kw["engine"],
        "eval_timeout": kw["eval_timeout"],
        "time": now,
        "allow_empty": kw["allow_empty"],
    }
    before = evaluate(Config(policy=old, **common))
    after = evaluate(Config(policy=new, **common))
    failed = [(label, path, o) for label, path, o in (("new", new, after), ("old", old, before)) if o.verdict["decision"] == "error"]
    if failed:
        for label, path, outcome in failed:
            click.echo(_error_line(label, path, outcome), err=True)
        return int(failed[0][2].exit_code)
    result = compare(before.verdict, after.verdict, old_label="old", new_label="new")
    click.echo(RENDERERS[format_](result), nl=False)
    if fail_on_change and result.changed:
        return int(ExitCode.DENY)
    return 0
