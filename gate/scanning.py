"""`gate run` and `gate scan` without the CLI: run the scanners on a project, then judge.

`scan_and_evaluate(scan, config, display)` is `gate run`: the policy is loaded first (its data's
`coverage` section decides what the code scanners scan), the scanners run in parallel into a
private folder, and exactly the bytes recorded when each tool ended are judged, with the run's
own record (`verdict.run`) and every scanner that left no usable report as an incomplete scan.
`scan_project(scan, display)` is `gate scan`. The progress display is the caller's (the CLI's):
anything with `__enter__`/`__exit__`, `event(Event)` and `tick()`.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol

from gate.errors import ConfigError, GateError, InputError, OutputError
from gate.runner import Config, Outcome, check_data, coverage_rules, evaluate, resolve_policy
from scanners.run.coverage import CoverageRules
from scanners.run.parallel import Event, ScanRun, run_all
from scanners.run.registry import get_runner

DEFAULT_OUT = "gate-reports"
DEFAULT_SCANNERS = ("bandit", "semgrep", "sbom")
"""Dependency evidence comes from the generated SBOM matched against the vulnerability database
(gate vulndb), so nothing is installed; pip-audit (which resolves the project by installing it)
stays available by name."""
DEFAULT_SCANNER_TIMEOUT = 600.0


class Display(Protocol):
    """What the scanners' progress is shown on (entered around the run)."""

    def __enter__(self) -> object:
        """The display starts."""

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        """The display ends (the run ended, or failed)."""

    def event(self, event: Event) -> None:
        """A scanner started or ended."""

    def tick(self) -> None:
        """Called about every 0.1 s while tools run."""


@dataclass(frozen=True)
class ScanConfig:
    """Which scanners run on which project, and where their reports are kept."""

    path: str = "."
    scanners: tuple[str, ...] = DEFAULT_SCANNERS
    out: str = DEFAULT_OUT
    timeout: float = DEFAULT_SCANNER_TIMEOUT
    semgrep_configs: tuple[str, ...] = ()
    pip_audit_service: str = "pypi"


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


def scan(config: ScanConfig, display: Display, *, rules: CoverageRules | None = None, private: Path | None = None) -> ScanRun:
    """Run the selected scanners on `config.path`; every worker thread has ended on return.

    The tools write into a fresh private folder (mode 0700, under `private` or a new temporary
    one), never into `out`; the run returned names each report by its copy in `out`, which this
    writes from the bytes recorded when each tool ended (for humans: the gate never reads them).
    """
    target = _target(config.path)
    out_dir = _out_dir(config.out)
    runners = [get_runner(n, semgrep_configs=config.semgrep_configs, pip_audit_service=config.pip_audit_service) for n in config.scanners]
    own = private is None
    folder = Path(tempfile.mkdtemp(prefix="gate-run-")) if private is None else private
    try:
        reports = folder / "reports"
        reports.mkdir(mode=0o700)
        with display:
            run = run_all(runners, target, reports, config.timeout, rules=rules, on_event=display.event, tick=display.tick)
        shown = run.relocated(out_dir)
        try:
            shown.copy_reports(out_dir)
        except OSError as exc:
            raise OutputError(f"cannot keep a copy of the reports: {exc.strerror or exc}", file=config.out) from None
        return shown
    finally:
        if own:
            shutil.rmtree(folder, ignore_errors=True)


def scan_and_evaluate(scan_config: ScanConfig, config: Config, display: Display) -> Outcome:
    """`gate run`: scan, then evaluate what the scanners wrote, as `evaluate(config)` would.

    The policy is loaded before scanning, for its coverage data; when it cannot be loaded
    nothing is scanned and the evaluation's error verdict says why.
    """
    try:
        policy = resolve_policy(config)
        check_data(policy)
    except GateError:
        return evaluate(config)
    private = Path(tempfile.mkdtemp(prefix="gate-run-"))
    try:
        run = scan(scan_config, display, rules=coverage_rules(policy.data), private=private)
        extra = run.extra_scans()
        judged = dataclasses.replace(
            config,
            # With incomplete runs recorded there is evidence to judge even if no report was written.
            allow_empty=bool(config.allow_empty or extra),
            run_info=run.to_dict(),
            extra_scans=tuple(extra),
            recorded_reports=run.verified_reports,
            unscanned=tuple(run.unscanned()) if run.survey is not None else (),
            constant_pickles=run.constant_pickles,
        )
        return evaluate(judged)
    finally:
        shutil.rmtree(private, ignore_errors=True)


@dataclass(frozen=True)
class ScanResult:
    """`gate scan`'s answer: the run, and why it does not count as complete (None when it does)."""

    run: ScanRun
    error: InputError | None


def scan_project(scan_config: ScanConfig, display: Display) -> ScanResult:
    """`gate scan`: run the scanners on what the default policy's data (`coverage`) selects.

    The run is incomplete (an InputError, exit 3, to raise once the reports are listed) when a
    scanner did not complete (failed, timed out, not installed) or a source file went unscanned:
    `gate evaluate` of the folder alone would not see that.
    """
    from gate.output.text import clean

    policy = resolve_policy(Config())
    run = scan(scan_config, display, rules=coverage_rules(policy.data))
    failed = run.incomplete()
    if failed:
        names = "; ".join(f"{r.name} ({r.status}: {clean(r.errors[0] if r.errors else '', 200)})" for r in failed)
        return ScanResult(run, InputError(f"{len(failed)} scanner(s) did not complete: {names}", file=run.out_dir))
    missed = run.unscanned()
    if missed:
        first = "; ".join(f"{clean(e['path'], 200)} ({clean(e['reason'], 200)})" for e in missed[:5])
        return ScanResult(run, InputError(f"{len(missed)} source file(s) no code scanner scanned: {first}", file=scan_config.path))
    return ScanResult(run, None)


@dataclass(frozen=True)
class GeneratedSbom:
    """What `gate sbom` wrote."""

    path: str
    components: int
    source: str
    """Where the components came from (`from poetry.lock`, `from requirements.txt`, ...)."""
    seconds: float

    def summary(self) -> str:
        """The line the CLI prints on stderr."""
        from gate.output.text import clean

        return f"gate: sbom: {self.components} component(s) {self.source} written to {clean(self.path)} in {self.seconds:.1f} s"


def generate_sbom(path: str, output: str, *, environment: str | None = None, timeout: float = DEFAULT_SCANNER_TIMEOUT) -> GeneratedSbom:
    """`gate sbom`: a CycloneDX SBOM (JSON) of the Python project at `path`, or of the Python
    environment `environment`, written to `output` by cyclonedx-py.

    Raises InputError (nothing to describe, or the generation failed), ConfigError (the tool is
    missing), OutputError (the output's folder cannot be made).
    """
    import time

    from gate.output.text import clean
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
    return GeneratedSbom(path=output, components=components, source=source, seconds=time.monotonic() - started)
