"""`gate run`, `gate scan` and `gate sbom`: run the scanners (in parallel), then judge.

`gate run PATH` = `gate scan PATH --out DIR` + `gate evaluate` of the reports it wrote, plus the
run's own record: each scanner's version, command line, exit code and duration go into
`verdict.run`, and a scanner that left no usable report (failed, timed out, not installed)
enters the policy input as an incomplete scan, which the shipped policy denies. Progress goes
to stderr: a live display on a terminal, plain lines in CI (not a TTY, or CI=true).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

import click

from gate.cli import config_option, verbose_option
from gate.cli.choices import ScannerList
from gate.cli.evaluate import build_config, evaluation_options, finish, output_options, parse_outputs
from gate.output.text import clean
from gate.scanning import DEFAULT_OUT, DEFAULT_SCANNER_TIMEOUT, DEFAULT_SCANNERS, ScanConfig, generate_sbom, scan_and_evaluate, scan_project
from scanners.run.interface import RunRecord
from scanners.run.parallel import Event
from scanners.run.registry import SCANNERS

PROGRESS_MODES = ("auto", "live", "plain", "off")


def _opt(*names: str, env: str, **kw: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(*names, envvar=env, show_envvar=True, **kw)


def scanner_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options of `gate run` and `gate scan` that choose and bound the scanners."""
    options = [
        _opt(
            "--scanners",
            env="GATE_SCANNERS",
            default=",".join(DEFAULT_SCANNERS),
            show_default=True,
            metavar="LIST",
            type=ScannerList(),
            help=f"Comma-separated scanners to run (from {', '.join(SCANNERS)}).",
        ),
        _opt(
            "--out",
            env="GATE_OUT",
            default=DEFAULT_OUT,
            show_default=True,
            type=click.Path(file_okay=False),
            help="Folder where the native reports are kept.",
        ),
        _opt(
            "--scanner-timeout",
            env="GATE_SCANNER_TIMEOUT",
            type=click.FloatRange(min=0.1),
            default=DEFAULT_SCANNER_TIMEOUT,
            show_default=True,
            help="Seconds each scanner may run before it is stopped (its scan then counts as incomplete).",
        ),
        _opt(
            "--semgrep-config",
            env="GATE_SEMGREP_CONFIG",
            multiple=True,
            metavar="CONFIG",
            help="Extra semgrep config beside the gate's rule pack (p/python, a file; repeatable).",
        ),
        _opt(
            "--pip-audit-service",
            env="GATE_PIP_AUDIT_SERVICE",
            type=click.Choice(["pypi", "osv"]),
            default="pypi",
            show_default=True,
            help="Vulnerability service pip-audit queries.",
        ),
        _opt(
            "--progress",
            env="GATE_PROGRESS",
            type=click.Choice(PROGRESS_MODES),
            default="auto",
            show_default=True,
            help="Progress on stderr: live on a terminal, plain lines in CI (auto), or off.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


# --------------------------------------------------------------------------------------------
# Progress


class PlainProgress:
    """One line per scanner start and end: for CI logs."""

    def __init__(self, names: Sequence[str], target: str, timeout: float) -> None:
        self.names = names
        self.target = target
        self.timeout = timeout

    def __enter__(self) -> PlainProgress:
        click.echo(f"gate: scanning {clean(self.target)} with {', '.join(self.names)} (at most {self.timeout:g} s each)", err=True)
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def event(self, event: Event) -> None:
        if event.record is not None:
            click.echo(f"gate: {describe(event.record)}", err=True)

    def tick(self) -> None:
        return None


class SilentProgress(PlainProgress):
    """No progress at all (`--progress off`)."""

    def __enter__(self) -> SilentProgress:
        return self

    def event(self, event: Event) -> None:
        return None


class LiveProgress:
    """A live display on a terminal (rich): a spinner and the elapsed time per scanner."""

    def __init__(self, names: Sequence[str], target: str, timeout: float) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.console = Console(stderr=True, markup=False, highlight=False, emoji=False)
        # No refresh thread of its own (auto_refresh=False): the run's loop refreshes it, and the
        # process is back to one thread when the policy engine forks.
        self.progress = Progress(
            SpinnerColumn(finished_text="done"),
            TextColumn("{task.description}", markup=False),
            TimeElapsedColumn(),
            console=self.console,
            auto_refresh=False,
            transient=False,
        )
        self.tasks = {name: self.progress.add_task(name, total=1) for name in names}
        self.target = target
        self.timeout = timeout

    def __enter__(self) -> LiveProgress:
        self.console.print(f"gate: scanning {clean(self.target)} (at most {self.timeout:g} s per scanner)")
        self.progress.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.progress.refresh()
        self.progress.stop()

    def event(self, event: Event) -> None:
        if event.record is not None:
            self.progress.update(self.tasks[event.name], completed=1, description=describe(event.record))
            self.progress.refresh()

    def tick(self) -> None:
        self.progress.refresh()


def make_progress(mode: str, names: Sequence[str], target: str, timeout: float) -> PlainProgress | LiveProgress:
    """`auto`: live on an interactive terminal, plain lines where CI=true or stderr is not a TTY."""
    if mode == "off":
        return SilentProgress(names, target, timeout)
    if mode == "auto":
        in_ci = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
        mode = "live" if sys.stderr.isatty() and not in_ci else "plain"
    if mode == "live":
        return LiveProgress(names, target, timeout)
    return PlainProgress(names, target, timeout)


def describe(record: RunRecord) -> str:
    """One line about a scanner's run, safe for a CI log (tool text is cleaned)."""
    head = f"{record.name}: {record.status}"
    if record.status == "not_applicable":
        return f"{head}: {clean(record.notes[0] if record.notes else '', 200)}"
    if record.status in ("unavailable", "skipped"):
        return f"{head}: {clean(record.errors[0] if record.errors else '', 200)}"
    parts = [f"{head} in {record.duration:.1f} s", f"exit {record.exit_code}" if record.exit_code is not None else "stopped"]
    text = ", ".join(parts)
    if record.report:
        text += f" -> {clean(record.report)}"
    if record.errors:
        text += f"; incomplete: {clean(record.errors[0], 300)}"
    return text


# --------------------------------------------------------------------------------------------
# Wiring


def scan_config(
    path: str, scanners: tuple[str, ...], out: str, scanner_timeout: float, semgrep_config: Sequence[str], pip_audit_service: str
) -> ScanConfig:
    """The scanner options as the library's frozen config."""
    return ScanConfig(
        path=path,
        scanners=tuple(scanners),
        out=out,
        timeout=scanner_timeout,
        semgrep_configs=tuple(semgrep_config),
        pip_audit_service=pip_audit_service,
    )


@click.command("run")
@click.argument("path", default=".", required=False, type=click.Path())
@scanner_options
@evaluation_options
def run_command(
    path: str,
    scanners: tuple[str, ...],
    out: str,
    scanner_timeout: float,
    semgrep_config: tuple[str, ...],
    pip_audit_service: str,
    progress: str,
    **kw: Any,
) -> int:
    """Scan PATH (bandit, semgrep, pip-audit, SBOM; in parallel), then evaluate the reports.

    The scanners write into a private folder; each report's SHA-256 is recorded when its tool
    ends and exactly those bytes are judged, as `gate evaluate` would judge them (copies are kept
    in --out for humans). The code scanners scan what the policy data's `coverage` section selects;
    source files no code scanner covered are listed as `unscanned`. Each scanner's version,
    command line, exit code, duration, report digest and coverage are recorded in the verdict
    (`run`). A scanner that failed, timed out or is missing counts as an incomplete scan.
    """
    outputs = parse_outputs(kw["outputs"])
    shown = output_options(kw, scan_root=path)
    if kw.get("quiet") and progress == "auto":
        progress = "off"  # --quiet: the decision line and errors only
    display = make_progress(progress, scanners, path, scanner_timeout)
    config = scan_config(path, scanners, out, scanner_timeout, semgrep_config, pip_audit_service)
    outcome = scan_and_evaluate(config, build_config((), None, **kw), display)
    return finish(outcome, kw["format_"], outputs, shown)


@click.command("scan")
@click.argument("path", default=".", required=False, type=click.Path())
@scanner_options
@config_option
@verbose_option
def scan_command(
    path: str,
    scanners: tuple[str, ...],
    out: str,
    scanner_timeout: float,
    semgrep_config: tuple[str, ...],
    pip_audit_service: str,
    progress: str,
) -> int:
    """Only run the scanners on PATH; copies of their native reports are written into --out.

    What the code scanners scan comes from the default policy's data (`coverage`). Exits 0 when
    every selected scanner wrote a complete report (or had nothing to scan) and every source file
    was scanned, and 3 when a scanner did not complete (failed, timed out, not installed) or a
    source file went unscanned: `gate evaluate` of the folder alone would not see that.
    """
    display = make_progress(progress, scanners, path, scanner_timeout)
    result = scan_project(scan_config(path, scanners, out, scanner_timeout, semgrep_config, pip_audit_service), display)
    for report in result.run.reports():
        click.echo(report)
    if result.error is not None:
        raise result.error
    return 0


@click.command("sbom")
@click.argument("path", default=".", required=False, type=click.Path())
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False),
    envvar="GATE_SBOM_OUTPUT",
    help="The SBOM file to write (CycloneDX 1.6 JSON).",
)
@click.option(
    "--environment",
    metavar="PYTHON",
    envvar="GATE_SBOM_ENVIRONMENT",
    help="Describe this Python environment (interpreter or venv folder) instead of the project's manifest.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=DEFAULT_SCANNER_TIMEOUT,
    show_default=True,
    envvar="GATE_SBOM_TIMEOUT",
    help="Seconds cyclonedx-py may run.",
)
@verbose_option
def sbom_command(path: str, output: str, environment: str | None, timeout: float) -> int:
    """Generate a CycloneDX SBOM (JSON) of the Python project at PATH, or of an environment.

    The project's lock file (poetry.lock, Pipfile.lock, uv.lock), else its requirements*.txt,
    else its pyproject.toml dependencies describe it; cyclonedx-py writes the SBOM.
    """
    generated = generate_sbom(path, output, environment=environment, timeout=timeout)
    click.echo(generated.summary(), err=True)
    return 0
