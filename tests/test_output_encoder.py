"""The JSON-like outputs go through orjson (issue 20: Python's json module with `indent` runs its
pure-Python encoder, 31 million calls and about 5 s at 10^5 findings). Its text must be the
standard encoder's, byte for byte, except for floats in exponent form (`1e-5`, not `1e-05`)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.output.json_format import _encode, dump

_EXPONENT = re.compile(r"[eE]")

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not _EXPONENT.search(repr(f)))
    | st.text()
)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=30)


def _reference(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(_values)
def test_the_fast_encoder_writes_the_standard_text(value: Any) -> None:
    assert _encode(value).decode("utf-8", "surrogatepass") == _reference(value) + "\n"


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_floats_read_back_to_the_same_number(number: float) -> None:
    assert json.loads(_encode({"x": number}))["x"] == number


def test_what_orjson_refuses_goes_to_the_standard_encoder() -> None:
    for value in ({"big": 2**70}, {1: "non-string key"}, {"s": "\ud800 lone surrogate"}, [-(2**64)]):
        assert _encode(value).decode("utf-8", "surrogatepass") == _reference(value) + "\n"


def test_control_characters_and_log_markers_are_still_escaped() -> None:
    text = dump({"m": "a\x00b\x1f\x7f\x85\u2028##[error]x\n", "k\t": [{}, []]})
    assert "\x7f" not in text and "\x85" not in text and "\u2028" not in text and "##[" not in text
    assert json.loads(text) == {"m": "a\x00b\x1f\x7f\x85\u2028##[error]x\n", "k\t": [{}, []]}
    assert text.endswith("}\n")


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(_values)
def test_the_file_bytes_are_the_text_as_utf8(value: Any) -> None:
    """`--output json=FILE` writes `dump_bytes` (no text copy of a 100 MB verdict): the same bytes
    as the text path, markers and controls escaped alike."""
    from gate.output.json_format import dump_bytes

    assert dump_bytes(value) == dump(value).encode("utf-8")
    assert dump_bytes({"m": "##[error]\x7f\x85\u2028", "v": value}) == dump({"m": "##[error]\x7f\x85\u2028", "v": value}).encode()


def test_the_file_output_of_a_lone_surrogate_still_fails() -> None:
    import pytest

    from gate.output.json_format import dump_bytes

    with pytest.raises(UnicodeError):
        dump_bytes({"s": "\ud800"})


def test_values_the_standard_encoder_refuses_are_refused_by_both_encodings() -> None:
    """One encoder for the engine's input and the outputs (`gate.documents.json.encode`): a bug
    that puts a dataclass or a datetime in a document fails as the standard encoder fails, in
    both, rather than being written by orjson in one of them."""
    import dataclasses
    import datetime as dt

    from gate.documents.json import encode

    @dataclasses.dataclass
    class Point:
        x: int

    for value in ({"p": Point(1)}, {"t": dt.datetime(2026, 12, 6, tzinfo=dt.timezone.utc)}):
        for canonical in (True, False):
            with pytest.raises(TypeError, match="not JSON serializable"):
                encode(value, canonical=canonical)


def test_str_and_int_subclasses_are_written_as_the_standard_encoder_writes_them() -> None:
    import enum

    from gate.documents.json import encode

    class Level(str, enum.Enum):
        HIGH = "high"

    class Code(enum.IntEnum):
        DENY = 10

    value = {"level": Level.HIGH, "code": Code.DENY}  # orjson writes enums by value itself
    assert encode(value, canonical=True)[0] == (_reference(value) + "\n").encode()
    assert json.loads(encode(value, canonical=False)[0]) == json.loads(json.dumps(value))


def test_a_verdict_and_its_input_document_are_written_by_orjson(tmp_path: Any) -> None:
    """The gate's own documents hold plain JSON values only: none falls back to the standard
    encoder (its indenting encoder is pure Python, seconds at 10^5 findings)."""
    from pathlib import Path

    from gate.documents.json import encode
    from gate.runner import Config, evaluate

    repo = Path(__file__).resolve().parents[1]
    reports = sorted(str(p) for p in (repo / "examples" / "reports").glob("*.json"))
    assert reports, "the repository's example reports"
    outcome = evaluate(Config(reports=tuple(reports), policy=str(repo / "policies"), time="2026-12-06T00:00:00Z"))
    assert outcome.verdict["decision"] in ("pass", "fail")
    for doc in (outcome.verdict, outcome.document):
        assert encode(doc, canonical=True)[1] and encode(doc, canonical=False)[1]
