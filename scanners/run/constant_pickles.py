"""Pickles that are program constants, read without running them (issue 17).

`pickle.loads` in test code blocks like production code (CWE-502 is in
`data.config.test_code.always_block`): a pickle is opaque to a reviewer, and a few bytes of it
can call `os.system` in CI. Some tests load pickles on purpose: a library checks that objects
pickled by an older version still load (attrs). Those pickles are bytes constants in the source,
and a constant can be read: this module disassembles it with `pickletools.genops` (never
`pickle.loads`, never an import) and lists the globals it would import (GLOBAL, INST,
STACK_GLOBAL with its operands traced through the stack and the memo). A load whose every
possible argument is such a constant, and whose every import is either

- a harmless builtin of `ALLOWED_GLOBALS` (`builtins.int`, `copyreg._reconstructor`, ...), or
- a class of the project itself: `module.Name` where `module` is a source file of the surveyed
  tree (not a standard-library name, nor one the unpickler renames from Python 2) that binds
  `Name` at top level by one `class Name` statement and otherwise only by decorating it
  (`Name = wrap(Name, ...)` after it), and defines no module `__getattr__`,

is data, not a payload: what it can run is code a reviewer reads in the tree. The gate records it
as a fact (`input.constant_pickles`, with the imports) and the policy judges such a finding in
test code as test code (it warns) instead of blocking.

What counts as a constant is decided on the syntax tree, conservatively (anything else: no
fact, the finding blocks as before):

- a bytes literal, or a `+` of constants;
- a name bound exactly once in its scope, by a plain assignment of a constant written before
  the use (function locals; class and module names only where the use runs while that body
  executes, e.g. a decorator's argument), and named by no `global`/`nonlocal` in the file;
- a test function's parameter supplied by exactly one `@pytest.mark.parametrize` on that
  function (no `indirect`), every row of which gives a constant (pytest refuses a second
  parametrisation of the same name);
- `obj.__module__.encode()` where `obj` is bound once to `C(...)`, `C` is a top-level class of
  the same file without bases or keywords (no metaclass), and the file neither writes `__module__` nor
  binds `__name__`: its value is the file's module name; every name pytest's import modes can
  give the file (package walk, path from the root) is tried and each must pass.

The call itself must be `M.loads(arg)` with `M` bound only by `import pickle` (or `_pickle`,
`cPickle`) in the whole file, one positional argument and no keywords. A tree gets no fact at
all when it has its own `pickle`, `_pickle`, `cPickle`, `copyreg` or `pickletools` module (it
would shadow the standard library's), or code that can hand a test other arguments than its
decorators say (pytest hooks that call or set up test functions, `funcargs`, `callspec`,
`pytest_plugins`, a conftest.py that builds names at run time, frame locals written through
`f_locals`, a tracer or ctypes); a file that uses `locals()`, `globals()`, `vars()`, `exec` or
`eval` gets none either; nor a name of a class with bases or keywords (a metaclass's
`__prepare__`) or of a module with a star import.
"""

from __future__ import annotations

import _compat_pickle
import ast
import io
import os
import pickletools
import re
import struct
import sys
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

DESERIALISERS: Final = frozenset({"pickle", "_pickle", "cPickle"})
"""Modules whose `loads` this module judges (their pickles are the standard format)."""

SHADOWS: Final = frozenset({"pickle", "_pickle", "cPickle", "copyreg", "pickletools"})
"""Module names a tree must not define for any fact to be given (they would shadow the stdlib's)."""

_BUILTIN_TYPES: Final = (
    "int",
    "float",
    "complex",
    "bool",
    "str",
    "bytes",
    "bytearray",
    "tuple",
    "list",
    "dict",
    "set",
    "frozenset",
    "object",
    "slice",
    "range",
)

ALLOWED_GLOBALS: Final = frozenset(
    {("builtins", n) for n in _BUILTIN_TYPES}
    | {("__builtin__", n) for n in _BUILTIN_TYPES}
    | {
        ("copyreg", "_reconstructor"),  # protocols 0-1: base.__new__(cls) of an allowed cls
        ("copy_reg", "_reconstructor"),
        ("collections", "OrderedDict"),
        ("datetime", "date"),
        ("datetime", "time"),
        ("datetime", "datetime"),
        ("datetime", "timedelta"),
        ("datetime", "timezone"),
        ("decimal", "Decimal"),
        ("fractions", "Fraction"),
        ("uuid", "UUID"),
    }
)
"""Globals a data pickle may import besides the project's own classes: value types whose
construction runs no caller-chosen code. Not here on purpose: `builtins.eval/exec/getattr/
__import__/type`, anything of `os`, `posix`, `nt`, `sys`, `subprocess`, `importlib`, `codecs`,
`_codecs` (codec lookups by name), `functools`, `operator` (attribute getters)."""

_HOOK_TOKENS: Final = (
    b"funcargs",
    b"callspec",
    b"pytest_pyfunc_call",
    b"pytest_runtest_call",
    b"pytest_runtest_setup",
    b"pytest_fixture_setup",
    b"pytest_collection_modifyitems",
    b"pytest_itemcollected",
    b"pytest_plugins",
    # red team, round 2: the parametrize mark itself rewritten before pytest reads it (a
    # conftest's generate_tests runs before pytest's own), collection hooks that reach the
    # function object, another module writing a function's marks, plugins registered by object
    b"pytest_generate_tests",
    b"pytest_collect",
    b"pytest_pycollect",
    b"pytest_make_collect_report",
    b"pytest_runtest_protocol",
    b"metafunc",
    b"Metafunc",
    b"own_markers",
    b"from_parent",
    b"pluginmanager",
    b"hookimpl",
    b".pytestmark",
    b"'pytestmark'",
    b'"pytestmark"',
    # a frame's locals written from elsewhere (through f_locals, a tracer, or ctypes), between
    # the binding of a constant and its load
    b"f_locals",
    b"LocalsToFast",
    b"settrace",
    b"ctypes",
)
_DYNAMIC_NAMES: Final = frozenset({"locals", "globals", "vars", "exec", "eval"})
_DYNAMIC_TOKENS: Final = (
    b"globals(",
    b"setattr(",
    b"__dict__",
    b"exec(",
    b"eval(",
    b"__import__",
    # review, round 2: a conftest that takes names from a module built at run time (`from plug
    # import *` of a module that wrote `globals()["pytest_" + ...]`), or writes its own globals
    # through a frame
    b"import *",
    b"f_globals",
    b"_getframe",
    b"currentframe",
)

SOURCE_ENCODINGS: Final = frozenset({"utf-8", "utf-8-sig", "iso-8859-1", "ascii"})
"""Source encodings in which the bytes the proof searches are the names Python reads. Another
coding cookie (`utf-7`, `unicode_escape`, UTF-16...) spells a hook name the byte search cannot
see (`pytest+AF8-pyfunc+AF8-call`): such a tree gets no fact (review, round 2)."""

PYTEST_CONFIG_FILES: Final = frozenset({"pyproject.toml", "pytest.ini", ".pytest.ini", "tox.ini", "setup.cfg", "setup.py"})
_PLUGIN_OPTIONS: Final = re.compile(rb"pytest11|pythonpath|(?:^|[\s\"',=\[])-p", re.M)
"""In a configuration file pytest (or the project's packaging) reads: a plugin loaded by name
(`addopts = "-p plug"`), a folder put on `sys.path`, or a `pytest11` entry point. A plugin can
name its hooks at run time, which no byte search of the tree sees (review, round 2)."""
MAX_CONFIG_WALK: Final = 200_000
"""Entries walked looking for configuration files before the tree counts as refusing the proof."""


def loads_plugins(project: Path) -> bool:
    """True when a configuration file anywhere under `project` (pytest looks for its
    configuration from the folders it is given upwards) can load a plugin or extend the import
    path, or cannot be read; also when the tree is too large to look through. Symbolic links
    are not followed."""
    seen = 0
    for folder, dirs, files in os.walk(project):
        dirs[:] = [d for d in dirs if d != ".git"]
        seen += len(dirs) + len(files)
        if seen > MAX_CONFIG_WALK:
            return True
        for name in files:
            if name not in PYTEST_CONFIG_FILES:
                continue
            path = Path(folder) / name
            try:
                if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_PICKLE:
                    return True
                if _PLUGIN_OPTIONS.search(path.read_bytes()):
                    return True
            except OSError:
                return True
    return False


MAX_VALUES: Final = 64
"""At most this many possible arguments per call (parametrize rows times module names)."""

MAX_PICKLE: Final = 1 << 20
"""A constant longer than this is not disassembled (no fact)."""


@dataclass(frozen=True)
class ConstantPickle:
    """One call that loads only constant pickles importing only allowed globals."""

    path: str
    line: int
    imports: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """`input.constant_pickles[]` entry."""
        return {"path": self.path, "line": self.line, "imports": list(self.imports)}


class _Refused(Exception):
    """The expression is not a constant this module can prove (internal)."""


# ---------------------------------------------------------------------------------------------
# The pickle machine, read only


_STRINGS: Final = frozenset({"STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8"})
_MARK: Final = object()


def pickle_globals(data: bytes) -> list[tuple[str, str]] | None:
    """The (module, name) pairs a pickle imports, or None when it cannot be read for sure.

    A stack is simulated from `pickletools`' opcode table: strings are tracked through the memo
    so that STACK_GLOBAL's operands are known; every other value is opaque. Extension codes
    (EXT1/2/4: globals from the copyreg registry), persistent ids, a STACK_GLOBAL whose operands
    are not known strings, a stack underflow or anything `genops` refuses: None.
    """
    stack: list[Any] = []
    memo: dict[int, Any] = {}
    found: list[tuple[str, str]] = []
    opaque = object()
    try:
        for op, arg, _pos in pickletools.genops(data):
            name = op.name
            if name.startswith("EXT") or name in ("PERSID", "BINPERSID"):
                return None
            if name == "MARK":
                stack.append(_MARK)
                continue
            if name in _STRINGS:
                stack.append(arg if isinstance(arg, str) else opaque)
                continue
            if name in ("PUT", "BINPUT", "LONG_BINPUT"):
                if not stack or stack[-1] is _MARK or not isinstance(arg, int):
                    return None
                memo[arg] = stack[-1]
                continue
            if name == "MEMOIZE":
                if not stack or stack[-1] is _MARK:
                    return None
                memo[len(memo)] = stack[-1]
                continue
            if name in ("GET", "BINGET", "LONG_BINGET"):
                if not isinstance(arg, int) or arg not in memo:
                    return None
                stack.append(memo[arg])
                continue
            if name == "DUP":
                if not stack:
                    return None
                stack.append(stack[-1])
                continue
            if name in ("GLOBAL", "INST"):
                module, _, attr = str(arg).partition(" ")
                found.append((module, attr))
            if name == "STACK_GLOBAL":
                if len(stack) < 2 or not isinstance(stack[-1], str) or not isinstance(stack[-2], str):
                    return None
                found.append((stack[-2], stack[-1]))
                del stack[-2:]
                stack.append(opaque)
                continue
            before, after = op.stack_before, op.stack_after
            if pickletools.markobject in before or (name == "POP" and stack and stack[-1] is _MARK):
                if _MARK not in stack:
                    return None
                at = len(stack) - 1 - stack[::-1].index(_MARK)
                extra = before.index(pickletools.markobject) if pickletools.markobject in before else 0
                del stack[at:]
                if extra > len(stack) or any(x is _MARK for x in stack[len(stack) - extra :]):
                    return None
                del stack[len(stack) - extra :]
            else:
                if len(before) > len(stack) or any(x is _MARK for x in stack[len(stack) - len(before) :]):
                    return None
                del stack[len(stack) - len(before) :]
            stack.extend(opaque for _ in after)
    except (ValueError, TypeError, IndexError, KeyError, EOFError, OverflowError, struct.error):
        return None  # malformed data (genops' own errors, truncated operands): not provable
    return found


# ---------------------------------------------------------------------------------------------
# The syntax tree


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


class _File:
    """One parsed source file: each node's scope, and each scope's bindings."""

    def __init__(self, rel: str, tree: ast.Module) -> None:
        self.rel = rel
        self.tree = tree
        self.scope: dict[ast.AST, ast.AST] = {}
        self.bindings: dict[tuple[ast.AST, str], list[ast.AST]] = {}
        self.declared: set[str] = set()  # names in any global/nonlocal statement
        self.module_writes = False  # __module__ written or __name__ bound somewhere
        self._visit(tree, tree)
        self.dynamic = any(
            isinstance(n, ast.Name) and n.id in _DYNAMIC_NAMES for n in ast.walk(tree)
        )  # locals()/globals()/vars()/exec/eval: names changed at run time

    def _bind(self, scope: ast.AST, name: str, node: ast.AST) -> None:
        self.bindings.setdefault((scope, name), []).append(node)
        if name in ("__module__", "__name__"):
            self.module_writes = True

    def _visit(self, node: ast.AST, scope: ast.AST) -> None:
        self.scope[node] = scope
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self._bind(scope, node.name, node)
            for d in node.decorator_list:
                self._visit(d, scope)
            if isinstance(node, ast.ClassDef):
                for b in [*node.bases, *node.keywords]:
                    self._visit(b, scope)
                for stmt in node.body:
                    self._visit(stmt, node)
                return
            args = node.args
            for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
                self._visit(default, scope)
            for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if a is not None:
                    self._bind(node, a.arg, a)
                    self.scope[a] = node
            for stmt in node.body:
                self._visit(stmt, node)
            return
        if isinstance(node, _SCOPES):
            # lambdas and comprehensions: their own scope; nothing proven inside them
            for child in ast.iter_child_nodes(node):
                self._visit(child, node)
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            self._bind(scope, node.id, node)
        elif isinstance(node, ast.alias):
            self._bind(scope, (node.asname or node.name).split(".")[0], node)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            self.declared.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            self._bind(scope, node.name, node)
        elif isinstance(node, (ast.MatchAs, ast.MatchStar)) and node.name:
            self._bind(scope, node.name, node)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            self._bind(scope, node.rest, node)
        elif isinstance(node, ast.Attribute) and node.attr == "__module__" and isinstance(node.ctx, (ast.Store, ast.Del)):
            self.module_writes = True
        elif isinstance(node, ast.Constant) and node.value == "__module__":
            self.module_writes = True  # setattr(cls, "__module__", ...), type(..., {"__module__": ...})
        for child in ast.iter_child_nodes(node):
            self._visit(child, scope)

    def only_binding(self, scope: ast.AST, name: str) -> ast.AST | None:
        """The single node that binds `name` in `scope`, or None (unbound, bound twice, declared)."""
        nodes = self.bindings.get((scope, name)) or []
        if len(nodes) != 1 or name in self.declared:
            return None
        return nodes[0]

    def assigned_value(self, scope: ast.AST, name: str, before: ast.AST) -> ast.expr:
        """The value of the single plain assignment of `name` in `scope`, written before `before`."""
        node = self.only_binding(scope, name)
        if not isinstance(node, ast.Name) or not isinstance(before, (ast.expr, ast.stmt)):
            raise _Refused
        for stmt in ast.walk(scope):
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and stmt.targets[0] is node:
                if (stmt.end_lineno or stmt.lineno, stmt.end_col_offset or 0) >= (before.lineno, before.col_offset):
                    raise _Refused
                return stmt.value
        raise _Refused


class Prover:
    """Proves constant pickle loads in a set of source files under one root."""

    def __init__(self, root: Path, paths: Iterable[str], excluded: Iterable[str] = ()) -> None:
        self.root = root
        self.paths = {p for p in paths if p.endswith(".py")}
        # files the coverage rules exclude: not read, but a module of theirs may be the one
        # `import` finds (a folder put on sys.path by pytest's `pythonpath` or import mode)
        self.names = self.paths | {p for p in excluded if p.endswith(".py")}
        self._files: dict[str, _File | None] = {}
        self._bytes: dict[str, bytes | None] = {}
        self._rebound: frozenset[str] | None = None

    def read(self, rel: str) -> bytes | None:
        """The file's bytes, read once (None: unreadable): the searches and the parse share them."""
        if rel not in self._bytes:
            try:
                self._bytes[rel] = (self.root / rel).read_bytes()
            except OSError:
                self._bytes[rel] = None
        return self._bytes[rel]

    def shadowed(self) -> bool:
        """True when the tree defines a module that would shadow the standard library's pickle."""
        for p in self.paths:
            parts = p.split("/")
            if any(part in SHADOWS for part in parts[:-1]) or parts[-1][: -len(".py")] in SHADOWS:
                return True
        return False

    def file(self, rel: str) -> _File | None:
        """The parsed file (None: unreadable, not Python, too deep)."""
        if rel not in self._files:
            parsed: _File | None = None
            data = self.read(rel)
            try:
                parsed = None if data is None else _File(rel, ast.parse(data, filename=rel))
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                parsed = None
            self._files[rel] = parsed
        return self._files[rel]

    def _writes_pytest(self) -> bool:
        """True when a file writes an attribute of `pytest` or `_pytest` (`pytest.mark = ...`:
        the decorator the proof reads would not be pytest's; red team, round 2) or one named
        `mark` or `parametrize` on anything (`import pytest as p; p.mark = ...`), or hands those
        names to a call after its first argument (`setattr(pytest, "mark", ...)`)."""
        marks = ("mark", "parametrize")
        for rel in sorted(self.paths):
            f = self.file(rel)
            if f is None:
                return True
            for node in ast.walk(f.tree):
                if isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
                    if node.attr in marks or (isinstance(node.value, ast.Name) and node.value.id in ("pytest", "_pytest")):
                        return True
                if isinstance(node, ast.Call) and any(
                    isinstance(a, ast.Constant) and isinstance(a.value, str) and a.value.rsplit(".", 1)[-1] in marks for a in node.args[1:]
                ):
                    return True
        return False

    def rewrites_arguments(self) -> bool:
        """True when the tree has code that can hand a test other arguments or locals than its
        source says: pytest hooks that call or set up the test function, or reach its
        parameters (`funcargs`, `callspec`), plugins named in `pytest_plugins`, frame locals
        written from elsewhere (`f_locals`, tracers, ctypes), or a conftest.py that builds
        names at run time (`globals()`, `setattr`)."""
        for p in self.paths:
            data = self.read(p)
            if data is None:
                return True
            if any(token in data for token in _HOOK_TOKENS):
                return True
            try:
                encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
            except SyntaxError:
                return True
            if encoding not in SOURCE_ENCODINGS:
                return True
            if p.rsplit("/", 1)[-1] == "conftest.py" and any(token in data for token in _DYNAMIC_TOKENS):
                return True
        return False

    def prove(self) -> list[ConstantPickle]:
        """Every proven call of the tree, in path and line order."""
        candidates = []
        for rel in sorted(self.paths):
            data = self.read(rel)
            if data is None:
                continue
            if b"loads" in data and b"pickle" in data.lower():
                candidates.append(rel)
        if not candidates or self.shadowed() or self.rewrites_arguments() or self._writes_pytest():
            return []
        out: list[ConstantPickle] = []
        for rel in candidates:
            f = self.file(rel)
            if f is not None:
                out.extend(self._prove_file(f))
        return out

    def _prove_file(self, f: _File) -> Iterator[ConstantPickle]:
        aliases = self._deserialiser_aliases(f)
        if not aliases:
            return
        starts: dict[int, list[ast.Call]] = {}
        for node in ast.walk(f.tree):
            if isinstance(node, ast.Call):
                starts.setdefault(node.lineno, []).append(node)
        for node in ast.walk(f.tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "loads"):
                continue
            # A fact is about a line (findings are placed by line): no other call may start on
            # it (`pickle.loads(C); marshal.loads(x)`), calls inside the argument aside.
            inside = {id(n) for n in ast.walk(node)}
            if any(id(other) not in inside for other in starts[node.lineno]):
                continue
            target = node.func.value
            if not (isinstance(target, ast.Name) and target.id in aliases):
                continue
            if len(node.args) != 1 or node.keywords or isinstance(node.args[0], ast.Starred):
                continue
            if f.dynamic:
                continue
            try:
                values = self._values(f, node.args[0], f.scope[node], node, 0)
                imports = self._judge(values)
            except (_Refused, RecursionError):
                continue
            yield ConstantPickle(f.rel, node.lineno, imports)

    @staticmethod
    def _deserialiser_aliases(f: _File) -> set[str]:
        """Names bound, in the whole file, only by `import pickle` (or _pickle, cPickle)."""
        out: set[str] = set()
        names: dict[str, list[ast.AST]] = {}
        for (_scope, name), nodes in f.bindings.items():
            names.setdefault(name, []).extend(nodes)
        for name, nodes in names.items():
            if name in f.declared:
                continue
            if all(isinstance(n, ast.alias) and n.name in DESERIALISERS and _import_of(f, n) for n in nodes):
                out.add(name)
        return out

    # -- constants --------------------------------------------------------------------------

    def _values(self, f: _File, expr: ast.expr, scope: ast.AST, use: ast.AST, depth: int) -> list[bytes]:
        if depth > 20:
            raise _Refused
        if isinstance(expr, ast.Constant) and isinstance(expr.value, bytes):
            if len(expr.value) > MAX_PICKLE:
                raise _Refused
            return [expr.value]
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left = self._values(f, expr.left, scope, use, depth + 1)
            right = self._values(f, expr.right, scope, use, depth + 1)
            out = [a + b for a in left for b in right]
            if len(out) > MAX_VALUES or any(len(v) > MAX_PICKLE for v in out):
                raise _Refused
            return out
        if isinstance(expr, ast.Name):
            return self._name_values(f, expr.id, scope, use, depth)
        if (
            isinstance(expr, ast.Call)
            and not expr.args
            and not expr.keywords
            and isinstance(expr.func, ast.Attribute)
            and expr.func.attr == "encode"
            and isinstance(expr.func.value, ast.Attribute)
            and expr.func.value.attr == "__module__"
            and isinstance(expr.func.value.value, ast.Name)
        ):
            return self._module_name_values(f, expr.func.value.value.id, scope, use)
        raise _Refused

    def _name_values(self, f: _File, name: str, scope: ast.AST, use: ast.AST, depth: int) -> list[bytes]:
        if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            binding = f.only_binding(scope, name)
            if binding is None:
                raise _Refused  # a module global read when the function runs: anyone may have changed it
            if isinstance(binding, ast.arg):
                return self._parametrized(f, scope, name, depth)
            return self._values(f, f.assigned_value(scope, name, use), scope, use, depth + 1)
        if isinstance(scope, (ast.ClassDef, ast.Module)):
            # Runs while the class (or module) body executes: the binding written before is the
            # value. Not in a class with bases or keywords (a metaclass's __prepare__ may hand
            # the body a namespace that changes what it stores), nor in a module with a star
            # import (it binds names no syntax shows).
            if isinstance(scope, ast.ClassDef) and (scope.bases or scope.keywords):
                raise _Refused
            if isinstance(scope, ast.Module) and (scope, "*") in f.bindings:
                raise _Refused
            if (scope, name) in f.bindings:
                return self._values(f, f.assigned_value(scope, name, use), scope, use, depth + 1)
            if isinstance(scope, ast.ClassDef):
                return self._name_values(f, name, f.tree, use, depth + 1)
        raise _Refused

    def _parametrized(self, f: _File, func: ast.FunctionDef | ast.AsyncFunctionDef, name: str, depth: int) -> list[bytes]:
        # `pytest` is the real module (bound only by `import pytest`), and nothing but pytest
        # marks decorates the function or its class: another decorator could call it with
        # other arguments than the table's.
        if not _module_name_only(f, "pytest"):
            raise _Refused
        outer = f.scope[func]
        decorated = [func, outer] if isinstance(outer, ast.ClassDef) else [func]
        for node in decorated:
            for deco in node.decorator_list:
                if not _dotted(deco.func if isinstance(deco, ast.Call) else deco).startswith("pytest.mark."):
                    raise _Refused
        rows: list[bytes] = []
        supplied = 0
        for deco in func.decorator_list:
            if not (isinstance(deco, ast.Call) and _dotted(deco.func) == "pytest.mark.parametrize"):
                continue
            if len(deco.args) != 2 or any(k.arg != "ids" for k in deco.keywords):
                raise _Refused
            names = _argnames(deco.args[0])
            if name not in names:
                continue
            supplied += 1
            index = names.index(name)
            table = deco.args[1]
            if not isinstance(table, (ast.List, ast.Tuple)) or not table.elts:
                raise _Refused
            for row in table.elts:
                if isinstance(row, ast.Call) and _dotted(row.func) == "pytest.param":
                    items: list[ast.expr] = list(row.args)
                elif len(names) == 1:
                    items = [row]
                elif isinstance(row, (ast.Tuple, ast.List)):
                    items = list(row.elts)
                else:
                    raise _Refused
                if len(items) != len(names) or any(isinstance(i, ast.Starred) for i in items):
                    raise _Refused
                rows.extend(self._values(f, items[index], f.scope[func], deco, depth + 1))
        if supplied != 1 or len(rows) > MAX_VALUES:
            raise _Refused
        return rows

    def _module_name_values(self, f: _File, obj: str, scope: ast.AST, use: ast.AST) -> list[bytes]:
        if f.module_writes or not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            raise _Refused
        made = f.assigned_value(scope, obj, use)
        if not (isinstance(made, ast.Call) and isinstance(made.func, ast.Name)):
            raise _Refused
        cls = f.only_binding(f.tree, made.func.id)
        if not (isinstance(cls, ast.ClassDef) and not cls.keywords and not cls.bases and f.scope.get(cls) is f.tree):
            raise _Refused
        return [n.encode() for n in self._module_names(f.rel)]

    def _module_names(self, rel: str) -> list[str]:
        """The names pytest's import modes can give the file: its path from the root, and the
        package walk (folders with __init__.py above it)."""
        parts = rel[: -len(".py")].split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names = {".".join(parts)}
        package = [parts[-1]]
        folder = parts[:-1]
        while folder and "/".join([*folder, "__init__.py"]) in self.paths:
            package.insert(0, folder[-1])
            folder = folder[:-1]
        names.add(".".join(package))
        return sorted(n for n in names if n)

    # -- imports ----------------------------------------------------------------------------

    def _judge(self, values: list[bytes]) -> tuple[str, ...]:
        if not values:
            raise _Refused
        seen: set[str] = set()
        for data in values:
            found = pickle_globals(data)
            if found is None:
                raise _Refused
            for module, name in found:
                if (module, name) not in ALLOWED_GLOBALS and not self._project_class(module, name):
                    raise _Refused
                seen.add(f"{module}.{name}")
        return tuple(sorted(seen))

    def _project_class(self, module: str, name: str) -> bool:
        """`module.name` is a class of the surveyed tree, bound only by its class statement."""
        if not module or not name.isidentifier() or module.split(".")[0] in sys.stdlib_module_names:
            return False
        # Python 2 names the unpickler renames (fix_imports): `commands.getoutput` is
        # `subprocess.getoutput` when it loads, whatever the tree's commands.py holds.
        if module in _compat_pickle.IMPORT_MAPPING or module.split(".")[0] in _compat_pickle.IMPORT_MAPPING:
            return False
        if (module, name) in _compat_pickle.NAME_MAPPING:
            return False
        if not all(part.isidentifier() for part in module.split(".")):
            return False
        stem = module.replace(".", "/")
        files = [c for c in (f"{stem}.py", f"{stem}/__init__.py", f"src/{stem}.py", f"src/{stem}/__init__.py") if c in self.paths]
        if len(files) != 1 or not self._only_location(module, files[0]):
            return False
        if name in self.rebound_names() or self.rebound_names() is _ANY:
            return False
        f = self.file(files[0])
        if f is None or (f.tree, "__getattr__") in f.bindings:
            return False
        nodes = f.bindings.get((f.tree, name)) or []
        classes = [n for n in nodes if isinstance(n, ast.ClassDef)]
        if len(classes) != 1 or name in f.declared or not _data_class(f, classes[0], 0):
            return False
        # Besides its class statement, the name may only be re-bound to a call on the class,
        # after it (`Attribute = _add_hash(Attribute, ...)`: a decorator written as a call).
        return all(n is classes[0] or _decorates(f, n, name, classes[0]) for n in nodes)

    def _only_location(self, module: str, chosen: str) -> bool:
        """No other surveyed file can be what `import module` finds at run time (round 2 attack):
        pytest's default import mode puts a test folder without __init__.py first on sys.path,
        so `tests/pkg/models.py` (or `tests/pkg/__init__.py`, which runs first and may replace
        `sys.modules['pkg.models']`) would be imported instead of the root's `pkg/models.py`.
        Every file named like the module or one of its packages, at any depth, must be the
        chosen file or a package `__init__.py` above it."""
        root = chosen[: len(chosen) - len(module.replace(".", "/")) - len("/__init__.py" if chosen.endswith("/__init__.py") else ".py")]
        parts = module.split(".")
        for i in range(1, len(parts) + 1):
            prefix = "/".join(parts[:i])
            allowed = {chosen} if i == len(parts) else {f"{root}{prefix}/__init__.py"}
            for tail in (f"{prefix}.py", f"{prefix}/__init__.py"):
                for p in self.names:
                    if (p == tail or p.endswith("/" + tail)) and p not in allowed:
                        return False
        return True

    def rebound_names(self) -> frozenset[str]:
        """Names some surveyed file may rebind on another module (round 2 attack), or `_ANY`
        when a file writes `sys.modules`: `pkg.models.Point = os.system` in a conftest.py or a
        test module run before the load, `mock.patch("pkg.models.Point", ...)`,
        `vars(models)["Point"] = ...`, `patch.multiple(models, Point=...)`. Collected from every
        attribute written or deleted, every string given to a call after its first argument (the
        attribute of setattr-like calls), the last part of every dotted or colon string given to
        a call, every keyword name and every constant key written by subscript. A name passed
        through a helper or built at run time is not seen (SECURITY.md VI, residual)."""
        if self._rebound is None:
            names: set[str] = set()
            for rel in sorted(self.paths):
                f = self.file(rel)
                if f is None:
                    self._rebound = _ANY
                    return _ANY
                for node in ast.walk(f.tree):
                    if isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
                        names.add(node.attr)
                    elif isinstance(node, ast.Call):
                        names.update(k.arg for k in node.keywords if k.arg)
                        for i, a in enumerate(node.args):
                            if isinstance(a, ast.Dict):  # patch.dict(vars(models), {"Point": ...})
                                names.update(k.value for k in a.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
                            if isinstance(a, ast.Constant) and isinstance(a.value, str):
                                if i > 0:  # setattr(obj, "Point", x), patch.object(m, "Point", x)
                                    names.add(a.value)
                                if "." in a.value or ":" in a.value:  # patch("pkg.models.Point", x)
                                    names.update({a.value.rsplit(".", 1)[-1], a.value.rsplit(":", 1)[-1]})
                    elif isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)):
                        key = node.slice
                        if isinstance(key, ast.Constant) and isinstance(key.value, str):
                            names.add(key.value)
                    if _writes_sys_modules(node):
                        self._rebound = _ANY
                        return _ANY
            self._rebound = frozenset(names)
        return self._rebound


_ANY: Final = frozenset({"*"})
"""`Prover.rebound_names` when a file writes `sys.modules`: no project class is proven."""

_ENUM_BASES: Final = frozenset({"Enum", "IntEnum", "Flag", "IntFlag", "StrEnum"})


_MUTATORS: Final = frozenset({"update", "setdefault", "__setitem__", "__delitem__", "pop", "popitem", "clear"})


def _namespace(expr: ast.AST) -> bool:
    """`X.__dict__` or `vars(X)`: a module's (or class's) namespace itself."""
    if isinstance(expr, ast.Attribute):
        return expr.attr == "__dict__"
    return isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "vars"


def _writes_sys_modules(node: ast.AST) -> bool:
    """`modules` (sys.modules) written by subscript, changed by a method, handed to a call
    (`monkeypatch.setitem(sys.modules, ...)`, `patch.dict(sys.modules, ...)`) or imported by name;
    or a namespace changed by a method (`vars(models).update(...)`, `models.__dict__.setdefault`)
    or handed to exec/eval as its globals (red team, round 2)."""
    if isinstance(node, ast.alias):
        return node.name == "modules" or node.asname == "modules"
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)):
        return isinstance(node.value, ast.Attribute) and node.value.attr == "modules"
    if isinstance(node, ast.Call):
        if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "modules":
            return True
        if isinstance(node.func, ast.Attribute) and node.func.attr in _MUTATORS and _namespace(node.func.value):
            owner = node.func.value.value if isinstance(node.func.value, ast.Attribute) else None
            if not (isinstance(owner, ast.Name) and owner.id in ("self", "cls")):  # an instance's own state
                return True
        if isinstance(node.func, ast.Name) and node.func.id in ("exec", "eval") and any(_namespace(a) for a in node.args[1:]):
            return True
        args = [*node.args, *(k.value for k in node.keywords)]
        return any(isinstance(a, ast.Attribute) and a.attr == "modules" for a in args)
    return False


def _data_class(f: _File, cls: ast.ClassDef, depth: int) -> bool:
    """The class statement's bases run no caller-chosen code when the pickle calls or rebuilds
    the class (round 2 attack: `class Job(subprocess.Popen): pass` made `Job(["sh", ...])` a
    "project class"): no keywords (a metaclass's __call__), and each base is `object`, an Enum
    (`enum.Enum` with `enum` bound only by `import enum`), or a top-level class of the same
    file bound once by its class statement that passes the same test."""
    if cls.keywords or depth > 20:
        return False
    for base in cls.bases:
        if isinstance(base, ast.Name) and base.id == "object" and (f.tree, "object") not in f.bindings:
            continue
        if (
            isinstance(base, ast.Attribute)
            and base.attr in _ENUM_BASES
            and isinstance(base.value, ast.Name)
            and base.value.id == "enum"
            and _module_name_only(f, "enum")
        ):
            continue
        if isinstance(base, ast.Name):
            parent = f.only_binding(f.tree, base.id)
            if isinstance(parent, ast.ClassDef) and parent is not cls and _data_class(f, parent, depth + 1):
                continue
        return False
    return True


def _decorates(f: _File, node: ast.AST, name: str, cls: ast.ClassDef) -> bool:
    """`node` is the target of a module-level `name = call(... name ...)` written after `cls`."""
    for stmt in f.tree.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and stmt.targets[0] is node:
            value = stmt.value
            return (
                stmt.lineno > (cls.end_lineno or cls.lineno)
                and isinstance(value, ast.Call)
                and any(isinstance(x, ast.Name) and x.id == name and isinstance(x.ctx, ast.Load) for x in ast.walk(value))
            )
    return False


def _module_name_only(f: _File, name: str) -> bool:
    """`name` is bound in the file only by `import name`."""
    nodes = [n for (_scope, bound), ns in f.bindings.items() if bound == name for n in ns]
    return (
        bool(nodes)
        and name not in f.declared
        and all(isinstance(n, ast.alias) and n.name == name and n.asname is None and _import_of(f, n) for n in nodes)
    )


def _import_of(f: _File, alias: ast.alias) -> bool:
    """The alias belongs to a plain `import` statement (not `from x import pickle`)."""
    for node in ast.walk(f.tree):
        if isinstance(node, ast.Import) and alias in node.names:
            return True
    return False


def _dotted(expr: ast.expr) -> str:
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.insert(0, expr.attr)
        expr = expr.value
    if isinstance(expr, ast.Name):
        parts.insert(0, expr.id)
        return ".".join(parts)
    return ""


def _argnames(expr: ast.expr) -> list[str]:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [n.strip() for n in expr.value.split(",") if n.strip()]
    if isinstance(expr, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in expr.elts):
        return [str(e.value).strip() for e in expr.elts if isinstance(e, ast.Constant)]
    raise _Refused


def prove(root: Path, paths: Iterable[str], excluded: Iterable[str] = (), *, project: Path | None = None) -> list[dict[str, Any]]:
    """`input.constant_pickles`: the proven loads of the source files `paths` (relative, with
    `/`) under `root` (the gate's snapshot, or `gate evaluate --source-root`); `excluded`: the
    source files the coverage rules left out (their names only: no module of theirs may be
    mistaken for a project class's); `project`: the tree whose configuration files pytest would
    read (default `root`): one that can load a plugin gives no fact (`loads_plugins`)."""
    if loads_plugins(project if project is not None else root):
        return []
    return [c.to_dict() for c in Prover(root, paths, excluded).prove()]
