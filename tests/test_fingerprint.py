"""Fingerprints survive line shifts, unrelated edits, report reordering and tool re-runs.

Proven on real bandit and semgrep runs over a small sample project (tests/governance_support.py):
before, after inserting lines at the top of every file, editing an unrelated line and adding one
new flaw, and a plain re-run; plus the report's results in reverse order.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest

from gate.fingerprint import base_key, fingerprints
from gate.model import Finding, Location, Package
from scanners.bandit import BanditReader
from scanners.semgrep import SemgrepReader
from tests.governance_support import Scan, real_scans, reordered

pytestmark = pytest.mark.slow


def _read(path: Path) -> list[Finding]:
    doc = json.loads(path.read_text())
    reader = BanditReader() if "bandit" in path.name else SemgrepReader()
    return list(reader.read(doc, str(path)).findings)


def _ids(scan: Scan) -> dict[str, tuple[str, str, int | None]]:
    """Fingerprint -> (tool, rule, line) over both reports of a scan, fingerprinted together as the pipeline does."""
    findings = _read(scan.bandit) + _read(scan.semgrep)
    sources = [str(scan.bandit)] * len(_read(scan.bandit)) + [str(scan.semgrep)] * len(_read(scan.semgrep))
    ids = fingerprints(findings, sources)
    out = {}
    for fid, f in zip(ids, findings, strict=True):
        assert fid not in out, f"two findings share fingerprint {fid}"
        out[fid] = (f.tool, f.rule_id, f.location.start_line if f.location else None)
    return out


def test_fingerprints_are_32_hex_digits_and_distinct_for_identical_code() -> None:
    ids = _ids(real_scans().before)
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    # export() and archive() hold the very same line: two flaws, two fingerprints.
    b602 = sorted(line for tool, rule, line in ids.values() if rule == "B602")
    assert b602 == [8, 16]


def test_line_shift_and_unrelated_edit_keep_every_fingerprint_and_only_the_new_flaw_is_new() -> None:
    scans = real_scans()
    before, after = _ids(scans.before), _ids(scans.after)
    assert set(before) <= set(after), "a finding changed its fingerprint after a line shift"
    new = {after[i] for i in set(after) - set(before)}
    # Exactly the flaw added at the end of orders.py, once per tool.
    assert sorted((tool.lower(), line) for tool, _, line in new) == [("bandit", 29), ("semgrep", 29)]
    # Each kept fingerprint names the same flaw, really moved by the 5 lines inserted above it.
    for fid, (tool, rule, line) in before.items():
        t2, r2, l2 = after[fid]
        assert (t2, r2) == (tool, rule) and l2 == line + 5  # type: ignore[operator]


def test_tool_rerun_gives_the_same_fingerprints() -> None:
    scans = real_scans()
    assert _ids(scans.before) == _ids(scans.rerun)


@pytest.mark.parametrize("tool", ["bandit", "semgrep"])
def test_report_reordering_keeps_every_fingerprint(tool: str, tmp_path: Path) -> None:
    scan = real_scans().before
    original = getattr(scan, tool)
    shuffled = reordered(original, tmp_path / original.name)
    a = _read(original)
    b = _read(shuffled)
    assert [f.location.start_line for f in a] == list(reversed([f.location.start_line for f in b]))  # type: ignore[union-attr]
    ids_a = dict(zip(fingerprints(a, [str(original)] * len(a)), [(f.rule_id, f.location.start_line) for f in a], strict=True))  # type: ignore[union-attr]
    ids_b = dict(zip(fingerprints(b, [str(shuffled)] * len(b)), [(f.rule_id, f.location.start_line) for f in b], strict=True))  # type: ignore[union-attr]
    assert ids_a == ids_b


def _sast(**over: object) -> Finding:
    base = Finding(
        tool="bandit",
        rule_id="B602",
        severity="high",
        message="subprocess call with shell=True identified, security issue.",
        index=0,
        kind="sast",
        tool_version="1.9.4",
        location=Location("src/app.py", 10, 10, 5, 30),
        snippet="    return subprocess.call(cmd, shell=True)",
    )
    return dataclasses.replace(base, **over)  # type: ignore[arg-type]


def test_what_does_not_change_the_flaw_does_not_change_the_fingerprint() -> None:
    f = _sast()
    same = [
        _sast(tool_version="1.7.0"),  # a newer or older tool
        _sast(location=Location("./src/app.py", 99, 101, 1, 2)),  # moved lines, ./ prefix
        _sast(snippet="return   subprocess.call(cmd,\tshell=True)"),  # reindented
        _sast(index=41, severity="medium", confidence="low"),  # report order, re-rated
        _sast(tool="Bandit"),
    ]
    for g in same:
        assert fingerprints([g], ["r.json"]) == fingerprints([f], ["r.json"]), g
    different = [_sast(rule_id="B603"), _sast(location=Location("src/other.py", 10)), _sast(snippet="subprocess.call(x, shell=True)")]
    for g in different:
        assert fingerprints([g], ["r.json"]) != fingerprints([f], ["r.json"]), g


def test_messages_without_code_ignore_numbers() -> None:
    a = _sast(snippet=None, message="Possible injection at line 12, column 4")
    b = _sast(snippet=None, message="Possible injection at line 40, column 8")
    assert fingerprints([a], ["r"]) == fingerprints([b], ["r"])


def test_a_secret_is_never_part_of_its_fingerprint() -> None:
    """Fingerprints are published (SARIF, PR comments); a hashed weak password could be guessed offline."""
    real = _sast(
        rule_id="B105",
        kind="secret",
        message="Possible hardcoded password: 'hunter2'",
        snippet='DATABASE_PASSWORD = "hunter2"',
    )
    other = dataclasses.replace(real, message="Possible hardcoded password: 'letmein'", snippet='DATABASE_PASSWORD = "letmein"')
    assert "hunter2" not in base_key(real)
    assert fingerprints([real], ["r"]) == fingerprints([other], ["r"])


def test_dependency_fingerprint_ignores_aliases_and_advisory_text() -> None:
    pkg = Package("jinja2", "3.1.2", "pkg:pypi/jinja2@3.1.2")
    a = Finding(
        tool="pip-audit",
        rule_id="GHSA-h5c8-rqwp-cp95",
        severity="unknown",
        message="old text",
        index=0,
        kind="dependency",
        package=pkg,
        cve=("CVE-2024-22195",),
    )
    b = dataclasses.replace(a, message="The advisory was reworded", aliases=("PYSEC-2024-1",), index=7)
    c = dataclasses.replace(a, package=Package("jinja2", "3.1.3", "pkg:pypi/jinja2@3.1.3"))
    assert fingerprints([a], ["r"]) == fingerprints([b], ["r"])
    assert fingerprints([a], ["r"]) != fingerprints([c], ["r"])


def test_occurrences_are_numbered_by_position_not_by_report_order() -> None:
    one = _sast(location=Location("src/app.py", 10), index=0)
    two = _sast(location=Location("src/app.py", 20), index=1)
    forward = fingerprints([one, two], ["r", "r"])
    backward = fingerprints([dataclasses.replace(two, index=0), dataclasses.replace(one, index=1)], ["r", "r"])
    assert forward == list(reversed(backward))
    assert forward[0] != forward[1]
