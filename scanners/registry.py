"""The report readers, listed by hand (no discovery). Order is detection order."""

from __future__ import annotations

from scanners.bandit import BanditReader
from scanners.interface import ReportReader
from scanners.pip_audit import PipAuditReader
from scanners.sarif import SarifReader
from scanners.semgrep import SemgrepReader

READERS: tuple[ReportReader, ...] = (
    SarifReader(),
    PipAuditReader(),
    SemgrepReader(),
    BanditReader(),
)

FORMATS: tuple[str, ...] = tuple(r.format for r in READERS)
