"""The SBOM-reader family: one abstract base, one module per format.

Same contract as `scanners.interface.ReportReader`: the document arrives parsed, the reader
detects its format by structure and returns a `ReadResult` (components, and vulnerabilities and
VEX where the SBOM carries them) or raises `InputError` naming the source and what is wrong.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from gate.model import ReadResult


class SbomReader(ABC):
    """Reads one SBOM format into the shared model."""

    format: ClassVar[str]
    media: ClassVar[str] = "json"

    @abstractmethod
    def detect(self, doc: Any) -> bool:
        """True when `doc` is (or claims to be) of this format, judged by its structure alone."""

    @abstractmethod
    def read(self, doc: Any, source: str) -> ReadResult:
        """Build the model from `doc`, or raise `InputError(file=source)` saying what is wrong."""
