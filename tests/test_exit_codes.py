"""Every row of the contract's exit-code table, with a small policy of the tests' own."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import DATA, run_gate

CORE = DATA / "core"
POLICY = CORE / "policy"
T = ["--time", "2026-11-26T12:00:00Z"]


def ev(*args: str) -> object:
    return run_gate(["evaluate", "--policy", str(POLICY), *T, *args])


def copy_policy(tmp_path: Path) -> Path:
    dst = tmp_path / "policy"
    shutil.copytree(POLICY, dst)
    return dst


def test_open_is_0() -> None:
    res = ev(str(CORE / "clean.sarif"))
    assert res.exit_code == 0, res.stderr
    assert "gate OPEN" in res.stdout


def test_warnings_alone_keep_the_gate_open() -> None:
    res = ev(str(CORE / "medium.sarif"))
    assert res.exit_code == 0
    assert "1 warning(s)" in res.stdout


def test_deny_is_10() -> None:
    res = ev(str(CORE / "high.sarif"))
    assert res.exit_code == 10
    assert "CORE-001" in res.stdout


def test_fail_on_warn_is_11() -> None:
    res = ev(str(CORE / "medium.sarif"), "--fail-on", "warn")
    assert res.exit_code == 11


def test_stage_profile_fail_on_and_explicit_flag_wins() -> None:
    assert ev(str(CORE / "medium.sarif"), "--stage", "strict").exit_code == 11
    assert ev(str(CORE / "medium.sarif"), "--stage", "strict", "--fail-on", "deny").exit_code == 0


def test_256_violations_is_10_never_a_count(tmp_path: Path) -> None:
    out = tmp_path / "v.json"
    res = ev(str(CORE / "many.sarif"), "--output", f"json={out}")
    assert res.exit_code == 10
    assert len(json.loads(out.read_text())["violations"]) == 256


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "nonsense"],
        ["--output", "nonsense=x.txt"],
        ["--output", "json"],
        ["--stage", "no-such-stage"],
        ["--time", "yesterday"],
        ["--engine", "cobol"],
    ],
    ids=["format", "output-name", "output-no-path", "stage", "time", "engine"],
)
def test_usage_and_configuration_errors_are_2(args: list[str]) -> None:
    res = ev(str(CORE / "clean.sarif"), *args)
    assert res.exit_code == 2, (res.stdout, res.stderr)


def test_missing_input_is_3() -> None:
    res = ev(str(CORE / "no-such-file.sarif"))
    assert res.exit_code == 3
    assert "no-such-file.sarif" in res.stderr + res.stdout


def test_empty_file_is_3(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sarif"
    empty.write_bytes(b"")
    res = ev(str(empty))
    assert res.exit_code == 3
    assert "empty" in res.stderr + res.stdout


def test_no_input_at_all_is_3_unless_allowed() -> None:
    assert ev().exit_code == 3
    assert ev("--allow-empty").exit_code == 0


def test_unknown_format_is_3(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"hello": "world"}')
    res = ev(str(other))
    assert res.exit_code == 3
    assert "unknown format" in res.stderr + res.stdout


def test_policy_syntax_error_is_4_with_position(tmp_path: Path) -> None:
    pol = copy_policy(tmp_path)
    (pol / "broken.rego").write_text("package gate.broken\nimport rego.v1\ndeny contains x if {\n  x := \n}\n")
    res = run_gate(["evaluate", str(CORE / "clean.sarif"), "--policy", str(pol), *T])
    assert res.exit_code == 4
    assert "broken.rego:4:" in res.stderr + res.stdout


def test_package_typo_is_an_undefined_decision_4(tmp_path: Path) -> None:
    pol = copy_policy(tmp_path)
    text = (pol / "core.rego").read_text().replace("package gate.core", "package gat.core")
    (pol / "core.rego").write_text(text)
    res = run_gate(["evaluate", str(CORE / "clean.sarif"), "--policy", str(pol), *T])
    assert res.exit_code == 4
    assert "no decision" in res.stderr + res.stdout


def test_builtin_error_is_4(tmp_path: Path) -> None:
    pol = copy_policy(tmp_path)
    (pol / "bad.rego").write_text(
        'package gate.bad\nimport rego.v1\nwarn contains {"rule": "CORE-002", "msg": "x"} if {\n  to_number("not a number") > 1\n}\n'
    )
    res = run_gate(["evaluate", str(CORE / "clean.sarif"), "--policy", str(pol), *T])
    assert res.exit_code == 4
    assert "bad.rego:4" in res.stderr + res.stdout


@pytest.mark.parametrize(
    "call", ['http.send({"method": "get", "url": "http://127.0.0.1:1"})', "opa.runtime()", 'net.lookup_ip_addr("example.com")']
)
def test_forbidden_builtins_are_refused_at_load_4(tmp_path: Path, call: str) -> None:
    pol = copy_policy(tmp_path)
    (pol / "evil.rego").write_text(f"package gate.evil\nimport rego.v1\n\nx := {call}\n")
    res = run_gate(["evaluate", str(CORE / "clean.sarif"), "--policy", str(pol), *T])
    assert res.exit_code == 4
    assert "evil.rego:4:" in res.stderr + res.stdout
    assert "forbidden builtin" in res.stderr + res.stdout


@pytest.mark.slow
def test_slow_policy_times_out_4(tmp_path: Path) -> None:
    pol = copy_policy(tmp_path)
    (pol / "slow.rego").write_text(
        'package gate.slow\nimport rego.v1\nwarn contains {"rule": "CORE-002", "msg": "never"} if {\n'
        "  some i in numbers.range(1, 1000000)\n  some j in numbers.range(1, 1000000)\n  i * j == -1\n}\n"
    )
    res = run_gate(["evaluate", str(CORE / "clean.sarif"), "--policy", str(pol), "--eval-timeout", "1", *T])
    assert res.exit_code == 4
    assert "time limit" in res.stderr + res.stdout


def test_unwritable_output_is_5(tmp_path: Path) -> None:
    target = tmp_path / "ro"
    target.mkdir()
    blocker = target / "file"
    blocker.write_text("x")
    res = ev(str(CORE / "clean.sarif"), "--output", f"json={blocker}/verdict.json")
    assert res.exit_code == 5


def test_internal_error_is_6_not_1(monkeypatch: pytest.MonkeyPatch) -> None:
    import gate.pipeline

    def boom(*a: object, **k: object) -> None:
        raise RuntimeError("injected")

    monkeypatch.setattr(gate.pipeline, "link_duplicates", boom)
    res = ev(str(CORE / "clean.sarif"))
    assert res.exit_code == 6
    assert "internal error" in res.stderr


def test_error_verdict_has_no_violations(tmp_path: Path) -> None:
    out = tmp_path / "v.json"
    res = ev(str(CORE / "high.sarif"), str(CORE / "missing.sarif"), "--output", f"json={out}")
    assert res.exit_code == 3
    verdict = json.loads(out.read_text())
    assert verdict["decision"] == "error"
    assert verdict["violations"] == [] and verdict["warnings"] == []
    assert verdict["error"]["file"].endswith("missing.sarif")


def test_verdict_is_deterministic_apart_from_timing(tmp_path: Path) -> None:
    outs = []
    for i in range(2):
        out = tmp_path / f"v{i}.json"
        ev(str(CORE / "many.sarif"), str(CORE / "medium.sarif"), "--output", f"json={out}")
        v = json.loads(out.read_text())
        v.pop("timing")
        outs.append(json.dumps(v, sort_keys=True))
    assert outs[0] == outs[1]


def test_options_read_environment_variables() -> None:
    res = run_gate(["evaluate", str(CORE / "medium.sarif"), "--policy", str(POLICY), *T], env={"GATE_FAIL_ON": "warn"})
    assert res.exit_code == 11


def test_config_file(tmp_path: Path) -> None:
    cfg = tmp_path / "gate.toml"
    cfg.write_text(f'[gate]\npolicy = "{POLICY}"\nfail_on = "warn"\ntime = "2026-11-26T12:00:00Z"\n')
    res = run_gate(["evaluate", str(CORE / "medium.sarif"), "--config", str(cfg)])
    assert res.exit_code == 11, res.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[gate]\npolicyy = "x"\n')
    res = run_gate(["evaluate", str(CORE / "medium.sarif"), "--config", str(bad)])
    assert res.exit_code == 2
    assert "policyy" in res.stderr


def test_version() -> None:
    from gate import __version__

    res = run_gate(["--version"])
    assert res.exit_code == 0
    assert __version__ in res.stdout


@pytest.mark.slow
def test_real_process_exit_code(tmp_path: Path) -> None:
    """The installed console script, not only Click's runner."""
    import subprocess
    import sys

    exe = shutil.which("gate", path=os.path.dirname(sys.executable))
    assert exe, "the gate console script is not installed next to this Python"
    proc = subprocess.run(
        [exe, "evaluate", str(CORE / "high.sarif"), "--policy", str(POLICY), *T], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 10, proc.stderr
