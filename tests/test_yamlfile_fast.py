"""The fast readers of people's files agree with the reference ones, or step aside.

- `yamlfile.fast_load` (libyaml, ruamel's YAML 1.2 resolution) either gives exactly what
  ruamel's round-trip loader plus `_plain` gives, or says "undecided" so that ruamel reads the
  file (its value or its error, with the line);
- `yamlfile.is_valid` (jsonschema-rs) never passes what the Python jsonschema refuses;
- METADATA blocks read through libyaml give what `yaml.safe_load` gives.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import YAMLError

from gate import policy, yamlfile
from gate.errors import ConfigError
from tests.conftest import REPO, corpus_files


def reference(text: str, timestamps_as_text: bool = False) -> tuple[str, Any]:
    """What the ruamel path makes of the text: ("ok", plain value) or ("error", exception type)."""
    loader = YAML(typ="rt")
    loader.allow_duplicate_keys = False
    if timestamps_as_text:

        class TextTimestamps(RoundTripConstructor):
            pass

        TextTimestamps.add_constructor("tag:yaml.org,2002:timestamp", TextTimestamps.construct_yaml_str)
        loader.Constructor = TextTimestamps
    try:
        return "ok", yamlfile._plain(loader.load(text))
    except (YAMLError, ValueError, TypeError, AssertionError, RecursionError) as exc:  # what ruamel raises on bad text
        return "error", type(exc).__name__


def paths_in(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into the value, and one more step past each leaf and collection."""
    out = [prefix, (*prefix, 0), (*prefix, "missing")]
    if isinstance(value, dict):
        for k, v in value.items():
            out += paths_in(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += paths_in(v, (*prefix, i))
    return out


def ruamel_positions(text: str, paths: list[tuple[Any, ...]]) -> list[Any]:
    loader = YAML(typ="rt")

    class TextTimestamps(RoundTripConstructor):
        pass

    TextTimestamps.add_constructor("tag:yaml.org,2002:timestamp", TextTimestamps.construct_yaml_str)
    loader.Constructor = TextTimestamps
    located = yamlfile.Located(value=None, path="x", _root=loader.load(text))
    return [located.position(list(p)) for p in paths]


def assert_agrees(text: str) -> bool:
    """The fast reader agrees with ruamel wherever it decides, values and positions; whether it decided."""
    decided_any = False
    for as_text in (False, True):
        fast = yamlfile.fast_read(text, timestamps_as_text=as_text)
        if fast is not None:
            decided_any = True
            value, marks = fast
            assert reference(text, as_text) == ("ok", value), text
            if as_text:  # ruamel's positions come from a tree whose timestamps stay text, as in waivers
                paths = paths_in(value)
                located = yamlfile.Located(value=value, path="x", _root=None, _marks=marks)
                assert [located.position(list(p)) for p in paths] == ruamel_positions(text, paths), text
    return decided_any


def people_files() -> list[Path]:
    found = [*REPO.glob("policies/**/*.y*ml"), *REPO.glob("tests/data/**/*.y*ml"), *REPO.glob("examples/**/*.y*ml")]
    found += [p for p in corpus_files() if p.suffix in (".yaml", ".yml")]
    return sorted(found)


@pytest.mark.slow
def test_every_yaml_file_here_reads_as_ruamel_reads_it() -> None:
    files = people_files()
    decided = sum(assert_agrees(p.read_text(encoding="utf-8-sig")) for p in files)
    assert files and decided >= len(files) * 0.8, (decided, len(files))


def test_the_shipped_data_takes_the_fast_way() -> None:
    for path in sorted((REPO / "policies" / "config").glob("*.yaml")):
        located = yamlfile.load(path, what="data file")
        assert located._root is None, f"{path} fell back to ruamel"
        assert located.value == reference(path.read_text(encoding="utf-8-sig"))[1]


SCALARS = [
    "",
    "~",
    "null",
    "Null",
    "NULL",
    "nUll",
    "true",
    "True",
    "TRUE",
    "tRue",
    "yes",
    "No",
    "on",
    "OFF",
    "y",
    "n",
    "0",
    "-0",
    "+0",
    "00",
    "012",
    "019",
    "0o12",
    "0x1F",
    "0b101",
    "1_000",
    "+12",
    "-12",
    "1.5",
    "-1.5",
    "+1.5",
    "1.",
    ".5",
    "1e3",
    "1.5e3",
    "1.5E-3",
    ".inf",
    "-.Inf",
    ".nan",
    "1:30",
    "190:20:30",
    "2026-01-01",
    "2026-1-1",
    "2026-13-01",
    "2026-02-30",
    "2026-01-01T10:00:00Z",
    "2026-01-01 10:00:00",
    "2026-01-01t10:00:00.5-5",
    "<<",
    "=",
    "a b",
    "12abc",
    "1.2.3",
    "-",
    "-a",
    "+",
    ".",
    "..",
    "0.0",
    "9" * 30,
    "٣",
    "1_0.5",
    "é",
    "x: y",
    "'q'",
    "!",
    "&a",
    "*a",
    "!!str 5",
    "!!int '7'",
    "! 5",
    "[1, 2]",
    "{a: 1}",
    "|\n  lit\n",
    ">\n  folded\n  text\n",
]
FORMS = ["{s}", "k: {s}", "- {s}", "{s}: v", "[{s}]", "{{k: {s}}}", '"{s}"', "k: '{s}'", "a: &x {s}\nb: *x", "? {s}\n: v"]


@pytest.mark.slow
@pytest.mark.parametrize("scalar", SCALARS)
def test_each_scalar_form_reads_as_ruamel_reads_it(scalar: str) -> None:
    for form in FORMS:
        assert_agrees(form.format(s=scalar))


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",  # duplicate key: ruamel names its line
        "a: &x [1]\nb: *x\n",  # alias: ruamel shares, `_plain` copies
        "%YAML 1.1\n---\nyes: on\n",  # a directive changes the resolver
        "a: !!python/object:os.system x\n",
        "<<: {a: 1}\nb: 2\n",
        "a: [1, 2\n",
        "1: one\n",  # a key that is not a string
        "a: 2026-13-01\n",
        "a: 0x1F\n",
        "a: 1e3\n",
    ],
)
def test_what_the_fast_reader_cannot_promise_goes_to_ruamel(text: str) -> None:
    assert yamlfile.fast_load(text) == (False, None)


def test_a_duplicate_key_is_still_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "data.yaml"
    path.write_text("stages:\n  default: {}\n  default: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        yamlfile.load(path, what="data file")
    assert "duplicate key" in str(err.value) and err.value.position is not None and err.value.position.line == 3


def test_a_fast_read_file_knows_its_positions() -> None:
    text = "waivers:\n  - id: W-1\n    expires: 2026-13-01\n"
    fast = yamlfile.fast_read(text, timestamps_as_text=True)
    assert fast is not None and fast[0] == {"waivers": [{"id": "W-1", "expires": "2026-13-01"}]}
    located = yamlfile.Located(value=fast[0], path="w.yaml", _root=None, _marks=fast[1])
    pos = located.position(["waivers", 0, "expires"])
    assert pos is not None and (pos.line, pos.column) == (3, 5)


@pytest.mark.slow
def test_valid_waivers_data_and_baseline_need_neither_ruamel_nor_python_jsonschema(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n  - id: W-1\n    reason: legacy\n    approved_by: officer\n    expires: 2026-12-31\n    rule: B101\n",
        encoding="utf-8",
    )
    baseline = tmp_path / "baseline.yaml"
    baseline.write_text(
        "schema: gate.baseline/v1\ncreated: '2026-01-01T00:00:00Z'\ngate_version: '1'\nfindings:\n  - id: 0123456789abcdef\n",
        encoding="utf-8",
    )
    script = (
        "import sys, datetime as dt\n"
        "from gate.policy import load_policy, validate_data\n"
        "from gate.waivers import WaiverSet\n"
        "from gate.baseline import load_baseline\n"
        "p = load_policy(sys.argv[1], include_tests=False)\n"
        "validate_data(p.data, p.root)\n"
        "now = dt.datetime(2026, 11, 26, tzinfo=dt.timezone.utc)\n"
        "w = WaiverSet.load(sys.argv[2], now=now, horizon_days=180, warn_before_days=14)\n"
        "assert w.waivers[0].line == 2, w.waivers[0].line\n"
        "assert load_baseline(sys.argv[3]) == {'0123456789abcdef'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ruamel', 'jsonschema')))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", script, str(REPO / "policies"), str(waivers), str(baseline)], capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


plain_text = st.text(alphabet=st.sampled_from(list("ab09 .-+_:#'\"\\[]{},&*!|>~%@`\té\n")), max_size=12)
scalar_text = st.one_of(st.sampled_from(SCALARS), plain_text)
keys = st.one_of(st.sampled_from(["a", "b", "id", "expires", "1", "true", "null", "2026-01-01", "<<"]), plain_text)


def block(value: Any, indent: int = 0) -> str:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return pad + "{}\n"
        out = ""
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                out += f"{pad}{k}:\n{block(v, indent + 2)}"
            else:
                out += f"{pad}{k}: {v if not isinstance(v, (dict, list)) else ('{}' if isinstance(v, dict) else '[]')}\n"
        return out
    if isinstance(value, list):
        if not value:
            return pad + "[]\n"
        out = ""
        for v in value:
            if isinstance(v, (dict, list)) and v:
                inner = block(v, indent + 2)
                out += f"{pad}-\n{inner}"
            else:
                out += f"{pad}- {v if not isinstance(v, (dict, list)) else ('{}' if isinstance(v, dict) else '[]')}\n"
        return out
    return f"{pad}{value}\n"


documents = st.recursive(scalar_text, lambda kids: st.lists(kids, max_size=3) | st.dictionaries(keys, kids, max_size=3), max_leaves=10)


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(doc=documents)
def test_generated_documents_read_as_ruamel_reads_them(doc: Any) -> None:
    assert_agrees(block(doc))


# --------------------------------------------------------------------------------------------
# Schemas: jsonschema-rs must never be looser than the Python jsonschema


def python_valid(value: Any, schema_name: str, formats: bool) -> bool:
    schema = yamlfile.load_schema(schema_name)
    checker = jsonschema.FormatChecker() if formats else None
    return not any(jsonschema.Draft202012Validator(schema, format_checker=checker).iter_errors(value))


def test_every_shipped_schema_has_a_fast_validator() -> None:
    for name in ("data", "waivers", "baseline"):
        assert yamlfile._rs_validator(name, name == "data") is not None, name


def test_the_shipped_data_is_valid_the_fast_way() -> None:
    data = policy.load_policy(REPO / "policies", include_tests=False).data
    assert yamlfile.is_valid(data, "data", formats=True)


# Characters where Python's `re` and Rust's regex crate disagree about `\s`, and their neighbours.
EDGES = "\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u200a\u200b\u2028\u202f\u205f\u3000\ufeff\t\n\x0b\x0c\r "
edge_text = st.text(alphabet=st.sampled_from(list(EDGES + "aZ09-_.:*?[]{}/@#")), min_size=0, max_size=10)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(wid=edge_text, reason=edge_text, rule=edge_text, expires=st.sampled_from(["2026-01-01", "2026-01-01\n", "2026-01-01Z", "soon"]))
def test_fast_waiver_validity_implies_python_validity(wid: str, reason: str, rule: str, expires: str) -> None:
    value = {"waivers": [{"id": wid, "reason": reason, "approved_by": "x", "expires": expires, "rule": rule}]}
    if yamlfile.is_valid(value, "waivers"):
        assert python_valid(value, "waivers", False), value


@settings(max_examples=200, deadline=None)
@given(fid=st.text(alphabet=st.sampled_from(list("0123456789abcdefABCDEF\n ")), min_size=14, max_size=70))
def test_fast_baseline_validity_implies_python_validity(fid: str) -> None:
    value = {"schema": "gate.baseline/v1", "created": "2026-01-01T00:00:00Z", "gate_version": "1", "findings": [{"id": fid}]}
    if yamlfile.is_valid(value, "baseline"):
        assert python_valid(value, "baseline", False), value


def test_a_python_only_space_is_not_let_through() -> None:
    # U+001C is white space to Python's `\s`, not to Rust's: the shipped pattern refuses it in an id.
    value = {"waivers": [{"id": "W\x1c1", "reason": "r", "approved_by": "x", "expires": "2026-01-01", "rule": "B101"}]}
    assert not python_valid(value, "waivers", False)
    assert not yamlfile.is_valid(value, "waivers")


@pytest.mark.parametrize(
    ("pattern", "rewritten"),
    [
        ("^[0-9a-f]{16,64}$", "^[0-9a-f]{16,64}$"),
        (r"^[^:\s]+:\S+$", rf"^[^:{yamlfile.PYTHON_SPACE}]+:[^{yamlfile.PYTHON_SPACE}]+$"),
        (r"\d", None),
        (r"\w+", None),
        ("[a&&b]", None),
        ("(?i)a", None),
        ("a{,3}", None),
        ("[[:alpha:]]", None),
        ("[]a]", r"[\]a]"),
    ],
)
def test_patterns_are_rewritten_or_refused(pattern: str, rewritten: str | None) -> None:
    assert yamlfile.python_pattern(pattern) == rewritten


@pytest.mark.slow
def test_python_space_is_what_python_calls_white_space() -> None:
    import re

    spaces = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if re.match(r"\s", c))
    rust_class = yamlfile.PYTHON_SPACE
    validator = __import__("jsonschema_rs").validator_for({"type": "string", "pattern": f"^[{rust_class}]+$"})
    assert validator.is_valid(spaces)
    others = [c for c in map(chr, range(0x3100)) if c not in spaces and not 0xD800 <= ord(c) <= 0xDFFF]
    assert not any(validator.is_valid(c) for c in others)


# --------------------------------------------------------------------------------------------
# METADATA blocks


def metadata_blocks() -> list[str]:
    blocks = []
    for path in sorted((REPO / "policies").rglob("*.rego")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if line.strip() == "# METADATA":
                body = []
                for nxt in lines[i + 1 :]:
                    if not nxt.lstrip().startswith("#"):
                        break
                    text = nxt.lstrip()[1:]
                    body.append(text[1:] if text.startswith(" ") else text)
                blocks.append("\n".join(body))
    return blocks


def test_metadata_reads_as_safe_load_reads_it() -> None:
    blocks = metadata_blocks()
    assert blocks
    for text in [*blocks, "a: yes\nb: 0o10\nc: 012\nd: 2026-01-01", "a: [1, 2", "a: 1\na: 2"]:
        try:
            expected: Any = ("ok", yaml.safe_load(text))
        except yaml.YAMLError as exc:
            expected = ("error", str(exc))
        try:
            got: Any = ("ok", policy._safe_load(text))
        except yaml.YAMLError as exc:
            got = ("error", str(exc))
        assert got == expected, text


# --------------------------------------------------------------------------------------------
# The bounds (`yamlfile.check_bounds`) hold on both readers' paths.

_LEVELS = zip("abcdefgh", "bcdefghi", strict=True)
_BOMB = "a: &a [1,1,1,1,1,1,1,1,1]\n" + "".join(f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]\n" for p, c in _LEVELS)


@pytest.mark.parametrize("prefix", ["", "x:\t1\n", "x: |\n  text\n", 'x: "a\u2028b"\n', "%YAML 1.2\n---\n", "x: 1\r\n"])
def test_an_alias_bomb_is_refused_whichever_reader_reads_it(prefix: str) -> None:
    """A spelling the two scanners read differently sends the file to ruamel: the count is ruamel's too."""
    with pytest.raises(ConfigError) as caught:
        yamlfile.loads(prefix + _BOMB, "bomb.yaml", what="data file")
    assert "expand to more than" in caught.value.message and caught.value.position is not None


def test_nesting_past_the_bound_leaves_the_fast_reader_and_is_refused() -> None:
    deep = "x: " + "[" * (yamlfile.MAX_DEPTH + 1) + "]" * (yamlfile.MAX_DEPTH + 1) + "\n"
    assert yamlfile.fast_read(deep) is None
    with pytest.raises(ConfigError) as caught:
        yamlfile.loads(deep, "deep.yaml", what="data file")
    assert "nested deeper than" in caught.value.message
    # The top mapping is the first level: the bracket that opens level MAX_DEPTH + 1 is refused.
    assert caught.value.position is not None and caught.value.position.column == 3 + yamlfile.MAX_DEPTH
    shallow = "x: " + "[" * (yamlfile.MAX_DEPTH - 1) + "]" * (yamlfile.MAX_DEPTH - 1) + "\n"
    assert yamlfile.loads(shallow, "ok.yaml", what="data file").value["x"] is not None
