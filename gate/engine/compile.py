"""Compiling Rego with regorus (package gordon-to-regorus): an engine loaded with modules, data and
input, and regorus' errors as PolicyErrors with file, line and column.

A leaf below `gate.policy` and the engines: the policy safety check (`gate.policy_safety`) parses
modules with it while `gate.policy` imports that check, so it must not import `gate.policy` (or
`gate.engine.embedded`, which does). `gate.engine.embedded` re-exports `build` and `engine_error`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from gate.errors import EngineError, PolicyError, Position

_LOCATION = re.compile(r"-->\s*(?P<file>.+?):(?P<line>\d+):(?P<col>\d+)")
_MESSAGE = re.compile(r"^error:\s*(?P<msg>.*)$", re.MULTILINE)


def engine_error(exc: BaseException, *, during: str) -> PolicyError:
    """Turn a regorus exception (or panic) into a PolicyError with file:line:column."""
    text = str(exc).split("Stack backtrace:")[0].strip()
    loc = _LOCATION.search(text)
    msg = _MESSAGE.search(text)
    message = msg.group("msg").strip() if msg else (text.splitlines()[0] if text else type(exc).__name__)
    excerpt = _excerpt(text)
    full = f"{during}: {message}" + (f"\n{excerpt}" if excerpt else "")
    cls = PolicyError if isinstance(exc, Exception) else EngineError
    if loc:
        return cls(full, file=loc.group("file"), position=Position(int(loc.group("line")), int(loc.group("col"))))
    return cls(full)


def _excerpt(text: str) -> str:
    """The offending source line and its caret, as regorus printed them."""
    lines = [ln for ln in text.splitlines() if re.match(r"^\s*\d*\s*\|", ln)]
    return "\n".join(lines[:4])


def _regorus() -> Any:
    import regorus

    return regorus


def build(modules: Sequence[tuple[str, str]], data_json: str, input_json: str | None, *, coverage: bool = False) -> Any:
    """A regorus engine loaded with the modules, data and (optionally) input. Raises PolicyError."""
    regorus = _regorus()
    engine = regorus.Engine()
    if coverage:
        engine.set_enable_coverage(True)
    for path, text in modules:
        try:
            engine.add_policy(path, text)
        except BaseException as exc:  # noqa: BLE001 - panics surface as BaseException
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise engine_error(exc, during="compile error") from None
    try:
        engine.add_data_json(data_json)
        if input_json is not None:
            engine.set_input_json(input_json)
    except BaseException as exc:  # noqa: BLE001
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise engine_error(exc, during="loading data or input") from None
    return engine
