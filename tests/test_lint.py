"""The code base stays as the house style has it: ruff's lint rules and its formatter (both
configured in pyproject.toml) find nothing. ruff comes with the `test` extra."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from scan_support import require_tools

from scanners.run.interface import find_program

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("args", [["check", "--no-cache", "."], ["format", "--no-cache", "--check", "."]], ids=["lint", "format"])
def test_ruff_finds_nothing(args: list[str]) -> None:
    require_tools("ruff")
    ruff = find_program("ruff")
    assert ruff is not None
    res = subprocess.run([ruff, *args], cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
