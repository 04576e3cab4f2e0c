"""The JSON bounds (depth, numbers) checked without walking the document, and exactly as before.

`gate.documents.json.parse_json` bounds the nesting with the interpreter's recursion limit set so that
the C scanner refuses exactly the first level too deep, notes infinite floats as the scanner
makes them, and looks for integers of 309 digits in a sample of the text; only a document that
may break a bound is walked (`_check_tree`) and, if it does, located. These tests hold the fast
path to the semantics of the walk: depth, numbers and their positions, at and around every edge.
"""

from __future__ import annotations

import gc
import json
import sys
from types import FrameType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.collect import DEFAULT_MAX_DEPTH
from gate.documents import json as collect
from gate.documents.json import parse_json
from gate.errors import InputError


def depth_of(value: Any) -> int:
    """Nesting depth as the gate counts it: each array or object is one level."""
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


def nest(inner: str, levels: int, kind: str) -> str:
    opening, closing = ("[", "]") if kind == "array" else ('{"k":', "}")
    return opening * levels + inner + closing * levels


# Innermost values: the scanner calls a Python hook at the deepest level for an object (the
# duplicate-key check) and for a float (the range check), which costs one more level of the
# recursion budget than an array: these must neither be refused at the limit nor let depth+1 in.
INNERMOST = ["[]", "{}", '{"a": 1}', "1.5", "7", '"[[[[["', "[1.5]", '[{"a": [2.5]}]']


@pytest.mark.parametrize("limit", [1, 2, 3, 16, 128])
@pytest.mark.parametrize("inner", INNERMOST)
@pytest.mark.parametrize("kind", ["array", "object"])
def test_depth_is_refused_exactly_past_the_limit(limit: int, inner: str, kind: str) -> None:
    inner_depth = depth_of(json.loads(inner))
    for levels in range(max(0, limit - inner_depth - 2), limit - inner_depth + 3):
        text = nest(inner, levels, kind)
        depth = depth_of(json.loads(text))
        if depth <= limit:
            assert parse_json(text, "x.json", limit) == json.loads(text)
        else:
            with pytest.raises(InputError) as err:
                parse_json(text, "x.json", limit)
            assert f"nested deeper than {limit} levels" in str(err.value)
            where = collect._first_too_deep(text, limit)
            assert where is not None
            assert err.value.position is not None and err.value.position.column == where + 1


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"a": "[" * 500, "b": ["]]]]", "{{{{"]})
    assert parse_json(text, "x.json", 2) == json.loads(text)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12 counts the C scanner's recursion apart from the limit Python sets")
def test_an_ordinary_document_takes_the_bounded_path() -> None:
    # The optimisation itself: on this interpreter the recursion limit separates the probes, so
    # a valid document is never walked for its depth.
    text = json.dumps({"runs": [{"results": [{"x": [1, 2.5, {"y": "z"}]}] * 50}]})
    decoder = json.JSONDecoder(object_pairs_hook=collect._pairs_hook)
    assert collect._decode_within(decoder, text, 0, 128) == (json.loads(text), len(text))


@pytest.mark.parametrize(
    ("literal", "ok"),
    [
        ("1e308", True),
        ("-1.7976931348623157e308", True),
        ("1e309", False),
        ("-1e400", False),
        ("1" * 308, True),
        ("-" + "9" * 308, True),
        ("1" + "0" * 308, True),
        ("2" + "0" * 308, False),
        ("1" * 400, False),
        ("1" * 309 + ".5", True),
        ("9" * 309 + ".5", False),
        ("0." + "1" * 500, True),
        ("1." + "0" * 400 + "e-10", True),
    ],
)
@pytest.mark.parametrize("prefix", ["", " " * 7, '{"pad": "abcdefghijklmno", "n": '])
def test_numbers_no_double_holds_are_refused_with_their_position(literal: str, ok: bool, prefix: str) -> None:
    text = prefix + literal + ("}" if prefix.startswith("{") else "")
    if ok:
        assert parse_json(text, "x.json", DEFAULT_MAX_DEPTH) == json.loads(text)
        return
    with pytest.raises(InputError) as err:
        parse_json(text, "x.json", DEFAULT_MAX_DEPTH)
    assert "does not fit a 64-bit floating-point number" in str(err.value)
    assert err.value.position is not None and err.value.position.column == len(prefix) + 1


def test_long_digit_runs_in_strings_are_not_numbers() -> None:
    text = json.dumps({"hash": "7" * 5000, "n": [1, 2, 3]})
    assert parse_json(text, "x.json", DEFAULT_MAX_DEPTH) == json.loads(text)


@pytest.mark.parametrize("length", [300, 308, 309, 310, 340])
@pytest.mark.parametrize("offset", range(0, 17))
def test_the_digit_run_sample_never_misses_a_run(length: int, offset: int) -> None:
    text = "x" * offset + "5" * length + "y" * 40
    assert collect._long_digit_run(text) or length < 309
    # Non-ASCII text around the run: the sample is encoded, and no encoded character is a digit.
    assert collect._long_digit_run("é" * offset + "5" * length + "é") or length < 309


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet='ab[]{}0123456789"\\é', max_size=8),
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(alphabet="abc[", max_size=3), kids, max_size=3),
    max_leaves=25,
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(value=json_values, limit=st.integers(min_value=1, max_value=8), indent=st.sampled_from([None, 1]))
def test_any_document_is_judged_as_its_depth_says(value: Any, limit: int, indent: int | None) -> None:
    text = json.dumps(value, indent=indent)
    if depth_of(value) <= limit:
        assert parse_json(text, "x.json", limit) == json.loads(text)
    else:
        with pytest.raises(InputError, match=f"nested deeper than {limit} levels"):
            parse_json(text, "x.json", limit)


def containers(value: Any) -> list[Any]:
    """Every list and dict in the value, outermost first."""
    found = []
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, dict)):
            found.append(v)
            stack.extend(v.values() if isinstance(v, dict) else v)
    return found


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    value=json_values,
    bad=st.sampled_from(["1e999", "-2.5e400", "-" + "8" * 320, "9" * 309]),
    at=st.integers(min_value=0, max_value=10**6),
)
def test_a_bad_number_anywhere_is_found_where_it_is(value: Any, bad: str, at: int) -> None:
    sentinel = "\u0000BAD\u0000"
    holders = containers(value) or [value := [value]]
    holder = holders[at % len(holders)]
    if isinstance(holder, dict):
        holder["\u0000bad"] = sentinel
    else:
        holder.insert(at % (len(holder) + 1), sentinel)
    text = json.dumps(value).replace(json.dumps(sentinel), bad)
    if depth_of(value) > 128:
        return
    with pytest.raises(InputError, match="does not fit a 64-bit floating-point number") as err:
        parse_json(text, "x.json", DEFAULT_MAX_DEPTH)
    assert err.value.position is not None and err.value.position.column == text.index(bad) + 1


def test_no_garbage_collection_runs_inside_the_bounded_parse() -> None:
    # The bound leaves no recursion budget at the deepest level; a collection there would run
    # unrelated finalizers (`weakref.finalize`) without room, and what they raise is lost.
    inside: list[bool] = []

    def watch(phase: str, info: dict[str, int]) -> None:
        frame: FrameType | None = sys._getframe()
        while frame is not None and frame.f_code is not collect._decode_within.__code__:
            frame = frame.f_back
        inside.append(frame is not None)

    text = nest('{"a": [1.5, {"b": 2}]}', 125, "array")
    threshold, collecting = gc.get_threshold(), gc.isenabled()
    gc.callbacks.append(watch)
    gc.set_threshold(1, 1, 1)  # a collection at nearly every allocation
    gc.enable()
    try:
        assert parse_json(text, "x.json", DEFAULT_MAX_DEPTH) == json.loads(text)
    finally:
        gc.callbacks.remove(watch)
        gc.set_threshold(*threshold)
        if not collecting:
            gc.disable()
    assert inside and not any(inside), "collections ran, none of them inside the bounded parse"


# ---------------------------------------------------------------------------------------------
# Duplicate keys: refused however the document balances its colons (issue 20 measured a parse
# without the hook, which found repeated keys by counting colons; these tests were written
# against it first, and hold any way of finding them)


def _reference(text: str) -> Any:
    """The definition: every object through `_pairs_hook`, which refuses a repeated key."""
    return json.loads(text, object_pairs_hook=collect._pairs_hook)


_KEYS = st.sampled_from(["a", "b", "a:b", ":", "x\\u003ay"])
_SCALARS = st.one_of(st.integers(-5, 5), st.booleans(), st.none(), st.sampled_from(["", ":", "a:b::", "plain", "\\u003a"]))


@st.composite
def _objects_text(draw: Any, depth: int = 0) -> str:
    """JSON text of an object whose keys may repeat (drawn from a few), strings holding colons."""
    members = []
    for _ in range(draw(st.integers(0, 4))):
        key = draw(_KEYS)
        if depth < 3 and draw(st.booleans()):
            value = draw(_objects_text(depth + 1)) if draw(st.booleans()) else "[" + draw(_objects_text(depth + 1)) + "]"
        else:
            scalar = draw(_SCALARS)
            value = f'"{scalar}"' if isinstance(scalar, str) else json.dumps(scalar)
        members.append(f'"{key}" : {value}')
    return "{" + ", ".join(members) + "}"


@settings(max_examples=400, deadline=None)
@given(_objects_text())
def test_duplicate_keys_are_refused_exactly_as_the_hook_refuses_them(text: str) -> None:
    try:
        expected: Any = _reference(text)
    except collect._DuplicateKey:
        expected = "duplicate"
    try:
        got: Any = parse_json(text, "x.json", DEFAULT_MAX_DEPTH)
    except InputError as exc:
        assert "duplicate key" in exc.message, exc.message
        got = "duplicate"
    assert got == expected


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2}',
        '{"k": {"a": "x:y", "b": 1, "a": "x:y"}}',
        # The attack on the count: the repeated member's colon given back by an escaped colon in
        # a string (`\u003a` is one colon once parsed, none in the text).
        '{"a": 1, "a": 2, "pad": "\\u003a"}',
        '{"a": 1, "a": 2, "pad": "\\u003A"}',
        '{"pad\\u003a": 0, "a": 1, "a": 2}',
        # Repeated keys whose values hold the colons that would balance the count.
        '{"a": "::", "a": "", "b": ":::"}',
    ],
)
def test_attack_a_repeated_key_is_refused_however_the_colons_are_balanced(text: str) -> None:
    with pytest.raises(InputError, match="duplicate key"):
        parse_json(text, "x.json", DEFAULT_MAX_DEPTH)


def test_a_repeated_key_beside_a_number_beyond_64_bits_is_refused() -> None:
    big = 2**70
    assert parse_json(f'{{"n": {big}}}', "x.json", DEFAULT_MAX_DEPTH) == {"n": big}
    with pytest.raises(InputError, match="duplicate key"):
        parse_json(f'{{"n": {big}, "n": 1}}', "x.json", DEFAULT_MAX_DEPTH)
