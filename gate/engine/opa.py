"""The reference engine: the `opa` binary, found through GATE_OPA_BINARY or on PATH.

Each evaluation writes the deciding modules (at their paths inside the policy folder) and one
`data.json` (`{"config": ...}`, the same `data` every engine gets) into a fresh temporary
folder, the input document beside it, and runs one `opa eval` of the same combined query as
the embedded engine, with strict builtin errors (a builtin error is an error, never a silently
undefined rule) and OPA's own `--timeout` inside a process timeout. OPA's errors come back as
PolicyError/EngineError (exit 4) with file, line and column mapped back to the policy folder.
`run_tests` is `opa test` (results) and `opa test --coverage` (line coverage).

Every `opa eval` and `opa test` runs with `--capabilities`: the binary's own capabilities
(`opa capabilities --current`, read once per process) without the builtins no policy may use
(`gate.policy_safety.FORBIDDEN`: network, environment, the clock, randomness) and with no network
allowed. The loader already refuses such policies from their parse tree; this makes OPA itself
refuse them too ("undefined function"), whatever a parser difference might let through.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from gate.engine.embedded import decision_query, split_decisions
from gate.engine.interface import Engine, RawDecision, TestResult, TestRun
from gate.errors import EngineError, PolicyError, Position
from gate.policy import Module, PolicySet

OPA_BINARY_ENV = "GATE_OPA_BINARY"
GRACE_SECONDS = 10.0
"""Allowed on top of the evaluation limit for OPA to start, load, compile and exit."""

POLICY_DIR = "policy"
INPUT_FILE = "input.json"
CAPABILITIES_FILE = "capabilities.json"
"""Beside (not inside) the policy folder: everything under `policy/` is loaded as data."""
_TEXT_ERROR = re.compile(
    r"^(?:\d+ errors? occurred[^:]*:\s*)?(?P<file>[^\s:][^:]*):(?P<line>\d+):\s*(?P<code>\w+):\s*(?P<msg>.*)$", re.MULTILINE
)
_versions: dict[str, str] = {}
_capabilities: dict[str, str] = {}


def find_opa() -> str:
    """The `opa` binary: GATE_OPA_BINARY if set, else the first `opa` on PATH. EngineError if none."""
    configured = os.environ.get(OPA_BINARY_ENV)
    if configured:
        if not (os.path.isfile(configured) and os.access(configured, os.X_OK)):
            raise EngineError(f"{OPA_BINARY_ENV} names {configured!r}, which is not an executable file")
        return configured
    found = shutil.which("opa")
    if not found:
        raise EngineError(
            "the opa binary was not found on PATH",
            hint=f"install OPA (bash .ci/install-tools.sh builds the pinned version) or set {OPA_BINARY_ENV}",
        )
    return found


def opa_version(binary: str) -> str:
    """`OPA <version>` as `opa version` reports it."""
    if binary not in _versions:
        try:
            done = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EngineError(f"cannot run {binary} version: {exc}") from None
        match = re.search(r"^Version:\s*(\S+)", done.stdout, re.MULTILINE)
        _versions[binary] = f"OPA {match.group(1)}" if match else "OPA (unknown version)"
    return _versions[binary]


def capabilities_json(binary: str) -> str:
    """The capabilities file `opa` runs with: its own, less the forbidden builtins, no network."""
    from gate.policy_safety import opa_capabilities

    if binary not in _capabilities:
        try:
            done = subprocess.run([binary, "capabilities", "--current"], capture_output=True, text=True, timeout=30, check=False)
            current = json.loads(done.stdout)
        except (OSError, subprocess.TimeoutExpired, ValueError) as exc:
            raise EngineError(f"cannot read the capabilities of {binary} (opa capabilities --current): {exc}") from None
        if not isinstance(current, dict) or not isinstance(current.get("builtins"), list):
            raise EngineError(f"{binary} capabilities --current did not answer a capabilities document")
        _capabilities[binary] = json.dumps(opa_capabilities(current))
    return _capabilities[binary]


@dataclass
class Workspace:
    """A temporary folder laid out for `opa`: modules and data.json under `policy/`, the input beside."""

    dir: Path
    shown: dict[str, str]
    """Path as OPA reports it (relative to `dir`) -> the module's path in the policy folder."""

    def where(self, file: str | None) -> str | None:
        """The policy path for a file named in OPA's output."""
        if not file:
            return None
        rel = file[len(str(self.dir)) + 1 :] if file.startswith(str(self.dir) + os.sep) else file
        return self.shown.get(rel, rel)

    def translate(self, text: str) -> str:
        """OPA's text with workspace paths replaced by policy paths."""
        for rel, real in sorted(self.shown.items(), key=lambda kv: -len(kv[0])):
            text = text.replace(rel, real)
        return text.replace(str(self.dir) + os.sep, "")


def _relative(module: Module, root: str, index: int) -> str:
    prefix = root.rstrip("/") + "/"
    rel = module.path[len(prefix) :] if module.path.startswith(prefix) else ""
    parts = [p for p in PurePosixPath(rel).parts if p not in ("", ".", "..", "/")]
    if not parts or not parts[-1].endswith(".rego"):
        return f"module-{index}.rego"
    return "/".join(parts)


@contextmanager
def workspace(
    policy: PolicySet, modules: Sequence[Module], input_json: str | None = None, *, capabilities: str | None = None
) -> Iterator[Workspace]:
    """Write the modules, data.json and (optionally) the input and the capabilities into a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="gate-opa-") as tmp:
        base = Path(tmp)
        shown: dict[str, str] = {}
        for i, m in enumerate(modules):
            rel = f"{POLICY_DIR}/{_relative(m, policy.root, i)}"
            if rel in shown:
                rel = f"{POLICY_DIR}/module-{i}.rego"
            target = base / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(m.text, encoding="utf-8")
            shown[rel] = m.path
        (base / POLICY_DIR).mkdir(exist_ok=True)
        (base / POLICY_DIR / "data.json").write_text(json.dumps(policy.data_document(), ensure_ascii=False), encoding="utf-8")
        if input_json is not None:
            (base / INPUT_FILE).write_text(input_json, encoding="utf-8")
        if capabilities is not None:
            (base / CAPABILITIES_FILE).write_text(capabilities, encoding="utf-8")
        yield Workspace(dir=base, shown=shown)


def _duration(seconds: float) -> str:
    """A Go duration OPA accepts (never exponent notation)."""
    return f"{max(seconds, 0.001):.3f}s"


def _run(argv: list[str], ws: Workspace, timeout: float, meanwhile: Callable[[], object] | None = None) -> subprocess.CompletedProcess[str]:
    """Run opa in the workspace within the time limit (plus GRACE_SECONDS to start); `meanwhile`,
    the caller's own work, runs in this process while opa evaluates (its output waits in the pipe)."""
    limit = timeout + GRACE_SECONDS
    started = time.monotonic()
    try:
        proc = subprocess.Popen(argv, cwd=ws.dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603 - fixed argv
    except OSError as exc:
        raise EngineError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
    with proc:
        try:
            if meanwhile is not None:
                began = time.monotonic()
                meanwhile()
                started += time.monotonic() - began  # the caller's work does not count against the time limit
            out, err = proc.communicate(timeout=max(0.0, limit - (time.monotonic() - started)))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise EngineError(
                f"opa did not finish within the time limit of {timeout:g} s (+{GRACE_SECONDS:g} s to start)",
                hint="raise it with --eval-timeout",
            ) from None
        except BaseException:
            proc.kill()
            raise
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _error_from(err: Any, ws: Workspace, timeout: float) -> PolicyError:
    """One entry of OPA's `errors` list as a gate error."""
    if not isinstance(err, dict):
        return EngineError(f"opa reported an error in an unexpected shape: {json.dumps(err)[:200]}")
    code = str(err.get("code") or "")
    message = ws.translate(str(err.get("message") or "unknown error"))
    if code == "eval_cancel_error":
        return EngineError(f"policy evaluation exceeded the time limit of {timeout:g} s ({message})", hint="raise it with --eval-timeout")
    loc = err.get("location") if isinstance(err.get("location"), dict) else None
    if loc is None:
        for frame in err.get("stack_trace") or []:
            if isinstance(frame, dict) and isinstance(frame.get("location"), dict) and frame["location"].get("file"):
                loc = frame["location"]
                break
    text = f"{code}: {message}" if code else message
    if loc and loc.get("file"):
        row, col = loc.get("row"), loc.get("col")
        pos = Position(int(row), int(col) if col else None) if isinstance(row, int) and row > 0 else None
        return PolicyError(text, file=ws.where(str(loc["file"])), position=pos)
    return PolicyError(text)


def _parse_output(done: subprocess.CompletedProcess[str], ws: Workspace, timeout: float) -> Any:
    try:
        doc = json.loads(done.stdout) if done.stdout.strip() else None
    except ValueError:
        doc = None
    if isinstance(doc, dict) and doc.get("errors"):
        errors = doc["errors"]
        first = _error_from(errors[0], ws, timeout)
        if len(errors) > 1:
            first.message += f" (and {len(errors) - 1} more error{'s' if len(errors) > 2 else ''})"
        raise first
    if done.returncode != 0 or not isinstance(doc, dict):
        raise _text_error(done, ws)
    return doc


def _text_error(done: subprocess.CompletedProcess[str], ws: Workspace) -> PolicyError:
    """An error OPA printed as text (load and compile errors of `opa test`)."""
    text = ws.translate((done.stderr or done.stdout or "").strip())
    match = _TEXT_ERROR.search(text)
    if match:
        return PolicyError(
            f"{match.group('code')}: {match.group('msg').strip()}",
            file=match.group("file").strip(),
            position=Position(int(match.group("line"))),
        )
    first = text.splitlines()[0] if text else f"exit status {done.returncode} and no output"
    return EngineError(f"opa failed: {first[:500]}")


def _value(doc: dict[str, Any]) -> tuple[bool, Any]:
    results = doc.get("result") or []
    if not isinstance(results, list) or not results:
        return False, None
    try:
        return True, results[0]["expressions"][0]["value"]
    except (KeyError, IndexError, TypeError):
        raise EngineError(f"opa answered in an unexpected shape: {json.dumps(doc)[:200]}") from None


class OpaEngine(Engine):
    """`opa eval` and `opa test`, one process per call."""

    name = "opa"

    def __init__(self, binary: str | None = None) -> None:
        self._binary = binary

    @property
    def binary(self) -> str:
        """The `opa` executable in use."""
        if self._binary is None:
            self._binary = find_opa()
        return self._binary

    def version(self) -> str:
        return opa_version(self.binary)

    def _eval(self, ws: Workspace, query: str, timeout: float, meanwhile: Callable[[], object] | None = None) -> dict[str, Any]:
        argv = [
            self.binary,
            "eval",
            "--format=json",
            "--strict-builtin-errors",
            f"--capabilities={CAPABILITIES_FILE}",
            f"--timeout={_duration(timeout)}",
            f"--input={INPUT_FILE}",
            f"--data={POLICY_DIR}",
            query,
        ]
        doc: dict[str, Any] = _parse_output(_run(argv, ws, timeout, meanwhile), ws, timeout)
        return doc

    def evaluate(
        self,
        policy: PolicySet,
        input_json: str,
        *,
        timeout: float,
        meanwhile: Callable[[], object] | None = None,
        sample: str | None = None,  # noqa: ARG002 - OPA plans nothing from it
    ) -> RawDecision:
        query = decision_query(policy)
        with workspace(policy, policy.policy_modules(), input_json, capabilities=capabilities_json(self.binary)) as ws:
            started = time.perf_counter()
            defined, value = _value(self._eval(ws, query, timeout, meanwhile))
            seconds = time.perf_counter() - started
            if not defined:
                for pkg, dec in policy.queries():
                    if not _value(self._eval(ws, f"data.{pkg}.{dec}", timeout))[0]:
                        raise PolicyError(f"decision data.{pkg}.{dec} is undefined (a rule that should always be a set is not)")
                raise PolicyError("the decision query is undefined")
        return split_decisions(value, seconds)

    def run_tests(self, policy: PolicySet, *, timeout: float, coverage: bool = True) -> TestRun:
        """`opa test` over every module; then, when all pass, `opa test --coverage` for line coverage."""
        by_path = {m.path: m for m in policy.modules}
        with workspace(policy, policy.modules, capabilities=capabilities_json(self.binary)) as ws:
            caps = f"--capabilities={CAPABILITIES_FILE}"
            argv = [self.binary, "test", "--format=json", caps, f"--timeout={_duration(timeout)}", POLICY_DIR]
            done = _run(argv, ws, timeout)
            try:
                results = json.loads(done.stdout) if done.stdout.strip() else None
            except ValueError:
                results = None
            if not isinstance(results, list):
                raise _text_error(done, ws)
            run = TestRun(results=[])
            for r in results:
                if not isinstance(r, dict) or r.get("skip"):
                    continue
                run.results.append(self._result(r, ws, by_path))
                run.prints.extend(_decode_output(r.get("output")))
            run.results.sort(key=lambda t: (t.file, t.line, t.name))
            if coverage and run.results and all(t.passed for t in run.results):
                done = _run(
                    [self.binary, "test", "--coverage", "--format=json", caps, f"--timeout={_duration(timeout)}", POLICY_DIR], ws, timeout
                )
                report = _parse_output(done, ws, timeout)
                self._coverage(report, ws, policy, run)
        return run

    @staticmethod
    def _result(r: dict[str, Any], ws: Workspace, by_path: dict[str, Module]) -> TestResult:
        loc = r.get("location") or {}
        file = ws.where(str(loc.get("file") or "")) or ""
        package = str(r.get("package") or "").removeprefix("data.")
        err = r.get("error")
        if isinstance(err, dict):
            message = ws.translate(f"{err.get('code', 'error')}: {err.get('message', '')}")
        elif r.get("fail"):
            message = "failed (its body was undefined or false)"
        else:
            message = ""
        if not package and file in by_path:
            package = by_path[file].package
        return TestResult(
            package=package,
            name=str(r.get("name") or ""),
            passed=not r.get("fail") and not err,
            file=file,
            line=int(loc.get("row") or 0),
            message=message,
            seconds=float(r.get("duration") or 0) / 1e9,
        )

    @staticmethod
    def _coverage(report: dict[str, Any], ws: Workspace, policy: PolicySet, run: TestRun) -> None:
        tested = {m.path for m in policy.modules if not m.is_test}
        files = report.get("files") or {}
        for name, cov in files.items():
            path = ws.where(name) or name
            if path not in tested or not isinstance(cov, dict):
                continue
            covered = int(cov.get("covered_lines") or 0)
            missing = int(cov.get("not_covered_lines") or 0)
            run.coverage[path] = (covered, covered + missing)
            lines: set[int] = set()
            for span in cov.get("not_covered") or []:
                start, end = span["start"]["row"], span["end"]["row"]
                lines.update(range(int(start), int(end) + 1))
            run.uncovered[path] = sorted(lines)
        for path in tested - set(run.coverage):
            run.coverage[path] = (0, 0)  # nothing coverable (OPA leaves such files out)
            run.uncovered[path] = []


def _decode_output(value: Any) -> list[str]:
    if not isinstance(value, str) or not value:
        return []
    try:
        return base64.b64decode(value).decode("utf-8", "replace").splitlines()
    except (binascii.Error, ValueError):
        return [value]
