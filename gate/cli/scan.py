"""`gate run`, `gate scan` and `gate sbom`: run the scanners (in parallel), then judge.

`gate run PATH` = `gate scan PATH --out DIR` + `gate evaluate` of the reports it wrote, plus the
run's own record: each scanner's version, command line, exit code and duration go into
`verdict.run`, and a scanner that left no usable report (failed, timed out, not installed)
enters the policy input as an incomplete scan, which the shipped policy denies. Progress goes
to stderr: a live display on a terminal, plain lines in CI (not a TTY, or CI=true).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import click

from gate.cli import config_option, verbose_option
from gate.cli.choices import ScannerList
from gate.cli.evaluate import build_config, evaluation_options, finish, output_options, parse_outputs
from gate.errors import ConfigError, GateError, InputError, OutputError
from gate.output.text import clean
from gate.runner import check_data, evaluate, resolve_policy
from scanners.run.coverage import CoverageRules
from scanners.run.interface import RunRecord
from scanners.run.parallel import Event, ScanRun, run_all
from scanners.run.registry import SCANNERS, UnknownScanner, get_runner, parse_scanners

DEFAULT_OUT = "gate-reports"
# The default scanners: dependency evidence comes from the generated SBOM matched against the
# vulnerability database (gate vulndb), so nothing is installed; pip-audit (which resolves the
# project by installing it) stays available by name.
DEFAULT_SCANNERS = ("bandit", "semgrep", "sbom")
DEFAULT_SCANNER_TIMEOUT = 600.0
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


def _scanners(text: str | tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(text, tuple):
        return text  # already checked by Click (ScannerList)
    try:
        return parse_scanners(text)
    except UnknownScanner as exc:
        raise click.BadParameter(str(exc), param_hint="--scanners") from None


def _target(path: str) -> Path:
    target = Path(path)
    if not target.exists():
        raise InputError("no such directory to scan", file=path)
    if not target.is_dir():
        raise InputError("the path to scan must be a project directory", file=path)
    return target


def _out_dir(out: str) -> Path:
    directory = Path(out)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the report folder: {exc.strerror or exc}", file=out) from None
    return directory


def coverage_rules(data: Mapping[str, Any]) -> CoverageRules:
    """The data's coverage section (`coverage.exclude`, anchored globs); invalid data is exit 2."""
    try:
        return CoverageRules.from_data(data)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def scan(
    path: str,
    *,
    scanners: str | tuple[str, ...],
    out: str,
    scanner_timeout: float,
    semgrep_config: Sequence[str],
    pip_audit_service: str,
    progress: str,
    rules: CoverageRules | None = None,
    private: Path | None = None,
) -> ScanRun:
    """Run the selected scanners on `path`; every worker thread has ended on return.

    The tools write into a fresh private folder (mode 0700, under `private` or a new temporary
    one), never into `out`; the run returned names each report by its copy in `out`, which this
    writes from the bytes recorded when each tool ended (for humans: the gate never reads them).
    """
    names = _scanners(scanners)
    target = _target(path)
    out_dir = _out_dir(out)
    runners = [get_runner(n, semgrep_configs=semgrep_config, pip_audit_service=pip_audit_service) for n in names]
    display = make_progress(progress, names, path, scanner_timeout)
    own = private is None
    folder = Path(tempfile.mkdtemp(prefix="gate-run-")) if private is None else private
    try:
        reports = folder / "reports"
        reports.mkdir(mode=0o700)
        with display:
            run = run_all(runners, target, reports, scanner_timeout, rules=rules, on_event=display.event, tick=display.tick)
        shown = run.relocated(out_dir)
        try:
            shown.copy_reports(out_dir)
        except OSError as exc:
            raise OutputError(f"cannot keep a copy of the reports: {exc.strerror or exc}", file=out) from None
        return shown
    finally:
        if own:
            shutil.rmtree(folder, ignore_errors=True)


def _policy_for_scan(kw: Mapping[str, Any]) -> Any:
    """The policy set `gate run` evaluates with, loaded before scanning for its coverage data; None
    when it cannot be loaded (the evaluation then reports that error, and nothing is scanned)."""
    try:
        policy = resolve_policy(build_config((), None, **kw))
        check_data(policy)
    except GateError:
        return None
    return policy


@click.command("run")
@click.argument("path", default=".", required=False, type=click.Path())
@scanner_options
@evaluation_options
def run_command(
    path: str,
    scanners: str | tuple[str, ...],
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
    report_only = kw["fail_on"] == "never"
    policy = _policy_for_scan(kw)
    if policy is None:  # the evaluation reports why the policy could not be loaded
        return finish(evaluate(build_config((), None, **kw)), kw["format_"], outputs, shown, report_only=report_only)
    if kw.get("quiet") and progress == "auto":
        progress = "off"  # --quiet: the decision line and errors only
    rules = coverage_rules(policy.data)
    private = Path(tempfile.mkdtemp(prefix="gate-run-"))
    try:
        run = scan(
            path,
            scanners=scanners,
            out=out,
            scanner_timeout=scanner_timeout,
            semgrep_config=semgrep_config,
            pip_audit_service=pip_audit_service,
            progress=progress,
            rules=rules,
            private=private,
        )
        extra = run.extra_scans()
        options = {
            **kw,
            # With incomplete runs recorded there is evidence to judge even if no report was written.
            "allow_empty": bool(kw["allow_empty"] or extra),
            "run_info": run.to_dict(),
            "extra_scans": extra,
            "recorded_reports": run.verified_reports,
            "unscanned": tuple(run.unscanned()) if run.survey is not None else (),
            "constant_pickles": run.constant_pickles if run.survey is not None else (),
        }
        outcome = evaluate(build_config((), None, **options))
    finally:
        shutil.rmtree(private, ignore_errors=True)
    return finish(outcome, kw["format_"], outputs, shown, report_only=report_only)


@click.command("scan")
@click.argument("path", default=".", required=False, type=click.Path())
@scanner_options
@config_option
@verbose_option
def scan_command(
    path: str,
    scanners: str | tuple[str, ...],
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
    from gate.runner import Config

    policy = resolve_policy(Config())
    run = scan(
        path,
        scanners=scanners,
        out=out,
        scanner_timeout=scanner_timeout,
        semgrep_config=semgrep_config,
        pip_audit_service=pip_audit_service,
        progress=progress,
        rules=coverage_rules(policy.data),
    )
    for report in run.reports():
        click.echo(report)
    failed = run.incomplete()
    if failed:
        names = "; ".join(f"{r.name} ({r.status}: {clean(r.errors[0] if r.errors else '', 200)})" for r in failed)
        raise InputError(f"{len(failed)} scanner(s) did not complete: {names}", file=run.out_dir)
    missed = run.unscanned()
    if missed:
        first = "; ".join(f"{clean(e['path'], 200)} ({clean(e['reason'], 200)})" for e in missed[:5])
        raise InputError(f"{len(missed)} source file(s) no code scanner scanned: {first}", file=path)
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
    from scanners.run.sbom import SbomRunner, component_count

    target = _target(path)
    out = Path(output)
    if out.parent != Path() and not out.parent.is_dir():
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the folder for the SBOM: {exc.strerror or exc}", file=output) from None
    started = time.monotonic()
    record = SbomRunner(environment=environment, output=out).run(target, out.parent, timeout)
    if record.status == "not_applicable":
        raise InputError(
            f"{record.notes[0] if record.notes else 'nothing to describe'}; use --environment to describe an installed environment",
            file=path,
        )
    if record.status in ("unavailable", "skipped"):
        raise ConfigError(record.errors[0])
    source = next((n for n in record.notes if n.startswith("from ")), "")
    if not record.complete or record.report is None:
        raise InputError(f"SBOM generation {source} {record.status}: {clean(record.errors[0] if record.errors else '', 500)}", file=path)
    components = component_count(record, output)
    click.echo(f"gate: sbom: {components} component(s) {source} written to {clean(output)} in {time.monotonic() - started:.1f} s", err=True)
    return 0
