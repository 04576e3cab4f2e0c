"""Every corpus file, end to end through `gate evaluate` with the shipped pack.

Each either evaluates (exit 0, 10 or 11) with an input document and a verdict that are valid
against their schemas and whose counts equal what the test counts in the document itself, or is
refused with exit 3 naming the file. Which one is decided by the reader, by the format's rules;
this test checks the two outcomes are whole: no traceback, no partial verdict, no silent zero.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs
import pytest

from tests.conftest import POLICIES, REPO, corpus_params, require_shared, run_gate

SCHEMAS = REPO / "gate" / "schemas"
_validators: dict[str, jsonschema_rs.Draft202012Validator] = {}


def validator(name: str) -> jsonschema_rs.Draft202012Validator:
    if name not in _validators:
        _validators[name] = jsonschema_rs.Draft202012Validator(json.loads((SCHEMAS / f"{name}.schema.json").read_text()))
    return _validators[name]


@pytest.mark.slow
@pytest.mark.parametrize("path", corpus_params())
def test_corpus_file_end_to_end(path: Path | None, tmp_path: Path) -> None:
    require_shared()
    assert path is not None
    verdict_path = tmp_path / "verdict.json"
    input_path = tmp_path / "input.json"
    res = run_gate(
        [
            "evaluate",
            str(path),
            "--policy",
            str(POLICIES),
            "--time",
            "2026-11-26T12:00:00Z",
            "--output",
            f"json={verdict_path}",
            "--output",
            f"input={input_path}",
        ]
    )
    verdict = json.loads(verdict_path.read_text())
    validator("verdict").validate(verdict)
    assert res.exit_code in (0, 3, 10, 11), (res.exit_code, res.stderr)
    assert res.exit_code == verdict["exit_code"]
    if res.exit_code == 3:
        assert verdict["decision"] == "error"
        assert verdict["violations"] == [] and verdict["warnings"] == []
        assert str(path) in (verdict["error"]["file"] or ""), verdict["error"]
        assert path.name in res.stderr
        assert "Traceback" not in res.stderr
        return
    doc = json.loads(input_path.read_text())
    validator("input").validate(doc)
    assert len(doc["scans"]) == 1
    scan = doc["scans"][0]
    assert scan["findings"] == len(doc["findings"])
    assert scan["components"] == len(doc["components"])
    assert verdict["summary"]["findings"] == len(doc["findings"])
    assert len({f["id"] for f in doc["findings"]}) == len(doc["findings"]), "fingerprints must be unique"
    if not scan["complete"]:
        assert verdict["decision"] == "fail", "the shipped pack denies incomplete scans"
