"""The code base stays as the house style has it: ruff's lint rules and its formatter, and mypy in
strict mode (all three configured in pyproject.toml) find nothing. ruff and mypy come with the
`test` extra."""

from __future__ import annotations

import subprocess
import sys
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


@pytest.mark.slow
def test_mypy_strict_finds_nothing() -> None:
    """`mypy` as pyproject.toml configures it (strict; packages gate, scanners, sbom) reports no
    error. Run through this interpreter, so the checked environment is the one the tests import;
    its incremental cache (.mypy_cache, git-ignored) keeps a second run to a few seconds."""
    pytest.importorskip("mypy", reason="mypy is not installed (pip install -e '.[test]')")
    res = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-error-summary", "--hide-error-context"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert res.returncode == 0, res.stdout[-6000:] + res.stderr[-2000:]
