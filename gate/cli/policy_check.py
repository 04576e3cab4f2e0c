"""`gate policy check [DIR]`: compile, check METADATA, data and builtins, list the rules."""

from __future__ import annotations

import click

from gate.authoring.check import RENDERERS, check_policy
from gate.cli import verbose_option
from gate.sources import policy_root


@click.command("check")
@click.argument("directory", required=False)
@click.option("--format", "format_", type=click.Choice(tuple(RENDERERS)), default="text", show_default=True, help="Report format.")
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
    report = check_policy(policy_root(directory), timeout=timeout)
    rendered = RENDERERS[format_](report)
    click.echo(rendered.stderr, nl=False, err=True)
    click.echo(rendered.stdout, nl=False)
    return report.exit_code
