"""Scans a pull request cannot hijack or hide from (issue 13, the running half; issue 19's minimal
environment; issue 15's shipped set).

Each test was first written as the attack, and failed (the gate opened, or the attack's effect was
seen) on the code before this change; its docstring says what the attack was. The tests that run
the real tools share one `gate run` per hostile tree (module fixtures) and are marked slow.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from conftest import REPO, run_gate
from scan_support import OFFLINE, require_tools
from scan_trust_trees import FLAW, HIDDEN, build_hook_tree, hiding_tree

from gate.errors import InputError
from scanners.run.bandit import BanditRunner
from scanners.run.coverage import CoverageRules, glob_excludes, survey, unscanned
from scanners.run.environment import minimal_env
from scanners.run.interface import Prepared, RunRecord, ScannerRunner, execute
from scanners.run.parallel import ScanRun, run_all
from scanners.run.pip_audit import PipAuditRunner
from scanners.run.registry import SCANNERS, get_runner
from scanners.run.sbom import Checked, SbomRunner, check_requirements, checked_requirements, find_manifest, is_development
from scanners.run.semgrep import SemgrepRunner

TIME = "2026-11-26T12:00:00Z"
JOB_FILES = ("GITHUB_ENV", "GITHUB_OUTPUT", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")
SECRETS = {
    "GITHUB_TOKEN": "ghs_x",
    "ACTIONS_RUNTIME_TOKEN": "t",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://x",
    "MY_API_SECRET": "s",
    "NPM_TOKEN": "n",
    "PYTHONPATH": "/evil",
    "BASH_ENV": "/evil.sh",
    "LD_PRELOAD": "/evil.so",
}


# --------------------------------------------------------------------------------------------
# Scanners get a minimal environment (issue 19)


def _job_env(tmp_path: Path) -> dict[str, str]:
    env = {name: str(tmp_path / f"{name.lower()}.txt") for name in JOB_FILES}
    for name in JOB_FILES:
        Path(env[name]).write_text("", encoding="utf-8")
    return {**env, **SECRETS, "PATH": os.environ.get("PATH", "/usr/bin") + os.pathsep + "relative/bin", "LC_ALL": "C.UTF-8"}


def test_minimal_env_is_an_allow_list(tmp_path: Path) -> None:
    source = {**_job_env(tmp_path), "HTTPS_PROXY": "http://proxy:3128", "LANG": "C.UTF-8", "HOME": "/root", "RUNNER_TEMP": "/r"}
    env = minimal_env(tmp_path / "home", {"NO_COLOR": "1"}, source=source)
    for name in (*JOB_FILES, *SECRETS, "RUNNER_TEMP"):
        assert name not in env, name
    assert env["HTTPS_PROXY"] == "http://proxy:3128" and env["LANG"] == env["LC_ALL"] == "C.UTF-8"
    assert env["HOME"] == str(tmp_path / "home") and Path(env["TMPDIR"]).parent == tmp_path / "home"
    assert stat.S_IMODE((tmp_path / "home").stat().st_mode) == 0o700
    assert "relative/bin" not in env["PATH"].split(os.pathsep)  # a relative entry finds programs in the tree
    with pytest.raises(ValueError, match="GITHUB_ENV is not a variable the gate sets"):
        minimal_env(tmp_path / "home", {"GITHUB_ENV": "/x"}, source=source)


@pytest.mark.parametrize("name", SCANNERS)
def test_every_runner_gets_the_minimal_env(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in _job_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    env = get_runner(name).env()
    leaked = sorted(
        k for k in env if k in JOB_FILES or k in SECRETS or "TOKEN" in k or "SECRET" in k or k.startswith(("GITHUB_", "ACTIONS_"))
    )
    assert leaked == []
    assert Path(env["HOME"]).name == "home" and env["HOME"] != os.path.expanduser("~")


class _EnvSpy(ScannerRunner):
    """A scanner stand-in that does what a hostile build backend did: append `BASH_ENV=...` to
    $GITHUB_ENV (and write a token to $GITHUB_OUTPUT), then report the environment it saw."""

    name = "spy"
    tool = "spy"
    format = "bandit"
    program = "python"
    dist = "spy"
    report_name = "spy.json"

    def executable(self) -> str | None:
        return sys.executable

    def version(self, program: str, report: Path | None) -> str | None:
        return "1"

    def command(self, target: Path, out_dir: Path) -> list[str]:
        script = (
            "import json, os, sys\n"
            "for name in ('GITHUB_ENV', 'GITHUB_OUTPUT', 'GITHUB_PATH', 'GITHUB_STEP_SUMMARY'):\n"
            "    if os.environ.get(name):\n"
            "        open(os.environ[name], 'a').write('BASH_ENV=/tmp/evil.sh\\n')\n"
            "json.dump(sorted(os.environ), open(sys.argv[1], 'w'))\n"
        )
        return [sys.executable, "-c", script, str(self.report_file(out_dir))]


def test_attack_a_scanner_cannot_reach_the_job_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Attack: a process the gate started appended BASH_ENV to $GITHUB_ENV, changing the action's
    next bash step. Now it never learns where the job files are."""
    job = _job_env(tmp_path)
    for key, value in job.items():
        monkeypatch.setenv(key, value)
    (tmp_path / "project").mkdir()
    record = _EnvSpy().run(tmp_path / "project", tmp_path / "out", 60)
    assert record.status == "ok", record.errors
    for name in JOB_FILES:
        assert Path(job[name]).read_text(encoding="utf-8") == "", name
    seen = json.loads(record.data or b"[]")
    assert not [k for k in seen if k.startswith(("GITHUB_", "ACTIONS_")) or k in SECRETS]


def test_execute_drops_credentials_even_when_handed_them(tmp_path: Path) -> None:
    out = tmp_path / "env.json"
    env = {"PATH": os.environ.get("PATH", ""), "GITHUB_TOKEN": "x", "AWS_SECRET_ACCESS_KEY": "y", "ACTIONS_CACHE_URL": "z"}
    done = execute(
        [sys.executable, "-c", f"import json, os; json.dump(sorted(os.environ), open({str(out)!r}, 'w'))"],
        cwd=tmp_path,
        env=env,
        timeout=30,
    )
    assert done.exit_code == 0
    assert set(json.loads(out.read_text(encoding="utf-8"))) & {"GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "ACTIONS_CACHE_URL"} == set()


# --------------------------------------------------------------------------------------------
# Nothing from the tree runs: requirement lines are checked before any tool sees them


def test_requirement_lines_that_would_install_or_fetch_are_never_passed_on(tmp_path: Path) -> None:
    (tmp_path / "evilpkg").mkdir()
    lines = [
        "requests==2.19.1 --hash=sha256:abc",
        "flask[async]==3.1.1 ; python_version >= '3.10'",
        "./evilpkg",
        "-e ./evilpkg",
        "--editable=./evilpkg",
        "file:./evilpkg",
        f"evilpkg @ file://{tmp_path / 'evilpkg'}",
        "-e .",
        "--index-url https://evil.example/simple",
        "-i https://evil.example/simple",
        "--extra-index-url https://evil.example/simple",
        "--find-links ./wheels",
        "-f https://evil.example/wheels",
        "--trusted-host evil.example",
        "git+https://evil.example/pkg.git#egg=pkg",
        "-e git+https://evil.example/pkg.git#egg=pkg",
        "pkg @ https://evil.example/pkg-1.0.tar.gz",
        "https://evil.example/pkg-1.0.tar.gz",
        "../outside-pkg",
        "file:///etc/outside-pkg",
    ]
    checked = check_requirements(lines, tmp_path, Checked())
    assert checked.lines == ["requests==2.19.1", "flask[async]==3.1.1 ; python_version >= '3.10'"]
    noted = "\n".join(checked.notes)
    for line in lines[2:14]:
        assert repr(line) in noted, line
    errors = "\n".join(checked.errors)
    for line in lines[14:]:
        assert repr(line) in errors, line
    assert "scanned as its source; never installed or built" in noted
    assert "not fetched, built or described" in errors and "outside the project" in errors


def test_unpinned_requirements_skip_pip_audit_instead_of_resolving(tmp_path: Path) -> None:
    """Attack: unpinned requirements made pip-audit resolve them with pip in a virtual environment,
    building (running) whatever they named. Now pip-audit is not started: skipped, incomplete."""
    (tmp_path / "requirements.txt").write_text("flask>=3\nrequests==2.32.4\n", encoding="utf-8")
    record = PipAuditRunner().run(tmp_path, tmp_path / "out", 30)
    assert record.status == "skipped" and not record.complete and record.command == ()
    assert "pip-audit was not run" in record.errors[0] and "'flask>=3'" in record.errors[0]
    entry = record.scan_entry()
    assert entry is not None and entry["complete"] is False


# --------------------------------------------------------------------------------------------
# The SBOM describes what ships (issue 15): discovery below the root, development files apart


@pytest.mark.parametrize(
    ("path", "development"),
    [
        ("requirements.txt", False),
        ("app/requirements.txt", False),
        ("requirements/base.txt", False),
        ("requirements/prod.txt", False),
        ("requirements-dev.txt", True),
        ("dev-requirements.txt", True),
        ("requirements_test.txt", True),
        ("test-requirements.txt", True),
        ("requirements/test.txt", True),
        ("requirements/docs.txt", True),
        ("requirements-lint.txt", True),
        ("docs/requirements.txt", True),
        ("tests/requirements.txt", True),
        ("app/requirements-dev.txt", True),
    ],
)
def test_development_requirement_files(path: str, development: bool) -> None:
    assert is_development(path) is development


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_runtime_manifests_below_the_root_and_development_apart(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "app/requirements.txt": "flask==3.1.1\n",
            "worker/requirements.txt": "celery==5.4.0\n",
            "requirements-dev.txt": "pytest==8.3.0\n",
            "docs/requirements.txt": "sphinx==8.0.0\n",
            ".venv/lib/requirements.txt": "nothing==1\n",
        },
    )
    manifest = find_manifest(tmp_path)
    assert manifest is not None
    assert (manifest.kind, manifest.files) == ("requirements", ("app/requirements.txt", "worker/requirements.txt"))
    assert manifest.development == ("docs/requirements.txt", "requirements-dev.txt")
    assert checked_requirements(tmp_path, manifest).lines == ["flask==3.1.1", "celery==5.4.0"]
    assert "do not ship" in manifest.development_note()[0]


def test_lock_files_first_even_below_the_root(tmp_path: Path) -> None:
    shared = REPO / "tests" / "data" / "scan_manifests"
    _tree(tmp_path, {"requirements.txt": "flask==3.1.1\n", "requirements-dev.txt": "pytest==8\n"})
    (tmp_path / "service").mkdir()
    for name in ("poetry.lock", "pyproject.toml"):
        (tmp_path / "service" / name).write_bytes((shared / "poetry" / name).read_bytes())
    manifest = find_manifest(tmp_path)
    assert manifest is not None
    assert (manifest.kind, manifest.files, manifest.base) == ("poetry", ("service/poetry.lock", "service/pyproject.toml"), "service")
    assert manifest.development == ("requirements-dev.txt",)
    for kind, lock in (("uv", "uv.lock"), ("pipenv", "Pipfile.lock")):
        other = tmp_path / kind
        other.mkdir()
        (other / "requirements.txt").write_text("flask==3.1.1\n", encoding="utf-8")
        (other / lock).write_bytes((shared / kind / lock).read_bytes())
        found = find_manifest(other)
        assert found is not None and found.kind == kind, kind


def test_only_development_requirements_describe_nothing_that_ships(tmp_path: Path) -> None:
    _tree(tmp_path, {"requirements-dev.txt": "pytest==8.3.0\n"})
    assert find_manifest(tmp_path) is None


@pytest.mark.slow
def test_sbom_lists_the_shipped_set_only(tmp_path: Path) -> None:
    require_tools("cyclonedx-py")
    _tree(tmp_path, {"app/requirements.txt": "flask==3.1.1\n", "requirements-dev.txt": "pytest==8.3.0\n"})
    out = tmp_path / "sbom.json"
    record = SbomRunner(output=out).run(tmp_path, tmp_path, 120)
    assert record.status == "ok", record.errors
    assert any("requirements-dev.txt" in n and "do not ship" in n for n in record.notes)
    purls = {c["purl"] for c in json.loads(out.read_text(encoding="utf-8"))["components"]}
    assert purls == {"pkg:pypi/flask@3.1.1"}


# --------------------------------------------------------------------------------------------
# The gate decides what is scanned: the survey


@pytest.mark.parametrize(
    ("glob", "path", "excluded"),
    [
        ("vendor/**", "vendor/a/b.py", True),
        ("vendor/**", "src/vendor/b.py", False),  # anchored at the root
        ("vendor", "vendor/b.py", True),  # a folder sets aside everything below it
        ("vendor", "src/vendor/b.py", False),
        ("**/generated/*.py", "a/b/generated/x.py", True),
        ("*.py", "a/x.py", False),  # `*` stays within one folder
        ("/third_party/**", "third_party/x.py", True),
    ],
)
def test_coverage_globs_are_anchored(glob: str, path: str, excluded: bool) -> None:
    assert glob_excludes(glob, path) is excluded


def test_coverage_data_is_checked() -> None:
    assert CoverageRules.from_data({}) == CoverageRules()
    assert CoverageRules.from_data({"coverage": {"exclude": ["vendor/**"], "extensions": [".PY"]}}).extensions == ("py",)
    with pytest.raises(ValueError, match="coverage.exclude"):
        CoverageRules.from_data({"coverage": {"exclude": [""]}})


def test_survey_takes_the_gates_view_of_the_tree(tmp_path: Path) -> None:
    """What counts as source is the gate's: every `.py`/`.pyw` and every Python script, wherever
    it lies; data exclusions are on the record; symbolic links are never followed, and a link that
    leaves the project is unscanned rather than silently dropped (our variant of the attack)."""
    project, outside = tmp_path / "p", tmp_path / "outside"
    hiding_tree(project, outside)
    (project / "notes.txt").write_text("#!/bin/sh\necho not python\n", encoding="utf-8")
    (project / "gui.pyw").write_text(FLAW, encoding="utf-8")
    (project / "alias.py").symlink_to(project / "app.py")
    (project / "escape.py").symlink_to(outside / "flaw.py")
    (project / "innerlink").symlink_to(project / "hidden", target_is_directory=True)
    os.mkfifo(project / "pipe.py")
    (project / ".git" / "hooks").mkdir(parents=True)
    (project / ".git" / "hooks" / "x.py").write_text(FLAW, encoding="utf-8")  # the repository's own
    (project / "sub" / ".git").mkdir(parents=True)
    (project / "sub" / ".git" / "planted.py").write_text(FLAW, encoding="utf-8")  # not git's: walked
    found = survey(project, CoverageRules(exclude=("vendor/**",)))
    assert sorted(found.paths) == sorted([*HIDDEN, "app.py", "gui.pyw", "alias.py", "sub/.git/planted.py"])
    assert found.excluded == [("vendor/third_party.py", "vendor/**")]
    assert dict(found.unscannable) == {
        "escape.py": "symbolic link to a file outside the project: not read",
        "lib": "symbolic link to a folder outside the project: not followed",
        "pipe.py": "not a regular file (a FIFO, socket or device): not read",
    }
    snapshot = tmp_path / "snap"
    assert found.snapshot(snapshot) == []
    assert (snapshot / "alias.py").read_text(encoding="utf-8") == "print('hello')\n"  # what `import alias` runs
    assert stat.S_IMODE(snapshot.stat().st_mode) == 0o700
    assert not (snapshot / ".semgrepignore").exists() and not (snapshot / ".bandit").exists()
    missing = unscanned(found, {"bandit": {"app.py"}, "semgrep": {"app.py", "gui.pyw"}})
    assert {"path": "bin/tool", "reason": "no code scanner scanned it (code scanners that ran: bandit, semgrep)"} in missing
    assert {e["path"] for e in missing} >= {"escape.py", "lib", "pipe.py"} and "gui.pyw" not in {e["path"] for e in missing}


# --------------------------------------------------------------------------------------------
# Reports the gate writes are its own


def _record(path: Path, data: bytes) -> RunRecord:
    path.write_bytes(data)
    return RunRecord(
        name="bandit", tool="bandit", format="bandit", status="ok", report=str(path), data=data, sha256=hashlib.sha256(data).hexdigest()
    )


def test_a_report_changed_after_its_scanner_ended_is_refused(tmp_path: Path) -> None:
    data = b'{"results": [{"x": 1}]}'
    run = ScanRun(target="p", out_dir="o", records=(_record(tmp_path / "bandit.json", data),), wall_time=0.0)
    assert run.verified_reports() == [(str(tmp_path / "bandit.json"), data)]
    (tmp_path / "bandit.json").write_bytes(b'{"results": []}')
    with pytest.raises(InputError, match="changed after the scanner ended"):
        run.verified_reports()
    (tmp_path / "bandit.json").unlink()
    with pytest.raises(InputError, match="removed or became unreadable"):
        run.verified_reports()


def test_copies_for_humans_are_named_in_the_verdict_and_the_private_file_is_checked(tmp_path: Path) -> None:
    data = b"{}"
    private = tmp_path / "private"
    private.mkdir()
    run = ScanRun(target="p", out_dir=str(private), records=(_record(private / "bandit.json", data),), wall_time=0.0)
    shown = run.relocated(tmp_path / "out")
    shown.copy_reports(tmp_path / "out")
    assert (tmp_path / "out" / "bandit.json").read_bytes() == data
    (tmp_path / "out" / "bandit.json").write_bytes(b"edited by a human")  # the copy is not what is judged
    assert shown.verified_reports() == [(shown.records[0].report, data)]
    (private / "bandit.json").write_bytes(b"{ }")
    with pytest.raises(InputError, match="changed after the scanner ended"):
        shown.verified_reports()


@pytest.mark.slow
def test_attack_a_report_rewritten_after_its_scanner_ended_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Attack: build code run after bandit had finished replaced its report with a clean one, and
    the gate said OPEN. Now the gate judges the bytes recorded when bandit ended and refuses a report
    that differs from them: an error (exit 3), never a pass."""
    require_tools("bandit")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "app.py").write_text(FLAW, encoding="utf-8")
    real_run = BanditRunner.run

    def then_rewrite(self: BanditRunner, *args: Any, **kwargs: Any) -> RunRecord:
        record = real_run(self, *args, **kwargs)
        assert record.report is not None
        Path(record.report).write_text('{"errors": [], "generated_at": "x", "metrics": {}, "results": []}', encoding="utf-8")
        return record

    monkeypatch.setattr(BanditRunner, "run", then_rewrite)
    res = run_gate(
        ["run", str(tmp_path / "p"), "--scanners", "bandit", "--out", str(tmp_path / "out"), "--time", TIME, "--progress", "off"]
    )
    assert res.exit_code == 3, res.stdout + res.stderr
    assert "the report of bandit changed after the scanner ended" in res.stderr
    # the copy kept for humans is bandit's own report, with the flaw
    assert "B602" in (tmp_path / "out" / "bandit.json").read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------------
# The hostile trees, judged by `gate run` with the real tools


def _gate_run(tmp: Path, target: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[int, str, dict[str, Any], dict[str, Any]]:
    res = run_gate(
        [
            "run",
            str(target),
            "--out",
            str(tmp / "out"),
            "--time",
            TIME,
            "--progress",
            "off",
            "--output",
            f"json={tmp / 'verdict.json'}",
            "--output",
            f"input={tmp / 'input.json'}",
            *extra,
        ],
        env=env,
    )
    verdict = json.loads((tmp / "verdict.json").read_text(encoding="utf-8"))
    document = json.loads((tmp / "input.json").read_text(encoding="utf-8"))
    return res.exit_code, res.stdout + res.stderr, verdict, document


@pytest.fixture(scope="module")
def hook_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str, dict[str, Any], dict[str, Any]]:
    require_tools("bandit", "semgrep", "pip-audit", "cyclonedx-py")
    base = tmp_path_factory.mktemp("hook")
    marker = base / "MARKER"
    project = build_hook_tree(base / "p", marker)
    # pip-audit is no longer among the default scanners (the SBOM is matched against the vulnerability
    # database instead); named, it runs in its install-nothing mode, which is what this attack tests.
    return (marker, *_gate_run(base, project, "--scanners", "bandit,semgrep,pip-audit,sbom", env=OFFLINE))


@pytest.mark.slow
def test_attack_build_code_in_the_tree_never_runs(hook_run: tuple[Path, int, str, dict[str, Any], dict[str, Any]]) -> None:
    """Attack: `./evilpkg` in requirements.txt made pip-audit install it, running its build code,
    and the gate opened. Here the package is named as a path line, an editable line and a `file:`
    URL, the project's own build backend is reachable through `-e .`, with index and find-links
    options and an include that leaves the project: the marker never appears, and the gate still
    judges the tree (the planted flaw closes it)."""
    marker, code, text, verdict, _ = hook_run
    assert not marker.exists(), marker.read_text(encoding="utf-8")
    assert code == 10, text
    flaws = {verdict["findings"][f]["location"]["path"] for v in verdict["violations"] for f in v["evidence"]["findings"]}
    assert "app.py" in flaws
    records = {s["name"]: s for s in verdict["run"]["scanners"]}
    audit, sbom = records["pip-audit"], records["sbom"]
    assert "--no-deps" in audit["command"] and "--disable-pip" in audit["command"]
    for record in (audit, sbom):
        said = "\n".join(record["notes"] + record["errors"])
        for line in ("./evilpkg", "-e ./evilpkg", "file:./evilpkg", "-e .", "--index-url", "--extra-index-url", "--find-links"):
            assert line in said, (record["name"], line)
        assert any("-> ../outside/more.txt: includes a file outside the project" in e for e in record["errors"]), record["name"]
        assert not record["complete"]
        # the tool never sees the project: it runs in a private folder on the gate's own file
        assert all(str(hook_run[0].parent / "p") not in arg for arg in record["command"])


@pytest.mark.slow
def test_attack_the_sbom_holds_only_what_was_checked(hook_run: tuple[Path, int, str, dict[str, Any], dict[str, Any]]) -> None:
    _, _, _, verdict, document = hook_run
    assert {c["purl"] for c in document["components"]} == {"pkg:pypi/requests@2.19.1"}
    assert any(s["name"] == "sbom" and s["sha256"] for s in verdict["run"]["scanners"])


@pytest.fixture(scope="module")
def hiding_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, dict[str, Any], dict[str, Any]]:
    require_tools("bandit", "semgrep")
    base = tmp_path_factory.mktemp("hiding")
    project = hiding_tree(base / "p", base / "outside")
    data = base / "data.yaml"
    # trusted data: a vendored folder excluded on the record; no test paths, so a flaw under
    # tests/ blocks like production code and only the scanners' own ignores could hide it
    data.write_text('coverage:\n  exclude: ["vendor/**"]\ntest_paths: []\n', encoding="utf-8")
    return _gate_run(base, project, "--scanners", "bandit,semgrep", "--data", str(data))


def _tools_at(document: dict[str, Any], path: str) -> set[str]:
    return {f["tool"].lower() for f in document["findings"] if (f["location"] or {}).get("path") == path}


@pytest.mark.slow
@pytest.mark.parametrize("path", HIDDEN)
def test_attack_no_ignore_file_or_default_exclude_hides_a_flaw(
    hiding_run: tuple[int, str, dict[str, Any], dict[str, Any]], path: str
) -> None:
    """Attack: flaws under src/node_modules/, tests/, build/, .tox/, in folders named in a planted
    .semgrepignore (and in the .policy-gate-semgrepignore the gate used to obey), in files the
    tree's .bandit / setup.cfg / pyproject.toml exclude, and in a script without `.py`: the
    scanners skipped them and the gate said nothing. Now both scanners report each one, and
    each closes the gate."""
    code, text, verdict, document = hiding_run
    assert code == 10, text
    assert _tools_at(document, path) >= {"bandit", "semgrep oss"} or _tools_at(document, path) >= {"bandit", "semgrep"}, path
    denied = {verdict["findings"][f]["location"]["path"] for v in verdict["violations"] for f in v["evidence"]["findings"]}
    assert path in denied


@pytest.mark.slow
def test_exclusions_and_unscanned_are_on_the_record(hiding_run: tuple[int, str, dict[str, Any], dict[str, Any]]) -> None:
    _, _, verdict, document = hiding_run
    assert not _tools_at(document, "vendor/third_party.py")  # excluded by data ...
    coverage = verdict["run"]["coverage"]
    assert coverage["excluded"] == [{"path": "vendor/third_party.py", "glob": "vendor/**"}]  # ... on the record
    assert coverage["rules"]["exclude"] == ["vendor/**"]
    expected = [{"path": "lib", "reason": "symbolic link to a folder outside the project: not followed", "test_code": False}]
    assert document["unscanned"] == verdict["unscanned"] == expected
    assert any(v["rule"] == "GATE-SCAN-020" and "lib (symbolic link" in v["msg"] for v in verdict["violations"])
    for scanner in verdict["run"]["scanners"]:
        assert scanner["coverage"]["targets"] == scanner["coverage"]["files"] == len(HIDDEN) + 1, scanner["name"]
        assert scanner["coverage"]["not_scanned"] == []
    assert not any(".policy-gate-semgrepignore" in arg for s in verdict["run"]["scanners"] for arg in s["command"])
    records = {s["name"]: s for s in verdict["run"]["scanners"]}
    assert "project bandit configuration not used: .bandit, setup.cfg, pyproject.toml" in records["bandit"]["notes"]
    assert any(n.startswith("project ignore files not obeyed: ") and ".policy-gate-semgrepignore" in n for n in records["semgrep"]["notes"])


@pytest.mark.slow
def test_schemas_accept_the_new_records(hiding_run: tuple[int, str, dict[str, Any], dict[str, Any]]) -> None:
    _, _, verdict, document = hiding_run
    schemas = REPO / "gate" / "schemas"
    jsonschema_rs.validate(json.loads((schemas / "input.schema.json").read_text(encoding="utf-8")), document)
    jsonschema_rs.validate(json.loads((schemas / "verdict.schema.json").read_text(encoding="utf-8")), verdict)


def test_prepared_errors_make_a_run_incomplete() -> None:
    assert Prepared(errors=["x"]).errors == ["x"]
    assert SemgrepRunner().ignore_name != SemgrepRunner().ignore_name  # random per runner (and per run)


@pytest.mark.slow
def test_attack_no_code_scanner_means_everything_is_unscanned(tmp_path: Path) -> None:
    """Attack: `--scanners sbom` (or a pipeline that drops the code scanners) and the gate knew of
    no code at all. Now every source file is unscanned: `gate scan` refuses (exit 3) and names it."""
    require_tools("cyclonedx-py")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "app.py").write_text(FLAW, encoding="utf-8")
    (tmp_path / "p" / "requirements.txt").write_text("idna==3.7\n", encoding="utf-8")
    res = run_gate(["scan", str(tmp_path / "p"), "--scanners", "sbom", "--out", str(tmp_path / "out"), "--progress", "off"])
    assert res.exit_code == 3, res.stderr
    assert "1 source file(s) no code scanner scanned: app.py (no code scanner scanned it (code scanners that ran: none))" in res.stderr
    run = run_all([get_runner("sbom")], tmp_path / "p", tmp_path / "r", 60)
    assert run.unscanned() == [{"path": "app.py", "reason": "no code scanner scanned it (code scanners that ran: none)"}]


# --------------------------------------------------------------------------------------------
# `gate evaluate --source-root DIR`: the tree is known, so unscanned files are listed


EXAMPLE_REPORTS = REPO / "examples" / "reports"
VULNERABLE = REPO / "examples" / "vulnerable-app"


def _evaluate(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any], dict[str, Any]]:
    res = run_gate(
        ["evaluate", *args, "--time", TIME, "--output", f"json={tmp_path / 'v.json'}", "--output", f"input={tmp_path / 'i.json'}"]
    )
    verdict = json.loads((tmp_path / "v.json").read_text(encoding="utf-8"))
    document = json.loads((tmp_path / "i.json").read_text(encoding="utf-8"))
    return res.exit_code, verdict, document


def test_evaluate_with_source_root_lists_nothing_when_a_report_covers_every_file(tmp_path: Path) -> None:
    code, verdict, document = _evaluate(tmp_path, str(EXAMPLE_REPORTS), "--source-root", str(VULNERABLE))
    assert code == 10  # the example's own flaws
    assert verdict["unscanned"] == document["unscanned"] == []
    assert not any(v["rule"] == "GATE-SCAN-020" for v in verdict["violations"])


@pytest.mark.slow
def test_attack_evaluate_with_source_root_sees_code_no_report_covered(tmp_path: Path) -> None:
    """Attack: a pipeline passes reports that cover part of the project (a bandit report of the
    files that were there before, a SARIF log that lists no files) and the gate could not tell.
    With the tree given, every source file no report lists is unscanned; production code blocks."""
    project = tmp_path / "p"
    for name in ("app.py", "tests/test_app.py"):
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text((VULNERABLE / name).read_text(encoding="utf-8"), encoding="utf-8")
    (project / "extra.py").write_text(FLAW, encoding="utf-8")
    code, verdict, document = _evaluate(tmp_path, str(EXAMPLE_REPORTS / "bandit.json"), "--source-root", str(project))
    assert code == 10
    reason = f"no code scanner scanned it (reports that list the files they scanned: {EXAMPLE_REPORTS / 'bandit.json'})"
    assert document["unscanned"] == [{"path": "extra.py", "reason": reason, "test_code": False}]
    assert any(v["rule"] == "GATE-SCAN-020" and v["msg"].startswith("1 source file of production code") for v in verdict["violations"])
    _, verdict, _ = _evaluate(tmp_path, str(EXAMPLE_REPORTS / "semgrep.sarif"), "--source-root", str(project))
    assert {u["path"] for u in verdict["unscanned"]} == {"app.py", "extra.py", "tests/test_app.py"}


def test_evaluate_without_source_root_does_not_know_the_tree(tmp_path: Path) -> None:
    _, verdict, document = _evaluate(tmp_path, str(EXAMPLE_REPORTS / "semgrep.sarif"))
    assert "unscanned" not in verdict and "unscanned" not in document
