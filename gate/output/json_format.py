"""`json`: the verdict document itself; `input`: the policy input document (what Rego sees)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gate.output.interface import Formatter


def dump(value: Any) -> str:
    """Canonical JSON text: sorted keys, two-space indent, UTF-8 kept, newline at the end."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


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
