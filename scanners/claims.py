"""What a report may claim: the trusted table of producers, and the two rules that apply it.

A report is written from the pull request's tree, and a SARIF or CycloneDX document names its
own tool: every word in it is the author's to choose. So the readers only report facts (the
tool's name as the document gives it, the format, each result's own hints about what it is, and
how many results the tool says it left out), and this module decides, from trusted policy data
(`data.config.evidence`, policies/config/scanning.yaml), what those facts are allowed to mean:

- **A finding is what its producer is.** `evidence.producers` maps a tool name (lower case,
  compared exactly, never by substring) and a report format to the kinds of finding that tool
  writes in that format; the first is its default. A result's own hint (its tags, a CVE id, a
  purl property, a rule name saying "secret") may only choose among those kinds. A tool the table
  does not list for that format gets the format's kind from `evidence.default_kinds` (SARIF:
  `sast`), whatever the result says: a CVE tag or a purl on a code finding does not make it a
  dependency finding that only warns, and a driver named "pip-audit-ish" is not pip-audit.
  Unknown formats and tools fall back to `sast`, the kind the shipped pack blocks on by
  severity: an unfamiliar tool never gets a kind that only warns.
- **A scan that hid results is an incomplete scan.** A report whose tool left results out
  because an inline suppression asked it to (`hidden_suppressions` > 0), or whose format cannot
  say whether it did (None), is marked incomplete with an error that says how many, unless the
  data honours inline suppressions (`honour_inline_suppressions: true`). The shipped pack then
  blocks it (GATE-SCAN-001) and it provides no evidence.

Which (tool, format) pairs provide which kind of *evidence* for a stage's `required_evidence`
is decided in Rego from the same table (`data.gate.lib.evidence_kinds`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from gate.model import KINDS, ReadResult

FALLBACK_KIND: Final = "sast"
"""The kind of a finding whose tool and format the data does not know: judged by severity and
blocking at the deny threshold, never a kind that only warns."""


class Producers:
    """The producer table of one run's data: (tool, format) -> the kinds its findings may have."""

    def __init__(self, producers: Mapping[str, Any], default_kinds: Mapping[str, Any]) -> None:
        self._kinds: dict[tuple[str, str], tuple[str, ...]] = {}
        for tool, formats in producers.items():
            if not isinstance(tool, str) or not isinstance(formats, Mapping):
                continue
            for fmt, kinds in formats.items():
                listed = tuple(k for k in kinds if k in KINDS) if isinstance(kinds, list) else ()
                if isinstance(fmt, str) and listed:
                    self._kinds[(tool.lower(), fmt)] = listed
        self._defaults = {f: k for f, k in default_kinds.items() if isinstance(f, str) and k in KINDS}
        self._memo: dict[tuple[str, str, str], str] = {}

    @classmethod
    def from_data(cls, config_data: Mapping[str, Any]) -> Producers:
        """The table in `data.config.evidence` (absent keys: an empty table, every kind the fallback)."""
        evidence = config_data.get("evidence")
        if not isinstance(evidence, Mapping):
            evidence = {}
        producers = evidence.get("producers")
        defaults = evidence.get("default_kinds")
        return cls(producers if isinstance(producers, Mapping) else {}, defaults if isinstance(defaults, Mapping) else {})

    def kinds(self, tool: str, fmt: str) -> tuple[str, ...]:
        """The kinds `tool` writes in `fmt` by the table; () when the table does not list the pair."""
        return self._kinds.get((tool.lower(), fmt), ())

    def kind(self, tool: str, fmt: str, hint: str) -> str:
        """The kind of a finding that `tool` reported in a `fmt` report and whose own content
        suggests `hint`: the hint when the table lets this tool write that kind in this format,
        else the table's first kind for the pair, else the format's default, else `sast`."""
        key = (tool, fmt, hint)
        found = self._memo.get(key)
        if found is None:
            allowed = self.kinds(tool, fmt)
            if allowed:
                found = hint if hint in allowed else allowed[0]
            else:
                found = self._defaults.get(fmt, FALLBACK_KIND)
            self._memo[key] = found
        return found


def honours_inline_suppressions(config_data: Mapping[str, Any]) -> bool:
    """Whether the data accepts inline suppressions (`honour_inline_suppressions: true`)."""
    return config_data.get("honour_inline_suppressions") is True


def hidden_error(result: ReadResult) -> str | None:
    """The error that makes a report that hid results (or cannot say) incomplete, else None."""
    hidden = result.hidden_suppressions
    if hidden == 0:
        return None
    if hidden is None:
        return (
            f"{result.tool}: this {result.format} report cannot show the results the tool left out under inline "
            "suppressions (# nosemgrep): what they hide cannot be judged; use the tool's SARIF output, which keeps "
            "them marked, or gate run"
        )
    noun = "result" if hidden == 1 else "results"
    return (
        f"{result.tool}: the tool left {hidden} {noun} out of the report under inline suppressions (# nosec): "
        "what they hide cannot be judged; run it so that it reports them (bandit --ignore-nosec), or gate run"
    )


def completeness(result: ReadResult, config_data: Mapping[str, Any]) -> tuple[bool, tuple[str, ...]]:
    """(complete, errors) of a report as the policy sees it: the tool's own, plus the hidden
    results unless the data honours inline suppressions."""
    error = None if honours_inline_suppressions(config_data) else hidden_error(result)
    if error is None:
        return result.complete, result.errors
    return False, (*result.errors, error)
