"""Profile every output format on one verdict: function calls (deterministic) and CPU seconds.

    python bench/outputs.py VERDICT.json INPUT.json [--formats json,sarif,...] [--top 8]

VERDICT.json and INPUT.json are what `gate evaluate ... --output json=V --output input=I` wrote
(the violation-heavy shape at 10^4 is the intended case: `bench/generate.py --shapes heavy`).
Each format renders once under cProfile (call counts do not depend on the machine's load), then
once more unprofiled for its CPU time (`time.process_time`, which other processes on the machine
do not inflate as much as wall time). The heaviest functions by own calls are listed per format.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def profile(name: str, verdict: dict[str, Any], document: dict[str, Any], top: int) -> dict[str, Any]:
    """Calls, CPU seconds and output size of one format; the `top` functions by own call count."""
    from gate.output.interface import OutputOptions
    from gate.output.registry import get_formatter

    formatter = get_formatter(name, OutputOptions(color=False, width=120))
    prof = cProfile.Profile()
    prof.enable()
    text = formatter.render(verdict, document)
    prof.disable()
    stats = pstats.Stats(prof)
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][1])  # type: ignore[attr-defined]
    heaviest = [f"{ncalls:>9} {Path(fn).name}:{line}({func})" for (fn, line, func), (_cc, ncalls, *_rest) in rows[:top]]
    started = time.process_time()
    formatter.render(verdict, document)
    cpu = time.process_time() - started
    return {"calls": stats.total_calls, "cpu": cpu, "bytes": len(text.encode()), "heaviest": heaviest}  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    from gate.output.registry import FORMATS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("verdict", type=Path)
    ap.add_argument("input", type=Path)
    ap.add_argument("--formats", default=",".join(FORMATS))
    ap.add_argument("--top", type=int, default=6)
    args = ap.parse_args(argv)
    verdict = json.loads(args.verdict.read_text(encoding="utf-8"))
    document = json.loads(args.input.read_text(encoding="utf-8"))
    print(f"{len(verdict['violations'])} violations, {len(verdict['warnings'])} warnings, {len(document['findings'])} findings")
    for name in [f.strip() for f in args.formats.split(",") if f.strip()]:
        got = profile(name, verdict, document, args.top)
        print(f"{name:20} {got['calls']:>10} calls {got['cpu']:8.3f} s CPU {got['bytes'] / 2**20:8.1f} MiB")
        for line in got["heaviest"]:
            print(f"{'':24}{line}")


if __name__ == "__main__":
    main()
