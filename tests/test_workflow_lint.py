"""action.yml and the workflows: zizmor and actionlint report nothing; pins, permissions, no `${{ }}` in `run:`.

The workflows (issue 19, "a workflow a pull request cannot edit"): `policy-gate-reusable.yml` is
the gate (`on: workflow_call`, policy-gate checked out at the caller's pinned `gate-ref` beside
the change, never the change's own copy); `policy-gate.yml` calls it from the protected default
branch; `action-self-test.yml` is the only one with `uses: ./` and tests the change's action.

zizmor runs offline with every persona up to `auditor`; actionlint checks the workflow (and,
through its `uses: ./`, the action's inputs) and the action's own steps, which the test wraps in
a reusable workflow because actionlint reads workflows only. The tools are found on PATH, else
beside this interpreter (zizmor) or in the repository's tools/bin (actionlint); absent, the tests
skip, unless GATE_REQUIRE_TOOLS=1 (CI), where they fail.
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

import pytest
import yaml

from tests.conftest import REPO

ACTION = REPO / "action.yml"
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
EXAMPLE = REPO / ".github" / "workflows" / "policy-gate.yml"
REUSABLE = REPO / ".github" / "workflows" / "policy-gate-reusable.yml"
SELF_TEST = REPO / ".github" / "workflows" / "action-self-test.yml"
SHA_PIN = re.compile(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}")


def tool(name: str, *extra_dirs: Path) -> str:
    found = shutil.which(name) or next((str(d / name) for d in extra_dirs if (d / name).is_file()), None)
    if found is None:
        reason = f"{name} is not installed (PATH, {', '.join(map(str, extra_dirs))})"
        if os.environ.get("GATE_REQUIRE_TOOLS") == "1":
            pytest.fail(reason + " but GATE_REQUIRE_TOOLS=1")
        pytest.skip(reason)
    return found


def zizmor() -> str:
    return tool("zizmor", Path(sys.executable).parent)


def actionlint() -> str:
    return tool("actionlint", REPO / "tools" / "bin")


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def all_steps() -> list[tuple[str, dict[str, Any]]]:
    """(file, step) for every step of the action and the workflows."""
    out = [(ACTION.name, s) for s in load(ACTION)["runs"]["steps"]]
    for wf in WORKFLOWS:
        for job in load(wf)["jobs"].values():
            out += [(wf.name, s) for s in job.get("steps", [])]
    return out


def run_zizmor(*args: str) -> list[dict[str, Any]]:
    proc = subprocess.run(  # noqa: S603
        [zizmor(), "--offline", "--no-progress", "--format", "json", *args, str(ACTION), *map(str, WORKFLOWS)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert proc.returncode in (0, 10, 11, 12, 13, 14), proc.stderr
    findings: list[dict[str, Any]] = json.loads(proc.stdout or "[]")
    return findings


@pytest.mark.slow
@pytest.mark.parametrize("persona", ["regular", "pedantic", "auditor"])
def test_zizmor_reports_nothing(persona: str) -> None:
    findings = run_zizmor("--persona", persona)
    assert findings == [], [(f["ident"], f["desc"]) for f in findings]


@pytest.mark.slow
def test_zizmor_ignores_only_what_is_explained() -> None:
    # `./` where zizmor prefers `$/` (which actionlint 1.7.12 rejects; in the reusable workflow
    # it is the folder policy-gate was checked out to), and this repository's own reusable
    # workflow at its protected default branch. Each ignore says why on the line above.
    findings = run_zizmor("--no-ignores")
    assert sorted(f["ident"] for f in findings) == ["self-repository", "self-repository", "unpinned-uses"]
    for wf in WORKFLOWS:
        lines = wf.read_text().splitlines()
        for i, line in enumerate(lines):
            if "# zizmor: ignore[" in line:
                assert lines[i - 1].strip().startswith("#"), f"{wf.name}:{i + 1}: an ignore without its reason"


def test_actionlint_reports_nothing_on_the_workflows() -> None:
    proc = subprocess.run(
        [actionlint(), "-no-color", *map(str, WORKFLOWS)], capture_output=True, text=True, timeout=120, cwd=REPO, check=False
    )  # noqa: S603
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout + proc.stderr


def test_actionlint_reports_nothing_on_the_actions_steps(tmp_path: Path) -> None:
    # actionlint reads workflows only: the composite's steps become a reusable workflow's job,
    # with the action's inputs as the workflow's inputs, so expressions and step references are checked.
    meta = load(ACTION)
    workflow = {
        "name": "action.yml as a workflow",
        "on": {"workflow_call": {"inputs": {n: {"type": "string", "required": False} for n in meta["inputs"]}}},
        "permissions": {},
        "jobs": {"action": {"runs-on": "ubuntu-24.04", "steps": meta["runs"]["steps"]}},
    }
    path = tmp_path / ".github" / "workflows" / "action.yml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(workflow, sort_keys=False))
    proc = subprocess.run([actionlint(), "-no-color", str(path)], capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False)  # noqa: S603
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout + proc.stderr


def test_every_action_used_is_pinned_by_a_full_commit_sha() -> None:
    uses = [(f, s["uses"]) for f, s in all_steps() if "uses" in s]
    assert uses, "the workflows use actions"
    local = {(f, u) for f, u in uses if u.startswith("./")}
    assert local == {("action-self-test.yml", "./"), ("policy-gate-reusable.yml", "./.policy-gate")}, local
    for f, ref in uses:
        assert ref in ("./", "./.policy-gate") or SHA_PIN.fullmatch(ref), f"{f}: {ref} is not pinned by a 40-hex commit SHA"
    # The action uses one other action, actions/cache (pip's downloads, the vulnerability database), pinned too.
    assert {s["uses"] for s in load(ACTION)["runs"]["steps"] if "uses" in s} == {"actions/cache@0400d5f644dc74513175e3cd8d07132dd4860809"}
    # Each pin names the release it is, for the reader.
    for path in [ACTION, *WORKFLOWS]:
        for line in path.read_text().splitlines():
            if re.search(r"uses: [\w-]+/.+@[0-9a-f]{40}", line):
                assert re.search(r"# v\d+\.\d+\.\d+$", line), line
    # Reusable workflows called: only this repository's own gate, from its protected default branch.
    called = [(wf.name, job["uses"]) for wf in WORKFLOWS for job in load(wf)["jobs"].values() if "uses" in job]
    assert called == [("policy-gate.yml", "policy-gate/policy-gate/.github/workflows/policy-gate-reusable.yml@main")]


def test_no_run_block_holds_an_expression() -> None:
    runs = [(f, s.get("name"), s["run"]) for f, s in all_steps() if "run" in s]
    assert runs
    assert [(f, n) for f, n, r in runs if "${{" in r] == []


def triggers(wf: dict[Any, Any]) -> dict[str, Any]:
    return wf[True] if True in wf else wf["on"]  # YAML 1.1 reads `on` as true


def test_no_workflow_uses_a_dangerous_trigger_or_secrets() -> None:
    for wf in WORKFLOWS:
        text = wf.read_text()
        body = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))
        assert "pull_request_target" not in body and "workflow_run" not in body and "secrets." not in body, wf.name
        assert load(wf)["permissions"] == {}, wf.name


def test_the_gate_comes_from_the_protected_ref_never_from_the_change() -> None:
    # The attack that worked: with `on: pull_request` and `uses: ./`, GitHub ran the workflow and
    # action.yml of the pull request's merge commit, so a change that edited the final step went
    # green. The gate now runs policy-gate checked out at `gate-ref` (a SHA or the protected
    # branch the caller pins), beside the change; `uses: ./` is left to the self-test.
    example = load(EXAMPLE)
    assert set(triggers(example)) == {"pull_request", "merge_group", "push"}
    (job,) = example["jobs"].values()
    assert job["uses"].endswith("/.github/workflows/policy-gate-reusable.yml@main") and job["with"]["gate-ref"] == "main"
    assert "Require workflows to pass before merging" in EXAMPLE.read_text() and "CODEOWNERS" in EXAMPLE.read_text()

    wf = load(REUSABLE)
    assert set(triggers(wf)) == {"workflow_call"}
    assert triggers(wf)["workflow_call"]["inputs"]["gate-ref"]["required"] is True
    gate = wf["jobs"]["gate"]
    assert gate["permissions"] == {"contents": "read"}
    checkouts = [s for s in gate["steps"] if str(s.get("uses", "")).startswith("actions/checkout@")]
    change, tool = checkouts
    assert change["with"] == {"path": "change", "persist-credentials": False, "fetch-depth": 0}
    assert tool["with"] == {
        "repository": "${{ inputs.gate-repository }}",
        "ref": "${{ inputs.gate-ref }}",
        "path": ".policy-gate",
        "persist-credentials": False,
    }
    (run_gate,) = [s for s in gate["steps"] if s.get("uses") == "./.policy-gate"]
    assert run_gate["with"]["working-directory"] == "change"
    assert gate["steps"].index(run_gate) > gate["steps"].index(tool) > gate["steps"].index(change)

    self_test = load(SELF_TEST)
    assert set(triggers(self_test)) == {"pull_request"}
    assert "not a gate" in SELF_TEST.read_text() or "never a gate" in SELF_TEST.read_text()


def test_the_writers_treat_the_gates_files_as_data() -> None:
    wf = load(REUSABLE)
    jobs = wf["jobs"]
    writers = {name: job for name, job in jobs.items() if name != "gate"}
    assert {n: j["permissions"] for n, j in writers.items()} == {
        "code-scanning": {"actions": "read", "security-events": "write"},
        "comment": {"pull-requests": "write"},
    }
    for name, job in writers.items():
        assert job["needs"] == "gate"
        assert "github.event.pull_request.head.repo.full_name == github.repository" in job["if"], name
        # They treat the gate's files as data: no checkout, no local action, nothing run from the artifact.
        uses = [str(s.get("uses", "")) for s in job["steps"]]
        assert not [u for u in uses if u.startswith(("actions/checkout", "./"))], name
        assert uses[0].startswith("actions/download-artifact@")
        for s in job["steps"]:
            assert "${{" not in s.get("run", "")
            assert not re.search(r"(^|[;&|]\s*)(bash|sh|source|\.)\s+\S*policy-gate", s.get("run", "")), name


def test_the_comment_job_never_cuts_the_summary() -> None:
    # A byte cut (`head -c 65000` before) can land inside a code span: the finding text after the
    # fence renders as live Markdown. The gate writes comment.md on whole rows; it is posted whole.
    (step,) = [s for s in load(REUSABLE)["jobs"]["comment"]["steps"] if "run" in s]
    assert step["env"]["COMMENT"] == "${{ runner.temp }}/policy-gate/comment.md"
    code = "\n".join(ln for ln in step["run"].splitlines() if not ln.lstrip().startswith("#"))
    assert not re.search(r"\b(head|tail|cut|dd|truncate|split|fold)\b|\$\{\w+:[0-9]", code), code
    assert '--body-file "$COMMENT"' in code


def test_the_reusable_workflow_passes_its_inputs_to_the_action_unchanged() -> None:
    wf = load(REUSABLE)
    inputs = set(triggers(wf)["workflow_call"]["inputs"]) - {"gate-ref", "gate-repository", "comment", "code-scanning"}
    (step,) = [s for s in wf["jobs"]["gate"]["steps"] if s.get("uses") == "./.policy-gate"]
    passed = {k: v for k, v in step["with"].items() if k != "working-directory"}
    assert passed == {name: f"${{{{ inputs.{name} }}}}" for name in inputs}
    assert inputs <= set(load(ACTION)["inputs"])
    # Never the inputs that let the work tree decide, or that choose another interpreter or install.
    assert not inputs & {"allow-work-tree-policy", "policy-ref", "install", "python"}
