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
