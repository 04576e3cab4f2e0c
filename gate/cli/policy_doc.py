"""`gate policy doc [DIR] [-o FILE]`: the Markdown catalogue of the rules."""

from __future__ import annotations

import os

import click

from gate.authoring.doc import render_catalogue
from gate.cli import verbose_option
from gate.cli.policy_test import default_dir
from gate.errors import OutputError
from gate.policy import load_policy


@click.command("doc")
@click.argument("directory", required=False)
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), help="Write the catalogue to FILE instead of standard output.")
@click.option("--title", default="Policy catalogue", show_default=True, help="The document's heading.")
@verbose_option
def doc_command(directory: str | None, output: str | None, title: str) -> int:
    """Markdown catalogue of every rule (id, title, severity, control, stages, effective date,
    description, remediation), grouped by control, from the METADATA annotations."""
    policy = load_policy(directory or default_dir(), include_tests=False)
    text = render_catalogue(policy, title=title)
    if output is None:
        click.echo(text, nl=False)
        return 0
    try:
        parent = os.path.dirname(output)
        if parent:
            os.makedirs(parent, exist_ok=True)
        with open(output, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
    except OSError as exc:
        raise OutputError(f"cannot write the catalogue: {exc.strerror or exc}", file=output) from None
    click.echo(f"policy doc: {len(policy.rules)} rule(s) written to {output}", err=True)
    return 0
