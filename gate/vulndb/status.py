"""`gate vulndb status` and `gate vulndb update`'s summary: what a database is, as text or JSON.

`status` loads the database (checking its digest, so a damaged one is an error, never a status)
and describes it; the renderers turn that description into what the CLI prints. Every value
from the manifest is cleaned for the terminal in the text format.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from gate.output.text import clean
from gate.vulndb import store

TEXT_KEYS = ("path", "source", "fetched", "newest_record", "records", "withdrawn", "ecosystems", "sha256", "age_days")
"""The lines of the text format, in order."""


def status(db_dir: str | Path | None, now: dt.datetime) -> dict[str, Any]:
    """The database at `db_dir` (None: the per-user cache) described: its manifest, its path and
    its age in whole days at `now`. Raises ConfigError when it is missing or damaged."""
    from gate.vulndb.match import age_days

    folder = store.db_dir_of(db_dir)
    database = store.load(folder)
    return {**database.manifest.to_dict(), "path": str(folder), "age_days": age_days(database, now)}


def render_text(doc: Mapping[str, Any]) -> str:
    """One `key: value` line per field (lists joined by commas)."""
    lines = []
    for key in TEXT_KEYS:
        value = doc[key]
        text = ", ".join(value) if isinstance(value, list) else str(value)
        lines.append(f"{key + ':':15} {clean(text)}\n")
    return "".join(lines)


def render_json(doc: Mapping[str, Any]) -> str:
    """The description as one JSON object."""
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


RENDERERS: dict[str, Callable[[Mapping[str, Any]], str]] = {"text": render_text, "json": render_json}
"""`gate vulndb status --format` choices (the first is the default)."""


def update_summary(manifest: store.Manifest, db_dir: Path) -> str:
    """The line `gate vulndb update` ends with (on stderr)."""
    return (
        f"vulndb: {manifest.records} record(s) ({', '.join(manifest.ecosystems) or 'no ecosystem'}; "
        f"{manifest.withdrawn} withdrawn left out) from {manifest.source} written to {db_dir} ({manifest.sha256})"
    )
