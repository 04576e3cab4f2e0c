"""The sample repository and the local run of the composite action, shared by the Action's tests
(`test_action.py`, `test_comment_truncation.py`).

The sample repository is a git repository made by the test: a base commit with `policies/` and a
waivers file, and a head commit (the "pull request") that weakens every rule to a warning, adds a
waiver, and brings hostile reports. `run_local` runs action.yml with tests/composite_runner.py on
this test run's interpreter (`install: false`), without the weekly database refresh (it would
only try the network; the tests of the refresh ask for it), at the fixed time `TIME`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.composite_runner import ActionRun, run_action
from tests.conftest import DATA, REPO

OUT = DATA / "outputs"
TIME = "2026-11-26T12:00:00Z"


def git(repo: Path, *args: str) -> str:
    """Run git in `repo` with a fixed identity; its standard output, stripped."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout.strip()  # noqa: S603, S607


def commit(repo: Path, message: str) -> str:
    """Commit everything in the work tree; the new head."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def init_repo(tmp_path: Path) -> Path:
    """A new repository `tmp_path/repo` on branch main, holding only an uncommitted README."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("sample\n")
    return repo


def sample_repo(tmp_path: Path, *, base_policies: bool = True) -> tuple[Path, str, str]:
    """A repository whose head commit weakens the base commit's policies and waivers; (path, base, head)."""
    repo = init_repo(tmp_path)
    if base_policies:
        shutil.copytree(OUT / "policy", repo / "policies")
        (repo / "waivers.yaml").write_text((OUT / "waivers.yaml").read_text())
    base = commit(repo, "base")
    # The change: every deny becomes a warning, a waiver for everything it can name, hostile reports.
    if not base_policies:
        shutil.copytree(OUT / "policy", repo / "policies")
    rego = repo / "policies" / "outputs.rego"
    rego.write_text(rego.read_text().replace("deny contains", "warn contains"))
    (repo / "waivers.yaml").write_text(
        (OUT / "waivers.yaml").read_text()
        + "  - id: W-SELF-APPROVED\n    rule: R1\n    reason: the change approves itself\n"
        + "    approved_by: the author\n    expires: 2026-12-30\n"
    )
    (repo / "reports").mkdir()
    for name in ("hostile.sarif", "hostile.cdx.json"):
        shutil.copy(OUT / name, repo / "reports" / name)
    shutil.copy(DATA / "core" / "clean.sarif", repo / "reports" / "clean.sarif")
    return repo, base, commit(repo, "head: weaken the rules")


def pull_request(base: str, head: str) -> dict[str, Any]:
    """The `github` context of a pull_request event."""
    return {
        "event_name": "pull_request",
        "repository": "octo/sample",
        "sha": head,
        "ref": "refs/pull/7/merge",
        "server_url": "https://github.com",
        "event": {"pull_request": {"number": 7, "base": {"sha": base}, "head": {"sha": head}}},
    }


def run_local(tmp_path: Path, repo: Path, github: dict[str, Any], *, extra_env: Mapping[str, str] | None = None, **with_: str) -> ActionRun:
    """action.yml run on `repo` with this interpreter (`install: false`), no database refresh,
    RUNNER_TEMP `tmp_path/runner-temp`, GATE_TIME `TIME`; `with_` adds or replaces inputs."""
    temp = tmp_path / "runner-temp"
    temp.mkdir(exist_ok=True)
    inputs = {"install": "false", "python": sys.executable, "vuln-db-update": "never", **with_}
    return run_action(
        REPO, with_=inputs, github=github, workspace=repo, runner_temp=temp, extra_env={"GATE_TIME": TIME, **(extra_env or {})}
    )
