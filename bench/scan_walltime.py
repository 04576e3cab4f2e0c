"""Wall time of `gate run` against the slowest scanner run alone.

    python bench/scan_walltime.py [PROJECT] [--scanners bandit,semgrep,sbom] [--repeat 5] [--json]

Each repetition runs every selected scanner alone (through its runner, exactly as `gate run`
starts it), then `gate evaluate` of their reports alone, then the whole `gate run` as a
separate process (Python start-up, parallel scanners, policy evaluation, output). Runs are
interleaved so that a busy machine slows all of them alike; the minimum over the repetitions
is the figure that compares (the median is shown beside it).

`gate run` can never beat the slowest scanner plus the evaluation; the overhead of running the
scanners in parallel shows as `run - (slowest + evaluate)`. On a machine with fewer cores than
scanners the tools also compete for CPU, which is the rest of the gap.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scanners.run.registry import get_runner, parse_scanners  # noqa: E402


def _gate() -> str:
    return str(Path(sys.executable).parent / "gate")


def _time(argv: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, check=False)  # noqa: S603 - fixed argv
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 10, 11):
        raise SystemExit(f"{argv[:3]} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", default=str(REPO / "examples" / "vulnerable-app"))
    parser.add_argument("--scanners", default="bandit,semgrep,sbom")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    names = parse_scanners(args.scanners)
    project = Path(args.project).resolve()
    alone: dict[str, list[float]] = {n: [] for n in names}
    evaluate: list[float] = []
    run: list[float] = []
    with tempfile.TemporaryDirectory(prefix="gate-bench-") as tmp:
        work = Path(tmp)
        for _ in range(args.repeat):
            reports: list[str] = []
            for name in names:
                out = work / f"alone-{name}"
                record = get_runner(name).run(project, out, 600)
                alone[name].append(record.duration)
                if record.report:
                    reports.append(str(Path(record.report).resolve()))
            evaluate.append(_time([_gate(), "evaluate", *reports, "--format", "json", "--allow-empty"], REPO))
            run.append(
                _time(
                    [
                        _gate(),
                        "run",
                        str(project),
                        "--scanners",
                        ",".join(names),
                        "--out",
                        str(work / "run"),
                        "--progress",
                        "off",
                        "--format",
                        "json",
                    ],
                    REPO,
                )
            )
    best = {n: min(v) for n, v in alone.items()}
    slowest = max(best, key=lambda n: best[n])
    figures = {
        "project": str(project),
        "scanners": list(names),
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
        "alone_min": {n: round(v, 2) for n, v in best.items()},
        "alone_median": {n: round(statistics.median(v), 2) for n, v in alone.items()},
        "slowest": slowest,
        "evaluate_min": round(min(evaluate), 2),
        "gate_run_min": round(min(run), 2),
        "gate_run_median": round(statistics.median(run), 2),
        "ratio_run_to_slowest": round(min(run) / best[slowest], 2),
        "overhead_over_slowest_plus_evaluate": round(min(run) - best[slowest] - min(evaluate), 2),
        "sequential_sum_min": round(sum(best.values()) + min(evaluate), 2),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"project {figures['project']} ({figures['cpus']} CPUs), {args.repeat} repetitions, min (median)")
        for n in names:
            print(f"  {n:<10} alone   {figures['alone_min'][n]:6.2f} s ({figures['alone_median'][n]:.2f})")
        print(f"  gate evaluate     {figures['evaluate_min']:6.2f} s")
        print(f"  gate run          {figures['gate_run_min']:6.2f} s ({figures['gate_run_median']:.2f})")
        print(f"  slowest alone: {slowest}; run / slowest = {figures['ratio_run_to_slowest']}")
        print(f"  run - (slowest + evaluate) = {figures['overhead_over_slowest_plus_evaluate']} s")
        print(f"  one scanner after another, then evaluate: {figures['sequential_sum_min']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
