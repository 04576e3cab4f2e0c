"""Collect: find the input files, read them safely, detect their format, hand them to a reader.

Reading is bounded and strict, and every refusal is an `InputError` (exit 3) that names the file
and, where one exists, the line and column (or byte offset):

- Size: a file over `Limits.max_bytes` (default 256 MiB) is refused from its `fstat` size before
  a byte is read; a file that grows while being read is cut off at the limit plus one byte and
  refused, so memory stays bounded by the limit whatever the file claims.
- Kind: only regular files are read. FIFOs, sockets and devices are refused from `stat` before
  they are opened (opening a tape device rewinds it; opening a FIFO blocks), and again from the
  `fstat` of the opened descriptor (opened non-blocking), so a path swapped in between is caught.
- Symbolic links: followed only while they stay inside the working directory. A path that lies
  under the working directory but resolves (through a link, in any component) to somewhere
  outside it is refused: a pull request can commit `reports/bandit.json -> ~/.ssh/id_rsa`, and the
  gate must never read, nor echo a byte of, a file outside the workspace. A path the command line
  names outside the working directory is read as named (the pipeline chose it, not the pull
  request). Links found while expanding a directory obey the same rule: they are never silently
  skipped, since a report skipped is a report lost.
- Parsing: JSON and XML by their one reading function each in `gate.documents` (`json.parse_json`:
  encodings, strict, bounded depth and numbers; `xml.parse_xml`: no DTD, no entity, bounded depth);
  `--max-depth` (`Limits.max_depth`, default 128) is their bound.
- A document no reader recognises is an input error too, never "no findings"; more findings than
  `Limits.max_findings` (default one million) is an input error.
- Several large files (4 MiB or more in all, Linux, one thread) are read at once by forked
  children and this process (`read_reports`, `gate.parallel`): the same reports in the same
  order, and the error of the first file in order that fails, as if read one by one.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.documents.json import decode_text, parse_json, skip_ws, sniff_encoding
from gate.documents.xml import parse_xml
from gate.errors import InputError
from gate.model import ReadResult

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_DEPTH = 128
DEFAULT_MAX_FINDINGS = 1_000_000

REPORT_SUFFIXES = (".json", ".sarif", ".xml", ".cdx", ".spdx")
"""What a directory argument is searched for (case-insensitive)."""


@dataclass(frozen=True)
class Limits:
    """Bounds on what one run reads; each is overridable from the command line."""

    max_bytes: int = DEFAULT_MAX_BYTES
    max_depth: int = DEFAULT_MAX_DEPTH
    max_findings: int = DEFAULT_MAX_FINDINGS


@dataclass(frozen=True)
class Report:
    """One input file, read: where it came from, its digest, and what its reader made of it."""

    path: str
    sha256: str
    size: int
    media: str
    result: ReadResult


def _readers() -> list[Any]:
    # Imported here, not at module load, so `gate --version` and `gate --help` start fast.
    from sbom.registry import READERS as SBOM_READERS
    from scanners.registry import READERS as REPORT_READERS

    return [*SBOM_READERS, *REPORT_READERS]


def formats() -> list[str]:
    """Every format name `--as` accepts, sorted."""
    from sbom.registry import FORMATS as SBOM_FORMATS
    from scanners.registry import FORMATS as REPORT_FORMATS

    return sorted({*SBOM_FORMATS, *REPORT_FORMATS})


# --------------------------------------------------------------------------------------------
# Finding the files


def expand_inputs(args: Sequence[str], *, allow_empty: bool = False) -> list[str]:
    """Turn the command line's paths, directories and globs into a list of files, in a stable order.

    A glob that matches nothing or a directory without reports is an input error unless
    `allow_empty`; a missing explicit path always is. Entries of a directory whose name looks
    like a report are listed whatever their kind (FIFO, link): reading refuses the wrong kinds
    loudly rather than skipping them silently.
    """
    files: list[str] = []
    for arg in args:
        if any(ch in arg for ch in "*?["):
            matches = sorted(str(p) for p in _glob(arg))
            if not matches and not allow_empty:
                raise InputError("the pattern matched no file", file=arg)
            files.extend(matches)
            continue
        path = Path(arg)
        if path.is_dir():
            found = sorted(str(p) for p in path.rglob("*") if p.suffix.lower() in REPORT_SUFFIXES and not p.is_dir())
            if not found and not allow_empty:
                raise InputError(f"the directory holds no report ({', '.join('*' + s for s in REPORT_SUFFIXES)})", file=arg)
            files.extend(found)
            continue
        if not os.path.lexists(arg):
            raise InputError("no such file", file=arg)
        files.append(arg)
    if not files and not allow_empty:
        raise InputError("no report to evaluate (give report paths, or --allow-empty)")
    return list(dict.fromkeys(files))


def _glob(pattern: str) -> Iterable[Path]:
    p = Path(pattern)
    if p.is_absolute():
        return Path(p.anchor).glob(str(p.relative_to(p.anchor)))
    return Path().glob(pattern)


# --------------------------------------------------------------------------------------------
# Reading bytes


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _resolve(path: str) -> str:
    """The real path to open, refusing links that lead from the workspace to outside it."""
    cwd = os.getcwd()
    lexical = os.path.abspath(path)
    real = os.path.realpath(path)
    if lexical != real and _inside(lexical, cwd) and not _inside(real, os.path.realpath(cwd)):
        raise InputError(
            "resolves through a symbolic link to a file outside the working directory: refused",
            file=path,
            hint="the gate reads nothing outside the workspace through links; name the file itself",
        )
    return real


def _kind_error(mode: int, path: str) -> InputError | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return InputError("is a directory, not a report", file=path)
    kinds = ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"))
    kind = next((name for test, name in kinds if test(mode)), "not a file")
    return InputError(f"is {kind}, not a regular file: refused", file=path, hint="write the report to a file and pass that")


def _too_big(size: int, path: str, limits: Limits) -> InputError:
    return InputError(f"file is {size} bytes, over the limit of {limits.max_bytes}", file=path, hint="raise it with --max-bytes")


def read_bytes(path: str, limits: Limits) -> bytes:
    """Read a regular file, refusing links out of the workspace, FIFOs, devices, directories and oversized files."""
    try:
        if os.path.islink(path) and not os.path.exists(path):
            raise InputError("is a symbolic link to a file that does not exist", file=path)
        real = _resolve(path)
        st = os.stat(real)
    except FileNotFoundError:
        raise InputError("no such file", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=path) from None
    problem = _kind_error(st.st_mode, path)
    if problem:
        raise problem
    if st.st_size > limits.max_bytes:
        raise _too_big(st.st_size, path, limits)
    flags = (
        os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    )
    try:
        fd = os.open(real, flags)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=path) from None
    try:
        fst = os.fstat(fd)
        problem = _kind_error(fst.st_mode, path)  # swapped for something else since the stat
        if problem:
            raise problem
        if fst.st_size > limits.max_bytes:
            raise _too_big(fst.st_size, path, limits)
        data = _read_at_most(fd, limits.max_bytes + 1, fst.st_size)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror or exc}", file=path) from None
    finally:
        os.close(fd)
    if len(data) > limits.max_bytes:
        raise InputError(
            f"file grew past the limit of {limits.max_bytes} bytes while being read", file=path, hint="raise it with --max-bytes"
        )
    if not data:
        raise InputError("the file is empty (0 bytes): a report was expected", file=path)
    return data


def _read_at_most(fd: int, budget: int, size_hint: int) -> bytes:
    # The size from fstat sizes the first read exactly; files that lie about it (/proc, growing
    # files) are read on in chunks, never past the budget.
    parts: list[bytes] = []
    want = min(budget, size_hint + 1)
    while budget > 0:
        chunk = os.read(fd, max(1, min(budget, want)))
        if not chunk:
            break
        parts.append(chunk)
        budget -= len(chunk)
        want = 1 << 20
    return parts[0] if len(parts) == 1 else b"".join(parts)


# --------------------------------------------------------------------------------------------
# Media

_WS_BYTES = re.compile(rb"[ \t\r\n]*")


def _media(data: bytes, path: str) -> str:
    """`json` or `xml`, from the first character that is not white space."""
    encoding, skip = sniff_encoding(data)
    if encoding == "utf-8":
        m = _WS_BYTES.match(data, skip)
        first = data[m.end() : m.end() + 1] if m else b""
        if not first:
            raise InputError("the file holds only white space: a report was expected", file=path)
        return "xml" if first == b"<" else "json"
    width = 4 if encoding.startswith("utf-32") else 2
    head = data[skip : skip + width * 64]
    text = head[: len(head) - len(head) % width].decode(encoding, errors="replace").lstrip(" \t\r\n")
    if not text and len(data) - skip <= width * 64:
        raise InputError("the file holds only white space: a report was expected", file=path)
    return "xml" if text.startswith("<") else "json"


# --------------------------------------------------------------------------------------------
# Detecting and reading


def load_document(path: str, limits: Limits | None = None) -> tuple[Any, str, bytes]:
    """Read and parse one file: (document, media, raw bytes). Media is `json` or `xml`."""
    limits = limits or Limits()
    data = read_bytes(path, limits)
    return parse_document(data, path, limits)


def parse_document(data: bytes, path: str, limits: Limits | None = None) -> tuple[Any, str, bytes]:
    """Parse bytes already read (as `load_document` does after reading): (document, media, bytes)."""
    limits = limits or Limits()
    if not data:
        raise InputError("the file is empty (0 bytes): a report was expected", file=path)
    media = _media(data, path)
    if media == "xml":
        encoding, _ = sniff_encoding(data)
        if encoding.startswith("utf-32"):
            raise InputError("UTF-32 XML is not supported (expat reads UTF-8 and UTF-16)", file=path, hint="re-encode the file as UTF-8")
        return parse_xml(data, path, limits.max_depth), "xml", data
    text = decode_text(data, path)
    if skip_ws(text, 0) >= len(text):
        raise InputError("the file holds only white space: a report was expected", file=path)
    return parse_json(text, path, limits.max_depth), "json", data


def detect(doc: Any, media: str, path: str, as_format: str | None = None) -> Any:
    """The reader for this document: the forced one (`--as`), else the first that recognises it."""
    readers = [r for r in _readers() if r.media == media]
    if as_format:
        chosen = [r for r in readers if r.format == as_format]
        if not chosen:
            names = ", ".join(sorted({r.format for r in _readers()}))
            known = {r.format for r in _readers()}
            if as_format in known:
                raise InputError(f"--as {as_format} cannot read a {media.upper()} document", file=path)
            raise InputError(f"unknown format {as_format!r} (known: {names})", file=path)
        return chosen[0]
    for reader in readers:
        if reader.detect(doc):
            return reader
    kinds = ", ".join(sorted({r.format for r in readers}))
    raise InputError(
        f"unknown format: this {media.upper()} document is none of {kinds}",
        file=path,
        hint="force one with --as FORMAT",
    )


def read_document(data: bytes, path: str, *, as_format: str | None = None, limits: Limits | None = None) -> Report:
    """Parse, detect and read bytes already in memory (what `read_report` does after reading the file)."""
    limits = limits or Limits()
    doc, media, data = parse_document(data, path, limits)
    reader = detect(doc, media, path, as_format)
    result = reader.read(doc, path)
    if not isinstance(result, ReadResult):  # a reader bug, not a user error
        raise TypeError(f"reader {reader.format} returned {type(result).__name__}")
    if len(result.findings) > limits.max_findings:
        raise InputError(
            f"{len(result.findings)} findings, over the limit of {limits.max_findings}",
            file=path,
            hint="raise it with --max-findings",
        )
    return Report(path=path, sha256=hashlib.sha256(data).hexdigest(), size=len(data), media=media, result=result)


def read_report(path: str, *, as_format: str | None = None, limits: Limits | None = None) -> Report:
    """Read one file end to end: bytes, parse, detect, read. Raises `InputError`."""
    limits = limits or Limits()
    return read_document(read_bytes(path, limits), path, as_format=as_format, limits=limits)


def collect(paths: Sequence[str], *, as_format: str | None = None, limits: Limits | None = None, allow_empty: bool = False) -> list[Report]:
    """Read every input named on the command line, in a stable order."""
    limits = limits or Limits()
    files = expand_inputs(paths, allow_empty=allow_empty)
    reports = read_reports(files, as_format=as_format, limits=limits)
    total = sum(len(r.result.findings) for r in reports)
    if total > limits.max_findings:
        raise InputError(f"{total} findings in all, over the limit of {limits.max_findings}", hint="raise it with --max-findings")
    return reports


# --------------------------------------------------------------------------------------------
# Reading several files at once
#
# Reading is CPU work (parsing, then the reader's walk): 0.7 s for each 24 MB SARIF log of the
# violation-heavy benchmark at 10^5 findings, 2.9 s for its five files in a row. Where forking
# is safe (`gate.parallel.can_fork`: Linux, one thread) and the files are large enough together,
# forked children read some of them (`gate.parallel.ordered_map`) while this process reads the
# others, and the reports come back in the order of the files, with the errors the loop
# would raise. Small runs never fork.

PARALLEL_MIN_BYTES = 4 << 20
"""Below this many bytes in all, every file is read here, in order.

Measured on two cores (December 2026, fresh processes, medians of 7): the violation-heavy shape
at 3.6 MB read in 160 ms one by one, 131 ms shared; at 5.5 MB 234 and 203 ms; the base shape at
10 MB 366 and 289 ms; at 2.2 to 2.6 MB the gain (20 ms) was within the noise, and the fastest
sequential run beat the fastest shared one. A fork costs 2 ms; a child reading the first SBOM of
the run builds the CycloneDX schema validator again (40 ms)."""

PROCESS_MIN_BYTES = 2 << 20
"""Each reading process gets about this many bytes at least (fewer processes otherwise)."""

MAX_PROCESSES = 8

CHILD_COST = 1.2
"""A file read in a child costs it the reading and the pickling of its report (about 0.2 of the
reading), relative to reading it here."""

PARENT_COST = 0.25
"""A file read in a child still costs this process the unpickling of its report (0.2 to 0.3 of
the reading)."""


def _size(path: str) -> int:
    try:
        return max(0, os.stat(path).st_size)
    except OSError:  # reading it names the problem
        return 0


def share_by_size(sizes: Sequence[int], processes: int) -> list[list[int]]:
    """Share files among `processes` (0: this one), largest first, each where it ends soonest.

    Each file goes to this process or to the least loaded child, whichever makes the expected
    end of the whole reading earlier; a file sent to a child costs it `CHILD_COST` and this
    process `PARENT_COST` of its reading time. Children left without a file are dropped.
    """
    order = sorted(range(len(sizes)), key=lambda i: (-sizes[i], i))
    shares: list[list[int]] = [[] for _ in range(max(1, processes))]
    loads = [0.0] * len(shares)
    for i in order:
        size = float(sizes[i])
        if len(shares) == 1:
            shares[0].append(i)
            continue
        child = min(range(1, len(loads)), key=lambda k: (loads[k], k))
        others = max((loads[k] for k in range(1, len(loads)) if k != child), default=0.0)
        here = max(loads[0] + size, *loads[1:])
        there = max(loads[0] + size * PARENT_COST, loads[child] + size * CHILD_COST, others)
        if there < here:
            shares[child].append(i)
            loads[child] += size * CHILD_COST
            loads[0] += size * PARENT_COST
        else:
            shares[0].append(i)
            loads[0] += size
    return [shares[0], *(share for share in shares[1:] if share)]


def reading_plan(files: Sequence[str], *, processes: int | None = None) -> list[list[int]]:
    """Which process reads which file: one list (this process, in order) or several (see `share_by_size`).

    `processes` forces a number (still only where forking is safe); by default it is the CPUs
    this process may use, at most `MAX_PROCESSES`, and one per `PROCESS_MIN_BYTES`, and none but
    this one under `PARALLEL_MIN_BYTES` in all.
    """
    sequential = [list(range(len(files)))]
    if len(files) < 2 or processes == 1:
        return sequential
    sizes = [_size(f) for f in files]
    if processes is None and sum(sizes) < PARALLEL_MIN_BYTES:
        return sequential
    from gate import parallel  # only for large runs: pickle and select are not every run's imports

    if not parallel.can_fork():
        return sequential
    if processes is None:
        processes = min(parallel.cpu_count(), MAX_PROCESSES, sum(sizes) // PROCESS_MIN_BYTES)
    processes = min(processes, len(files))
    return sequential if processes < 2 else share_by_size(sizes, processes)


def read_reports(
    files: Sequence[str], *, as_format: str | None = None, limits: Limits | None = None, processes: int | None = None
) -> list[Report]:
    """`read_report` of every file, in order, in several processes where it pays (`reading_plan`).

    The reports, their order and the error raised are those of reading the files one by one:
    the error of the first file (in order) that fails.
    """
    limits = limits or Limits()
    shares = reading_plan(files, processes=processes)
    if len(shares) < 2:
        return [read_report(f, as_format=as_format, limits=limits) for f in files]
    return read_shared(files, shares, as_format=as_format, limits=limits)


def read_shared(
    files: Sequence[str], shares: Sequence[Sequence[int]], *, as_format: str | None = None, limits: Limits | None = None
) -> list[Report]:
    """`read_report` of every file, share 0 here and each other share in a forked child (`gate.parallel.ordered_map`).

    Call it where forking is safe (`gate.parallel.can_fork`); `read_reports` chooses the shares.
    """
    from gate import errors, model, parallel

    limits = limits or Limits()
    _readers()  # imported before the fork: every child has them already
    records = (model.Location, model.Package, model.Finding, model.Component, model.VexStatement, model.ReadResult)
    error_classes = [errors.GateError, errors.ConfigError, errors.InputError, errors.PolicyError, errors.EngineError]
    error_classes += [errors.OutputError, errors.InternalError]
    return parallel.ordered_map(
        lambda i: read_report(files[i], as_format=as_format, limits=limits),
        len(files),
        shares,
        expected=Report,
        allowed=parallel.allow((*records, Report, errors.Position, *error_classes)),
        name=lambda i: files[i],
        pickled=records,
    )
