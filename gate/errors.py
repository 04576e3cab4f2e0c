"""One error root for everything a user can cause.

Every class carries the exit code of the contract (see the README's exit-code table) and a
message that names the file and, where one exists, the line and column. Only the CLI turns
these into output and an exit status; everything below it raises them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    """The published exit codes. Never 1 (Python's own code for an uncaught exception)."""

    OPEN = 0
    USAGE = 2
    INPUT = 3
    POLICY = 4
    OUTPUT = 5
    INTERNAL = 6
    DENY = 10
    WARN = 11


@dataclass(frozen=True)
class Position:
    """Where in a file an error lies. Lines and columns are 1-based; offset is a byte offset."""

    line: int | None = None
    column: int | None = None
    offset: int | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.line}:{self.column}" if self.column is not None else f"{self.line}"
        if self.offset is not None:
            return f"byte {self.offset}"
        return ""


class GateError(Exception):
    """Root of every error the gate reports to its user."""

    exit_code: ExitCode = ExitCode.INTERNAL
    kind: str = "error"

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        position: Position | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.position = position
        self.hint = hint

    def where(self) -> str:
        """`file:line:column`, or as much of it as is known."""
        if not self.file:
            return ""
        pos = str(self.position) if self.position else ""
        return f"{self.file}:{pos}" if pos else self.file

    def __str__(self) -> str:
        where = self.where()
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text

    def to_dict(self) -> dict[str, object]:
        """The verdict's `error` object."""
        pos = self.position
        return {
            "kind": self.kind,
            "message": self.message,
            "file": self.file,
            "position": None
            if pos is None
            else {k: v for k, v in (("line", pos.line), ("column", pos.column), ("offset", pos.offset)) if v is not None},
            "exit_code": int(self.exit_code),
            "hint": self.hint,
        }


class ConfigError(GateError):
    """Usage or configuration: bad option, invalid waivers or data file (exit 2)."""

    exit_code = ExitCode.USAGE
    kind = "config"


class InputError(GateError):
    """A report is missing, empty, unreadable, malformed, too large, or of unknown format (exit 3)."""

    exit_code = ExitCode.INPUT
    kind = "input"


class PolicyError(GateError):
    """Policy or engine: compile error, undefined decision, builtin error, timeout (exit 4)."""

    exit_code = ExitCode.POLICY
    kind = "policy"


class EngineError(PolicyError):
    """The engine itself failed: panic, timeout, unreachable or nonsensical server (exit 4)."""

    kind = "engine"


class OutputError(GateError):
    """A requested output could not be written (exit 5)."""

    exit_code = ExitCode.OUTPUT
    kind = "output"


class InternalError(GateError):
    """A bug in the gate (exit 6)."""

    exit_code = ExitCode.INTERNAL
    kind = "internal"
