"""What the code scanners scan: decided by the gate from trusted data, never by the tree.

The gate walks the project itself (`survey`), without following symbolic links, and lists its
Python source files: names ending in one of the data's extensions (`.py`, `.pyw` by default) and
files of any name whose first line is a Python shebang (`#!/usr/bin/env python3`). The data's
`coverage.exclude` globs, anchored at the project root, set some of them aside, on the record
(`excluded`). The rest is copied into a private snapshot (`Survey.snapshot`, a fresh folder of
mode 0700 outside the tree) and bandit and semgrep scan that snapshot, not the tree: none of the
tree's own ignore files or scanner configurations (`.semgrepignore`, `.gitignore`, `.bandit`,
`setup.cfg`, `pyproject.toml` sections) is even there for them to read, and the gate passes
the options that switch off the tools' built-in default excludes.

A tool may still skip a file (a language it does not recognise, an option of a future version):
so the gate does not trust that the tool scanned what it was given. Each code scanner's own
report lists the files it scanned (bandit's `metrics`, semgrep's `paths.scanned`), and every
source file that no code scanner lists is `unscanned`, with the reason, as is every source the
gate could not copy (a symbolic link leaving the project, a FIFO named `x.py`, an unreadable
file). The shipped policy blocks on unscanned production code (`policies/coverage.rego`).

Symbolic links are never followed. A link whose name is a source name and that points at a
regular file inside the project is scanned under its own name with its target's content (that is
what `import` would run); a link to a folder inside the project adds nothing (the folder is walked
where it is); a link that leaves the project (or dangles) and looks like source or a folder is
`unscanned`, since its content is not the project's to read.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

DEFAULT_EXTENSIONS: Final = ("py", "pyw")
"""File-name extensions of Python source when data names none."""

NEVER_WALKED: Final = (".git",)
"""Folders at the project root the walk does not enter: the repository's own git directory (git
cannot track a file below a `.git` path component, so a pull request cannot place code there).
A `.git` folder deeper in the tree is walked like any other."""

SHEBANG: Final = re.compile(rb"^#![^\n]*\bpython[0-9.]*\b")
SHEBANG_BYTES: Final = 256
MAX_LISTED: Final = 500
"""The most excluded or unscanned paths the verdict lists by name (the counts are always whole)."""


@lru_cache(maxsize=256)
def _anchored(pattern: str) -> re.Pattern[str]:
    """A glob anchored at the project root: `**` any depth, `*` and `?` within one path segment.

    Written here rather than taken from a gitignore library on purpose: gitignore semantics let
    a pattern without a slash match at any depth (`vendor` would also set aside `src/vendor`),
    and the data's globs must mean exactly the paths they name from the root.
    """
    p = pattern.strip().lstrip("/")
    if p.startswith("./"):
        p = p[2:]
    out: list[str] = []
    i = 0
    while i < len(p):
        if p.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif p.startswith("**", i):
            out.append(".*")
            i += 2
        elif p[i] == "*":
            out.append("[^/]*")
            i += 1
        elif p[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(p[i]))
            i += 1
    return re.compile("^" + "".join(out).rstrip("/") + "$")


def glob_excludes(pattern: str, path: str) -> bool:
    """Whether an anchored glob sets `path` aside: it names the file or one of its folders."""
    rx = _anchored(pattern)
    parts = path.split("/")
    return any(rx.match("/".join(parts[:n])) for n in range(1, len(parts) + 1))


@dataclass(frozen=True)
class CoverageRules:
    """The data's `coverage` section: what counts as source, and what is set aside (anchored globs)."""

    exclude: tuple[str, ...] = ()
    extensions: tuple[str, ...] = DEFAULT_EXTENSIONS

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> CoverageRules:
        """From the merged policy data (`coverage.exclude`, `coverage.extensions`); absent means none excluded."""
        section = data.get("coverage") or {}
        if not isinstance(section, Mapping):
            raise ValueError("data `coverage` must be a mapping")
        exclude = section.get("exclude") or []
        extensions = section.get("extensions") or list(DEFAULT_EXTENSIONS)
        if not all(isinstance(g, str) and g.strip() for g in exclude):
            raise ValueError("data `coverage.exclude` must be a list of non-empty globs")
        if not all(isinstance(e, str) and e.strip(".") for e in extensions):
            raise ValueError("data `coverage.extensions` must be a list of file-name extensions")
        return cls(tuple(exclude), tuple(e.lstrip(".").lower() for e in extensions))

    def excluded_by(self, path: str) -> str | None:
        """The first glob that sets `path` aside, or None."""
        return next((g for g in self.exclude if glob_excludes(g, path)), None)

    def to_dict(self) -> dict[str, Any]:
        """As the verdict records it."""
        return {"exclude": list(self.exclude), "extensions": list(self.extensions)}


@dataclass(frozen=True)
class Source:
    """A source file to scan: its path in the project, and the file whose bytes are its content."""

    path: str
    content: Path


@dataclass
class Survey:
    """The project's Python source as the gate sees it (paths relative to the root, POSIX form)."""

    root: Path
    rules: CoverageRules
    sources: list[Source] = field(default_factory=list)
    excluded: list[tuple[str, str]] = field(default_factory=list)
    """(path, the glob that set it aside)."""
    unscannable: list[tuple[str, str]] = field(default_factory=list)
    """(path, why the gate could not hand it to a scanner)."""

    @property
    def paths(self) -> list[str]:
        """The source files to scan."""
        return [s.path for s in self.sources]

    def by_extension(self) -> tuple[list[str], list[str]]:
        """(sources a directory scan finds by their `.py` name, the others: given to the tools by name)."""
        plain = [p for p in self.paths if p.lower().endswith(".py")]
        other = [p for p in self.paths if not p.lower().endswith(".py")]
        return plain, other

    def snapshot(self, dest: Path) -> list[tuple[str, str]]:
        """Copy every source into `dest` (made mode 0700): what the code scanners scan.

        Reads each file without following a symbolic link at its last component. Returns the
        sources that could not be copied (path, reason); they are dropped from `sources`.
        """
        dest.mkdir(mode=0o700, parents=True, exist_ok=True)
        kept: list[Source] = []
        failed: list[tuple[str, str]] = []
        for src in self.sources:
            target = dest.joinpath(*src.path.split("/"))
            try:
                data = read_regular(src.content)
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                with open(target, "xb") as fh:
                    fh.write(data)
            except OSError as exc:
                failed.append((src.path, f"could not be copied for scanning: {exc.strerror or exc}"))
                continue
            kept.append(src)
        self.sources = kept
        self.unscannable.extend(failed)
        return failed

    def to_dict(self) -> dict[str, Any]:
        """The survey as the verdict records it (`run.coverage`)."""
        return {
            "root": str(self.root),
            "rules": self.rules.to_dict(),
            "sources": len(self.sources),
            "excluded_count": len(self.excluded),
            "excluded": [{"path": p, "glob": g} for p, g in self.excluded[:MAX_LISTED]],
        }


def read_regular(path: Path) -> bytes:
    """A regular file's bytes, read without following a symbolic link at its last component."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "not a regular file")
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _has_python_shebang(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    try:
        head = os.read(fd, SHEBANG_BYTES)
    except OSError:
        return False
    finally:
        os.close(fd)
    return bool(SHEBANG.match(head))


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def survey(root: Path, rules: CoverageRules | None = None) -> Survey:
    """Walk `root` (never following a symbolic link) and list its Python source files."""
    rules = rules or CoverageRules()
    real_root = root.resolve()
    result = Survey(root=root, rules=rules)
    suffixes = tuple("." + e for e in rules.extensions)

    def source_named(name: str) -> bool:
        return name.lower().endswith(suffixes)

    def add(rel: str, content: Path) -> None:
        glob = rules.excluded_by(rel)
        if glob is not None:
            result.excluded.append((rel, glob))
        else:
            result.sources.append(Source(rel, content))

    def walk(folder: Path, prefix: str) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            result.unscannable.append((prefix.rstrip("/") or ".", f"folder could not be read: {exc.strerror or exc}"))
            return
        for entry in entries:
            rel = prefix + entry.name
            path = Path(entry.path)
            try:
                mode = entry.stat(follow_symlinks=False).st_mode
            except OSError as exc:
                result.unscannable.append((rel, f"could not be examined: {exc.strerror or exc}"))
                continue
            if stat.S_ISLNK(mode):
                _link(path, rel)
            elif stat.S_ISDIR(mode):
                if prefix or entry.name not in NEVER_WALKED:
                    walk(path, rel + "/")
            elif stat.S_ISREG(mode):
                if source_named(entry.name) or _has_python_shebang(path):
                    add(rel, path)
            elif source_named(entry.name):
                result.unscannable.append((rel, "not a regular file (a FIFO, socket or device): not read"))

    def _link(path: Path, rel: str) -> None:
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            if source_named(path.name):
                result.unscannable.append((rel, "symbolic link that leads nowhere (or in a loop): not followed"))
            return
        inside = _inside(target, real_root)
        if target.is_dir():
            if not inside:
                result.unscannable.append((rel, "symbolic link to a folder outside the project: not followed"))
            return  # a folder inside the project is walked where it is
        looks_like_source = source_named(path.name) or (inside and target.is_file() and source_named(target.name))
        if not looks_like_source:
            if inside and target.is_file() and _has_python_shebang(target):
                looks_like_source = True
            else:
                return
        if not inside:
            result.unscannable.append((rel, "symbolic link to a file outside the project: not read"))
        elif not target.is_file():
            result.unscannable.append((rel, "symbolic link to something that is not a regular file: not read"))
        else:
            add(rel, target)

    walk(root, "")
    return result


# --------------------------------------------------------------------------------------------
# What a tool says it scanned


def _norm(path: str) -> str:
    p = path.replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p


def bandit_scanned(doc: Any) -> set[str]:
    """The files bandit's JSON report lists in its per-file `metrics` (paths relative to the root)."""
    metrics = doc.get("metrics") if isinstance(doc, dict) else None
    if not isinstance(metrics, dict):
        return set()
    return {_norm(k) for k in metrics if isinstance(k, str) and k != "_totals"}


def semgrep_scanned(doc: Any) -> set[str]:
    """The files semgrep's JSON output lists in `paths.scanned`."""
    paths = doc.get("paths") if isinstance(doc, dict) else None
    scanned = paths.get("scanned") if isinstance(paths, dict) else None
    if not isinstance(scanned, list):
        return set()
    return {_norm(p) for p in scanned if isinstance(p, str)}


def sarif_scanned(doc: Any) -> set[str]:
    """The files a SARIF log lists as artifacts it analysed (`runs[].artifacts[].location.uri`)."""
    out: set[str] = set()
    runs = doc.get("runs") if isinstance(doc, dict) else None
    for run in runs if isinstance(runs, list) else []:
        artifacts = run.get("artifacts") if isinstance(run, dict) else None
        for artifact in artifacts if isinstance(artifacts, list) else []:
            location = artifact.get("location") if isinstance(artifact, dict) else None
            uri = location.get("uri") if isinstance(location, dict) else None
            if isinstance(uri, str):
                out.add(_norm(uri[7:] if uri.startswith("file://") else uri))
    return out


SCANNED_LISTS: Final = {"bandit": bandit_scanned, "semgrep": semgrep_scanned, "sarif": sarif_scanned}
"""Report formats that list the files their tool scanned, and how to read that list."""


def relative_to_root(paths: Iterable[str], root: Path) -> set[str]:
    """A report's file list as paths relative to `root`: absolute paths inside it made relative;
    anything else (a path from another checkout) kept as it is, so it matches nothing."""
    real = str(root.resolve()).rstrip("/") + "/"
    out = set()
    for p in paths:
        out.add(p[len(real) :] if p.startswith(real) else _norm(p))
    return out


def unscanned(survey: Survey, covered: Mapping[str, Iterable[str]], what: str = "code scanners that ran") -> list[dict[str, str]]:
    """Every source file no code scanner scanned, and every one the gate could not hand to them.

    `covered` maps each code scanner that ran (or each report read, `what` says which) to the
    files its report says it scanned.
    """
    seen: set[str] = set()
    for files in covered.values():
        seen.update(files)
    names = ", ".join(sorted(covered)) or "none"
    out = [{"path": p, "reason": f"no code scanner scanned it ({what}: {names})"} for p in survey.paths if p not in seen]
    out += [{"path": p, "reason": why} for p, why in survey.unscannable]
    return sorted(out, key=lambda e: e["path"])
