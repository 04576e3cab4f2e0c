"""SARIF 2.1.0 reader: every `fail` result of every run becomes a `Finding`.

What this reader accepts and how strictly:

* Only SARIF 2.1.0. A document that has `runs` (or a `$schema` naming SARIF) claims to be SARIF;
  if its `version` is not exactly "2.1.0" it is refused, naming both versions.
* Containers the reader walks (`runs`, `results`, `rules`, `extensions`, `artifacts`,
  `locations`, `suppressions`, `message`, `properties`, ...) must have their JSON type when present:
  a wrong type is an `InputError` naming the JSON path (`runs[0].results must be an array`).
  `results` absent or null means the run reported nothing (a rules-only export, or a tool that
  did not start): zero findings from that run.
* Values the spec (or, for `security-severity`, GitHub) defines are checked: a non-boolean
  `executionSuccessful`, a `level` that is not none/note/warning/error (on a result, a rule's
  default configuration, an override or a run policy), a `security-severity` that is not a number
  from 0 to 10, a line or column that is not an integer from 1 are input errors naming the JSON
  path and pointer; read as "absent" they would change what the report claims (a failed run as
  complete, a 10.5 score as the rule's `note`). The one exception is what a real tool writes:
  Snyk's `"security-severity": "null"` means no score. Other scalars of the wrong type (a
  message `id` of 5) are treated as absent: the finding is kept with what can be known.
* References that point nowhere (a `ruleIndex` or `artifactLocation.index` past the end of its
  array, a `toolComponent` that does not exist) do not refuse the report: real tools write them
  (anchore and gosec emit wrong `ruleIndex` values, some trivy templates a `ruleIndex` with no
  `rules`). The finding keeps its `ruleId`, the rule metadata is left out, and the statistics
  count it under `unresolved:rule` / `unresolved:artifact`. When both `ruleId` and `ruleIndex`
  are given, the rule is looked up by id first for the same reason.

Severity follows GitHub code scanning: `security-severity` (result, then rule) by CVSS bands,
else the SARIF `level` (result, then `invocations[].ruleConfigurationOverrides`, then
`run.policies`, then the rule's `defaultConfiguration`, then the spec default "warning").

CWE, CVE and package data are derived by the rules documented in `facts.py`: by structure and
vocabulary, never by file. A finding's `kind` here is only the result's own hint
(`classify.classify`); the gate decides the kind from the trusted producer table
(`scanners/claims.py`), where the hint only chooses among the kinds the table lets the tool write.

Inline suppressions: a result with `suppressions` is in the log, so it was recorded, not hidden
(`suppressed` when one is accepted). bandit's SARIF formatter drops `# nosec` results and copies
bandit's counts into `run.properties.metrics`; those counts are `hidden_suppressions`.

The package, by concern (each module imports only those listed before it):

| module | concern |
|---|---|
| `pointer.py` | errors naming the JSON path and pointer; the type checks of a walk; scalar helpers |
| `facts.py` | rule metadata from property bags, tags, names, help: CWE, vulnerability ids, security-severity, confidence, packages |
| `classify.py` | the kind hint, level and severity mapping, suppressions and hidden suppressions |
| `rules.py` | tool components, rule lookup and the per-run rule cache, taxonomies, configured levels |
| `reading.py` | the walk over the log: version, runs, invocations, results, messages, locations |
"""

from __future__ import annotations

import gc
from typing import Any

from gate.model import ReadResult
from scanners.interface import ReportReader
from scanners.sarif.reading import SUPPORTED_VERSION, LogReader
from scanners.sarif.rules import NO_RULE_ID

__all__ = ["NO_RULE_ID", "SUPPORTED_VERSION", "SarifReader"]


class SarifReader(ReportReader):
    """Reads SARIF 2.1.0 logs (any tool) into findings."""

    format = "sarif"
    media = "json"

    def detect(self, doc: Any) -> bool:
        """A JSON object with `runs`, or whose `$schema` names SARIF: it is, or claims to be, SARIF.

        Logs of other SARIF versions are detected too, so that `read` refuses them by name
        instead of the gate calling them an unknown format. A spec fragment (a bare `tool` or
        `result` object) has neither and is not SARIF.
        """
        if not isinstance(doc, dict):
            return False
        if "runs" in doc:
            return True
        schema = doc.get("$schema")
        return isinstance(schema, str) and "sarif" in schema.lower()

    def read(self, doc: Any, source: str) -> ReadResult:
        """Every result of kind `fail` (or no kind) of every run, as a finding."""
        # Building 10^5 findings next to a parsed document of millions of objects sets off the
        # cyclic collector again and again (a third of the time), to find nothing: the reader
        # makes no reference cycles. So it is paused while reading, and restored as it was.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return LogReader(source).read(doc)
        finally:
            if was_enabled:
                gc.enable()
