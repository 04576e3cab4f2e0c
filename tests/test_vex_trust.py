"""Under --policy-ref, a VEX document counts only when the trusted ref holds it unchanged.

Otherwise a pull request could approve itself by adding a VEX file that says "not affected",
the same way it could with a waiver. The file is still read (its findings count); only its
statements are set aside, and the verdict lists it as not used.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import POLICIES, run_gate
from tests.test_policy_ref import git

VEX = Path(__file__).resolve().parent / "data" / "governance" / "vex"
TIME = "2026-07-01T12:00:00Z"


def _repo(tmp_path: Path, *, commit_vex: bool) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    shutil.copytree(POLICIES, root / "policies")
    shutil.copy(VEX / "pip-audit-vulns.json", root / "audit.json")
    if commit_vex:
        shutil.copy(VEX / "cyclonedx-vex-all.json", root / "vex.json")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "trusted")
    if not commit_vex:
        shutil.copy(VEX / "cyclonedx-vex-all.json", root / "vex.json")  # added by the change
    return root


def _evaluate(root: Path) -> tuple[int, dict]:
    out = root.parent / "verdict.json"
    res = run_gate(
        ["evaluate", "audit.json", "vex.json", "--policy-ref", "main", "--time", TIME, "--output", f"json={out}"],
        cwd=root,
    )
    return res.exit_code, json.loads(out.read_text())


def test_vex_added_by_the_change_is_not_used(tmp_path: Path) -> None:
    code, verdict = _evaluate(_repo(tmp_path, commit_vex=False))
    assert code == 10, verdict.get("error")
    assert verdict["vex"] == []
    assert {"path": "vex.json", "kind": "vex", "change": "added"} in verdict["not_used"]


def test_vex_edited_by_the_change_is_not_used(tmp_path: Path) -> None:
    root = _repo(tmp_path, commit_vex=True)
    (root / "vex.json").write_text((root / "vex.json").read_text().replace('"resolved"', '"false_positive"'))
    code, verdict = _evaluate(root)
    assert code == 10
    assert {"path": "vex.json", "kind": "vex", "change": "modified"} in verdict["not_used"]


def test_vex_from_the_trusted_ref_applies(tmp_path: Path) -> None:
    code, verdict = _evaluate(_repo(tmp_path, commit_vex=True))
    assert code == 0, verdict["violations"]
    assert verdict["vex"] and not [e for e in verdict["not_used"] if e["kind"] == "vex"]
