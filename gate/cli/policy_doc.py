"""`gate policy doc [DIR] [-o FILE]`: the Markdown catalogue of the rules."""

from __future__ import annotations

import click

from gate.authoring.doc import catalogue
from gate.cli import verbose_option
from gate.cli.files import write_file


@click.command("doc")
@click.argument("directory", required=False)
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False), help="Write the catalogue to FILE instead of standard output.")
@click.option("--title", default="Policy catalogue", show_default=True, help="The document's heading.")
@verbose_option
def doc_command(directory: str | None, output: str | None, title: str) -> int:
    """Markdown catalogue of every rule (id, title, severity, control, stages, effective date,
    description, remediation), grouped by control, from the METADATA annotations."""
    doc = catalogue(directory, title=title)
    if output is None:
        click.echo(doc.text, nl=False)
        return 0
    write_file(output, doc.text.encode("utf-8"), what="the catalogue")
    click.echo(f"policy doc: {doc.rules} rule(s) written to {output}", err=True)
    return 0
