"""The output formats, listed by hand; the Click choices come from `FORMATS`.

Modules are imported on use, so a run loads only the formats it writes.
"""

from __future__ import annotations

from enum import Enum
from importlib import import_module

from gate.output.interface import Formatter, OutputOptions


class FormatName(str, Enum):
    """`--format` / `--output NAME=PATH` choices (`input` is the policy input document)."""

    CONSOLE = "console"
    JSON = "json"
    SARIF = "sarif"
    JUNIT = "junit"
    MARKDOWN = "markdown"
    GITHUB = "github"
    VSA = "vsa"
    GITLAB_CODEQUALITY = "gitlab-codequality"
    INPUT = "input"


_IMPLEMENTATIONS: dict[FormatName, tuple[str, str]] = {
    FormatName.CONSOLE: ("gate.output.console", "ConsoleFormatter"),
    FormatName.JSON: ("gate.output.json_format", "JsonFormatter"),
    FormatName.SARIF: ("gate.output.sarif", "SarifFormatter"),
    FormatName.JUNIT: ("gate.output.junit", "JunitFormatter"),
    FormatName.MARKDOWN: ("gate.output.markdown", "MarkdownFormatter"),
    FormatName.GITHUB: ("gate.output.github", "GithubFormatter"),
    FormatName.VSA: ("gate.output.vsa", "VsaFormatter"),
    FormatName.GITLAB_CODEQUALITY: ("gate.output.gitlab", "GitlabCodeQualityFormatter"),
    FormatName.INPUT: ("gate.output.json_format", "InputFormatter"),
}

FORMATS: tuple[str, ...] = tuple(f.value for f in FormatName)


def get_formatter(name: str, options: OutputOptions | None = None) -> Formatter:
    """A formatter by its name, with the run's output options."""
    module, cls = _IMPLEMENTATIONS[FormatName(name)]
    formatter: Formatter = getattr(import_module(module), cls)(options)
    return formatter
