"""Every YAML (and JSON) file the gate reads is bounded in aliases, their expansion and nesting.

The attack (issue 14): a 1 KB YAML alias bomb in a baseline (nine levels of nine aliases each)
took 36 s and 950 MB before it was refused; the same in a waivers or a data file. Each is now
refused from the parser's events before anything builds the document (`gate.documents.yaml`),
in well under a second, with exit 2 and the file, line and column of the alias (or node) that
crossed the bound. Variants: an anchor chain through merge keys (`<<`), nesting past Python's
recursion limit (YAML, and a JSON baseline, which was an internal error, exit 6), and many small
aliases.
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest

from gate.documents import yaml as yamldoc
from gate.errors import ConfigError
from tests.threats.helpers import CORE, CORE_POLICY, evaluate, said

REPORT = str(CORE / "clean.sarif")
SECONDS = 1.0
PEAK_BYTES = 20 * 2**20


def alias_bomb(levels: int = 9) -> str:
    """The classic: each anchor a list of nine aliases of the one before (9**levels strings)."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def merge_chain(levels: int = 40) -> str:
    """Merge keys: each mapping merges the one before and holds it twice (2**levels nodes)."""
    lines = ["m0: &m0 {k0: 0, k1: 1, k2: 2, k3: 3}"]
    for i in range(1, levels):
        lines.append(f"m{i}: &m{i} {{<<: *m{i - 1}, twice: [*m{i - 1}, *m{i - 1}]}}")
    return "\n".join(lines) + "\n"


def many_aliases(count: int = 150) -> str:
    return "base: &b 1\nuses:\n" + "".join("  - *b\n" for _ in range(count))


def deep(levels: int = 20_000) -> str:
    return "x: " + "[" * levels + "]" * levels + "\n"


CASES = {
    # kind of file -> (option, file name, text prefix that makes the rest a file of that kind)
    "baseline": ("--baseline", "baseline.yaml", "schema: gate.baseline/v1\n"),
    "waivers": ("--waivers", "waivers.yaml", "waivers: []\n"),
    "data": ("--data", "extra.yaml", ""),
}
HOSTILE = {
    "alias bomb": (alias_bomb(), "expand to more than", (5, 10)),
    "merge-key chain": (merge_chain(), "expand to more than", None),
    "many aliases": (many_aliases(), "more than 100 YAML aliases", None),
    "deep nesting": (deep(), "nested deeper than", None),
}


@pytest.mark.parametrize("kind", sorted(CASES))
@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_hostile_yaml_is_refused_fast_with_its_position(tmp_path: Path, kind: str, attack: str) -> None:
    option, name, prefix = CASES[kind]
    text, expected, where = HOSTILE[attack]
    target = tmp_path / name
    target.write_text(prefix + text, encoding="utf-8")
    started = time.perf_counter()
    res = evaluate(REPORT, option, str(target), policy=CORE_POLICY)
    elapsed = time.perf_counter() - started
    assert res.exit_code == 2, said(res)
    assert expected in said(res), said(res)
    assert f"{target}:" in said(res)
    if where is not None:  # the alias past the bound: the first of the bomb's line 5 (9**5 strings)
        line, col = where
        assert f"{target}:{line + prefix.count(chr(10))}:{col}:" in said(res), said(res)
    assert elapsed < SECONDS + 1.5, f"{elapsed:.2f} s for the whole run"  # the run's own start-up included


@pytest.mark.parametrize("attack", sorted(HOSTILE))
def test_the_bound_costs_milliseconds_and_little_memory(attack: str) -> None:
    text = HOSTILE[attack][0]
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ConfigError) as caught:
            yamldoc.loads(text, "hostile.yaml", what="data file")
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.position is not None and caught.value.position.line >= 1
    assert elapsed < SECONDS, f"{elapsed:.2f} s"
    assert peak < PEAK_BYTES, f"{peak / 2**20:.1f} MiB"


def test_a_deep_json_baseline_is_a_configuration_error_not_a_crash(tmp_path: Path) -> None:
    """A JSON baseline nested past Python's recursion limit was an internal error (exit 6)."""
    target = tmp_path / "baseline.json"
    target.write_text('{"schema": "gate.baseline/v1", "findings": ' + "[" * 100_000 + "]" * 100_000 + "}\n")
    started = time.perf_counter()
    res = evaluate(REPORT, "--baseline", str(target), policy=CORE_POLICY)
    assert res.exit_code == 2, said(res)
    assert f"{target}:1:" in said(res) and "nested deeper than" in said(res)
    assert time.perf_counter() - started < SECONDS + 1.5


def test_a_few_aliases_and_merge_keys_still_load() -> None:
    """Stage profiles that share settings through anchors and merge keys are ordinary YAML."""
    text = (
        "stages:\n  base: &base {fail_on: deny, block_existing: false}\n"
        "  staging: {<<: *base, block_existing: true}\n  prod:\n    <<: *base\n    fail_on: warn\n"
    )
    value = yamldoc.loads(text, "profiles.yaml", what="data file").value
    assert value["stages"]["prod"] == {"fail_on": "warn", "block_existing": False}
    assert value["stages"]["staging"]["block_existing"] is True
