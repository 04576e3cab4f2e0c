"""The gate's records: the input document (`gate.input/v1`) and the verdict (`gate.verdict/v1`), typed.

They are TypedDicts, not dataclasses: at run time each record is the plain dict the pipeline
always built, so 10^5 findings cost what they cost before and orjson encodes them directly; the
types are for mypy, which now checks every key the pipeline, the verdict and the formatters
read or write. (`bench/records.py` measures the alternative: frozen slotted dataclasses, rebuilt
with `dataclasses.replace` for each in-place mark, cost more to build and to encode at 10^5.)

Each record names the schema object it is (`tests/test_records.py` checks the keys and the
required keys against `gate/schemas/`, so a schema change without a type change fails). A record
is written as two classes where some keys may be absent: the base holds the keys that are always
there, the `total=False` subclass the rest (Python 3.10 has no `NotRequired`).

Values a record takes from other rooms as they come (the vulnerability database's report, the
policy data, a waiver's scope) are `JsonObject`: a JSON object whose shape another schema owns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict

JsonObject = dict[str, Any]
"""A JSON object whose shape is owned elsewhere (another room's schema), carried as it is."""

# ------------------------------------------------------------------------------------------
# The input document (gate/schemas/input.schema.json)


class ContextRecord(TypedDict):
    """`input.context`: who and when."""

    stage: str
    repository: str | None
    ref: str | None
    commit: str | None
    pull_request: int | None
    time: str
    gate_version: str


class LocationRecord(TypedDict):
    """`input.findings[].location`."""

    path: str | None
    start_line: int | None
    end_line: int | None
    start_column: int | None
    end_column: int | None


class PackageRecord(TypedDict):
    """`input.findings[].package`."""

    name: str | None
    version: str | None
    purl: str | None
    fixed_versions: list[str]


class FindingSource(TypedDict):
    """`input.findings[].source`: the report a finding was read from, and where in it."""

    path: str
    format: str
    index: int


class WaiverMark(TypedDict):
    """`input.findings[].waiver`: the waiver that covers the finding."""

    id: str
    reason: str
    approved_by: str
    expires: str
    ticket: str | None


class VexMark(TypedDict):
    """`input.findings[].vex`: the VEX statement about the finding."""

    state: str
    justification: str | None
    detail: str | None
    response: list[str]
    source: str | None


class FindingRecord(TypedDict):
    """`input.findings[]`: one finding, normalised. The pipeline marks `duplicates`,
    `baseline`, `waiver` and `vex`; nothing else changes after it is built."""

    id: str
    tool: str
    tool_version: str | None
    rule_id: str
    rule_name: str | None
    kind: str
    severity: str
    confidence: str
    message: str
    location: LocationRecord | None
    cwe: list[str]
    cve: list[str]
    aliases: list[str]
    package: PackageRecord | None
    suppressed: bool
    duplicates: list[str]
    test_code: bool
    baseline: Literal["new", "existing", "unknown"]
    source: FindingSource
    waiver: WaiverMark | None
    vex: VexMark | None
    help_uri: str | None


class ComponentSource(TypedDict):
    """`input.components[].source`."""

    path: str
    format: str


class ComponentRecord(TypedDict):
    """`input.components[]`: one SBOM component."""

    name: str
    version: str | None
    purl: str | None
    type: str | None
    licenses: list[str]
    scope: str | None
    direct: bool | None
    hashes: dict[str, str]
    bom_ref: str | None
    source: ComponentSource


class _ScanBase(TypedDict):
    path: str
    sha256: str | None
    format: str
    tool: str
    tool_version: str | None
    complete: bool
    errors: list[str]
    findings: int
    components: int


class ScanRecord(_ScanBase, total=False):
    """`input.scans[]`: one report read (the reader's counts, and whether it is complete).
    Scans the gate records itself (the vulnerability database, `gate run`'s) may leave out the
    reader's statistics."""

    spec_version: str | None
    vex: int
    statistics: dict[str, int]
    hidden_suppressions: int | None


class UnscannedRecord(TypedDict):
    """`input.unscanned[]` (and the verdict's): a source file no code scanner covered."""

    path: str
    reason: str
    test_code: bool


class ConstantPickleRecord(TypedDict):
    """`input.constant_pickles[]`: a finding in test code on a call the gate proved loads only
    constant data pickles (scanners.run.constant_pickles)."""

    finding: str
    path: str
    line: int
    imports: list[str]


class _WaiverEntryBase(TypedDict):
    id: str
    reason: str
    approved_by: str
    expires: str
    ends: str
    ticket: str | None
    expired: bool
    expiring: bool


class WaiverEntry(_WaiverEntryBase, total=False):
    """`input.waivers[]`, and the verdict's `waivers_expired`, `waivers_unused`, `waivers_expiring`:
    a validated waiver with its scope; the verdict's lists add where it is and what it covers."""

    finding: str
    rule: str
    path: str
    package: str
    vulnerability: str
    file: str
    line: int | None
    findings: list[str]
    days_left: int


class _InputDocumentBase(TypedDict):
    schema: str
    context: ContextRecord
    findings: list[FindingRecord]
    components: list[ComponentRecord]
    scans: list[ScanRecord]
    waivers: list[WaiverEntry]


class InputDocument(_InputDocumentBase, total=False):
    """The policy input document (`gate.input/v1`): what Rego sees as `input`."""

    policy_source: JsonObject
    constant_pickles: list[ConstantPickleRecord]
    unscanned: list[UnscannedRecord]
    vulndb: JsonObject


# ------------------------------------------------------------------------------------------
# The verdict (gate/schemas/verdict.schema.json)


class Evidence(TypedDict):
    """`violations[].evidence`: what the rule cites, each list sorted."""

    findings: list[str]
    components: list[str]
    scans: list[str]
    details: list[str]


class _EntryBase(TypedDict):
    rule: str
    title: str
    severity: str
    control: str
    msg: str
    remediation: str
    evidence: Evidence
    effective_on: str | None


class Entry(_EntryBase, total=False):
    """`violations[]` and `warnings[]`: one thing a rule said, joined to its METADATA."""

    not_yet_effective: bool


class NotApplicable(TypedDict):
    """`not_applicable[]`: a rule that fired but is not meant for this stage."""

    rule: str
    stages: list[str]


class _WaivedBase(TypedDict):
    finding: str
    waiver: str
    reason: str | None
    approved_by: str | None
    expires: str | None
    ticket: str | None
    rule_id: str | None
    tool: str | None
    path: str | None


class WaivedRecord(_WaivedBase, total=False):
    """`waived[]`: a finding a waiver (or a suppressing VEX state) covers. `linked_to`: the
    waived finding a waiver came from to cover this one; the VEX keys when `by` is `vex`."""

    linked_to: str
    by: str
    vulnerability: str | None
    state: str | None
    justification: str | None
    source: str | None


class VexApplied(TypedDict):
    """`vex[]`: a VEX statement applied to a finding."""

    finding: str
    vulnerability: str
    products: list[str]
    state: str
    justification: str | None
    detail: str | None
    response: list[str]
    source: str | None


class _SummaryBase(TypedDict):
    violations: int
    warnings: int
    findings: int
    components: int
    waived: int
    inputs: int


class Summary(_SummaryBase):
    """`summary`: the counts every format shows."""

    findings_by_severity: dict[str, int]


class InputSummary(_ScanBase):
    """`inputs[]`: one report read, as the verdict lists it (the keys every `input.scans[]` has)."""


class PolicyInfo(TypedDict):
    """`policy`: which policies judged, by path and digest."""

    path: str
    source: str
    digest: str
    revision: str | None


class EngineInfo(TypedDict):
    """`engine`: which engine evaluated."""

    name: str
    version: str


class ErrorPosition(TypedDict, total=False):
    """`error.position`: where in the file (only what is known)."""

    line: int
    column: int
    offset: int


class ErrorRecord(TypedDict):
    """`error`: why an error verdict is one."""

    kind: str
    message: str
    file: str | None
    position: ErrorPosition | None
    exit_code: int
    hint: str | None


class CompactFinding(TypedDict):
    """`findings{id}`: a finding the verdict cites, with what the formats show of it."""

    tool: str
    rule_id: str
    rule_name: str | None
    kind: str
    severity: str
    message: str
    location: LocationRecord | None
    package: PackageRecord | None
    cwe: list[str]
    test_code: bool
    baseline: str
    duplicates: list[str]
    waiver: WaiverMark | None
    vex: VexMark | None
    help_uri: str | None
    source: FindingSource


class RuleRecord(TypedDict):
    """`rules{id}`: a rule's METADATA."""

    id: str
    title: str
    description: str
    severity: str
    control: str
    remediation: str
    package: str
    decision: str
    file: str
    line: int
    effective_on: str | None
    stages: list[str] | None
    related_resources: list[str]


class _NotUsedBase(TypedDict):
    path: str
    kind: str
    change: str


class NotUsedRecord(_NotUsedBase, total=False):
    """`not_used[]`: a change to a governing file in the work tree that the trusted ref overrode."""

    reason: str


class ReportOnly(TypedDict):
    """`report_only`: `--fail-on never`'s record of the exit code the verdict would have had."""

    would_exit_code: int


class _VerdictBase(TypedDict):
    schema: str
    decision: Literal["pass", "fail", "error"]
    exit_code: int
    summary: Summary
    violations: list[Entry]
    warnings: list[Entry]
    waived: list[WaivedRecord]
    waivers_expired: list[WaiverEntry]
    waivers_unused: list[WaiverEntry]
    waivers_expiring: list[WaiverEntry]
    vex: list[VexApplied]
    not_applicable: list[NotApplicable]
    inputs: list[InputSummary]
    policy: PolicyInfo | None
    engine: EngineInfo | None
    context: ContextRecord | None
    timing: dict[str, float]
    error: ErrorRecord | None


class Verdict(_VerdictBase, total=False):
    """The verdict (`gate.verdict/v1`). `gate.verdict.build_verdict` always writes `findings`
    and `run`; an error verdict has no `rules`, `not_used` or `vulndb`."""

    findings: dict[str, CompactFinding]
    run: JsonObject | None
    rules: dict[str, RuleRecord]
    not_used: list[NotUsedRecord]
    unscanned: list[UnscannedRecord]
    vulndb: JsonObject | None
    report_only: ReportOnly


# ------------------------------------------------------------------------------------------
# Between the pipeline and the verdict


@dataclass(frozen=True)
class Prepared:
    """The input document and what the verdict reports about the run's governance (`gate.pipeline.prepare`)."""

    document: InputDocument
    waived: list[WaivedRecord] = field(default_factory=list)
    waivers_expired: list[WaiverEntry] = field(default_factory=list)
    waivers_unused: list[WaiverEntry] = field(default_factory=list)
    waivers_expiring: list[WaiverEntry] = field(default_factory=list)
    vex_applied: list[VexApplied] = field(default_factory=list)
