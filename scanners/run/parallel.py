"""Run a selection of scanners at once, each with its own time limit, and gather their records.

Before the tools start, the gate surveys the project with the data's coverage rules and copies
its source into a private snapshot (`scanners.run.coverage`), which the code scanners scan; when
they have ended, `ScanRun.unscanned()` lists every source file that no code scanner's report
says it scanned. Each report's bytes and SHA-256 are recorded when its tool ends
(`RunRecord.data`, `RunRecord.sha256`); `ScanRun.verified_reports()` hands exactly those bytes
to the evaluation and refuses (an input error) a report whose file changed since.

Each runner runs in a worker thread that mostly waits on its tool's process; the tools
themselves run in parallel as separate processes. `run_all` returns only after every worker
thread has finished (the executor is shut down), so the process is single-threaded again when
the policy engine evaluates (the embedded engine forks for its time limit only then). If the
caller is interrupted, every tool process still running is stopped first.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.errors import InputError
from scanners.run.coverage import CoverageRules, Survey, unscanned
from scanners.run.interface import RunRecord, ScannerRunner, ScanPlan, display_path, terminate_all


@dataclass(frozen=True)
class Event:
    """A progress event: a scanner started (`record` None) or ended (with its record)."""

    name: str
    record: RunRecord | None
    elapsed: float


@dataclass(frozen=True)
class ScanRun:
    """The records of one run of the scanners over a project, in the order they were selected."""

    target: str
    out_dir: str
    records: tuple[RunRecord, ...]
    wall_time: float
    survey: Survey | None = None
    """The gate's survey of the project's source."""
    constant_pickles: tuple[dict[str, Any], ...] = ()
    """Pickle loads of the snapshot proven to read constant data pickles (`scanners.run.constant_pickles`,
    read from the snapshot before it is removed; `input.constant_pickles`)."""

    def reports(self) -> list[str]:
        """The native reports the scanners wrote: what the evaluation reads."""
        return [r.report for r in self.records if r.report]

    def extra_scans(self) -> list[dict[str, Any]]:
        """`input.scans[]` entries for runs that did not complete (they may have left no report)."""
        entries = []
        for record in self.records:
            entry = record.scan_entry()
            if entry is not None:
                entries.append(entry)
        return entries

    def covered(self) -> dict[str, frozenset[str]]:
        """Each code scanner that ran, and the files its report says it scanned."""
        return {r.name: r.scanned for r in self.records if r.scanned is not None}

    def unscanned(self) -> list[dict[str, str]]:
        """Every source file no code scanner scanned, with the reason (`coverage.unscanned`)."""
        if self.survey is None:
            return []
        return unscanned(self.survey, self.covered())

    def verified_reports(self) -> list[tuple[str, bytes]]:
        """(path, bytes) of every report, exactly as recorded when its tool ended.

        A report whose file no longer has the recorded digest (it was changed, replaced or
        removed after its scanner ended) is an input error naming it: the gate evaluates only
        what its tools wrote.
        """
        out: list[tuple[str, bytes]] = []
        for r in self.records:
            if not r.report:
                continue
            if r.data is None or r.sha256 is None or hashlib.sha256(r.data).hexdigest() != r.sha256:
                raise InputError("the gate holds no recorded content for this report", file=r.report)
            written = r.origin or r.report
            try:
                now = hashlib.sha256(_read(written)).hexdigest()
            except OSError as exc:
                raise InputError(
                    f"the report of {r.name} was removed or became unreadable after the scanner ended ({exc.strerror or exc}): refused",
                    file=written,
                ) from None
            if now != r.sha256:
                raise InputError(
                    f"the report of {r.name} changed after the scanner ended (sha256 {r.sha256} when it ended, {now} now): "
                    "something else wrote to the gate's private report folder; refused",
                    file=written,
                )
            out.append((r.report, r.data))
        return out

    def relocated(self, out_dir: Path) -> ScanRun:
        """The run as the verdict shows it: each report named by its copy in `out_dir` (kept for
        humans), the private file the tool wrote kept as `origin` for `verified_reports`."""

        def shown(path: str | None) -> str | None:
            return display_path(out_dir / Path(path).name) if path else None

        records = tuple(
            dataclasses.replace(r, report=shown(r.report), report_path=shown(r.report_path), origin=r.origin or r.report)
            for r in self.records
        )
        return dataclasses.replace(self, records=records, out_dir=display_path(out_dir))

    def copy_reports(self, out_dir: Path) -> None:
        """Write each report's recorded bytes to `out_dir` under its name (for humans; never read back)."""
        out_dir.mkdir(parents=True, exist_ok=True)
        for r in self.records:
            if r.report and r.data is not None:
                (out_dir / Path(r.report).name).write_bytes(r.data)

    def incomplete(self) -> list[RunRecord]:
        """The runs that did not complete."""
        return [r for r in self.records if not r.complete]

    def to_dict(self) -> dict[str, Any]:
        """`verdict.run`: where, how long, and each scanner's record."""
        shown: dict[str, Any] = {
            "target": self.target,
            "out": self.out_dir,
            "wall_time": round(self.wall_time, 3),
            "scanners": [r.to_dict() for r in self.records],
        }
        if self.survey is not None:
            shown["coverage"] = self.survey.to_dict()
        return shown


def _read(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def run_all(
    runners: Sequence[ScannerRunner],
    target: Path,
    out_dir: Path,
    timeout: float,
    *,
    rules: CoverageRules | None = None,
    on_event: Callable[[Event], None] | None = None,
    tick: Callable[[], None] | None = None,
    interval: float = 0.1,
) -> ScanRun:
    """Run `runners` on `target` in parallel, reports into `out_dir`, each stopped at `timeout` seconds.

    The code scanners scan a private snapshot of the source the `rules` (the data's coverage
    section) select, made here and removed on return. `on_event` hears each start and end (in
    the calling thread); `tick` is called about every `interval` seconds while tools run (to
    animate a progress display).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gate-snapshot-") as snapshot:
        # The survey always: with no code scanner selected, every source file is unscanned.
        plan = ScanPlan.make(target, Path(snapshot) / "src", rules)
        return _run_all(runners, target, out_dir, timeout, plan, on_event, tick, interval)


def _run_all(
    runners: Sequence[ScannerRunner],
    target: Path,
    out_dir: Path,
    timeout: float,
    plan: ScanPlan | None,
    on_event: Callable[[Event], None] | None,
    tick: Callable[[], None] | None,
    interval: float,
) -> ScanRun:
    started = time.monotonic()
    records: list[RunRecord | None] = [None] * len(runners)
    executor = ThreadPoolExecutor(max_workers=max(1, len(runners)), thread_name_prefix="gate-scan")
    try:
        futures: dict[Future[RunRecord], int] = {}
        for i, runner in enumerate(runners):
            futures[executor.submit(runner.run, target, out_dir, timeout, plan)] = i
            if on_event:
                on_event(Event(runner.name, None, 0.0))
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=interval, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: futures[f]):
                record = future.result()  # a runner's bug propagates; tool failures are records
                records[futures[future]] = record
                if on_event:
                    on_event(Event(record.name, record, time.monotonic() - started))
            if tick:
                tick()
    except BaseException:
        terminate_all()
        raise
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
    proven: tuple[dict[str, Any], ...] = ()
    if plan is not None:
        from scanners.run.constant_pickles import prove

        proven = tuple(prove(plan.snapshot, plan.survey.paths, [rel for rel, _glob in plan.survey.excluded], project=target))
    return ScanRun(
        target=display_path(target),
        out_dir=display_path(out_dir),
        records=tuple(r for r in records if r is not None),
        wall_time=time.monotonic() - started,
        survey=plan.survey if plan is not None else None,
        constant_pickles=proven,
    )
