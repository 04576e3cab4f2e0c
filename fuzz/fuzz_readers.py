#!/usr/bin/env python3
"""Fuzz the report and SBOM readers: whatever the bytes, the gate reads a report or refuses it
with an input error (exit 3); nothing else, ever. See fuzz/README.md.

The oracle (`check`), for one input:
- `gate.collect.read_document` (parse, detect, read: what `gate evaluate` runs after reading a
  file) returns a `Report` or raises `InputError` with exit code 3 and a message that names the
  input. Any other exception is a crash (in the gate it would be exit 6, an internal error).
- A report that was read becomes a policy input document (`gate.pipeline.prepare` with the
  shipped data) that is strict JSON (no NaN or Infinity) and valid UTF-8: what every engine must
  be able to load.

Two engines:
- atheris (libFuzzer, coverage-guided), when installed: byte-level mutations from libFuzzer
  mixed with structure-aware ones (a JSON value replaced by another type, an XML element or
  attribute changed), seeded with the repository's sample reports and the corpus.
- hypothesis, otherwise or with `--engine hypothesis`: the same mutations drawn by hypothesis,
  which shrinks a failure to a small example.

Usage: python fuzz/fuzz_readers.py [--seconds N] [--engine auto|atheris|hypothesis] [--seed N]
       [--crashes DIR] [--strict-known] [-- LIBFUZZER_ARGS...]
Exit status: 0 no crash; 1 a crash (the input is written to --crashes); 2 usage.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import random
import sys
import tempfile
import time
import traceback
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
SEED_SUFFIXES = (".json", ".sarif", ".xml")
MAX_SEED_BYTES = 64 * 1024

# Reader bugs found by fuzzing and reported to their owners, each pinned by a strict-xfail test
# (tests/threats/test_properties.py). Known crashes are counted, not fatal, unless
# --strict-known: the fuzzer keeps looking for new ones. Remove an entry when its bug is fixed
# (its xfail test then passes, and strict mode fails it, as a reminder).
KNOWN_READER_BUGS: dict[tuple[str, str, str], str] = {}


class Crash(Exception):
    """The oracle failed: the reader did something other than read or refuse."""


def known_bug(exc: BaseException) -> str | None:
    """The description of a known reader bug this exception is, else None."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return None
    last = frames[-1]
    rel = last.filename.replace(os.sep, "/")
    for (kind, suffix, function), what in KNOWN_READER_BUGS.items():
        if type(exc).__name__ == kind and rel.endswith(suffix) and last.name == function:
            return what
    return None


_DATA: dict[str, Any] | None = None


def _policy_data() -> dict[str, Any]:
    global _DATA
    if _DATA is None:
        from gate.policy import load_policy

        _DATA = dict(load_policy(str(REPO / "policies"), include_tests=False).data)
    return _DATA


def check(data: bytes, *, strict_known: bool = False, known: dict[str, int] | None = None) -> str:
    """Run the oracle on one input: "read", "refused" or "known" (a known reader bug); else raise Crash."""
    from gate.collect import Limits, read_document
    from gate.errors import ExitCode, InputError
    from gate.pipeline import Context, prepare

    name = "fuzz-input"
    try:
        report = read_document(data, name, limits=Limits(max_bytes=1 << 20))
    except InputError as exc:
        if exc.exit_code != ExitCode.INPUT or exc.file != name or not exc.message:
            raise Crash(f"an InputError without exit 3, the file name or a message: {exc!r}") from exc
        str(exc)  # renders
        return "refused"
    except Exception as exc:  # noqa: BLE001 - the oracle: anything else is the finding
        what = known_bug(exc)
        if what and not strict_known:
            if known is not None:
                known[what] = known.get(what, 0) + 1
            return "known"
        raise Crash(f"{type(exc).__name__}: {exc}") from exc
    context = Context(stage="default", time="2026-01-01T00:00:00Z", gate_version="fuzz")
    try:
        document = prepare([report], context=context, config_data=_policy_data()).document
        json.dumps(document, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except Exception as exc:  # noqa: BLE001 - the oracle
        raise Crash(f"the input document of a report that was read is not strict UTF-8 JSON: {type(exc).__name__}: {exc}") from exc
    return "read"


# --------------------------------------------------------------------------------------------
# Seeds and mutations


def seeds() -> list[bytes]:
    """The repository's sample reports, and the corpus's small ones when ../shared is present."""
    roots = [REPO / "tests" / "data", CORPUS]
    found: list[bytes] = []
    for root in roots:
        if not root.is_dir():
            continue
        for p in sorted(root.rglob("*")):
            if p.is_file() and p.suffix in SEED_SUFFIXES and 0 < p.stat().st_size <= MAX_SEED_BYTES:
                found.append(p.read_bytes())
    return found


_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    1.5,
    10**30,
    -(10**300),
    "",
    "x",
    "../../etc/passwd",
    "\n::add-mask::x",
    [],
    {},
    [None],
    {"a": None},
    [[]],
    [{}],
]
_XML_TEXT = ["", "x", "-1", "1e999", "99999999999999999999", "NaN", " ", "2.1", "../../etc", "\u202e"]


def _nodes(value: Any, out: list[tuple[Any, Any]]) -> None:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            for k, child in v.items():
                out.append((v, k))
                stack.append(child)
        elif isinstance(v, list):
            for i, child in enumerate(v):
                out.append((v, i))
                stack.append(child)


def mutate_json(data: bytes, rnd: random.Random) -> bytes | None:
    """Replace, delete or duplicate a few values of a JSON document (None if it is not JSON)."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return None
    nodes: list[tuple[Any, Any]] = []
    _nodes(doc, nodes)
    if not nodes:
        return None
    for _ in range(rnd.randint(1, 3)):
        parent, key = rnd.choice(nodes)
        try:
            r = rnd.random()
            if r < 0.7:
                parent[key] = copy.deepcopy(rnd.choice(_VALUES))
            elif r < 0.85:
                parent[key] = copy.deepcopy(rnd.choice(nodes)[0])  # another subtree
            elif isinstance(parent, dict):
                del parent[key]
            else:
                parent.pop(key)
        except (IndexError, KeyError, RecursionError):
            continue
    try:
        return json.dumps(doc).encode()
    except (ValueError, RecursionError):
        return None


def mutate_xml(data: bytes, rnd: random.Random) -> bytes | None:
    """Change a few texts, attributes or elements of an XML document (None if it is not XML)."""
    import defusedxml.ElementTree as DET

    try:
        root = DET.fromstring(data)
    except Exception:  # noqa: BLE001 - not XML (or not safe XML): not this mutator's input
        return None
    elements = list(root.iter())
    for _ in range(rnd.randint(1, 3)):
        el = rnd.choice(elements)
        r = rnd.random()
        if r < 0.35:
            el.text = rnd.choice(_XML_TEXT)
        elif r < 0.55 and el.attrib:
            el.set(rnd.choice(sorted(el.attrib)), rnd.choice(_XML_TEXT))
        elif r < 0.8 and len(el):
            el.remove(rnd.choice(list(el)))
        elif len(el):
            el.append(copy.deepcopy(rnd.choice(elements[:64])))
    return ET.tostring(root)


def mutate_bytes(data: bytes, rnd: random.Random) -> bytes:
    """Flip, insert, delete or truncate a few bytes."""
    buf = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        if not buf:
            break
        p = rnd.randrange(len(buf))
        r = rnd.random()
        if r < 0.35:
            buf[p] = rnd.randrange(256)
        elif r < 0.6:
            del buf[p : p + rnd.randint(1, 16)]
        elif r < 0.85:
            buf[p:p] = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 4)))
        else:
            del buf[p:]
    return bytes(buf)


def mutate(data: bytes, rnd: random.Random) -> bytes:
    """One structure-aware or byte-level mutation of a seed."""
    r = rnd.random()
    if r < 0.45:
        out = mutate_json(data, rnd)
        if out is not None:
            return out
    if r < 0.6:
        out = mutate_xml(data, rnd)
        if out is not None:
            return out
    return mutate_bytes(data, rnd)


# --------------------------------------------------------------------------------------------
# Engines


def save_crash(crashes: Path, data: bytes, message: str) -> Path:
    crashes.mkdir(parents=True, exist_ok=True)
    path = crashes / f"crash-{hashlib.sha256(data).hexdigest()[:16]}"
    path.write_bytes(data)
    path.with_suffix(".txt").write_text(message + "\n", encoding="utf-8")
    return path


def run_hypothesis(seconds: float, seed: int, crashes: Path, strict_known: bool) -> int:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st

    pool = seeds()
    known: dict[str, int] = {}
    counts = {"read": 0, "refused": 0, "known": 0}

    @st.composite
    def inputs(draw: Callable[..., Any]) -> bytes:
        data = draw(st.sampled_from(pool))
        rnd = random.Random(draw(st.integers(0, 2**32 - 1)))  # noqa: S311 - mutations, not secrets
        for _ in range(draw(st.integers(1, 3))):
            data = mutate(data, rnd)
        return data

    deadline = time.monotonic() + seconds
    batch = 0
    while time.monotonic() < deadline:

        @hseed(seed + batch)
        @settings(
            max_examples=200,
            deadline=None,
            database=None,
            derandomize=False,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        @given(inputs() | st.binary(max_size=256))
        def one(data: bytes) -> None:
            if time.monotonic() > deadline + 60:  # shrinking a crash may overrun; never forever
                return
            try:
                counts[check(data, strict_known=strict_known, known=known)] += 1
            except Crash as exc:
                exc.fuzz_input = data  # type: ignore[attr-defined]
                raise

        try:
            one()
        except Crash as exc:
            # hypothesis re-raises the shrunk example's error; it printed the example itself.
            data = getattr(exc, "fuzz_input", b"")
            print(f"CRASH (hypothesis, seed {seed + batch}): {exc}", file=sys.stderr)
            traceback.print_exception(exc.__cause__ or exc, file=sys.stderr)
            if data:
                print(f"input saved to {save_crash(crashes, data, str(exc))}", file=sys.stderr)
            return 1
        batch += 1
    report(counts, known, "hypothesis")
    return 0


def report(counts: dict[str, int], known: dict[str, int], engine: str) -> None:
    total = sum(counts.values())
    print(
        f"fuzz_readers ({engine}): {total} inputs, {counts['read']} read, {counts['refused']} refused (exit 3), "
        f"{counts['known']} known reader bugs; no crash"
    )
    for what, n in sorted(known.items()):
        print(f"  known reader bug hit {n} time(s): {what}")


def run_atheris(seconds: float, seed: int, crashes: Path, strict_known: bool, extra: list[str]) -> int:
    import atheris

    with atheris.instrument_imports(include=["gate", "scanners", "sbom"]):
        import gate.collect  # noqa: F401
        import gate.pipeline  # noqa: F401
        import sbom.registry  # noqa: F401
        import scanners.registry  # noqa: F401
    _policy_data()
    known: dict[str, int] = {}
    counts = {"read": 0, "refused": 0, "known": 0}
    work = Path(tempfile.mkdtemp(prefix="fuzz-readers-"))
    corpus = work / "corpus"
    corpus.mkdir()
    for i, data in enumerate(seeds()):
        (corpus / f"seed-{i:04d}").write_bytes(data)
    dictionary = work / "json-xml.dict"
    tokens = ['"runs"', '"results"', '"version"', '"2.1.0"', '"kind"', '"level"', '"errors"', '"vulnerabilities"', '"components"',
              '"bomFormat"', '"CycloneDX"', '"spdxVersion"', '"statements"', '"status"', "null", "true", "NaN", "1e400", "\\ud800",
              "<bom>", "</bom>", "<!DOCTYPE", "&", "<![CDATA["]  # fmt: skip
    dictionary.write_text("".join(f"{json.dumps(t)}\n" for t in tokens))
    rnd = random.Random(seed)  # noqa: S311 - mutations, not secrets
    crashes.mkdir(parents=True, exist_ok=True)

    deadline = time.monotonic() + seconds

    def one(data: bytes) -> None:
        try:
            counts[check(data, strict_known=strict_known, known=known)] += 1
        except Crash as exc:
            print(f"CRASH (atheris): {exc}", file=sys.stderr)
            traceback.print_exception(exc.__cause__ or exc, file=sys.stderr)
            raise
        if time.monotonic() > deadline:
            # libFuzzer leaves through C exit(), past Python's atexit: say how it went, then stop.
            report(counts, known, "atheris")
            sys.stdout.flush()
            os._exit(0)

    def mutator(data: bytes, max_size: int, mseed: int) -> bytes:
        if rnd.random() < 0.5:
            return atheris.Mutate(data, max_size)
        return mutate(data, random.Random(mseed))[:max_size]  # noqa: S311

    args = [
        sys.argv[0],
        f"-max_total_time={int(seconds) + 60}",  # a backstop: `one` stops the run at the deadline
        f"-seed={seed or 1}",
        "-rss_limit_mb=3072",
        "-timeout=30",
        f"-max_len={MAX_SEED_BYTES}",
        f"-artifact_prefix={crashes}/",
        f"-dict={dictionary}",
        "-print_final_stats=0",
        *extra,
        str(corpus),
    ]
    atheris.Setup(args, one, custom_mutator=mutator)
    atheris.Fuzz()  # never returns: `one` exits when the time is up, libFuzzer with non-zero on a crash
    return 1


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1 :]
    parser = argparse.ArgumentParser(description="Fuzz the gate's report and SBOM readers.")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long to fuzz (default 10)")
    parser.add_argument("--engine", choices=["auto", "atheris", "hypothesis"], default="auto", help="auto: atheris when installed")
    parser.add_argument("--seed", type=int, default=0, help="random seed (reproducible runs)")
    parser.add_argument("--crashes", type=Path, default=REPO / "fuzz" / "crashes", help="where crashing inputs are written")
    parser.add_argument("--strict-known", action="store_true", help="treat the known reader bugs as crashes too")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "hypothesis"
    if engine == "atheris":
        return run_atheris(args.seconds, args.seed, args.crashes, args.strict_known, extra)
    return run_hypothesis(args.seconds, args.seed, args.crashes, args.strict_known)


if __name__ == "__main__":
    sys.exit(main())
