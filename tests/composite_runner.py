"""A small stand-in for the GitHub runner executing a composite action's steps (for tests).

What it does as the runner does (docs: "Metadata syntax for GitHub Actions", "Workflow commands"):
- inputs come from `with:` over the metadata's `default:`s; defaults may hold expressions, which
  are evaluated in the caller's context. Composite actions get no `INPUT_*` variables: steps see
  inputs only through the expressions in their own `env:`, `working-directory:` and so on.
- `${{ expr }}` is evaluated in the step's fields except `run:` (this action has no `${{ }}` in
  `run:`; a test proves it). Only property paths are supported (`inputs.x`,
  `github.event.pull_request.base.sha`, `github.action_path`, `runner.temp`,
  `steps.<id>.outputs.<name>`); anything else raises, so the action stays within what is
  tested. A missing property is the empty string, as in GitHub's string interpolation.
- each step runs as `bash --noprofile --norc -eo pipefail FILE` (GitHub's `shell: bash`) with
  the runner's variables (GITHUB_*, RUNNER_TEMP, CI), the step's `env:`, a fresh GITHUB_OUTPUT
  file per step (parsed afterwards into `steps.<id>.outputs`, `name=value` and
  `name<<DELIMITER` forms), and GITHUB_ENV / GITHUB_PATH / GITHUB_STEP_SUMMARY files whose
  effects carry over to the next steps. A step that fails stops the action.
- `if:` is evaluated for the forms the action uses: `A == 'x'`, `A != 'x'` and a bare property
  path, joined by `&&` (anything else raises).
- a failing step with `continue-on-error: true` records its failure and the job goes on.
- a `uses:` step is allowed for actions/cache only, pinned by commit, and stands in as a cache
  miss that saves nothing (`cache-hit` is ''): a clean runner. Its `with:` is evaluated and kept
  in `ActionRun.caches`, so a test sees the key and path the action asked for.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
PROPERTY_PATH = re.compile(r"[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*")


def evaluate(expr: str, context: Mapping[str, Any]) -> str:
    """A property path (`a.b.c`) looked up in `context`; '' when a part is missing."""
    if not PROPERTY_PATH.fullmatch(expr):
        raise ValueError(f"unsupported expression in the action: {expr!r}")
    value: Any = context
    for part in expr.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
        if value is None:
            return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_COMPARISON = re.compile(r"(\S+)\s*(==|!=)\s*'([^']*)'")


def condition(text: str, context: Mapping[str, Any]) -> bool:
    """An `if:` of the forms the action uses, `${{ }}` optional: comparisons with literals joined by `&&`."""
    expr = text.strip()
    if expr.startswith("${{") and expr.endswith("}}"):
        expr = expr[3:-2].strip()
    result = True
    for part in expr.split("&&"):
        part = part.strip()
        m = _COMPARISON.fullmatch(part)
        if m:
            value = evaluate(m.group(1), context)
            result = result and ((value == m.group(3)) == (m.group(2) == "=="))
        elif PROPERTY_PATH.fullmatch(part):
            result = result and evaluate(part, context) not in ("", "false", "0")
        else:
            raise ValueError(f"unsupported condition in the action: {text!r}")
    return result


def substitute(text: str, context: Mapping[str, Any]) -> str:
    """Replace every `${{ expr }}` in `text`."""
    return EXPRESSION.sub(lambda m: evaluate(m.group(1), context), text)


def parse_env_file(text: str) -> dict[str, str]:
    """GITHUB_OUTPUT / GITHUB_ENV syntax: `name=value` lines and `name<<DELIM` ... `DELIM` blocks."""
    out: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            value: list[str] = []
            while i < len(lines) and lines[i] != delim:
                value.append(lines[i])
                i += 1
            if i >= len(lines):
                raise ValueError(f"unterminated {delim!r} block for {name!r}")
            i += 1
            out[name] = "\n".join(value)
        elif "=" in line:
            name, value_text = line.split("=", 1)
            out[name] = value_text
        else:
            raise ValueError(f"invalid line in an environment file: {line!r}")
    return out


@dataclass
class StepResult:
    """What one step did."""

    id: str | None
    name: str
    exit_code: int
    stdout: str
    stderr: str
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class ActionRun:
    """The whole composite run: each step, the action's outputs, the step summary."""

    steps: list[StepResult]
    outputs: dict[str, str]
    summary: str
    env_file: dict[str, str]
    caches: list[dict[str, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return self.steps[-1].exit_code if self.steps else 0

    @property
    def log(self) -> str:
        """Everything the steps printed, stdout and stderr, as the runner reads it."""
        return "\n".join(part for s in self.steps for part in (s.stdout, s.stderr))


def run_action(
    action_dir: Path,
    *,
    with_: Mapping[str, str],
    github: Mapping[str, Any],
    workspace: Path,
    runner_temp: Path,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 300,
) -> ActionRun:
    """Run the composite action in `action_dir` (its action.yml) as a runner would."""
    meta = yaml.safe_load((action_dir / "action.yml").read_text())
    assert meta["runs"]["using"] == "composite"
    runner = {"temp": str(runner_temp), "os": "Linux"}
    github = {**github, "action_path": str(action_dir), "workspace": str(workspace)}
    caller = {"github": github, "runner": runner, "env": {}}
    inputs: dict[str, str] = {}
    for name, spec in (meta.get("inputs") or {}).items():
        default = (spec or {}).get("default")
        inputs[name] = substitute(str(default), caller) if default is not None else ""
    unknown = set(with_) - set(inputs)
    assert not unknown, f"inputs the action does not declare: {unknown}"
    inputs.update(with_)
    steps_ctx: dict[str, dict[str, Any]] = {}
    files = Path(tempfile.mkdtemp(prefix="runner-files-", dir=runner_temp))
    summary_file = files / "step_summary.md"
    env_file = files / "env"
    path_file = files / "path"
    for f in (summary_file, env_file, path_file):
        f.write_text("")
    base_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(runner_temp)),
        "LANG": "C.UTF-8",
        "CI": "true",
        "GITHUB_ACTIONS": "true",
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_REPOSITORY": str(github.get("repository", "")),
        "GITHUB_SHA": str(github.get("sha", "")),
        "GITHUB_REF": str(github.get("ref", "")),
        "GITHUB_EVENT_NAME": str(github.get("event_name", "")),
        "GITHUB_ACTION_PATH": str(action_dir),
        "GITHUB_STEP_SUMMARY": str(summary_file),
        "GITHUB_ENV": str(env_file),
        "GITHUB_PATH": str(path_file),
        "RUNNER_TEMP": str(runner_temp),
        "RUNNER_OS": "Linux",
        "RUNNER_ARCH": "X64",
        **(extra_env or {}),
    }
    results: list[StepResult] = []
    caches: list[dict[str, str]] = []
    for index, step in enumerate(meta["runs"]["steps"]):
        ctx = {"inputs": inputs, "github": github, "runner": runner, "steps": steps_ctx, "env": {}}
        if "if" in step and not condition(str(step["if"]), ctx):
            if step.get("id"):
                steps_ctx[step["id"]] = {"outputs": {}, "outcome": "skipped"}
            continue
        if "uses" in step:
            uses = step["uses"]
            assert re.fullmatch(r"actions/cache@[0-9a-f]{40}", uses), f"the stand-in runs no action but actions/cache: {uses}"
            caches.append({k: substitute(str(v), ctx) for k, v in (step.get("with") or {}).items()})
            if step.get("id"):
                steps_ctx[step["id"]] = {"outputs": {"cache-hit": ""}, "outcome": "success"}
            continue
        assert step.get("shell") == "bash" and "run" in step, "every other step is a bash run step"
        output_file = files / f"output-{index}"
        output_file.write_text("")
        env = dict(base_env)
        env.update(parse_env_file(env_file.read_text()))
        extra_path = [p for p in path_file.read_text().splitlines() if p]
        if extra_path:
            env["PATH"] = os.pathsep.join([*reversed(extra_path), env["PATH"]])
        env.update({k: substitute(str(v), ctx) for k, v in (step.get("env") or {}).items()})
        env["GITHUB_OUTPUT"] = str(output_file)
        cwd = workspace / substitute(str(step.get("working-directory", ".")), ctx)
        script = files / f"step-{index}.sh"
        script.write_text(step["run"])
        proc = subprocess.run(  # noqa: S603 - a test running the action's own script
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        outputs = parse_env_file(output_file.read_text())
        result = StepResult(step.get("id"), step.get("name", f"step {index}"), proc.returncode, proc.stdout, proc.stderr, outputs)
        results.append(result)
        if step.get("id"):
            steps_ctx[step["id"]] = {"outputs": outputs, "outcome": "success" if proc.returncode == 0 else "failure"}
        if proc.returncode != 0 and step.get("continue-on-error") is not True:
            break
    ctx = {"inputs": inputs, "github": github, "runner": runner, "steps": steps_ctx, "env": {}}
    action_outputs = {name: substitute(str(spec.get("value", "")), ctx) for name, spec in (meta.get("outputs") or {}).items()}
    return ActionRun(results, action_outputs, summary_file.read_text(), parse_env_file(env_file.read_text()), caches)
