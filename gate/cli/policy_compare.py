"""`gate policy compare OLD NEW REPORT...`: the verdicts of two policy versions on the same reports."""

from __future__ import annotations

from typing import Any

import click

from gate.authoring.compare import RENDERERS, what_if
from gate.cli import verbose_option
from gate.cli.choices import reader_format_choice
from gate.engine.registry import ENGINES
from gate.runner import Config


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
    config = Config(reports=tuple(reports), time=time_, **{**kw, "data": tuple(kw["data"])})
    result = what_if(old, new, config, fail_on_change=fail_on_change)
    for line in result.errors:
        click.echo(line, err=True)
    if result.comparison is not None:
        click.echo(RENDERERS[format_](result.comparison), nl=False)
    return result.exit_code
