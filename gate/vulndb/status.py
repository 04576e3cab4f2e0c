"""`gate vulndb status` and `gate vulndb update`'s summary: what a database is, as text or JSON.

`status` loads the database (checking its digest, so a damaged one is an error, never a status)
and describes it; the renderers turn that description into what the CLI prints. Every value
from the manifest is cleaned for the terminal in the text format.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.output.text import clean
from gate.vulndb import store


@dataclass(frozen=True)
class Status:
    """A database described: its manifest, where it is, and its age in whole days."""

    manifest: store.Manifest
    path: str
    age_days: int

    def to_dict(self) -> dict[str, Any]:
        """The manifest's fields with `path` and `age_days` (the JSON format)."""
        return {**self.manifest.to_dict(), "path": self.path, "age_days": self.age_days}


def status(db_dir: str | Path | None, now: dt.datetime) -> Status:
    """The database at `db_dir` (None: the per-user cache) described, its age taken at `now`.
    Raises ConfigError when it is missing or damaged."""
    from gate.vulndb.match import age_days

    folder = store.db_dir_of(db_dir)
    database = store.load(folder)
    return Status(manifest=database.manifest, path=str(folder), age_days=age_days(database, now))


def render_text(st: Status) -> str:
    """One `key: value` line per field (lists joined by commas)."""
    m = st.manifest
    fields = (
        ("path", st.path),
        ("source", m.source),
        ("fetched", m.fetched),
        ("newest_record", str(m.newest_record)),
        ("records", str(m.records)),
        ("withdrawn", str(m.withdrawn)),
        ("ecosystems", ", ".join(m.ecosystems)),
        ("sha256", m.sha256),
        ("age_days", str(st.age_days)),
    )
    return "".join(f"{key + ':':15} {clean(text)}\n" for key, text in fields)


def render_json(st: Status) -> str:
    """The description as one JSON object."""
    return json.dumps(st.to_dict(), indent=2, sort_keys=True) + "\n"


RENDERERS: dict[str, Callable[[Status], str]] = {"text": render_text, "json": render_json}
"""`gate vulndb status --format` choices (the first is the default)."""


def update_summary(manifest: store.Manifest, db_dir: Path) -> str:
    """The line `gate vulndb update` ends with (on stderr)."""
    return (
        f"vulndb: {manifest.records} record(s) ({', '.join(manifest.ecosystems) or 'no ecosystem'}; "
        f"{manifest.withdrawn} withdrawn left out) from {manifest.source} written to {db_dir} ({manifest.sha256})"
    )
