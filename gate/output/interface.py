"""The output-format family: one abstract base, one module per format.

A formatter turns a verdict (and, where it needs locations or counts, the input document) into
text. It never parses a report and never prints: the CLI writes what it returns. Finding text is
attacker-controlled: every formatter escapes it for its medium. What a formatter needs from the
run's surroundings (the repository root, the working directory, the CI's variables, the terminal,
NO_COLOR) the CLI passes in as `OutputOptions`; a formatter reads no environment variable, no
terminal and no working directory itself (`tests/test_records.py` checks the source).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from gate.records import InputDocument, Verdict


@dataclass(frozen=True)
class OutputOptions:
    """What the CLI tells the formatters about the run's surroundings (all optional)."""

    source_root: str | None = None
    """The repository root (absolute): SARIF URIs are relative to it; line hashes read files under it."""
    scan_root: str | None = None
    """The folder the findings' relative paths are relative to (`gate run PATH`; default: `working_dir`)."""
    working_dir: str | None = None
    """The run's working directory (absolute): the reports named on the command line are relative to
    it. None: relative paths are taken as relative to `source_root`."""
    subjects: tuple[tuple[str, str], ...] = ()
    """`--subject NAME@sha256:HEX`: (name, hex digest) of the artifacts being released (the VSA's subject)."""
    ci: Mapping[str, str] = field(default_factory=dict)
    """The CI's own variables (GitHub, GitLab, Jenkins), read by the CLI, for the attestation's URIs."""
    width: int | None = None
    """The console's width in columns (None: 80)."""
    interactive: bool = False
    """Standard output is a terminal: the console draws its tables with rich."""
    color: bool = True
    """False under NO_COLOR (https://no-color.org)."""
    quiet: bool = False
    """Only the decision line (and errors)."""
    docs_url: str | None = None
    """Where `gate policy doc`'s catalogue is published (`GATE_RULE_DOCS_URL`), for links from rule ids."""
    markdown_max_bytes: int | None = None
    """The Markdown summary's cap (`GATE_MARKDOWN_MAX_BYTES`; None: 1 MiB)."""

    @property
    def findings_base(self) -> str | None:
        """The folder the findings' relative paths are relative to: the scan root, else the working directory."""
        return self.scan_root or self.working_dir


class Formatter(ABC):
    """Renders a verdict in one format."""

    name: ClassVar[str]
    """The format's name for `--format` and `--output NAME=PATH`."""

    def __init__(self, options: OutputOptions | None = None) -> None:
        self.options = options or OutputOptions()

    @abstractmethod
    def render(self, verdict: Verdict, document: InputDocument | None) -> str:
        """The whole output, as text (UTF-8 when written to a file)."""

    def render_bytes(self, verdict: Verdict, document: InputDocument | None) -> bytes:
        """The whole output as the UTF-8 a file receives. A format whose encoder writes bytes
        itself overrides this, so a 100 MB output is never held as text and bytes at once."""
        return self.render(verdict, document).encode("utf-8")
