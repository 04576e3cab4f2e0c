"""`gate policy bundle [DIR] -o FILE`: build an OPA bundle of a policy folder and print its digest."""

from __future__ import annotations

import click

from gate.authoring.bundle import make_bundle
from gate.bundle import DEFAULT_KEY_ID, SIGNING_ALGORITHMS
from gate.cli import verbose_option


@click.command("bundle")
@click.argument("directory", required=False)
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="The bundle file to write (tar.gz).")
@click.option(
    "--revision",
    envvar="GATE_REVISION",
    help="The manifest revision. Default: the git commit of the folder (+ -dirty), else the content digest.",
)
@click.option(
    "--signing-key",
    type=click.Path(dir_okay=False),
    envvar="GATE_SIGNING_KEY",
    help="Sign the bundle (OPA bundle signing): a PEM private key, or for HS* a file holding the secret.",
)
@click.option("--signing-alg", type=click.Choice(SIGNING_ALGORITHMS), default="RS256", show_default=True, envvar="GATE_SIGNING_ALG")
@click.option(
    "--signing-key-id",
    default=DEFAULT_KEY_ID,
    show_default=True,
    envvar="GATE_SIGNING_KEY_ID",
    help="The key id written in the signature (OPA's --verification-key-id).",
)
@verbose_option
def bundle_command(
    directory: str | None, output: str, revision: str | None, signing_key: str | None, signing_alg: str, signing_key_id: str
) -> int:
    """Build an OPA bundle of a policy folder: .manifest (revision, roots), the Rego modules that
    decide, and data.json with the merged data; signed when --signing-key is given.

    Prints the policy digest on stdout (the folder's, which the bundle and its manifest carry
    too): pin it with --policy-digest.
    """
    built = make_bundle(directory, output, revision=revision, signing_key=signing_key, signing_alg=signing_alg, key_id=signing_key_id)
    click.echo(built.summary(), err=True)
    click.echo(built.digest)
    return 0
