"""`gate vulndb update` and `gate vulndb status`: the local OSV vulnerability database."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from gate.cli import verbose_option
from gate.cli.choices import LazyChoices


def _db_option(fn: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--db",
        "db",
        envvar="GATE_VULN_DB",
        show_envvar=True,
        type=click.Path(file_okay=False),
        help="Database folder (default: $XDG_CACHE_HOME/policy-gate/vulndb, else ~/.cache/policy-gate/vulndb).",
    )(fn)


@click.group("vulndb")
def vulndb_group() -> None:
    """Build and inspect the local OSV vulnerability database SBOMs are matched against."""


@contextmanager
def _progress(enabled: bool) -> Iterator[object | None]:
    """A rich progress bar on stderr, or None."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), console=console) as bar:
        tasks: dict[str, int] = {}

        def report(what: str, done: int, total: int | None) -> None:
            if what not in tasks:
                tasks[what] = int(bar.add_task(f"downloading {what.rsplit('/', 2)[-2] if '/' in what else what}", total=total))
            bar.update(tasks[what], completed=done, total=total)  # type: ignore[arg-type]

        yield report


@vulndb_group.command("update")
@click.option(
    "--source",
    envvar="GATE_VULNDB_SOURCE",
    show_envvar=True,
    help="URL (http/https) of a zip of OSV records (`{ecosystem}` in it is replaced by each --ecosystem), "
    "or a folder or zip of OSV records in JSON or YAML (default: the OSV export of each --ecosystem).",
)
@_db_option
@click.option("--ecosystem", "ecosystems", multiple=True, help="OSV ecosystem to keep (repeatable; default PyPI, or all of --source).")
@click.option("--progress/--no-progress", default=None, help="Show download progress on stderr (default: when stderr is a terminal).")
@click.option("--timeout", type=click.FloatRange(min=1), default=120.0, show_default=True, help="Seconds allowed per network read.")
@verbose_option
def update_command(source: str | None, db: str | None, ecosystems: tuple[str, ...], progress: bool | None, timeout: float) -> int:
    """Build (or replace, atomically) the database from the OSV export or a local source."""
    from gate import __version__
    from gate.vulndb import store
    from gate.vulndb.status import update_summary

    db_dir = store.db_dir_of(db)
    show = sys.stderr.isatty() if progress is None else progress
    with _progress(show) as report:
        manifest = store.update(
            db_dir,
            source=source,
            ecosystems=ecosystems,
            progress=report,  # type: ignore[arg-type]
            timeout=timeout,
            gate_version=__version__,
        )
    click.echo(update_summary(manifest, db_dir), err=True)
    return 0


def _status_formats() -> tuple[str, ...]:
    from gate.vulndb.status import RENDERERS

    return tuple(RENDERERS)


@vulndb_group.command("status")
@_db_option
@click.option(
    "--format", "format_", type=click.Choice(LazyChoices(_status_formats)), default="text", show_default=True, help="Output format."
)
@click.option("--time", "time_", envvar="GATE_TIME", help='"Now" for the age (RFC 3339).')
@verbose_option
def status_command(db: str | None, format_: str, time_: str | None) -> int:
    """Print the database's source, time fetched, record count, digest and age (checking the digest)."""
    from gate.runner import resolve_time
    from gate.vulndb.status import RENDERERS, status

    click.echo(RENDERERS[format_](status(db, resolve_time(time_))), nl=False)
    return 0
