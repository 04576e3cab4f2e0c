"""Baseline files: the fingerprints of a reference run's findings (`gate baseline` writes them)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from gate.errors import ConfigError

BASELINE_SCHEMA = "gate.baseline/v1"


def build_baseline(findings: Iterable[Mapping[str, Any]], *, created: str, gate_version: str) -> dict[str, Any]:
    """The baseline document for these findings (sorted, deterministic)."""
    entries = sorted(
        (
            {
                "id": f["id"],
                "tool": f["tool"],
                "rule_id": f["rule_id"],
                "path": (f["location"] or {}).get("path"),
                "package": (f["package"] or {}).get("purl") or (f["package"] or {}).get("name"),
            }
            for f in findings
        ),
        key=lambda e: e["id"],
    )
    return {"schema": BASELINE_SCHEMA, "created": created, "gate_version": gate_version, "findings": entries}


def load_baseline(path: str) -> set[str]:
    """The fingerprints in a baseline file; a malformed file is a configuration error (exit 2)."""
    from gate import yamlfile

    doc = yamlfile.load(path, what="baseline file")
    yamlfile.validate(doc, "baseline", what="baseline file")
    value = doc.value
    if value.get("schema") != BASELINE_SCHEMA:
        raise ConfigError(f"not a baseline file (schema must be {BASELINE_SCHEMA})", file=path)
    return {str(e["id"]) for e in value["findings"]}


def today() -> str:
    return dt.datetime.now(dt.timezone.utc).date().isoformat()
