"""Policies cannot reach outside or read the clock: forbidden builtins, found in the parse tree.

A policy decides from its input and its data, nothing else, so that a verdict can be reproduced
and a policy cannot leak what it sees. The builtins that break this (network, environment, code
compiled at evaluation time, the clock, randomness, UUID generation) are refused where a module
is loaded, and every use is reported by `gate policy check` with file:line:column.

They are found in the parse tree of the embedded engine (regorus `Engine.get_ast_as_json`), not by
scanning text: a scanner has to re-implement Rego's lexer (strings with escapes, raw strings
across lines, comments), and each difference is a way past it (a backtick inside a double-quoted
string once made the old scanner skip the lines after it). Every reference counts, called or not:
`http.send(x)`, `http["send"](x)`, `f := time.now_ns`, the value of a `with` modifier
(`with data.f as http.send` calls the builtin through `f`) and its target too (`with time.now_ns
as 1` calls nothing, but mocking a builtin no policy may call tests nothing, and OPA, running
without the builtin, refuses it: both engines agree).

Soundness of the quick skip: a reference to a builtin starts with its first name (`http`, `time`,
...) written as an identifier and followed by `.name` or `[` (neither parser accepts white space
after the dot), and an identifier cannot be escaped; a module in which no such text occurs (but
`rego.v1`) cannot reference a forbidden builtin and is not parsed here again (the whole shipped
pack: the check costs it well under a millisecond).
A module that does mention one and does not parse is refused (fail closed): the check cannot
vouch for what it cannot read.

The OPA engines are the second wall: `opa eval` runs with a capabilities file that leaves these
builtins out (`opa_capabilities`), so OPA itself refuses a policy that names one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from gate.errors import PolicyError, Position

FORBIDDEN: dict[str, str] = {
    "http.send": "reaches the network",
    "net.lookup_ip_addr": "reaches the network (DNS)",
    "opa.runtime": "reads the environment and the server's configuration",
    "rego.parse_module": "compiles code at evaluation time",
    "time.now_ns": "reads the clock (a verdict must be reproducible: read input.context.time, which --time sets)",
    "rand.intn": "draws a random number (a verdict must be reproducible)",
    "uuid.rfc4122": "generates a random UUID (a verdict must be reproducible)",
}
"""Builtins no policy may use, and why. (`print` and `trace` are allowed: they only write to the
gate's own log; `time.parse_rfc3339_ns` and the other `time.*` builtins are pure functions of
their arguments.)"""

_ROOTS = sorted({name.split(".")[0] for name in FORBIDDEN})
# A forbidden root as an ASCII identifier token (identifiers cannot be escaped in Rego) followed
# by `.name` or `[`. Neither OPA nor regorus parses white space before the `.` or `[`, or after
# the `.` ("invalid whitespace"); the first is allowed here anyway. So "at run time." in a
# comment does not count, and no module of the shipped pack is parsed twice.
_MENTION = re.compile(r"\b(?:" + "|".join(_ROOTS) + r")\s*(?:\.[A-Za-z_]|\[)", re.ASCII)
_REGO_V1 = re.compile(r"rego\.v1(?![A-Za-z0-9_])")

_REF_KINDS = ("Var", "RefDot", "RefBrack")


class _Source(Protocol):
    @property
    def path(self) -> str: ...

    @property
    def text(self) -> str: ...


@dataclass(frozen=True, order=True)
class ForbiddenUse:
    """One use of a forbidden builtin: where, which, and how it is used."""

    file: str
    line: int
    column: int
    name: str
    how: str
    """`call`, `reference` (named without a call), `with target` or `with value`."""

    @property
    def reason(self) -> str:
        """What the builtin does that a policy may not."""
        return FORBIDDEN[self.name]


def may_mention(text: str) -> bool:
    """False only when the module cannot reference any forbidden builtin (see the module doc)."""
    # `rego.v1` (in every module) is the one mention that does not count.
    return any(not _REGO_V1.match(text, match.start()) for match in _MENTION.finditer(text))


def _ref_name(node: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    """The dotted name of a reference made of a variable, `.field`s and `["string"]` indexes, and
    the span of its first variable; None for anything else (e.g. `x[i]`, `f(x).y`)."""
    parts: list[str] = []
    while True:
        if "Var" in node:
            var = node["Var"]
            parts.append(str(var.get("value")))
            return ".".join(reversed(parts)), var.get("span") or {}
        if "RefDot" in node:
            dot = node["RefDot"]
            field = dot.get("field")
            if not (isinstance(field, list) and len(field) == 2 and isinstance(field[1], str)):
                return None
            parts.append(field[1])
            node = dot.get("refr") or {}
        elif "RefBrack" in node:
            brack = node["RefBrack"]
            index = brack.get("index") or {}
            if not (isinstance(index, dict) and "String" in index):
                return None
            parts.append(str(index["String"].get("value")))
            node = brack.get("refr") or {}
        else:
            return None


def _forbidden_prefix(name: str) -> str | None:
    parts = name.split(".")
    for n in range(1, len(parts) + 1):
        candidate = ".".join(parts[:n])
        if candidate in FORBIDDEN:
            return candidate
    return None


class _Walker:
    def __init__(self, path: str, source: bytes) -> None:
        self.path = path
        self.source = source
        self.found: dict[tuple[int, int, str], str] = {}

    def position(self, span: Mapping[str, Any]) -> tuple[int, int]:
        """Line and column (in characters, a tab is one) from the span's byte offset."""
        start = span.get("start")
        if isinstance(start, int) and 0 <= start <= len(self.source):
            before = self.source[:start]
            line_start = before.rfind(b"\n") + 1
            return before.count(b"\n") + 1, len(before[line_start:].decode("utf-8", "replace")) + 1
        return int(span.get("line") or 1), int(span.get("col") or 1)

    def note(self, node: Mapping[str, Any], how: str) -> None:
        named = _ref_name(node)
        if named is None:
            return
        name, span = named
        hit = _forbidden_prefix(name)
        if hit is None:
            return
        line, col = self.position(span)
        key = (line, col, hit)
        if key not in self.found or how == "call":
            self.found[key] = how

    def walk(self, node: Any, how: str = "reference") -> None:
        if isinstance(node, list):
            for item in node:
                self.walk(item)
            return
        if not isinstance(node, dict):
            return
        if "Call" in node and isinstance(node["Call"], dict):
            call = node["Call"]
            fcn = call.get("fcn")
            if isinstance(fcn, dict):
                self.note(fcn, "call")
            self.walk(fcn)
            self.walk(call.get("params"))
            return
        if any(kind in node for kind in _REF_KINDS) and len(node) == 1:
            self.note(node, how)
        if "with_mods" in node:
            for mod in node.get("with_mods") or []:
                if isinstance(mod, dict):
                    self.walk(mod.get("refr"), "with target")
                    self.walk(mod.get("as"), "with value")
            self.walk({k: v for k, v in node.items() if k != "with_mods"})
            return
        for value in node.values():
            self.walk(value)

    def uses(self) -> list[ForbiddenUse]:
        return sorted(ForbiddenUse(self.path, line, col, name, how) for (line, col, name), how in self.found.items())


def uses_in_ast(path: str, text: str, ast: Any) -> list[ForbiddenUse]:
    """Every forbidden builtin the parse tree `ast` (one module's, from `get_ast_as_json`) uses."""
    walker = _Walker(path, text.encode("utf-8"))
    walker.walk(ast)
    return walker.uses()


def _tree_json(path: str, text: str) -> str:
    from gate.engine.compile import build

    return str(build([(path, text)], "{}", None).get_ast_as_json())


def parse_tree(path: str, text: str, tree_json: str | None = None) -> Any:
    """One module's parse tree (its `ast` object), as regorus builds it. Raises PolicyError."""
    for entry in json.loads(tree_json if tree_json is not None else _tree_json(path, text)):
        if isinstance(entry, dict) and (entry.get("source") or {}).get("file") == path:
            return entry.get("ast")
    raise PolicyError("the embedded engine gave no parse tree for the module", file=path)


# In the parse tree's JSON, a variable is `"Var": {"span": {...}, "value": "NAME", ...}`. Every
# reference starts with one, so rules with no variable named like a forbidden root hold no
# forbidden reference, and building the Python tree (most of the check's cost) is skipped. Only
# the text from the `"rules":` key on is searched (the imports name `rego`; a string value cannot
# hold an unescaped quote, so that key is the tree's own). The shortcut is taken only when the
# package's own first variable is found the same way before it, so a change of the JSON's shape
# falls back to the full walk rather than to "nothing found".
_VAR_JSON = r'"Var":\s*\{\s*"span":\s*\{[^{}]*\},\s*"value":\s*"'
_ROOT_VAR = re.compile(_VAR_JSON + "(?:" + "|".join(_ROOTS) + ')"')


def _may_use(path: str, text: str, tree_json: str) -> bool:
    package = re.search(r"^\s*package\s+([A-Za-z_]\w*)", text, re.MULTILINE)
    rules = tree_json.find('"rules":')
    if package is None or rules < 0 or not re.compile(_VAR_JSON + re.escape(package.group(1)) + '"').search(tree_json, 0, rules):
        return True  # an unexpected shape: walk the tree
    return _ROOT_VAR.search(tree_json, rules) is not None


def forbidden_uses(modules: Iterable[_Source]) -> list[ForbiddenUse]:
    """Every use of a forbidden builtin in the modules, in file and line order.

    Raises PolicyError (the compile error) for a module that may mention one and does not parse.
    """
    hits: list[ForbiddenUse] = []
    for m in modules:
        if may_mention(m.text):
            tree_json = _tree_json(m.path, m.text)
            if _may_use(m.path, m.text, tree_json):
                hits.extend(uses_in_ast(m.path, m.text, parse_tree(m.path, m.text, tree_json)))
    return hits


def forbidden_calls(modules: Iterable[_Source]) -> list[tuple[str, int, int, str]]:
    """Every use of a forbidden builtin as (file, line, column, name) (the older interface)."""
    return [(u.file, u.line, u.column, u.name) for u in forbidden_uses(modules)]


def message(use: ForbiddenUse, more: int = 0) -> str:
    """The refusal, as the loader says it."""
    how = "" if use.how == "call" else f" ({use.how})"
    tail = f" (and {more} more)" if more else ""
    return f"forbidden builtin {use.name}{how}: it {use.reason}; policies may not use it{tail}"


def check_forbidden(modules: Iterable[_Source]) -> None:
    """Refuse policies that use a forbidden builtin (exit 4, naming file:line:col of the first)."""
    hits = forbidden_uses(modules)
    if hits:
        first = hits[0]
        raise PolicyError(message(first, len(hits) - 1), file=first.file, position=Position(first.line, first.column))


def opa_capabilities(current: Mapping[str, Any]) -> dict[str, Any]:
    """OPA's capabilities (`opa capabilities --current`) without the forbidden builtins, and with
    no network allowed for anything else OPA might fetch (`allow_net: []`)."""
    caps = dict(current)
    builtins: Sequence[Any] = caps.get("builtins") or []
    caps["builtins"] = [b for b in builtins if not (isinstance(b, dict) and b.get("name") in FORBIDDEN)]
    caps["allow_net"] = []
    return caps
