"""The scanner-runner family: one abstract base, one module per tool.

A runner knows one tool: how to find it, the command line that scans a project into a native
report, which exit codes mean "it ran" (bandit exits 1 whenever it reports anything; semgrep 0
even with findings; pip-audit 1 both on vulnerabilities and when its service is unreachable), and
how to tell a run that wrote a usable report from one that did not. `run()` returns a
`RunRecord`: the tool's version, command line, exit code, duration, report path and, when the
tool did not produce a complete report, the tool's own words about why.

A run that produced no report (the tool failed, timed out or is not installed) is never read
as "no findings": `RunRecord.scan_entry()` turns it into an incomplete `input.scans[]` entry,
which the shipped policy denies. A runner that does not apply (a dependency audit of a project
with no dependency manifest) says so with status `not_applicable` and adds no scan entry: it
provides no evidence, so a stage that requires that kind of evidence still fails
(see `RunRecord.scan_entry`).

Nothing of the scanned project runs, and the project does not steer the tools: every process
gets the allow-listed environment of `environment.minimal_env`; code scanners run in the gate's
private snapshot of the source (`ScanPlan`, `coverage`), the others in a private work folder on
files the gate wrote; a runner that would have to install or build to do its work raises `Skip`
and is recorded `skipped` (incomplete). The report's bytes and SHA-256 are recorded the moment
the tool ends (`RunRecord.data`, `RunRecord.sha256`): that is what the gate evaluates.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar, Final

from scanners.run.coverage import CoverageRules, Survey, survey
from scanners.run.environment import NEVER, minimal_env

STATUSES: Final = ("ok", "failed", "timeout", "unavailable", "not_applicable", "skipped")
"""How a runner ended: `ok` (a report was written and the tool exited as it does when it ran),
`failed` (an unexpected exit code or no report), `timeout` (stopped at the time limit),
`unavailable` (the tool is not installed), `not_applicable` (nothing for it to scan),
`skipped` (the gate did not start the tool, because it could not run without installing or
building something from the project; incomplete, with the reason)."""

TAIL_LINES: Final = 200
"""How many of the last non-empty lines of a tool's output are kept to explain a failure."""

ERROR_LINES: Final = 6
"""How many of those lines become the run's errors (a traceback's frames are left out)."""

TAIL_CHARS: Final = 500
"""The longest single error line kept (the policy shortens further for its messages)."""

KILL_GRACE: Final = 3.0
"""Seconds between SIGTERM and SIGKILL for a process group stopped at its time limit."""


@dataclass(frozen=True)
class Execution:
    """What one process did: its exit code (None when stopped at the limit), wall time, output tails."""

    exit_code: int | None
    duration: float
    timed_out: bool
    stdout_tail: tuple[str, ...] = ()
    stderr_tail: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunRecord:
    """How one scanner ran, for the verdict (`verdict.run.scanners[]`) and the scan list.

    `report` is the native report to evaluate (None when none was written). `complete` is the
    runner's own judgement of the run, independent of what the report says about itself:
    False when the tool failed, timed out, is unavailable, exited with a code that means
    failure, or (semgrep) reported errors that its evaluated report does not carry. `errors`
    then holds the tool's own words (the last lines of its output).
    """

    name: str
    tool: str
    format: str
    status: str
    command: tuple[str, ...] = ()
    cwd: str | None = None
    exit_code: int | None = None
    duration: float = 0.0
    report: str | None = None
    report_path: str | None = None
    tool_version: str | None = None
    complete: bool = True
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    sha256: str | None = None
    """The SHA-256 of the report as it was when the tool ended (what the gate evaluates)."""
    data: bytes | None = field(default=None, repr=False, compare=False)
    """The report's bytes, read once when the tool ended: evaluated as they are, never re-read."""
    scanned: frozenset[str] | None = field(default=None, repr=False, compare=False)
    """For a code scanner: the source files its own report says it scanned (None: not a code scanner)."""
    coverage: dict[str, Any] | None = None
    """For a code scanner: what it was given and what it scanned (the verdict's record)."""
    origin: str | None = field(default=None, compare=False)
    """Where the tool wrote the report (the gate's private folder), when `report` names a copy."""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown run status {self.status!r}")

    def scan_entry(self) -> dict[str, Any] | None:
        """The `input.scans[]` entry the gate adds for this run, or None.

        An incomplete run adds an entry with `complete: false` and the tool's errors, whether or
        not it also left a report (a report whose tool exited abnormally is still evaluated, so
        its findings count, and this entry makes the run's failure visible to the policy). Its
        `path` is the report the run should have written: the evidence names it.

        A run that is `not_applicable` adds none: it scanned nothing, so it must not count as
        evidence that the project was audited (a `scans[]` entry with `complete: true` would
        satisfy a stage's required evidence). It is listed in `verdict.run.scanners[]` only.
        """
        if self.complete:
            return None
        return {
            "path": self.report_path or self.report or self.name,
            "sha256": None,
            "format": self.format,
            "spec_version": None,
            "tool": self.tool,
            "tool_version": self.tool_version,
            "complete": False,
            "errors": list(self.errors),
            "findings": 0,
            "components": 0,
            "vex": 0,
            "statistics": {"exit_code": self.exit_code} if self.exit_code is not None else {},
        }

    def to_dict(self) -> dict[str, Any]:
        """The record as the verdict shows it (`verdict.run.scanners[]`)."""
        return {
            "name": self.name,
            "tool": self.tool,
            "tool_version": self.tool_version,
            "status": self.status,
            "complete": self.complete,
            "command": list(self.command),
            "cwd": self.cwd,
            "exit_code": self.exit_code,
            "duration": round(self.duration, 3),
            "report": self.report,
            "format": self.format,
            "errors": list(self.errors),
            "notes": list(self.notes),
            "sha256": self.sha256,
            "coverage": self.coverage,
        }


# --------------------------------------------------------------------------------------------
# Processes


_LIVE: set[subprocess.Popen[bytes]] = set()
_LIVE_LOCK = threading.Lock()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group (semgrep and pip-audit start children), then SIGKILL after a grace."""
    for sig, grace in ((signal.SIGTERM, KILL_GRACE), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        if grace is None:
            proc.wait()
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def terminate_all() -> None:
    """Stop every tool process still running (the user interrupted the run)."""
    with _LIVE_LOCK:
        live = list(_LIVE)
    for proc in live:
        if proc.poll() is None:
            _kill_group(proc)


def _tail(data: bytes) -> tuple[str, ...]:
    text = data.decode("utf-8", "replace")
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip()]
    return tuple(ln if len(ln) <= TAIL_CHARS else ln[: TAIL_CHARS - 3] + "..." for ln in lines[-TAIL_LINES:])


def _read_tail(fh: Any) -> bytes:
    fh.flush()
    size = fh.seek(0, os.SEEK_END)
    fh.seek(max(0, size - 64 * 1024))
    data: bytes = fh.read()
    return data


def execute(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float) -> Execution:
    """Run `argv` in `cwd` with a wall-clock limit; output goes to temporary files, not pipes.

    The process gets its own session so that, at the limit, its whole group (semgrep-core,
    pip's subprocesses) is stopped, not only the first process. `env` is meant to come from
    `environment.minimal_env`; whatever it holds, names that look like credentials or runner
    controls (`environment.NEVER`) are dropped here once more.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(  # noqa: S603 - argv is a list built by the runner, no shell
            list(argv),
            cwd=str(cwd),
            env={k: v for k, v in env.items() if not NEVER.search(k)},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        with _LIVE_LOCK:
            _LIVE.add(proc)
        try:
            try:
                code: int | None = proc.wait(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                code, timed_out = None, True
        except BaseException:
            _kill_group(proc)
            raise
        finally:
            with _LIVE_LOCK:
                _LIVE.discard(proc)
        duration = time.monotonic() - started
        return Execution(
            exit_code=code,
            duration=duration,
            timed_out=timed_out,
            stdout_tail=_tail(_read_tail(out)),
            stderr_tail=_tail(_read_tail(err)),
        )


def find_program(name: str) -> str | None:
    """The tool's executable: beside the running interpreter first (the venv the gate lives in), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


_VERSION = re.compile(r"(\d+\.\d+(?:\.\d+)?(?:[-.+a-zA-Z0-9]*)?)")


def program_version(program: str, dist: str, env: Mapping[str, str] | None = None) -> str | None:
    """The tool's version: from the installed distribution when the program is the gate's own
    environment's (fast), else from `program --version` (first version-looking token)."""
    if Path(program).parent == Path(sys.executable).parent:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    try:
        with tempfile.TemporaryDirectory(prefix="gate-version-") as home:
            done = subprocess.run(  # noqa: S603 - fixed argv
                [program, "--version"],
                capture_output=True,
                timeout=30,
                stdin=subprocess.DEVNULL,
                check=False,
                cwd=home,
                env=dict(env) if env is not None else minimal_env(Path(home) / "home"),
            )
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = _VERSION.search(done.stdout.decode("utf-8", "replace") + done.stderr.decode("utf-8", "replace"))
    return m.group(1) if m else None


def find_named(target: Path, names: Sequence[str], *, limit: int = 50) -> list[str]:
    """Files under `target` with one of `names` (e.g. a tool's own configuration), relative, sorted.

    For the record only (the gate notes the tree's scanner configurations it does not use). The
    walk does not follow symbolic links, skips `.git`, and stops after `limit` hits.
    """
    wanted = set(names)
    found: list[str] = []
    for root, dirs, files in os.walk(target):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(wanted.intersection(files)):
            found.append(Path(root, name).relative_to(target).as_posix())
            if len(found) >= limit:
                return found
    return sorted(found)


def relative_inside(path: Path, target: Path) -> str | None:
    """`path` relative to `target` (POSIX form) when it lies inside it, else None."""
    try:
        rel = path.resolve().relative_to(target.resolve())
    except ValueError:
        return None
    return rel.as_posix() if rel.parts else None


def display_path(path: Path) -> str:
    """A path as the verdict shows it: relative to the working directory when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------------------------
# The runner base


class PrepareError(Exception):
    """What to scan could not be worked out (an unreadable manifest): the run fails with this text."""


class Skip(Exception):
    """The tool must not be started (it would install or build from the project): `skipped`, incomplete."""


@dataclass
class Prepared:
    """What a runner worked out before running: notes for the record, errors the run carries
    (what could not be described), or why it does not apply."""

    not_applicable: str | None = None
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ScanPlan:
    """What one run scans: the project, and the gate's survey and private snapshot of its source.

    Code scanners scan `snapshot` (the sources the survey kept, copied into a private folder);
    the dependency runners read the project's manifests, never run anything in it.
    """

    project: Path
    survey: Survey
    snapshot: Path

    @classmethod
    def make(cls, project: Path, dest: Path, rules: CoverageRules | None = None) -> ScanPlan:
        """Survey `project` with `rules` and copy its sources into `dest` (a fresh private folder)."""
        found = survey(project, rules)
        found.snapshot(dest)
        return cls(project=project, survey=found, snapshot=dest)


class ScannerRunner(ABC):
    """Runs one scanner on a project directory and writes its native report into `out_dir`.

    Subclasses give the names and `command()`; they may override `prepare()` (work out what to
    scan, or that nothing applies), `accepts()` (which exit codes mean the tool ran) and
    `finish()` (look at the report and the output once the tool has exited). A code scanner
    (`code_scanner = True`) runs in the plan's snapshot of the source and says which files its
    report covers (`covered()`); the others run in a private work folder.
    """

    name: ClassVar[str]
    """The name `--scanners` takes."""

    tool: ClassVar[str]
    """The tool's name as `input.scans[].tool` shows it."""

    format: ClassVar[str]
    """The format of its report (a reader's format name)."""

    program: ClassVar[str]
    """The executable to look for."""

    dist: ClassVar[str]
    """The Python distribution that provides it (for its version)."""

    report_name: ClassVar[str]
    """The report's file name inside `out_dir`."""

    ok_exit_codes: ClassVar[frozenset[int]] = frozenset({0})

    code_scanner: ClassVar[bool] = False
    """True for scanners of the source code (bandit, semgrep): they scan the plan's snapshot."""

    _work: Path | None = None
    _own_work: tempfile.TemporaryDirectory[str] | None = None
    plan: ScanPlan | None = None

    @property
    def work_dir(self) -> Path:
        """A temporary directory for files that are not the report (the current run's, else the runner's own)."""
        if self._work is None:
            self._own_work = tempfile.TemporaryDirectory(prefix=f"gate-{self.name}-")
            self._work = Path(self._own_work.name)
        return self._work

    def report_file(self, out_dir: Path) -> Path:
        """Where the native report goes."""
        return out_dir / self.report_name

    def executable(self) -> str | None:
        """The resolved executable, or None when the tool is not installed."""
        return find_program(self.program)

    def env_additions(self) -> dict[str, str]:
        """Variables the gate sets for this tool (names from `environment.GATE_SET`)."""
        return {"NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"}

    def env(self) -> dict[str, str]:
        """The tool's environment: the allow-list of `environment.minimal_env`, with a private HOME."""
        return minimal_env(self.work_dir / "home", self.env_additions())

    def prepare(self, target: Path, out_dir: Path) -> Prepared:
        """Work out what to scan before `command()` (default: nothing to work out)."""
        return Prepared()

    @abstractmethod
    def command(self, target: Path, out_dir: Path) -> list[str]:
        """The command line that scans `target` (its working directory: the snapshot for a code
        scanner, the work folder otherwise) into `out_dir`."""

    def version(self, program: str, report: Path | None) -> str | None:
        """The tool's version (subclasses may read it from the report instead)."""
        return program_version(program, self.dist, self.env())

    def accepts(self, exit_code: int, report: Path) -> bool:
        """Whether the exit code means the tool ran (not whether it found something)."""
        return exit_code in self.ok_exit_codes

    def finish(self, run: Execution, report: Path) -> tuple[list[str], list[str]]:
        """After a run that wrote its report: (errors the report does not carry, notes). Default: none."""
        return [], []

    def covered(self, data: bytes) -> set[str]:
        """A code scanner's files, as its report (or its side output) lists them. Default: none."""
        return set()

    def unavailable_hint(self) -> str:
        """What to do when the tool is not installed."""
        return f"install it (pip install 'policy-gate[scanners]' provides {self.dist})"

    def run(self, target: Path, out_dir: Path, timeout: float, plan: ScanPlan | None = None) -> RunRecord:
        """Run the tool on `target` with a time limit; never raises for a tool's failure.

        A runner instance runs one scan at a time: `work_dir` (a temporary directory for files
        that are not the report) belongs to the current run. A code scanner without a `plan`
        surveys `target` itself with no exclusions (the CLI passes the plan made from data).
        """
        with tempfile.TemporaryDirectory(prefix=f"gate-{self.name}-") as work:
            self._work = Path(work)
            try:
                if self.code_scanner and plan is None:
                    plan = ScanPlan.make(target, self._work / "snapshot")
                self.plan = plan
                return self._run(target, out_dir, timeout)
            finally:
                self._work = None
                self.plan = None

    def _coverage(self, scanned: set[str]) -> dict[str, Any]:
        plan = self.plan
        given = plan.survey.paths if plan is not None else []
        missed = sorted(set(given) - scanned)
        return {
            "scan_root": "snapshot of the project's source, outside the tree",
            "targets": len(given),
            "files": len(scanned & set(given)),
            "excluded": len(plan.survey.excluded) if plan is not None else 0,
            "not_scanned": missed[:50],
            "not_scanned_count": len(missed),
        }

    def _run(self, target: Path, out_dir: Path, timeout: float) -> RunRecord:
        report = self.report_file(out_dir)
        shown = display_path(report)
        base: dict[str, Any] = {"name": self.name, "tool": self.tool, "format": self.format, "report_path": shown}
        try:
            prepared = self.prepare(target, out_dir)
        except PrepareError as exc:
            return RunRecord(status="failed", complete=False, errors=(str(exc),), **base)
        except Skip as exc:
            return RunRecord(status="skipped", complete=False, errors=(str(exc),), **base)
        if prepared.not_applicable is not None:
            return RunRecord(status="not_applicable", notes=(prepared.not_applicable, *prepared.notes), **base)
        program = self.executable()
        if program is None:
            why = f"{self.program} is not installed or not on PATH: {self.unavailable_hint()}"
            return RunRecord(status="unavailable", complete=False, errors=(why,), notes=tuple(prepared.notes), **base)
        try:
            report.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return RunRecord(
                status="failed", complete=False, errors=(f"cannot create the report folder {report.parent}: {exc.strerror or exc}",), **base
            )
        scan_root = self.plan.snapshot if self.code_scanner and self.plan is not None else target
        cwd = scan_root if self.code_scanner else self.work_dir
        argv = self.command(scan_root, out_dir)
        if report.exists():
            report.unlink()  # a report left by an earlier run must not pass for this one's
        done = execute(argv, cwd=cwd, env=self.env(), timeout=timeout)
        data: bytes | None = None
        if not done.timed_out and report.is_file():
            data = report.read_bytes()  # read once, now: this is what the gate evaluates
        wrote = bool(data)
        notes = list(prepared.notes)
        errors: list[str] = list(prepared.errors)
        if done.timed_out:
            status = "timeout"
            errors.append(f"{self.tool} did not finish within {timeout:g} s and was stopped; its report is not used")
            errors.extend(_meaningful(done)[-3:])
            wrote = False
            if report.exists():
                report.unlink()  # a half-written report must not be read as the tool's answer
        elif not wrote:
            status = "failed"
            errors.append(f"{self.tool} exited with code {done.exit_code} and wrote no report{_last(done)}")
            errors.extend(_rest(done))
        elif done.exit_code is not None and not self.accepts(done.exit_code, report):
            status = "failed"
            errors.append(
                f"{self.tool} exited with code {done.exit_code} (a failure, not a finding); "
                f"its report is evaluated but the scan counts as incomplete{_last(done)}"
            )
            errors.extend(_rest(done))
            more_errors, more_notes = self.finish(done, report)
            errors.extend(more_errors)
            notes.extend(more_notes)
        else:
            status = "ok"
            more_errors, more_notes = self.finish(done, report)
            errors.extend(more_errors)
            notes.extend(more_notes)
        scanned: frozenset[str] | None = None
        coverage: dict[str, Any] | None = None
        if self.code_scanner:
            scanned = frozenset(self.covered(data) if wrote and data is not None else set())
            coverage = self._coverage(set(scanned))
        return RunRecord(
            status=status,
            command=tuple(argv),
            cwd=display_path(target),
            exit_code=done.exit_code,
            duration=done.duration,
            report=shown if wrote else None,
            tool_version=self.version(program, report if wrote else None),
            complete=status == "ok" and not errors,
            errors=tuple(errors),
            notes=tuple(notes),
            sha256=hashlib.sha256(data).hexdigest() if wrote and data is not None else None,
            data=data if wrote else None,
            scanned=scanned,
            coverage=coverage,
            **base,
        )


_TRACEBACK_NOISE = (
    "Traceback (most recent call last)",
    "The above exception was the direct cause",
    "During handling of the above exception",
)


def _meaningful(done: Execution) -> list[str]:
    """The tool's own last words: its output's last lines, without a traceback's frames and boilerplate."""
    lines = done.stderr_tail or done.stdout_tail
    kept = [ln for ln in lines if not ln[:1].isspace() and not ln.startswith(_TRACEBACK_NOISE)]
    out: list[str] = []
    for ln in reversed(kept):
        if ln not in out:
            out.append(ln)
        if len(out) >= ERROR_LINES:
            break
    return list(reversed(out))


def _last(done: Execution) -> str:
    lines = _meaningful(done)
    return f": {lines[-1]}" if lines else ""


def _rest(done: Execution) -> list[str]:
    return _meaningful(done)[:-1]
