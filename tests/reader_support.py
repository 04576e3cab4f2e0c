"""What the tests of the scanner-report readers share: a harness around one reader (read a
document under a fixed source name, expect a shape error there) and the JSON documents that
detection is tried on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, DATA

from gate.collect import load_document
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
