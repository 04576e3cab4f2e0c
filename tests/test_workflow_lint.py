"""action.yml and the example workflow: zizmor and actionlint report nothing; pins, permissions, no `${{ }}` in `run:`.

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


@pytest.mark.parametrize("persona", ["regular", "pedantic", "auditor"])
def test_zizmor_reports_nothing(persona: str) -> None:
    findings = run_zizmor("--persona", persona)
    assert findings == [], [(f["ident"], f["desc"]) for f in findings]


def test_zizmor_ignores_only_the_self_repository_spelling() -> None:
    # One documented ignore: `uses: ./` where zizmor prefers `$/`, which actionlint 1.7.12 rejects.
    findings = run_zizmor("--no-ignores")
    assert [f["ident"] for f in findings] == ["self-repository"]
    assert "# zizmor: ignore[self-repository]" in EXAMPLE.read_text()


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
    assert uses, "the example workflow uses actions"
    for f, ref in uses:
        assert ref == "./" or SHA_PIN.fullmatch(ref), f"{f}: {ref} is not pinned by a 40-hex commit SHA"
    # The action itself uses no other action.
    assert not [s for s in load(ACTION)["runs"]["steps"] if "uses" in s]
    # Each pin names the release it is, for the reader.
    for line in EXAMPLE.read_text().splitlines():
        if re.search(r"uses: [\w-]+/.+@[0-9a-f]{40}", line):
            assert re.search(r"# v\d+\.\d+\.\d+$", line), line


def test_no_run_block_holds_an_expression() -> None:
    runs = [(f, s.get("name"), s["run"]) for f, s in all_steps() if "run" in s]
    assert runs
    assert [(f, n) for f, n, r in runs if "${{" in r] == []


def test_the_example_workflow_gates_pull_requests_with_least_privilege() -> None:
    wf = load(EXAMPLE)
    text = EXAMPLE.read_text()
    triggers = wf[True] if True in wf else wf["on"]  # YAML 1.1 reads `on` as true
    assert set(triggers) == {"pull_request"}
    assert "pull_request_target" not in text and "workflow_run" not in text and "secrets." not in text
    assert wf["permissions"] == {}
    jobs = wf["jobs"]
    gate = jobs["gate"]
    assert gate["permissions"] == {"contents": "read"}
    checkout = next(s for s in gate["steps"] if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False and checkout["with"]["fetch-depth"] == 0
    assert any(s.get("uses") == "./" for s in gate["steps"])
    writers = {name: job for name, job in jobs.items() if name != "gate"}
    assert {n: j["permissions"] for n, j in writers.items()} == {
        "code-scanning": {"actions": "read", "security-events": "write"},
        "comment": {"pull-requests": "write"},
    }
    for name, job in writers.items():
        assert job["needs"] == "gate"
        # They treat the gate's files as data: no checkout, no local action, nothing run from the artifact.
        uses = [str(s.get("uses", "")) for s in job["steps"]]
        assert not [u for u in uses if u.startswith(("actions/checkout", "./"))], name
        assert uses[0].startswith("actions/download-artifact@")
        for s in job["steps"]:
            assert "${{" not in s.get("run", "")
            assert not re.search(r"(^|[;&|]\s*)(bash|sh|source|\.)\s+\S*policy-gate", s.get("run", "")), name
