"""Limits, each overridable: 256 MiB per report, JSON/XML depth 128, one million findings, 60 s of
policy evaluation. Past a limit the gate stops with an input (3) or policy (4) error, never a
pass; under it, the run goes on. The hostile sizes are refused in bounded time, and the file
over the size limit is never even opened (bench/hostile_bounds.py measures time and memory).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from gate.collect import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_FINDINGS, Limits, read_document
from gate.errors import InputError
from tests.conftest import run_gate
from tests.threats.helpers import (
    CORE,
    CORE_POLICY,
    T,
    assert_error_verdict,
    copy_tree,
    evaluate,
    evaluate_verdict,
    opened,
    reads_of,
    result,
    said,
    sarif,
    within,
    write_json,
)


def test_the_defaults_are_those_of_the_threat_model() -> None:
    assert (DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_FINDINGS) == (256 * 2**20, 128, 1_000_000)
    assert Limits() == Limits(max_bytes=268_435_456, max_depth=128, max_findings=1_000_000)
    help_text = " ".join(run_gate(["evaluate", "--help"]).stdout.split())
    for shown in ("--max-bytes INTEGER RANGE Largest report accepted. [env var: GATE_MAX_BYTES; default: 268435456;",
                  "[env var: GATE_MAX_DEPTH; default: 128;", "[env var: GATE_MAX_FINDINGS; default: 1000000;",
                  "[env var: GATE_EVAL_TIMEOUT; default: 60.0;"):  # fmt: skip
        assert shown in help_text, shown


# --- size


def test_max_bytes_over_is_3_and_at_the_limit_is_fine(tmp_path: Path) -> None:
    report = CORE / "high.sarif"
    size = report.stat().st_size
    res, verdict, _ = evaluate_verdict(tmp_path, str(report), "--max-bytes", str(size - 1))
    assert res.exit_code == 3
    assert_error_verdict(verdict, 3)
    assert f"{report}: file is {size} bytes, over the limit of {size - 1}" in said(res)
    assert evaluate(str(report), "--max-bytes", str(size)).exit_code == 10


def test_max_bytes_from_the_environment(tmp_path: Path) -> None:
    report = CORE / "high.sarif"
    res = evaluate(str(report), env={"GATE_MAX_BYTES": "100"})
    assert res.exit_code == 3 and "over the limit of 100" in said(res)


def test_a_300_mb_file_is_refused_without_being_opened(tmp_path: Path) -> None:
    """A sparse 300 MB file: refused from its size alone, in well under a second."""
    huge = tmp_path / "huge.sarif"
    with huge.open("wb") as fh:
        fh.write(b'{"version": "2.1.0", "runs": [')
        fh.truncate(300 * 10**6)
    with within(10), opened() as events:
        started = time.perf_counter()
        res = evaluate(str(huge))
        elapsed = time.perf_counter() - started
    assert res.exit_code == 3
    assert f"{huge}: file is 300000000 bytes, over the limit of 268435456" in said(res)
    assert reads_of(events, huge) == [], "refused from stat, never opened"
    assert elapsed < 2


def test_raising_max_bytes_lets_a_big_file_through_to_the_parser(tmp_path: Path) -> None:
    big = tmp_path / "big.sarif"
    big.write_bytes(b" " * 2_000_000 + (CORE / "high.sarif").read_bytes())
    assert "over the limit of 1000000" in said(evaluate(str(big), "--max-bytes", "1000000"))
    assert evaluate(str(big), "--max-bytes", "3000000").exit_code == 10


# --- depth


def deep_report(tmp_path: Path, depth: int) -> Path:
    """A SARIF report nested `depth` levels deep in a result's property bag (written as text: no
    Python JSON encoder recurses that deep)."""
    n = depth - 6  # the SARIF structure around it adds 6 levels
    text = json.dumps(sarif([result(properties={"deep": "HERE"})])).replace('"HERE"', "[" * n + '"bottom"' + "]" * n)
    path = tmp_path / f"deep{depth}.sarif"
    path.write_text(text)
    return path


def test_max_depth_over_is_3_and_under_is_fine(tmp_path: Path) -> None:
    report = deep_report(tmp_path, 200)
    res = evaluate(str(report))
    assert res.exit_code == 3
    assert "JSON nested deeper than 128 levels" in said(res) and f"{report}:" in said(res)
    res = evaluate(str(report), "--max-depth", "199")
    assert res.exit_code == 3 and "JSON nested deeper than 199 levels" in said(res)
    res = evaluate(str(report), "--max-depth", "200")
    assert res.exit_code == 10, said(res)


def test_a_very_high_max_depth_still_bounds_the_parser(tmp_path: Path) -> None:
    """--max-depth beyond what the parser may recurse (10 000) is capped there, and says so."""
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    with within(10):
        res = evaluate(str(path), "--max-depth", "1000000")
    assert res.exit_code == 3
    assert f"{path}:1:10001: JSON nested deeper than 10000 levels (the parser's ceiling, below --max-depth 1000000)" in said(res)


def test_a_deep_report_under_a_raised_limit_reaches_a_verdict_not_a_crash(tmp_path: Path) -> None:
    """Readers walk what the parser accepted: a raised limit must not turn into a recursion error (6)."""
    report = deep_report(tmp_path, 3000)
    res = evaluate(str(report), "--max-depth", "3000")
    assert res.exit_code == 10, said(res)


def test_max_depth_applies_to_xml(tmp_path: Path) -> None:
    data = b"<bom>" + b"<a>" * 150 + b"</a>" * 150 + b"</bom>"
    with pytest.raises(InputError, match="XML nested deeper than 128 levels"):
        read_document(data, "deep.xml")
    with pytest.raises(InputError, match="has no XML namespace"):  # deep enough is fine: then it is read (and refused later)
        read_document(data, "deep.xml", limits=Limits(max_depth=200))


# --- findings


def test_max_findings_over_is_3_and_at_the_limit_is_fine(tmp_path: Path) -> None:
    report = write_json(tmp_path / "five.sarif", sarif([result(f"finding {i}", line=i + 1) for i in range(5)]))
    res, verdict, _ = evaluate_verdict(tmp_path, str(report), "--max-findings", "4")
    assert res.exit_code == 3
    assert_error_verdict(verdict, 3)
    assert f"{report}: 5 findings, over the limit of 4" in said(res)
    assert evaluate(str(report), "--max-findings", "5").exit_code == 10


def test_max_findings_counts_every_report_together(tmp_path: Path) -> None:
    a = write_json(tmp_path / "a.sarif", sarif([result(f"a{i}", line=i + 1) for i in range(3)]))
    b = write_json(tmp_path / "b.sarif", sarif([result(f"b{i}", line=i + 1) for i in range(3)]))
    res = evaluate(str(a), str(b), "--max-findings", "5")
    assert res.exit_code == 3
    assert "6 findings in all, over the limit of 5" in said(res)
    assert evaluate(str(a), str(b), "--max-findings", "6").exit_code == 10


def test_a_flat_array_of_a_million_elements_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "flat.json"
    path.write_bytes(b"[" + b"0," * 999_999 + b"0]")
    with within(20):
        started = time.perf_counter()
        res = evaluate(str(path))
        elapsed = time.perf_counter() - started
    assert res.exit_code == 3
    assert "unknown format: this JSON document is none of" in said(res)
    assert elapsed < 5


# --- evaluation time


def slow_policy(tmp_path: Path) -> Path:
    pol = copy_tree(CORE_POLICY, tmp_path / "policy")
    (pol / "slow.rego").write_text(
        'package gate.slow\nimport rego.v1\n\nwarn contains {"rule": "CORE-002", "msg": "never"} if {\n'
        "  some i in numbers.range(1, 100000000)\n  some j in numbers.range(1, 100000000)\n  i * j == -1\n}\n"
    )
    return pol


@pytest.mark.slow
def test_eval_timeout_over_is_4_and_under_is_fine(tmp_path: Path) -> None:
    started = time.perf_counter()
    res, verdict, _ = evaluate_verdict(tmp_path, str(CORE / "high.sarif"), "--eval-timeout", "0.5", policy=slow_policy(tmp_path))
    elapsed = time.perf_counter() - started
    assert res.exit_code == 4
    assert_error_verdict(verdict, 4)
    assert "policy evaluation exceeded the time limit of 0.5 s" in said(res)
    assert elapsed < 5
    assert evaluate(str(CORE / "high.sarif"), "--eval-timeout", "5").exit_code == 10


def test_eval_timeout_from_the_environment(tmp_path: Path) -> None:
    res = run_gate(["evaluate", str(CORE / "high.sarif"), "--policy", str(slow_policy(tmp_path)), *T], env={"GATE_EVAL_TIMEOUT": "0.3"})
    assert res.exit_code == 4 and "time limit of 0.3 s" in said(res)


def test_a_zero_or_negative_limit_is_a_usage_error() -> None:
    for option, value in (("--max-bytes", "0"), ("--max-depth", "-1"), ("--max-findings", "0"), ("--eval-timeout", "0")):
        res = run_gate(["evaluate", str(CORE / "high.sarif"), "--policy", str(CORE_POLICY), *T, option, value])
        assert res.exit_code == 2, (option, said(res))
        assert option in said(res)


def test_limits_reach_the_reader_of_every_file() -> None:
    """The in-process API honours the same limits (collect is what gate run and baseline call)."""
    data = json.dumps(sarif([result(line=i + 1) for i in range(3)])).encode()
    with pytest.raises(InputError, match="3 findings, over the limit of 2"):
        read_document(data, "x.sarif", limits=Limits(max_findings=2))


def test_a_deep_cyclonedx_document_under_a_raised_limit_is_3_not_6(tmp_path: Path) -> None:
    from tests.threats.helpers import SMALL_SAMPLES

    doc = json.loads(SMALL_SAMPLES["cyclonedx-json"].read_text())
    doc["properties"] = "HERE"
    path = tmp_path / "deep.cdx.json"
    path.write_text(json.dumps(doc).replace('"HERE"', "[" * 300 + '"x"' + "]" * 300))
    res = evaluate(str(path), "--max-depth", "400")
    assert res.exit_code == 3, said(res)
