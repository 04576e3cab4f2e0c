"""Every corpus file through every output format, with the shipped policy pack.

For each file of ../shared/corpus the gate evaluates it (a pass, a closed gate, or an input error:
all three must render), then: the SARIF is valid against the official 2.1.0 schema (formats
such as `uri-reference` and `date-time` checked too), the JUnit XML parses with the shape CI
tools read, and every format states the same totals, with every listing adding up to them.
One evaluation per file serves the three tests.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import defusedxml.ElementTree as ET
import jsonschema_rs
import pytest

from gate.output.registry import get_formatter
from gate.runner import Config, evaluate
from tests.conftest import POLICIES, SHARED, corpus_params, require_shared
from tests.test_outputs import check_same_totals

FORMATS = ("json", "sarif", "junit", "markdown", "github", "vsa", "console")
TIME = "2026-11-26T12:00:00Z"


@functools.lru_cache(maxsize=1)
def sarif_validator() -> jsonschema_rs.Validator:
    schema = json.loads((SHARED / "schemas" / "sarif-schema-2.1.0.json").read_text())
    return jsonschema_rs.validator_for(schema, validate_formats=True)


@functools.cache
def rendered(path: Path) -> tuple[int, dict[str, str]]:
    """The exit code of evaluating `path`, and its rendering in every format."""
    outcome = evaluate(Config(reports=(str(path),), policy=str(POLICIES), time=TIME))
    return outcome.exit_code, {f: get_formatter(f).render(outcome.verdict, outcome.document) for f in FORMATS}


def corpus_outputs(path: Path | None) -> tuple[int, dict[str, str]]:
    require_shared()
    assert path is not None
    code, out = rendered(path)
    assert code in (0, 3, 10, 11), f"{path}: exit {code}"
    return code, out


@pytest.mark.slow
@pytest.mark.parametrize("path", corpus_params())
def test_sarif_is_schema_valid(path: Path | None) -> None:
    code, out = corpus_outputs(path)
    log = json.loads(out["sarif"])
    errors = [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in sarif_validator().iter_errors(log)]
    assert errors == [], errors[:5]
    run = log["runs"][0]
    assert run["invocations"][0]["executionSuccessful"] is (code != 3)
    assert len(run["results"]) <= 25_000 and len(run["tool"]["driver"]["rules"]) <= 25_000
    for r in run["results"]:
        assert len(r.get("locations", [])) <= 1
        assert run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"]


@pytest.mark.slow
@pytest.mark.parametrize("path", corpus_params())
def test_junit_parses(path: Path | None) -> None:
    code, out = corpus_outputs(path)
    root = ET.fromstring(out["junit"])
    suite = root.find("testsuite")
    assert root.tag == "testsuites" and suite is not None
    cases = suite.findall("testcase")
    assert int(suite.get("tests", "-1")) == len(cases) > 0
    assert int(suite.get("failures", "-1")) == len([c for c in cases if c.find("failure") is not None])
    assert int(suite.get("errors", "-1")) == len([c for c in cases if c.find("error") is not None]) == (1 if code == 3 else 0)


@pytest.mark.slow
@pytest.mark.parametrize("path", corpus_params())
def test_counts_are_equal_across_formats(path: Path | None) -> None:
    code, out = corpus_outputs(path)
    verdict = json.loads(out["json"])
    if code == 3:
        assert verdict["decision"] == "error" and verdict["violations"] == [] and verdict["warnings"] == []
    check_same_totals(out)
