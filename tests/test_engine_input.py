"""The input document as the engines get it (issue 20): written by orjson where it can, read back
the same, and the standard encoder's text where orjson refuses a value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import run_gate

from gate.documents.json import dump_document, load_document

REPO = Path(__file__).resolve().parents[1]


def _example_document(tmp_path: Path) -> Any:
    out = tmp_path / "input.json"
    res = run_gate(["evaluate", str(REPO / "examples" / "reports"), "--policy", str(REPO / "policies"), "--output", f"input={out}"])
    assert res.exit_code == 10, res.stderr
    return json.loads(out.read_text(encoding="utf-8"))


def test_the_input_document_round_trips_through_orjson(tmp_path: Path) -> None:
    doc = _example_document(tmp_path)
    text, fast = dump_document(doc)
    assert fast
    assert json.loads(text) == doc  # what any engine reads is the document
    assert load_document(text, fast) == doc


def test_values_orjson_refuses_get_the_standard_encoders_text() -> None:
    """An integer beyond 64 bits (valid JSON; orjson refuses it, and reads one back as a float):
    the standard encoder writes it, and the standard decoder reads it back exactly."""
    for doc in ({"findings": [{"line": 2**70}]}, {"counts": {1: 2}}):
        text, fast = dump_document(doc)
        assert not fast
        assert text == json.dumps(doc, ensure_ascii=False)
        assert load_document(text, fast) == json.loads(json.dumps(doc))
    import dataclasses
    import datetime as dt

    class Tag(str):
        pass

    @dataclasses.dataclass
    class Point:
        x: int

    # orjson writes these itself; the standard encoder is the judge, as before orjson.
    text, fast = dump_document({"level": Tag("high")})
    assert (text, fast) == (json.dumps({"level": Tag("high")}, ensure_ascii=False), False)
    for bad in ({"p": Point(1)}, {"t": dt.datetime(2026, 1, 1)}):
        with pytest.raises(TypeError):
            dump_document(bad)
    big = {"n": 123456789012345678901234567890}
    text, fast = dump_document(big)
    assert load_document(text, fast)["n"] == 123456789012345678901234567890


def test_the_input_document_holds_no_float_field() -> None:
    """orjson writes NaN and the infinities as null where the standard encoder wrote NaN (which
    every engine refuses): `dump_document` relies on the document holding no float at all. Every
    number of the input schema is an integer; a float field added to it must revisit that."""
    schema = json.loads((REPO / "gate" / "schemas" / "input.schema.json").read_text(encoding="utf-8"))
    types: list[object] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "type" in node:
                types.extend(node["type"] if isinstance(node["type"], list) else [node["type"]])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    assert "integer" in types and "number" not in types
