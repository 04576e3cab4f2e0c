"""The CLI only wires: the rules it used to carry live in one function each, which the CLI (and the
GitHub Action) call.

- `gate.sources.policy_root`: `--policy`, else `./policies`, else the shipped pack; the Action asks
  it too (with `has_policies=False` when the trusted ref has no policies folder).
- `gate.runner.make_baseline`: what `gate baseline` writes, without the CLI.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from gate.policy import default_policy_dir
from gate.runner import make_baseline
from gate.sources import policy_root
from tests.conftest import REPO, run_gate

REPORTS = REPO / "examples" / "reports"


def test_policy_root_prefers_the_given_then_the_project_folder_then_the_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert policy_root() == str(default_policy_dir())
    (tmp_path / "policies").mkdir()
    assert policy_root() == "policies"
    assert policy_root(has_policies=False) == str(default_policy_dir())
    assert policy_root("elsewhere") == "elsewhere"


def test_the_rule_is_written_once() -> None:
    """No other module (nor the Action's bash) spells `./policies, else the pack` again: the
    Action asks `policy_root_at_ref` instead of looking for the folder at the ref with git."""
    pattern = 'Path("policies").is_dir()'
    holders = [str(p.relative_to(REPO)) for p in (REPO / "gate").rglob("*.py") if pattern in p.read_text(encoding="utf-8")]
    assert holders == [], holders
    action = (REPO / "action.yml").read_text(encoding="utf-8")
    assert "policy_root_at_ref(" in action and "default_policy_dir" not in action
    assert "cat-file" not in action, "the Action's bash no longer asks git whether the ref has policies/"


def _git(repo: Path, *args: str) -> str:
    import subprocess

    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    done = subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True)  # noqa: S603, S607
    return done.stdout.strip()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_a_base_without_policies_is_judged_by_the_pack_not_by_the_folder_the_change_adds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack the Action's bash held off with git of its own: the base commit has no
    `policies/` (the project uses the shipped pack) and the change adds a `policies/` folder that
    denies nothing. The gate alone failed closed (it read `policies` from the ref, where it is
    missing: exit 4), so the Action looked at the ref with `git cat-file` and chose the pack. Now
    `policy_root` asks the ref itself, for the gate and for the Action (`policy_root_at_ref`): the
    shipped pack judges (exit 10 on the example), and the change's folder is listed as not used."""
    from gate.sources import Governance, policy_root_at_ref

    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("sample\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    base = _git(repo, "rev-parse", "HEAD")
    (repo / "policies").mkdir()
    (repo / "policies" / "allow.rego").write_text("package gate.allow\n\nimport rego.v1\n\ndeny contains v if {\n\tfalse\n\tv := {}\n}\n")
    monkeypatch.chdir(repo)
    assert policy_root() == "policies", "the work tree has its own folder now"
    assert policy_root_at_ref(base, str(repo)) == str(default_policy_dir()), "the ref has none: the shipped pack"
    gov = Governance.open(base, str(repo))
    assert gov.policy_root(None) == str(default_policy_dir())
    assert [(e["path"], e["change"]) for e in gov.not_used] == [("policies", "added")]
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "policies")
    assert policy_root_at_ref("HEAD", str(repo)) == "policies", "a ref with the folder keeps it"
    out = tmp_path / "verdict.json"
    res = run_gate(["evaluate", str(REPORTS / "bandit.json"), "--policy-ref", base, "--repo-root", str(repo), "--output", f"json={out}"])
    verdict = json.loads(out.read_text(encoding="utf-8"))
    assert verdict["policy"]["path"] == str(default_policy_dir()) and res.exit_code == 10, res.stderr
    assert ("policies", "added") in {(e["path"], e["change"]) for e in verdict["not_used"]}


def test_make_baseline_is_what_gate_baseline_writes(tmp_path: Path) -> None:
    args = [str(REPORTS / "bandit.json"), str(REPORTS / "semgrep.sarif")]
    out = tmp_path / "baseline.json"
    res = run_gate(["baseline", *args, "-o", str(out), "--time", "2026-12-06T00:00:00Z", "--policy", str(REPO / "policies")])
    assert res.exit_code == 0, res.stderr
    doc = make_baseline(args, policy=str(REPO / "policies"), time_text="2026-12-06T00:00:00Z")
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(json.dumps(doc))
    assert doc["findings"], "the example's findings are fingerprinted"
    assert os.path.basename(str(out)) in res.stderr


# --------------------------------------------------------------------------------------------
# The commands only wire: no loading, collecting, preparing or evaluating in gate/cli


# What a command may not do itself (it calls the one library function that does): each name is a
# function of the library's inside, imported or called by a CLI module before this round.
LIBRARY_INSIDES = frozenset(
    {
        "load_policy",
        "load_policy_path",
        "resolve_policy",
        "check_data",
        "validate_data",
        "collect",
        "prepare",
        "get_engine",
        "build_bundle",
        "compare",
        "run_all",
        "get_runner",
        "component_count",
        "age_days",
        "fill_unreached",
        "report_lines",
        "mark_report_only",
        "SbomRunner",
    }
)


def test_no_cli_module_reaches_into_the_library() -> None:
    """Every `gate/cli` module imports and calls only the one function per command (and option
    helpers): the rule the CLI used to break in `policy compare` (two evaluations and the
    comparison), `gate scan` (policy load, coverage, the scanners), `policy test` (the engine)."""
    import ast

    found = []
    for path in sorted((REPO / "gate" / "cli").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.Call):
                func = node.func
                names = [func.id] if isinstance(func, ast.Name) else [func.attr] if isinstance(func, ast.Attribute) else []
            found += [f"{path.name}:{node.lineno} {n}" for n in names if n in LIBRARY_INSIDES]
    assert found == [], found


def test_every_report_format_choice_has_a_renderer() -> None:
    """`policy check`, `policy compare` and `vulndb status` take `--format` from their renderers'
    tables (a wrong value is exit 2 when parsed), and every member renders."""
    import click

    from gate.authoring import check, compare
    from gate.cli import cli
    from gate.vulndb import status

    tables = {("policy", "check"): check.RENDERERS, ("policy", "compare"): compare.RENDERERS, ("vulndb", "status"): status.RENDERERS}
    for (group_name, name), table in tables.items():
        group = cli.get_command(click.Context(cli), group_name)
        assert isinstance(group, click.Group)
        command = group.get_command(click.Context(group), name)
        assert command is not None
        option = next(p for p in command.params if p.name == "format_")
        assert isinstance(option.type, click.Choice) and sorted(option.type.choices) == sorted(table), name
    problem = check.Problem("data", "not a mapping", file="policies/config/x.yaml", line=3, column=1, excerpt="x: [")
    report = check.CheckReport(root="policies", modules=["a.rego"], problems=[problem])
    for render in check.RENDERERS.values():
        assert render(report).stdout.endswith("\n")
    assert "policies/config/x.yaml:3:1: data error: not a mapping" in check.render_text(report).stderr
    assert json.loads(check.render_json(report).stdout)["schema"] == check.REPORT_SCHEMA
    res = run_gate(["vulndb", "status", "--db", "/nonexistent/db", "--format", "yaml"])
    assert res.exit_code == 2 and "'yaml' is not one of" in res.stderr


def test_a_policy_that_cannot_load_stops_gate_run_before_any_scanner(tmp_path: Path) -> None:
    """`scan_and_evaluate`: the policy is loaded first (its coverage data decides what is scanned);
    when it cannot be, nothing is scanned and the error verdict says why (exit 4)."""
    from gate.runner import Config
    from gate.scanning import ScanConfig, scan_and_evaluate

    class Display:
        entered = False

        def __enter__(self) -> Display:
            Display.entered = True
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def event(self, event: object) -> None:
            return None

        def tick(self) -> None:
            return None

    outcome = scan_and_evaluate(ScanConfig(path=str(tmp_path), out=str(tmp_path / "out")), Config(policy=str(tmp_path / "none")), Display())
    assert outcome.verdict["decision"] == "error" and outcome.exit_code == 4
    assert not Display.entered and not (tmp_path / "out").exists()


def test_what_if_names_the_side_that_cannot_be_evaluated() -> None:
    from gate.authoring.compare import what_if
    from gate.runner import Config

    config = Config(reports=(str(REPORTS / "bandit.json"),), time="2026-12-06T00:00:00Z")
    broken = what_if("/nonexistent/old", "/nonexistent/new", config)
    assert broken.comparison is None and broken.exit_code == 4
    assert [line.split(":")[1] for line in broken.errors] == [
        " error with the new policy (/nonexistent/new)",
        " error with the old policy (/nonexistent/old)",
    ]


@pytest.mark.slow
def test_what_if_is_what_policy_compare_prints() -> None:
    from gate.authoring.compare import render_json, what_if
    from gate.runner import Config

    config = Config(reports=(str(REPORTS / "bandit.json"),), time="2026-12-06T00:00:00Z")
    result = what_if(str(REPO / "policies"), str(REPO / "policies"), config, fail_on_change=True)
    assert result.errors == () and result.exit_code == 0 and result.comparison is not None
    res = run_gate(
        ["policy", "compare", str(REPO / "policies"), str(REPO / "policies"), str(REPORTS / "bandit.json")]
        + ["--time", "2026-12-06T00:00:00Z", "--format", "json"]
    )
    assert res.exit_code == 0 and res.stdout == render_json(result.comparison)
    broken = what_if("/nonexistent/old", str(REPO / "policies"), config)
    assert broken.comparison is None and broken.exit_code == 4 and "old policy (/nonexistent/old)" in broken.errors[0]


# --------------------------------------------------------------------------------------------
# Issue 20: the process ends without the interpreter's teardown, and nothing is lost


def test_in_process_nothing_is_kept() -> None:
    """Click's runner (and any caller of `cli.main`) keeps nothing: only the console script's
    `main` holds the documents until the process ends."""
    import gate.cli as package

    res = run_gate(["evaluate", str(REPORTS / "bandit.json"), "--policy", str(REPO / "policies"), "-q"])
    assert res.exit_code == 10
    assert package._KEPT == []


FAST = """
import sys, gate.cli as c
real = c.exit_process
marker = sys.argv.pop(1)
def marked(code):
    open(marker, "w").write(str(code))
    real(code)
c.exit_process = marked
sys.argv = ["gate", *sys.argv[1:]]
c.main()
"""
PLAIN = "import sys\nfrom gate.cli import cli\nsys.argv = ['gate', *sys.argv[1:]]\ncli.main()\n"


def _gate_process(tmp_path: Path, name: str, code: str, args: list[str]) -> tuple[int, bytes, bytes, dict[str, bytes], bool]:
    import subprocess
    import sys

    out = tmp_path / name
    out.mkdir()
    marker = out / "exited-early"
    files = ["json", "sarif", "junit", "markdown", "input", "console"]
    argv = [str(a).replace("{out}", str(out)) for a in args]
    argv += [f"--output={f}={out}/verdict.{f}" for f in files if "{bad}" not in " ".join(args)]
    argv = [a.replace("{bad}", str(tmp_path / "a-file")) for a in argv]
    extra = [str(marker)] if code is FAST else []
    proc = subprocess.run([sys.executable, "-c", code, *extra, *argv], capture_output=True, check=False, cwd=tmp_path)  # noqa: S603
    written = {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.name != "exited-early"}
    return proc.returncode, proc.stdout, proc.stderr, written, marker.exists()


@pytest.mark.slow
def test_the_early_exit_gives_the_same_code_and_bytes(tmp_path: Path) -> None:
    """`gate evaluate` through the console script's `main` (which ends the process as soon as the
    outputs are written) and through `cli.main` (the interpreter's usual exit): the same exit
    code, the same stdout (a pipe, the whole JSON verdict) and stderr, the same `--output` files."""
    args = ["evaluate", *(str(REPORTS / n) for n in ("bandit.json", "semgrep.sarif", "sbom.cdx.json"))]
    args += ["--policy", str(REPO / "policies"), "--time", "2026-12-06T00:00:00Z", "--no-timing", "--format", "json"]
    fast = _gate_process(tmp_path, "fast", FAST, args)
    plain = _gate_process(tmp_path, "plain", PLAIN, args)
    assert fast[4], "the console script ended the process early"
    assert not plain[4]
    assert fast[0] == plain[0] == 10
    assert len(fast[1]) > 65536, "more than a pipe's buffer went through stdout"
    assert fast[1:4] == plain[1:4]
    assert sorted(fast[3]) == sorted(f"verdict.{f}" for f in ("json", "sarif", "junit", "markdown", "input", "console"))


@pytest.mark.slow
def test_an_output_write_error_keeps_its_exit_code_with_the_early_exit(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("a file, not a folder\n")
    args = ["evaluate", str(REPORTS / "bandit.json"), "--policy", str(REPO / "policies"), "--time", "2026-12-06T00:00:00Z", "--no-timing"]
    args += ["--output", "json={bad}/verdict.json"]
    fast = _gate_process(tmp_path, "fast", FAST, args)
    plain = _gate_process(tmp_path, "plain", PLAIN, args)
    assert fast[0] == plain[0] == 5, fast[2]
    assert fast[1:3] == plain[1:3]
    assert b"cannot write the json output" in fast[2]
    assert fast[4], "the early exit was taken on the error path too"
