"""The composite action (action.yml) run step by step as the GitHub runner would, on a sample repository.

The sample repository is a git repository made by the test: a base commit with `policies/` and
a waivers file, and a head commit (the "pull request") that weakens every rule to a warning,
adds a waiver, and brings hostile reports. The action runs with the inputs and the `github`
context of a `pull_request` event (tests/composite_runner.py: environment files, inputs only
through the steps' `env:`), and the test checks its outputs, the step summary, what it printed
to the log (only the gate's own workflow commands), and that the base commit's policies judged
the change: the gate closes although the change's own policies would let it pass.

The action's `install` input chooses between installing the gate into a fresh virtual
environment from the hash locks (the default, which needs the package index) and using an
interpreter that already has it (`install: false`, `python: ...`): most tests use the latter
with this test run's interpreter; the real install runs when GATE_ACTION_INSTALL_TEST=1.

Issue 19's attacks on the action itself are here too, each first written as an attack that
passed the gate: a work tree full of shadow modules (the change's own `gate/cli` answered
`decision=pass`), `push` and `merge_group` payloads (judged by the change's own policies, as
`policy-ref` defaulted to the pull request's base, empty there), a symlinked working directory.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import yaml

from tests.action_support import TIME, commit, git, init_repo, pull_request, run_local, sample_repo
from tests.composite_runner import ActionRun, run_action
from tests.conftest import DATA, REPO, SHARED, require_shared, run_gate
from tests.workflow_commands import commands

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def run(tmp_path: Path, repo: Path, github: dict[str, Any], *, extra_env: dict[str, str] | None = None, **with_: str) -> ActionRun:
    """The action run locally (`run_local`) with the change's waivers file, as most tests want it."""
    return run_local(tmp_path, repo, github, extra_env=extra_env, **{"waivers": "waivers.yaml", **with_})


def check_log(run_: ActionRun) -> list[str]:
    """The log holds no command but the gate's annotations and its own stop-commands pauses; the annotations."""
    found = commands(run_.log)
    tokens = {c.data for c in found if c.name == "stop-commands"}
    assert all(re.fullmatch(r"[0-9a-f]{32}", t) for t in tokens)
    resumes = [c for c in found if c.name in tokens]
    assert len(resumes) == len(tokens) and all(c.data == "" for c in resumes)
    others = [c for c in found if c.name not in tokens and c.name != "stop-commands"]
    assert all(c.name in ("error", "warning", "notice") and not c.legacy for c in others), [c.line for c in others]
    return [c.line for c in others]


@pytest.mark.slow
def test_the_base_commits_policies_judge_the_pull_request(tmp_path: Path) -> None:
    repo, base, head = sample_repo(tmp_path)
    result = run(
        tmp_path, repo, pull_request(base, head), reports="reports/hostile.sarif\nreports/hostile.cdx.json", formats="sarif, junit vsa"
    )
    assert [s.exit_code for s in result.steps] == [0, 0, 0, 10], [s.stderr[-2000:] for s in result.steps]
    out = result.outputs
    assert out["decision"] == "fail" and out["exit-code"] == "10"
    out_dir = tmp_path / "runner-temp" / "policy-gate"
    assert out["output-dir"] == str(out_dir)
    assert out["verdict"] == str(out_dir / "verdict.json") and out["sarif"] == str(out_dir / "policy-gate.sarif")
    assert {p.name for p in out_dir.iterdir()} >= {
        "verdict.json",
        "policy-gate.sarif",
        "junit.xml",
        "vsa.intoto.json",
        "summary.md",
        "console.txt",
    }

    verdict = json.loads(Path(out["verdict"]).read_text())
    assert verdict["policy"]["revision"] == base and verdict["policy"]["source"] == "git"
    assert {(e["path"], e["change"]) for e in verdict["not_used"]} == {("policies/outputs.rego", "modified"), ("waivers.yaml", "modified")}
    assert {e["rule"] for e in verdict["violations"]} == {"OUT-001", "OUT-003", "OUT-004"}
    assert [w["waiver"] for w in verdict["waived"]] == ["W-OUT-1"], "the change's own waiver was not used"
    assert (
        verdict["context"]["pull_request"] == 7
        and verdict["context"]["commit"] == head
        and verdict["context"]["repository"] == "octo/sample"
    )

    # The step summary is the Markdown summary, within a pull-request comment's size, and says what was not used.
    summary = Path(out["summary"]).read_text()
    assert result.summary == summary and len(summary.encode()) <= 60_000
    assert summary.startswith("## ❌ Policy gate: closed")
    assert "not used" in summary and "`policies/outputs.rego`" in summary and f"`{base}`" in summary

    # The SARIF is valid; the VSA names the commit.
    require_shared()
    schema = json.loads((SHARED / "schemas" / "sarif-schema-2.1.0.json").read_text())
    jsonschema_rs.validator_for(schema).validate(json.loads(Path(out["sarif"]).read_text()))
    vsa = json.loads((out_dir / "vsa.intoto.json").read_text())
    assert {"name": f"git+https://github.com/octo/sample@{head}", "digest": {"gitCommit": head}} in vsa["subject"]

    # The log: the gate's annotations (escaped hostile text) and nothing else that the runner obeys.
    annotations = check_log(result)
    assert annotations == [ln for ln in (out_dir / "annotations.txt").read_text().splitlines()]
    assert any("::add-mask::" in c.data for c in commands("\n".join(annotations)))
    assert "OUT-001" in result.steps[2].stdout and "NOT used" in result.steps[2].stdout  # the console table, as text
    assert "policy gate: fail (exit code 10)" in result.steps[3].stdout


@pytest.mark.slow
def test_without_the_trusted_ref_the_change_would_approve_itself(tmp_path: Path) -> None:
    # The control experiment: the same change judged by its own policies and waivers passes. Only
    # an event without a trusted ref and the explicit allow-work-tree-policy input get there, and
    # the summary and the comment say so first.
    repo, base, head = sample_repo(tmp_path)
    github = {**pull_request(base, head), "event_name": "release", "event": {}}
    result = run(tmp_path, repo, github, reports="reports/hostile.sarif\nreports/hostile.cdx.json", **{"allow-work-tree-policy": "true"})
    assert [s.exit_code for s in result.steps] == [0, 0, 0, 0]
    assert result.outputs["decision"] == "pass" and result.outputs["exit-code"] == "0" and result.outputs["policy-ref"] == ""
    caution = "> [!CAUTION]\n> **No trusted ref** for this `release` event"
    assert result.summary.startswith(caution) and "## ✅ Policy gate: open" in result.summary
    assert Path(result.outputs["comment"]).read_text().startswith(caution)
    assert "::warning title=policy-gate::no trusted ref for this release event" in result.steps[0].stdout
    check_log(result)


@pytest.mark.slow
def test_a_clean_change_passes_and_outputs_are_fixed_values(tmp_path: Path) -> None:
    repo, base, head = sample_repo(tmp_path)
    result = run(tmp_path, repo, pull_request(base, head), reports="  reports/clean.sarif  \n\n", formats="")
    assert [s.exit_code for s in result.steps] == [0, 0, 0, 0]
    assert result.outputs["decision"] == "pass" and result.outputs["sarif"] == ""
    written = result.steps[2].outputs
    assert set(written) == {"decision", "exit-code", "verdict", "sarif", "summary", "comment", "output-dir"}
    temp = str(tmp_path / "runner-temp" / "policy-gate")
    assert written["decision"] in ("pass", "fail", "error") and written["exit-code"].isdigit()
    paths = ("verdict", "sarif", "summary", "comment", "output-dir")
    assert all(written[k] in ("", temp) or written[k].startswith(temp + "/") for k in paths)
    assert not (tmp_path / "runner-temp" / "policy-gate" / "policy-gate.sarif").exists()
    assert result.env_file == {}, "the action leaves the job's environment alone"


@pytest.mark.slow
def test_a_base_commit_missing_from_the_checkout_fails_closed(tmp_path: Path) -> None:
    repo, base, head = sample_repo(tmp_path)
    result = run(tmp_path, repo, pull_request("f" * 40, head), reports="reports/hostile.sarif")
    assert [s.exit_code for s in result.steps] == [0, 0, 0, 2]
    assert result.outputs["decision"] == "error"
    (annotation,) = [c for c in commands(result.log) if c.name == "error"]
    assert "no such commit" in annotation.data


@pytest.mark.slow
def test_no_reports_is_an_input_error_that_fails_the_step(tmp_path: Path) -> None:
    repo, base, head = sample_repo(tmp_path)
    result = run(tmp_path, repo, pull_request(base, head), reports="reports/none-*.sarif")
    assert [s.exit_code for s in result.steps] == [0, 0, 0, 3]
    assert result.outputs["decision"] == "error" and result.outputs["exit-code"] == "3"
    assert "Policy gate: error" in result.summary
    lines = check_log(result)
    assert len(lines) == 1 and lines[0].startswith("::error ")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"formats": "sarif bogus"}, "formats: choose from"),
        ({"summary-max-bytes": "2000000"}, "summary-max-bytes must be at most 1048576"),
        ({"summary-max-bytes": "99999999999999999999"}, "summary-max-bytes must be at most 1048576"),
        ({"summary-max-bytes": "60k"}, "summary-max-bytes must be a number"),
    ],
)
def test_a_bad_input_stops_with_a_message(tmp_path: Path, inputs: dict[str, str], message: str) -> None:
    repo, base, head = sample_repo(tmp_path)
    result = run(tmp_path, repo, pull_request(base, head), reports="reports/clean.sarif", **inputs)
    assert [s.exit_code for s in result.steps] == [0, 0, 2]
    assert f"::error title=policy-gate::{message}" in result.steps[2].stdout
    assert result.outputs["decision"] == ""


@pytest.mark.slow
def test_a_base_without_policies_is_judged_by_the_shipped_pack_not_by_the_change(tmp_path: Path) -> None:
    repo, base, head = sample_repo(tmp_path, base_policies=False)
    result = run(tmp_path, repo, pull_request(base, head), reports="reports/clean.sarif", waivers="")
    verdict = json.loads(Path(result.outputs["verdict"]).read_text())
    from gate.policy import default_policy_dir

    assert verdict["policy"]["path"] == str(default_policy_dir()), "the policies/ folder the change adds is not used"
    assert result.outputs["decision"] in ("pass", "fail")


@pytest.mark.slow
def test_a_base_without_policies_but_with_waivers_never_uses_the_changes_policies(tmp_path: Path) -> None:
    # Waivers must come from the base commit, so the ref stays; the shipped pack lies outside the
    # repository. Today the gate refuses that (exit 2); either way the change's policies/ is not used.
    repo, base, head = sample_repo(tmp_path, base_policies=False)
    result = run(tmp_path, repo, pull_request(base, head), reports="reports/hostile.sarif")
    verdict = json.loads(Path(result.outputs["verdict"]).read_text())
    if result.outputs["decision"] == "error":
        assert result.outputs["exit-code"] == "2" and "outside the git repository" in verdict["error"]["message"]
    else:
        from gate.policy import default_policy_dir

        assert verdict["policy"]["path"] == str(default_policy_dir())
        assert verdict["waived"] == [], "the change's waivers file is not the base's"


@pytest.mark.slow
def test_scan_true_runs_the_scanners(tmp_path: Path) -> None:
    pytest.importorskip("bandit")
    repo, base, head = sample_repo(tmp_path)
    (repo / "app.py").write_text("import subprocess\n\ndef f(cmd):\n    return subprocess.call(cmd, shell=True)\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "app")
    result = run(tmp_path, repo, pull_request(base, git(repo, "rev-parse", "HEAD")), scan="true", scanners="bandit")
    verdict = json.loads(Path(result.outputs["verdict"]).read_text())
    assert [i["tool"] for i in verdict["inputs"]] == ["bandit"]
    assert (tmp_path / "runner-temp" / "policy-gate" / "reports").is_dir()
    assert result.outputs["decision"] == "fail"  # B602 is high: OUT-001 of the base commit
    check_log(result)


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("GATE_ACTION_INSTALL_TEST") != "1", reason="installs the gate from the package index; set GATE_ACTION_INSTALL_TEST=1"
)
def test_a_clean_runner_installs_from_the_lock_with_hashes_and_runs_the_example(tmp_path: Path) -> None:
    """Issue 16's "reproducible Action" and issue 19's shadow modules, with the real install step.

    A clean runner: the base interpreter (no venv, no gate), an empty RUNNER_TEMP (so an empty
    pip cache: the stand-in's actions/cache is a miss), and a work tree full of shadow modules,
    among them `venv/__main__.py` and `pip/__main__.py`, which the old install step (`python -m
    venv` in the checkout) ran instead of the real ones. The example's reports close the gate.
    """
    repo = init_repo(tmp_path)
    base = commit(repo, "base")
    shutil.copytree(REPO / "examples" / "reports", repo / "reports")
    head = plant_shadows(repo)
    temp = tmp_path / "runner-temp"
    temp.mkdir()
    python = Path(sys.base_prefix) / "bin" / "python3"
    result = run_action(
        REPO,
        with_={
            "reports": "reports/bandit.json\nreports/semgrep.sarif\nreports/sbom.cdx.json",
            "stage": "prod",
            "python": str(python),
            "vuln-db-update": "never",
        },
        github=pull_request(base, head),
        workspace=repo,
        runner_temp=temp,
        extra_env={
            # The runner's network settings (a proxy's CA here) stay; what would change the install goes.
            **{k: v for k, v in os.environ.items() if k in ("PIP_CERT", "PIP_INDEX_URL", "PIP_PROXY", "PIP_DEFAULT_TIMEOUT")},
            "GATE_TIME": TIME,
            "PIP_TARGET": str(repo / "elsewhere"),
            "PIP_CONSTRAINT": str(repo / "none.txt"),
            "PYTHONPATH": str(repo),
        },
        timeout=1200,
    )
    assert "shadow" not in result.log, result.log[-3000:]
    install = next(s for s in result.steps if s.name == "Install policy-gate")
    assert install.exit_code == 0, install.stderr[-3000:]
    # The cache step asked for pip's download folder, keyed on the runner, the Python version and the lock.
    lock = REPO / "requirements" / "action.lock"
    import hashlib

    (cache,) = [c for c in result.caches if c["path"] == str(temp / "policy-gate-pip-cache")]
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert cache["key"] == f"policy-gate-pip-Linux-X64-py{version}-{hashlib.sha256(lock.read_bytes()).hexdigest()}"
    # The venv holds exactly the lock's versions.
    venv = temp / "policy-gate-venv"
    listed = subprocess.run(  # noqa: S603
        [str(venv / "bin" / "python"), "-I", "-m", "pip", "list", "--format", "json"], capture_output=True, text=True, check=True
    ).stdout
    from tests.test_action_lock import locked_versions

    pinned = locked_versions(lock, python_version=version)
    installed = {d["name"]: d["version"] for d in json.loads(listed)}
    assert installed.pop("policy-gate")
    for seed in ("pip", "setuptools"):  # what `python -m venv` itself puts in (setuptools before 3.12)
        installed.pop(seed, None)
    assert {canonical(k): v for k, v in installed.items()} == pinned
    assert result.outputs["decision"] == "fail" and result.outputs["exit-code"] == "10"


def canonical(name: str) -> str:
    """A distribution name as PEP 503 normalises it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_action_declares_what_the_runner_maps() -> None:
    meta = yaml.safe_load((REPO / "action.yml").read_text())
    assert meta["runs"]["using"] == "composite"
    # The trusted ref is chosen per event by the action (never a silent empty default).
    assert meta["inputs"]["policy-ref"]["default"] == "" and meta["inputs"]["allow-work-tree-policy"]["default"] == "false"
    assert set(meta["outputs"]) == {"decision", "exit-code", "verdict", "sarif", "summary", "comment", "policy-ref", "output-dir"}
    for step in meta["runs"]["steps"]:
        if "uses" in step:
            continue
        # Every input a step uses reaches it through `env:`.
        assert "${{" not in step["run"]
        for value in (step.get("env") or {}).values():
            assert re.fullmatch(r"\$\{\{ [\w.-]+ \}\}", str(value)), value


def test_every_python_command_is_the_gates_own_interpreter_in_isolated_mode() -> None:
    # Static companion of the shadow-module attack below: each step leaves the checkout for
    # $RUNNER_TEMP first, and every python invocation is `"<absolute interpreter>" -I`.
    meta = yaml.safe_load((REPO / "action.yml").read_text())
    for step in meta["runs"]["steps"]:
        if "run" not in step or step["name"] == "Conclude":
            continue
        body = step["run"]
        assert 'cd "$RUNNER_TEMP"' in body.splitlines()[1], step["name"]
        assert "working-directory" not in step, step["name"]
        calls = re.findall(r'(?<![=\w])"\$(?:PG_PYTHON|py|venv/bin/python)"[ \t]+(\S+)', body)
        assert calls and all(c == "-I" for c in calls), (step["name"], calls)
        assert not re.search(r"(^\s*|[;&|(]\s*)(python3?|pip3?)\s", body, re.M), step["name"]  # no interpreter from PATH


# --------------------------------------------------------------------------------------------
# The pull request cannot replace the gate (issue 19): shadow modules in the work tree.

SHADOWS = {
    # The attack that worked: `python -c 'from gate.cli import main'` ran in the checkout, so the
    # change's own gate/cli answered: decision=pass, exit-code=0 for a change that must close.
    "gate/__init__.py": "",
    "gate/cli/__init__.py": ("import sys\ndef main():\n    print('shadow gate ran')\n    sys.exit(0)\n"),
    "gate/output/__init__.py": "raise SystemExit(0)\n",
    # Shadows of the tools the install step runs with `-m`, and of the modules every Python start imports.
    "venv/__main__.py": "import sys; print('shadow venv ran'); sys.exit(0)\n",
    "venv/__init__.py": "",
    "pip/__main__.py": "import sys; print('shadow pip ran'); sys.exit(0)\n",
    "pip/__init__.py": "",
    "ensurepip/__main__.py": "import sys; print('shadow ensurepip ran'); sys.exit(0)\n",
    "click.py": "raise SystemExit(0)\n",
    "yaml.py": "raise SystemExit(0)\n",
    "json.py": "raise SystemExit(0)\n",
    "sitecustomize.py": "import os, sys; print('shadow sitecustomize ran'); os._exit(0)\n",
    "usercustomize.py": "import os, sys; print('shadow usercustomize ran'); os._exit(0)\n",
    "encodings/__init__.py": "raise SystemExit(0)\n",
}


def plant_shadows(repo: Path) -> str:
    """Commit the shadow modules in the change; the new head."""
    for rel, text in SHADOWS.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return commit(repo, "head: shadow the gate")


@pytest.mark.slow
def test_shadow_modules_in_the_work_tree_do_not_replace_the_gate(tmp_path: Path) -> None:
    repo, base, _ = sample_repo(tmp_path)
    head = plant_shadows(repo)
    # The job's environment points Python at the checkout too, as a careless earlier step might.
    result = run(
        tmp_path,
        repo,
        pull_request(base, head),
        reports="reports/hostile.sarif",
        extra_env={"PYTHONPATH": str(repo), "PYTHONSTARTUP": str(repo / "sitecustomize.py"), "PYTHONUSERBASE": str(repo)},
    )
    assert "shadow" not in result.log, result.log[-2000:]
    assert [s.exit_code for s in result.steps] == [0, 0, 0, 10], [s.stderr[-2000:] for s in result.steps]
    assert result.outputs["decision"] == "fail" and result.outputs["exit-code"] == "10"
    verdict = json.loads(Path(result.outputs["verdict"]).read_text())
    assert verdict["policy"]["revision"] == base


# --------------------------------------------------------------------------------------------
# A trusted ref for every event (issue 19): outside pull requests the change's own policies
# and waivers do not decide. The attack that worked: on `push` and `merge_group` the
# `policy-ref` default (the pull request's base) was empty, so the work tree decided: pass.

HOSTILE = "reports/hostile.sarif\nreports/hostile.cdx.json"


@pytest.mark.slow
def test_a_merge_group_is_judged_by_its_base_commit(tmp_path: Path) -> None:
    repo, base, head = sample_repo(tmp_path)
    github = {
        "event_name": "merge_group",
        "repository": "octo/sample",
        "sha": head,
        "ref": "refs/heads/gh-readonly-queue/main/pr-7-" + base,
        "event": {"merge_group": {"base_sha": base, "head_sha": head, "base_ref": "refs/heads/main"}},
    }
    result = run(tmp_path, repo, github, reports=HOSTILE)
    assert result.outputs["policy-ref"] == base
    assert result.outputs["decision"] == "fail" and result.outputs["exit-code"] == "10"
    verdict = json.loads(Path(result.outputs["verdict"]).read_text())
    assert verdict["policy"]["revision"] == base and [w["waiver"] for w in verdict["waived"]] == ["W-OUT-1"]


def push(base: str, head: str, *, ref: str = "refs/heads/main", before: str | None = None) -> dict[str, Any]:
    """The `github` context of a push event to `ref` of a repository whose default branch is main."""
    return {
        "event_name": "push",
        "repository": "octo/sample",
        "sha": head,
        "ref": ref,
        "event": {"before": base if before is None else before, "after": head, "repository": {"default_branch": "main"}},
    }


@pytest.mark.slow
def test_a_push_to_the_default_branch_is_judged_by_the_commit_it_replaced(tmp_path: Path) -> None:
    repo, base, head = sample_repo(tmp_path)
    result = run(tmp_path, repo, push(base, head), reports=HOSTILE)
    assert result.outputs["policy-ref"] == base
    assert result.outputs["decision"] == "fail" and result.outputs["exit-code"] == "10"


@pytest.mark.slow
def test_a_push_to_another_branch_is_judged_by_the_default_branchs_head(tmp_path: Path) -> None:
    # `before` of a feature branch is the pusher's own earlier commit: not trusted. The default
    # branch's head is (refs/remotes/origin/main, as actions/checkout with fetch-depth: 0 leaves it).
    repo, base, head = sample_repo(tmp_path)
    git(repo, "update-ref", "refs/remotes/origin/main", base)
    result = run(tmp_path, repo, push(head, head, ref="refs/heads/feature"), reports=HOSTILE)
    assert result.outputs["policy-ref"] == "refs/remotes/origin/main"
    assert result.outputs["decision"] == "fail" and result.outputs["exit-code"] == "10"
    verdict = json.loads(Path(result.outputs["verdict"]).read_text())
    assert verdict["policy"]["revision"] == base


def test_a_new_default_branch_without_a_trusted_ref_stops(tmp_path: Path) -> None:
    repo, base, head = sample_repo(tmp_path)
    result = run(tmp_path, repo, push(base, head, before="0" * 40), reports=HOSTILE)
    assert [s.exit_code for s in result.steps] == [2]
    assert "no trusted ref for this push event" in result.steps[0].stdout
    assert result.outputs["decision"] == "" and result.summary == ""


@pytest.mark.slow
@pytest.mark.parametrize("event", ["release", "workflow_run", "issue_comment"])
def test_an_event_without_a_trusted_ref_stops_unless_a_ref_is_given(tmp_path: Path, event: str) -> None:
    repo, base, head = sample_repo(tmp_path)
    github = {"event_name": event, "repository": "octo/sample", "sha": head, "ref": "refs/heads/main", "event": {}}
    result = run(tmp_path, repo, github, reports=HOSTILE)
    assert [s.exit_code for s in result.steps] == [2] and f"no trusted ref for this {event} event" in result.steps[0].stdout
    result = run(tmp_path, repo, github, reports=HOSTILE, **{"policy-ref": base})
    assert result.outputs["decision"] == "fail" and result.outputs["policy-ref"] == base


def test_pull_request_target_is_refused(tmp_path: Path) -> None:
    repo, base, head = sample_repo(tmp_path)
    github = {**pull_request(base, head), "event_name": "pull_request_target"}
    result = run(tmp_path, repo, github, reports=HOSTILE, **{"policy-ref": base})
    assert [s.exit_code for s in result.steps] == [2]
    assert "pull_request_target is not supported" in result.steps[0].stdout


@pytest.mark.slow
@pytest.mark.parametrize("event", ["schedule", "workflow_dispatch"])
def test_scheduled_and_manual_runs_are_judged_by_the_default_branchs_head(tmp_path: Path, event: str) -> None:
    repo, base, head = sample_repo(tmp_path)
    git(repo, "update-ref", "refs/remotes/origin/main", base)
    github = {"event_name": event, "repository": "octo/sample", "sha": head, "ref": "refs/heads/feature"}
    github["event"] = {"repository": {"default_branch": "main"}}
    result = run(tmp_path, repo, github, reports=HOSTILE)
    assert result.outputs["policy-ref"] == "refs/remotes/origin/main" and result.outputs["decision"] == "fail"


@pytest.mark.slow
def test_a_working_directory_the_change_made_a_symlink_is_refused(tmp_path: Path) -> None:
    # The attack: the workflow judges `services/api`; the change replaces that folder with a link
    # to a clean one, so the gate would judge what the change chose.
    repo, base, _ = sample_repo(tmp_path)
    (repo / "clean").mkdir()
    shutil.copy(DATA / "core" / "clean.sarif", repo / "clean" / "clean.sarif")
    (repo / "services").mkdir()
    (repo / "services" / "api").symlink_to("../clean")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "link")
    github = pull_request(base, git(repo, "rev-parse", "HEAD"))
    result = run(tmp_path, repo, github, reports="clean.sarif", waivers="", **{"working-directory": "services/api"})
    assert [s.exit_code for s in result.steps] == [0, 0, 2]
    assert "working-directory goes through a symbolic link" in result.steps[2].stdout


def run_with_a_database_refresh(tmp_path: Path, source: Path) -> ActionRun:
    """The sample change with the example's SBOM, the action refreshing the database weekly from `source`."""
    repo, base, head = sample_repo(tmp_path)
    shutil.copy(REPO / "examples" / "reports" / "sbom.cdx.json", repo / "reports" / "sbom.cdx.json")
    return run(
        tmp_path,
        repo,
        pull_request(base, head),
        reports="reports/hostile.sarif\nreports/sbom.cdx.json",
        **{"vuln-db-update": "weekly", "vuln-db-source": str(source)},
    )


@pytest.mark.slow
def test_the_vulnerability_database_is_cached_weekly_and_refreshed_from_the_trusted_source(tmp_path: Path) -> None:
    """The action keeps the database with actions/cache under a weekly key and, on a miss (the
    stand-in's cache always misses), refreshes it with `gate vulndb update` from the source the
    workflow names, here the OSV extract shipped in examples/; the gate then matches the SBOM
    against it (GATE_VULN_DB)."""
    result = run_with_a_database_refresh(tmp_path, REPO / "examples" / "vulndb")
    names = [s.name for s in result.steps]
    assert names.index("Refresh the vulnerability database") < names.index("Evaluate")
    assert [s.exit_code for s in result.steps] == [0, 0, 0, 0, 10], [s.stderr[-2000:] for s in result.steps]
    db = tmp_path / "runner-temp" / "policy-gate-vulndb"
    cache = next(c for c in result.caches if c["path"] == str(db))
    assert re.fullmatch(r"policy-gate-vulndb-Linux-\d{4}-W\d{2}", cache["key"]) and cache["restore-keys"] == "policy-gate-vulndb-Linux-"
    verdict = json.loads(Path(result.outputs["verdict"]).read_text())
    assert verdict["vulndb"]["status"] == "ok" and verdict["vulndb"]["records"] > 0
    assert any(i.get("tool") == "gate-vulndb" for i in verdict["inputs"])


@pytest.mark.slow
def test_a_failed_refresh_of_the_vulnerability_database_does_not_stop_the_gate(tmp_path: Path) -> None:
    """Offline (this machine) the default source cannot be fetched: the refresh step fails, the job
    goes on (continue-on-error), and the verdict says there was no database."""
    result = run_with_a_database_refresh(tmp_path, tmp_path / "no-such-source")
    assert [s.exit_code for s in result.steps][-1] == 10
    refresh = next(s for s in result.steps if s.name == "Refresh the vulnerability database")
    assert refresh.exit_code != 0 and "no-such-source" in refresh.stderr
    verdict = json.loads(Path(result.outputs["verdict"]).read_text())
    assert verdict["vulndb"]["status"] == "missing"


@pytest.mark.parametrize(
    ("inputs", "message"),
    [({"vuln-db": "relative/db"}, "vuln-db must be an absolute path"), ({"vuln-db-update": "daily"}, "vuln-db-update input must be")],
)
def test_bad_vulnerability_database_inputs_stop_with_a_message(tmp_path: Path, inputs: dict[str, str], message: str) -> None:
    repo, base, head = sample_repo(tmp_path)
    result = run(tmp_path, repo, pull_request(base, head), reports="reports/hostile.sarif", **inputs)
    assert [s.exit_code for s in result.steps] == [2] and message in result.steps[0].stdout


@pytest.mark.slow
def test_a_cached_database_the_change_could_have_written_is_not_used_unrefreshed(tmp_path: Path) -> None:
    """Attack: on pull_request the change's own workflows can save an actions/cache entry under the
    action's key in the scope restored first; an empty (or doctored) database would match nothing.
    Here a copy sits where the cache would restore it and the refresh fails: the copy is removed,
    and the verdict says there was no database, rather than judging by it."""
    planted = tmp_path / "runner-temp" / "policy-gate-vulndb"
    planted.parent.mkdir(parents=True, exist_ok=True)
    res = run_gate(["vulndb", "update", "--source", str(REPO / "examples" / "vulndb"), "--db", str(planted)])
    assert res.exit_code == 0, res.stderr
    result = run_with_a_database_refresh(tmp_path, tmp_path / "unreachable")
    refresh = next(s for s in result.steps if s.name == "Refresh the vulnerability database")
    assert refresh.exit_code == 1 and "not trusted on a pull_request event" in refresh.stdout
    assert not planted.exists()
    verdict = json.loads(Path(result.outputs["verdict"]).read_text())
    assert verdict["vulndb"]["status"] == "missing"


@pytest.mark.slow
def test_attack_a_base_without_policies_and_a_baseline_the_change_rewrote(tmp_path: Path) -> None:
    """Attack (red team, round 2): a base without policies/, no waivers, no data files: the
    Action dropped the trusted ref (`nothing else needs the ref`), but the baseline input is
    governance too. Read from the work tree, the change's own baseline listed its new findings
    as known, and the dev stage (new_findings_only) passed them. The ref now stays when a
    baseline is given: the baseline comes from the base commit (absent there: every finding new)."""
    repo, base, _ = sample_repo(tmp_path, base_policies=False)
    shutil.copy(REPO / "examples" / "reports" / "bandit.json", repo / "reports" / "bandit.json")
    res = run_gate(["baseline", str(repo / "reports" / "bandit.json"), "-o", str(repo / "gate-baseline.json"), "--time", TIME])
    assert res.exit_code == 0, res.stderr
    head = commit(repo, "head: every finding is known")
    (tmp_path / "honest").mkdir()
    honest = run(tmp_path / "honest", repo, pull_request(base, head), reports="reports/bandit.json", waivers="", stage="dev")
    assert honest.outputs["decision"] == "fail"
    result = run(
        tmp_path, repo, pull_request(base, head), reports="reports/bandit.json", waivers="", stage="dev", baseline="gate-baseline.json"
    )
    assert result.outputs["decision"] == "fail", "the change's own baseline must not open the gate"
    assert result.outputs["policy-ref"] == base
