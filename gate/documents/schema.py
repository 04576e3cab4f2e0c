"""JSON Schema: the gate's own schemas (`gate/schemas/*.schema.json`), one library, jsonschema-rs.

`is_valid` says valid or not; `problems` lists what is wrong (instance path, keyword, message),
sorted so the first is the one to report; `validate` raises a `ConfigError` naming the file, line
and column of the first problem. Until issue 18 the Python `jsonschema` described the errors that
jsonschema-rs found, and each schema `pattern` was rewritten so the two engines matched alike;
measured on the shipped data and a waivers file, importing the Python `jsonschema` costs about
3 s on this machine (its format checkers) and its warm check 6-17 ms, where jsonschema-rs
imports in 30-80 ms and checks in 0.03-0.05 ms; it also validates the CycloneDX schema (80 s in
pure Python on a 2 MB BOM, 10 ms here: `sbom/cyclonedx.py`). So jsonschema-rs alone: its regular
expressions (Rust's `regex`) are the schemas' meaning. The `regex` format is still Python's:
the patterns that data files carry are compiled by the gate's Python code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from gate.documents.yaml import Located
from gate.errors import ConfigError

_SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"


@dataclass(frozen=True)
class Problem:
    """One way a value breaks a schema."""

    path: tuple[str | int, ...]
    """Where in the value (keys and indexes), empty for the top level."""
    keyword: str
    """The schema keyword that failed: `required`, `additionalProperties`, `pattern`, `anyOf`, ..."""
    message: str
    instance: Any
    """The part of the value at `path`."""
    missing: str | None = None
    """For `required`: the property that is missing."""
    unexpected: tuple[str, ...] = ()
    """For `additionalProperties`: the properties not allowed."""

    @property
    def where(self) -> str:
        """The path as `a/0/b`, or `(top level)`."""
        return "/".join(str(p) for p in self.path) or "(top level)"


def load_schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped with the gate (`gate/schemas/NAME.schema.json`)."""
    local = _SCHEMAS / f"{name}.schema.json"
    if local.is_file():  # the usual install: files on disk (importlib.resources costs 4 ms to import)
        text = local.read_text(encoding="utf-8")
    else:
        from importlib import resources

        text = resources.files("gate").joinpath("schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator(name: str, formats: bool) -> Any:
    import jsonschema_rs

    schema = load_schema(name)
    if formats:
        return jsonschema_rs.validator_for(schema, validate_formats=True, formats={"regex": _is_python_regex})
    return jsonschema_rs.validator_for(schema, validate_formats=False)


def _is_python_regex(text: str) -> bool:
    try:
        re.compile(text)
    except re.error:
        return False
    return True


def is_valid(value: Any, name: str, *, formats: bool = False) -> bool:
    """True when `value` passes the shipped schema `name`; `formats` asserts `format` (`regex`)."""
    try:
        return bool(_validator(name, formats).is_valid(value))
    except (ValueError, TypeError, OverflowError):  # a value no JSON holds (a set, an int past 64 bits)
        return False


def problems(value: Any, name: str, *, formats: bool = False) -> list[Problem]:
    """Every way `value` breaks the shipped schema `name`, by path (then message): the first is the one to report."""
    try:
        found = list(_validator(name, formats).iter_errors(value))
    except (ValueError, TypeError, OverflowError) as exc:
        return [Problem(path=(), keyword="type", message=f"a value JSON cannot hold: {exc}", instance=value)]
    out = []
    for err in found:
        kind = err.kind
        out.append(
            Problem(
                path=tuple(err.instance_path),
                keyword=str(kind.name),
                message=str(err.message),
                instance=err.instance,
                missing=str(kind.property) if kind.name == "required" else None,
                unexpected=tuple(str(k) for k in kind.unexpected) if kind.name == "additionalProperties" else (),
            )
        )
    return sorted(out, key=lambda p: ([(0, x, "") if isinstance(x, int) else (1, 0, x) for x in p.path], p.message))


def validate(doc: Located, name: str, *, what: str, formats: bool = True) -> None:
    """Validate a located file against the shipped schema `name`; the first problem names its line and column."""
    if is_valid(doc.value, name, formats=formats):
        return
    found = problems(doc.value, name, formats=formats)
    if found:
        first = found[0]
        raise ConfigError(f"invalid {what} at {first.where}: {first.message}", file=doc.path, position=doc.position(list(first.path)))
