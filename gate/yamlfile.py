"""YAML and JSON files written by people (data, waivers, baseline), read with positions.

Errors name the file, line and column: for syntax errors from the parser, for schema errors
from the position of the offending node. Duplicate keys are refused.

The reference reader is ruamel.yaml's round-trip loader (YAML 1.2, positions on every node),
but it costs tens of milliseconds of a run that should start in a hundred and fifty. So a file
is first read from libyaml's events (PyYAML's C parser), its plain scalars resolved exactly as
ruamel's YAML 1.2 resolver resolves them, each key's and item's line and column kept as ruamel
keeps them; the reader gives up ("undecided") on anything where the two could differ: a syntax
error, a duplicate key, a tag, an anchor or alias, a merge key, a directive, a key that is not
a string, the scalar forms whose value depends on the loader (octal, hexadecimal, underscores,
exponents, infinities, times of day) and the spellings the two scanners read differently
(`_SCANNERS_DIFFER`). An undecided file is read by ruamel exactly as before, which gives its
value or says what is wrong and where. tests/test_yamlfile_fast.py holds the two to agreeing.

Every file read here is bounded before any loader builds it (`check_bounds`): at most
`MAX_ALIASES` aliases, at most `MAX_ALIAS_NODES` nodes added by expanding them, and at most
`MAX_DEPTH` levels of nesting. A 1 KB alias bomb once took 36 s and 950 MB before it was refused
(ruamel shares an aliased node, but every later step copies it); now it is refused from its
events, in milliseconds, naming the alias (or the node) that crossed the bound.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from gate.errors import ConfigError, GateError, Position

MAX_ALIASES = 100
"""Aliases one file may use (a stage profile merged into another takes a handful)."""
MAX_ALIAS_NODES = 10_000
"""Nodes (scalars and collections) that expanding the aliases may add to a file."""
MAX_DEPTH = 64
"""Levels of nesting (the deepest shipped file has five)."""


@dataclass
class Located:
    """A plain Python value and a way to find where any part of it stood in the file."""

    value: Any
    path: str
    _root: Any
    _marks: dict[tuple[str | int, ...], tuple[int, int]] | None = field(default=None, repr=False)
    """Where each node stood (0-based line and column), as `fast_read` saw them; else `_root` (ruamel's) tells."""

    def position(self, json_path: Sequence[str | int]) -> Position | None:
        """The line and column (1-based) of the node at `json_path`, as near as is known."""
        pos: Position | None = Position(line=1, column=1)
        if self._marks is not None:
            for i in range(1, len(json_path) + 1):
                mark = self._marks.get(tuple(json_path[:i]))
                if mark is None:
                    break
                pos = Position(line=mark[0] + 1, column=mark[1] + 1)
            return pos
        node = self._root
        for part in json_path:
            lc = getattr(node, "lc", None)
            try:
                if lc is not None:
                    if isinstance(part, int):
                        line, col = lc.item(part)
                    else:
                        line, col = lc.key(part)
                    pos = Position(line=line + 1, column=col + 1)
                node = node[part]
            except (KeyError, IndexError, TypeError):
                break
        return pos


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    if isinstance(node, dt.datetime):
        if node.tzinfo is None:
            return node.isoformat() + "Z"
        return node.isoformat()
    if isinstance(node, dt.date):
        return node.isoformat()
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, str):
        return str(node)
    return node


def load(path: str | Path, *, what: str = "file") -> Located:
    """Load a YAML (or JSON, which is YAML) file with positions. Raises ConfigError (exit 2)."""
    p = str(path)
    try:
        text = Path(p).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", file=p) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what}: {exc}", file=p) from None
    return loads(text, p, what=what)


def loads(text: str, path: str, *, what: str = "file") -> Located:
    """`load` of text already read; `path` names the file in errors (and, by its suffix, says JSON)."""
    p = path
    if p.endswith(".json"):
        try:
            json.loads(text, object_pairs_hook=_no_duplicates)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"invalid JSON in {what}: {exc.msg}", file=p, position=Position(exc.lineno, exc.colno)) from None
        except ValueError as exc:
            raise ConfigError(f"invalid JSON in {what}: {exc}", file=p) from None
        except RecursionError:
            check_bounds(text, p, what=what)  # names the node too deep
            raise ConfigError(f"{what} is nested too deeply", file=p) from None
    fast = fast_read(text)
    if fast is not None:
        return Located(value=fast[0], path=p, _root=None, _marks=fast[1])
    check_bounds(text, p, what=what)
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import DuplicateKeyError
    from ruamel.yaml.error import MarkedYAMLError

    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        root = yaml.load(text)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        raise ConfigError(
            f"duplicate key in {what}: {exc.problem}",
            file=p,
            position=Position(mark.line + 1, mark.column + 1) if mark else None,
        ) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ConfigError(
            f"invalid YAML in {what}: {exc.problem or exc.context}",
            file=p,
            position=Position(mark.line + 1, mark.column + 1) if mark else None,
        ) from None
    except Exception as exc:  # noqa: BLE001 - ruamel raises assorted non-Marked errors on hostile input
        raise ConfigError(f"invalid YAML in {what}: {exc}", file=p) from None
    return Located(value=_plain(root), path=p, _root=root)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        keys = [k for k, _ in pairs]
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f"duplicate key {dup!r}")
    return d


# --------------------------------------------------------------------------------------------
# The fast reader: libyaml, resolved as ruamel resolves YAML 1.2, or undecided

# ruamel.yaml's YAML 1.2 implicit resolvers (ruamel/yaml/resolver.py), in its order of trial.
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
# The forms whose value every loader agrees on; any other int, float or timestamp is undecided.
_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_PLAIN_FLOAT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)\.[0-9]+")
_PLAIN_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Text the two scanners read differently, found by differential fuzzing: tabs (not refused in
# the same places), carriage returns and the YAML 1.1 line breaks NEL, LS and PS, and a
# byte-order mark inside the text (libyaml breaks lines or drops the mark there, ruamel does
# not), block scalars (`|`, `>`: their indentation and comments are judged differently), a
# document end marker (`...`, after which ruamel's parser can fail on an assertion); and a
# directive, as `%YAML 1.1` changes ruamel's resolver. A match inside a string only sends the
# file the slow way.
_SCANNERS_DIFFER = re.compile("[\t\r\x85\u2028\u2029\ufeff]|^%|^[.][.][.]|[|>][-+0-9]*[ ]*(?:#.*)?$", re.M)

_STR, _NULL_TAG, _BOOL_TAG, _INT_TAG, _FLOAT_TAG, _TS_TAG = "str", "null", "bool", "int", "float", "timestamp"


class _Undecided(Exception):
    """The fast reader cannot promise ruamel's answer; the file is read by ruamel."""


def _resolve_plain(value: str) -> str:
    """The tag ruamel's YAML 1.2 resolver gives a plain scalar (its last word), or undecided."""
    if value in _NULL:
        return _NULL_TAG
    if value in _TRUE or value in _FALSE:
        return _BOOL_TAG
    first = value[0]
    if first in "-+0123456789.":
        if _FLOAT_12.match(value):
            return _FLOAT_TAG
        if first != "." and _INT_12.match(value):
            return _INT_TAG
        if first in "0123456789" and _TIMESTAMP.match(value):
            return _TS_TAG
        return _STR
    if value in ("<<", "="):  # merge and value keys
        raise _Undecided(value)
    return _STR


@lru_cache(maxsize=1)
def check_bounds(text: str, path: str, *, what: str = "file", error: type[GateError] = ConfigError) -> None:
    """Refuse a YAML (or JSON) text with too many aliases, aliases that expand too far, or nesting
    too deep, before anything builds it. `error` is the class raised (ConfigError, exit 2, for the
    files the gate reads; InputError, exit 3, for a report); it names the offending node.

    The events come from libyaml (fast); where libyaml stops on an error, or the text holds a
    spelling the two scanners may read differently (`_SCANNERS_DIFFER`: a block scalar libyaml
    ends elsewhere could hide aliases from it), ruamel's own parser (the loader's) counts again.
    A syntax error is left to the loader, which reports it.
    """
    libyaml = _libyaml()
    if libyaml is not None:
        import yaml

        parser = libyaml[0](text)
        try:
            if _count(parser.get_event, libyaml[1], path, what, error) and not _SCANNERS_DIFFER.search(text):
                return
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            if "nesting depth" in str(exc.problem) and mark is not None:  # libyaml stops at 1000 levels
                raise _bound(error, f"{what} is nested deeper than {MAX_DEPTH} levels", path, _At(mark)) from None
        except yaml.YAMLError:
            pass
        finally:
            parser.dispose()
    from ruamel.yaml import YAML, events
    from ruamel.yaml.error import YAMLError

    stream = YAML(typ="rt").parse(text)
    try:
        _count(lambda: next(stream), events, path, what, error)
    except (YAMLError, StopIteration, ValueError, TypeError):
        return  # the loader says what is wrong, and where


def _count(get: Any, ev: Any, path: str, what: str, error: type[GateError]) -> bool:
    """Walk the events to the stream's end (True), refusing what `check_bounds` refuses."""
    sizes: dict[str, int] = {}  # anchor -> nodes in its expanded subtree
    stack: list[list[Any]] = []  # open collections: [nodes so far, anchor]
    aliases = added = 0
    while True:
        event = get()
        kind = type(event)
        if kind is ev.StreamEndEvent:
            return True
        size = 0
        if kind is ev.ScalarEvent:
            size = 1
        elif kind is ev.SequenceStartEvent or kind is ev.MappingStartEvent:
            if len(stack) >= MAX_DEPTH:
                raise _bound(error, f"{what} is nested deeper than {MAX_DEPTH} levels", path, event)
            stack.append([1, event.anchor])
            continue
        elif kind is ev.SequenceEndEvent or kind is ev.MappingEndEvent:
            size, anchor = stack.pop()
            if anchor is not None:
                sizes[anchor] = size
        elif kind is ev.AliasEvent:
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _bound(error, f"{what} uses more than {MAX_ALIASES} YAML aliases", path, event)
            size = sizes.get(event.anchor, 1)
            added += size
            if added > MAX_ALIAS_NODES:
                raise _bound(error, f"the YAML aliases in {what} expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb)", path, event)
        else:
            continue
        if kind is ev.ScalarEvent and event.anchor is not None:
            sizes[event.anchor] = 1
        if stack:
            stack[-1][0] += size


class _At:
    """An event-like holder of a mark (for an error libyaml raised where a node starts)."""

    def __init__(self, mark: Any) -> None:
        self.start_mark = mark


def _bound(error: type[GateError], message: str, path: str, event: Any) -> GateError:
    mark = event.start_mark
    return error(
        message,
        file=path,
        position=Position(mark.line + 1, mark.column + 1),
        hint=f"a file may use {MAX_ALIASES} aliases adding {MAX_ALIAS_NODES} nodes, nested {MAX_DEPTH} levels: write the values out",
    )


def _libyaml() -> Any:
    """PyYAML's libyaml parser class and event classes, or None when PyYAML was built without it."""
    try:
        from yaml._yaml import CParser
    except ImportError:  # every file goes the ruamel way
        return None
    from yaml import events

    return CParser, events


def fast_load(text: str, *, timestamps_as_text: bool = False) -> tuple[bool, Any]:
    """(True, value) when libyaml reads the text to what ruamel's loader plus `_plain` would give;
    (False, None) when undecided (the caller reads the text with ruamel, for the value or the error).

    `timestamps_as_text` keeps plain timestamps as written (the waivers file judges them itself).
    """
    fast = fast_read(text, timestamps_as_text=timestamps_as_text)
    return (True, fast[0]) if fast is not None else (False, None)


Marks = dict[tuple[str | int, ...], tuple[int, int]]
"""Where each node of a file stood: its path -> (line, column), 0-based, as ruamel's `lc` says."""


def fast_read(text: str, *, timestamps_as_text: bool = False) -> tuple[Any, Marks] | None:
    """`fast_load`'s value and its marks (the line and column of each mapping key and sequence
    item, as ruamel's `lc` gives them), or None when undecided.

    The value is built from libyaml's events, so that an anchor, an alias, a tag or a directive,
    which the two scanners do not always read alike, is seen and left to ruamel.
    """
    libyaml = _libyaml()
    if libyaml is None or _SCANNERS_DIFFER.search(text):
        return None
    import yaml

    parser = libyaml[0](text)
    try:
        builder = _Builder(libyaml[1], timestamps_as_text)
        return builder.build(parser), builder.marks
    except (_Undecided, yaml.YAMLError, ValueError, TypeError):
        return None
    finally:
        parser.dispose()


_NO_KEY = object()


class _Builder:
    """Plain values from libyaml's events, as `_plain` makes them of ruamel's nodes, and their marks."""

    def __init__(self, events: Any, timestamps_as_text: bool) -> None:
        self.ev = events
        self.timestamps_as_text = timestamps_as_text
        self.marks: Marks = {}

    def build(self, parser: Any) -> Any:
        ev = self.ev
        get = parser.get_event
        get()  # the stream's start
        event = get()
        if type(event) is ev.StreamEndEvent:
            return None  # an empty file
        if event.version is not None or event.tags:  # a directive (`%YAML 1.1` changes ruamel's resolver)
            raise _Undecided("directive")
        # Open collections: [container, its path, the key whose value comes next (mappings)].
        stack: list[list[Any]] = []
        root: Any = _NO_KEY
        marks = self.marks
        while root is _NO_KEY:
            event = get()
            kind = type(event)
            top = stack[-1] if stack else None
            if kind is ev.SequenceEndEvent or kind is ev.MappingEndEvent:
                value: Any = stack.pop()[0]
                key_ok: bool | str = False
                top = stack[-1] if stack else None
            else:
                if kind is ev.AliasEvent or event.anchor is not None or event.tag is not None:
                    raise _Undecided("anchor, alias or tag")
                if top is not None:
                    where = (event.start_mark.line, event.start_mark.column)
                    if type(top[0]) is list:  # an item: ruamel marks where its node starts
                        marks[top[1] + (len(top[0]),)] = where
                    elif top[2] is not _NO_KEY:
                        pass  # a value: ruamel marks its key
                    elif kind is not ev.ScalarEvent:
                        raise _Undecided("a key that is not a string")
                    else:
                        top.append(where)  # a key's mark, kept until the key is known to be one
                if kind is ev.ScalarEvent:
                    value, key_ok = self.scalar(event)
                else:  # a sequence or mapping starts
                    if top is None:
                        path: tuple[str | int, ...] = ()
                    elif type(top[0]) is list:
                        path = (*top[1], len(top[0]))
                    else:
                        path = (*top[1], top[2])
                    if len(stack) >= MAX_DEPTH:
                        raise _Undecided("too deep")  # `check_bounds` refuses it, naming the node
                    stack.append([[] if kind is ev.SequenceStartEvent else {}, path, _NO_KEY])
                    continue
            if top is None:
                root = value
                continue
            container = top[0]
            if type(container) is list:
                container.append(value)
            elif top[2] is _NO_KEY:
                where = top.pop()
                if not key_ok:
                    raise _Undecided("a key that is not a string")
                if value in container:
                    raise _Undecided("duplicate key")  # ruamel refuses it, with its line
                if key_ok is True:  # a date key is no string to ruamel: no mark by its text
                    marks[top[1] + (value,)] = where
                top[2] = value
            else:
                container[top[2]] = value
                top[2] = _NO_KEY
        if type(get()) is not ev.DocumentEndEvent or type(get()) is not ev.StreamEndEvent:
            raise _Undecided("several documents")
        return root

    def scalar(self, event: Any) -> tuple[Any, bool | str]:
        """(value, whether it may be a mapping key: True, or "date" for a date key) of a scalar
        without tag or anchor. A date key is a date to ruamel, which `_plain` turns into its text."""
        value: str = event.value
        if not event.implicit[0]:  # quoted or block: a string
            return value, True
        tag = _resolve_plain(value)
        if tag == _STR:
            return value, True
        if tag == _NULL_TAG:
            return None, False
        if tag == _BOOL_TAG:
            return value in _TRUE, False
        if tag == _INT_TAG and _PLAIN_INT.fullmatch(value):
            return int(value), False
        if tag == _FLOAT_TAG and _PLAIN_FLOAT.fullmatch(value):
            return float(value), False
        if tag == _TS_TAG:
            if self.timestamps_as_text:
                return value, True
            if _PLAIN_DATE.fullmatch(value):
                return dt.date.fromisoformat(value).isoformat(), "date"  # ValueError (2026-13-01): undecided
        raise _Undecided(value)


# --------------------------------------------------------------------------------------------
# Schemas


def validate(doc: Located, schema_name: str, *, what: str) -> None:
    """Validate against a JSON Schema shipped in gate/schemas; the first error names its line."""
    import jsonschema

    schema = load_schema(schema_name)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(doc.value), key=lambda e: (list(e.absolute_path), e.message))
    if errors:
        err = errors[0]
        where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
        raise ConfigError(
            f"invalid {what} at {where}: {err.message}",
            file=doc.path,
            position=doc.position(list(err.absolute_path)),
        )


def is_valid(value: Any, schema_name: str, *, formats: bool = False) -> bool:
    """True when `value` surely passes the shipped schema; False means "ask the Python jsonschema".

    jsonschema-rs decides in microseconds, where importing the Python jsonschema costs about a
    second (its URI format checkers build grammars), so the Python one is used only to describe
    an error with its position. The two must not disagree towards "valid": each `pattern` is
    handed to jsonschema-rs rewritten to match what Python's `re` matches (`\\s` is Python's
    whitespace, wider than Rust's), and a pattern that cannot be rewritten (`\\d`, `\\w`, `\\b`:
    Unicode in Python) keeps the schema off the fast path. Where jsonschema-rs is stricter (`$`
    before a final newline) the Python validator has the last word. `formats` asserts `format`
    as the Python FormatChecker does for the one format the schemas use, `regex` (Python's).
    """
    validator = _rs_validator(schema_name, formats)
    if validator is None:
        return False
    try:
        return bool(validator.is_valid(value))
    except (ValueError, TypeError, OverflowError):  # a value jsonschema-rs cannot take in: let Python judge
        return False


@cache
def _rs_validator(schema_name: str, formats: bool) -> Any:
    schema = _python_patterns(load_schema(schema_name))
    if schema is None:
        return None
    import jsonschema_rs

    if formats:
        return jsonschema_rs.validator_for(schema, validate_formats=True, formats={"regex": _is_python_regex})
    return jsonschema_rs.validator_for(schema, validate_formats=False)


def _is_python_regex(text: str) -> bool:
    try:
        re.compile(text)
    except re.error:
        return False
    return True


# Python's `\s` (str.isspace), as a character class body in the syntax of Rust's regex crate.
PYTHON_SPACE = r"\t\n\x0B\x0C\r\x1C-\x1F \x85\xA0\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}"
_DATA_KEYWORDS = frozenset(("const", "default", "enum", "examples"))


def _python_patterns(schema: Any) -> Any:
    """The schema with every `pattern` (and `patternProperties` key) rewritten for jsonschema-rs; None if one cannot be."""
    if isinstance(schema, list):
        items = [_python_patterns(s) for s in schema]
        return None if any(i is None for i in items) else items
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DATA_KEYWORDS:
            out[key] = value
        elif key == "pattern" and isinstance(value, str):
            rewritten = python_pattern(value)
            if rewritten is None:
                return None
            out[key] = rewritten
        elif key == "patternProperties" and isinstance(value, dict):
            props: dict[str, Any] = {}
            for pattern, sub in value.items():
                rewritten, sub2 = python_pattern(pattern), _python_patterns(sub)
                if rewritten is None or sub2 is None:
                    return None
                props[rewritten] = sub2
            out[key] = props
        else:
            sub = _python_patterns(value)
            if sub is None:
                return None
            out[key] = sub
    return out


def python_pattern(pattern: str) -> str | None:
    """`pattern` for Rust's regex crate, matching the strings Python's `re.search` matches (but for a
    final newline before `$`, which only Python lets through), or None when the pattern uses syntax
    outside the part both engines read alike: literals, escaped punctuation, `\\s` `\\S` `\\t` `\\n`
    `\\r` `\\f` `\\v`, `.`, `^` `$`, groups, `|`, the quantifiers, and classes of literals and ranges.
    """
    out: list[str] = []
    in_class = False
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            nxt = pattern[i + 1 : i + 2]
            if nxt == "s":
                out.append(PYTHON_SPACE if in_class else f"[{PYTHON_SPACE}]")
            elif nxt == "S" and not in_class:
                out.append(f"[^{PYTHON_SPACE}]")
            elif nxt and (nxt in "tnrfv" or (nxt.isascii() and not nxt.isalnum() and nxt.isprintable())):
                out.append(c + nxt)
            else:
                return None
            i += 2
            continue
        if in_class:
            if c == "[" or pattern[i : i + 2] in ("&&", "--", "~~"):  # Rust: nested classes, set operations
                return None
            if c == "]":
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            out.append(c)
            i += 1
            if pattern[i : i + 1] == "^":
                out.append("^")
                i += 1
            if pattern[i : i + 1] == "]":  # literal when first (Python); Rust wants it escaped
                out.append("\\]")
                i += 1
            continue
        if c == "{":
            m = _QUANTIFIER.match(pattern, i)
            if not m:
                return None
            out.append(m.group())
            i = m.end()
            continue
        if pattern[i : i + 2] == "(?" or c == "}":
            return None
        out.append(c)
        i += 1
    return None if in_class else "".join(out)


_QUANTIFIER = re.compile(r"\{[0-9]+(?:,[0-9]*)?\}")


def load_schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped with the gate (`gate/schemas/NAME.schema.json`)."""
    local = Path(__file__).parent / "schemas" / f"{name}.schema.json"
    if local.is_file():  # the usual install: files on disk (importlib.resources costs 4 ms to import)
        text = local.read_text(encoding="utf-8")
    else:
        from importlib import resources

        text = resources.files("gate").joinpath("schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
