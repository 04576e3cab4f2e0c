"""Where a result is, for code scanning: repository-relative paths, line hashes, manifest lines.

- **Paths.** Scanners report paths relative to the folder they scanned (`gate run services/api`
  runs them there) or to the directory they ran in. GitHub places an alert by its URI relative
  to the repository root, so `repo_path` rebases a finding's path from the scan root onto the
  source root (`--source-root`, default the git top level).
- **Line hashes.** GitHub keys alerts on `partialFingerprints.primaryLocationLineHash`, which its
  upload action computes from the source file when the SARIF lacks it. `line_hashes` is that
  algorithm (github/codeql-action, `src/fingerprints.ts`): a rolling polynomial hash (base 37,
  modulo 2^64) over the next 100 characters from the start of each line, spaces and tabs skipped,
  CR and CRLF read as LF, a sentinel 65535 at the end of the file, and `:N` for the N-th line
  with the same hash. Unit-tested against the vectors of its own tests.
- **Manifest lines.** A dependency or licence result is about a package, not a line of code:
  `manifest_line` finds the line of `requirements*.txt` or `pyproject.toml` (in the scan root)
  that declares it.

Every file read here is in the pull request, so attacker-controlled: `source_file` opens only a
regular file whose real path (symlinks resolved) is inside the source root, at most 2 MiB, so
a symlink `app.py -> /proc/self/environ` cannot smuggle a hash of the runner's secrets into the
SARIF. Nothing read here is executed or changes a count; it only places a result.
"""

from __future__ import annotations

import os
import re
import sys
from array import array
from itertools import accumulate
from pathlib import Path

BLOCK_SIZE = 100
_MOD = 37
_MASK = (1 << 64) - 1
_FIRST_MOD = pow(_MOD, BLOCK_SIZE, 1 << 64)
_EOF = 65535
MAX_SOURCE_BYTES = 2 * 1024 * 1024  # larger files (generated, minified): no hash here; the upload action computes it
MANIFESTS = ("requirements.txt", "requirements-prod.txt", "requirements/base.txt", "requirements/prod.txt", "pyproject.toml")


def repo_path(path: str, base_dir: str | None, source_root: str | None) -> str:
    """A path relative to the source root (POSIX separators); unchanged when it cannot be rebased.

    A relative `path` is relative to `base_dir` (the scan root or the working directory, as the
    caller knows it), else to the source root itself.
    """
    if path.startswith("file://"):
        path = path[7:]
    if not source_root:
        return path
    base = Path(base_dir or source_root)
    full = Path(path) if os.path.isabs(path) else base / path
    try:
        rel = os.path.relpath(os.path.normpath(os.path.abspath(full)), os.path.abspath(source_root))
    except ValueError:  # another drive (Windows)
        return path
    if rel == ".." or rel.startswith(".." + os.sep):
        return path  # outside the repository: as the scanner wrote it
    return Path(rel).as_posix()


def source_file(source_root: str, rel: str) -> Path | None:
    """The file at `rel` under the source root, if it is a regular file really inside it (symlinks resolved)."""
    if not rel or os.path.isabs(rel) or "\x00" in rel:
        return None
    root = Path(source_root).resolve()
    try:
        real = (root / rel).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if real != root and root not in real.parents:
        return None
    try:
        st = real.stat()
    except OSError:
        return None
    if not real.is_file() or st.st_size > MAX_SOURCE_BYTES:
        return None
    return real


def line_hashes(text: str) -> dict[int, str]:
    """line number (1-based) -> `hash:N`, exactly as codeql-action's `hash` computes them.

    The action feeds characters one by one through a 100-wide rolling window; the hash it
    reports for a line is the window that starts at the line's first character, that is the
    polynomial sum(c[s+j] * 37^(99-j)) mod 2^64 over the normalised characters (spaces and tabs
    dropped, CRLF and CR read as LF, then the sentinel 65535 and zeros). Here that is computed
    from prefix sums of the same polynomial (C-speed `accumulate`), not character by character:
    the same numbers, a tenth of the time.
    """
    # A CR followed directly by LF is one line end; a space or tab between them is not "directly".
    norm = text.replace("\r\n", "\n").replace("\r", "\n").replace(" ", "").replace("\t", "")
    units = array("H", norm.encode("utf-16-le"))  # JavaScript's charCodeAt: UTF-16 code units
    if sys.byteorder == "big":
        units.byteswap()
    seq = [*units, _EOF, *([0] * BLOCK_SIZE)]
    prefix = list(accumulate(seq, lambda h, c: (h * _MOD + c) & _MASK, initial=0))
    starts = [0, *(i + 1 for i, u in enumerate(units) if u == 0x0A)]
    out: dict[int, str] = {}
    counts: dict[str, int] = {}
    for number, start in enumerate(starts, 1):
        value = format((prefix[start + BLOCK_SIZE] - _FIRST_MOD * prefix[start]) & _MASK, "x")
        counts[value] = counts.get(value, 0) + 1
        out[number] = f"{value}:{counts[value]}"
    return out


class SourceTree:
    """Reads (once each, safely) the files under the source root that results point at."""

    def __init__(self, source_root: str | None, scan_root: str | None) -> None:
        self.source_root = source_root
        self.scan_root = scan_root
        self._hashes: dict[str, dict[int, str] | None] = {}
        self._manifests: list[tuple[str, list[str]]] | None = None

    def line_hash(self, rel: str, line: int) -> str | None:
        """GitHub's `primaryLocationLineHash` of `rel`:`line`, when the file is at hand."""
        if not self.source_root:
            return None
        if rel not in self._hashes:
            real = source_file(self.source_root, rel)
            hashes = None
            if real is not None:
                try:
                    hashes = line_hashes(real.read_text(encoding="utf-8", errors="replace"))
                except OSError:
                    hashes = None
            self._hashes[rel] = hashes
        return (self._hashes[rel] or {}).get(line)

    def _manifest_texts(self) -> list[tuple[str, list[str]]]:
        if self._manifests is None:
            self._manifests = []
            root = self.source_root
            if root:
                base = repo_path(".", self.scan_root, root)
                for name in MANIFESTS:
                    rel = name if base in ("", ".") else f"{base}/{name}"
                    real = source_file(root, rel)
                    if real is None:
                        continue
                    try:
                        self._manifests.append((rel, real.read_text(encoding="utf-8", errors="replace").splitlines()))
                    except OSError:
                        continue
        return self._manifests

    def manifest_line(self, package: str) -> tuple[str, int] | None:
        """(manifest path relative to the source root, line) of the line that declares `package`."""
        name = normalise(package)
        if not name:
            return None
        for rel, lines in self._manifest_texts():
            found = toml_declaration(lines, name) if rel.endswith(".toml") else requirements_declaration(lines, name)
            if found:
                return rel, found
        return None


def normalise(name: str) -> str:
    """A package name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


_REQ = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?:[<>=!~;@ ]|$)")
_TOML_REQ = re.compile(r"""["']\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?:[<>=!~;@ "']|$)""")
_TOML_KEY = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*=")
_TOML_TABLE = re.compile(r"\s*\[+\s*([^\]]+?)\s*\]+\s*$")


def requirements_declaration(lines: list[str], name: str) -> int | None:
    """The line (1-based) of a requirements file that declares the (normalised) package `name`."""
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0]
        m = _REQ.match(text) if text.strip() and not text.lstrip().startswith("-") else None
        if m and normalise(m.group(1)) == name:
            return number
    return None


def toml_declaration(lines: list[str], name: str) -> int | None:
    """The line of a pyproject.toml that declares `name` as a dependency.

    PEP 621 (`dependencies = [...]`, `[project.optional-dependencies]`, `[dependency-groups]`)
    and Poetry (`[tool.poetry.*dependencies]` keys); `name = "app"` and other strings are not
    dependencies. A line-level reading (no TOML parser needed to place a result; nothing here
    decides anything).
    """
    table = ""
    in_array = False
    for number, line in enumerate(lines, 1):
        text = line.split("#", 1)[0]
        header = _TOML_TABLE.match(text)
        if header and not in_array:
            table = header.group(1).strip()
            continue
        key = _TOML_KEY.match(text)
        list_table = table in ("project.optional-dependencies", "dependency-groups")
        if key and not in_array:
            if "[" in text.split("=", 1)[1] and (key.group(1) == "dependencies" or list_table):
                in_array = True
                text = text.split("=", 1)[1]
            elif table.endswith("dependencies") and table.startswith("tool.poetry"):
                if normalise(key.group(1)) == name and key.group(1) != "python":
                    return number
                continue
            else:
                continue
        if in_array:
            if any(normalise(m.group(1)) == name for m in _TOML_REQ.finditer(text)):
                return number
            if "]" in re.sub(r"\[[^\]]*\]", "", text):  # the array's end (an extra's [..] is not)
                in_array = False
    return None
