"""People's files (data, waivers, baseline) read by `gate.documents.yaml`, and the shipped schemas.

Until issue 18 a libyaml fast reader stood beside ruamel.yaml's, and most tests here held the two
to agreeing; ruamel is gone (the figures are in `gate/documents/yaml.py`), so these tests say what
the one reader gives: YAML 1.2's core schema, positions, and what it refuses, each refusal first
written as the attack it stops. METADATA blocks (`policy.load_metadata_yaml`, libyaml with the pure-Python
parser as its fallback) still read as `yaml.safe_load` reads them.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gate import policy
from gate.documents import schema as docschema
from gate.documents import yaml as yamldoc
from gate.errors import ConfigError
from tests.conftest import REPO, corpus_files

# Plain scalars and what they read to (YAML 1.2 core schema, as ruamel.yaml read them before).
SCALARS: list[tuple[str, Any]] = [
    ("~", None),
    ("null", None),
    ("NULL", None),
    ("nUll", "nUll"),
    ("true", True),
    ("TRUE", True),
    ("tRue", "tRue"),
    ("yes", "yes"),
    ("No", "No"),
    ("on", "on"),
    ("0", 0),
    ("-0", 0),
    ("+0", 0),
    ("00", 0),
    ("012", 12),
    ("019", 19),
    ("0o12", 10),
    ("0x1F", 31),
    ("0b101", 5),
    ("1_000", 1000),
    ("+12", 12),
    ("-12", -12),
    ("1.5", 1.5),
    ("-1.5", -1.5),
    ("1.", 1.0),
    (".5", 0.5),
    ("1e3", 1000.0),
    ("1.5E-3", 0.0015),
    ("1_0.5", 10.5),
    ("1:30", "1:30"),
    ("2026-01-01", "2026-01-01"),
    ("2026-01-01T10:00:00Z", "2026-01-01T10:00:00+00:00"),
    ("2026-01-01T10:00:00+02:00", "2026-01-01T10:00:00+02:00"),
    ("2026-01-01 10:00:00", "2026-01-01T10:00:00Z"),
    ("=", "="),
    ("a b", "a b"),
    ("12abc", "12abc"),
    ("1.2.3", "1.2.3"),
    ("-a", "-a"),
    (".", "."),
    ("9" * 30, int("9" * 30)),
    ("é", "é"),
    ("'q'", "q"),
    ("!!str 5", "5"),
    ("!!int '7'", 7),
    ("! 5", "5"),
    ("|\n  lit\n", "lit\n"),
]


@pytest.mark.parametrize(("scalar", "expected"), SCALARS)
def test_each_scalar_form_reads_to_its_yaml_12_value(scalar: str, expected: Any) -> None:
    assert yamldoc.loads(f"k: {scalar}", "x.yaml").value == {"k": expected}
    assert yamldoc.loads(f"- {scalar}", "x.yaml").value == [expected]


def test_keys_are_text_and_timestamps_may_stay_text() -> None:
    assert yamldoc.loads("1: a\ntrue: b\n2026-01-01: c\n", "x.yaml").value == {"1": "a", "True": "b", "2026-01-01": "c"}
    text = "expires: 2026-13-01\nat: 2026-01-01 10:00\n"
    assert yamldoc.loads(text, "w.yaml", timestamps_as_text=True).value == {"expires": "2026-13-01", "at": "2026-01-01 10:00"}


def test_every_yaml_file_here_loads_to_plain_values() -> None:
    files = sorted({*REPO.glob("policies/**/*.y*ml"), *REPO.glob("tests/scenarios/**/*.y*ml"), *REPO.glob("examples/**/*.y*ml")})
    files += [p for p in corpus_files() if p.suffix in (".yaml", ".yml")]
    assert files
    for path in files:
        try:
            value = yamldoc.load(path).value
        except ConfigError as exc:  # a deliberately broken file: refused with its line
            assert exc.position is not None, path
            continue
        assert _plain(value), path


def _plain(value: Any) -> bool:
    if isinstance(value, dict):
        return all(type(k) is str and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or type(value) in (str, int, float, bool) and not (type(value) is float and not math.isfinite(value))


def test_merge_keys_and_aliases() -> None:
    text = "b: &b {x: 1, y: 2}\nc: {<<: *b, y: 3}\nd: {<<: [{x: 5}, *b], z: 0}\ne: *b\n"
    value = yamldoc.loads(text, "x.yaml").value
    assert value["c"] == {"x": 1, "y": 3} and value["d"] == {"x": 5, "y": 2, "z": 0} and value["e"] == {"x": 1, "y": 2}
    value["e"]["x"] = 9
    assert value["b"]["x"] == 1  # an alias is a copy: editing one place edits no other


def test_a_duplicate_key_is_still_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "data.yaml"
    path.write_text("stages:\n  default: {}\n  default: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        yamldoc.load(path, what="data file")
    assert "duplicate key" in str(err.value) and err.value.position is not None and err.value.position.line == 3


def test_a_file_knows_its_positions() -> None:
    text = "waivers:\n  - id: W-1\n    expires: 2026-13-01\n  -\n    id: W-2\n"
    located = yamldoc.loads(text, "w.yaml", timestamps_as_text=True)
    assert located.value == {"waivers": [{"id": "W-1", "expires": "2026-13-01"}, {"id": "W-2"}]}
    assert located.position(["waivers", 0, "expires"]) == located.position(["waivers", 0, "expires", "deeper"])
    assert (located.position(["waivers", 0, "expires"]).line, located.position(["waivers", 0, "expires"]).column) == (3, 5)
    assert (located.position(["waivers", 1]).line, located.position(["waivers", 1, "id"]).line) == (5, 5)
    assert (located.position(["missing"]).line, located.position([]).line) == (1, 1)


@pytest.mark.parametrize(
    ("text", "expected", "line"),
    [
        # Two keys that are the same once the value is built: one silently overwrote the other
        # (ruamel kept `1` and "1" apart, then its plain copy let the last win).
        ('1: deny\n"1": allow\n', "duplicate key '1'", 2),
        # NaN and infinities: no JSON and no engine has them; ruamel read `.nan` as a float.
        ("fail_on: .nan\n", "not a finite", 1),
        ("limit: -.inf\n", "not a finite", 1),
        ("limit: 1e400\n", "does not fit", 1),
        ("limit: " + "9" * 500 + "\n", "not a finite", 1),
        # A tag outside YAML's own: ruamel kept it as an object no schema could judge.
        ("a: !!python/object:os.system x\n", "not supported", 1),
        ("a: !custom {x: 1}\n", "not supported", 1),
        ("%YAML 1.1\n---\nyes: on\n", "YAML 1.1 is not read", 1),
        ("a: 1\n---\nb: 2\n", "second YAML document", 2),
        ("a: *nowhere\n", "names no anchor", 1),
        ("a: &x [1, *x]\n", "names no anchor", 1),
        ("[a]: 1\n", "must be a scalar", 1),
        ("a: 2026-13-01\n", "not a valid date", 1),
        ("a: [1, 2\n", "invalid YAML", 2),
        ('a: "x\x00"\n', "invalid YAML", 1),
    ],
)
def test_what_the_reader_refuses_names_its_line(text: str, expected: str, line: int) -> None:
    with pytest.raises(ConfigError) as caught:
        yamldoc.loads(text, "data.yaml", what="data file")
    assert expected in str(caught.value), str(caught.value)
    assert caught.value.exit_code == 2 and caught.value.position is not None and caught.value.position.line == line


def test_a_nan_in_a_data_file_fails_the_run_closed(tmp_path: Path) -> None:
    """The attack: `--data extra.yaml` with `.nan` reached the engines as a float no JSON holds."""
    from tests.threats.helpers import CORE, CORE_POLICY, evaluate, said

    extra = tmp_path / "extra.yaml"
    extra.write_text("org_threshold: .nan\n", encoding="utf-8")
    res = evaluate(str(CORE / "clean.sarif"), "--data", str(extra), policy=CORE_POLICY)
    assert res.exit_code == 2 and f"{extra}:1:" in said(res), said(res)


_LEVELS = zip("abcdefgh", "bcdefghi", strict=True)
_BOMB = "a: &a [1,1,1,1,1,1,1,1,1]\n" + "".join(f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]\n" for p, c in _LEVELS)


@pytest.mark.parametrize("prefix", ["", "x:\t1\n", "x: |\n  text\n", 'x: "a\u2028b"\n', "%YAML 1.2\n---\n", "x: 1\r\n"])
def test_an_alias_bomb_is_refused_whatever_comes_before_it(prefix: str) -> None:
    with pytest.raises(ConfigError) as caught:
        yamldoc.loads(prefix + _BOMB, "bomb.yaml", what="data file")
    assert "expand to more than" in caught.value.message and caught.value.position is not None


def test_nesting_past_the_bound_is_refused_at_its_bracket() -> None:
    deep = "x: " + "[" * (yamldoc.MAX_DEPTH + 1) + "]" * (yamldoc.MAX_DEPTH + 1) + "\n"
    with pytest.raises(ConfigError) as caught:
        yamldoc.loads(deep, "deep.yaml", what="data file")
    assert "nested deeper than" in caught.value.message
    # The top mapping is the first level: the bracket that opens level MAX_DEPTH + 1 is refused.
    assert caught.value.position is not None and caught.value.position.column == 3 + yamldoc.MAX_DEPTH
    shallow = "x: " + "[" * (yamldoc.MAX_DEPTH - 1) + "]" * (yamldoc.MAX_DEPTH - 1) + "\n"
    assert yamldoc.loads(shallow, "ok.yaml", what="data file").value["x"] is not None


# --------------------------------------------------------------------------------------------
# Schemas (jsonschema-rs)


def test_every_shipped_schema_is_a_valid_schema() -> None:
    import jsonschema_rs

    for path in sorted((REPO / "gate" / "schemas").glob("*.schema.json")):
        jsonschema_rs.meta.validate(docschema.load_schema(path.name.removesuffix(".schema.json")))


def test_the_shipped_data_is_valid() -> None:
    data = policy.load_policy(REPO / "policies", include_tests=False).data
    assert docschema.is_valid(data, "data", formats=True)
    assert not docschema.problems(data, "data", formats=True)


@pytest.mark.parametrize("wid", ["W\x1c1", "W\x001", "W 1", "W\u20001", "W\t1", "W*", "W\x7f"])
def test_a_waiver_id_with_a_space_or_a_control_character_is_refused(wid: str) -> None:
    """U+001C is white space to Python's `\\s`, not to Rust's: the pattern names control characters itself."""
    value = {"waivers": [{"id": wid, "reason": "r", "approved_by": "x", "expires": "2026-01-01", "rule": "B101"}]}
    assert not docschema.is_valid(value, "waivers")


def test_problems_name_the_path_and_the_keyword() -> None:
    found = docschema.problems(
        {"waivers": [{"id": "W-1", "reason": "r", "approved_by": "x", "expires": "2026-01-01", "rul": "B"}]}, "waivers"
    )
    assert found[0].path == ("waivers", 0) and found[0].where == "waivers/0"
    assert {p.keyword for p in found} >= {"additionalProperties"} and any(p.unexpected == ("rul",) for p in found)
    assert not docschema.is_valid({"x": {1, 2}}, "waivers")  # a value no JSON holds is invalid, not a crash


@pytest.mark.slow
def test_valid_waivers_data_and_baseline_import_neither_ruamel_nor_python_jsonschema(tmp_path: Path) -> None:
    """Neither library is a dependency any more: a run that loads every kind of people's file
    must not import them (an import would fail on a clean install)."""
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
            got: Any = ("ok", policy.load_metadata_yaml(text))
        except yaml.YAMLError as exc:
            got = ("error", str(exc))
        assert got == expected, text


@pytest.mark.parametrize(
    ("text", "expected", "line"),
    [
        ('{"a": NaN}', "NaN is not a JSON value", 1),
        ('{"a": 1,\n "a": 2}', "duplicate key", 2),
        ('{"a": 1e400}', "does not fit", 1),
        ('{"a": ' + "[" * 70 + "]" * 70 + "}", "nested deeper than 64", 1),
        ('{"a": 1} {"b": 2}', "extra data", 1),
    ],
)
def test_a_json_file_is_read_by_the_json_reader_with_the_config_exit_code(text: str, expected: str, line: int) -> None:
    with pytest.raises(ConfigError) as caught:
        yamldoc.loads(text, "data.json", what="data file")
    assert expected in str(caught.value) and "(in data file)" in caught.value.message
    assert caught.value.exit_code == 2 and caught.value.position is not None and caught.value.position.line == line


def test_a_json_file_keeps_its_positions_and_its_escapes() -> None:
    located = yamldoc.loads('{\n  "a": [1,\n    {"b": "x"}]\n}\n', "data.json")
    assert located.value == {"a": [1, {"b": "x"}]} and located.position(["a", 1, "b"]).line == 3
    emoji = yamldoc.loads('{"s": "\\ud83d\\ude00 \\udc00"}', "data.json")  # libyaml refuses the escapes; JSON joins the pair
    assert emoji.value == {"s": "\U0001f600 \ufffd"} and emoji.position(["s"]).line == 1
