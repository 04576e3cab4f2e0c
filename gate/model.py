"""The shared model: what every reader returns, whatever the tool or format.

Readers (`scanners/`, `sbom/`) build these immutable objects from a parsed document or raise
`gate.errors.InputError`; an object that exists is valid. The pipeline turns them into the
policy input document (`gate.input/v1`), adding what needs the whole run: fingerprints,
cross-tool duplicates, baseline state, waivers and VEX.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

SEVERITIES: Final = ("critical", "high", "medium", "low", "info", "unknown")
"""Severity scale of the input document, most severe first."""

CONFIDENCES: Final = ("high", "medium", "low", "unknown")

KINDS: Final = ("sast", "dependency", "secret", "iac", "license", "other")
"""What a finding is about."""

VEX_STATES: Final = (
    "resolved",
    "resolved_with_pedigree",
    "exploitable",
    "in_triage",
    "false_positive",
    "not_affected",
)


def severity_from_score(score: float) -> str:
    """Map a CVSS-like score (SARIF `security-severity`) to a severity by half-open bands.

    [9.0, 10] critical, [7.0, 9.0) high, [4.0, 7.0) medium, (0, 4.0) low, 0 info. A score
    outside [0, 10] or not a number cannot be mapped and is `unknown`.
    """
    if score != score or score < 0 or score > 10:  # NaN or out of range
        return "unknown"
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    if score > 0:
        return "low"
    return "info"


@dataclass(frozen=True, slots=True)
class Location:
    """A place in the scanned tree. `path` is the tool's text, never resolved or opened."""

    path: str | None
    start_line: int | None = None
    end_line: int | None = None
    start_column: int | None = None
    end_column: int | None = None


@dataclass(frozen=True, slots=True)
class Package:
    """The dependency a finding is about."""

    name: str | None
    version: str | None = None
    purl: str | None = None
    fixed_versions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Finding:
    """One finding as a tool reported it, normalised.

    `index` is the finding's position in its source document (0-based, in reading order).
    `fingerprint_hint` is a tool's own stable fingerprint where it gives one (SARIF
    `partialFingerprints`/`fingerprints`); `snippet` is the code text the tool quoted. Both only
    feed the gate's fingerprint and are not part of the input document as such.
    """

    tool: str
    rule_id: str
    severity: str
    message: str
    index: int
    kind: str = "other"
    tool_version: str | None = None
    rule_name: str | None = None
    confidence: str = "unknown"
    location: Location | None = None
    cwe: tuple[str, ...] = ()
    cve: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    package: Package | None = None
    suppressed: bool = False
    suppressions: tuple[str, ...] = ()
    fingerprint_hint: str | None = None
    snippet: str | None = None
    help_uri: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Component:
    """One SBOM component (CycloneDX component, nested ones included, or SPDX package)."""

    name: str
    version: str | None = None
    purl: str | None = None
    type: str | None = None
    licenses: tuple[str, ...] = ()
    scope: str | None = None
    direct: bool | None = None
    hashes: tuple[tuple[str, str], ...] = ()
    bom_ref: str | None = None


@dataclass(frozen=True, slots=True)
class VexStatement:
    """An exploitability statement about a vulnerability in a product (CycloneDX analysis, OpenVEX)."""

    vulnerability: str
    state: str
    products: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    justification: str | None = None
    detail: str | None = None
    response: tuple[str, ...] = ()
    source: str | None = None
    timestamp: str | None = None


@dataclass(frozen=True, slots=True)
class ReadResult:
    """What a reader made of one document.

    `complete` is False when the tool itself reported that its scan did not complete (bandit or
    semgrep `errors`, SARIF `executionSuccessful: false`, pip-audit `skip_reason`); `errors`
    then holds the tool's own text. `statistics` counts what is not a finding (for example SARIF
    results of kind `pass` or `notApplicable`).
    """

    format: str
    tool: str
    tool_version: str | None
    findings: tuple[Finding, ...] = ()
    components: tuple[Component, ...] = ()
    vex: tuple[VexStatement, ...] = ()
    complete: bool = True
    errors: tuple[str, ...] = ()
    statistics: dict[str, int] = field(default_factory=dict)
    spec_version: str | None = None
    subject: str | None = None


def as_text(value: Any) -> str | None:
    """A scalar from a document as text (None stays None); containers are not text."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return None
