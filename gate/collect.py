"""Collect: find the input files, read them safely, detect their format, hand them to a reader.

Reading is bounded (size, nesting depth, count) and strict: invalid UTF-8, NaN, duplicate keys,
trailing data and zero-byte files are input errors that name the file and the position. A
document no reader recognises is an input error too, never "no findings".
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gate.errors import InputError, Position
from gate.model import ReadResult

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_DEPTH = 128
DEFAULT_MAX_FINDINGS = 1_000_000


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
    """Turn the command line's paths, directories and globs into a sorted list of files.

    A path that does not exist, a glob that matches nothing, or a directory without reports is an
    input error unless `allow_empty`; a missing explicit path always is.
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
            found = sorted(
                str(p)
                for p in path.rglob("*")
                if p.suffix.lower() in {".json", ".sarif", ".xml", ".cdx", ".spdx"} and p.is_file() and not p.is_symlink()
            )
            if not found and not allow_empty:
                raise InputError("the directory holds no report (*.json, *.sarif, *.xml)", file=arg)
            files.extend(found)
            continue
        if not os.path.lexists(arg):
            raise InputError("no such file", file=arg)
        files.append(arg)
    if not files and not allow_empty:
        raise InputError("no report to evaluate (give report paths, or --allow-empty)")
    seen: set[str] = set()
    unique = []
    for f in files:
        if f not in seen:
            seen.add(f)
            unique.append(f)
    return unique


def _glob(pattern: str) -> Iterable[Path]:
    p = Path(pattern)
    if p.is_absolute():
        return Path(p.anchor).glob(str(p.relative_to(p.anchor)))
    return Path().glob(pattern)


# --------------------------------------------------------------------------------------------
# Reading bytes


def read_bytes(path: str, limits: Limits) -> bytes:
    """Read a regular file, refusing FIFOs, devices, directories and oversized files."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError("no such file", file=path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=path) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError("is a directory, not a report", file=path)
    if not stat.S_ISREG(st.st_mode):
        raise InputError("not a regular file (FIFO, socket or device): refused", file=path)
    if st.st_size > limits.max_bytes:
        raise InputError(
            f"file is {st.st_size} bytes, over the limit of {limits.max_bytes}",
            file=path,
            hint="raise it with --max-bytes",
        )
    try:
        with open(path, "rb") as fh:
            data = fh.read(limits.max_bytes + 1)
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", file=path) from None
    if len(data) > limits.max_bytes:
        raise InputError(f"file is over the limit of {limits.max_bytes} bytes", file=path)
    if not data:
        raise InputError("the file is empty (0 bytes): a report was expected", file=path)
    return data


def decode_text(data: bytes, path: str) -> str:
    """UTF-8 (a BOM is accepted and dropped); UTF-16/32 with a BOM is decoded; anything else refused."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return _decode(data, "utf-32", path)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _decode(data, "utf-16", path)
    return _decode(data, "utf-8", path)


def _decode(data: bytes, encoding: str, path: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError(
            f"invalid {encoding.upper()} at byte {exc.start}: {exc.reason}",
            file=path,
            position=Position(line=line, column=col, offset=exc.start),
        ) from None


# --------------------------------------------------------------------------------------------
# Parsing JSON strictly


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return d


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _line_col(text: str, offset: int) -> Position:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Position(line=line, column=col, offset=offset)


def parse_json(text: str, path: str, limits: Limits) -> Any:
    """Parse one JSON document, strictly: no NaN, no duplicate keys, no trailing data, bounded depth."""
    decoder = json.JSONDecoder(object_pairs_hook=_pairs_hook, parse_constant=_refuse_constant, strict=True)
    try:
        start = _skip_ws(text, 0)
        doc, end = decoder.raw_decode(text, start)
    except RecursionError:
        raise InputError(f"JSON nested deeper than {limits.max_depth} levels", file=path, hint="raise it with --max-depth") from None
    except _DuplicateKey as exc:
        pos = _find_duplicate(text, exc.key)
        raise InputError(f"duplicate key {json.dumps(exc.key)} in a JSON object", file=path, position=pos) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON: {exc.msg}", file=path, position=_line_col(text, exc.pos)) from None
    except ValueError as exc:  # NaN / Infinity from parse_constant
        raise InputError(f"invalid JSON: {exc}", file=path) from None
    _check_json_depth(doc, path, limits)
    end = _skip_ws(text, end)
    if end != len(text):
        raise InputError(
            "invalid JSON: extra data after the document (several JSON values in one file?)",
            file=path,
            position=_line_col(text, end),
        )
    return doc


def _check_json_depth(doc: Any, path: str, limits: Limits) -> None:
    """Refuse documents nested deeper than the limit (the C parser's own bound is far higher)."""
    level = [doc] if isinstance(doc, (dict, list)) else []
    depth = 0
    while level:
        depth += 1
        if depth > limits.max_depth:
            raise InputError(f"JSON nested deeper than {limits.max_depth} levels", file=path, hint="raise it with --max-depth")
        nxt: list[Any] = []
        for node in level:
            values = node.values() if isinstance(node, dict) else node
            nxt.extend(v for v in values if isinstance(v, (dict, list)))
        level = nxt


_WS = re.compile(r"[ \t\n\r]*")


def _skip_ws(text: str, pos: int) -> int:
    m = _WS.match(text, pos)
    return m.end() if m else pos


def _find_duplicate(text: str, key: str) -> Position | None:
    """Where a duplicated key occurs for the second time within one object (best effort)."""
    needle = json.dumps(key) + ""
    hits = [m.start() for m in re.finditer(re.escape(needle) + r"\s*:", text)]
    return _line_col(text, hits[1]) if len(hits) > 1 else None


# --------------------------------------------------------------------------------------------
# Parsing XML safely


def parse_xml(data: bytes, path: str, limits: Limits) -> Any:
    """Parse XML with defusedxml: no DTD, no entity expansion, no external resources."""
    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    try:
        root = DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise InputError(f"unsafe XML refused: {exc}", file=path) from None
    except DET.ParseError as exc:
        line, col = getattr(exc, "position", (None, None))
        raise InputError(
            f"invalid XML: {str(exc).split(':')[0]}",
            file=path,
            position=Position(line=line, column=(col + 1) if col is not None else None),
        ) from None
    _check_xml_depth(root, path, limits)
    return root


def _check_xml_depth(root: Any, path: str, limits: Limits) -> None:
    stack = [(root, 1)]
    while stack:
        el, depth = stack.pop()
        if depth > limits.max_depth:
            raise InputError(f"XML nested deeper than {limits.max_depth} levels", file=path, hint="raise it with --max-depth")
        stack.extend((child, depth + 1) for child in el)


# --------------------------------------------------------------------------------------------
# Detecting and reading


def load_document(path: str, limits: Limits | None = None) -> tuple[Any, str, bytes]:
    """Read and parse one file: (document, media, raw bytes). Media is `json` or `xml`."""
    limits = limits or Limits()
    data = read_bytes(path, limits)
    text = decode_text(data, path)
    first = _skip_ws(text, 0)
    if first >= len(text):
        raise InputError("the file holds only white space: a report was expected", file=path)
    if text[first] == "<":
        # defusedxml reads the encoding declaration itself; hand it the bytes minus any BOM.
        raw = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            raw = text.encode("utf-8")
        return parse_xml(raw, path, limits), "xml", data
    return parse_json(text, path, limits), "json", data


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


def read_report(path: str, *, as_format: str | None = None, limits: Limits | None = None) -> Report:
    """Read one file end to end: bytes, parse, detect, read. Raises `InputError`."""
    limits = limits or Limits()
    doc, media, data = load_document(path, limits)
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


def collect(paths: Sequence[str], *, as_format: str | None = None, limits: Limits | None = None, allow_empty: bool = False) -> list[Report]:
    """Read every input named on the command line, in a stable order."""
    limits = limits or Limits()
    files = expand_inputs(paths, allow_empty=allow_empty)
    reports = [read_report(f, as_format=as_format, limits=limits) for f in files]
    total = sum(len(r.result.findings) for r in reports)
    if total > limits.max_findings:
        raise InputError(f"{total} findings in all, over the limit of {limits.max_findings}", hint="raise it with --max-findings")
    return reports
