"""Broken or hostile policies: exit 4 with file:line:column where one exists, and no partial verdict.

Every case evaluates a report that the intact policy denies (high.sarif): the error verdict must
carry not one violation, so nothing downstream can mistake a half-evaluated run for a result.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.threats.helpers import CORE, CORE_POLICY, assert_error_verdict, copy_tree, evaluate_verdict, opa_binary, said

REPORT = str(CORE / "high.sarif")


def policy_copy(tmp_path: Path) -> Path:
    return copy_tree(CORE_POLICY, tmp_path / "policy")


def run(tmp_path: Path, policy: Path, *extra: str) -> tuple[object, dict]:
    res, verdict, _ = evaluate_verdict(tmp_path, REPORT, *extra, policy=policy)
    return res, verdict


def test_the_intact_policy_denies_the_report(tmp_path: Path) -> None:
    res, verdict = run(tmp_path, policy_copy(tmp_path))
    assert res.exit_code == 10 and verdict["violations"]


def test_syntax_error_in_one_file_names_file_line_column(tmp_path: Path) -> None:
    pol = policy_copy(tmp_path)
    broken = pol / "broken.rego"
    broken.write_text("package gate.broken\nimport rego.v1\n\ndeny contains x if {\n  x := \n}\n")
    res, verdict = run(tmp_path, pol)
    assert res.exit_code == 4
    assert_error_verdict(verdict, 4)
    err = verdict["error"]
    assert err["file"].endswith("broken.rego") and err["position"]["line"] in (5, 6) and err["position"]["column"] >= 1
    assert f"broken.rego:{err['position']['line']}:{err['position']['column']}:" in said(res)


@pytest.mark.parametrize("layout", ["empty", "data only", "missing"])
def test_a_policy_folder_without_rego_is_4(tmp_path: Path, layout: str) -> None:
    pol = tmp_path / "policy"
    if layout != "missing":
        pol.mkdir()
    if layout == "data only":
        (pol / "data").mkdir()
        (pol / "data" / "gate.yaml").write_text("stages: {}\n")
    res, verdict = run(tmp_path, pol)
    assert res.exit_code == 4
    assert_error_verdict(verdict, 4)
    expected = "policy folder not found" if layout == "missing" else "no Rego policy (*.rego) in the policy folder"
    assert f"{pol}: {expected}" in said(res)


@pytest.mark.parametrize("engine", ["embedded", "opa"])
def test_package_typo_is_an_undefined_decision(tmp_path: Path, engine: str) -> None:
    if engine == "opa":
        opa_binary()
    pol = policy_copy(tmp_path)
    core = pol / "core.rego"
    core.write_text(core.read_text().replace("package gate.core", "package gat.core"))
    res, verdict = run(tmp_path, pol, "--engine", engine)
    assert res.exit_code == 4
    assert_error_verdict(verdict, 4)
    assert "no decision" in said(res), said(res)


@pytest.mark.parametrize("engine", ["embedded", "opa"])
def test_builtin_error_is_an_error_never_undefined(tmp_path: Path, engine: str) -> None:
    if engine == "opa":
        opa_binary()
    pol = policy_copy(tmp_path)
    (pol / "bad.rego").write_text(
        'package gate.bad\nimport rego.v1\n\ndeny contains {"rule": "CORE-001", "msg": "x"} if {\n  to_number("not a number") > 1\n}\n'
    )
    res, verdict = run(tmp_path, pol, "--engine", engine)
    assert res.exit_code == 4, said(res)
    assert_error_verdict(verdict, 4)
    assert "bad.rego:5" in said(res), said(res)


def test_very_slow_policy_stops_at_the_limit(tmp_path: Path) -> None:
    pol = policy_copy(tmp_path)
    (pol / "slow.rego").write_text(
        'package gate.slow\nimport rego.v1\n\nwarn contains {"rule": "CORE-002", "msg": "never"} if {\n'
        "  some i in numbers.range(1, 100000000)\n  some j in numbers.range(1, 100000000)\n  i * j == -1\n}\n"
    )
    started = time.perf_counter()
    res, verdict = run(tmp_path, pol, "--eval-timeout", "1")
    elapsed = time.perf_counter() - started
    assert res.exit_code == 4
    assert_error_verdict(verdict, 4)
    assert "policy evaluation exceeded the time limit of 1 s" in said(res)
    assert elapsed < 10, f"stopped after {elapsed:.1f} s for a limit of 1 s"


@pytest.mark.parametrize(
    ("call", "builtin"),
    [
        ('http.send({"method": "get", "url": "http://127.0.0.1:9/"})', "http.send"),
        ("opa.runtime()", "opa.runtime"),
        ('net.lookup_ip_addr("example.com")', "net.lookup_ip_addr"),
        ('x := http.send({"method": "get", "url": "http://127.0.0.1:9/"}).body', "http.send"),
    ],
)
def test_network_and_environment_builtins_are_refused_at_load(tmp_path: Path, call: str, builtin: str) -> None:
    pol = policy_copy(tmp_path)
    body = call if call.startswith("x :=") else f"x := {call}"
    (pol / "evil.rego").write_text(f"package gate.evil\nimport rego.v1\n\n{body}\n")
    res, verdict = run(tmp_path, pol)
    assert res.exit_code == 4
    assert_error_verdict(verdict, 4)
    err = verdict["error"]
    assert err["file"].endswith("evil.rego") and err["position"]["line"] == 4 and err["position"]["column"] >= 1
    assert f"evil.rego:4:{err['position']['column']}:" in said(res)
    assert "forbidden builtin" in said(res) and builtin in said(res)


def test_a_network_call_in_a_policy_test_file_never_runs(tmp_path: Path) -> None:
    """`*_test.rego` files are not loaded for evaluation, and `gate policy test` refuses them (4)."""
    from tests.conftest import run_gate

    pol = policy_copy(tmp_path)
    (pol / "evil_test.rego").write_text(
        'package gate.evil_test\nimport rego.v1\n\ntest_x if http.send({"method": "get", "url": "http://127.0.0.1:9/"})\n'
    )
    res, verdict = run(tmp_path, pol)
    assert res.exit_code == 10 and verdict["violations"], "evaluated without the test file"
    res = run_gate(["policy", "test", str(pol)])
    assert res.exit_code == 4
    assert "evil_test.rego:4:11: forbidden builtin http.send" in said(res)
