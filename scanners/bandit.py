"""Reader for bandit's JSON report (`bandit -f json`).

The shape, as bandit 1.5 to 1.9 write it::

    {"errors": [{"filename": ..., "reason": ...}],
     "generated_at": "2025-07-06T03:59:20Z",
     "metrics": {"_totals": {"nosec": 0, "skipped_tests": 0, ...}, "<file>": {...}},
     "results": [{"test_id": "B602", "test_name": ..., "issue_severity": "HIGH",
                  "issue_confidence": "HIGH", "issue_cwe": {"id": 78, "link": ...},
                  "issue_text": ..., "filename": ..., "line_number": 9, "line_range": [9],
                  "col_offset": 11, "end_col_offset": 43, "code": "8 ...\\n9 ...\\n",
                  "more_info": "https://bandit.readthedocs.io/en/1.9.4/plugins/..."}]}

Mapping decisions:

- Every result is a finding. Severity and confidence come from bandit's own scale
  (HIGH/MEDIUM/LOW; UNDEFINED or anything else is `unknown`, never dropped).
- `issue_cwe` (bandit >= 1.7.1) gives `CWE-<id>`; older reports have none.
- Columns: bandit's `col_offset`/`end_col_offset` are Python AST offsets (0-based, end
  exclusive); the model's columns are 1-based like SARIF's, so both are shifted by one.
- The snippet is the flagged lines only (`line_number` through the end of `line_range`), with the
  line numbers bandit prints stripped. The context lines bandit adds around them are left out so
  that an edit next to a finding does not change its fingerprint.
- Kind: B105/B106/B107 (hard-coded passwords) are `secret`; everything else is `sast`.
- Inline suppressions: by default bandit drops results on `# nosec` lines and only counts them
  (`metrics._totals.nosec` for a bare `# nosec`, `skipped_tests` for `# nosec B602`); no trace of
  the result itself remains, so nothing can be marked. Those counts go into the statistics. Run
  with `--ignore-nosec`, bandit reports them like any other result; the reader then marks a
  finding `suppressed` when a `# nosec` comment that covers its test (bare, or naming its id or
  test name) appears on its flagged lines in `code`. That is a text match on the quoted lines
  (bandit itself tokenises the file), so "# nosec" inside a string literal there also counts;
  `suppressed` waives nothing unless the policy data says so. A report whose counts say bandit
  left results out (`nosec` or `skipped_tests` above 0) records how many as
  `hidden_suppressions`: the policy treats it as an incomplete scan (GATE-SCAN-004) unless the
  data honours inline suppressions, since what was hidden cannot be judged.
- Out-of-spec values refuse the report (exit 3) naming their JSON path: a severity or confidence
  that is not one of bandit's words (HIGH, MEDIUM, LOW, UNDEFINED), a line number below 1.
- `errors` (files bandit could not scan) make the scan incomplete, each as "<filename>: <reason>".
  A report without an `errors` key is taken as complete: bandit has always written the key.
- Bandit writes no version field. Since 1.7 its `more_info` links carry the version
  (`/en/1.9.4/`); when every link that has one agrees, that is the tool version, else None.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, ClassVar

from gate.model import Finding, Location, ReadResult, as_text
from gate.model import ShapeError as _Shape
from gate.model import is_int as _is_int
from gate.model import opt_int as _opt_int
from gate.model import opt_str as _opt_str
from gate.model import req as _req
from gate.model import req_int as _req_int
from gate.model import req_str as _req_str
from gate.model import type_name as _type_name
from scanners.interface import ReportReader, read_checked

_SEVERITY = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low", "UNDEFINED": "unknown"}
_CONFIDENCE = _SEVERITY
_SECRET_TESTS = frozenset({"B105", "B106", "B107"})

# One line of bandit's `code`: "%i %s" (or "%i\t%s" when tabbed).
_CODE_LINE = re.compile(r"([0-9]+)[ \t](.*)", re.DOTALL)
# bandit's own pattern for the comment (bandit/core/manager.py NOSEC_COMMENT).
_NOSEC = re.compile(r"#\s*nosec:?\s*(?P<tests>[^#]+)?#?")
_NOSEC_TEST = re.compile(r"[A-Za-z\d_]+")
_DOCS_VERSION = re.compile(r"https?://bandit\.readthedocs\.io/en/(\d+\.\d+[^/]*)/")


def _scale(obj: Mapping[str, Any], key: str, base: str, scale: Mapping[str, str]) -> str:
    """bandit's HIGH/MEDIUM/LOW (UNDEFINED, or no value: `unknown`); any other word is not
    bandit's and refuses the report, naming where it is."""
    value = obj.get(key)
    found = scale.get(value) if type(value) is str else None  # the words as bandit writes them
    if found is not None:
        return found
    text = _opt_str(obj, key, base)
    if text is None:
        return "unknown"
    found = scale.get(text.strip().upper())
    if found is None:
        raise _Shape(f"{base}.{key}", f"is {text[:40]!r}, which is not one of bandit's values (HIGH, MEDIUM, LOW, UNDEFINED)")
    return found


class BanditReader(ReportReader):
    """Reads bandit's JSON report (bandit 1.5 and later, including 1.9)."""

    format: ClassVar[str] = "bandit"
    media: ClassVar[str] = "json"

    def detect(self, doc: Any) -> bool:
        """A `results` array beside bandit's `metrics` or `generated_at` (semgrep has neither)."""
        if not isinstance(doc, dict) or "runs" in doc:
            return False
        results = doc.get("results")
        if not isinstance(results, list) or not ("metrics" in doc or "generated_at" in doc):
            return False
        first = results[0] if results else None
        return not (isinstance(first, dict) and "check_id" in first)

    def read(self, doc: Any, source: str) -> ReadResult:
        """Every result as a finding; `errors` make the scan incomplete."""
        return read_checked(self._read, doc, source, "bandit")

    def _read(self, doc: Any) -> ReadResult:
        if not isinstance(doc, dict):
            raise _Shape("the document", f"must be an object, not {_type_name(doc)}")
        results = _req(doc, "results", "")
        if not isinstance(results, list):
            raise _Shape("results", f"must be an array, not {_type_name(results)}")
        errors = self._errors(doc.get("errors"))
        statistics = self._statistics(doc.get("metrics"))
        hidden = hidden_by_nosec(doc.get("metrics"))
        top = doc.get("version")
        tool_version = top if isinstance(top, str) and top else _docs_version(results)
        findings = tuple(self._finding(item, index, tool_version) for index, item in enumerate(results))
        return ReadResult(
            format=self.format,
            tool="bandit",
            tool_version=tool_version,
            findings=findings,
            complete=not errors,
            errors=errors,
            statistics=statistics,
            hidden_suppressions=hidden,
        )

    @staticmethod
    def _errors(value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            raise _Shape("errors", f"must be an array, not {_type_name(value)}")
        texts = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                texts.append(item)
                continue
            if not isinstance(item, dict):
                raise _Shape(f"errors[{i}]", f"must be an object, not {_type_name(item)}")
            # Any entry at all means a file went unscanned: keep it even if half-filled.
            name = as_text(item.get("filename")) or "(unknown file)"
            reason = as_text(item.get("reason")) or "(no reason given)"
            texts.append(f"{name}: {reason}")
        return tuple(texts)

    @staticmethod
    def _statistics(metrics: Any) -> dict[str, int]:
        totals = metrics.get("_totals") if isinstance(metrics, dict) else None
        if not isinstance(totals, dict):
            return {}
        stats = {}
        for key in ("nosec", "skipped_tests"):
            value = totals.get(key)
            # bandit 1.6 wrote these as floats; 1e999 parses as infinity and is no count.
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                stats[key] = int(value)
        return stats

    def _finding(self, item: Any, index: int, tool_version: str | None) -> Finding:
        path = f"results[{index}]"
        if not isinstance(item, dict):
            raise _Shape(path, f"must be an object, not {_type_name(item)}")
        test_id = _req_str(item, "test_id", path)
        if not test_id:
            raise _Shape(f"{path}.test_id", "is empty")
        message = _req_str(item, "issue_text", path)
        filename = _req_str(item, "filename", path)
        line = _req_int(item, "line_number", path)
        if line < 1:
            raise _Shape(f"{path}.line_number", f"is {line}; bandit numbers lines from 1")
        test_name = _opt_str(item, "test_name", path)

        end_line = line
        line_range = item.get("line_range")
        if line_range is not None:
            if not isinstance(line_range, list):
                raise _Shape(f"{path}.line_range", f"must be an array, not {_type_name(line_range)}")
            for j, n in enumerate(line_range):
                if not _is_int(n):
                    raise _Shape(f"{path}.line_range[{j}]", f"must be an integer, not {_type_name(n)}")
                end_line = max(end_line, n)

        col = _opt_int(item, "col_offset", path)
        end_col = _opt_int(item, "end_col_offset", path)
        # bandit's defaults for "no column" are -1 and 0.
        start_column = col + 1 if col is not None and col >= 0 else None
        end_column = end_col + 1 if end_col is not None and end_col > 0 else None

        snippet, suppressed = _snippet(_opt_str(item, "code", path), line, end_line, test_id, test_name)
        return Finding(
            tool="bandit",
            tool_version=tool_version,
            rule_id=test_id,
            rule_name=test_name,
            severity=_scale(item, "issue_severity", path, _SEVERITY),
            confidence=_scale(item, "issue_confidence", path, _CONFIDENCE),
            message=message,
            index=index,
            kind="secret" if test_id.upper() in _SECRET_TESTS else "sast",
            location=Location(
                path=filename,
                start_line=line,
                end_line=end_line,
                start_column=start_column,
                end_column=end_column,
            ),
            cwe=_cwe(item.get("issue_cwe"), path),
            suppressed=suppressed,
            suppressions=("inSource",) if suppressed else (),
            snippet=snippet,
            help_uri=_opt_str(item, "more_info", path),
        )


def _count(value: Any) -> int:
    """A metrics count (bandit 1.6 wrote floats); anything else counts as none."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0:
        return int(value)
    return 0


def hidden_by_nosec(metrics: Any) -> int:
    """How many results bandit left out for `# nosec`: `nosec` (a bare `# nosec`) plus
    `skipped_tests` (`# nosec B602`, bandit >= 1.7.5), from `_totals` or, where a file's own
    counts add up to more, from the files (the larger wins: a count is never argued down)."""
    if not isinstance(metrics, dict):
        return 0
    totals = metrics.get("_totals")
    total = _count(totals.get("nosec")) + _count(totals.get("skipped_tests")) if isinstance(totals, dict) else 0
    per_file = sum(
        _count(m.get("nosec")) + _count(m.get("skipped_tests")) for name, m in metrics.items() if name != "_totals" and isinstance(m, dict)
    )
    return max(total, per_file)


def _docs_version(results: list[Any]) -> str | None:
    """The version in the `more_info` links, when every link that carries one agrees."""
    seen: set[str] = set()
    for item in results:
        link = item.get("more_info") if isinstance(item, dict) else None
        if isinstance(link, str):
            m = _DOCS_VERSION.match(link)
            if m:
                seen.add(m.group(1))
                if len(seen) > 1:
                    return None
    return seen.pop() if seen else None


def _cwe(value: Any, base: str) -> tuple[str, ...]:
    """`{"id": 78, "link": ...}` -> ("CWE-78",); `{}` or absent -> ()."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise _Shape(f"{base}.issue_cwe", f"must be an object, not {_type_name(value)}")
    ident = value.get("id")
    if isinstance(ident, str) and ident.strip().isdigit():
        ident = int(ident)
    if ident is None:
        return ()
    if not _is_int(ident):
        raise _Shape(f"{base}.issue_cwe.id", f"must be an integer, not {_type_name(ident)}")
    return (f"CWE-{ident}",) if ident > 0 else ()


def _snippet(code: str | None, start: int, end: int, test_id: str, test_name: str | None) -> tuple[str | None, bool]:
    """The flagged lines of bandit's numbered `code`, and whether a `# nosec` there covers the test."""
    if not code:
        return None, False
    kept: list[str] = []
    # bandit joins source lines ending in "\n"; other line breaks (form feed...) are line content.
    for raw in code.split("\n"):
        if not raw:
            continue
        number, sep, text = raw.partition(" ")
        if not (sep and number.isascii() and number.isdigit()):
            m = _CODE_LINE.fullmatch(raw)
            if m is None:
                # Not bandit's numbered form: keep the text whole rather than guess at lines.
                return code.rstrip("\n"), _nosec_covers(code, test_id, test_name)
            number, text = m.group(1), m.group(2)
        if start <= int(number) <= end:
            kept.append(text)
    if not kept:
        return None, False
    joined = "\n".join(kept)
    return joined, _nosec_covers(joined, test_id, test_name)


def _nosec_covers(text: str, test_id: str, test_name: str | None) -> bool:
    if "nosec" not in text:
        return False
    wanted = {test_id.upper()} | ({test_name.upper()} if test_name else set())
    for line in text.splitlines():
        m = _NOSEC.search(line)
        if m is None:
            continue
        tests = m.group("tests")
        if not tests or not tests.strip():
            return True
        if wanted & {t.upper() for t in _NOSEC_TEST.findall(tests)}:
            return True
    return False
