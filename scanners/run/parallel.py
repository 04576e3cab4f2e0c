"""Run a selection of scanners at once, each with its own time limit, and gather their records.

Each runner runs in a worker thread that mostly waits on its tool's process; the tools
themselves run in parallel as separate processes. `run_all` returns only after every worker
thread has finished (the executor is shut down), so the process is single-threaded again when
the policy engine evaluates (the embedded engine forks for its time limit only then). If the
caller is interrupted, every tool process still running is stopped first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scanners.run.interface import RunRecord, ScannerRunner, display_path, terminate_all


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

    def incomplete(self) -> list[RunRecord]:
        """The runs that did not complete."""
        return [r for r in self.records if not r.complete]

    def to_dict(self) -> dict[str, Any]:
        """`verdict.run`: where, how long, and each scanner's record."""
        return {
            "target": self.target,
            "out": self.out_dir,
            "wall_time": round(self.wall_time, 3),
            "scanners": [r.to_dict() for r in self.records],
        }


def run_all(
    runners: Sequence[ScannerRunner],
    target: Path,
    out_dir: Path,
    timeout: float,
    *,
    on_event: Callable[[Event], None] | None = None,
    tick: Callable[[], None] | None = None,
    interval: float = 0.1,
) -> ScanRun:
    """Run `runners` on `target` in parallel, reports into `out_dir`, each stopped at `timeout` seconds.

    `on_event` hears each start and end (in the calling thread); `tick` is called about every
    `interval` seconds while tools run (to animate a progress display).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    records: list[RunRecord | None] = [None] * len(runners)
    executor = ThreadPoolExecutor(max_workers=max(1, len(runners)), thread_name_prefix="gate-scan")
    try:
        futures: dict[Future[RunRecord], int] = {}
        for i, runner in enumerate(runners):
            futures[executor.submit(runner.run, target, out_dir, timeout)] = i
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
    return ScanRun(
        target=display_path(target),
        out_dir=display_path(out_dir),
        records=tuple(r for r in records if r is not None),
        wall_time=time.monotonic() - started,
    )
