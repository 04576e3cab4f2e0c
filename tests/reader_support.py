"""What the tests of the scanner-report readers share: a harness around one reader (read a
document under a fixed source name, expect a shape error there), the JSON documents that
detection is tried on, a corpus file's document (or the proof that the gate refuses it where the
parser stops), and the linear-time check at 10^5 results."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, DATA

from gate.collect import load_document, read_report
from gate.errors import ExitCode, InputError
from gate.model import Finding, ReadResult
from scanners.interface import ReportReader


def doc(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def by_line(result: ReadResult) -> dict[tuple[str, int], Finding]:
    return {(f.rule_id, f.location.start_line): f for f in result.findings if f.location and f.location.start_line}


class ReaderHarness:
    """One reader, reading documents as if from the file `source`."""

    def __init__(self, reader: ReportReader, source: str) -> None:
        self.reader, self.source = reader, source

    def read(self, document: Any) -> ReadResult:
        return self.reader.read(document, self.source)

    def shape_error(self, document: Any) -> InputError:
        """The input error (exit 3, naming the source) the document is refused with."""
        with pytest.raises(InputError) as info:
            self.read(document)
        assert info.value.file == self.source
        assert info.value.exit_code == ExitCode.INPUT
        return info.value


def json_documents() -> list[tuple[str, Any]]:
    """Every JSON document among the report samples and the corpus, with the folder it lies in."""
    docs = [(p.parent.name, doc(p)) for p in sorted(DATA.glob("*/*.json")) if p.parent.name in ("bandit", "semgrep", "pip_audit")]
    if CORPUS.is_dir():
        for path in sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in (".json", ".sarif")):
            try:
                document, media, _ = load_document(str(path))
            except InputError:
                continue
            if media == "json":
                docs.append((path.parent.name, document))
    return docs


def corpus_document(path: Path) -> Any | None:
    """The JSON document of a corpus file, or None when it is not one (a truncated report, a
    stream of documents): then the gate refuses it, naming the file and the parser's line:column."""
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        with pytest.raises(InputError) as info:
            read_report(str(path))
        assert info.value.file == str(path)
        assert info.value.position is not None
        assert (info.value.position.line, info.value.position.column) == (exc.lineno, exc.colno)
        return None


def repeated_results(path: Path, count: int) -> Any:
    """The report at `path` with its `results` repeated (shallow copies) up to `count`."""
    raw = doc(path)
    template = raw["results"]
    raw["results"] = [copy.copy(template[i % len(template)]) for i in range(count)]
    return raw


def assert_reads_in_linear_time(read: Callable[[Any], ReadResult], build: Callable[[int], Any], what: str = "results") -> ReadResult:
    """Read `build(20_000)` then `build(100_000)` (documents of that many findings): every one a
    finding in order, 100k in under 4 s, and five times the input in under twelve times the
    time (a quadratic step would take twenty-five). The 100k result, for the caller's own checks."""

    def timed(n: int) -> tuple[ReadResult, float]:
        document = build(n)
        started = time.perf_counter()
        result = read(document)
        return result, time.perf_counter() - started

    small, small_time = timed(20_000)
    assert len(small.findings) == 20_000
    del small
    result, elapsed = timed(100_000)
    assert len(result.findings) == 100_000
    assert result.findings[-1].index == 99_999
    assert elapsed < 4.0, f"100k {what} took {elapsed:.2f}s"
    assert elapsed < 12 * max(small_time, 0.01), f"20k: {small_time:.2f}s, 100k: {elapsed:.2f}s"
    return result
