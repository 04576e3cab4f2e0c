#!/usr/bin/env python3
"""Matching SBOM components against the full PyPI advisory database (gate vulndb).

Builds the database from ../shared/vulndb/pypa-advisory-database (the PyPA snapshot, 2,661 OSV
YAML records) with `gate.vulndb.store.update` and prints the index build time, the index load
time (`store.load`: read, SHA-256 check, JSON parse) and the time `gate.vulndb.match.audit`
takes to match N components (default 5,000), first run (cold version caches) and the best of
the following runs. The target is under one second for 5,000 components once the index is built.

The components are deterministic: half are packages the database knows, at versions taken from
the records' own range events and version lists (so most ranges are evaluated at a boundary), half
are names it does not know (most of a real project's dependencies have no advisory).

Usage: python bench/vulndb.py [--components N] [--runs R] [--source DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gate.model import Component  # noqa: E402
from gate.vulndb import store  # noqa: E402
from gate.vulndb.match import audit  # noqa: E402


def components(db: store.Database, count: int, seed: int = 15) -> list[tuple[Component, str]]:
    """`count` PyPI components: half known to the database (at its own versions), half unknown."""
    rng = random.Random(seed)  # noqa: S311 - deterministic test data, not secrets
    known: list[tuple[str, str]] = []
    for name, entries in sorted(db.packages.get("PyPI", {}).items()):
        for _, entry in entries:
            for r in entry["ranges"]:
                known.extend((name, v) for _, v in r["events"] if v != "0")
            known.extend((name, v) for v in entry["versions"][:3])
    rng.shuffle(known)
    out = []
    for i in range(count):
        if i % 2 == 0 and known:
            name, version = known[(i // 2) % len(known)]
        else:
            name, version = f"unlisted-package-{i}", f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
        out.append((Component(name=name, version=version, purl=f"pkg:pypi/{name}@{version}"), "sbom.cdx.json"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--components", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--source", default=str(REPO.parent / "shared" / "vulndb" / "pypa-advisory-database"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_dir = Path(tmp) / "vulndb"
        t0 = time.perf_counter()
        manifest = store.update(db_dir, source=args.source)
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        db = store.load(db_dir)
        load = time.perf_counter() - t0
        index_bytes = (db_dir / store.INDEX).stat().st_size
        comps = components(db, args.components)
        times, cpu = [], []
        result = None
        for _ in range(1 + args.runs):
            c0, t0 = time.process_time(), time.perf_counter()
            result = audit(comps, db, age_note="bench", gate_version="bench")
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    assert result is not None
    rows = [
        ("records", f"{manifest.records} ({manifest.withdrawn} withdrawn left out)"),
        ("index", f"{index_bytes / 1024 / 1024:.1f} MiB"),
        ("index build (gate vulndb update)", f"{build:.2f} s"),
        ("index load (read, SHA-256, parse)", f"{load * 1000:.0f} ms"),
        (f"match {len(comps)} components, first run (wall / CPU)", f"{times[0] * 1000:.0f} ms / {cpu[0] * 1000:.0f} ms"),
        (
            f"match {len(comps)} components, best of {args.runs} (wall / CPU)",
            f"{min(times[1:]) * 1000:.0f} ms / {min(cpu[1:]) * 1000:.0f} ms",
        ),
        ("findings / affected components / unmatched", f"{len(result.findings)} / {result.affected_components} / {len(result.unmatched)}"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"| {'what'.ljust(width)} | figure |")
    print(f"|{'-' * (width + 2)}|--------|")
    for what, figure in rows:
        print(f"| {what.ljust(width)} | {figure} |")
    verdict = "under" if times[0] < 1.0 else "OVER"
    figures = {"build_s": build, "load_s": load, "match_first_s": times[0], "match_first_cpu_s": cpu[0], "match_best_s": min(times[1:])}
    print(json.dumps({k: round(v, 3) for k, v in figures.items()}))
    print(
        f"first match: {times[0]:.3f} s wall, {cpu[0]:.3f} s CPU ({verdict} the one-second target); "
        f"with the index load: {load + times[0]:.3f} s"
    )
    if os.getloadavg()[0] > (os.cpu_count() or 1):
        print(f"note: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs: wall times are inflated, CPU times less so")


if __name__ == "__main__":
    main()
