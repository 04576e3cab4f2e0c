"""`gate policy test`: the shipped pack's unit tests pass with >= 90% line coverage; failures,
compile errors and low coverage are reported with their place and exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gate.authoring.testrun import ranges, report_lines, summarise
from gate.engine import interface as engine_api
from tests.authoring_helpers import append, copy_pack
from tests.conftest import POLICIES, run_gate


@pytest.mark.slow
def test_shipped_pack_tests_pass_with_at_least_90_percent_coverage() -> None:
    res = run_gate(["policy", "test", str(POLICIES), "--coverage-min", "90"])
    assert res.exit_code == 0, res.stdout + res.stderr
    m = re.search(r"^(\d+) passed, 0 failed; coverage (\d+\.\d)% \((\d+)/(\d+) lines\)$", res.stdout, re.MULTILINE)
    assert m, res.stdout
    assert int(m.group(1)) > 0 and float(m.group(2)) >= 90.0
    # Coverage per policy module (the tests themselves are not counted).
    modules = sorted(str(p) for p in POLICIES.rglob("*.rego") if not p.name.endswith("_test.rego"))
    cov = res.stdout.split("coverage:", 1)[1]
    for module in modules:
        assert re.search(rf"^\s+{re.escape(module)}\s+\d+\.\d%", cov, re.MULTILINE), module
    assert not any(line.startswith("FAIL") for line in res.stdout.splitlines())


@pytest.mark.slow
def test_verbose_lists_every_test_with_its_location() -> None:
    res = run_gate(["policy", "test", str(POLICIES), "-v"])
    assert res.exit_code == 0
    passes = [line for line in res.stdout.splitlines() if line.startswith("PASS ")]
    total = int(re.search(r"^(\d+) passed", res.stdout, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert len(passes) == total
    assert all(re.search(r"\(.+_test\.rego:\d+\)", line) for line in passes)


@pytest.mark.slow
def test_failing_test_is_reported_with_file_and_line(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    probe = pack / "zz_authoring_probe_test.rego"
    probe.write_text(
        "package gate.zz_authoring_probe_test\n\nimport rego.v1\n\n"
        "test_passes if {\n\ttrue\n}\n\n"
        'test_deliberately_fails if {\n\tprint("probe output")\n\t1 == 2\n}\n\n'
        'test_errors if {\n\tx := to_number("not a number")\n\tx == 1\n}\n',
        encoding="utf-8",
    )
    res = run_gate(["policy", "test", str(pack)])
    assert res.exit_code == 10
    assert f"FAIL gate.zz_authoring_probe_test.test_deliberately_fails ({probe}:9)" in res.stdout
    assert f"FAIL gate.zz_authoring_probe_test.test_errors ({probe}:14)" in res.stdout
    assert "undefined (the test's body failed)" in res.stdout
    assert "probe output" in res.stdout  # print() output is shown when a test fails
    assert re.search(r"^\d+ passed, 2 failed;", res.stdout, re.MULTILINE)


def test_compile_error_in_a_test_exits_4_with_its_position(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    probe = pack / "zz_authoring_probe_test.rego"
    probe.write_text("package gate.zz_authoring_probe_test\n\nimport rego.v1\n\ntest_broken if {\n\tx := [1, 2\n}\n", encoding="utf-8")
    res = run_gate(["policy", "test", str(pack)])
    assert res.exit_code == 4
    assert re.search(rf"{re.escape(str(probe))}:6:\d+: compile error", res.stderr), res.stderr


def test_forbidden_builtin_in_a_test_exits_4(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    probe = pack / "zz_authoring_probe_test.rego"
    probe.write_text(
        'package gate.zz_authoring_probe_test\n\nimport rego.v1\n\ntest_env if {\n\topa.runtime().env.HOME != ""\n}\n', encoding="utf-8"
    )
    res = run_gate(["policy", "test", str(pack)])
    assert res.exit_code == 4
    assert f"{probe}:6:2: forbidden builtin opa.runtime" in res.stderr


@pytest.mark.slow
def test_coverage_below_the_minimum_exits_10_and_names_the_uncovered_lines(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    partly = pack / "zz_partly.rego"
    partly.write_text(
        "package gate.zz_partly\n\nimport rego.v1\n\ntouched := 1\n\nnever_called(x) := y if {\n\ty := x + 1\n}\n",
        encoding="utf-8",
    )
    untested = pack / "zz_untested.rego"
    untested.write_text("package gate.zz_untested\n\nimport rego.v1\n\nalso_never(x) := y if {\n\ty := x * 2\n}\n", encoding="utf-8")
    # A passing test of its own, so the check does not depend on the pack's tests.
    (pack / "zz_partly_test.rego").write_text(
        "package gate.zz_partly_test\n\nimport rego.v1\n\ntest_touched if data.gate.zz_partly.touched == 1\n", encoding="utf-8"
    )
    res = run_gate(["policy", "test", str(pack), "--coverage-min", "100"])
    assert res.exit_code == 10, res.stdout
    assert "is below --coverage-min 100%" in res.stderr
    rows = {path: next(line for line in res.stdout.splitlines() if str(path) in line) for path in (partly, untested)}
    assert re.search(r"\(1/\d+ lines\)\s+not covered: 7-8$", rows[partly]), rows[partly]
    # A module no test reaches counts as 0% (coverage reports leave such files out).
    assert re.search(r"0\.0%\s+\(0/\d+ lines\)\s+not reached by any test: 5-6$", rows[untested]), rows[untested]
    assert "0 failed" in res.stdout  # the tests themselves pass: only coverage fails


def test_no_tests_at_all_exits_10(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    for t in pack.rglob("*_test.rego"):
        t.unlink()
    res = run_gate(["policy", "test", str(pack)])
    assert res.exit_code == 10
    assert "no test_* rule found" in res.stderr


@pytest.mark.slow
def test_appended_failing_test_in_an_existing_test_module(tmp_path: Path) -> None:
    """Break one of the pack's own test files: the failure is located in that file."""
    pack = copy_pack(tmp_path)
    tests = sorted(pack.rglob("*_test.rego"))
    assert tests, "the shipped pack has unit tests"
    target = tests[0]
    line = append(target, "\ntest_authoring_probe_fails if {\n\tfalse\n}\n")
    res = run_gate(["policy", "test", str(pack)])
    assert res.exit_code == 10
    assert re.search(rf"^FAIL gate\.[\w.]+\.test_authoring_probe_fails \({re.escape(str(target))}:{line + 1}\)$", res.stdout, re.MULTILINE)


# -------------------------------------------------------------------------------------------
# The pure logic


def test_ranges() -> None:
    assert ranges([]) == ""
    assert ranges([3, 4, 5, 9, 12, 13, 4]) == "3-5, 9, 12-13"


def test_report_lines_and_exit_codes() -> None:
    ok = engine_api.TestResult(package="gate.a_test", name="test_ok", passed=True, file="a_test.rego", line=5)
    bad = engine_api.TestResult(
        package="gate.a_test", name="test_bad", passed=False, file="a_test.rego", line=9, message="boom\n::add-mask::x"
    )
    run = engine_api.TestRun(results=[ok], coverage={"a.rego": (9, 10)}, uncovered={"a.rego": [7]})
    lines, code = report_lines(run, coverage_min=90)
    assert code == 0 and summarise(run).percent == 90.0
    assert any("a.rego" in ln and "90.0%" in ln and "not covered: 7" in ln for ln in lines)
    assert report_lines(run, coverage_min=90.1)[1] == 10
    lines, code = report_lines(engine_api.TestRun(results=[ok, bad]), coverage_min=0)
    assert code == 10
    assert "FAIL gate.a_test.test_bad (a_test.rego:9)" in lines
    # A test's message is attacker-free but still printed one safe line at a time.
    assert not any(ln.lstrip().startswith("::") for ln in lines)
    assert report_lines(engine_api.TestRun(results=[]), coverage_min=0)[1] == 10
