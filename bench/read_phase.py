"""The read phase alone: `gate.collect.collect` on one input folder, one by one and in parallel.

    .venv/bin/python bench/read_phase.py /tmp/gate-bench/heavy-100k /tmp/gate-bench/100k --runs 3

For each folder: `collect` with the reading forced sequential (`processes=1`) and as the gate
plans it (`reading_plan`), `--runs` times each, alternating; the median wall time, this
process's CPU seconds and its children's, and the plan. The cyclic garbage collector is off, as
in the CLI. Keep runs few on a shared machine: each is seconds of both cores.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gate import collect as collect_module  # noqa: E402 - after the path


def _cpu() -> tuple[float, float]:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def _once(files: list[str], processes: int | None) -> tuple[float, float, float]:
    saved = collect_module.read_reports

    def forced(files: list[str], **kw: object) -> list[collect_module.Report]:
        return saved(files, processes=processes, **kw)  # type: ignore[arg-type]

    collect_module.read_reports = forced  # type: ignore[assignment]
    try:
        c0, t0 = _cpu(), time.perf_counter()
        reports = collect_module.collect(files)
        wall, c1 = time.perf_counter() - t0, _cpu()
    finally:
        collect_module.read_reports = saved
    del reports
    return wall, c1[0] - c0[0], c1[1] - c0[1]


def main() -> None:
    """Command line: time the read phase of each folder."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    gc.disable()
    collect_module.formats()  # the readers imported once, before any timing
    for folder in args.folders:
        files = sorted(str(p) for p in folder.iterdir() if p.is_file())
        size = sum(os.path.getsize(f) for f in files)
        print(f"{folder}: {len(files)} files, {size / 1e6:.1f} MB, plan {collect_module.reading_plan(files)}")
        rows: dict[str, list[tuple[float, float, float]]] = {"sequential": [], "planned": []}
        for _ in range(args.runs):
            rows["sequential"].append(_once(files, 1))
            rows["planned"].append(_once(files, None))
        for name, runs in rows.items():
            wall = statistics.median(r[0] for r in runs)
            me = statistics.median(r[1] for r in runs)
            kids = statistics.median(r[2] for r in runs)
            walls = ", ".join(f"{r[0]:.3f}" for r in runs)
            print(f"  {name:10s} wall {wall:6.3f} s (runs {walls})  cpu here {me:.3f} s, children {kids:.3f} s")


if __name__ == "__main__":
    main()
