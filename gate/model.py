"""The shared model: what every reader returns, whatever the tool or format.

Readers (`scanners/`, `sbom/`) build these immutable objects from a parsed document or raise
`gate.errors.InputError`; an object that exists is valid. The pipeline turns them into the
policy input document (`gate.input/v1`), adding what needs the whole run: fingerprints,
cross-tool duplicates, baseline state, waivers and VEX.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    version_range: str | None = None
    """A component without a version: the versions it admits, as a `vers` range
    (`vers:pypi/>=1.26|<3`; CycloneDX 1.7 `versionRange`, or a requirement line's specifier)."""


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

    `hidden_suppressions` is how many results the tool says it left out of the report because
    an inline suppression (`# nosec`, `# nosemgrep`) asked it to: 0 when it left out none (or
    kept them, marked), None when the format cannot tell (semgrep's JSON drops `# nosemgrep`
    results without a trace). The policy treats a report that hid results, or cannot say, as
    an incomplete scan unless the data honours inline suppressions.
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
    hidden_suppressions: int | None = 0


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


# --------------------------------------------------------------------------------------------
# Reading parsed documents: typed access that names the JSON path of what is wrong.
#
# Every reader checks the shape of what it reads the same way. These accessors take the object,
# the key and the path of the object, and build the path text only when something is wrong (a
# report may hold a hundred thousand results). A reader catches ShapeError once and turns it
# into an InputError naming its file.


class ShapeError(ValueError):
    """A document of the wrong shape: `path` names the JSON location, `problem` what is wrong."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path} {problem}")
        self.path = path
        self.problem = problem


def type_name(value: Any) -> str:
    """The JSON type of a parsed value, as a message names it ("an array", "null")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def at(base: str, key: str) -> str:
    """The JSON path of `key` inside the object at `base` ("" is the document)."""
    return f"{base}.{key}" if base else key


def is_int(value: Any) -> bool:
    """An integer that is not a boolean."""
    return isinstance(value, int) and not isinstance(value, bool)


def req(obj: Mapping[str, Any], key: str, base: str) -> Any:
    """obj[key], which must be present."""
    if key not in obj:
        raise ShapeError(at(base, key), "is missing")
    return obj[key]


def req_str(obj: Mapping[str, Any], key: str, base: str) -> str:
    """obj[key], a string that must be present."""
    value = req(obj, key, base)
    if not isinstance(value, str):
        raise ShapeError(at(base, key), f"must be a string, not {type_name(value)}")
    return value


def opt_str(obj: Mapping[str, Any], key: str, base: str) -> str | None:
    """obj[key] when it is a string, None when absent or null."""
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ShapeError(at(base, key), f"must be a string, not {type_name(value)}")


def req_int(obj: Mapping[str, Any], key: str, base: str) -> int:
    """obj[key], an integer that must be present."""
    value = req(obj, key, base)
    if not is_int(value):
        raise ShapeError(at(base, key), f"must be an integer, not {type_name(value)}")
    return int(value)


def opt_int(obj: Mapping[str, Any], key: str, base: str) -> int | None:
    """obj[key] when it is an integer, None when absent or null."""
    value = obj.get(key)
    if value is None or is_int(value):
        return value if value is None else int(value)
    raise ShapeError(at(base, key), f"must be an integer, not {type_name(value)}")


def req_obj(obj: Mapping[str, Any], key: str, base: str) -> dict[str, Any]:
    """obj[key], an object that must be present."""
    value = req(obj, key, base)
    if not isinstance(value, dict):
        raise ShapeError(at(base, key), f"must be an object, not {type_name(value)}")
    return value


def opt_obj(obj: Mapping[str, Any], key: str, base: str) -> dict[str, Any] | None:
    """obj[key] when it is an object, None when absent or null."""
    value = obj.get(key)
    if value is None or isinstance(value, dict):
        return value
    raise ShapeError(at(base, key), f"must be an object, not {type_name(value)}")


def opt_list(obj: Mapping[str, Any], key: str, base: str) -> list[Any]:
    """obj[key] when it is an array, [] when absent or null."""
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise ShapeError(at(base, key), f"must be an array, not {type_name(value)}")
    return value


def strings(obj: Mapping[str, Any], key: str, base: str) -> list[str]:
    """obj[key], an array of strings ([] when absent or null)."""
    value = opt_list(obj, key, base)
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise ShapeError(f"{at(base, key)}[{i}]", f"must be a string, not {type_name(item)}")
    return value


def objects(obj: Mapping[str, Any], key: str, base: str) -> list[dict[str, Any]]:
    """obj[key], an array of objects ([] when absent or null)."""
    value = opt_list(obj, key, base)
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise ShapeError(f"{at(base, key)}[{i}]", f"must be an object, not {type_name(item)}")
    return value
