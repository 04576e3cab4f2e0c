"""Helpers of the vulnerability-database tests: OSV records, SBOMs and databases built in a tmp folder."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.conftest import REPO, run_gate

EXAMPLE_SOURCE = REPO / "examples" / "vulndb"
TIME = "2024-11-01T00:00:00Z"


def record(
    rid: str,
    package: str,
    events: Sequence[Mapping[str, str]] = ({"introduced": "0"},),
    *,
    ecosystem: str = "PyPI",
    versions: Sequence[str] = (),
    aliases: Sequence[str] = (),
    range_type: str = "ECOSYSTEM",
    severity: Sequence[Mapping[str, str]] = (),
    modified: str = "2024-10-30T00:00:00Z",
    **extra: Any,
) -> dict[str, Any]:
    """One OSV record affecting one package."""
    rec: dict[str, Any] = {
        "id": rid,
        "modified": modified,
        "summary": f"test advisory {rid}",
        "aliases": list(aliases),
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": package},
                "ranges": [{"type": range_type, "events": list(events)}] if events else [],
                "versions": list(versions),
            }
        ],
    }
    if severity:
        rec["severity"] = list(severity)
    rec.update(extra)
    return rec


def write_records(folder: Path, records: Iterable[Mapping[str, Any]]) -> Path:
    """The records as OSV JSON files in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for rec in records:
        (folder / f"{rec['id']}.json").write_text(json.dumps(rec), encoding="utf-8")
    return folder


def zip_records(path: Path, records: Iterable[Mapping[str, Any]]) -> Path:
    """The records as a zip of OSV JSON files, shaped like the OSV export (`all.zip`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for rec in records:
            zf.writestr(f"{rec['id']}.json", json.dumps(rec))
    return path


def build_db(tmp: Path, records: Iterable[Mapping[str, Any]], name: str = "db") -> Path:
    """A database in tmp/name built by `gate vulndb update` from the records."""
    src = write_records(tmp / f"{name}-src", records)
    db = tmp / name
    res = run_gate(["vulndb", "update", "--source", str(src), "--db", str(db)])
    assert res.exit_code == 0, res.stderr
    return db


def sbom(path: Path, components: Sequence[Mapping[str, Any]]) -> Path:
    """A CycloneDX 1.5 JSON SBOM listing the components (dicts of name, version, purl)."""
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "components": [{"type": "library", "bom-ref": f"c{i}", **c} for i, c in enumerate(components)],
    }
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def pypi(name: str, version: str | None) -> dict[str, Any]:
    """A PyPI component with its purl."""
    comp: dict[str, Any] = {"name": name, "purl": f"pkg:pypi/{name}" + (f"@{version}" if version else "")}
    if version is not None:
        comp["version"] = version
    return comp


def evaluate(tmp: Path, db: Path, components: Sequence[Mapping[str, Any]], *args: str) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """`gate evaluate` of an SBOM of the components against db: (exit code, input document, verdict)."""
    bom = sbom(tmp / "sbom.cdx.json", components)
    inp, ver = tmp / "input.json", tmp / "verdict.json"
    res = run_gate(
        ["evaluate", str(bom), "--vuln-db", str(db), "--time", TIME, "--output", f"input={inp}", "--output", f"json={ver}", *args]
    )
    return res.exit_code, json.loads(inp.read_text()), json.loads(ver.read_text())


def matches(document: Mapping[str, Any]) -> dict[str, set[str]]:
    """purl -> the rule ids of the gate-vulndb findings about it."""
    out: dict[str, set[str]] = {}
    for f in document["findings"]:
        if f["tool"] == "gate-vulndb":
            out.setdefault(f["package"]["purl"], set()).add(f["rule_id"])
    return out
