"""Errors that name where in a SARIF log they are: the JSON path and the JSON pointer.

`Walk` is one `read` call's context (the source named in every error, the counters the
statistics report) with the type checks the reader makes on the containers it walks. The scalar
helpers (`as_int`, `as_index`, `as_str`, `text_of`) read a value of the wrong type as absent;
`OutOfSpec` is raised for a value the format defines outside what it allows, and the caller,
who knows the JSON path, turns it into an `InputError` with `Walk.out_of_spec`.
"""

from __future__ import annotations

import re
from typing import Any, Final

from gate.errors import InputError
from gate.model import type_name

_PATH_PART: Final = re.compile(r"\[(\d+)\]|\.?([^.\[]+)")


def json_type(value: Any) -> str:
    """How an error names the JSON type of `value` ("an array", "null"); an integer of up to 12
    digits is shown as itself ("the number 5"), as SARIF's indexes and lines are."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**12:
        return f"the number {value!r}"
    return type_name(value)


def pointer(path: str) -> str:
    """The JSON pointer (RFC 6901) of a path as this reader writes it: runs[0].results[2].level
    -> /runs/0/results/2/level (property names are those of the SARIF spec and GitHub: no dots)."""
    parts = []
    for m in _PATH_PART.finditer(path):
        part = m.group(1) if m.group(1) is not None else m.group(2)
        parts.append(part.replace("~", "~0").replace("/", "~1"))
    return "/" + "/".join(parts)


def as_int(value: Any) -> int | None:
    """A JSON integer (not a boolean), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_index(value: Any) -> int | None:
    """A SARIF array index: a non-negative integer. SARIF writes -1 (or omits it) for "none"."""
    i = as_int(value)
    return i if i is not None and i >= 0 else None


def as_str(value: Any) -> str | None:
    """A JSON string, else None."""
    return value if isinstance(value, str) else None


def text_of(mfms: Any) -> str | None:
    """`text` of a message or multiformatMessageString object, if it has one."""
    if isinstance(mfms, dict):
        t = mfms.get("text")
        if isinstance(t, str):
            return t
    return None


class OutOfSpec(ValueError):
    """A value the format defines, outside what it allows; the caller adds the JSON path."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key
        self.problem = problem


class Walk:
    """One `read` call: the source name for errors and the counters the statistics report."""

    __slots__ = ("source", "stats")

    def __init__(self, source: str) -> None:
        self.source = source
        self.stats: dict[str, int] = {}

    def type_error(self, path: str, expected: str, value: Any) -> InputError:
        """`path must be <expected>, not <what it is>`, naming the source."""
        return InputError(f"{path} must be {expected}, not {json_type(value)}", file=self.source)

    def obj(self, value: Any, path: str) -> dict[str, Any] | None:
        """An optional object: None when null or absent, else it must be a JSON object."""
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.type_error(path, "an object", value)
        return value

    def arr(self, value: Any, path: str) -> list[Any] | None:
        """An optional array: None when null or absent, else it must be a JSON array."""
        if value is None:
            return None
        if not isinstance(value, list):
            raise self.type_error(path, "an array", value)
        return value

    def out_of_spec(self, path: str, problem: str) -> InputError:
        """An out-of-spec value: exit 3, naming its JSON path and JSON pointer."""
        return InputError(f"{path} {problem} (JSON pointer {pointer(path)})", file=self.source)

    def count(self, key: str, n: int = 1) -> None:
        """Add `n` to the statistics counter `key`."""
        self.stats[key] = self.stats.get(key, 0) + n
