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
- Encoding: UTF-8 (a BOM is accepted and dropped); UTF-16 and UTF-32 with a BOM, or without one
  as RFC 4627 detects them from the pattern of zero bytes, are decoded; invalid sequences are
  refused with their byte offset. XML is handed to expat as bytes, which honours its BOM and its
  encoding declaration itself.
- JSON: strict. No NaN or Infinity, no raw control characters in strings, no duplicate keys (the
  second occurrence's line and column are reported), no trailing data, nesting no deeper than
  `Limits.max_depth` (default 128), and no number that does not fit an IEEE 754 double: every
  engine must be able to read the input document the gate builds (regorus refuses such numbers,
  and Python would turn `1e400` into an `Infinity` that is not JSON). Integers that do fit are
  kept exactly. An escaped unpaired surrogate (`"\\udc00"`: valid JSON, but no Unicode text, so
  neither a UTF-8 output nor an engine could carry it) becomes U+FFFD, as Unicode decoders do.
- XML: defusedxml with DTDs forbidden (so no entity, internal or external, and no external DTD:
  billion laughs and XXE are refused before any expansion or fetch), nesting bounded while
  parsing.
- A document no reader recognises is an input error too, never "no findings"; more findings than
  `Limits.max_findings` (default one million) is an input error.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any
from xml.etree.ElementTree import Element, TreeBuilder

from gate.errors import InputError, Position
from gate.model import ReadResult

DEFAULT_MAX_BYTES = 256 * 1024 * 1024
DEFAULT_MAX_DEPTH = 128
DEFAULT_MAX_FINDINGS = 1_000_000

JSON_DEPTH_CEILING = 10_000
"""Deepest JSON the parser is allowed to recurse into, whatever `--max-depth` says (C stack)."""

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
# Encodings

_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def sniff_encoding(data: bytes) -> tuple[str, int]:
    """(encoding, length of its BOM): from a BOM, else from the zero bytes of RFC 4627, else UTF-8.

    A JSON or XML document starts with an ASCII character, so in UTF-16 or UTF-32 without a BOM
    its first bytes show a fixed pattern of zeros; a UTF-8 document never starts with a zero.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding, len(bom)
    head = data[:4]
    if len(head) == 4:
        if head[0] == 0 and head[1] == 0 and head[2] == 0 and head[3] != 0:
            return "utf-32-be", 0
        if head[0] != 0 and head[1] == 0 and head[2] == 0 and head[3] == 0:
            return "utf-32-le", 0
    if len(head) >= 2:
        if head[0] == 0 and head[1] != 0:
            return "utf-16-be", 0
        if head[0] != 0 and head[1] == 0:
            return "utf-16-le", 0
    return "utf-8", 0


def decode_text(data: bytes, path: str) -> str:
    """The document as text: UTF-8 (BOM dropped), or UTF-16/32 as sniffed; invalid bytes refused with their offset."""
    encoding, skip = sniff_encoding(data)
    return _decode(data, encoding, path, skip)


def _decode(data: bytes, encoding: str, path: str, skip: int = 0) -> str:
    try:
        return data[skip:].decode(encoding) if skip else data.decode(encoding)
    except UnicodeDecodeError as exc:
        offset = exc.start + skip
        line = data.count(b"\n", 0, offset) + 1 if encoding == "utf-8" else None
        col = offset - (data.rfind(b"\n", 0, offset) + 1) + 1 if line is not None else None
        raise InputError(
            f"invalid {encoding.upper()} at byte {offset}: {exc.reason}",
            file=path,
            position=Position(line=line, column=col, offset=offset),
            hint="a report must be UTF-8 (or UTF-16/32 with a byte-order mark)",
        ) from None


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
# Parsing JSON strictly

# IEEE 754 doubles: the largest finite one is 2**1024 - 2**971; anything from 2**1024 - 2**970 up
# rounds to infinity. Integers below 2**1000 are surely finite and need no exact check.
_SURELY_FINITE = 2**1000


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class _Constant(ValueError):
    pass


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
    raise _Constant(name)


def _line_col(text: str, offset: int) -> Position:
    line = text.count("\n", 0, offset) + 1
    col = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Position(line=line, column=col, offset=None)


def _show(text: str, limit: int = 60) -> str:
    """Attacker text in a message: JSON-quoted (control characters escaped) and cut short."""
    shown = json.dumps(text[:limit])
    return shown + ("…" if len(text) > limit else "")


def parse_json(text: str, path: str, limits: Limits) -> Any:
    """Parse one JSON document strictly: no NaN, no duplicate keys, no trailing data, bounded depth and numbers.

    The bounds cost next to nothing on a valid document (see `_decode_within`, `_FloatCheck` and
    `_long_digit_run`); only a document that may break one is walked whole (`_check_tree`), and a
    document that breaks one is scanned again to say where.
    """
    floats = _FloatCheck()
    decoder = json.JSONDecoder(object_pairs_hook=_pairs_hook, parse_constant=_refuse_constant, parse_float=floats, strict=True)
    start = _skip_ws(text, 0)
    depth = min(limits.max_depth, JSON_DEPTH_CEILING)
    try:
        try:
            bounded = _decode_within(decoder, text, start, depth)
        except RecursionError:  # past the exact bound, or a hook called at its very edge: judged the slow way
            bounded = None
        if bounded is not None:
            doc, end = bounded
        else:
            with _recursion_room(depth):
                doc, end = decoder.raw_decode(text, start)
    except RecursionError:
        raise _depth_error(text, path, limits) from None
    except _DuplicateKey as exc:
        found = _first_duplicate(text)
        key, pos = (found[1], _line_col(text, found[0])) if found else (exc.key, None)
        raise InputError(
            f"duplicate key {_show(key)} in a JSON object", file=path, position=pos, hint="each key may appear once per object"
        ) from None
    except json.JSONDecodeError as exc:
        msg = exc.msg[:-3] if exc.msg.endswith(" at") else exc.msg  # "Invalid control character at"
        raise InputError(f"invalid JSON: {msg}", file=path, position=_line_col(text, exc.pos)) from None
    except ValueError:  # NaN/Infinity, or an integer literal too long to convert (over 4300 digits)
        raise _number_error(text, path) from None
    if bounded is None or floats.infinite or _long_digit_run(text):
        problem = _check_tree(doc, limits.max_depth)
        if problem == "depth":
            raise _depth_error(text, path, limits)
        if problem == "number":
            raise _number_error(text, path)
    end = _skip_ws(text, end)
    if end != len(text):
        raise InputError(
            "invalid JSON: extra data after the document (several JSON values in one file?)",
            file=path,
            position=_line_col(text, end),
        )
    if _ESCAPED_SURROGATE.search(text):
        doc = _replace_lone_surrogates(doc, path)
    return doc


class _FloatCheck:
    """`parse_float` that notes a literal no double holds (`1e400` becomes inf); called for floats only."""

    def __init__(self) -> None:
        self.infinite = False

    def __call__(self, literal: str) -> float:
        value = float(literal)
        if value - value != 0.0:
            self.infinite = True
        return value


_DIGIT_TO_ZERO = bytes(0x30 if 0x30 <= c <= 0x39 else 0x20 for c in range(256))
_STRIDE = 16


def _long_digit_run(text: str) -> bool:
    """False when no 309 ASCII digits follow one another anywhere (strings included): only an
    integer that long may not fit a double (10**308 < 2**1024). True means "maybe".

    Such a run covers at least 19 consecutive characters of every 16th one, so only that sample
    is looked at: one slice, one byte translation (a digit to "0", the rest to a space) and one
    substring search, all in C, over a sixteenth of the text.
    """
    sample = text[::_STRIDE].encode("utf-8", "surrogatepass")  # a non-ASCII character encodes to no digit
    return b"0" * (309 // _STRIDE) in sample.translate(_DIGIT_TO_ZERO)


_depth_offset = 0
"""Recursion limit = Python frames + depth + this, for `_decode_within`; found by probing, kept."""


def _decode_within(decoder: json.JSONDecoder, text: str, start: int, depth: int) -> tuple[Any, int] | None:
    """`decoder.raw_decode` under a recursion limit that refuses exactly the nesting past `depth`.

    The C scanner spends one level of the interpreter's recursion budget per array or object it
    enters, so under the right limit it raises RecursionError at the first level too deep and
    the document need not be walked to measure it. The right limit is found by parsing two
    probes, `depth` and `depth + 1` empty arrays, from this very frame (the budget already spent
    is the same for them as for the document), before every parse. A hook the scanner calls at
    the deepest level (a Python function spends one more level) also raises: the caller then
    parses the slow way, so a RecursionError here never means "too deep" on its own. Returns
    None when no limit separates the probes (an interpreter that counts C recursion apart).

    The cyclic garbage collector is paused meanwhile: a collection at the deepest level would run
    unrelated finalizers (`weakref.finalize`) with no recursion budget left.
    """
    global _depth_offset
    fits, over = "[" * depth + "]" * depth, "[" * (depth + 1) + "]" * (depth + 1)
    saved = sys.getrecursionlimit()
    collecting = gc.isenabled()
    gc.disable()
    base = _stack_depth()
    offset = _depth_offset
    try:
        for _ in range(12):
            try:
                sys.setrecursionlimit(base + depth + offset)
            except RecursionError:  # lower than the frames already on the stack
                offset += 1
                continue
            try:
                decoder.raw_decode(fits, 0)
            except RecursionError:
                offset += 1
                continue
            try:
                decoder.raw_decode(over, 0)
            except RecursionError:
                _depth_offset = offset
                return decoder.raw_decode(text, start)
            offset -= 1
        return None
    finally:
        sys.setrecursionlimit(saved)
        if collecting:
            gc.enable()


# `\udc00` is valid JSON but no Unicode: the decoder keeps it as a lone surrogate, which no
# UTF-8 output and no engine can carry. The raw text is searched first (fast, in C); only a
# document that escapes a surrogate at all is walked. Pairs were already joined by the decoder,
# so every surrogate left is unpaired.
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _replace_lone_surrogates(doc: Any, path: str) -> Any:
    """Replace unpaired surrogates in every string (keys too) with U+FFFD, as decoders do."""

    def fix(v: Any) -> Any:
        return _SURROGATE.sub("\ufffd", v) if type(v) is str and _SURROGATE.search(v) else v

    if not isinstance(doc, (dict, list)):
        return fix(doc)
    stack: list[Any] = [doc]
    while stack:
        node = stack.pop()
        if type(node) is dict:
            items = [(fix(k), v) for k, v in node.items()]
            if len({k for k, _ in items}) != len(items):
                raise InputError("duplicate key in a JSON object once unpaired surrogates are replaced", file=path)
            node.clear()
            node.update((k, fix(v)) for k, v in items)
            values: Iterable[Any] = node.values()
        else:
            for i, v in enumerate(node):
                node[i] = fix(v)
            values = node
        stack.extend(v for v in values if type(v) is dict or type(v) is list)
    return doc


class _recursion_room:
    """Make room on the interpreter's recursion budget for the JSON parser to reach `depth`."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.saved = sys.getrecursionlimit()

    def __enter__(self) -> None:
        needed = _stack_depth() + self.depth + 64
        if needed > self.saved:
            sys.setrecursionlimit(needed)

    def __exit__(self, *exc: object) -> None:
        sys.setrecursionlimit(self.saved)


def _stack_depth() -> int:
    n = 0
    frame: FrameType | None = sys._getframe()
    while frame is not None:
        frame, n = frame.f_back, n + 1
    return n


def _check_tree(doc: Any, max_depth: int) -> str | None:
    """The bound the parsed document breaks, "depth" or "number", or None; one pass, no recursion."""
    if not isinstance(doc, (dict, list)):
        return "number" if not _finite(doc) else None
    level: list[Any] = [doc]
    depth = 0
    while level:
        depth += 1
        if depth > max_depth:
            return "depth"
        nxt: list[Any] = []
        for node in level:
            for v in node.values() if type(node) is dict else node:
                t = type(v)
                if t is dict or t is list:
                    nxt.append(v)
                elif (t is int and not -_SURELY_FINITE < v < _SURELY_FINITE) or t is float:
                    if not _finite(v):
                        return "number"
        level = nxt
    return None


def _finite(v: Any) -> bool:
    if type(v) is float:
        return v - v == 0.0  # False for inf and nan
    if type(v) is int:
        try:
            float(v)
        except OverflowError:
            return False
    return True


_WS = re.compile(r"[ \t\n\r]*")


def _skip_ws(text: str, pos: int) -> int:
    m = _WS.match(text, pos)
    return m.end() if m else pos


# Locating a problem the C parser reports without a position. Each runs only on the error path,
# over a document that is valid JSON up to the problem, in one linear pass of a regular
# expression: strings whole (so brackets and digits inside them do not count), structure, and
# numbers and the non-JSON constants.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[{}\[\],:]|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|NaN|-?Infinity', re.S)


def _tokens(text: str) -> Iterator[re.Match[str]]:
    return _TOKEN.finditer(text)


def _first_duplicate(text: str) -> tuple[int, str] | None:
    """Offset and key of the first key that repeats within its object, in document order."""
    scanstring: Any = json.decoder.scanstring  # type: ignore[attr-defined]
    stack: list[set[str] | None] = []  # a set of keys per open object, None per open array
    expect_key = False
    for m in _tokens(text):
        tok = m.group()
        c = tok[0]
        if c == '"':
            if expect_key and stack and stack[-1] is not None:
                key = scanstring(text, m.start() + 1, True)[0]
                if key in stack[-1]:
                    return m.start(), key
                stack[-1].add(key)
            expect_key = False
        elif c == "{":
            stack.append(set())
            expect_key = True
        elif c == "[":
            stack.append(None)
            expect_key = False
        elif c in "}]":
            if stack:
                stack.pop()
            expect_key = False
        elif c == ",":
            expect_key = bool(stack) and stack[-1] is not None
    return None


def _first_too_deep(text: str, max_depth: int) -> int | None:
    """Offset of the first bracket that opens level `max_depth + 1`."""
    depth = 0
    for m in _tokens(text):
        c = m.group()[0]
        if c in "{[":
            depth += 1
            if depth > max_depth:
                return m.start()
        elif c in "}]":
            depth -= 1
    return None


def _first_bad_number(text: str) -> tuple[int, str] | None:
    """Offset and text of the first NaN/Infinity, or number that no double can hold."""
    for m in _tokens(text):
        tok = m.group()
        c = tok[0]
        if c in "NI" or tok.startswith("-I"):
            return m.start(), tok
        if (c == "-" or c.isdigit()) and not _number_fits(tok):
            return m.start(), tok
    return None


def _number_fits(tok: str) -> bool:
    if any(ch in tok for ch in ".eE"):
        return _finite(float(tok))  # float() of a long literal is linear, and inf when too large
    # 10**309 is past every double; shorter integers are converted exactly (no 4300-digit limit hit).
    return len(tok.lstrip("-")) <= 309 and _finite(int(tok))


def _depth_error(text: str, path: str, limits: Limits) -> InputError:
    limit = min(limits.max_depth, JSON_DEPTH_CEILING)
    where = _first_too_deep(text, limit)
    ceiling = f" (the parser's ceiling, below --max-depth {limits.max_depth})" if limits.max_depth > JSON_DEPTH_CEILING else ""
    return InputError(
        f"JSON nested deeper than {limit} levels{ceiling}",
        file=path,
        position=_line_col(text, where) if where is not None else None,
        hint="raise it with --max-depth" if not ceiling else None,
    )


def _number_error(text: str, path: str) -> InputError:
    found = _first_bad_number(text)
    if found is None:  # cannot happen for a document the parser refused for a number
        return InputError("invalid JSON: a number out of range", file=path)
    offset, tok = found
    pos = _line_col(text, offset)
    if tok.lstrip("-") in ("NaN", "Infinity"):
        return InputError(f"invalid JSON: {tok} is not a JSON value", file=path, position=pos, hint="JSON has no NaN or Infinity")
    shown = f"a number of {len(tok)} characters" if len(tok) > 40 else tok
    return InputError(
        f"number out of range: {shown} does not fit a 64-bit floating-point number",
        file=path,
        position=pos,
        hint="no policy engine can represent it",
    )


# --------------------------------------------------------------------------------------------
# Parsing XML safely


class _TooDeep(Exception):
    def __init__(self, position: Position | None = None) -> None:
        super().__init__("too deep")
        self.position = position


class _DepthBuilder(TreeBuilder):
    """An ElementTree builder that stops the parse at the first element deeper than the limit."""

    def __init__(self, max_depth: int) -> None:
        super().__init__()
        self.depth = 0
        self.max_depth = max_depth

    def start(self, tag: Any, attrs: Any) -> Element:
        self.depth += 1
        if self.depth > self.max_depth:
            raise _TooDeep()
        return super().start(tag, attrs)

    def end(self, tag: Any) -> Element:
        self.depth -= 1
        return super().end(tag)


def parse_xml(data: bytes, path: str, limits: Limits) -> Any:
    """Parse XML with defusedxml: no DTD (so no entity and no external resource), bounded depth.

    The bytes go to expat as they are: it reads a BOM and the encoding declaration itself. The
    tree is built by ElementTree's builder; only a document found too deep is parsed again, by a
    builder that stops at the first element past the limit, to say where it is.
    """
    root = _expat(data, path, None)
    if _xml_depth_exceeds(root, limits.max_depth):
        try:
            _expat(data, path, limits.max_depth)
        except _TooDeep as exc:
            raise InputError(
                f"XML nested deeper than {limits.max_depth} levels", file=path, position=exc.position, hint="raise it with --max-depth"
            ) from None
        raise InputError(f"XML nested deeper than {limits.max_depth} levels", file=path, hint="raise it with --max-depth")
    return root


def _xml_depth_exceeds(root: Any, max_depth: int) -> bool:
    level, depth = [root], 1
    while level:
        if depth > max_depth:
            return True
        level = [child for el in level for child in el]
        depth += 1
    return False


def _expat(data: bytes, path: str, max_depth: int | None) -> Any:
    import xml.etree.ElementTree as ET

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import DefusedXMLParser

    # ElementTree's own builder, not defusedxml's default (the pure-Python one, whose elements
    # are not `xml.etree.ElementTree.Element` instances to the readers).
    target = _DepthBuilder(max_depth) if max_depth is not None else TreeBuilder()
    parser = DefusedXMLParser(target=target, forbid_dtd=True, forbid_entities=True, forbid_external=True)

    def here() -> Position:
        expat = parser.parser
        return Position(line=expat.CurrentLineNumber, column=expat.CurrentColumnNumber + 1)

    try:
        parser.feed(data)
        return parser.close()
    except _TooDeep:
        raise _TooDeep(here()) from None
    except DefusedXmlException as exc:
        # The exception's text carries the DTD's system id: attacker text, not echoed.
        what = {
            "DTDForbidden": "a document type declaration (DTD)",
            "EntitiesForbidden": "an entity declaration",
            "ExternalReferenceForbidden": "a reference to an external resource",
        }.get(type(exc).__name__, "an unsafe construct")
        raise InputError(
            f"unsafe XML refused: {what} is not allowed (entities could expand without bound or fetch outside data)",
            file=path,
            position=here(),
        ) from None
    except (LookupError, ValueError):
        # pyexpat looks an encoding it does not know up among Python's codecs: an unknown name
        # is a LookupError, a multi-byte or non-text codec a ValueError. The name is not echoed.
        raise InputError(
            "the XML declaration names an encoding that cannot be read (expat reads UTF-8, UTF-16, ISO-8859-1 and single-byte code pages)",
            file=path,
            position=Position(line=1),
            hint="re-encode the file as UTF-8",
        ) from None
    except ET.ParseError as exc:
        line, col = getattr(exc, "position", (None, None))
        raise InputError(
            f"invalid XML: {str(exc).split(':')[0]}",
            file=path,
            position=Position(line=line, column=(col + 1) if col is not None else None),
        ) from None


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
        return parse_xml(data, path, limits), "xml", data
    text = decode_text(data, path)
    if _skip_ws(text, 0) >= len(text):
        raise InputError("the file holds only white space: a report was expected", file=path)
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
    reports = [read_report(f, as_format=as_format, limits=limits) for f in files]
    total = sum(len(r.result.findings) for r in reports)
    if total > limits.max_findings:
        raise InputError(f"{total} findings in all, over the limit of {limits.max_findings}", hint="raise it with --max-findings")
    return reports
