"""The typed records (`gate/records.py`) say what the schemas say, and the formatters read no environment.

- Each TypedDict is checked against the schema object it names in `gate/schemas/`: every property
  the schema lists is a key of the type, with a type of the same JSON kinds; every key the schema
  requires is a required key of the type; where the schema allows no other property, the type has
  none. A schema change without a type change (or the reverse) fails here.
- `gate/output/` reads no environment variable, no terminal and no working directory: whatever a
  formatter needs of the run's surroundings the CLI computes once and passes in `OutputOptions`.
  The attack this closes: with the console formatter reading `sys.stdout.isatty()` and rich
  reading `FORCE_COLOR`/`TERM`/`COLUMNS` itself, the bytes the gate wrote depended on variables
  a job step could set, beside `--no-timing`'s promise of the same bytes for the same inputs.
"""

from __future__ import annotations

import ast
import json
import types
import typing
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints, is_typeddict

import pytest

from gate import records
from gate.output.console import ConsoleFormatter
from gate.output.interface import OutputOptions
from gate.records import Verdict

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "gate" / "schemas"
OUTPUT = REPO / "gate" / "output"

# (TypedDict, schema file, JSON pointer of the object schema it types)
PAIRS: list[tuple[Any, str, str]] = [
    (records.InputDocument, "input", ""),
    (records.ContextRecord, "input", "/properties/context"),
    (records.FindingRecord, "input", "/properties/findings/items"),
    (records.LocationRecord, "input", "/properties/findings/items/properties/location"),
    (records.PackageRecord, "input", "/properties/findings/items/properties/package"),
    (records.FindingSource, "input", "/properties/findings/items/properties/source"),
    (records.WaiverMark, "input", "/properties/findings/items/properties/waiver"),
    (records.VexMark, "input", "/properties/findings/items/properties/vex"),
    (records.ComponentRecord, "input", "/properties/components/items"),
    (records.ComponentSource, "input", "/properties/components/items/properties/source"),
    (records.ScanRecord, "input", "/properties/scans/items"),
    (records.UnscannedRecord, "input", "/properties/unscanned/items"),
    (records.ConstantPickleRecord, "input", "/properties/constant_pickles/items"),
    (records.Verdict, "verdict", ""),
    (records.Summary, "verdict", "/properties/summary"),
    (records.Entry, "verdict", "/properties/violations/items"),
    (records.Entry, "verdict", "/properties/warnings/items"),
    (records.Evidence, "verdict", "/properties/violations/items/properties/evidence"),
    (records.WaivedRecord, "verdict", "/properties/waived/items"),
    (records.InputSummary, "verdict", "/properties/inputs/items"),
    (records.VexApplied, "verdict", "/properties/vex/items"),
    (records.PolicyInfo, "verdict", "/properties/policy"),
    (records.EngineInfo, "verdict", "/properties/engine"),
    (records.ErrorRecord, "verdict", "/properties/error"),
    (records.UnscannedRecord, "verdict", "/properties/unscanned/items"),
    (records.NotUsedRecord, "verdict", "/properties/not_used/items"),
    (records.ReportOnly, "verdict", "/properties/report_only"),
]


def _schema(name: str, pointer: str) -> dict[str, Any]:
    node: Any = json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))
    for part in pointer.split("/")[1:]:
        node = node[part]
    assert isinstance(node, dict)
    return node


def _json_kinds(annotation: Any) -> set[str]:
    """The JSON types a Python annotation admits."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return set().union(*(_json_kinds(a) for a in get_args(annotation)))
    if origin is Literal:
        return set().union(*(_json_kinds(type(v)) for v in get_args(annotation)))
    if annotation is type(None):
        return {"null"}
    if annotation is Any:
        return {"string", "integer", "number", "boolean", "null", "array", "object"}
    if annotation is bool:
        return {"boolean"}
    if annotation is int:
        return {"integer"}
    if annotation is float:
        return {"number", "integer"}
    if annotation is str:
        return {"string"}
    if origin is list or annotation is list:
        return {"array"}
    if origin is dict or annotation is dict or is_typeddict(annotation):
        return {"object"}
    raise AssertionError(f"no JSON kind for {annotation!r}")


def _schema_kinds(prop: dict[str, Any]) -> set[str] | None:
    """The JSON types a property schema admits (None: it does not say)."""
    if "type" in prop:
        t = prop["type"]
        return set(t) if isinstance(t, list) else {t}
    values = prop.get("enum", [prop["const"]] if "const" in prop else None)
    if values is None:
        return None
    kinds = set()
    for v in values:
        kinds |= _json_kinds(type(v))
    return kinds


def _mismatches(record: Any, node: dict[str, Any]) -> list[str]:
    """Where a TypedDict and its object schema disagree (keys, required keys, JSON kinds)."""
    hints = get_type_hints(record)
    keys = set(hints)
    required = set(record.__required_keys__)
    properties: dict[str, Any] = node.get("properties", {})
    out = [f"{record.__name__} lacks `{k}`, which the schema names" for k in sorted(set(properties) - keys)]
    out += [
        f"the schema requires `{k}`, {record.__name__} has it optional or not at all"
        for k in sorted(set(node.get("required", [])) - required)
    ]
    if node.get("additionalProperties") is False:
        out += [f"{record.__name__} has `{k}`, which the schema forbids" for k in sorted(keys - set(properties))]
    for key, prop in properties.items():
        want = _schema_kinds(prop)
        if want is None or key not in hints:
            continue
        got = _json_kinds(hints[key])
        if "integer" in want and "number" not in want:
            got.discard("number")  # a float annotation is not written for an integer property
        if not got <= want | ({"integer"} if "number" in want else set()):
            out.append(f"{record.__name__}.{key}: the type admits {sorted(got)}, the schema {sorted(want)}")
    return out


@pytest.mark.parametrize(("record", "schema", "pointer"), PAIRS, ids=[f"{r.__name__}:{s}{p or '/'}" for r, s, p in PAIRS])
def test_record_matches_schema(record: Any, schema: str, pointer: str) -> None:
    problems = _mismatches(record, _schema(schema, pointer))
    assert not problems, f"{schema}.schema.json{pointer}: " + "; ".join(problems)


def test_a_schema_change_without_a_type_change_fails() -> None:
    """Each kind of schema edit the check must catch is caught: a new property, a property made
    required, a property forbidden by additionalProperties, a changed JSON type."""
    base = _schema("input", "/properties/findings/items")
    assert _mismatches(records.FindingRecord, base) == []
    added = {**base, "properties": {**base["properties"], "reachable": {"type": "boolean"}}}
    assert any("lacks `reachable`" in p for p in _mismatches(records.FindingRecord, added))
    scan = _schema("input", "/properties/scans/items")
    stricter = {**scan, "required": [*scan["required"], "statistics"]}
    assert any("requires `statistics`" in p for p in _mismatches(records.ScanRecord, stricter))
    fewer = {**base, "properties": {k: v for k, v in base["properties"].items() if k != "help_uri"}}
    assert any("`help_uri`, which the schema forbids" in p for p in _mismatches(records.FindingRecord, fewer))
    retyped = {**base, "properties": {**base["properties"], "suppressed": {"type": "string"}}}
    assert any("FindingRecord.suppressed" in p for p in _mismatches(records.FindingRecord, retyped))


def test_every_record_is_checked() -> None:
    """Every TypedDict of gate/records.py that mirrors a schema object is in PAIRS (the rest are
    named here, with why they have no schema object of their own)."""
    no_schema_object = {
        "WaiverEntry": "input.waivers[] and the verdict's waiver lists are bare objects in the schemas",
        "NotApplicable": "not_applicable[] is a bare object in the verdict schema",
        "CompactFinding": "the verdict's `findings` is a bare object",
        "RuleRecord": "the verdict's `rules` is a bare object",
        "ErrorPosition": "error.position is a bare object",
    }
    typed = {
        name
        for name, value in vars(records).items()
        if is_typeddict(value) and not name.startswith("_") and value.__module__ == records.__name__
    }
    checked = {r.__name__ for r, _, _ in PAIRS}
    assert typed - checked == set(no_schema_object), sorted(typed - checked)


# ------------------------------------------------------------------------------------------
# The formatters read nothing of the environment

_FORBIDDEN_ATTRIBUTES = {
    ("os", "environ"),
    ("os", "environb"),
    ("os", "getenv"),
    ("os", "getenvb"),
    ("os", "getcwd"),
    ("os", "getcwdb"),
    ("os", "get_terminal_size"),
    ("shutil", "get_terminal_size"),
    ("sys", "stdout"),
    ("sys", "stderr"),
    ("sys", "stdin"),
    ("sys", "__stdout__"),
}
_FORBIDDEN_MODULES = {"subprocess", "shutil", "curses", "termios", "tty", "getpass"}
_FORBIDDEN_NAMES = {"environ", "getenv", "getcwd", "isatty", "get_terminal_size"}


def _access_problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    problems = []
    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and (node.value.id, node.attr) in _FORBIDDEN_ATTRIBUTES:
                problems.append(f"{where}: {node.value.id}.{node.attr}")
            if node.attr in _FORBIDDEN_NAMES:
                problems.append(f"{where}: .{node.attr}")
        elif isinstance(node, ast.Import):
            problems += [f"{where}: import {a.name}" for a in node.names if a.name.split(".")[0] in _FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] in _FORBIDDEN_MODULES:
                problems.append(f"{where}: from {node.module} import")
            problems += [f"{where}: from {node.module} import {a.name}" for a in node.names if a.name in _FORBIDDEN_NAMES]
        elif isinstance(node, ast.Name) and node.id in _FORBIDDEN_NAMES:
            problems.append(f"{where}: {node.id}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Console":
            if not any(k.arg == "_environ" for k in node.keywords):
                problems.append(f"{where}: rich Console without `_environ=` reads the environment itself")
    return problems


def test_output_reads_no_environment_or_terminal() -> None:
    """No module of gate/output/ touches os.environ, the working directory, the terminal or a
    subprocess; a rich Console is given an environment of its own (an empty one)."""
    files = sorted(OUTPUT.glob("*.py"))
    assert len(files) >= 10
    problems = [p for f in files for p in _access_problems(f)]
    assert not problems, "\n".join(problems)


def test_access_check_sees_what_it_forbids(tmp_path: Path) -> None:
    """The check above is not vacuous: each kind of access it forbids is found in a sample."""
    sample = tmp_path / "sample.py"
    code = (
        "import os, sys\nfrom os import getenv\nimport subprocess\nfrom rich.console import Console\n"
        "a = os.environ.get('X')\nb = sys.stdout.isatty()\nc = os.getcwd()\nd = Console(width=80)\n"
    )
    sample.write_text(code, encoding="utf-8")
    found = "\n".join(_access_problems(sample))
    for what in ("os.environ", "sys.stdout", ".isatty", "os.getcwd", "import subprocess", "import getenv", "rich Console"):
        assert what in found, (what, found)


def _verdict() -> Verdict:
    entry: records.Entry = {
        "rule": "SAST-001",
        "title": "Injection",
        "severity": "high",
        "control": "C-1",
        "msg": "eval at app.py:3",
        "remediation": "Do not eval input.",
        "evidence": {"findings": ["a" * 16], "components": [], "scans": [], "details": []},
        "effective_on": None,
    }
    return {
        "schema": "gate.verdict/v1",
        "decision": "fail",
        "exit_code": 10,
        "summary": {
            "violations": 1,
            "warnings": 0,
            "findings": 1,
            "components": 0,
            "waived": 0,
            "inputs": 1,
            "findings_by_severity": {"high": 1},
        },
        "violations": [entry],
        "warnings": [],
        "waived": [],
        "waivers_expired": [],
        "waivers_unused": [],
        "waivers_expiring": [],
        "vex": [],
        "not_applicable": [],
        "inputs": [],
        "policy": None,
        "engine": None,
        "context": None,
        "timing": {},
        "error": None,
        "findings": {},
        "run": None,
    }


@pytest.mark.parametrize("interactive", [False, True], ids=["plain", "rich"])
def test_console_bytes_do_not_follow_the_environment(monkeypatch: pytest.MonkeyPatch, interactive: bool) -> None:
    """The attack: a step sets FORCE_COLOR, TERM, COLUMNS or NO_COLOR, or runs the gate under a
    pseudo-terminal, and the console output changes though the options did not. The bytes
    depend only on the verdict and the options."""
    options = OutputOptions(width=100, color=False, interactive=interactive)
    clean = ConsoleFormatter(options).render(_verdict(), None)
    for name, value in {"FORCE_COLOR": "1", "TERM": "dumb", "COLUMNS": "20", "NO_COLOR": "", "TTY_COMPATIBLE": "1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("sys.stdout.isatty", lambda: not interactive, raising=False)
    assert ConsoleFormatter(options).render(_verdict(), None) == clean
    assert typing.cast(str, clean).startswith("gate CLOSED")
