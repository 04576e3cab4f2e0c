"""The console table without rich: the same lines and cells as the rich table, one row a line.

Where standard output is not a terminal (a CI log, a file, a pipe) the console format is built
as plain text, and rich (a fifth of a small run's start-up) is not imported at all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gate.output.common import results
from gate.output.console import ConsoleFormatter, row_cells, strip_ansi
from gate.output.interface import OutputOptions
from tests.conftest import DATA, run_gate
from tests.workflow_commands import commands

OUT = DATA / "outputs"
T = ["--time", "2026-11-26T12:00:00Z"]


@pytest.fixture(scope="module")
def verdict(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("console") / "verdict.json"
    res = run_gate(
        [
            "evaluate",
            str(OUT / "hostile.sarif"),
            str(OUT / "hostile.cdx.json"),
            "--policy",
            str(OUT / "policy"),
            "--waivers",
            str(OUT / "waivers.yaml"),
            *T,
            "--output",
            f"json={out}",
        ]
    )
    assert res.exit_code in (10, 11), res.stderr
    loaded: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    assert loaded["violations"] and loaded["warnings"]
    return loaded


def render(verdict: dict[str, Any], interactive: bool, width: int = 400) -> str:
    """Wide enough by default that no two cells of a row fold (a fold interleaves the columns' letters)."""
    formatter = ConsoleFormatter(OutputOptions(width=width))
    formatter.interactive = interactive
    return formatter.render(verdict, None)


LEVEL = {"violations": "deny", "warnings": "warn"}


def cells(verdict: dict[str, Any], key: str) -> list[list[str]]:
    return [row_cells(r) for r in results(verdict) if r.level == LEVEL[key]][: ConsoleFormatter.max_rows]


def test_plain_rows_are_one_line_each_with_every_cell(verdict: dict[str, Any]) -> None:
    text = render(verdict, interactive=False)
    lines = text.splitlines()
    for key, title in (("violations", "Violations"), ("warnings", "Warnings")):
        start = lines.index(f"{title} ({len(verdict[key])})")
        # Two severities, each labelled with whose it is: the rule's and the scanner's.
        assert lines[start + 1].split() == ["rule", "rule", "severity", "scanner", "severity", "where", "message"]
        assert set(lines[start + 2].replace(" ", "")) == {"-"}
        for n, row in enumerate(cells(verdict, key)):
            line = lines[start + 3 + n]
            position = 0
            for cell in row:  # every cell, in column order, on the row's own line
                found = line.find(cell, position)
                assert found >= 0, (cell, line)
                position = found + len(cell)


def test_plain_and_rich_say_the_same(verdict: dict[str, Any]) -> None:
    plain = render(verdict, interactive=False)
    rich = strip_ansi(render(verdict, interactive=True))
    assert plain.splitlines()[0] == rich.splitlines()[0]  # the totals line
    assert "┃" in rich and "┃" not in plain
    flat_rich = "".join(c for c in rich if c.isalnum())
    for key in ("violations", "warnings"):
        for row in cells(verdict, key):
            for cell in row:  # rich folds long cells over several lines: compare the letters only
                assert "".join(c for c in cell if c.isalnum()) in flat_rich, cell
    for line in plain.splitlines():
        if line.startswith("waiver ") and line.endswith(("no longer applies", "matched no finding")):
            assert line in rich


def test_plain_output_carries_no_workflow_command(verdict: dict[str, Any]) -> None:
    text = render(verdict, interactive=False)
    assert commands(text) == []
    assert "##[" not in text


def test_the_cli_writes_plain_text_to_a_pipe_and_never_imports_rich(tmp_path: Path) -> None:
    # `cli.main`, not the console script's `main`: that one ends the process once the outputs are
    # written (os._exit), before this could look at the imported modules.
    script = (
        "import sys\n"
        "from gate.cli import cli\n"
        "sys.argv = ['gate', 'evaluate', sys.argv[1], '--policy', sys.argv[2], '--time', '2026-11-26T12:00:00Z']\n"
        "try:\n"
        "    cli.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('rich imported\\n' if any(m == 'rich' or m.startswith('rich.') for m in sys.modules) else 'no rich\\n')\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", script, str(OUT / "hostile.sarif"), str(OUT / "policy")], capture_output=True, text=True, timeout=120
    )
    assert "no rich" in res.stderr, res.stderr
    assert "violation(s)" in res.stdout and "┃" not in res.stdout
