"""One flaw, one row: findings of different tools on nearby lines of one file and of one weakness
family (trusted data, `policies/config/weaknesses.yaml`) are one linked group.

On the shipped example (`examples/reports`, stage prod): bandit B201 and semgrep's Flask-debug
rule on the same line are one violation; the `eval` line is one entry, never both a violation
and a warning; bandit B105 and semgrep's hard-coded secret rule are one violation. One waiver
covers a group, as far as it names the group's flaw; grouping never hides a flaw (attack tests
below say what each attack was).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from gate.pipeline import WeaknessFamilies, link_duplicates, spread_waivers
from gate.policy import load_policy
from tests.conftest import REPO, run_gate

REPORTS = REPO / "examples" / "reports"
TIME = "2026-12-01T00:00:00Z"


def _verdict(tmp_path: Path, *extra: str) -> dict[str, Any]:
    out = tmp_path / "verdict.json"
    res = run_gate(["evaluate", str(REPORTS), "--stage", "prod", "--time", TIME, "--output", f"json={out}", *extra])
    assert res.exit_code in (10, 11), res.stderr
    verdict: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    verdict["findings"] = [{"id": fid, **f} for fid, f in verdict["findings"].items()]  # the verdict keys them by id
    return verdict


def _at(verdict: dict[str, Any], line: int, *, path: str = "app.py") -> dict[str, list[dict[str, Any]]]:
    """The violations and warnings whose evidence holds a finding at path:line."""
    ids = {f["id"] for f in verdict["findings"] if (f.get("location") or {}).get("path") == path and f["location"]["start_line"] == line}
    return {k: [v for v in verdict[k] if ids & set(v["evidence"]["findings"])] for k in ("violations", "warnings")}


def _finding(verdict: dict[str, Any], tool: str, rule_id: str) -> dict[str, Any]:
    return next(f for f in verdict["findings"] if f["tool"].lower().startswith(tool) and f["rule_id"] == rule_id)


def _waivers(tmp_path: Path, rule: str, path: str = "app.py") -> str:
    target = tmp_path / "waivers.yaml"
    target.write_text(
        "waivers:\n"
        "  - id: W-LINK-1\n"
        f"    rule: {rule}\n"
        f"    path: {path}\n"
        "    reason: accepted for the example\n"
        "    approved_by: security-officer\n"
        "    expires: 2027-01-31\n",
        encoding="utf-8",
    )
    return str(target)


def test_flask_debug_of_bandit_and_semgrep_is_one_violation(tmp_path: Path) -> None:
    """Before: bandit B201 (CWE-94) and semgrep's flask-debug-mode (CWE-215/489) on line 117 were
    two violations: their CWEs share nothing. The family table lists B201 as debug mode."""
    verdict = _verdict(tmp_path)
    rows = _at(verdict, 117)
    assert len(rows["violations"]) == 1 and rows["warnings"] == []
    evidence = rows["violations"][0]["evidence"]["findings"]
    assert {_finding(verdict, "bandit", "B201")["id"], _finding(verdict, "semgrep", "gate.python.flask-debug-mode")["id"]} == set(evidence)


def test_the_eval_line_is_one_entry(tmp_path: Path) -> None:
    """Before: semgrep's code-injection (CWE-95, high) denied and bandit's B307 (CWE-78, medium)
    warned on the same `eval`: one flaw, a violation and a warning."""
    verdict = _verdict(tmp_path)
    rows = _at(verdict, 113)
    assert len(rows["violations"]) == 1 and rows["warnings"] == [], rows
    assert len(rows["violations"][0]["evidence"]["findings"]) == 2


def test_bandit_b105_and_the_semgrep_secret_rule_are_one_violation(tmp_path: Path) -> None:
    """Before: B105 (CWE-259, a name heuristic) warned and semgrep's hardcoded-secret (CWE-798)
    denied, for the same assignment. Linked, the detector's report makes the group block."""
    verdict = _verdict(tmp_path)
    rows = _at(verdict, 18)
    assert [v["rule"] for v in rows["violations"]] == ["GATE-SEC-001"] and rows["warnings"] == [], rows
    assert len(rows["violations"][0]["evidence"]["findings"]) == 2


def test_every_sast_row_names_distinct_flaws(tmp_path: Path) -> None:
    """No finding is the evidence of a violation and of a warning at once."""
    verdict = _verdict(tmp_path)
    denied = {i for v in verdict["violations"] for i in v["evidence"]["findings"]}
    warned = {i for v in verdict["warnings"] for i in v["evidence"]["findings"]}
    assert not denied & warned


def test_one_waiver_covers_the_group(tmp_path: Path) -> None:
    """A waiver for bandit B201 on app.py (high) also covers semgrep's report of the same debug
    mode (high): the developer waives one flaw once."""
    verdict = _verdict(tmp_path, "--waivers", _waivers(tmp_path, "B201"))
    assert _at(verdict, 117) == {"violations": [], "warnings": []}
    linked = [w for w in verdict["waived"] if w.get("linked_to")]
    assert any(w["waiver"] == "W-LINK-1" and w["rule_id"] == "gate.python.flask-debug-mode" for w in linked)


def test_attack_a_waiver_of_a_low_report_does_not_silence_a_high_one(tmp_path: Path) -> None:
    """Attack: waive bandit's low-severity B311 (random) on app.py, which the reviewer reads as
    harmless, to silence semgrep's high-severity weak-random-token report linked to it. A waiver
    covers a linked report only when that report is not more severe than the waived one."""
    verdict = _verdict(tmp_path, "--waivers", _waivers(tmp_path, "B311"))
    rows = _at(verdict, 97)
    assert len(rows["violations"]) == 1, rows
    semgrep = _finding(verdict, "semgrep", "gate.python.weak-random-token")["id"]
    assert semgrep in rows["violations"][0]["evidence"]["findings"] and rows["violations"][0]["msg"].startswith("Semgrep")
    assert not any(w["finding"] == semgrep for w in verdict["waived"])


def test_attack_a_low_report_grouped_with_a_high_one_does_not_lower_the_group(tmp_path: Path) -> None:
    """Attack: a finding of low severity (bandit B311, primary of its group by id) grouped with a
    high one must not give the group its low severity: the group denies, as its highest member."""
    verdict = _verdict(tmp_path)
    rows = _at(verdict, 97)
    assert len(rows["violations"]) == 1 and rows["warnings"] == [], rows
    assert "[severity high" in rows["violations"][0]["msg"]


def _code(fid: str, tool: str, line: int, cwe: list[str], severity: str, rule_id: str = "R") -> dict[str, Any]:
    return {
        "id": fid,
        "tool": tool,
        "rule_id": rule_id,
        "cwe": cwe,
        "severity": severity,
        "package": None,
        "location": {"path": "app.py", "start_line": line},
        "duplicates": [],
        "waiver": None,
        "source": {"path": f"{tool}.json"},
    }


def _families() -> WeaknessFamilies:
    return WeaknessFamilies.from_data(load_policy(REPO / "policies").data)


def test_attack_a_waived_finding_next_to_another_weakness_does_not_waive_it() -> None:
    """Attack: a waived command-injection report (CWE-78) one line above another tool's SQL
    injection (CWE-89) must not carry its waiver over: different families never link."""
    a = _code("a", "bandit", 10, ["CWE-78"], "high")
    b = _code("b", "semgrep", 11, ["CWE-89"], "high")
    findings = [a, b]
    link_duplicates(findings, 2, families=_families())
    assert a["duplicates"] == [] and b["duplicates"] == []
    a["waiver"] = {"id": "W-1", "reason": "r", "approved_by": "x", "expires": "2027-01-01", "ticket": None}
    assert spread_waivers(findings) == [] and b["waiver"] is None


def test_a_waiver_does_not_travel_through_a_chain_of_links() -> None:
    """Links are direct: a waiver on a covers b (same family, next line), never c, which is
    linked to b only (another bandit report further down)."""
    a = _code("a", "semgrep", 10, ["CWE-89"], "high")
    b = _code("b", "bandit", 12, ["CWE-89"], "high")
    c = _code("c", "semgrep", 14, ["CWE-89"], "high")
    findings = [a, b, c]
    link_duplicates(findings, 2, families=_families())
    assert a["duplicates"] == ["b"] and c["duplicates"] == ["b"] and b["duplicates"] == ["a", "c"]
    a["waiver"] = {"id": "W-1", "reason": "r", "approved_by": "x", "expires": "2027-01-01", "ticket": None}
    assert [w["finding"] for w in spread_waivers(findings)] == ["b"] and c["waiver"] is None


def test_unknown_severity_counts_as_the_most_severe() -> None:
    a = _code("a", "bandit", 10, ["CWE-78"], "critical")
    b = _code("b", "sarif-tool", 10, ["CWE-77"], "unknown")
    findings = [a, b]
    link_duplicates(findings, 2, families=_families())
    assert a["duplicates"] == ["b"]
    a["waiver"] = {"id": "W-1", "reason": "r", "approved_by": "x", "expires": "2027-01-01", "ticket": None}
    assert spread_waivers(findings) == [] and b["waiver"] is None


def test_the_family_table_is_trusted_data_and_a_rule_listed_leaves_its_cwe() -> None:
    """B201 says CWE-94 (code injection): listed under debug-mode, it links with Flask debug
    reports and not with a code-injection report of another tool on the next line."""
    fam = _families()
    b201 = _code("a", "bandit", 10, ["CWE-94"], "high", rule_id="B201")
    assert fam.of(b201) == frozenset({"family:debug-mode"})
    injection = _code("b", "semgrep", 11, ["CWE-95"], "high")
    findings = [b201, injection]
    link_duplicates(findings, 2, families=fam)
    assert b201["duplicates"] == []
    # Without a table, findings link on a CWE in common, as before.
    assert WeaknessFamilies().of(injection) == frozenset({"CWE-95"})
