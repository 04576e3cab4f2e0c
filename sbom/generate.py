"""Moved: SBOM generation is a scanner runner and lives with the others in `scanners.run.sbom`.

This name is kept so existing imports keep working; it only re-exports (the `sbom` readers never
use it, so `sbom` -> `scanners.run` is the only edge and no import cycle arises). New code imports
`scanners.run.sbom`.
"""

from __future__ import annotations

from scanners.run.sbom import (
    MANIFEST_KINDS,
    NO_MANIFEST,
    Checked,
    Manifest,
    SbomRunner,
    all_pinned,
    check_requirements,
    checked_requirements,
    find_manifest,
    is_development,
    requirement_lines,
)

__all__ = [
    "MANIFEST_KINDS",
    "NO_MANIFEST",
    "Checked",
    "Manifest",
    "SbomRunner",
    "all_pinned",
    "check_requirements",
    "checked_requirements",
    "find_manifest",
    "is_development",
    "requirement_lines",
]
