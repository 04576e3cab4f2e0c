#!/usr/bin/env python3
"""Time and memory the gate spends refusing hostile inputs (THREATS.md: "bounded time and memory").

Each case is written to a temporary folder and read by `gate.collect.read_report` (what
`gate evaluate` does for every report) in a fresh Python process, which reports its wall time
and its peak RSS, against a baseline: the same process after importing the readers and reading
one small real report. Prints a Markdown table.

Usage: python bench/hostile_bounds.py [--quick] [--keep DIR]
  --quick   skip the cases that write large files (the 300 MB sparse file is cheap and stays)
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SMALL = REPO / "tests" / "data" / "core" / "high.sarif"

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[3])
from gate.collect import read_report
from gate.errors import InputError
read_report(sys.argv[2])  # imports every reader, reads a small real report
unit = 1024 if sys.platform != "darwin" else 1024 * 1024
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / unit
started = time.perf_counter()
try:
    report = read_report(sys.argv[1])
    outcome = f"read: {len(report.result.findings)} findings, {len(report.result.components)} components"
except InputError as exc:
    outcome = f"exit {int(exc.exit_code)}: {str(exc).split(': ', 1)[-1][:90]}"
elapsed = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / unit
print(json.dumps({"outcome": outcome, "seconds": elapsed, "peak_mib": peak, "base_mib": base}))
"""


def sparse_300mb(path: Path) -> None:
    with path.open("wb") as fh:
        fh.write(b'{"version": "2.1.0", "runs": [')
        fh.truncate(300 * 10**6)


def nested_json(path: Path) -> None:
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000)


def nested_json_in_sarif(path: Path) -> None:
    deep = "[" * 100_000 + "0" + "]" * 100_000
    path.write_text('{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "properties": {"d": ' + deep + "}}]}")


def flat_array(path: Path) -> None:
    path.write_bytes(b"[" + b"0," * 999_999 + b"0]")


def million_results(path: Path) -> None:
    one = b'{"ruleId":"R","message":{"text":"m"}},'
    path.write_bytes(b'{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[' + one * 1_000_000 + one[:-1] + b"]}]}")


def billion_laughs(path: Path) -> None:
    ents = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    path.write_text(f'<?xml version="1.0"?>\n<!DOCTYPE bom [{ents}]>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.6">&l9;</bom>\n')


def nested_xml(path: Path) -> None:
    path.write_bytes(b'<?xml version="1.0"?>\n' + b"<a>" * 100_000 + b"</a>" * 100_000)


def duplicate_key_at_the_end(path: Path) -> None:
    item = b'{"ruleId":"R","message":{"text":"' + b"x" * 200 + b'"}},'
    path.write_bytes(b'{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[' + item * 200_000 + b'{"a":1,"a":2}]}]}')


def huge_number(path: Path) -> None:
    path.write_bytes(
        b'{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"m"},"rank":1'
        + b"0" * 100_000
        + b"}]}]}"
    )


def big_valid_string(path: Path) -> None:
    path.write_bytes(
        b'{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"message":{"text":"' + b"x" * 200_000_000 + b'"}}]}]}'
    )


CASES: list[tuple[str, Callable[[Path], None], str, bool]] = [
    ("300 MB file (sparse), over the 256 MiB limit", sparse_300mb, "huge.sarif", False),
    ("JSON nested 100,000 deep", nested_json, "deep.json", False),
    ("JSON nested 100,000 deep inside a SARIF property", nested_json_in_sarif, "deep.sarif", False),
    ("XML nested 100,000 deep", nested_xml, "deep.xml", False),
    ("XML billion laughs", billion_laughs, "laughs.xml", False),
    ("flat JSON array of 1,000,000 zeros", flat_array, "flat.json", False),
    ("integer of 100,000 digits", huge_number, "number.sarif", False),
    ("duplicate key after 200,000 results (48 MB)", duplicate_key_at_the_end, "dup.sarif", True),
    ("SARIF with 1,000,001 results, over the findings limit", million_results, "million.sarif", True),
    ("200 MB string in a valid SARIF (under the limit)", big_valid_string, "string.sarif", True),
]


def measure(path: Path) -> dict[str, object]:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path), str(SMALL), str(REPO)], capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        return {
            "outcome": f"process failed ({proc.returncode}): {proc.stderr.strip().splitlines()[-1][:90]}",
            "seconds": float("nan"),
            "peak_mib": float("nan"),
            "base_mib": float("nan"),
        }
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="skip the cases that write large files")
    parser.add_argument("--keep", type=Path, help="write the files here and keep them")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="hostile-bounds-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for title, make, name, large in CASES:
            if large and args.quick:
                continue
            path = work / name
            make(path)
            size = path.stat().st_size
            m = measure(path)
            rows.append((title, size, m))
            if not args.keep:
                path.unlink()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print("| case | file size | outcome | wall time | peak RSS | over baseline |")
    print("|---|---:|---|---:|---:|---:|")
    for title, size, m in rows:
        peak, base = float(m["peak_mib"]), float(m["base_mib"])  # type: ignore[arg-type]
        print(
            f"| {title} | {size / 1e6:,.1f} MB | {m['outcome']} | {float(m['seconds']):.3f} s | {peak:,.0f} MiB | {peak - base:+,.0f} MiB |"
        )  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
