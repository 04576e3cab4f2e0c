"""The trusted ref is read from the real repository only, by name (issue 19).

Each test builds a REAL git repository (tests.test_policy_ref's fixture: the governance policy,
a waivers file and a data override committed on `main`, a bandit report whose two `shell=True`
calls the trusted rule blocks: exit 10), then attacks how the gate finds the trusted files:

- a `.git`-like folder committed in the subfolder the gate runs from (the action's
  `working-directory`), with alternates to the real objects and a `refs/replace/<base sha>`;
- `refs/replace/` in the real repository itself, and `GIT_*` variables in the job's environment;
- work-tree symbolic links that pointed the old `realpath` lookup at other trusted files.

Every test was first run against the gate before gate/sources.py (gate/trusted.py), where the
attack opened the gate (exit 0) or read the wrong file; each says so in its docstring.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from gate.sources import GIT_OPTIONS, GitRepo, find_repo_root, git_env
from tests.conftest import run_gate
from tests.governance_support import write
from tests.test_policy_ref import BANDIT, NOW, POLICY, SELF_APPROVAL, WAIVERS, changes, git, repo, weaken

__all__ = ["repo"]  # the fixture, imported for the tests below


def evaluate(cwd: Path, *args: str, env: dict[str, str] | None = None, report: str = "bandit.json") -> tuple[int, dict[str, Any]]:
    top = next(d for d in (cwd, *cwd.parents) if (d / ".git").is_dir())
    out = top.parent / "verdict.json"
    if out.exists():
        out.unlink()
    res = run_gate(["evaluate", report, "--time", NOW, "--output", f"json={out}", *args], cwd=cwd, env=env)
    verdict = json.loads(out.read_text())
    assert res.exit_code == verdict["exit_code"], (res.stdout, res.stderr)
    return res.exit_code, verdict


def permissive_commit(root: Path) -> str:
    """A commit with the weakened policies (and the self-approving waiver), on no branch."""
    git(root, "checkout", "-q", "-b", "evil")
    weaken(root)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "permissive")
    sha = git(root, "rev-parse", "HEAD")
    git(root, "checkout", "-q", "main")
    git(root, "branch", "-q", "-D", "evil")
    return sha


# --------------------------------------------------------------------------------------------
# A planted git directory


def plant_git_dir(folder: Path, base: str, permissive: str) -> None:
    """What a pull request commits in `folder`: a git directory layout (HEAD, config, objects,
    refs) whose alternates reach the real objects and whose `refs/replace/<base>` swaps the base
    commit for the permissive one. `core.worktree = .` makes the folder its own work tree, so
    git run from there (as the old code ran `ls-tree`) uses this layout and its replace ref."""
    write(folder / "HEAD", "ref: refs/heads/main\n")
    write(folder / "config", "[core]\n\trepositoryformatversion = 0\n\tbare = false\n\tworktree = .\n")
    write(folder / "objects" / "info" / "alternates", "../../.git/objects\n")
    (folder / "objects" / "pack").mkdir(parents=True, exist_ok=True)
    write(folder / "refs" / "heads" / "main", base + "\n")
    write(folder / "refs" / "replace" / base, permissive + "\n")


def subproject(repo: Path) -> str:
    """The trusted base holds the subproject `app/` with its own policies; returns the base sha."""
    shutil.copytree(repo / "policies", repo / "app" / "policies")
    shutil.copy(BANDIT, repo / "app" / "bandit.json")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "subproject")
    return git(repo, "rev-parse", "HEAD")


def test_a_planted_git_directory_in_the_working_directory_is_not_used(repo: Path) -> None:
    """Attack (issue 19): run from the subproject `app/` (the action's working-directory), which
    holds a committed `.git`-like layout. git discovered it from the working directory; through
    its alternates and `refs/replace/<base>` the gate read the permissive commit's `policies`
    while the verdict named the real base commit: exit 0. Now git's directory is the workspace
    root's `.git`, passed explicitly, and `policies` is `app/policies` of the real base: exit 10."""
    base = subproject(repo)
    plant_git_dir(repo / "app", base, permissive_commit(repo))
    code, verdict = evaluate(repo / "app", "--policy", "policies", "--policy-ref", base)
    assert code == 10, verdict["error"]
    assert verdict["policy"]["revision"] == base and verdict["policy"]["path"] == f"{base}:app/policies"


def test_the_workspace_root_wins_over_discovery(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The root comes from --repo-root / GATE_REPO_ROOT, then GITHUB_WORKSPACE; without them, the
    OUTERMOST `.git` above the current folder (a planted one is always inside the real tree)."""
    base = subproject(repo)
    plant_git_dir(repo / "app", base, permissive_commit(repo))
    (repo / "app" / "inner").mkdir()
    write(repo / "app" / "inner" / ".git", "gitdir: ..\n")  # a `.git` file pointing at the planted layout
    for name in ("GATE_REPO_ROOT", "GITHUB_WORKSPACE", "CI_PROJECT_DIR"):
        monkeypatch.delenv(name, raising=False)
    assert find_repo_root(cwd=str(repo / "app" / "inner")) == repo.resolve()
    monkeypatch.setenv("GITHUB_WORKSPACE", str(repo))
    assert find_repo_root(cwd="/") == repo.resolve()
    monkeypatch.setenv("GATE_REPO_ROOT", str(repo / "app" / "inner"))
    assert find_repo_root() == (repo / "app" / "inner").resolve()  # named explicitly: the operator's choice
    code, verdict = evaluate(repo, "--policy", "policies", "--policy-ref", "main", "--repo-root", str(repo / "app"))
    assert code == 2 and "holds no .git" in verdict["error"]["message"]


def test_replace_refs_in_the_real_repository_are_ignored(repo: Path) -> None:
    """Attack: `refs/replace/<base>` in the real repository (a fetched ref, or one a job step
    made), even with `core.useReplaceRefs = true` in its config: git replaced the base commit's
    tree with the permissive one (exit 0). Now replace objects are off: exit 10."""
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "replace", base, permissive_commit(repo))
    git(repo, "config", "core.useReplaceRefs", "true")
    assert "zz_allow.rego" in git(repo, "ls-tree", "-r", "--name-only", base)  # git itself now sees the swap
    code, verdict = evaluate(repo, "--policy", "policies", "--policy-ref", base)
    assert code == 10 and verdict["policy"]["revision"] == base
    assert [e["path"] for e in verdict["not_used"]] == []


def test_git_variables_of_the_job_are_not_inherited(repo: Path) -> None:
    """Attack: GIT_DIR / GIT_OBJECT_DIRECTORY / GIT_ALTERNATE_OBJECT_DIRECTORIES set in the job
    (a step can append them to $GITHUB_ENV) pointed git at the planted layout: exit 0. Now git
    runs with an environment of its own."""
    base = git(repo, "rev-parse", "HEAD")
    plant_git_dir(repo / "app", base, permissive_commit(repo))
    env = {
        "GIT_DIR": str(repo / "app"),
        "GIT_OBJECT_DIRECTORY": str(repo / "app" / "objects"),
        "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(repo / ".git" / "objects"),
        "GIT_REPLACE_REF_BASE": "refs/replace/",
    }
    code, _ = evaluate(repo, "--policy", "policies", "--policy-ref", base, env=env)
    assert code == 10
    assert not {k for k in git_env(Path("/x")) if k in env and k != "GIT_DIR"}
    assert "--no-replace-objects" in GIT_OPTIONS and "safe.bareRepository=explicit" in GIT_OPTIONS


def test_a_bare_repository_is_never_discovered(repo: Path) -> None:
    """The git folder is always explicit: GitRepo.find() from a planted bare layout's folder
    still resolves to the real `.git`."""
    base = git(repo, "rev-parse", "HEAD")
    plant_git_dir(repo / "app", base, permissive_commit(repo))
    old = os.getcwd()
    try:
        os.chdir(repo / "app")
        found = GitRepo.find()
    finally:
        os.chdir(old)
    assert found.git_dir == repo.resolve() / ".git"


# --------------------------------------------------------------------------------------------
# Work-tree symbolic links choose the trusted file


@pytest.fixture
def sandboxed(repo: Path) -> Path:
    """The base commit also holds a sandbox copy of the policies (weakened) and a waivers file
    that approves B602: legitimate files for another purpose, and the targets of the attack."""
    shutil.copytree(repo / "policies", repo / "sandbox" / "policies")
    rule = repo / "sandbox" / "policies" / "governance.rego"
    rule.write_text(rule.read_text().replace('f.severity in {"high", "critical"}', 'f.severity == "critical"'))
    write(repo / "sandbox" / "waivers.yaml", WAIVERS + SELF_APPROVAL)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "sandbox")
    return repo


def test_a_symlinked_policy_folder_does_not_choose_the_trusted_policies(sandboxed: Path) -> None:
    """Attack (issue 19): `policies` replaced by a symlink to `sandbox/policies`. The old lookup
    followed it (realpath) and read `sandbox/policies` from the base commit: exit 0, not_used
    empty. Now `policies` is looked up at the ref by name: exit 10, and the link is listed."""
    shutil.rmtree(sandboxed / "policies")
    (sandboxed / "policies").symlink_to("sandbox/policies")
    code, verdict = evaluate(sandboxed, "--policy", "policies", "--policy-ref", "main")
    assert code == 10 and verdict["policy"]["path"] == "main:policies"
    [entry] = verdict["not_used"]
    assert (entry["path"], entry["kind"], entry["change"]) == ("policies", "policy", "symlink")
    assert "policies -> sandbox/policies" in entry["reason"] and "main:policies" in entry["reason"]


def test_a_symlinked_waivers_file_does_not_choose_the_trusted_waivers(sandboxed: Path) -> None:
    """Attack (issue 19): `waivers.yaml` -> `sandbox/waivers.yaml` (which waives B602): exit 0
    before. Now the ref's `waivers.yaml` is read by name: exit 10, the link listed as not used."""
    (sandboxed / "waivers.yaml").unlink()
    (sandboxed / "waivers.yaml").symlink_to("sandbox/waivers.yaml")
    code, verdict = evaluate(sandboxed, "--policy", "policies", "--policy-ref", "main", "--waivers", "waivers.yaml")
    assert code == 10
    assert {w["waiver"] for w in verdict["waived"]} == {"W-MD5"}
    assert changes(verdict) == [{"path": "waivers.yaml", "kind": "waivers", "change": "symlink"}]


def test_a_symlinked_parent_folder_does_not_choose_the_trusted_file(sandboxed: Path) -> None:
    """Variant: the link is a folder on the way. `--waivers conf/waivers.yaml` with `conf`
    committed as a real folder; the change makes `conf` a link to `sandbox`. By name, the ref's
    `conf/waivers.yaml` is read."""
    write(sandboxed / "conf" / "waivers.yaml", WAIVERS)
    git(sandboxed, "add", "-A")
    git(sandboxed, "commit", "-q", "-m", "conf")
    shutil.rmtree(sandboxed / "conf")
    (sandboxed / "conf").symlink_to("sandbox")
    code, verdict = evaluate(sandboxed, "--policy", "policies", "--policy-ref", "main", "--waivers", "conf/waivers.yaml")
    assert code == 10
    [entry] = verdict["not_used"]
    assert entry["change"] == "symlink" and "conf -> sandbox" in entry["reason"]


def test_a_symlinked_data_folder_in_the_work_tree_is_listed_as_a_link(sandboxed: Path) -> None:
    """Variant: `policies/config` made a link to the sandbox's data in the work tree: the ref's data
    files are read by name; each is listed with the link that tried to replace it."""
    write(sandboxed / "sandbox" / "policies" / "config" / "gate.yaml", "waivers:\n  warn_before_days: 0\n")
    shutil.rmtree(sandboxed / "policies" / "config")
    (sandboxed / "policies" / "config").symlink_to("../sandbox/policies/config")
    code, verdict = evaluate(sandboxed, "--policy", "policies", "--policy-ref", "main", "--waivers", "waivers.yaml")
    assert code == 10 and [w["rule"] for w in verdict["warnings"]] == ["GOV-WAIVER-EXPIRING"]  # trusted warn_before_days: 14
    assert {(e["path"], e["change"]) for e in verdict["not_used"]} == {
        ("policies/config/gate.yaml", "symlink"),
        ("policies/config/stages.yaml", "symlink"),
    }
    assert all("policies/config -> ../sandbox/policies/config" in e["reason"] for e in verdict["not_used"])


def test_a_symlink_at_the_ref_on_a_trusted_path_is_refused(sandboxed: Path) -> None:
    """Variant: the trusted branch itself holds `policies/config` as a link (to the sandbox's
    data) or `waivers.yaml` as a link: a trusted path never goes through a link, it is refused
    (policies: exit 4; other files: exit 2), naming the link in git's notation."""
    shutil.rmtree(sandboxed / "policies" / "config")
    (sandboxed / "policies" / "config").symlink_to("../sandbox/policies/config")
    git(sandboxed, "add", "-A")
    git(sandboxed, "commit", "-q", "-m", "data as a link")
    code, verdict = evaluate(sandboxed, "--policy", "policies", "--policy-ref", "main")
    assert code == 4 and "main:policies/config" in verdict["error"]["message"] and "symbolic link" in verdict["error"]["message"]
    (sandboxed / "waivers.yaml").unlink()
    (sandboxed / "waivers.yaml").symlink_to("sandbox/waivers.yaml")
    (sandboxed / "conf").symlink_to("sandbox")
    git(sandboxed, "add", "-A")
    git(sandboxed, "commit", "-q", "-m", "links")
    for waivers in ("waivers.yaml", "conf/waivers.yaml"):
        code, verdict = evaluate(sandboxed, "--policy", "sandbox/policies", "--policy-ref", "main", "--waivers", waivers)
        assert code == 2 and "is a symbolic link at the trusted ref" in verdict["error"]["message"], waivers


def test_a_path_outside_the_repository_that_links_into_it_is_refused(sandboxed: Path, tmp_path: Path) -> None:
    """Variant: `--waivers /outside/w.yaml` where the pull request made that a link into the
    work tree (outside files are the CI's own, read from disk): refused, exit 2."""
    link = tmp_path / "outside-waivers.yaml"
    link.symlink_to(sandboxed / "sandbox" / "waivers.yaml")
    code, verdict = evaluate(sandboxed, "--policy", "policies", "--policy-ref", "main", "--waivers", str(link))
    assert code == 2 and "symbolic link into it" in verdict["error"]["message"]


def test_an_absolute_path_through_a_link_outside_the_repository_works(repo: Path, tmp_path: Path) -> None:
    """Links OUTSIDE the repository are the runner's (a macOS `/tmp` -> `/private/tmp`, a
    workspace mounted through a link): the path is matched to the root at the first folder on its
    way whose real path is the root; below the root nothing is followed."""
    weaken(repo)
    (tmp_path / "ws").symlink_to(repo)
    code, verdict = evaluate(repo / "ci", "--policy", str(tmp_path / "ws" / "policies"), "--policy-ref", "main", report="../bandit.json")
    assert code == 10 and len(verdict["not_used"]) == 3 and verdict["policy"]["path"] == "main:policies"
    assert POLICY.is_dir()
