"""Reader for semgrep's JSON report (`semgrep --json`).

The shape, as semgrep 1.x writes it (older releases wrote a subset)::

    {"version": "1.185.0",
     "results": [{"check_id": ..., "path": ..., "start": {"line", "col", "offset"},
                  "end": {...}, "extra": {"message", "severity", "metadata": {...},
                  "lines", "fingerprint", "is_ignored", ...}}],
     "errors": [{"code": 3, "level": "warn", "type": "Syntax error" | ["PartialParsing", [...]],
                 "message": ..., "path": ..., "rule_id": ...}],
     "paths": {"scanned": [...]}, "skipped_rules": [...], ...}

Mapping decisions:

- Every result is a finding (`rule_id` = `check_id`, `message` = `extra.message`).
- Severity comes from `extra.severity` alone: ERROR high, WARNING medium, INFO low; the newer
  scale maps one to one (CRITICAL critical, HIGH high, MEDIUM medium, LOW low); INVENTORY and
  EXPERIMENT are `info`; anything else is `unknown`, never dropped. The rule metadata's
  `impact`/`likelihood` are the inputs semgrep's registry already used to choose that severity, so
  they are not mixed in a second time.
- Confidence from `extra.metadata.confidence`; CWE ids from `extra.metadata.cwe` (a string such as
  "CWE-78: Improper ..." or a list of them) as "CWE-78".
- Kind: `secret` when the rule's category is security and its technology or subcategory names
  secrets (semgrep's secrets rules do); otherwise `sast`.
- Semgrep OSS replaces `extra.lines` and `extra.fingerprint` with "requires login": that is no
  snippet and no fingerprint.
- Inline suppressions: a result with `extra.is_ignored: true` (`# nosemgrep`) is `suppressed`.
  A report with no such result cannot show whether semgrep dropped `# nosemgrep` results (its
  JSON does by default, and marks nothing even with `--disable-nosem`): `hidden_suppressions`
  is None, which makes the scan incomplete unless data honours inline suppressions. semgrep's
  SARIF output keeps them, marked; `gate run` evaluates that.
  Current releases leave such results out of the JSON output entirely (they keep them, marked,
  only in SARIF output), so usually no trace reaches this reader.
- Any entry in `errors` makes the scan incomplete (the contract: semgrep `errors` reach the policy
  as `complete == false`), whatever its level: a "warn" syntax error still means part of a file
  was not analysed. Each is kept as "<level>: <type>: <path or rule>: <message>", so a policy can
  tell levels apart; the statistics count them per level (`errors.warn`, `errors.error`, ...).
- `tool_version` is the top-level `version` (absent before semgrep 0.x's late releases).

Why by hand and not with semgrep's own `semgrep_output_v1` classes: semgrep is a scanner the gate
runs, not a library it depends on, and its generated parser rejects the older shapes in the wild
without naming where.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, ClassVar

from gate.model import Finding, Location, ReadResult, as_text
from gate.model import ShapeError as _Shape
from gate.model import opt_int as _opt_int
from gate.model import opt_obj as _opt_obj
from gate.model import opt_str as _opt_str
from gate.model import req as _req
from gate.model import req_int as _req_int
from gate.model import req_obj as _req_obj
from gate.model import req_str as _req_str
from gate.model import type_name as _type_name
from scanners.interface import ReportReader, read_checked

_SEVERITY = {
    "CRITICAL": "critical",
    "ERROR": "high",
    "HIGH": "high",
    "WARNING": "medium",
    "MEDIUM": "medium",
    "INFO": "low",
    "LOW": "low",
    "INVENTORY": "info",
    "EXPERIMENT": "info",
}
_CONFIDENCE = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low"}
_CWE = re.compile(r"CWE-(\d+)", re.IGNORECASE)
_NO_TEXT = "requires login"


class SemgrepReader(ReportReader):
    """Reads semgrep's JSON report (`--json`), from the 2020 releases to 1.x."""

    format: ClassVar[str] = "semgrep"
    media: ClassVar[str] = "json"

    def detect(self, doc: Any) -> bool:
        """A `results` array without bandit's `metrics`/`generated_at`, and semgrep's own keys.

        Either the first result has a `check_id`, or (no results) the document has `errors` and
        `paths` or `version`, as every semgrep release writes them.
        """
        if not isinstance(doc, dict) or "runs" in doc or "metrics" in doc or "generated_at" in doc:
            return False
        results = doc.get("results")
        if not isinstance(results, list):
            return False
        if results and isinstance(results[0], dict) and "check_id" in results[0]:
            return True
        return "errors" in doc and ("paths" in doc or "version" in doc)

    def read(self, doc: Any, source: str) -> ReadResult:
        """Every result as a finding; any `errors` entry makes the scan incomplete."""
        return read_checked(self._read, doc, source, "semgrep")

    def _read(self, doc: Any) -> ReadResult:
        if not isinstance(doc, dict):
            raise _Shape("the document", f"must be an object, not {_type_name(doc)}")
        results = _req(doc, "results", "")
        if not isinstance(results, list):
            raise _Shape("results", f"must be an array, not {_type_name(results)}")
        version = _opt_str(doc, "version", "") or None
        errors, statistics = _errors(doc.get("errors"))
        cwe_cache: dict[Any, tuple[str, ...]] = {}
        findings = tuple(_finding(item, i, version, cwe_cache) for i, item in enumerate(results))
        return ReadResult(
            format=self.format,
            tool="semgrep",
            tool_version=version,
            findings=findings,
            complete=not errors,
            errors=errors,
            statistics=statistics,
            # semgrep's JSON drops `# nosemgrep` results without a trace (semgrep 1.x OSS never
            # writes `is_ignored: true` there, even with --disable-nosem): unless the report
            # shows it kept one, it cannot say what it hid (None). scanners/claims.py.
            hidden_suppressions=0 if any(f.suppressed for f in findings) else None,
        )


def _errors(value: Any) -> tuple[tuple[str, ...], dict[str, int]]:
    if value is None:
        return (), {}
    if not isinstance(value, list):
        raise _Shape("errors", f"must be an array, not {_type_name(value)}")
    texts: list[str] = []
    stats: dict[str, int] = {}
    for i, item in enumerate(value):
        if isinstance(item, str):
            level, text = "error", item
        else:
            if not isinstance(item, dict):
                raise _Shape(f"errors[{i}]", f"must be an object, not {_type_name(item)}")
            level = as_text(item.get("level")) or "error"
            kind = item.get("type")
            # Since 1.45 `type` may be ["PartialParsing", [spans]]: its name is the first element.
            if isinstance(kind, list) and kind:
                kind = kind[0]
            parts = [level, as_text(kind) or "error"]
            where = as_text(item.get("path")) or as_text(item.get("rule_id"))
            if where:
                parts.append(where)
            parts.append(as_text(item.get("message")) or as_text(item.get("long_msg")) or "(no message)")
            text = ": ".join(parts)
        texts.append(text)
        stats[f"errors.{level}"] = stats.get(f"errors.{level}", 0) + 1
    return tuple(texts), stats


def _finding(item: Any, index: int, version: str | None, cwe_cache: dict[Any, tuple[str, ...]]) -> Finding:
    path = f"results[{index}]"
    if not isinstance(item, dict):
        raise _Shape(path, f"must be an object, not {_type_name(item)}")
    check_id = _req_str(item, "check_id", path)
    if not check_id:
        raise _Shape(f"{path}.check_id", "is empty")
    file_path = _req_str(item, "path", path)
    start = _req_obj(item, "start", path)
    start_line = _req_int(start, "line", f"{path}.start")
    if start_line < 1:  # semgrep numbers lines from 1; another number is not semgrep's (issue 13)
        raise _Shape(f"{path}.start.line", f"is {start_line}; semgrep numbers lines from 1")
    start_col = _opt_int(start, "col", f"{path}.start")
    end_line, end_col = start_line, None
    end = _opt_obj(item, "end", path)
    if end is not None:
        end_line = _opt_int(end, "line", f"{path}.end") or start_line
        end_col = _opt_int(end, "col", f"{path}.end")

    extra = _req_obj(item, "extra", path)
    xpath = path + ".extra"
    message = _req_str(extra, "message", xpath)
    severity = _opt_str(extra, "severity", xpath)
    meta = _opt_obj(extra, "metadata", xpath) or {}
    confidence = as_text(meta.get("confidence"))
    is_ignored = extra.get("is_ignored")
    if is_ignored is not None and not isinstance(is_ignored, bool):
        raise _Shape(f"{xpath}.is_ignored", f"must be a boolean, not {_type_name(is_ignored)}")
    lines = _opt_str(extra, "lines", xpath)
    fingerprint = _opt_str(extra, "fingerprint", xpath)

    return Finding(
        tool="semgrep",
        tool_version=version,
        rule_id=check_id,
        severity=_SEVERITY.get(severity.strip().upper(), "unknown") if severity else "unknown",
        confidence=_CONFIDENCE.get(confidence.strip().upper(), "unknown") if confidence else "unknown",
        message=message,
        index=index,
        kind=_kind(meta),
        location=Location(
            path=file_path,
            start_line=start_line,
            end_line=end_line,
            start_column=start_col,
            end_column=end_col,
        ),
        cwe=_cwe(meta.get("cwe"), cwe_cache),
        suppressed=bool(is_ignored),
        suppressions=("inSource",) if is_ignored else (),
        fingerprint_hint=fingerprint if fingerprint and fingerprint.strip() != _NO_TEXT else None,
        snippet=lines if lines and lines.strip() != _NO_TEXT else None,
        help_uri=_help_uri(meta),
    )


def _words(value: Any) -> set[str]:
    """A metadata value that is a string or a list of strings, as a lower-case set."""
    items = value if isinstance(value, list) else [value]
    return {v.strip().lower() for v in items if isinstance(v, str)}


def _kind(meta: Mapping[str, Any]) -> str:
    if "security" in _words(meta.get("category")):
        if {"secrets", "secret"} & (_words(meta.get("technology")) | _words(meta.get("subcategory"))):
            return "secret"
    return "sast"


def _cwe(value: Any, cache: dict[Any, tuple[str, ...]]) -> tuple[str, ...]:
    """`"CWE-78: Improper ..."` or a list of such strings -> ("CWE-78",); many results share one."""
    if value is None:
        return ()
    key: Any = tuple(value) if isinstance(value, list) else value
    try:
        return cache[key]
    except KeyError:
        pass
    except TypeError:  # a list holding objects is not hashable: compute it uncached
        key = None
    found: list[str] = []
    for text in value if isinstance(value, list) else [value]:
        for number in _CWE.findall(text if isinstance(text, str) else ""):
            cwe = f"CWE-{int(number)}"
            if cwe not in found:
                found.append(cwe)
    result = tuple(found)
    if key is not None:
        cache[key] = result
    return result


def _help_uri(meta: Mapping[str, Any]) -> str | None:
    for key in ("source", "shortlink"):
        value = meta.get(key)
        if isinstance(value, str) and value:
            return value
    refs = meta.get("references")
    if isinstance(refs, list) and refs and isinstance(refs[0], str):
        return refs[0]
    return refs if isinstance(refs, str) and refs else None
