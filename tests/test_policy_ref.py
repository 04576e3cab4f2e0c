"""Trusted policy source: `--policy-ref REF` reads everything that governs from a git ref (gate.sources).

Each test builds a real git repository in tmp_path, commits a policy (the governance test policy
with a data file), a waivers file and a data override, then changes them in the work tree the way
a pull request would approve itself: it weakens the rule, adds a rule file, relaxes data and adds
a waiver. Judged with `--policy-ref main` the gate still fails and lists every change as not used;
`--policy-digest` refuses anything but the pinned policy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gate.policy import load_policy
from tests.conftest import run_gate
from tests.governance_support import GOV, write

POLICY = GOV / "policy"
BANDIT = GOV / "reports" / "bandit-sample.json"
NOW = "2026-07-01T12:00:00Z"

DATA = "waivers:\n  horizon_days: 180\n  warn_before_days: 14\n"
WAIVERS = """\
waivers:
  - id: W-MD5
    rule: B324
    reason: cache key only, not a security use
    approved_by: security-officer
    expires: 2026-07-10
"""
SELF_APPROVAL = """\
  - id: W-PR
    rule: B602
    reason: trust me
    approved_by: the pull request author
    expires: 2026-12-01
"""


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Gate Tests",
        "GIT_AUTHOR_EMAIL": "gate-tests@example.org",
        "GIT_COMMITTER_NAME": "Gate Tests",
        "GIT_COMMITTER_EMAIL": "gate-tests@example.org",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    proc = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)  # noqa: S603, S607
    return proc.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose `main` holds the trusted policy, data and waivers."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    shutil.copytree(POLICY, root / "policies")
    write(root / "policies" / "config" / "gate.yaml", DATA)
    write(root / "policies" / "README.md", "The trusted policy.\n")
    write(root / "waivers.yaml", WAIVERS)
    write(root / "ci" / "overrides.yaml", "waivers:\n  warn_before_days: 14\n")
    shutil.copy(BANDIT, root / "bandit.json")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "trusted policy")
    return root


def weaken(root: Path) -> None:
    """What a hostile pull request changes in the work tree."""
    rule = root / "policies" / "governance.rego"
    text = rule.read_text()
    assert 'f.severity in {"high", "critical"}' in text
    rule.write_text(text.replace('f.severity in {"high", "critical"}', 'f.severity == "critical"'))
    write(root / "policies" / "zz_allow.rego", "package gate.allow\n\nimport rego.v1\n\nallowed := true\n")
    write(root / "policies" / "config" / "gate.yaml", DATA.replace("warn_before_days: 14", "warn_before_days: 0"))
    write(root / "waivers.yaml", WAIVERS + SELF_APPROVAL)
    write(root / "ci" / "overrides.yaml", "waivers:\n  warn_before_days: 0\n")
    write(root / "policies" / "README.md", "Edited, but no policy file: never listed.\n")


def evaluate(root: Path, *args: str, cwd: Path | None = None) -> tuple[int, dict[str, Any], str]:
    out = root.parent / "verdict.json"
    if out.exists():
        out.unlink()
    res = run_gate(["evaluate", "bandit.json", "--time", NOW, "--output", f"json={out}", *args], cwd=cwd or root)
    verdict = json.loads(out.read_text())
    assert res.exit_code == verdict["exit_code"], (res.stdout, res.stderr)
    return res.exit_code, verdict, res.stdout + res.stderr


def changes(verdict: dict[str, Any]) -> list[dict[str, str]]:
    """`not_used` without the reasons (each entry must have one, a sentence for the reviewer)."""
    assert all(e.get("reason") for e in verdict["not_used"]), verdict["not_used"]
    return [{k: v for k, v in e.items() if k != "reason"} for e in verdict["not_used"]]


def blocked_rules(verdict: dict[str, Any]) -> list[str]:
    return sorted(v["msg"] for v in verdict["violations"])


def test_without_a_ref_the_weakened_work_tree_would_approve_itself(repo: Path) -> None:
    weaken(repo)
    code, verdict, _ = evaluate(repo, "--policy", "policies", "--waivers", "waivers.yaml")
    assert code == 0 and verdict["violations"] == []


def test_the_ref_is_judged_and_the_work_tree_changes_are_listed_as_not_used(repo: Path) -> None:
    commit = git(repo, "rev-parse", "HEAD")
    weaken(repo)
    code, verdict, _ = evaluate(
        repo, "--policy", "policies", "--policy-ref", "main", "--waivers", "waivers.yaml", "--data", "ci/overrides.yaml"
    )
    # The trusted rule blocks both shell=True calls; the trusted waiver covers MD5; the PR's waiver is ignored.
    assert code == 10 and verdict["decision"] == "fail"
    assert blocked_rules(verdict) == ["bandit B602", "bandit B602"]
    assert {w["waiver"] for w in verdict["waived"]} == {"W-MD5"}
    # Trusted data: warn_before_days 14 (the PR set 0), so W-MD5 (9 days left) warns.
    assert [w["rule"] for w in verdict["warnings"]] == ["GOV-WAIVER-EXPIRING"]
    assert changes(verdict) == [
        {"path": "ci/overrides.yaml", "kind": "data", "change": "modified"},
        {"path": "policies/config/gate.yaml", "kind": "data", "change": "modified"},
        {"path": "policies/governance.rego", "kind": "policy", "change": "modified"},
        {"path": "policies/zz_allow.rego", "kind": "policy", "change": "added"},
        {"path": "waivers.yaml", "kind": "waivers", "change": "modified"},
    ]
    assert verdict["policy"]["source"] == "git"
    assert verdict["policy"]["revision"] == commit
    assert verdict["policy"]["path"] == "main:policies"
    # The digest is the trusted folder's: the same as loading the committed files.
    committed_overrides = write(repo.parent / "committed-overrides.yaml", "waivers:\n  warn_before_days: 14\n")
    expected = load_policy(POLICY_AT_COMMIT(repo, commit), extra_data=[str(committed_overrides)], include_tests=False)
    assert verdict["policy"]["digest"] == expected.digest


def POLICY_AT_COMMIT(repo: Path, commit: str) -> Path:  # noqa: N802 - reads like a constant at the call site
    """The policy folder as committed, exported with git archive (independent of gate.sources)."""
    dst = repo.parent / f"export-{commit[:8]}"
    if not dst.exists():
        dst.mkdir()
        archive = subprocess.run(["git", "archive", commit, "policies"], cwd=repo, capture_output=True, check=True).stdout  # noqa: S603, S607
        subprocess.run(["tar", "-x", "-C", str(dst)], input=archive, check=True)  # noqa: S603, S607
    return dst / "policies"


def test_an_unchanged_work_tree_lists_nothing(repo: Path) -> None:
    code, verdict, _ = evaluate(repo, "--policy", "policies", "--policy-ref", "main", "--waivers", "waivers.yaml")
    assert code == 10 and changes(verdict) == []


def test_a_deleted_policy_file_and_waivers_file_still_count_from_the_ref(repo: Path) -> None:
    (repo / "policies" / "governance.rego").unlink()
    (repo / "waivers.yaml").unlink()
    code, verdict, _ = evaluate(repo, "--policy", "policies", "--policy-ref", "main", "--waivers", "waivers.yaml")
    assert code == 10
    assert {w["waiver"] for w in verdict["waived"]} == {"W-MD5"}
    assert changes(verdict) == [
        {"path": "policies/governance.rego", "kind": "policy", "change": "deleted"},
        {"path": "waivers.yaml", "kind": "waivers", "change": "deleted"},
    ]


def test_a_waivers_file_the_ref_does_not_have_waives_nothing(repo: Path) -> None:
    write(repo / "new-waivers.yaml", "waivers:\n" + SELF_APPROVAL)
    code, verdict, _ = evaluate(repo, "--policy", "policies", "--policy-ref", "main", "--waivers", "new-waivers.yaml")
    assert code == 10 and verdict["waived"] == []
    assert changes(verdict) == [{"path": "new-waivers.yaml", "kind": "waivers", "change": "added"}]


def test_the_waivers_file_at_the_ref_is_validated_with_its_ref_name(repo: Path) -> None:
    write(repo / "waivers.yaml", WAIVERS.replace("expires: 2026-07-10", "expires: 9999-12-31"))
    git(repo, "commit", "-q", "-am", "a waiver that never expires")
    code, verdict, out = evaluate(repo, "--policy", "policies", "--policy-ref", "main", "--waivers", "waivers.yaml")
    assert code == 2
    assert verdict["error"]["file"] == "main:waivers.yaml"
    assert verdict["error"]["position"]["line"] == 6
    assert "main:waivers.yaml:6" in out


@pytest.mark.slow
def test_policy_digest_pins_the_trusted_policy(repo: Path) -> None:
    _, first, _ = evaluate(repo, "--policy", "policies", "--policy-ref", "main")
    digest = first["policy"]["digest"]
    weaken(repo)
    code, _, _ = evaluate(repo, "--policy", "policies", "--policy-ref", "main", "--policy-digest", digest)
    assert code == 10
    # The weakened work tree has another digest: pinned, it is refused (policy error, 4).
    code, verdict, _ = evaluate(repo, "--policy", "policies", "--policy-digest", digest)
    assert code == 4 and "differs from the pinned" in verdict["error"]["message"]
    # A ref whose policies differ from the pin is refused too.
    git(repo, "commit", "-q", "-am", "weakened")
    code, verdict, _ = evaluate(repo, "--policy", "policies", "--policy-ref", "main", "--policy-digest", digest)
    assert code == 4


def test_paths_are_relative_to_the_current_directory_inside_the_repository(repo: Path) -> None:
    weaken(repo)
    sub = repo / "ci"
    out = repo.parent / "verdict.json"
    res = run_gate(
        ["evaluate", "../bandit.json", "--policy", "../policies", "--policy-ref", "main", "--time", NOW, "--output", f"json={out}"], cwd=sub
    )
    verdict = json.loads(out.read_text())
    assert res.exit_code == 10
    assert {e["path"] for e in verdict["not_used"]} == {
        "../policies/config/gate.yaml",
        "../policies/governance.rego",
        "../policies/zz_allow.rego",
    }
    # An absolute policy path works the same.
    code, verdict, _ = evaluate(repo, "--policy", str(repo / "policies"), "--policy-ref", "main")
    assert code == 10 and len(verdict["not_used"]) == 3


def test_an_older_ref_and_a_commit_id_work(repo: Path) -> None:
    first = git(repo, "rev-parse", "HEAD")
    weaken(repo)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "weakened on main")
    code, verdict, _ = evaluate(repo, "--policy", "policies", "--policy-ref", first)
    assert code == 10 and verdict["policy"]["revision"] == first
    code, _, _ = evaluate(repo, "--policy", "policies", "--policy-ref", "main~1")
    assert code == 10
    code, _, _ = evaluate(repo, "--policy", "policies", "--policy-ref", "main")
    assert code == 0  # main itself now holds the weakened rule: the ref decides


@pytest.mark.parametrize(
    ("ref", "code", "needle"),
    [
        ("no-such-branch", 2, "no such commit"),
        ("--upload-pack=touch /tmp/pwned", 2, "is not a git ref"),
        ("main:policies", 2, "no such commit"),
    ],
)
def test_a_bad_ref_is_a_usage_error(repo: Path, ref: str, code: int, needle: str) -> None:
    got, verdict, _ = evaluate(repo, "--policy", "policies", "--policy-ref", ref)
    assert got == code and needle in verdict["error"]["message"]


def test_outside_a_git_repository_the_ref_cannot_be_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(POLICY, plain / "policies")
    shutil.copy(BANDIT, plain / "bandit.json")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # do not find a repository further up
    code, verdict, _ = evaluate(plain, "--policy", "policies", "--policy-ref", "main")
    assert code == 2 and "not inside a git repository" in verdict["error"]["message"]


def test_a_ref_without_the_policy_folder_is_a_policy_error(repo: Path) -> None:
    code, verdict, _ = evaluate(repo, "--policy", "rules", "--policy-ref", "main")
    assert code == 4 and "no policy folder at main:rules" in verdict["error"]["message"]


def test_a_broken_policy_at_the_ref_is_named_with_its_ref_path(repo: Path) -> None:
    rule = repo / "policies" / "governance.rego"
    rule.write_text(rule.read_text() + "\nallow := http.send({})\n")  # after the imports: a module that parses
    git(repo, "commit", "-q", "-am", "network call")
    code, verdict, _ = evaluate(repo, "--policy", "policies", "--policy-ref", "main")
    assert code == 4
    assert verdict["error"]["file"] == "main:policies/governance.rego"
    assert "http.send" in verdict["error"]["message"]


def test_a_symlink_in_the_trusted_policy_folder_is_refused(repo: Path) -> None:
    (repo / "policies" / "config" / "link.yaml").symlink_to("../../ci/overrides.yaml")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a symlink")
    code, verdict, _ = evaluate(repo, "--policy", "policies", "--policy-ref", "main")
    assert code == 4 and "symbolic link" in verdict["error"]["message"]


def test_data_files_outside_the_repository_are_read_from_disk(repo: Path, tmp_path: Path) -> None:
    outside = write(tmp_path / "org-data.yaml", "waivers:\n  warn_before_days: 0\n")
    code, verdict, _ = evaluate(repo, "--policy", "policies", "--policy-ref", "main", "--waivers", "waivers.yaml", "--data", str(outside))
    assert code == 10
    assert verdict["warnings"] == []  # the organisation's own data applies: no expiry warning
    assert changes(verdict) == []


def test_a_bundle_at_the_ref_is_read_from_the_ref(repo: Path) -> None:
    from gate.bundle import build_bundle

    build_bundle(load_policy(repo / "policies", include_tests=False), repo / "policy.tar.gz", revision="r1")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "bundle")
    (repo / "policy.tar.gz").write_bytes(b"not the trusted bundle")
    code, verdict, _ = evaluate(repo, "--policy", "policy.tar.gz", "--policy-ref", "main")
    assert code == 10 and len(verdict["violations"]) == 3
    assert verdict["policy"]["path"] == "main:policy.tar.gz"
    assert changes(verdict) == [{"path": "policy.tar.gz", "kind": "policy", "change": "modified"}]


def test_a_data_file_inside_the_repository_that_the_ref_lacks_is_refused(repo: Path) -> None:
    write(repo / "ci" / "relax.yaml", "waivers:\n  horizon_days: 3650\n")
    code, verdict, out = evaluate(repo, "--policy", "policies", "--policy-ref", "main", "--data", "ci/relax.yaml")
    assert code == 2
    assert verdict["error"]["file"] == "ci/relax.yaml" and "is not in main" in verdict["error"]["message"]
    assert "RUNNER_TEMP" in out and "RUNNER_TEMP" in verdict["error"]["message"]
