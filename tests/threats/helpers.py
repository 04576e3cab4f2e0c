"""Shared helpers of the THREATS.md tests: running the gate, reading its verdict, bounding time."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CORPUS, DATA, POLICIES, Result, run_gate

DATA_DIR = DATA

CORE = DATA / "core"
CORE_POLICY = CORE / "policy"
TIME = "2026-11-26T12:00:00Z"
T = ["--time", TIME]

# Few-KB real reports, one per reader (their every prefix is tried), all in the repository.
SMALL_SAMPLES: dict[str, Path] = {
    "bandit": DATA / "bandit" / "bandit-1.9.4-nosec-errors.json",
    "semgrep": DATA / "semgrep" / "semgrep-1.185-syntax-error.json",
    "sarif": DATA / "sarif" / "levels-and-kinds.sarif",
    "pip-audit": DATA / "pip_audit" / "pip-audit-2.10-vulns.json",
    "cyclonedx-json": DATA / "cyclonedx" / "shop-api-nested-vulns-cdx1.6.json",
    "cyclonedx-xml": DATA / "cyclonedx" / "shop-api-nested-vulns-cdx1.6.xml",
    "spdx": DATA / "spdx" / "shop-api-relationships-spdx2.3.json",
    "openvex": DATA / "openvex" / "shop-api-vex-v0.2.0.json",
}


def output(res: Result) -> str:
    """Everything the gate printed, stdout and stderr, exactly."""
    return res.stdout + "\n" + res.stderr


def said(res: Result) -> str:
    """What the gate printed with white space normalised (the console wraps long lines)."""
    return " ".join(output(res).split())


def evaluate(*args: str, policy: Path | None = CORE_POLICY, cwd: Path | None = None, env: dict[str, str] | None = None) -> Result:
    """`gate evaluate ARGS --policy POLICY --time TIME`, in process."""
    extra = ["--policy", str(policy)] if policy is not None else []
    return run_gate(["evaluate", *args, *extra, *T], cwd=cwd, env=env)


def evaluate_verdict(
    tmp_path: Path, *args: str, policy: Path | None = CORE_POLICY, cwd: Path | None = None
) -> tuple[Result, dict[str, Any], dict[str, Any] | None]:
    """Evaluate and read back the verdict and (when the run got that far) the input document."""
    verdict_path, input_path = tmp_path / "verdict.json", tmp_path / "input.json"
    for p in (verdict_path, input_path):
        p.unlink(missing_ok=True)
    res = evaluate(*args, "--output", f"json={verdict_path}", "--output", f"input={input_path}", policy=policy, cwd=cwd)
    verdict = json.loads(verdict_path.read_text(encoding="utf-8"))
    doc = json.loads(input_path.read_text(encoding="utf-8")) if input_path.exists() and input_path.stat().st_size else None
    doc = doc or None  # an error before the input document existed writes {}
    return res, verdict, doc


def assert_error_verdict(verdict: dict[str, Any], exit_code: int) -> None:
    """An error verdict: the code, decision `error`, and not one violation or warning (no partial verdict)."""
    assert verdict["exit_code"] == exit_code
    assert verdict["decision"] == "error"
    assert verdict["violations"] == [] and verdict["warnings"] == []
    assert verdict["error"] and verdict["error"]["exit_code"] == exit_code


def shipped_policy() -> Path:
    return POLICIES


def corpus_file(relative: str) -> Path:
    """A corpus file, or skip (fail under GATE_REQUIRE_SHARED=1) when ../shared is absent."""
    from tests.conftest import require_shared

    require_shared()
    path = CORPUS / relative
    assert path.is_file(), f"the corpus lacks {relative}"
    return path


def opa_binary() -> str:
    """The `opa` binary the `opa` engine would use, or skip."""
    from gate.engine.opa import find_opa
    from gate.errors import EngineError

    try:
        return find_opa()
    except EngineError as exc:
        if os.environ.get("GATE_REQUIRE_OPA") == "1":
            pytest.fail(f"opa is not available ({exc}) but GATE_REQUIRE_OPA=1")
        pytest.skip(f"opa is not available: {exc}")


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Fail (instead of hanging the suite) when the block takes longer than `seconds` of wall time.

    SIGALRM interrupts a blocking system call (an `open` of a FIFO, a `read` of a device), so a
    regression that blocks is reported as a failure rather than a stuck CI job.
    """
    if sys.platform == "win32" or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def sarif(
    results: Sequence[dict[str, Any]],
    *,
    rules: Sequence[dict[str, Any]] = (),
    tool: str = "TestTool",
    invocations: Sequence[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A minimal SARIF 2.1.0 log with one run."""
    run: dict[str, Any] = {"tool": {"driver": {"name": tool, "version": "1.0", "rules": list(rules)}}, "results": list(results)}
    if invocations is not None:
        run["invocations"] = list(invocations)
    return {"version": "2.1.0", "runs": [run]}


def result(
    message: str = "bad thing",
    *,
    rule: str = "R1",
    level: str | None = "error",
    uri: str | None = "src/app.py",
    line: int | None = 10,
    **extra: Any,
) -> dict[str, Any]:
    """One SARIF result."""
    r: dict[str, Any] = {"ruleId": rule, "message": {"text": message}}
    if level is not None:
        r["level"] = level
    if uri is not None:
        region = {"startLine": line} if line is not None else None
        phys: dict[str, Any] = {"artifactLocation": {"uri": uri}}
        if region:
            phys["region"] = region
        r["locations"] = [{"physicalLocation": phys}]
    r.update(extra)
    return r


def write_json(path: Path, value: Any) -> Path:
    path.write_text(json.dumps(value, indent=1), encoding="utf-8")
    return path


FORMATS_ALL = ("json", "sarif", "junit", "markdown", "github", "vsa", "console", "input")
"""Every format `--output` writes."""


# --- what the gate opens: an audit hook (PEP 578) that records only inside `opened()`

_opened: list[tuple[str, str]] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _opened is None:
        return
    if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
        _opened.append(("open", os.fsdecode(args[0])))
    elif event in ("socket.connect", "socket.getaddrinfo", "urllib.Request"):
        _opened.append((event, repr(args[1:2] if event == "socket.connect" else args[:2])))


sys.addaudithook(_audit)  # audit hooks cannot be removed: this one records only inside `opened()`


@contextmanager
def opened() -> Iterator[list[tuple[str, str]]]:
    """(event, what) for every file opened and network connection tried in this process during the block."""
    global _opened
    _opened = []
    try:
        yield _opened
    finally:
        _opened = None


def reads_of(events: list[tuple[str, str]], target: Path) -> list[str]:
    """The opens among `events` that reached `target` (through any path or link)."""
    real = os.path.realpath(target)
    return [p for e, p in events if e == "open" and os.path.realpath(p) == real]


def network(events: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [e for e in events if e[0] != "open"]
