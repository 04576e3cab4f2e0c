"""Every output format stays linear on the violation-heavy shape (issue 20).

Function calls under cProfile do not depend on the machine's load, so this compares them, not
times: eight times the findings (and components) may cost about eight times the calls; a loop
over results x components (the SARIF formatter had one: every package result scanned every
component) or a repeated pass per row grows far faster. The verdicts come from the real gate on
the benchmark's generated reports (bench/generate.py, `generate_heavy_set`).
"""

from __future__ import annotations

import cProfile
import importlib.util
import json
import pstats
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import POLICIES, REPO, run_gate

from gate.output.interface import OutputOptions
from gate.output.registry import FORMATS, get_formatter

TIME = "2026-06-01T00:00:00Z"


def _generate() -> Any:
    spec = importlib.util.spec_from_file_location("gate_bench_generate", REPO / "bench" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _verdict(folder: Path, n: int, components: int) -> tuple[dict[str, Any], dict[str, Any]]:
    files = _generate().generate_heavy_set(folder, n, components, seed=f"linear-{n}")
    res = run_gate(
        ["evaluate", *map(str, files), "--policy", str(POLICIES), "--time", TIME]
        + ["--output", f"json={folder / 'v.json'}", "--output", f"input={folder / 'i.json'}"]
    )
    assert res.exit_code == 10, res.stderr
    return json.loads((folder / "v.json").read_text()), json.loads((folder / "i.json").read_text())


def _calls(name: str, verdict: dict[str, Any], document: dict[str, Any]) -> int:
    formatter = get_formatter(name, OutputOptions(color=False, width=120))
    prof = cProfile.Profile()
    prof.enable()
    formatter.render(verdict, document)
    prof.disable()
    return int(pstats.Stats(prof).total_calls)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[dict[str, Any], dict[str, Any]]]:
    base = tmp_path_factory.mktemp("linear")
    return {n: _verdict(base / str(n), n, n // 4) for n in (500, 4000)}


@pytest.mark.slow
@pytest.mark.parametrize("name", FORMATS)
def test_each_format_grows_linearly(name: str, verdicts: dict[int, tuple[dict[str, Any], dict[str, Any]]]) -> None:
    small, large = (_calls(name, *verdicts[n]) for n in (500, 4000))
    rows = [len(v["violations"]) + len(v["warnings"]) for v, _ in verdicts.values()]
    assert rows[1] > 7 * rows[0] > 0
    assert large <= 9 * max(small, 50), f"{name}: {small} calls at 500 findings, {large} at 4,000 ({large / small:.1f}x for 8x)"
