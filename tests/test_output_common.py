"""`results(verdict, limit)`: the order every format shows, computed without a Result per entry.

`results` orders by a key built from the entry's parts (`_order`); these tests hold it to the
definition it replaced: a Result for every entry, sorted (stably) by level, then by the
severity, rule, `path`, `start_line`, `fingerprint()` and message of the Result itself. With
`limit` it is the same list cut to the first `limit` results of each level (the console's
rows), and the console states the full counts.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from gate.output.common import LEVEL_ORDER, SEVERITY_ORDER, Result, entry_result, primary_finding, results, summarize, waived_result
from gate.output.console import ConsoleFormatter
from gate.output.interface import OutputOptions


def _reference(verdict: dict[str, Any]) -> list[Result]:
    """The definition: every Result built (as `results` builds one), then one stable sort by its properties."""
    findings = verdict.get("findings") or {}
    out: list[Result] = []
    for level, entries in (("deny", verdict.get("violations")), ("warn", verdict.get("warnings"))):
        for e in entries or []:
            fid, related = primary_finding(e, findings)
            out.append(entry_result(level, e, fid, findings.get(fid) if fid else None, related))
    out.extend(waived_result(w, findings) for w in verdict.get("waived") or [])
    out.sort(
        key=lambda r: (
            LEVEL_ORDER[r.level],
            SEVERITY_ORDER.get(r.severity, 9),
            r.rule,
            r.path or "",
            r.start_line or 0,
            r.fingerprint(),
            r.msg,
        )
    )
    return out


# Few distinct values, so that keys tie often and the later fields (and the entries' places) decide.
_PATHS = st.sampled_from([None, "", "a.py", "b.py", "src/a.py"])
_LINES = st.sampled_from([None, 0, -3, 1, 2, 10, True, False, "7"])
_SEVERITIES = st.sampled_from([None, "critical", "high", "medium", "weird"])
_RULES = st.sampled_from(["R-1", "R-2", "GATE-SAST-001"])


@st.composite
def _verdicts(draw: Any) -> dict[str, Any]:
    findings: dict[str, Any] = {}
    for n in range(draw(st.integers(0, 8))):
        f: dict[str, Any] = {
            "severity": draw(_SEVERITIES),
            "message": draw(st.sampled_from(["m", "n", ""])),
            "rule_id": draw(st.sampled_from([None, "B1", "B2"])),
        }
        if draw(st.booleans()):
            f["location"] = {"path": draw(_PATHS), "start_line": draw(_LINES), "end_line": draw(_LINES)}
        if draw(st.booleans()):
            f["source"] = {"path": draw(_PATHS)}
        if draw(st.booleans()):
            f["package"] = {"purl": "pkg:pypi/x@1", "name": "x", "version": "1"}
        findings[f"f{n}"] = f
    ids = [*findings, "missing"]

    def entry() -> dict[str, Any]:
        cited = draw(st.lists(st.sampled_from(ids), max_size=3))
        msg = draw(st.sampled_from(["x", "y", "at a.py:1", "at a.py:10", "at b.py:2"]))
        e: dict[str, Any] = {"rule": draw(_RULES), "msg": msg, "severity": draw(_SEVERITIES), "title": "t", "remediation": "r"}
        if draw(st.booleans()) or cited:
            e["evidence"] = {"findings": cited, "components": draw(st.sampled_from([[], ["pkg:pypi/y@2"]])), "scans": []}
        return e

    def waived() -> dict[str, Any]:
        return {
            "finding": draw(st.sampled_from([*ids, None])),
            "waiver": "W-1",
            "rule_id": draw(st.sampled_from([None, "B3"])),
            "path": draw(_PATHS),
        }

    return {
        "decision": "fail",
        "exit_code": 1,
        "findings": findings,
        "violations": [entry() for _ in range(draw(st.integers(0, 12)))],
        "warnings": [entry() for _ in range(draw(st.integers(0, 12)))],
        "waived": [waived() for _ in range(draw(st.integers(0, 6)))],
        "summary": {"findings": len(findings), "components": 0, "inputs": 1},
    }


@settings(max_examples=300, deadline=None)
@given(_verdicts(), st.integers(0, 5))
def test_results_are_the_sorted_results_and_limit_cuts_each_level(verdict: dict[str, Any], limit: int) -> None:
    expected = _reference(verdict)
    assert results(verdict) == expected
    cut = [r for level in ("deny", "warn", "waived") for r in [r for r in expected if r.level == level][:limit]]
    assert results(verdict, limit=limit) == cut


def test_limit_on_a_large_verdict_keeps_the_first_rows_of_each_level() -> None:
    rng = random.Random(20)  # noqa: S311 - test data, not secrets
    findings = {
        f"f{i}": {"severity": "high", "location": {"path": f"src/m{rng.randrange(50)}.py", "start_line": rng.randrange(1, 400)}}
        for i in range(3000)
    }
    ids = list(findings)
    verdict = {
        "findings": findings,
        "violations": [
            {"rule": "GATE-SAST-001", "severity": "high", "msg": f"m{i}", "evidence": {"findings": [rng.choice(ids)]}} for i in range(2500)
        ],
        "warnings": [
            {
                "rule": rng.choice(["GATE-SAST-002", "GATE-SAST-003"]),
                "severity": "medium",
                "msg": "w",
                "evidence": {"findings": [rng.choice(ids)]},
            }
            for _ in range(2500)
        ],
        "waived": [{"finding": rng.choice(ids), "waiver": "W-1"} for _ in range(300)],
        "summary": {"findings": 3000, "components": 0, "inputs": 1},
    }
    expected = _reference(verdict)
    assert results(verdict) == expected
    shown = results(verdict, limit=200)
    assert shown == [r for level in ("deny", "warn", "waived") for r in [r for r in expected if r.level == level][:200]]


def test_console_states_full_counts_and_shows_the_first_rows() -> None:
    verdict = {
        "decision": "fail",
        "exit_code": 1,
        "findings": {f"f{i}": {"severity": "high", "location": {"path": "a.py", "start_line": i + 1}} for i in range(250)},
        "violations": [{"rule": "R-1", "severity": "high", "msg": f"flaw {i}", "evidence": {"findings": [f"f{i}"]}} for i in range(250)],
        "warnings": [{"rule": "R-2", "severity": "medium", "msg": "w", "evidence": {"findings": ["f0"]}}],
        "waived": [],
        "summary": {"findings": 250, "components": 0, "inputs": 1},
    }
    formatter = ConsoleFormatter(OutputOptions(interactive=False))
    text = formatter.render(verdict, None)  # type: ignore[arg-type]
    assert "gate CLOSED: 250 violation(s), 1 warning(s), 0 waived; exit 1" in text
    assert "Violations (250)" in text and "Warnings (1)" in text
    assert "... and 50 more violations (see --output json=FILE)" in text
    assert "a.py:200" in text and "a.py:201 " not in text  # rows 1..200 by line, in order
    sm = summarize(verdict, None, rules=False)  # type: ignore[arg-type]
    assert (sm.violations, sm.warnings, sm.results, sm.by_rule) == (250, 1, 251, {})
    assert summarize(verdict, None).by_rule == {"R-1": {"deny": 250, "warn": 0, "waived": 0}, "R-2": {"deny": 0, "warn": 1, "waived": 0}}  # type: ignore[arg-type]
