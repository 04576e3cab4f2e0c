"""The output-format family: one abstract base, one module per format.

A formatter turns a verdict (and, where it needs locations or counts, the input document) into
text. It never parses a report and never prints: the CLI writes what it returns. Finding text is
attacker-controlled: every formatter escapes it for its medium. What a formatter needs from the
run's surroundings (the repository root, the CI's variables, the terminal) the CLI passes in as
`OutputOptions`; a formatter does not read the environment for them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class OutputOptions:
    """What the CLI tells the formatters about the run's surroundings (all optional)."""

    source_root: str | None = None
    """The repository root (absolute): SARIF URIs are relative to it; line hashes read files under it."""
    scan_root: str | None = None
    """The folder the findings' relative paths are relative to (`gate run PATH`; default: the working directory)."""
    subjects: tuple[tuple[str, str], ...] = ()
    """`--subject NAME@sha256:HEX`: (name, hex digest) of the artifacts being released (the VSA's subject)."""
    ci: Mapping[str, str] = field(default_factory=dict)
    """The CI's own variables (GitHub, GitLab, Jenkins), read by the CLI, for the attestation's URIs."""
    width: int | None = None
    """The console's width in columns (None: the terminal's, else 80)."""
    color: bool = True
    """False under NO_COLOR (https://no-color.org)."""
    quiet: bool = False
    """Only the decision line (and errors)."""
    docs_url: str | None = None
    """Where `gate policy doc`'s catalogue is published (`GATE_RULE_DOCS_URL`), for links from rule ids."""
    markdown_max_bytes: int | None = None
    """The Markdown summary's cap (`GATE_MARKDOWN_MAX_BYTES`; None: 1 MiB)."""


class Formatter(ABC):
    """Renders a verdict in one format."""

    name: ClassVar[str]
    """The format's name for `--format` and `--output NAME=PATH`."""

    def __init__(self, options: OutputOptions | None = None) -> None:
        self.options = options or OutputOptions()

    @abstractmethod
    def render(self, verdict: Mapping[str, Any], document: Mapping[str, Any] | None) -> str:
        """The whole output, as text (UTF-8 when written to a file)."""

    def render_bytes(self, verdict: Mapping[str, Any], document: Mapping[str, Any] | None) -> bytes:
        """The whole output as the UTF-8 a file receives. A format whose encoder writes bytes
        itself overrides this, so a 100 MB output is never held as text and bytes at once."""
        return self.render(verdict, document).encode("utf-8")
