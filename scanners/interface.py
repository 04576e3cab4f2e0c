"""The report-reader family: one abstract base, one module per tool or format.

A reader is handed a document that `gate.collect` already parsed safely (JSON: a Python value;
XML: an `xml.etree.ElementTree.Element`), never a file. It says whether the document is of its
format (`detect`, a cheap structural look) and turns it into a `ReadResult` or raises
`InputError` naming the source and what is wrong. It never returns "no findings" for a document
it did not understand.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar

from gate.errors import InputError
from gate.model import ReadResult, ShapeError


class ReportReader(ABC):
    """Reads one native report format into the shared model."""

    format: ClassVar[str]
    """The format's name, as `--as` takes it and `scans[].format` shows it."""

    media: ClassVar[str] = "json"
    """`json` or `xml`: what kind of parsed document `detect` and `read` receive."""

    @abstractmethod
    def detect(self, doc: Any) -> bool:
        """True when `doc` is (or claims to be) of this format, judged by its structure alone."""

    @abstractmethod
    def read(self, doc: Any, source: str) -> ReadResult:
        """Build the model from `doc`, or raise `InputError(file=source)` saying what is wrong."""


def read_checked(read: Callable[[Any], ReadResult], doc: Any, source: str, report: str) -> ReadResult:
    """`read(doc)` by a reader that raises `gate.model.ShapeError` for a document of the wrong
    shape: that becomes the `InputError` "not a valid <report> report: <path> <problem>", naming
    `source`."""
    try:
        return read(doc)
    except ShapeError as exc:
        raise InputError(f"not a valid {report} report: {exc}", file=source) from None
