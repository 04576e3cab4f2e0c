"""`gate explain VERDICT.json`: a human-readable account of a verdict."""

from __future__ import annotations

import click

from gate.authoring.explain import explain_file, join
from gate.cli import verbose_option


@click.command("explain")
@click.argument("verdict", type=click.Path(dir_okay=True))
@verbose_option
def explain_command(verdict: str) -> int:
    """Explain a verdict (written with `--output json=FILE`): for each violation and warning the
    rule, why it matters and how to fix it, the evidence with locations, and the waivers that
    applied or expired. Exit 0, or 3 when the file is not a readable verdict."""
    click.echo(join(explain_file(verdict)), nl=False)
    return 0
