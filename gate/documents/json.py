"""JSON documents: one reading function, `parse_json`, strict and bounded.

The rules, each an `InputError` (exit 3) naming the file, line and column:

- Encoding (`decode_text`): UTF-8 (a BOM is accepted and dropped); UTF-16 and UTF-32 with a BOM,
  or without one as RFC 4627 detects them from the pattern of zero bytes, are decoded; invalid
  sequences are refused with their byte offset.
- Strict: no NaN or Infinity, no raw control characters in strings, no duplicate keys (the second
  occurrence's line and column are reported), no trailing data, nesting no deeper than the bound
  (`--max-depth`, default 128), and no number that does not fit an IEEE 754 double: every engine
  must be able to read the input document the gate builds (regorus refuses such numbers, and
  Python would turn `1e400` into an `Infinity` that is not JSON). Integers that do fit are kept
  exactly. An escaped unpaired surrogate (`"\\udc00"`: valid JSON, but no Unicode text, so neither
  a UTF-8 output nor an engine could carry it) becomes U+FFFD, as Unicode decoders do.

Fast path and reference path, side by side in `parse_json`: the fast path bounds the nesting with
the interpreter's recursion limit (`_decode_within`), notes infinite floats as the scanner makes
them (`_FloatCheck`) and looks for 309-digit runs in a sample of the text (`_long_digit_run`), so a
valid document is never walked; the reference path parses with room on the recursion budget
(`_recursion_room`) and walks the tree once (`_check_tree`). The reference runs whenever the fast
path cannot decide. Measured (issue 18, bench/generate.py inputs, 2 shared cores): the walk adds
36-205 % to the parse, 1.1 s in all on the 10^5-finding reports, so the fast path stays;
tests/test_collect_fast_bounds.py holds the two to the same answers.
"""

from __future__ import annotations

import gc
import json
import re
import sys
from collections.abc import Iterable, Iterator
from types import FrameType
from typing import Any

import orjson

from gate.errors import InputError, Position

JSON_DEPTH_CEILING = 10_000
"""Deepest JSON the parser is allowed to recurse into, whatever `--max-depth` says (C stack)."""


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


def parse_json(text: str, path: str, max_depth: int) -> Any:
    """Parse one JSON document strictly: no NaN, no duplicate keys, no trailing data, bounded depth and numbers.

    The bounds cost next to nothing on a valid document (see `_decode_within`, `_FloatCheck` and
    `_long_digit_run`); only a document that may break one is walked whole (`_check_tree`), and a
    document that breaks one is scanned again to say where.
    """
    floats = _FloatCheck()
    decoder = json.JSONDecoder(object_pairs_hook=_pairs_hook, parse_constant=_refuse_constant, parse_float=floats, strict=True)
    start = skip_ws(text, 0)
    depth = min(max_depth, JSON_DEPTH_CEILING)
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
        raise _depth_error(text, path, max_depth) from None
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
        problem = _check_tree(doc, max_depth)
        if problem == "depth":
            raise _depth_error(text, path, max_depth)
        if problem == "number":
            raise _number_error(text, path)
    end = skip_ws(text, end)
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


def skip_ws(text: str, pos: int) -> int:
    """The offset of the first character at or after `pos` that is not JSON white space."""
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


def _depth_error(text: str, path: str, max_depth: int) -> InputError:
    limit = min(max_depth, JSON_DEPTH_CEILING)
    where = _first_too_deep(text, limit)
    ceiling = f" (the parser's ceiling, below --max-depth {max_depth})" if max_depth > JSON_DEPTH_CEILING else ""
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
# The gate's own documents: written for an engine, read back


def encode(value: Any, *, canonical: bool) -> tuple[bytes, bool]:
    """`value`, built of JSON values, as UTF-8 JSON text, and whether orjson wrote it: the one
    encoder of the gate's own documents (the engine's input, every JSON output).

    `canonical`: `json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)` and a newline
    (the outputs: orjson writes the same text, tests/test_output_encoder.py compares them byte
    for byte, except a float in exponent form, `1e-5` for `1e-05`, the same number); otherwise
    compact, `json.dumps(value, ensure_ascii=False)` (the engine's input). orjson writes the
    10^5-finding documents in a fraction of the standard encoder's time (0.17 s against
    0.96-1.33 s for the input; the indenting encoder is pure Python: 5 s of a 14 s run for the
    verdict, issue 20). Where orjson refuses (an integer beyond 64 bits, a lone surrogate, a key
    that is not a string) the standard encoder writes what it always wrote (a lone surrogate
    kept, `surrogatepass`, for the caller to refuse or pass on). NaN and the infinities (orjson
    writes `null`, the standard encoder `NaN`, which is not JSON) do not arise: JSON inputs are
    parsed strictly (`parse_json` refuses them and numbers no double holds), XML inputs are
    validated against their schemas, YAML data refuses `.nan` and `.inf`, and the input schema
    types no field as a float (`test_the_input_document_holds_no_float_field`).
    """
    try:
        return orjson.dumps(value, default=_not_json, option=_CANONICAL if canonical else _PASSTHROUGH), True
    except (TypeError, orjson.JSONEncodeError):  # orjson.JSONEncodeError is a TypeError
        if canonical:
            text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        else:
            text = json.dumps(value, ensure_ascii=False)
        return text.encode("utf-8", "surrogatepass"), False


def dump_document(value: Any) -> tuple[str, bool]:
    """`value`, a document the gate built of JSON values, as compact JSON text for an engine, and
    whether orjson wrote it (`load_document` then reads it back with orjson too): `encode`."""
    raw, fast = encode(value, canonical=False)
    return raw.decode("utf-8", "surrogatepass"), fast


# What orjson would write and the standard encoder refuses or writes otherwise (dataclasses,
# datetimes, subclasses of str, int, dict and list) goes to `_not_json`, which
# refuses it, so the standard encoder judges it as it always did: a bug that puts such a value in
# a document fails as loudly as before.
_PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
_CANONICAL = _PASSTHROUGH | orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


def _not_json(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def load_document(text: str, fast: bool) -> Any:
    """A document written by `dump_document` read back: orjson (0.6 s at 10^5 findings, half the
    standard decoder's time) where orjson wrote it, so that no integer is beyond its 64 bits
    (orjson reads those as floats); the standard decoder otherwise."""
    if fast:
        return orjson.loads(text)
    return json.loads(text)
