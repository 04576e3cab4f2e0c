"""`json`: the verdict document itself; `input`: the policy input document (what Rego sees)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from gate.output.interface import Formatter

# JSON already escapes C0 controls, so no string can break a line. What it leaves raw, and this
# escapes (JSON-equivalently, so the document reads back the same): the runner's legacy
# workflow command marker `##[`, which it honours anywhere in a line, DEL and C1 controls
# (terminal escape sequences), and the Unicode line and paragraph separators. `##[` can only
# occur inside a JSON string (nothing else in JSON has `#`), where `\u005b` is a valid escape.
_UNSAFE = re.compile(r"##\[|[\x7f-\x9f\u2028\u2029]")


def _safe(m: re.Match[str]) -> str:
    s = m.group(0)
    return "##\\u005b" if s == "##[" else f"\\u{ord(s):04x}"


def dump(value: Any) -> str:
    """Canonical JSON text: sorted keys, two-space indent, UTF-8 kept, newline at the end; inert in a CI log."""
    return _UNSAFE.sub(_safe, json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)) + "\n"


class JsonFormatter(Formatter):
    """The verdict (`gate.verdict/v1`)."""

    name = "json"

    def render(self, verdict: Mapping[str, Any], document: Mapping[str, Any] | None) -> str:
        return dump(verdict)


class InputFormatter(Formatter):
    """The input document (`gate.input/v1`), so a policy author sees exactly what Rego sees."""

    name = "input"

    def render(self, verdict: Mapping[str, Any], document: Mapping[str, Any] | None) -> str:
        return dump(document if document is not None else {})
