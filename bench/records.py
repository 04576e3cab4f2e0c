"""Typed records at 10^5 findings: TypedDicts (plain dicts) against frozen slotted dataclasses.

    python bench/records.py [--n 100000] [--runs 3]

The choice behind `gate/records.py` (issue 18). Each contender builds N finding records of the
input document's shape (nested location, package and source records), marks them as the
pipeline does (a baseline state on each, a duplicate link on a tenth, a waiver on a twentieth:
in place for the dicts, `dataclasses.replace` for the frozen dataclasses), and encodes the
document with orjson as the runner and the JSON outputs do. Reported: the median seconds of
each phase and the peak memory the records add (tracemalloc), for both contenders.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import orjson

from gate.records import FindingRecord


@dataclasses.dataclass(frozen=True, slots=True)
class _Location:
    path: str | None
    start_line: int | None
    end_line: int | None
    start_column: int | None
    end_column: int | None


@dataclasses.dataclass(frozen=True, slots=True)
class _Source:
    path: str
    format: str
    index: int


@dataclasses.dataclass(frozen=True, slots=True)
class _Waiver:
    id: str
    reason: str
    approved_by: str
    expires: str
    ticket: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class _Finding:
    id: str
    tool: str
    tool_version: str | None
    rule_id: str
    rule_name: str | None
    kind: str
    severity: str
    confidence: str
    message: str
    location: _Location | None
    cwe: tuple[str, ...]
    cve: tuple[str, ...]
    aliases: tuple[str, ...]
    package: None
    suppressed: bool
    duplicates: tuple[str, ...]
    test_code: bool
    baseline: str
    source: _Source
    waiver: _Waiver | None
    vex: None
    help_uri: str | None


def _dicts(n: int) -> list[FindingRecord]:
    return [
        {
            "id": f"{i:016x}",
            "tool": "bandit",
            "tool_version": "1.9.0",
            "rule_id": f"B{i % 700}",
            "rule_name": "subprocess_popen_with_shell_equals_true",
            "kind": "sast",
            "severity": "high",
            "confidence": "medium",
            "message": f"subprocess call with shell=True identified, security issue ({i})",
            "location": {
                "path": f"app/mod{i % 4000}.py",
                "start_line": i % 300 + 1,
                "end_line": i % 300 + 2,
                "start_column": 4,
                "end_column": 40,
            },
            "cwe": ["CWE-78"],
            "cve": [],
            "aliases": [],
            "package": None,
            "suppressed": False,
            "duplicates": [],
            "test_code": False,
            "baseline": "unknown",
            "source": {"path": "bandit.json", "format": "bandit", "index": i},
            "waiver": None,
            "vex": None,
            "help_uri": "https://bandit.readthedocs.io/en/latest/plugins/b602.html",
        }
        for i in range(n)
    ]


def _dataclasses(n: int) -> list[_Finding]:
    return [
        _Finding(
            id=f"{i:016x}",
            tool="bandit",
            tool_version="1.9.0",
            rule_id=f"B{i % 700}",
            rule_name="subprocess_popen_with_shell_equals_true",
            kind="sast",
            severity="high",
            confidence="medium",
            message=f"subprocess call with shell=True identified, security issue ({i})",
            location=_Location(f"app/mod{i % 4000}.py", i % 300 + 1, i % 300 + 2, 4, 40),
            cwe=("CWE-78",),
            cve=(),
            aliases=(),
            package=None,
            suppressed=False,
            duplicates=(),
            test_code=False,
            baseline="unknown",
            source=_Source("bandit.json", "bandit", i),
            waiver=None,
            vex=None,
            help_uri="https://bandit.readthedocs.io/en/latest/plugins/b602.html",
        )
        for i in range(n)
    ]


def _mark_dicts(findings: list[FindingRecord]) -> list[FindingRecord]:
    for i, f in enumerate(findings):
        f["baseline"] = "new"
        if i % 10 == 0 and i + 1 < len(findings):
            f["duplicates"].append(findings[i + 1]["id"])
        if i % 20 == 0:
            f["waiver"] = {"id": "W-1", "reason": "accepted", "approved_by": "sec", "expires": "2027-01-01", "ticket": None}
    return findings


def _mark_dataclasses(findings: list[_Finding]) -> list[_Finding]:
    out = []
    waiver = _Waiver("W-1", "accepted", "sec", "2027-01-01", None)
    for i, f in enumerate(findings):
        f = dataclasses.replace(f, baseline="new")
        if i % 10 == 0 and i + 1 < len(findings):
            f = dataclasses.replace(f, duplicates=(*f.duplicates, findings[i + 1].id))
        if i % 20 == 0:
            f = dataclasses.replace(f, waiver=waiver)
        out.append(f)
    return out


def _run(name: str, build: Callable[[int], list[Any]], mark: Callable[[Any], list[Any]], n: int, runs: int) -> dict[str, float]:
    phases: dict[str, list[float]] = {"build": [], "mark": [], "encode": []}
    size = 0
    for _ in range(runs):
        t0 = time.perf_counter()
        built = build(n)
        t1 = time.perf_counter()
        marked = mark(built)
        t2 = time.perf_counter()
        size = len(orjson.dumps({"findings": marked}))
        t3 = time.perf_counter()
        phases["build"].append(t1 - t0)
        phases["mark"].append(t2 - t1)
        phases["encode"].append(t3 - t2)
        del built, marked
    tracemalloc.start()
    kept = mark(build(n))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del kept
    out = {k: statistics.median(v) for k, v in phases.items()}
    out["total"] = sum(out.values())
    out["peak_mib"] = peak / 2**20
    print(
        f"{name:12} build {out['build']:.3f}s  mark {out['mark']:.3f}s  encode {out['encode']:.3f}s  "
        f"total {out['total']:.3f}s  peak {out['peak_mib']:.0f} MiB  ({size / 2**20:.0f} MiB of JSON)"
    )
    return out


def main(argv: list[str] | None = None) -> None:
    """Time both contenders and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    print(f"{args.n} findings, median of {args.runs} runs")
    _run("TypedDict", _dicts, _mark_dicts, args.n, args.runs)
    _run("dataclass", _dataclasses, _mark_dataclasses, args.n, args.runs)


if __name__ == "__main__":
    main()
