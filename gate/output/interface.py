"""The output-format family: one abstract base, one module per format.

A formatter turns a verdict (and, where it needs locations or counts, the input document) into
text. It never parses a report and never prints: the CLI writes what it returns. Finding text is
attacker-controlled: every formatter escapes it for its medium.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar


class Formatter(ABC):
    """Renders a verdict in one format."""

    name: ClassVar[str]
    """The format's name for `--format` and `--output NAME=PATH`."""

    @abstractmethod
    def render(self, verdict: Mapping[str, Any], document: Mapping[str, Any] | None) -> str:
        """The whole output, as text (UTF-8 when written to a file)."""
