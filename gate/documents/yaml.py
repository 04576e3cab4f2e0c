"""YAML (and JSON) files written by people: data, waivers, baseline. One reading function, `loads`
(`load` reads the file first), which gives the value and the line and column of every node.

One library: PyYAML's libyaml parser (C) gives the events; `_Builder` makes plain values of them
(dict, list, str, int, float, bool, None) under the YAML 1.2 core schema, remembering where each
mapping key and sequence item stood. Until issue 18 a second reader, ruamel.yaml's round-trip
loader, read every file the libyaml builder could not promise to read alike; measured on the
shipped data and a waivers file (8 files, 22 KB, 2 shared cores), ruamel took 180-350 ms where
the builder takes 2.5-5 ms (cold, imports included: 470-530 ms against 33-88 ms), so the builder
stayed and now reads everything itself; ruamel is gone, and with it the tests that held the two
to agreeing.

Every file is bounded while its events are read, before anything larger than the text is built:
at most `MAX_ALIASES` aliases, at most `MAX_ALIAS_NODES` nodes added by expanding them (a 1 KB
alias bomb once took 36 s and 950 MB), at most `MAX_DEPTH` levels of nesting. Refused, each a
`ConfigError` (exit 2) naming the file, line and column: a syntax error, a duplicate key (also
two keys that are the same once written as text, `1` and `"1"`), a key that is not a scalar, a
tag other than YAML's own (`!!str`, `!!int`, ...), a directive other than `%YAML 1.2`, several
documents in one file, an undefined (or recursive) alias, NaN or an infinity, and a number no
IEEE 754 double holds (the policy engines read the data as JSON, which has neither).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import yaml
from yaml import events as ev

from gate.errors import ConfigError, Position

if TYPE_CHECKING:
    from yaml.events import Event

MAX_ALIASES = 100
"""Aliases one file may use (a stage profile merged into another takes a handful)."""
MAX_ALIAS_NODES = 10_000
"""Nodes (scalars and collections) that expanding the aliases may add to a file."""
MAX_DEPTH = 64
"""Levels of nesting (the deepest shipped file has five)."""
_BOUND_HINT = f"a file may use {MAX_ALIASES} aliases adding {MAX_ALIAS_NODES} nodes, nested {MAX_DEPTH} levels: write the values out"


class _Mark(Protocol):
    """Where libyaml (or the pure-Python parser) saw something: 0-based line and column."""

    line: int
    column: int


Marks = dict[tuple[str | int, ...], tuple[int, int]]
"""Where each node of a file stood: its path -> (line, column), 0-based: a mapping value by its
key, a sequence item by where it starts."""


@dataclass
class Located:
    """A plain Python value and where each part of it stood in the file."""

    value: Any
    path: str
    marks: Marks = field(default_factory=dict, repr=False)

    def position(self, json_path: Sequence[str | int]) -> Position:
        """The line and column (1-based) of the node at `json_path`, or of its nearest known parent."""
        pos = Position(line=1, column=1)
        for i in range(1, len(json_path) + 1):
            mark = self.marks.get(tuple(json_path[:i]))
            if mark is None:
                break
            pos = Position(line=mark[0] + 1, column=mark[1] + 1)
        return pos


def load(path: str | Path, *, what: str = "file", timestamps_as_text: bool = False) -> Located:
    """Read and load a YAML (or JSON, which is YAML) file with positions. Raises ConfigError (exit 2)."""
    p = str(path)
    try:
        text = Path(p).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", file=p) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what}: {exc}", file=p) from None
    return loads(text, p, what=what, timestamps_as_text=timestamps_as_text)


def loads(text: str, path: str, *, what: str = "file", timestamps_as_text: bool = False) -> Located:
    """Load YAML text already read; `path` names the file in errors (and, by its suffix, says JSON:
    a `.json` file is read by the JSON reading function, with JSON's line and column for its errors).

    `timestamps_as_text` keeps plain timestamps as written (the waivers file judges them itself).
    """
    if path.endswith(".json"):
        return _load_json(text, path, what)
    builder = _Builder(path, what, timestamps_as_text)
    return Located(value=_read(text, path, what, builder), path=path, marks=builder.marks)


def _load_json(text: str, path: str, what: str) -> Located:
    """A `.json` file: its value from the one JSON reading function (`gate.documents.json`: strict,
    depth bounded at `MAX_DEPTH`, no NaN, numbers that fit a double), its positions from the YAML
    events of the same text (JSON is YAML) when libyaml reads it (it refuses escaped surrogate
    pairs, which JSON allows: such a file's errors name its first line)."""
    from gate.documents.json import parse_json
    from gate.errors import InputError

    try:
        value = parse_json(text, path, MAX_DEPTH)
    except InputError as exc:
        hint = _BOUND_HINT if "nested deeper" in exc.message else exc.hint
        raise ConfigError(f"{exc.message} (in {what})", file=path, position=exc.position, hint=hint) from None
    builder = _Builder(path, what, False)
    try:
        _read(text, path, what, builder)
    except ConfigError:
        return Located(value=value, path=path)
    return Located(value=value, path=path, marks=builder.marks)


def _read(text: str, path: str, what: str, builder: _Builder) -> Any:
    """The builder's value of the text; libyaml's errors as ConfigError with their line and column."""
    loader = (getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader)(text)  # only its parser is used
    try:
        return builder.build(loader.get_event)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if "nesting depth" in str(exc.problem) and mark is not None:  # libyaml's own ceiling (1000 levels)
            raise _bound(f"{what} is nested deeper than {MAX_DEPTH} levels", path, mark) from None
        raise ConfigError(
            f"invalid YAML in {what}: {exc.problem or exc.context}",
            file=path,
            position=Position(mark.line + 1, mark.column + 1) if mark else None,
        ) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (a NUL, a C1 control)
        offset = exc.position
        line = text.count("\n", 0, offset)
        raise ConfigError(
            f"invalid YAML in {what}: {exc.reason} (character {exc.character!r})",
            file=path,
            position=Position(line + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1),
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML in {what}: {exc}", file=path) from None
    finally:
        loader.dispose()


def _bound(message: str, path: str, mark: _Mark) -> ConfigError:
    return ConfigError(message, file=path, position=_position(mark), hint=_BOUND_HINT)


def _where(mark: _Mark | None) -> tuple[int, int]:
    return (mark.line, mark.column) if mark is not None else (0, 0)


def _position(mark: _Mark | None) -> Position:
    return Position(mark.line + 1, mark.column + 1) if mark is not None else Position(1, 1)


# --------------------------------------------------------------------------------------------
# Plain scalars: YAML 1.2's core schema, as ruamel.yaml (the reader before) resolved it

_NULL = frozenset(("", "~", "null", "Null", "NULL"))
_TRUE = frozenset(("true", "True", "TRUE"))
_FALSE = frozenset(("false", "False", "FALSE"))
_FLOAT_12 = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_INT_12 = re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$")
_TIMESTAMP = re.compile(
    r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
    |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
    (?:[Tt]|[ \t]+)[0-9][0-9]?
    :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
    (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
    re.X,
)
_LONGEST_NUMBER = 400
"""Digits past which a number cannot fit a double (10**309 does not), refused before converting."""
_YAML_TAG = "tag:yaml.org,2002:"
_MERGE = object()
_NO_KEY = object()


class _Refused(Exception):
    """What the builder refuses, with the event whose mark says where."""

    def __init__(self, message: str, mark: _Mark | None, hint: str | None = None, *, whole: bool = False) -> None:
        super().__init__(message)
        self.message, self.mark, self.hint, self.whole = message, mark, hint, whole


def _number(text: str, kind: str, mark: _Mark | None) -> int | float:
    """The int or float a plain (or `!!int`/`!!float`) scalar writes; refused when no double holds it."""
    digits = text.replace("_", "")
    if len(digits) > _LONGEST_NUMBER or digits.lstrip("+-").lower() in (".inf", ".nan"):
        raise _Refused(
            f"the number {text[:40]!r}{'…' if len(text) > 40 else ''} is not a finite 64-bit floating-point number",
            mark,
            "JSON and the policy engines have no NaN, no infinity and no larger number: quote it if it is text",
        )
    try:
        if kind == "float":
            value: int | float = float(digits)
        else:
            sign = -1 if digits.startswith("-") else 1
            body = digits.lstrip("+-")
            base = {"0b": 2, "0o": 8, "0x": 16}.get(body[:2], 10)
            value = sign * int(body[2:] if base != 10 else body, base)
        float(value)
    except OverflowError:
        value = float("inf")
    except ValueError:
        raise _Refused(f"{text!r} is not a valid {kind}", mark, "quote it if it is text") from None
    if value - value != 0:  # inf (a float past the largest double)
        raise _Refused(f"the number {text[:40]!r} does not fit a 64-bit floating-point number", mark, "quote it if it is text")
    return value


def _timestamp(text: str, mark: _Mark | None) -> str:
    """A YAML timestamp as ISO 8601 text: a date as written, a time of day in UTC unless it names a zone."""
    try:
        value = yaml.constructor.SafeConstructor().construct_yaml_timestamp(yaml.ScalarNode(_YAML_TAG + "timestamp", text))
    except (ValueError, TypeError):  # 2026-13-01
        raise _Refused(f"{text!r} is not a valid date", mark, "quote it if it is text") from None
    if isinstance(value, dt.datetime):
        return value.isoformat() if value.tzinfo is not None else value.isoformat() + "Z"
    return str(value.isoformat())


class _Frame:
    """An open mapping or sequence: what it holds so far, where it is, the key whose value comes next."""

    __slots__ = ("container", "explicit", "key", "key_mark", "merges", "path", "size", "anchor")

    def __init__(self, container: dict[str, Any] | list[Any], path: tuple[str | int, ...], anchor: str | None) -> None:
        self.container = container
        self.path = path
        self.anchor = anchor
        self.key: Any = _NO_KEY
        self.key_mark: _Mark | None = None
        self.merges: list[dict[str, Any]] = []
        self.explicit: set[str] = set()
        self.size = 1


class _Builder:
    """Plain values from libyaml's events, bounded while they come, and the marks of their nodes."""

    def __init__(self, path: str, what: str, timestamps_as_text: bool) -> None:
        self.path, self.what, self.timestamps_as_text = path, what, timestamps_as_text
        self.marks: Marks = {}
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, nodes in it)
        self.aliases = self.added = 0

    def build(self, get: Callable[[], Event | None]) -> Any:
        """The document's value from a parser's `get_event`; a refusal as ConfigError at its mark."""
        try:
            return self._document(get)
        except _Refused as exc:
            raise ConfigError(
                exc.message if exc.whole else f"{exc.message} in {self.what}",
                file=self.path,
                position=_position(exc.mark),
                hint=exc.hint,
            ) from None

    def _document(self, get: Callable[[], Event | None]) -> Any:
        """One document: its directives checked, its nodes built, nothing after it."""
        get()  # the stream's start
        event = get()
        if isinstance(event, ev.StreamEndEvent):
            return None  # an empty file
        if not isinstance(event, ev.DocumentStartEvent):
            raise _Refused("a YAML document was expected", event.start_mark if event is not None else None)
        if event.tags:
            raise _Refused("a %TAG directive is not allowed", event.start_mark, "write YAML's own tags (!!str) or none")
        if event.version is not None and tuple(event.version) != (1, 2):
            version = ".".join(map(str, event.version))
            raise _Refused(f"YAML {version} is not read", event.start_mark, "files are YAML 1.2: drop the directive")
        root: Any = _NO_KEY
        while root is _NO_KEY:
            root = self._event(get())
        end = get()
        if not isinstance(end, ev.DocumentEndEvent):
            raise _Refused(f"unexpected YAML event {type(end).__name__}", end.start_mark if end is not None else None)
        after = get()
        if not isinstance(after, ev.StreamEndEvent):
            mark = after.start_mark if after is not None else None
            raise _Refused("a second YAML document in one file", mark, "one file holds one document: remove the `---`")
        return root

    def _event(self, event: Event | None) -> Any:
        """Take one event; the root's value once the root node is complete, else `_NO_KEY`."""
        mark: _Mark | None = event.start_mark if event is not None else None
        size, plain_merge = 1, False
        if isinstance(event, ev.CollectionEndEvent):
            value, size = self._close()
            mark = None  # a collection's mark was taken where it started
        elif isinstance(event, ev.AliasEvent):
            value, size = self._alias(event)
        elif isinstance(event, ev.ScalarEvent):
            value, plain_merge = self._scalar(event)
            if event.anchor is not None:
                self.anchors[event.anchor] = (value, 1)
        elif isinstance(event, ev.CollectionStartEvent):
            self._open(event, "seq" if isinstance(event, ev.SequenceStartEvent) else "map")
            return _NO_KEY
        elif isinstance(event, ev.DocumentStartEvent):
            raise _Refused("a second YAML document in one file", mark, "one file holds one document: remove the `---`")
        else:  # nothing else comes between a document's start and its root node's end
            raise _Refused(f"unexpected YAML event {type(event).__name__}", mark)
        if not self.stack:
            return value
        self._place(value, size, mark, plain_merge)
        return _NO_KEY

    def _open(self, event: ev.CollectionStartEvent, want: str) -> None:
        """A sequence or mapping starts: bounded in depth, its path and mark noted."""
        mark = event.start_mark
        if len(self.stack) >= MAX_DEPTH:
            raise _Refused(f"{self.what} is nested deeper than {MAX_DEPTH} levels", mark, _BOUND_HINT, whole=True)
        if event.tag not in (None, "!", _YAML_TAG + want):
            raise _Refused(f"the YAML tag {event.tag!r} is not supported", mark, "write YAML's own tags (!!str, !!map, ...) or none")
        top = self.stack[-1] if self.stack else None
        if top is None:
            path: tuple[str | int, ...] = ()
        elif type(top.container) is list:
            path = (*top.path, len(top.container))
            self.marks[path] = _where(mark)
        elif top.key is _NO_KEY:
            raise _Refused("a mapping key must be a scalar (text, a number, a date)", mark)
        else:
            path = (*top.path, top.key if top.key is not _MERGE else "<<")
        self.stack.append(_Frame([] if want == "seq" else {}, path, event.anchor))

    def _close(self) -> tuple[Any, int]:
        """A sequence or mapping ends: (its value, merge keys applied; its nodes)."""
        frame = self.stack.pop()
        value: Any = frame.container
        if frame.merges:
            merged: dict[str, Any] = {}
            for source in frame.merges:  # the first of several merged mappings wins
                for k, v in source.items():
                    merged.setdefault(k, v)
            merged.update(value)  # the mapping's own keys win over merged ones
            value = merged
        if frame.anchor is not None:
            self.anchors[frame.anchor] = (value, frame.size)
        return value, frame.size

    def _alias(self, event: ev.AliasEvent) -> tuple[Any, int]:
        """An alias: (a copy of its anchor's value; the nodes it adds), within the bounds."""
        mark = event.start_mark
        found = self.anchors.get(event.anchor or "")
        if found is None:
            raise _Refused(f"the alias *{event.anchor} names no anchor before it (or its own parent)", mark)
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            raise _Refused(f"{self.what} uses more than {MAX_ALIASES} YAML aliases", mark, _BOUND_HINT, whole=True)
        value, size = found
        self.added += size
        if self.added > MAX_ALIAS_NODES:
            message = f"the YAML aliases in {self.what} expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb)"
            raise _Refused(message, mark, _BOUND_HINT, whole=True)
        return (copy.deepcopy(value) if isinstance(value, (dict, list)) else value), size

    def _place(self, value: Any, size: int, mark: _Mark | None, plain_merge: bool) -> None:
        """Put a complete node into the open collection: an item, a key, or a key's value."""
        top = self.stack[-1]
        top.size += size
        container = top.container
        if type(container) is list:
            if mark is not None:
                self.marks[top.path + (len(container),)] = _where(mark)
            container.append(value)
        elif top.key is _NO_KEY:  # this node is a key
            if plain_merge:
                top.key, top.key_mark = _MERGE, mark
                return
            if isinstance(value, (dict, list)):
                raise _Refused("a mapping key must be a scalar (text, a number, a date)", mark)
            key = value if type(value) is str else str(value)
            if key in top.explicit:
                raise _Refused(f"duplicate key {key!r}", mark, "each key may appear once per mapping")
            top.explicit.add(key)
            top.key, top.key_mark = key, mark
            self.marks[top.path + (key,)] = _where(mark)
        elif top.key is _MERGE:
            sources = value if isinstance(value, list) else [value]
            if not sources or not all(isinstance(s, dict) for s in sources):
                raise _Refused("a merge key (<<) takes a mapping or a list of mappings", top.key_mark)
            if top.merges:
                raise _Refused("duplicate key '<<'", top.key_mark, "each key may appear once per mapping")
            top.merges = sources
            top.key = _NO_KEY
        else:
            container[top.key] = value
            top.key = _NO_KEY

    def _scalar(self, event: ev.ScalarEvent) -> tuple[Any, bool]:
        """(value, whether it is the plain merge key `<<`) of a scalar event."""
        text: str = event.value
        tag = event.tag
        mark = event.start_mark
        if tag is not None and tag != "!":
            name = tag[len(_YAML_TAG) :] if tag.startswith(_YAML_TAG) else None
            if name == "str":
                return text, False
            if name in ("int", "float"):
                return _number(text, name, mark), False
            if name == "bool" and text in _TRUE | _FALSE:
                return text in _TRUE, False
            if name == "null" and text in _NULL:
                return None, False
            if name == "timestamp" and _TIMESTAMP.match(text):
                return (text if self.timestamps_as_text else _timestamp(text, mark)), False
            raise _Refused(f"the YAML tag {tag!r} is not supported here", mark, "write YAML's own tags (!!str, !!int, ...) or none")
        if tag == "!" or not event.implicit[0]:  # quoted, block, or the non-specific tag: text
            return text, False
        if text in _NULL:
            return None, False
        if text in _TRUE:
            return True, False
        if text in _FALSE:
            return False, False
        first = text[0]
        if first in "-+0123456789.":
            if _FLOAT_12.match(text):
                return _number(text, "float", mark), False
            if first != "." and _INT_12.match(text):
                return _number(text, "int", mark), False
            if first in "0123456789" and _TIMESTAMP.match(text):
                return (text if self.timestamps_as_text else _timestamp(text, mark)), False
            return text, False
        return text, text == "<<"
