"""`gate policy compare`: what appears, disappears or changes level between two policy versions."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gate.authoring.compare import compare, entry_key, render_markdown, render_text
from tests.authoring_helpers import FINDINGS, TIME, append, copy_pack, first_deny, set_effective_on
from tests.conftest import POLICIES, run_gate

WHATIF = """package gate.zz_whatif

import rego.v1

# METADATA
# title: What-if probe
# description: Warns about every finding (a rule a security officer is about to add).
# custom:
#   id: GATE-WHATIF-001
#   severity: low
#   control: what-if probe
#   remediation: none
warn contains v if {
	some f in input.findings
	v := {"rule": "GATE-WHATIF-001", "msg": sprintf("probe: %s", [f.message]), "evidence": {"findings": [f.id]}}
}
"""


def _compare(old: Path, new: Path, *extra: str) -> Any:
    return run_gate(["policy", "compare", str(old), str(new), str(FINDINGS), "--time", TIME, *extra])


def _verdict(policy: Path, tmp_path: Path, name: str) -> dict[str, Any]:
    out = tmp_path / f"{name}.json"
    run_gate(["evaluate", str(FINDINGS), "--policy", str(policy), "--time", TIME, "--output", f"json={out}"])
    verdict: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return verdict


@pytest.mark.slow
def test_same_policy_changes_nothing() -> None:
    res = _compare(POLICIES, POLICIES, "--fail-on-change")
    assert res.exit_code == 0, res.stderr
    assert "policy compare: no change" in res.stdout
    doc = json.loads(_compare(POLICIES, POLICIES, "--format", "json").stdout)
    assert doc["changed"] is False and doc["appeared"] == doc["disappeared"] == doc["level_changed"] == []
    assert doc["old"]["digest"] == doc["new"]["digest"]
    assert doc["unchanged"]["count"] == doc["old"]["violations"] + doc["old"]["warnings"] > 0


@pytest.mark.slow
def test_postponing_every_rule_turns_its_denials_into_warnings(tmp_path: Path) -> None:
    new = copy_pack(tmp_path)
    assert set_effective_on(new, "2999-01-01") > 0
    old_verdict = _verdict(POLICIES, tmp_path, "old")
    assert old_verdict["violations"], "the fixture report must violate the shipped pack"
    res = _compare(POLICIES, new, "--format", "json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["appeared"] == [] and doc["disappeared"] == []
    changed = doc["level_changed"]
    assert {(c["rule"], json.dumps(c["evidence"], sort_keys=True)) for c in changed} == {
        (v["rule"], json.dumps(v["evidence"], sort_keys=True)) for v in old_verdict["violations"]
    }
    assert all(c["old_level"] == "deny" and c["new_level"] == "warn" for c in changed)
    assert doc["old"]["decision"] == "fail" and doc["new"]["decision"] == "pass"
    assert _compare(POLICIES, new, "--fail-on-change").exit_code == 10
    text = _compare(POLICIES, new).stdout
    assert f"Change level ({len(changed)}):" in text
    assert re.search(r"^  GATE-[\w-]+ \[deny -> warn\] at src/app\.py:12: ", text, re.MULTILINE)


@pytest.mark.slow
def test_added_rule_appears_and_removed_rule_disappears(tmp_path: Path) -> None:
    new = copy_pack(tmp_path)
    (new / "zz_whatif.rego").write_text(WHATIF, encoding="utf-8")
    doc = json.loads(_compare(POLICIES, new, "--format", "json").stdout)
    appeared = doc["appeared"]
    assert len(appeared) == 3  # one per finding of the fixture
    assert {a["rule"] for a in appeared} == {"GATE-WHATIF-001"} and {a["new_level"] for a in appeared} == {"warn"}
    assert doc["disappeared"] == [] and doc["level_changed"] == []
    assert doc["old"]["decision"] == doc["new"]["decision"]  # a warning does not change the decision
    assert _compare(POLICIES, new, "--fail-on-change").exit_code == 10
    back = json.loads(_compare(new, POLICIES, "--format", "json").stdout)
    assert [d["rule"] for d in back["disappeared"]] == ["GATE-WHATIF-001"] * 3 and back["appeared"] == []
    assert sorted(a["where"] for a in appeared)[0] == "src/app.py:12"


@pytest.mark.slow
def test_attacker_text_is_escaped_in_every_format(tmp_path: Path) -> None:
    new = copy_pack(tmp_path)
    (new / "zz_whatif.rego").write_text(WHATIF, encoding="utf-8")
    for fmt in ("text", "markdown"):
        out = _compare(POLICIES, new, "--format", fmt).stdout
        assert "\x1b" not in out and "\r" not in out
        assert not any(line.lstrip("| ").startswith("::") for line in out.splitlines()), fmt
    md = _compare(POLICIES, new, "--format", "markdown").stdout
    assert "<script>" not in md and "](http://e)" not in md.replace("\\](http://e)", "")
    rows = [line for line in md.splitlines() if line.startswith("| GATE-WHATIF-001 |")]
    assert len(rows) == 3 and all(len(re.findall(r"(?<!\\)\|", r)) == 7 for r in rows)


@pytest.mark.slow
def test_json_output_is_deterministic(tmp_path: Path) -> None:
    new = copy_pack(tmp_path)
    (new / "zz_whatif.rego").write_text(WHATIF, encoding="utf-8")
    assert _compare(POLICIES, new, "--format", "json").stdout == _compare(POLICIES, new, "--format", "json").stdout


@pytest.mark.slow
def test_broken_new_policy_exits_4_naming_the_place(tmp_path: Path) -> None:
    new = copy_pack(tmp_path)
    target = Path(first_deny(new).file)
    line = append(target, "this is not rego\n")
    res = _compare(POLICIES, new, "--fail-on-change")
    assert res.exit_code == 4
    assert f"gate: error with the new policy ({new}): {target}:{line}:1:" in res.stderr
    assert res.stdout == ""


def test_missing_old_policy_and_missing_report(tmp_path: Path) -> None:
    res = _compare(tmp_path / "nowhere", POLICIES)
    assert res.exit_code == 4
    assert "error with the old policy" in res.stderr and "policy folder not found" in res.stderr
    res = run_gate(["policy", "compare", str(POLICIES), str(POLICIES), str(tmp_path / "missing.json")])
    assert res.exit_code == 3
    assert "missing.json" in res.stderr and "no such file" in res.stderr


# -------------------------------------------------------------------------------------------
# The matching itself


def _entry(rule: str, msg: str, findings: list[str]) -> dict[str, Any]:
    return {
        "rule": rule,
        "title": "t",
        "severity": "high",
        "msg": msg,
        "evidence": {"findings": findings, "components": [], "scans": [], "details": []},
    }


def _verdict_of(violations: list[dict[str, Any]], warnings: list[dict[str, Any]], decision: str = "fail") -> dict[str, Any]:
    return {
        "decision": decision,
        "exit_code": 10 if decision == "fail" else 0,
        "violations": violations,
        "warnings": warnings,
        "findings": {},
        "policy": {"path": "p", "digest": "sha256:" + "0" * 64},
        "summary": {"violations": len(violations), "warnings": len(warnings)},
    }


def test_identity_is_rule_and_evidence_not_message() -> None:
    assert entry_key(_entry("R", "one wording", ["a", "b"])) == entry_key(_entry("R", "another wording", ["b", "a"]))
    assert entry_key(_entry("R", "m", ["a"])) != entry_key(_entry("R", "m", ["b"]))
    assert entry_key(_entry("R", "m", ["a"])) != entry_key(_entry("S", "m", ["a"]))


def test_compare_classifies_each_key() -> None:
    old = _verdict_of(
        [_entry("KEEP", "x", ["1"]), _entry("SOFTEN", "x", ["2"]), _entry("GONE", "x", ["3"])], [_entry("HARDEN", "x", ["4"])]
    )
    new = _verdict_of(
        [_entry("KEEP", "reworded", ["1"]), _entry("HARDEN", "x", ["4"]), _entry("NEW", "x", ["5"])], [_entry("SOFTEN", "x", ["2"])]
    )
    c = compare(old, new)
    assert [(x.rule, x.old.level if x.old else None, x.new.level if x.new else None) for x in c.of_kind("level")] == [
        ("HARDEN", "warn", "deny"),
        ("SOFTEN", "deny", "warn"),
    ]
    assert [x.rule for x in c.of_kind("appeared")] == ["NEW"]
    assert [x.rule for x in c.of_kind("disappeared")] == ["GONE"]
    assert c.unchanged == [("KEEP", "deny")] and c.changed
    text = render_text(c)
    assert "HARDEN [warn -> deny]" in text and "NEW [new deny]" in text and "GONE [was deny]" in text
    assert "### Change level (2)" in render_markdown(c)


def test_decision_change_alone_counts_as_a_change() -> None:
    same = [_entry("R", "x", ["1"])]
    c = compare(_verdict_of([], same, "pass"), {**_verdict_of([], same, "fail"), "exit_code": 11})
    assert c.changes == [] and c.changed
