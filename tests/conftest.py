"""Shared test helpers: where ../shared is, the corpus, and running the CLI in process."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
TESTS = REPO / "tests"
DATA = TESTS / "data"
POLICIES = REPO / "policies"


def pytest_configure(config: pytest.Config) -> None:
    """A per-user vulnerability database (`~/.cache/policy-gate/vulndb`, made by a developer's or
    an earlier session's `gate vulndb update`) would be matched against every SBOM in the tests and
    change their answers: the tests get an empty cache folder of their own.

    With PYTHONDONTWRITEBYTECODE=1 (set on the development machine) pytest rewrote the asserts of
    every test module again on every run, half of the fast lane's collection (5 s of CPU): the
    test run keeps its compiled modules (`__pycache__`, ignored by git), as it does anywhere else.
    """
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="gate-tests-cache-")
    sys.dont_write_bytecode = False


def require_shared() -> Path:
    """../shared, or skip (fail when GATE_REQUIRE_SHARED=1, as CI sets it)."""
    if not CORPUS.is_dir():
        reason = f"{SHARED} is absent (a fresh clone without the shared corpus)"
        if os.environ.get("GATE_REQUIRE_SHARED") == "1":
            pytest.fail(reason + " but GATE_REQUIRE_SHARED=1")
        pytest.skip(reason)
    return SHARED


def corpus_files(*subdirs: str) -> list[Path]:
    """The corpus files (every one, or those under the given folders), sorted; [] when absent."""
    if not CORPUS.is_dir():
        return []
    roots = [CORPUS / s for s in subdirs] if subdirs else [CORPUS]
    return sorted(p for r in roots for p in r.rglob("*") if p.is_file() and p.name not in ("MANIFEST.tsv", "README.md"))


def corpus_params(*subdirs: str) -> list[object]:
    """pytest parameters over corpus files; a single skipping (or failing, in CI) param when absent."""
    files = corpus_files(*subdirs)
    if files:
        return [pytest.param(p, id=str(p.relative_to(CORPUS))) for p in files]
    return [pytest.param(None, id="no-corpus")]


@pytest.fixture
def shared_dir() -> Path:
    return require_shared()


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


def run_gate(args: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
    """Run `gate ARGS` in process with Click's runner (the same `main` as the console script)."""
    from gate.cli import cli

    runner = CliRunner()
    old = os.getcwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        res = runner.invoke(cli, list(args), env=env, catch_exceptions=False)
    finally:
        os.chdir(old)
    return Result(res.exit_code, res.stdout, res.stderr)


@pytest.fixture
def gate() -> Iterator[object]:
    yield run_gate
