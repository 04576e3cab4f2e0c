"""The database on disk: build it atomically, describe it, load it and check it.

A database is a folder with two files: `index.json` (the compact records and, per ecosystem and
normalised package name, the affected entries; one `json.loads` away from matching) and
`manifest.json` (source, time fetched, newest record, record count, the SHA-256 of the index).
`update` builds both in a temporary folder beside the database and renames it into place, so
a failed or interrupted update leaves the previous database whole. `load` recomputes the
index's digest: a corrupt or truncated database is a configuration error (exit 2) naming the
file, never an empty database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from gate.errors import ConfigError

MANIFEST: Final = "manifest.json"
INDEX: Final = "index.json"
FORMAT: Final = "gate.vulndb/v1"
INDEX_FORMAT: Final = "gate.vulndb.index/v1"
OSV_EXPORT: Final = "https://osv-vulnerabilities.storage.googleapis.com/{ecosystem}/all.zip"
DEFAULT_ECOSYSTEMS: Final = ("PyPI",)
MAX_DOWNLOAD_BYTES: Final = 2 * 1024 * 1024 * 1024

Progress = Callable[[str, int, "int | None"], None]
"""progress(what, bytes so far, total bytes or None): called while downloading."""


def default_db_dir() -> Path:
    """The per-user cache folder: `$XDG_CACHE_HOME/policy-gate/vulndb` (else `~/.cache/...`)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "policy-gate" / "vulndb"


def db_dir_of(given: str | Path | None) -> Path:
    """`--db` / `--vuln-db` as given, else the per-user cache folder (`default_db_dir`)."""
    return Path(given) if given else default_db_dir()


@dataclass(frozen=True)
class Manifest:
    """What `manifest.json` says about a database."""

    path: str
    source: str
    fetched: str
    newest_record: str | None
    records: int
    withdrawn: int
    ecosystems: tuple[str, ...]
    sha256: str
    gate_version: str

    def to_dict(self) -> dict[str, Any]:
        """The manifest as JSON values."""
        return {
            "format": FORMAT,
            "source": self.source,
            "fetched": self.fetched,
            "newest_record": self.newest_record,
            "records": self.records,
            "withdrawn": self.withdrawn,
            "ecosystems": list(self.ecosystems),
            "index": INDEX,
            "sha256": self.sha256,
            "gate_version": self.gate_version,
        }


@dataclass
class Database:
    """A loaded, checked database."""

    manifest: Manifest
    records: dict[str, dict[str, Any]]
    packages: dict[str, dict[str, list[list[Any]]]]
    index_path: str
    cache: dict[Any, Any] = field(default_factory=dict)
    """What matching derives from the index once per run (compiled ranges, version sets, scores)."""


def is_url(source: str) -> bool:
    """Whether a --source is a URL (http or https) rather than a path."""
    return urllib.parse.urlsplit(source).scheme in ("http", "https")


def _download(url: str, dest: Path, progress: Progress | None, timeout: float) -> None:
    """Fetch `url` into `dest` (http/https only, at most MAX_DOWNLOAD_BYTES)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"User-Agent": "policy-gate vulndb"})  # noqa: S310 - scheme checked by is_url
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp, dest.open("wb") as out:  # noqa: S310
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            done = 0
            while True:
                chunk = resp.read(1 << 16)
                if not chunk:
                    break
                done += len(chunk)
                if done > MAX_DOWNLOAD_BYTES:
                    raise ConfigError(f"download larger than {MAX_DOWNLOAD_BYTES} bytes: refused", file=url)
                out.write(chunk)
                if progress is not None:
                    progress(url, done, total)
            if total is not None and done != total:
                raise ConfigError(f"download truncated: {done} of {total} bytes", file=url)
    except urllib.error.HTTPError as exc:
        raise ConfigError(f"cannot download the database: HTTP {exc.code} {exc.reason}", file=url) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise ConfigError(f"cannot download the database: {reason}", file=url, hint="check the network, or pass --source PATH") from None


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def update(
    db_dir: Path,
    *,
    source: str | None = None,
    ecosystems: Sequence[str] = (),
    progress: Progress | None = None,
    timeout: float = 120.0,
    fetched: str | None = None,
    gate_version: str = "",
    before_commit: Callable[[Path], None] | None = None,
) -> Manifest:
    """Build the database at `db_dir` from `source` (URL, folder or zip; default the OSV exports).

    Everything is built in a temporary folder beside `db_dir`; only a complete, checked database
    replaces the old one (by rename). Any failure removes the temporary folder and leaves the old
    database as it was. `before_commit` (tests) runs just before the rename.
    """
    from gate.vulndb.records import Collected, collect_records

    db_dir = Path(db_dir)
    if db_dir.exists() and not (db_dir / MANIFEST).is_file() and (not db_dir.is_dir() or any(db_dir.iterdir())):
        raise ConfigError(
            "exists and is not a vulnerability database (no manifest.json): refusing to replace it",
            file=str(db_dir),
            hint="choose an empty or new --db folder",
        )
    db_dir.parent.mkdir(parents=True, exist_ok=True)
    wanted = set(ecosystems) or None
    # A URL with `{ecosystem}` (a mirror of the OSV export) is fetched once per ecosystem.
    template = source if source and is_url(source) and "{ecosystem}" in source else (None if source else OSV_EXPORT)
    if template is not None:
        sources = [template.replace("{ecosystem}", urllib.parse.quote(e)) for e in (ecosystems or DEFAULT_ECOSYSTEMS)]
    else:
        sources = [str(source)]
    tmp = Path(tempfile.mkdtemp(prefix=f".{db_dir.name}.update-", dir=db_dir.parent))
    try:
        merged = Collected()
        for n, src in enumerate(sources):
            if is_url(src):
                path = tmp / f"download-{n}.zip"
                _download(src, path, progress, timeout)
            else:
                path = Path(src)
                if not path.exists():
                    raise ConfigError("database source not found", file=src)
            part = collect_records(path, wanted)
            _merge(merged, part, src)
            if is_url(src):
                path.unlink()
        index = {"format": INDEX_FORMAT, "records": merged.records, "packages": merged.packages}
        data = json.dumps(index, separators=(",", ":"), sort_keys=True).encode()
        (tmp / INDEX).write_bytes(data)
        manifest = Manifest(
            path=str(db_dir),
            source=" ".join(sources),
            fetched=fetched or _now(),
            newest_record=merged.newest,
            records=len(merged.records),
            withdrawn=merged.withdrawn,
            ecosystems=tuple(sorted(merged.packages)),
            sha256="sha256:" + hashlib.sha256(data).hexdigest(),
            gate_version=gate_version,
        )
        (tmp / MANIFEST).write_text(json.dumps(manifest.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        load(tmp)  # what was written reads back and checks out
        if before_commit is not None:
            before_commit(tmp)
        _swap(tmp, db_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _merge(into: Any, part: Any, src: str) -> None:
    for rid, rec in part.records.items():
        if rid in into.records:
            raise ConfigError(f"OSV record id {rid!r} appears in two sources", file=src)
        into.records[rid] = rec
    for eco, pkgs in part.packages.items():
        target = into.packages.setdefault(eco, {})
        for key, entries in pkgs.items():
            target.setdefault(key, []).extend(entries)
    into.withdrawn += part.withdrawn
    if part.newest and (into.newest is None or part.newest > into.newest):
        into.newest = part.newest


def _swap(tmp: Path, db_dir: Path) -> None:
    """Put the folder `tmp` in the place of `db_dir` by renames; the old one is removed after."""
    if not db_dir.exists():
        os.rename(tmp, db_dir)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{db_dir.name}.old-", dir=db_dir.parent))
    os.rmdir(old)
    os.rename(db_dir, old)
    try:
        os.rename(tmp, db_dir)
    except OSError:
        os.rename(old, db_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def exists(db_dir: Path) -> bool:
    """Whether a database (its manifest) is present at `db_dir`."""
    return (Path(db_dir) / MANIFEST).is_file()


def read_manifest(db_dir: Path) -> Manifest:
    """The manifest of the database at `db_dir`; a missing or malformed one is a ConfigError (exit 2)."""
    path = Path(db_dir) / MANIFEST
    try:
        doc = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError("no vulnerability database here", file=str(path), hint=f"run `gate vulndb update --db {db_dir}`") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"corrupt vulnerability database manifest: {exc}", file=str(path), hint="run `gate vulndb update` again"
        ) from None
    try:
        if doc.get("format") != FORMAT:
            raise ValueError(f"format is {doc.get('format')!r}, not {FORMAT}")
        newest = doc.get("newest_record")
        manifest = Manifest(
            path=str(db_dir),
            source=_str(doc, "source"),
            fetched=_str(doc, "fetched"),
            newest_record=newest if isinstance(newest, str) else None,
            records=_int(doc, "records"),
            withdrawn=_int(doc, "withdrawn"),
            ecosystems=tuple(str(e) for e in doc.get("ecosystems") or ()),
            sha256=_str(doc, "sha256"),
            gate_version=str(doc.get("gate_version") or ""),
        )
    except (ValueError, AttributeError) as exc:
        raise ConfigError(
            f"corrupt vulnerability database manifest: {exc}", file=str(path), hint="run `gate vulndb update` again"
        ) from None
    return manifest


def _str(doc: dict[str, Any], key: str) -> str:
    value = doc.get(key)
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


def _int(doc: dict[str, Any], key: str) -> int:
    value = doc.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key} must be a non-negative integer")
    return value


def load(db_dir: Path) -> Database:
    """Load and check the database at `db_dir` (ConfigError, exit 2, naming the file, when it is not whole)."""
    manifest = read_manifest(db_dir)
    path = Path(db_dir) / INDEX
    hint = f"rebuild it: gate vulndb update --db {db_dir}"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the vulnerability database index: {exc.strerror or exc}", file=str(path), hint=hint) from None
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    if digest != manifest.sha256:
        raise ConfigError(
            f"corrupt or truncated vulnerability database index: its digest is {digest}, the manifest says {manifest.sha256}",
            file=str(path),
            hint=hint,
        )
    try:
        index = json.loads(data)
        if not isinstance(index, dict) or index.get("format") != INDEX_FORMAT:
            raise ValueError(f"not a {INDEX_FORMAT} document")
        records, packages = index["records"], index["packages"]
        if not isinstance(records, dict) or not isinstance(packages, dict) or len(records) != manifest.records:
            raise ValueError("records or packages of the wrong shape, or a record count unlike the manifest's")
    except (ValueError, KeyError) as exc:
        raise ConfigError(f"corrupt vulnerability database index: {exc}", file=str(path), hint=hint) from None
    return Database(manifest=manifest, records=records, packages=packages, index_path=str(path))
