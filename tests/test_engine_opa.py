"""The `opa` engine: `opa eval` with the same input, data and query as the embedded engine, strict
builtin errors and a time limit; OPA's errors mapped to the policy files (exit 4); `opa test`
with coverage for `gate policy test --engine opa`."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from conftest import run_gate
from opa_support import TEST_POLICY, opa_binary

from gate.engine.embedded import EmbeddedEngine
from gate.engine.opa import OPA_BINARY_ENV, OpaEngine, find_opa
from gate.engine.registry import get_engine
from gate.errors import EngineError, ExitCode, PolicyError
from gate.policy import load_policy

RULE = """package gate.t

import rego.v1

# METADATA
# title: T
# custom:
#   id: T-1
#   severity: high
#   control: C
#   remediation: R
deny contains v if {{
{body}
}}
"""


def _finding(fid: str, tool: str, rule: str, severity: str, message: str) -> dict[str, object]:
    return {
        "id": fid,
        "tool": tool,
        "tool_version": "1",
        "rule_id": rule,
        "rule_name": rule,
        "kind": "sast",
        "severity": severity,
        "confidence": "high",
        "message": message,
        "location": None,
        "cwe": ["CWE-703"],
        "cve": [],
        "aliases": [],
        "package": None,
        "suppressed": False,
        "duplicates": [],
        "test_code": False,
        "baseline": "unknown",
        "source": {"path": "r.json", "format": tool, "index": 0},
        "waiver": None,
        "vex": None,
        "help_uri": None,
    }


INPUT = {
    "schema": "gate.input/v1",
    "context": {"stage": "default", "time": "2026-03-01T00:00:00Z"},
    "findings": [_finding("f1", "bandit", "B101", "high", "assert used"), _finding("f2", "semgrep", "python.x", "low", "mild")],
    "components": [],
    "scans": [],
}


def _pack(tmp_path: Path, body: str, extra: dict[str, str] | None = None) -> Path:
    pack = tmp_path / "pack"
    pack.mkdir(exist_ok=True)
    (pack / "t.rego").write_text(RULE.format(body=body))
    for name, text in (extra or {}).items():
        (pack / name).parent.mkdir(parents=True, exist_ok=True)
        (pack / name).write_text(text)
    return pack


@pytest.fixture(autouse=True)
def _need_opa() -> None:
    opa_binary()


# --------------------------------------------------------------------------------------------
# Finding the binary


def test_binary_comes_from_env_then_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = find_opa()
    monkeypatch.setenv(OPA_BINARY_ENV, real)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_opa() == real
    assert re.fullmatch(r"OPA \d+\.\d+\.\d+", OpaEngine().version())
    monkeypatch.delenv(OPA_BINARY_ENV)
    with pytest.raises(EngineError) as err:
        find_opa()
    assert "not found on PATH" in err.value.message and err.value.exit_code == ExitCode.POLICY
    (tmp_path / "opa").symlink_to(real)
    assert find_opa() == str(tmp_path / "opa")


def test_a_configured_binary_that_is_not_executable_is_an_engine_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "opa"
    fake.write_text("not a program")
    monkeypatch.setenv(OPA_BINARY_ENV, str(fake))
    with pytest.raises(EngineError, match="not an executable file"):
        find_opa()


def test_missing_opa_is_exit_4_through_the_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(OPA_BINARY_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    res = run_gate(["policy", "test", str(TEST_POLICY), "--engine", "opa"])
    assert res.exit_code == ExitCode.POLICY
    assert "opa binary was not found" in res.stderr


# --------------------------------------------------------------------------------------------
# Evaluation


def test_same_raw_decision_as_the_embedded_engine() -> None:
    policy = load_policy(TEST_POLICY, include_tests=False)
    doc = json.dumps(INPUT)
    opa = OpaEngine().evaluate(policy, doc, timeout=30)
    emb = EmbeddedEngine().evaluate(policy, doc, timeout=30)

    def canon(items: list[object]) -> list[str]:
        return sorted(json.dumps(i, sort_keys=True) for i in items)

    assert canon(opa.deny) == canon(emb.deny) and canon(opa.warn) == canon(emb.warn)
    assert [v["rule"] for v in opa.deny] == ["OPADIFF-001"]
    assert "bandit B101 at (no location): assert used [HIGH/" in opa.deny[0]["msg"]
    assert get_engine("opa").name == "opa"


def test_meanwhile_runs_while_opa_evaluates_and_an_error_in_it_stops_opa(tmp_path: Path) -> None:
    """The caller's work runs in this process while the opa child evaluates (it is alive then);
    the answer is the same; an exception from it kills opa and propagates."""
    import os

    policy = load_policy(TEST_POLICY, include_tests=False)
    doc = json.dumps(INPUT)
    children: list[list[str]] = []

    def look() -> None:
        me = os.getpid()
        listing = Path(f"/proc/{me}/task/{me}/children")  # Linux; elsewhere only the call is counted
        children.append(listing.read_text(encoding="ascii").split() if listing.exists() else ["?"])

    got = OpaEngine().evaluate(policy, doc, timeout=30, meanwhile=look)
    plain = OpaEngine().evaluate(policy, doc, timeout=30)
    assert got.deny == plain.deny and got.warn == plain.warn
    assert len(children) == 1 and len(children[0]) == 1  # opa, running while the caller worked

    def boom() -> None:
        raise RuntimeError("the caller's own work failed")

    with pytest.raises(RuntimeError, match="own work failed"):
        OpaEngine().evaluate(policy, doc, timeout=30, meanwhile=boom)
    with pytest.raises(ChildProcessError):  # opa was killed and waited for
        os.waitpid(-1, os.WNOHANG)


def test_compile_error_names_the_policy_file_and_line(tmp_path: Path) -> None:
    pack = _pack(tmp_path, '\tv := {"rule": "T-1", "msg": "x"}\n\tnot_a_function(1)')
    with pytest.raises(PolicyError) as err:
        OpaEngine().evaluate(load_policy(pack), json.dumps(INPUT), timeout=30)
    assert err.value.file == f"{pack}/t.rego"
    assert err.value.position is not None and err.value.position.line == 14
    assert "rego_type_error" in err.value.message and "not_a_function" in err.value.message
    assert "gate-opa-" not in str(err.value)  # the temporary folder never shows


def test_builtin_error_is_an_error_not_an_undefined_rule(tmp_path: Path) -> None:
    pack = _pack(tmp_path, '\tsome f in input.findings\n\tregex.match(concat("", ["[", f.id]), "x")\n\tv := {"rule": "T-1", "msg": f.id}')
    with pytest.raises(PolicyError) as err:
        OpaEngine().evaluate(load_policy(pack), json.dumps(INPUT), timeout=30)
    assert "eval_builtin_error" in err.value.message and "regex.match" in err.value.message
    assert err.value.file == f"{pack}/t.rego" and err.value.position is not None and err.value.position.line == 14
    assert err.value.exit_code == ExitCode.POLICY


def test_slow_policy_is_stopped_at_the_time_limit(tmp_path: Path) -> None:
    pack = _pack(tmp_path, '\tsome n in numbers.range(1, 1000000000)\n\tn < 0\n\tv := {"rule": "T-1", "msg": "never"}')
    started = time.monotonic()
    with pytest.raises(EngineError) as err:
        OpaEngine().evaluate(load_policy(pack), json.dumps(INPUT), timeout=0.5)
    assert time.monotonic() - started < 8
    assert "time limit of 0.5 s" in err.value.message and err.value.exit_code == ExitCode.POLICY


def test_undefined_decision_is_named(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "u.rego").write_text('package gate.u\n\nimport rego.v1\n\ndeny := {"x"} if input.never\n')
    with pytest.raises(PolicyError) as err:
        OpaEngine().evaluate(load_policy(pack), json.dumps(INPUT), timeout=30)
    assert err.value.message.startswith("decision data.gate.u.deny is undefined")


def test_a_decision_that_is_not_a_set_is_an_error(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "u.rego").write_text("package gate.u\n\nimport rego.v1\n\ndeny := 5\n")
    with pytest.raises(PolicyError, match=r"data.gate.u.deny is int, not a set"):
        OpaEngine().evaluate(load_policy(pack), json.dumps(INPUT), timeout=30)


def test_input_document_is_not_loaded_as_data(tmp_path: Path) -> None:
    # The input file lies outside the folder given to --data, so `data` holds only config.
    pack = _pack(tmp_path, '\tis_array(data.findings)\n\tv := {"rule": "T-1", "msg": "the input was loaded as data"}')
    raw = OpaEngine().evaluate(load_policy(pack), json.dumps(INPUT), timeout=30)
    assert raw.deny == []


# --------------------------------------------------------------------------------------------
# opa test


TESTS = """package gate.t_test

import rego.v1

import data.gate.t

test_denies_high if {
	print("checking", count(t.deny))
	count(t.deny) == 1 with input as {"findings": [{"id": "a", "severity": "high"}]}
}

test_wrong if {
	count(t.deny) == 2 with input as {"findings": []}
}
"""


def test_run_tests_reports_results_prints_and_failures(tmp_path: Path) -> None:
    pack = _pack(
        tmp_path, '\tsome f in input.findings\n\tf.severity == "high"\n\tv := {"rule": "T-1", "msg": f.id}', {"t_test.rego": TESTS}
    )
    run = OpaEngine().run_tests(load_policy(pack), timeout=60)
    by_name = {r.name: r for r in run.results}
    assert set(by_name) == {"test_denies_high", "test_wrong"}
    ok, bad = by_name["test_denies_high"], by_name["test_wrong"]
    assert ok.passed and ok.package == "gate.t_test" and ok.file == f"{pack}/t_test.rego" and ok.line == 7
    assert not bad.passed and bad.line == 12 and "failed" in bad.message
    assert any("checking" in p for p in run.prints)


def test_run_tests_measures_line_coverage_of_the_policy_modules(tmp_path: Path) -> None:
    tests = TESTS.split("test_wrong")[0].rstrip() + "\n"
    pack = _pack(
        tmp_path, '\tsome f in input.findings\n\tf.severity == "high"\n\tv := {"rule": "T-1", "msg": f.id}', {"t_test.rego": tests}
    )
    (pack / "other.rego").write_text('package gate.other\n\nimport rego.v1\n\nwarn contains "w" if {\n\tinput.x == 1\n}\n')
    run = OpaEngine().run_tests(load_policy(pack), timeout=60)
    assert all(r.passed for r in run.results) and len(run.results) == 1
    covered, total = run.coverage[f"{pack}/t.rego"]
    assert 0 < covered <= total
    assert f"{pack}/t_test.rego" not in run.coverage  # the tests themselves are not counted
    assert run.coverage[f"{pack}/other.rego"][0] == 0  # reached by no test


def test_run_tests_compile_error_is_exit_4_with_place(tmp_path: Path) -> None:
    pack = _pack(
        tmp_path,
        '\tv := {"rule": "T-1", "msg": "x"}',
        {"t_test.rego": "package gate.t_test\n\nimport rego.v1\n\ntest_x if {\n\tundefined_fn(1)\n}\n"},
    )
    with pytest.raises(PolicyError) as err:
        OpaEngine().run_tests(load_policy(pack), timeout=60)
    assert err.value.file == f"{pack}/t_test.rego" and err.value.position is not None and err.value.position.line == 6


def test_policy_test_cli_with_engine_opa(tmp_path: Path) -> None:
    pack = _pack(
        tmp_path, '\tsome f in input.findings\n\tf.severity == "high"\n\tv := {"rule": "T-1", "msg": f.id}', {"t_test.rego": TESTS}
    )
    res = run_gate(["policy", "test", str(pack), "--engine", "opa"])
    assert res.exit_code == ExitCode.DENY
    assert re.search(r"^FAIL gate\.t_test\.test_wrong \(.*t_test\.rego:12\)", res.stdout, re.MULTILINE), res.stdout
    assert "1 passed, 1 failed" in res.stdout
    (pack / "t_test.rego").write_text(TESTS.split("test_wrong")[0].rstrip() + "\n")
    res = run_gate(["policy", "test", str(pack), "--engine", "opa", "--coverage-min", "50"])
    assert res.exit_code == 0, res.stdout + res.stderr
    assert re.search(r"^1 passed, 0 failed; coverage \d+\.\d% \(\d+/\d+ lines\)$", res.stdout, re.MULTILINE)


def test_opa_and_embedded_agree_on_which_tests_pass(tmp_path: Path) -> None:
    pack = _pack(
        tmp_path, '\tsome f in input.findings\n\tf.severity == "high"\n\tv := {"rule": "T-1", "msg": f.id}', {"t_test.rego": TESTS}
    )
    policy = load_policy(pack)
    opa = {(r.package, r.name, r.passed, r.line) for r in OpaEngine().run_tests(policy, timeout=60).results}
    emb = {(r.package, r.name, r.passed, r.line) for r in EmbeddedEngine().run_tests(policy, timeout=60).results}
    assert opa == emb and len(opa) == 2


def test_opa_runs_with_capabilities_that_leave_the_forbidden_builtins_out() -> None:
    """`opa eval` and `opa test` get `--capabilities`: OPA's own list less the builtins no policy
    may use (network, environment, clock, randomness), with no network for anything else."""
    from gate.engine.opa import capabilities_json
    from gate.policy_safety import FORBIDDEN

    binary = opa_binary()
    caps = json.loads(capabilities_json(binary))
    names = {b["name"] for b in caps["builtins"]}
    assert not names & set(FORBIDDEN)
    assert {"count", "sprintf", "time.parse_rfc3339_ns", "regex.match"} <= names
    assert caps["allow_net"] == []
    assert caps.get("features") or caps.get("future_keywords")  # the rest of OPA's document kept
