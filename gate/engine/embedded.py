"""The embedded engine: regorus (package gordon-to-regorus), in process, offline.

Regorus has no evaluation time limit and Rust code cannot be interrupted from a Python thread,
so evaluation runs in a forked child (copy-on-write: the loaded engine and input are not sent
again) that is killed at the limit; where forking is unsafe (other threads, macOS) a spawned
worker rebuilds the engine from the same texts. Regorus raises on builtin errors where OPA
returns undefined (good: fail closed) and a Rust panic may surface as any BaseException: both
become engine errors.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import time
from collections.abc import Callable, Sequence
from typing import Any

from gate.engine.compile import _regorus
from gate.engine.compile import build as build
from gate.engine.compile import engine_error as engine_error
from gate.engine.interface import SAMPLE_FROM_CHARS, Engine, RawDecision, TestResult, TestRun, input_sample
from gate.errors import EngineError, PolicyError, Position
from gate.policy import Module, PolicySet
from gate.processes import cpu_count, die_with_parent, fork_safe


def decision_query(policy: PolicySet) -> str:
    """One query that yields every decision set at once, keyed `package|decision`."""
    parts = [f'"{pkg}|{dec}": data.{pkg}.{dec}' for pkg, dec in policy.queries()]
    return "{" + ", ".join(parts) + "}"


def _value_of(result_json: str | bytes | bytearray) -> tuple[bool, Any]:
    doc = json.loads(result_json)
    results = doc.get("result") or []
    if not results:
        return False, None
    return True, results[0]["expressions"][0]["value"]


# --------------------------------------------------------------------------------------------
# Time-limited execution


def run_limited(fn: Callable[[], str], timeout: float, *, rebuild: Callable[[], Callable[[], str]] | None = None) -> str:
    """Run `fn` (which returns text) with a wall-clock limit, in a forked child where safe.

    Errors raised by `fn` come back as EngineError/PolicyError; at the limit the child is killed.
    Where forking is unsafe, `rebuild` (a picklable factory) runs in a spawned worker instead.
    """
    if fork_safe():
        return _run_forked(fn, timeout)
    if rebuild is not None:
        return _run_spawned(rebuild, timeout)
    return fn()


def _encode_outcome(fn: Callable[[], str]) -> bytes:
    try:
        return b"O" + fn().encode("utf-8", "surrogatepass")
    except PolicyError as exc:
        return (
            b"P"
            + json.dumps(
                {"m": exc.message, "f": exc.file, "p": [exc.position.line, exc.position.column] if exc.position else None}
            ).encode()
        )
    except BaseException as exc:  # noqa: BLE001 - the child reports every failure, panics included
        err = engine_error(exc, during="evaluation error")
        return (
            b"P"
            + json.dumps(
                {"m": err.message, "f": err.file, "p": [err.position.line, err.position.column] if err.position else None}
            ).encode()
        )


def _decode_outcome(data: bytes) -> str:
    if data[:1] == b"O":
        return data[1:].decode("utf-8", "surrogatepass")
    if data[:1] == b"P":
        d = json.loads(data[1:])
        pos = Position(d["p"][0], d["p"][1]) if d["p"] else None
        raise PolicyError(d["m"], file=d["f"], position=pos)
    raise EngineError("the evaluation process ended without an answer (crashed or killed)")


def _run_forked(fn: Callable[[], str], timeout: float) -> str:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(r)
            payload = _encode_outcome(fn)
            view = memoryview(payload)
            while view:
                n = os.write(w, view)
                view = view[n:]
            os.close(w)
        finally:
            os._exit(0)
    os.close(w)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                os.kill(pid, signal.SIGKILL)
                raise EngineError(f"policy evaluation exceeded the time limit of {timeout:g} s", hint="raise it with --eval-timeout")
            ready, _, _ = select.select([r], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(r, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(r)
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    return _decode_outcome(b"".join(chunks))


def _spawn_target(rebuild: Callable[[], Callable[[], str]], conn: Any) -> None:
    conn.send_bytes(_encode_outcome(lambda: rebuild()()))
    conn.close()


def _run_spawned(rebuild: Callable[[], Callable[[], str]], timeout: float) -> str:
    import multiprocessing  # only where forking is unsafe: 10 ms of start-up spared elsewhere

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_spawn_target, args=(rebuild, child), daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(timeout):
            raise EngineError(f"policy evaluation exceeded the time limit of {timeout:g} s", hint="raise it with --eval-timeout")
        data = parent.recv_bytes()
    except EOFError:
        data = b""
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()
    return _decode_outcome(data)


def _distribution_version() -> str:
    """The installed gordon-to-regorus version, from its `.dist-info` folder name beside the module.

    A wheel's metadata folder is named `NAME-VERSION.dist-info` (PyPA's installed-project
    format), so the name gives the version without importlib.metadata, whose email-parser
    imports cost a run of ten findings a few per cent of its time; it stays the fallback.
    """
    regorus = _regorus()
    site = os.path.dirname(os.path.dirname(os.path.abspath(regorus.__file__)))
    try:
        names = os.listdir(site)
    except OSError:
        names = []
    for name in names:
        if name.startswith("gordon_to_regorus-") and name.endswith(".dist-info"):
            return str(name[len("gordon_to_regorus-") : -len(".dist-info")])
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gordon-to-regorus")
    except PackageNotFoundError:
        return "unknown"


class _Rebuild:
    """A picklable recipe: build the engine in a worker and run one query (spawn path)."""

    def __init__(self, modules: list[tuple[str, str]], data_json: str, input_json: str, query: str) -> None:
        self.modules, self.data_json, self.input_json, self.query = modules, data_json, input_json, query

    def __call__(self) -> Callable[[], str]:
        engine = build(self.modules, self.data_json, self.input_json)
        return lambda: str(engine.eval_query_as_json(self.query))


# --------------------------------------------------------------------------------------------
# Parallel evaluation: decision packages shared out among forked workers


def _units(policy: PolicySet) -> list[tuple[str, str]]:
    """One unit of work per decision package: (package, query of its decisions keyed `package|decision`)."""
    by_pkg: dict[str, list[str]] = {}
    for pkg, dec in policy.queries():
        by_pkg.setdefault(pkg, []).append(dec)
    return [(pkg, "{" + ", ".join(f'"{pkg}|{d}": data.{pkg}.{d}' for d in decs) + "}") for pkg, decs in by_pkg.items()]


def _worker_count(requested: int | None, units: int, input_bytes: int) -> int:
    """How many workers: one per CPU (at most MAX_WORKERS), as many as the memory budget holds.

    The parent has parsed the input into the engine before forking, so the workers share it
    (copy-on-write) and each adds only the pages it writes and what it evaluates. Measured with
    regorus 0.13 (80 MB of input JSON, 10^5 findings: the parent at 475 MB after parsing), the
    worker of the largest package adds about LARGEST_WORKER_PER_INPUT_BYTE times the input
    JSON, every other one about OTHER_WORKER_PER_INPUT_BYTE times; the parent's resident set
    (read now) counts against the budget too.
    """
    if requested is not None:
        return max(1, min(requested, units))
    cpus = cpu_count()
    room = MEMORY_BUDGET - _resident_bytes() - LARGEST_WORKER_PER_INPUT_BYTE * input_bytes
    by_memory = 1 + max(0, int(room // max(1, OTHER_WORKER_PER_INPUT_BYTE * input_bytes)))
    return max(1, min(cpus, MAX_WORKERS, units, by_memory))


def _room_beside(workers: int, input_bytes: int, *, own: bool = False) -> bool:
    """Whether the caller's work (`meanwhile`: reading its document back, about
    MEANWHILE_PER_INPUT_BYTE times the input JSON) fits the memory budget beside the workers.

    Where the workers share the parent's parse it runs while they evaluate only if parent and
    workers stay within MEMORY_BUDGET together; otherwise the engine leaves it to the caller,
    after the workers have ended. At 10^5 findings it does not fit (the document is 300 MiB in
    Python beside 67 MiB of JSON: with it the process tree peaked at 1.3 GiB, each process under
    1 GiB), at 10^4 it does. Where each worker parses its own input (`own`,
    _parse_in_workers has checked the machine's memory for all of them), the parent, which holds
    no parsed input, only has to stay within MEMORY_BUDGET itself.
    """
    if own:
        return _resident_bytes() + MEANWHILE_PER_INPUT_BYTE * input_bytes <= MEMORY_BUDGET
    need = LARGEST_WORKER_PER_INPUT_BYTE + OTHER_WORKER_PER_INPUT_BYTE * (workers - 1) + MEANWHILE_PER_INPUT_BYTE
    return _resident_bytes() + need * input_bytes <= MEMORY_BUDGET


def _parse_in_workers(requested: int | None, units: int, input_bytes: int) -> int:
    """How many workers should each parse the input themselves rather than share the parent's
    parse: 0 where they should share it.

    Sharing (the parent parses, then forks) keeps the process tree within MEMORY_BUDGET, but
    the parse (2 s at 10^5 findings) and the parent's reading back of its document (0.7 s) then
    run on one core while the other waits: the evaluation's critical path is parse + the slowest
    package + read-back. With a parse per worker, made at the same time on every core, and the
    read-back beside them, it is the worker's parse + the slowest package, about 1.4 s shorter at
    10^5 findings on two cores. It costs memory: each worker holds its own parsed input
    (PARSED_INPUT_PER_INPUT_BYTE times the JSON) besides what it evaluates, and the tree grows by
    a parse per worker and the parent's document. So it is chosen only where each process stays
    within MEMORY_BUDGET (the forked worker counts the parent's pages it shares) and the
    machine's available memory (MemAvailable) holds them all with MEMORY_HEADROOM to spare;
    elsewhere (a small container, a loaded machine, no /proc) the workers share one parse. The
    workers are as many as `_worker_count` would give without the budget: the CPUs (or what was
    asked for), at most MAX_WORKERS and the units; one worker gains nothing from it.
    """
    workers = max(1, min(requested, units)) if requested is not None else min(cpu_count(), MAX_WORKERS, units)
    per_worker = (PARSED_INPUT_PER_INPUT_BYTE + LARGEST_WORKER_PER_INPUT_BYTE) * input_bytes
    if workers < 2 or _resident_bytes() + per_worker > MEMORY_BUDGET:
        return 0
    need = workers * per_worker + MEANWHILE_PER_INPUT_BYTE * input_bytes + MEMORY_HEADROOM
    return workers if _available_bytes() >= need else 0


MEMINFO = "/proc/meminfo"


def _available_bytes() -> int:
    """The memory this process's tree can still take: the machine's MemAvailable, less where
    a control group limits it (a container's memory limit, which /proc/meminfo does not show:
    a runner's container of 1 GiB on a host of 64 GiB), 0 where unknown."""
    try:
        with open(MEMINFO) as fh:
            available = next(int(line.split()[1]) * 1024 for line in fh if line.startswith("MemAvailable:"))
    except (OSError, ValueError, IndexError, StopIteration):
        return 0
    for limit_file, usage_file in _cgroup_memory_files():
        try:
            with open(limit_file) as fh:
                limit = fh.read().strip()
            with open(usage_file) as fh:
                usage = int(fh.read().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit():  # "max" (v2) or a huge number (v1) where there is no limit
            available = min(available, max(0, int(limit) - usage))
    return available


def _cgroup_memory_files() -> list[tuple[str, str]]:
    """(limit, usage) files of the memory control groups this process is in: cgroup v2's
    memory.max / memory.current, v1's memory.limit_in_bytes / memory.usage_in_bytes, at the
    group's own path and at the mount's root (what a container with its own cgroup namespace
    sees)."""
    files = [
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ]
    try:
        with open("/proc/self/cgroup") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return files
    for line in lines:
        _, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if not path.startswith("/") or ".." in path or path == "/":
            continue
        if controllers == "":
            files.append((f"/sys/fs/cgroup{path}/memory.max", f"/sys/fs/cgroup{path}/memory.current"))
        elif "memory" in controllers.split(","):
            files.append((f"/sys/fs/cgroup/memory{path}/memory.limit_in_bytes", f"/sys/fs/cgroup/memory{path}/memory.usage_in_bytes"))
    return files


def _resident_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _release_free_memory() -> None:
    """Hand the C heap's free pages back to the system before forking (glibc's malloc_trim).

    The input document the parent has just set aside leaves about 100 MB of free heap at 10^5
    findings that glibc keeps; the workers would inherit it and the memory budget count it.
    Elsewhere (another C library) this does nothing. Only large inputs call it: importing ctypes
    costs a small run a few per cent of its time.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


MAX_WORKERS = 4
"""More workers than this add memory faster than they save time."""

MEMORY_BUDGET = 1 << 30
"""The evaluation's memory target (issue F): parent and workers together, 1 GiB, where the
workers share the parent's parse of the input; every process on its own (issue 20), where the
machine has the memory for a parse per worker (_parse_in_workers)."""

LARGEST_WORKER_PER_INPUT_BYTE = 4
OTHER_WORKER_PER_INPUT_BYTE = 1
MEANWHILE_PER_INPUT_BYTE = 5
"""The caller's document read back from compact JSON: 300 MiB from 67 MiB at 10^5 findings."""

PARSED_INPUT_PER_INPUT_BYTE = 4
"""Regorus's parse of the input: the parent went from 205 to 475 MiB with 67 MiB of JSON."""

MEMORY_HEADROOM = 1 << 30
"""What the machine must keep available beyond a parse per worker, for everything else."""

_HEADER = 9  # one tag byte ("O" answer, "P" policy error) and a 64-bit length


def _frame(tag: bytes, payload: bytes) -> bytes:
    return tag + len(payload).to_bytes(8, "big") + payload


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _error_payload(exc: BaseException) -> bytes:
    err = exc if isinstance(exc, PolicyError) else engine_error(exc, during="evaluation error")
    return json.dumps({"m": err.message, "f": err.file, "p": [err.position.line, err.position.column] if err.position else None}).encode()


def _worker(engine: Any, units: Sequence[tuple[str, str]], commands: int, answers: int, input_json: str | None = None) -> None:
    """A forked worker: answer each unit the parent names.

    The engine holds the input already, or the worker parses `input_json` into it first (each
    worker its own copy: see `_parse_in_workers`). Commands are unit numbers, one per line; end
    of file means no more work. Each answer is a frame (tag, length, regorus's JSON); after an
    error frame the worker stops.
    """
    if input_json is not None:
        try:
            engine.set_input_json(input_json)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, panics included
            _write_all(answers, _frame(b"P", _error_payload(engine_error(exc, during="loading the input"))))
            return
        _write_all(answers, _frame(b"R", b""))  # ready: the parent sends the first unit now
    pending = b""
    while True:
        while b"\n" not in pending:
            chunk = os.read(commands, 64)
            if not chunk:
                return
            pending += chunk
        line, pending = pending.split(b"\n", 1)
        pkg, query = units[int(line)]
        try:
            text = str(engine.eval_query_as_json(query))
            # An undefined answer is `{}`; only a short answer needs parsing to tell.
            if len(text) < 1024 and not _value_of(text)[0]:
                raise PolicyError(_undefined(engine, pkg, query))
            payload = text.encode("utf-8", "surrogatepass")
            del text
            _write_all(answers, b"O" + len(payload).to_bytes(8, "big"))
            _write_all(answers, payload)
            del payload
        except BaseException as exc:  # noqa: BLE001 - reported to the parent, panics included
            _write_all(answers, _frame(b"P", _error_payload(exc)))
            return


def _undefined(engine: Any, pkg: str, query: str) -> str:
    for dec in re.findall(r'"[^"|]+\|(\w+)"', query):
        if not _value_of(str(engine.eval_query_as_json(f"data.{pkg}.{dec}")))[0]:
            return f"decision data.{pkg}.{dec} is undefined (a rule that should always be a set is not)"
    return f"the decisions of data.{pkg} are undefined"


WORKER_LOST = "the evaluation process ended without an answer (crashed or killed)"


class _Worker:
    """The parent's end of one forked worker."""

    def __init__(self, pid: int, commands: int, answers: int) -> None:
        self.pid, self.commands, self.answers = pid, commands, answers
        self.buffer = bytearray()
        self.busy = False

    def send(self, unit: int | None) -> None:
        if unit is None:
            os.close(self.commands)
            self.commands = -1
            self.busy = False
            return
        try:
            _write_all(self.commands, b"%d\n" % unit)
        except BrokenPipeError:  # the worker is gone (killed, out of memory) before it read its work
            raise EngineError(WORKER_LOST) from None
        self.busy = True

    def frame(self) -> tuple[bytes, bytearray] | None:
        """The first complete frame received, removed from the buffer; None while incomplete."""
        if len(self.buffer) < _HEADER:
            return None
        size = int.from_bytes(self.buffer[1:_HEADER], "big")
        if len(self.buffer) < _HEADER + size:
            return None
        tag = bytes(self.buffer[:1])
        if len(self.buffer) == _HEADER + size:  # the usual case: take the buffer, copy nothing
            payload, self.buffer = self.buffer, bytearray()
            del payload[:_HEADER]
        else:
            payload = self.buffer[_HEADER : _HEADER + size]
            del self.buffer[: _HEADER + size]
        return tag, payload


def _evaluate_forked(
    engine: Any,
    units: Sequence[tuple[str, str]],
    timeout: float,
    workers: int,
    meanwhile: Callable[[], object] | None = None,
    *,
    orphan_guard: bool = False,
    input_json: str | None = None,
    order: Callable[[], list[int]] | None = None,
) -> dict[str, Any]:
    """Evaluate every unit in `workers` forked processes, handing out units as workers free up.

    The engine holds the modules, data and input already: the workers inherit them. Once they
    are forked the parent runs `meanwhile`, the caller's work, on the core they leave free. With
    `input_json` the engine holds no input: each worker parses its own copy first and says when
    it is ready, and the first unit goes to the first worker ready (the slowest unit starts as
    early as it can; `order`, when given, is asked for the units' order then, once);
    `meanwhile` then waits until every unit is handed out and a worker has ended, so that it
    does not take a core from the parses and the slowest unit (it runs on the core the other
    workers leave). The parent keeps its engine until the workers have ended: freeing it while
    they live would write to every page of the parsed input (reference counts, the allocator's
    lists) and so copy each one the workers share (at 10^5 findings the process tree grew by
    about 350 MiB).

    A unit goes to whichever worker is free, so one slow package does not hold the others back.
    The whole evaluation shares one deadline; at it, or at the first error, every worker is killed.
    With `orphan_guard` (large inputs, where a worker runs for seconds) each worker is also killed
    when the parent ends (`die_with_parent`); a small run's workers end within milliseconds anyway
    and do not pay for loading ctypes.
    """
    deadline = time.monotonic() + timeout
    pool: list[_Worker] = []
    value: dict[str, Any] = {}
    todo = list(range(len(units)))
    answered = 0
    parent = os.getpid()
    try:
        for _ in range(workers):
            cmd_r, cmd_w = os.pipe()
            ans_r, ans_w = os.pipe()
            pid = os.fork()
            if pid == 0:  # child
                try:
                    if orphan_guard:
                        die_with_parent(parent)
                    os.close(cmd_w)
                    os.close(ans_r)
                    for other in pool:
                        for fd in (other.commands, other.answers):
                            if fd >= 0:
                                os.close(fd)
                    _worker(engine, units, cmd_r, ans_w, input_json)
                finally:
                    os._exit(0)
            os.close(cmd_r)
            os.close(ans_w)
            pool.append(_Worker(pid, cmd_w, ans_r))
        if input_json is None:
            for w in pool:
                w.send(todo.pop(0) if todo else None)
        else:
            for w in pool:
                w.busy = True  # parsing: its end of file now would be a lost worker
        later = meanwhile if input_json is not None else None
        if meanwhile is not None and later is None:
            began = time.monotonic()
            meanwhile()
            deadline += time.monotonic() - began  # the caller's work does not count against the time limit
        while any(w.answers >= 0 for w in pool):
            if later is not None and not todo and any(w.answers < 0 or not w.busy for w in pool):
                began, run, later = time.monotonic(), later, None
                run()
                deadline += time.monotonic() - began
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise EngineError(f"policy evaluation exceeded the time limit of {timeout:g} s", hint="raise it with --eval-timeout")
            ready, _, _ = select.select([w.answers for w in pool if w.answers >= 0], [], [], remaining)
            for w in pool:
                if w.answers not in ready:
                    continue
                chunk = os.read(w.answers, 1 << 20)
                if not chunk:
                    if w.busy or w.buffer:
                        raise EngineError(WORKER_LOST)
                    os.close(w.answers)
                    w.answers = -1
                    continue
                w.buffer += chunk
                while (got := w.frame()) is not None:
                    tag, payload = got
                    if tag == b"R":
                        if order is not None:
                            todo, order = [i for i in order() if i in todo], None
                        w.send(todo.pop(0) if todo else None)
                        continue
                    if tag != b"O":
                        _decode_outcome(tag + bytes(payload))  # raises the worker's PolicyError
                    # The worker goes on (or ends, freeing its memory) while its answer is parsed;
                    # answers are parsed as they arrive (json decodes the bytes itself, surrogates
                    # passed), so one answer's text is held at a time, never all of them.
                    w.send(todo.pop(0) if todo else None)
                    value.update(_decision_value(payload))
                    answered += 1
                    del payload
        if answered != len(units):  # never a verdict without every package's decisions
            raise EngineError(WORKER_LOST)
        return value  # a `meanwhile` not run by now is the caller's to do, as the interface says
    finally:
        for w in pool:
            for fd in (w.commands, w.answers):
                if fd >= 0:
                    os.close(fd)
            try:
                os.kill(w.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(w.pid, 0)
            except ChildProcessError:
                pass


# --------------------------------------------------------------------------------------------
# The order of the units: the slowest first
#
# Units go to workers in order as they free up, so a slow unit handed out last finishes long
# after the others (at 10^5 findings the pack's SAST package takes two thirds of the evaluation).
# A probe times every unit on a sample of the input (the caller's, `input_sample`, else cut from
# the input), in a forked child, while the input is parsed (by the parent, or by every worker):
# it costs the parent nothing, and its figures order the units slowest first. Without a probe (a
# smaller input), or when it fails or is late, the units go out largest package source first
# (_static_order); the answers are the same in any order.

PROBE_MIN_CHARS = SAMPLE_FROM_CHARS
"""Below this much input JSON (about 4 x 10^4 findings) the evaluation takes a few seconds at
most and the order matters little; from there, parsing the input takes the parent longer than
the probe takes. The caller's sample starts at the same size."""

PROBE_GRACE = 0.25
"""How long the parent waits for a probe that has not answered when the input is parsed."""


def _start_probe(engine: Any, input_json: str, units: Sequence[tuple[str, str]], *, sampled: bool = False) -> tuple[int, int] | None:
    """Fork the probe: (pid, read end of its pipe), or None where it cannot start. `sampled`:
    `input_json` is a sample already (`gate.engine.interface.input_sample`), not the input."""
    try:
        r, w = os.pipe()
    except OSError:
        return None
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        os.close(r)
        os.close(w)
        return None
    if pid == 0:  # child
        try:
            die_with_parent(parent)
            os.close(r)
            _write_all(w, _probe(engine, input_json, units, sampled=sampled))
        finally:
            os._exit(0)
    os.close(w)
    return pid, r


def _probe(engine: Any, input_json: str, units: Sequence[tuple[str, str]], *, sampled: bool = False) -> bytes:
    """The seconds each unit takes on a sample: every k-th item of each top-level array, the same
    k for all of them, so that the largest keeps about SAMPLE_ITEMS items (`input_sample`).

    One step for every array keeps the arrays in proportion, so the units keep their order: cut
    each array to SAMPLE_ITEMS items, 5,000 components weighed as much as 10^5 findings, and at
    10^5 findings the licence package (0.3 s) was timed slower than the SAST package (5 s)."""
    try:
        if sampled:
            engine.set_input_json(input_json)
        else:  # the caller gave no sample: read the whole input to cut one (a second at 10^5)
            doc = _sample(json.loads(input_json))
            engine.set_input_json(json.dumps(doc, ensure_ascii=False))
            del doc
        seconds = []
        for _, query in units:
            started = time.perf_counter()
            engine.eval_query_as_json(query)
            seconds.append(time.perf_counter() - started)
        return json.dumps(seconds).encode()
    except BaseException:  # noqa: BLE001 - a failing probe only leaves the default order
        return b""


_sample = input_sample
"""The probe's sample of an input the caller gave no sample of (the same cut)."""


def _static_order(policy: PolicySet, units: Sequence[tuple[str, str]]) -> list[int]:
    """The unit numbers, largest package source first: the order when no probe runs.

    Below PROBE_MIN_CHARS no probe times the units, and in package order the slowest one could
    start last (the shipped pack's `gate.sast`, about half of the evaluation, is the sixth of ten
    packages: at 10^4 findings the workers then finished 0.1 s later than with it first). The
    length of a package's Rego source is a free, rough stand-in for its cost (more rules, more
    passes over the input). Any order gives the same answers; only the schedule changes.
    """
    size: dict[str, int] = {}
    for m in policy.policy_modules():
        size[m.package] = size.get(m.package, 0) + len(m.text)
    return sorted(range(len(units)), key=lambda i: -size.get(units[i][0], 0))


def _probe_order(probe: tuple[int, int], count: int, fallback: list[int] | None = None) -> list[int]:
    """The unit numbers, slowest on the sample first; `fallback` (package order when None) if the
    probe failed or is late."""
    pid, fd = probe
    data = b""
    deadline = time.monotonic() + PROBE_GRACE
    try:
        while (remaining := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
    order = list(range(count)) if fallback is None else fallback
    try:
        seconds = json.loads(data)
    except ValueError:
        return order
    if not (isinstance(seconds, list) and len(seconds) == count and all(isinstance(x, float) for x in seconds)):
        return order
    return sorted(range(count), key=lambda i: -seconds[i])


def _decision_value(text: str | bytes | bytearray) -> dict[str, Any]:
    defined, value = _value_of(text)
    if not defined or not isinstance(value, dict):
        raise PolicyError(f"a decision query returned {type(value).__name__}, not an object")
    return value


# --------------------------------------------------------------------------------------------


def _evaluate_parsing_workers(
    engine: Any,
    policy: PolicySet,
    units: Sequence[tuple[str, str]],
    input_json: str,
    timeout: float,
    workers: int,
    meanwhile: Callable[[], object] | None,
    sample: str | None,
) -> dict[str, Any]:
    """Memory to spare (_parse_in_workers): every worker parses the input itself, at the same
    time, and the parent reads its document back beside them. A probe times the units on the
    caller's sample (milliseconds to parse) while the workers parse; their order is read when
    the first worker is ready, so that the slowest unit goes to it."""
    beside = meanwhile if _room_beside(workers, len(input_json), own=True) else None
    fallback = _static_order(policy, units)
    probe = _start_probe(engine, sample, units, sampled=True) if sample is not None and len(units) > 2 else None

    def planned() -> list[int]:
        return _probe_order(probe, len(units), fallback) if probe else fallback

    return _evaluate_forked(engine, units, timeout, workers, beside, orphan_guard=True, input_json=input_json, order=planned)


class EmbeddedEngine(Engine):
    """Regorus, in process."""

    name = "embedded"

    def version(self) -> str:
        return f"regorus (gordon-to-regorus {_distribution_version()})"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers

    def evaluate(
        self,
        policy: PolicySet,
        input_json: str,
        *,
        timeout: float,
        meanwhile: Callable[[], object] | None = None,
        sample: str | None = None,
    ) -> RawDecision:
        modules = [(m.path, m.text) for m in policy.policy_modules()]
        data_json = json.dumps(policy.data_document())
        # Compiled here, without the input: a compile error surfaces before any process starts.
        engine = build(modules, data_json, None)
        started = time.perf_counter()
        if fork_safe():
            # Where memory is short the input is parsed once, here, and the forked workers share
            # it (copy-on-write); where the machine has memory to spare each worker parses its
            # own, all at once (_parse_in_workers).
            units = _units(policy)
            large = len(input_json) >= PROBE_MIN_CHARS
            if large:
                _release_free_memory()
            own = _parse_in_workers(self.workers, len(units), len(input_json)) if large else 0
            if own > 1:
                value = _evaluate_parsing_workers(engine, policy, units, input_json, timeout, own, meanwhile, sample)
                return split_decisions(value, time.perf_counter() - started)
            probe = _start_probe(engine, sample or input_json, units, sampled=sample is not None) if large and len(units) > 2 else None
            fallback = _static_order(policy, units)
            try:
                engine.set_input_json(input_json)
            except BaseException as exc:  # noqa: BLE001 - panics surface as BaseException
                if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                    raise
                raise engine_error(exc, during="loading the input") from None
            finally:
                order = _probe_order(probe, len(units), fallback) if probe else fallback
            workers = _worker_count(self.workers, len(units), len(input_json))  # characters: bytes, near enough
            beside = meanwhile if _room_beside(workers, len(input_json)) else None
            value = _evaluate_forked(engine, [units[i] for i in order], timeout, workers, beside, orphan_guard=large)
        else:
            # Elsewhere (macOS, other threads): one spawned worker rebuilds the engine and answers all.
            recipe = _Rebuild(modules, data_json, input_json, decision_query(policy))
            defined, value = _value_of(run_limited(lambda: recipe()(), timeout, rebuild=recipe))
            if not defined:
                names = ", ".join(f"data.{p}.{d}" for p, d in policy.queries())
                raise PolicyError(f"the decision query is undefined: one of {names} is not a set")
        return split_decisions(value, time.perf_counter() - started)

    def run_tests(self, policy: PolicySet, *, timeout: float, coverage: bool = True) -> TestRun:
        modules = [(m.path, m.text) for m in policy.modules]
        tests = [(m, name, line) for m in policy.modules if m.is_test for name, line in test_rules(m)]
        data_json = json.dumps(policy.data_document())
        engine = build(modules, data_json, "{}", coverage=coverage)
        engine.set_gather_prints(True)

        def run_all() -> str:
            out = []
            for m, name, line in tests:
                started = time.perf_counter()
                try:
                    ok, value = _value_of(str(engine.eval_query_as_json(f"data.{m.package}.{name}")))
                    passed, message = ok and value is True, "" if ok else "undefined (the test's body failed)"
                    if ok and value is not True:
                        message = f"evaluated to {json.dumps(value)[:200]}, not true"
                except BaseException as exc:  # noqa: BLE001 - a test that errors fails, with the error
                    err = engine_error(exc, during="error")
                    passed, message = False, str(err)
                out.append(
                    {"p": m.package, "n": name, "ok": passed, "f": m.path, "l": line, "m": message, "s": time.perf_counter() - started}
                )
            cov = json.loads(engine.get_coverage_report_as_json()) if coverage else {"files": []}
            return json.dumps({"tests": out, "coverage": cov, "prints": list(engine.take_prints())})

        result = json.loads(run_limited(run_all, timeout))
        run = TestRun(
            results=[
                TestResult(package=t["p"], name=t["n"], passed=t["ok"], file=t["f"], line=t["l"], message=t["m"], seconds=t["s"])
                for t in result["tests"]
            ],
            prints=result["prints"],
        )
        tested = {m.path for m in policy.modules if not m.is_test}
        for f in result["coverage"]["files"]:
            if f["path"] in tested:
                covered, missing = set(f["covered"]), set(f["not_covered"])
                run.coverage[f["path"]] = (len(covered), len(covered | missing))
                run.uncovered[f["path"]] = sorted(missing)
        return run


_TEST_RULE = re.compile(r"^(test_\w+)\s*(?:if\b|\{|:?=)", re.MULTILINE)


def test_rules(module: Module) -> list[tuple[str, int]]:
    """The `test_*` rules of a module, with their lines (each name once)."""
    seen: dict[str, int] = {}
    for m in _TEST_RULE.finditer(module.text):
        seen.setdefault(m.group(1), module.text.count("\n", 0, m.start()) + 1)
    return list(seen.items())


def split_decisions(value: Any, seconds: float) -> RawDecision:
    """Gather every package's deny and warn sets from the combined query's answer."""
    if not isinstance(value, dict):
        raise PolicyError(f"the decision query returned {type(value).__name__}, not an object")
    out = RawDecision(seconds=seconds)
    for key in sorted(value):
        pkg, dec = key.split("|", 1)
        items = value[key]
        if not isinstance(items, list):
            raise PolicyError(f"data.{pkg}.{dec} is {type(items).__name__}, not a set (write `{dec} contains ... if`)")
        (out.deny if dec == "deny" else out.warn).extend(items)
    return out
