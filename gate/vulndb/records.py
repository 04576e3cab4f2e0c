"""Reading OSV records (JSON or YAML, in a folder or a zip) into the index's compact form.

The source of a database is trusted configuration (a CI variable, the OSV export), yet its
records are read with the same care as any document: a record of the wrong shape stops the
update with a configuration error naming the file and the field, and the database in place
stays as it was. Withdrawn records are left out (and counted).
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from gate.errors import ConfigError
from gate.model import ShapeError, objects, opt_obj, opt_str, req_str, strings
from gate.vulndb.versions import EVENT_ORDER, base_ecosystem, canonical_pypi, pep503

SUFFIXES: Final = (".json", ".yaml", ".yml")
MAX_RECORD_BYTES: Final = 16 * 1024 * 1024
"""Largest single record read (the largest OSV PyPI records are a few hundred KiB)."""


def package_key(ecosystem: str, name: str) -> str:
    """The name as the index keys it: PEP 503 for PyPI, lower case for NuGet, else as written."""
    base = base_ecosystem(ecosystem)
    if base == "PyPI":
        return pep503(name)
    if base == "NuGet":
        return name.lower()
    return name


@dataclass
class Collected:
    """What a source held: the compact records and the per-package affected entries."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    # ecosystem -> package key -> [[record id, {"ranges": [...], "versions": [...]}], ...]
    packages: dict[str, dict[str, list[list[Any]]]] = field(default_factory=dict)
    withdrawn: int = 0
    newest: str | None = None


def _compact(doc: Mapping[str, Any], where: str, ecosystems: set[str] | None, out: Collected) -> None:
    """Add one OSV record to `out` (or count it as withdrawn)."""
    try:
        rid = req_str(doc, "id", "")
        aliases = strings(doc, "aliases", "")
        modified = opt_str(doc, "modified", "")
        if doc.get("withdrawn"):
            out.withdrawn += 1
            return
        severities = []
        for i, sev in enumerate(objects(doc, "severity", "")):
            base = f"severity[{i}]"
            severities.append({"type": req_str(sev, "type", base), "score": req_str(sev, "score", base)})
        dbs = opt_obj(doc, "database_specific", "")
        db_severity = dbs.get("severity") if dbs else None
        entries: list[tuple[str, str, dict[str, Any]]] = []
        for i, aff in enumerate(objects(doc, "affected", "")):
            base = f"affected[{i}]"
            pkg = opt_obj(aff, "package", base)
            if pkg is None:
                continue
            ecosystem = req_str(pkg, "ecosystem", f"{base}.package")
            name = req_str(pkg, "name", f"{base}.package")
            if ecosystems is not None and ecosystem not in ecosystems and base_ecosystem(ecosystem) not in ecosystems:
                continue
            ranges = []
            for j, rng in enumerate(objects(aff, "ranges", base)):
                rbase = f"{base}.ranges[{j}]"
                rtype = req_str(rng, "type", rbase)
                events = []
                for k, ev in enumerate(objects(rng, "events", rbase)):
                    for kind in EVENT_ORDER:
                        value = ev.get(kind)
                        if value is not None:
                            if not isinstance(value, str):
                                raise ShapeError(f"{rbase}.events[{k}].{kind}", "must be a string")
                            events.append([kind, value])
                if rtype in ("ECOSYSTEM", "SEMVER"):
                    ranges.append({"type": rtype, "events": events})
            versions = strings(aff, "versions", base)
            if base_ecosystem(ecosystem) == "PyPI":
                versions = [canonical_pypi(v) for v in versions]
            entries.append((ecosystem, package_key(ecosystem, name), {"ranges": ranges, "versions": sorted(set(versions))}))
    except ShapeError as exc:
        raise ConfigError(f"OSV record {exc.path} {exc.problem}", file=where, hint="the database source holds a malformed record") from None
    if not entries:
        return
    if rid in out.records:
        raise ConfigError(f"OSV record id {rid!r} appears twice in the source", file=where)
    summary = doc.get("summary") if isinstance(doc.get("summary"), str) else None
    details = doc.get("details") if isinstance(doc.get("details"), str) else None
    out.records[rid] = {
        "id": rid,
        "aliases": sorted(set(aliases) - {rid}),
        "summary": (summary or (details or "").strip().split("\n", 1)[0])[:300],
        "modified": modified,
        "severity": severities,
        "db_severity": db_severity if isinstance(db_severity, str) else None,
    }
    if modified and (out.newest is None or modified > out.newest):
        out.newest = modified
    for ecosystem, key, entry in entries:
        out.packages.setdefault(ecosystem, {}).setdefault(key, []).append([rid, entry])


def _parse(data: bytes, name: str) -> Any:
    if name.endswith(".json"):
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ConfigError(f"not a JSON OSV record: {exc}", file=name) from None
    import yaml

    # The base loader keeps every scalar a string, as OSV's JSON has them: an unquoted `0.10`
    # stays the version "0.10" (not the float 0.1), a timestamp stays text. No tags, no objects.
    loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
    try:
        return yaml.load(data, Loader=loader)  # noqa: S506 - BaseLoader builds only str, list and dict
    except yaml.YAMLError as exc:
        raise ConfigError(f"not a YAML OSV record: {exc}", file=name) from None


def iter_source(path: Path) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of every .json/.yaml/.yml record below a folder or inside a zip, sorted by name.

    Symbolic links are not followed (a record is a regular file of the source), and files above
    `MAX_RECORD_BYTES` are refused.
    """
    if path.is_dir():
        found = []
        for root, dirs, files in os.walk(path, followlinks=False):
            dirs.sort()
            for fname in files:
                full = Path(root) / fname
                if fname.endswith(SUFFIXES) and not full.is_symlink() and full.is_file():
                    found.append(full)
        for full in sorted(found):
            if full.stat().st_size > MAX_RECORD_BYTES:
                raise ConfigError(f"OSV record larger than {MAX_RECORD_BYTES} bytes", file=str(full))
            yield str(full), full.read_bytes()
        return
    try:
        with zipfile.ZipFile(path) as zf:
            for info in sorted(zf.infolist(), key=lambda i: i.filename):
                if info.is_dir() or not info.filename.endswith(SUFFIXES):
                    continue
                if info.file_size > MAX_RECORD_BYTES:
                    raise ConfigError(f"OSV record {info.filename} larger than {MAX_RECORD_BYTES} bytes", file=str(path))
                yield f"{path}!{info.filename}", zf.read(info)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise ConfigError(f"not a readable zip of OSV records: {exc}", file=str(path)) from None


def collect_records(path: Path, ecosystems: set[str] | None = None) -> Collected:
    """Read every OSV record of a folder or zip (only the given ecosystems, when given)."""
    out = Collected()
    for name, data in iter_source(path):
        doc = _parse(data, name)
        if not isinstance(doc, dict):
            raise ConfigError("an OSV record must be an object", file=name)
        _compact(doc, name, ecosystems, out)
    return out
