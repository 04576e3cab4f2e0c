"""The database as evidence of a run: match the run's SBOM components, describe the database.

`attach` is called by the runner between reading the reports and preparing the input
document. It returns a report-like record of the gate's own dependency audit (tool
`gate-vulndb`, whose findings flow through the pipeline like any scanner's: fingerprints,
duplicates, VEX, waivers) and the `vulndb` object of the input document and the verdict.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.collect import Report
from gate.model import ReadResult


@dataclass(frozen=True)
class Attached:
    """The gate-vulndb scan (None when there was nothing to match) and the `vulndb` description.

    `scan` is the scan record of a run that could not match (no database): it has no file.
    """

    report: Report | None
    info: dict[str, Any]
    scan: dict[str, Any] | None = None


def fix_command(db_dir: Path, explicit: bool) -> str:
    """The command that builds the database the run looked for."""
    return f"gate vulndb update --db {db_dir}" if explicit else "gate vulndb update"


def attach(
    reports: Sequence[Report],
    *,
    db_dir: Path,
    explicit: bool,
    requires_dependency: bool,
    now: dt.datetime,
    gate_version: str,
) -> Attached:
    """Match every SBOM component of `reports` against the database at `db_dir`.

    With no component there is nothing to match and the database is not read. With components
    and no database, the run is recorded: `status: missing`, and where the stage requires
    dependency evidence an incomplete `gate-vulndb` scan naming the fix. A database that is
    present but not whole raises ConfigError (exit 2) naming its file.
    """
    from gate.vulndb import store

    components = [(c, r.path) for r in reports for c in r.result.components]
    base: dict[str, Any] = {"path": str(db_dir), "components": len(components)}
    # A complete SBOM that lists no component (a library without runtime dependencies: issue
    # 17) is audited too, when the database is there: "none of its components is vulnerable" is
    # then a statement about an empty list, and the audit is the run's dependency evidence.
    # (An SBOM with a component list of its own: not a VEX document, no findings. Handing in an
    # empty SBOM gives no more than handing in one that lists a harmless component did before.)
    empty_sbom = any(
        r.result.format in ("cyclonedx", "spdx") and r.result.complete and not r.result.vex and not r.result.findings for r in reports
    )
    if not components and not (empty_sbom and store.exists(db_dir)):
        return Attached(None, {**base, "status": "not_used"})
    if not store.exists(db_dir):
        info = {**base, "status": "missing", "fix": fix_command(db_dir, explicit)}
        if not requires_dependency:
            return Attached(None, info)
        error = (
            f"no vulnerability database at {db_dir}: the {len(components)} SBOM component(s) were not audited; "
            f"build it with `{fix_command(db_dir, explicit)}` (or pass --vuln-db DIR)"
        )
        scan: dict[str, Any] = {
            "path": str(db_dir),
            "sha256": None,
            "format": "vulndb",
            "spec_version": None,
            "tool": "gate-vulndb",
            "tool_version": gate_version,
            "complete": False,
            "errors": [error],
            "findings": 0,
            "components": 0,
            "vex": 0,
            "statistics": {},
        }
        return Attached(None, info, scan)
    db = store.load(db_dir)
    from gate.vulndb.match import age_days, audit

    age = age_days(db, now)
    m = db.manifest
    newest = (m.newest_record or m.fetched)[:10]
    note = f"vulnerability database {age} days old ({m.records} records up to {newest})"
    found = audit(components, db, age_note=note, gate_version=gate_version)
    info = {
        **base,
        "status": "ok",
        "index": db.index_path,
        "sha256": m.sha256,
        "source": m.source,
        "fetched": m.fetched,
        "newest_record": m.newest_record,
        "records": m.records,
        "ecosystems": list(m.ecosystems),
        "age_days": age,
        "matched": found.matched_components,
        "affected": found.affected_components,
        "findings": len(found.findings),
        "unmatched": found.unmatched,
        "ranges": found.ranges,
    }
    result = ReadResult(
        format="vulndb",
        tool="gate-vulndb",
        tool_version=gate_version,
        findings=tuple(found.findings),
        statistics={"records": m.records, "matched": found.matched_components, "unmatched": len(found.unmatched), "age_days": age},
    )
    size = Path(db.index_path).stat().st_size
    return Attached(
        Report(path=db.index_path, sha256=m.sha256.removeprefix("sha256:"), size=size, media="application/json", result=result), info
    )
