"""Run one function over numbered items in forked processes, with the answers of a plain loop.

`ordered_map(fn, count, shares, ...)` returns `[fn(0), fn(1), ...]` and raises what the loop
`for i in range(count): fn(i)` would raise first: the error of the lowest-numbered item that
fails. Share 0 is done by the calling process itself, every other share by one forked child
(copy-on-write: no start-up, no re-import, the parent's objects as they are). `gate.collect`
uses it to read several large reports at once; only it decides when that pays.

How a child answers: it pickles each answer straight into its own memory file (`memfd`, made by
the parent before the fork; 64 KiB frames, so the answer never exists twice in the child) and
writes a fixed-size record (tag, item, offset, length) to its own pipe. A child never waits for
the parent to take an answer (a pipe holds 64 KiB; one answer can be megabytes), so it goes on
with its next item while the parent still works on its own. The parent unpickles an answer from
bytes read whole, or, over 64 MiB, as it reads it. After its
last item it writes a "done" record and leaves with `os._exit`: no atexit handler, no flush of
a stream buffer it inherited, stdout and stderr pointed at /dev/null beforehand.

What the parent trusts: the children run the gate's own code, but on attacker-controlled input,
so the channel is the gate's own and is still checked. A record must be whole (records are read
until complete), name an item of that child's share not yet answered, start where the last
answer ended and lie inside the memory file; an answer is unpickled by an unpickler that knows
only the classes the caller allows (`allowed`) and must be of the expected type. Anything else
is a broken child, and the run fails closed.

Errors: a `GateError` raised in a child comes back pickled (same class, message, file,
position, hint). Any other exception, a bug, comes back as an `InternalError` naming its type
and message. Each process skips its items numbered above the first that failed in it (the loop
would never reach them) but still does the lower ones, so the error raised is the lowest
failing item's whichever process saw it first. A child that dies (crash, signal, out of memory)
before answering everything is noticed at the end of its pipe (its only writer: the parent
closes its end before the next fork), named with the item it was working on, and fails the run;
the parent never blocks once every child has ended. Every child is killed and reaped in a
`finally`: none stays a zombie. A child asks Linux to kill it when the parent ends
(`gate.processes.die_with_parent`, `PR_SET_PDEATHSIG`), so a parent killed by SIGKILL leaves no
reader behind either.

There is no time limit: reading had none before either. A child that hangs holds the parent as a
hanging reader in the parent would.
"""

from __future__ import annotations

import copyreg
import dataclasses
import gc
import io
import operator
import os
import pickle
import select
import signal
import struct
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar, cast

from gate.errors import GateError, InputError, InternalError
from gate.processes import cpu_count as cpu_count
from gate.processes import die_with_parent, fork_safe

T = TypeVar("T")

_RECORD = struct.Struct("!cIQQ")
"""tag, item, offset, length: one answer in the child's memory file (21 bytes, written at once)."""

_ANSWER, _ERROR, _BUG, _DONE = b"A", b"E", b"B", b"D"
_BUG_TEXT_MAX = 2000
_READ_WHOLE = 64 << 20
"""Answers up to this size are read into memory whole before unpickling (see `_Run._decode`)."""
_CHILD_FAILED = 70


def can_fork() -> bool:
    """Forking is safe and useful here: `gate.processes.fork_safe`, and `memfd_create` exists."""
    return fork_safe() and hasattr(os, "memfd_create")


# --------------------------------------------------------------------------------------------
# Pickling: frozen slotted dataclasses by their fields


def _fields_reducer(cls: type) -> Callable[[Any], tuple[Any, ...]] | None:
    if not (dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__) or hasattr(cls, "__post_init__"):
        return None
    fields = dataclasses.fields(cls)
    if len(fields) < 2 or not all(f.init for f in fields):
        return None
    values = operator.attrgetter(*(f.name for f in fields))
    return lambda obj: (cls, values(obj))


def dispatch_table(classes: Iterable[type]) -> dict[type, Any]:
    """A pickler's table that sends each frozen slotted dataclass as (class, field values).

    Python 3.11 pickles a slotted dataclass through `__getstate__`/`__setstate__` written in
    Python (a `fields()` call and one `setattr` per field and object): at 25,000 findings that
    took 0.27 s to pickle and 0.22 s to unpickle, against 0.11 s and 0.14 s this way. The object
    is rebuilt by its own `__init__`, so it equals the original.
    """
    table: dict[type, Any] = dict(copyreg.dispatch_table)
    for cls in classes:
        reducer = _fields_reducer(cls)
        if reducer is not None:
            table[cls] = reducer
    return table


def dump(obj: object, table: dict[type, Any], file: Any) -> None:
    """Pickle `obj` (protocol 5) with `table` (see `dispatch_table`) into `file` (a `write` method).

    Protocol 5 writes in frames of 64 KiB: a large report never exists twice in memory as it
    would beside its pickled bytes.
    """
    pickler = pickle.Pickler(file, protocol=5)
    pickler.dispatch_table = table
    pickler.dump(obj)


def dumps(obj: object, table: dict[type, Any]) -> bytes:
    """`dump` to bytes."""
    buf = io.BytesIO()
    dump(obj, table, buf)
    return buf.getvalue()


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: Any, allowed: dict[tuple[str, str], type]) -> None:
        super().__init__(file)
        self._allowed = allowed

    def find_class(self, module: str, name: str) -> Any:
        cls = self._allowed.get((module, name))
        if cls is None:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed")
        return cls


def load(file: Any, allowed: dict[tuple[str, str], type]) -> Any:
    """Unpickle from `file`, refusing every global not in `allowed` ((module, name) -> class)."""
    return _Unpickler(file, allowed).load()


def loads(data: bytes, allowed: dict[tuple[str, str], type]) -> Any:
    """`load` from bytes."""
    return load(io.BytesIO(data), allowed)


class _Slice(io.RawIOBase):
    """Bytes [start, start + length) of a file descriptor, read with `preadv`: nothing past the end."""

    def __init__(self, fd: int, start: int, length: int) -> None:
        super().__init__()
        self.fd, self.pos, self.end = fd, start, start + length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self.end - self.pos)
        if want <= 0:
            return 0
        got = os.preadv(self.fd, [memoryview(buffer)[:want]], self.pos)
        self.pos += got
        return got


class _Writer:
    """Writes at an offset of a file descriptor (`pwrite`), counting what it wrote."""

    def __init__(self, fd: int, start: int) -> None:
        self.fd, self.start, self.pos = fd, start, start

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        _pwrite_all(self.fd, view, self.pos)
        self.pos += len(view)
        return len(view)


def allow(classes: Iterable[type]) -> dict[tuple[str, str], type]:
    """The `allowed` map of these classes."""
    return {(cls.__module__, cls.__qualname__): cls for cls in classes}


# --------------------------------------------------------------------------------------------
# The child


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _pwrite_all(fd: int, data: Any, offset: int) -> None:
    view = memoryview(data)
    while view:
        n = os.pwrite(fd, view, offset)
        view = view[n:]
        offset += n


def _child(fn: Callable[[int], object], share: Sequence[int], control: int, answers: int, table: dict[type, Any]) -> None:
    offset = 0
    first_failed: int | None = None
    for item in share:
        if first_failed is not None and item > first_failed:
            continue  # the loop stops at the first failure: it never reaches this one
        out = _Writer(answers, offset)
        try:
            tag = _ANSWER
            dump(fn(item), table, out)
        except GateError as exc:
            first_failed, tag, out = item, _ERROR, _Writer(answers, offset)  # over what a failed pickling wrote
            try:
                dump(exc, table, out)
            except Exception as bad:  # noqa: BLE001 - an error that cannot be pickled is reported as a bug
                tag, out = _BUG, _Writer(answers, offset)
                out.write(_bug_text(bad))
        except Exception as exc:  # noqa: BLE001 - a bug: reported, never swallowed
            first_failed, tag, out = item, _BUG, _Writer(answers, offset)
            out.write(_bug_text(exc))
        _write_all(control, _RECORD.pack(tag, item, offset, out.pos - offset))
        offset = out.pos
    _write_all(control, _RECORD.pack(_DONE, 0, offset, 0))


def _bug_text(exc: BaseException) -> bytes:
    # Cut again as bytes: a lone surrogate becomes 6 bytes, over the parent's bound for a bug report.
    return f"{type(exc).__name__}: {exc}"[:_BUG_TEXT_MAX].encode("utf-8", "backslashreplace")[: 4 * _BUG_TEXT_MAX]


# --------------------------------------------------------------------------------------------
# The parent


class _Child:
    """The parent's end of one forked child."""

    def __init__(self, pid: int, control: int, answers: int, share: Sequence[int]) -> None:
        self.pid, self.control, self.answers = pid, control, answers
        self.share = list(share)
        self.pending = set(share)
        self.buffer = bytearray()
        self.offset = 0
        self.first_failed: int | None = None
        self.done = False
        self.eof = False
        self.reaped = False

    def working_on(self) -> int | None:
        """The item it was doing when it stopped: its first unanswered one it would not skip."""
        for item in self.share:
            if item in self.pending and (self.first_failed is None or item < self.first_failed):
                return item
        return None

    def close(self) -> None:
        for fd in (self.control, self.answers):
            if fd >= 0:
                os.close(fd)
        self.control = self.answers = -1

    def wait_dead(self) -> int | None:
        """Its pipe ended, so it is leaving: its wait status (killed after a second if it is not)."""
        for _ in range(200):
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.reaped = True
                return status
            time.sleep(0.005)
        self.end()  # pragma: no cover - the gate's children close their pipe only by leaving
        return None

    def end(self) -> None:
        """Kill (if still running) and reap."""
        if self.reaped:
            return
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:  # pragma: no cover - reaped processes keep their pid until waited
            pass
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:  # pragma: no cover
            pass
        self.reaped = True


class _Run(Generic[T]):
    def __init__(self, count: int, expected: type[T], allowed: dict[tuple[str, str], type], name: Callable[[int], str]) -> None:
        self.results: list[T | None] = [None] * count
        self.answered = [False] * count
        self.errors: dict[int, BaseException] = {}
        self.expected, self.allowed, self.name = expected, allowed, name

    def first_failed(self) -> int | None:
        return min(self.errors) if self.errors else None

    def finished(self) -> bool:
        """Every item up to the first failure (or every item) is answered."""
        stop = self.first_failed()
        upto = len(self.answered) if stop is None else stop
        return all(self.answered[:upto])

    def raise_first(self) -> None:
        stop = self.first_failed()
        if stop is not None:
            raise self.errors[stop]

    def broken(self, child: _Child, problem: str) -> InternalError:
        item = child.working_on()
        return InternalError(
            f"a reading process answered wrongly ({problem}); the run stops",
            file=None if item is None else self.name(item),
            hint="this is a bug in the gate",
        )

    def take(self, child: _Child, tag: bytes, item: int, offset: int, length: int) -> None:
        """One record from `child`: check it, fetch and decode its answer."""
        if tag == _DONE:
            if offset != child.offset or length != 0:
                raise self.broken(child, "the end record does not match its answers")
            if child.working_on() is not None:
                raise self.broken(child, "it ended with items unanswered")
            child.done = True
            return
        if tag not in (_ANSWER, _ERROR, _BUG):
            raise self.broken(child, f"unknown record {tag!r}")
        if item not in child.pending:
            raise self.broken(child, f"item {item} is not one it was given or was answered already")
        if offset != child.offset or length > os.fstat(child.answers).st_size - offset:
            raise self.broken(child, "the answer lies outside its memory file")
        if tag == _BUG and length > 4 * _BUG_TEXT_MAX:
            raise self.broken(child, "a bug report longer than a bug report is")
        child.offset += length
        child.pending.discard(item)
        if tag == _ANSWER:
            value = self._decode(child, offset, length)
            if not isinstance(value, self.expected):
                raise self.broken(child, f"a {type(value).__name__}, not a {self.expected.__name__}")
            self.results[item] = value
            self.answered[item] = True
            return
        child.first_failed = item if child.first_failed is None else min(child.first_failed, item)
        if tag == _ERROR:
            err = self._decode(child, offset, length)
            if not isinstance(err, GateError):
                raise self.broken(child, f"a {type(err).__name__} as its error")
            self.errors[item] = err
        else:
            text = os.pread(child.answers, length, offset).decode("utf-8", "replace")
            self.errors[item] = InternalError(f"internal error while reading (a bug): {text}", file=self.name(item))

    def _decode(self, child: _Child, offset: int, length: int) -> Any:
        """Unpickle an answer from the child's memory file, reading nothing past its end.

        Up to `_READ_WHOLE` bytes the answer is read at once (unpickling bytes is a third faster
        than from a file); beyond, it is unpickled as it is read, so a report that a hostile file
        blew up (SARIF placeholders) is never held twice, as objects and as pickled bytes.
        """
        try:
            if length <= _READ_WHOLE:
                source: io.IOBase = io.BytesIO(_pread_all(child.answers, length, offset))
            else:
                source = io.BufferedReader(_Slice(child.answers, offset, length), 1 << 16)
            value = load(source, self.allowed)
            rest = source.read(1)
        except Exception as exc:  # noqa: BLE001 - any undecodable answer is a broken child
            raise self.broken(child, f"undecodable answer: {type(exc).__name__}: {exc}") from None
        if rest:
            raise self.broken(child, "bytes after the end of its answer")
        return value

    def died(self, child: _Child) -> None:
        """`child`'s pipe ended before its end record: what it was working on failed."""
        how = _how_it_ended(child.wait_dead())
        item = child.working_on()
        if item is None:  # every answer it owed is in (killed between its last one and its end record)
            child.done = True
            return
        err = InputError(
            f"the process reading this file ended without answering ({how}); the file was not read and the run stops",
            file=self.name(item),
            hint="a reader crashed or ran out of memory on this file",
        )
        self.errors[item] = err
        # Its other files will never be answered. Those after this one do not matter (the loop
        # would have stopped here); those before it, the loop would have read first: unknowable,
        # so they count as done, and an earlier file's error, if one comes, still wins.
        for i in child.pending:
            self.answered[i] = True
        child.pending.clear()


def _pread_all(fd: int, length: int, offset: int) -> bytes:
    parts: list[bytes] = []
    while length > 0:
        chunk = os.pread(fd, length, offset)
        if not chunk:
            raise OSError("short read from a reading process's memory file")
        parts.append(chunk)
        length -= len(chunk)
        offset += len(chunk)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _how_it_ended(status: int | None) -> str:
    if status is None:
        return "killed"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"killed by {name}" + (", perhaps out of memory" if sig == signal.SIGKILL else "")
    if os.WIFEXITED(status):
        return f"exit status {os.WEXITSTATUS(status)}"
    return "ended"  # pragma: no cover


# --------------------------------------------------------------------------------------------
# The map


def ordered_map(
    fn: Callable[[int], T],
    count: int,
    shares: Sequence[Sequence[int]],
    *,
    expected: type[T],
    allowed: dict[tuple[str, str], type],
    name: Callable[[int], str],
    pickled: Iterable[type] = (),
) -> list[T]:
    """`[fn(i) for i in range(count)]`, share 0 here and every other share in a forked child.

    `shares` together hold each of `range(count)` once; each is done in its own order. Answers
    must be instances of `expected` and are unpickled knowing only `allowed` (see `allow`);
    `pickled` are the classes sent by their fields (see `dispatch_table`). `name(i)` names item
    `i` in errors. Raises what the plain loop would raise first (see the module's docstring);
    a child that cannot be forked leaves its share to this process.
    """
    table = dispatch_table(pickled)
    run: _Run[T] = _Run(count, expected, allowed, name)
    own = list(shares[0]) if shares else []
    children: list[_Child] = []
    try:
        for share in shares[1:]:
            if not share:
                continue
            try:
                children.append(_fork(fn, share, table, children))
            except OSError:
                own.extend(share)  # no process to spare: this one reads it
        for item in own:
            stop = run.first_failed()
            if stop is not None and item > stop:
                continue
            try:
                run.results[item] = fn(item)
                run.answered[item] = True
            except Exception as exc:  # noqa: BLE001 - raised below if the loop would have raised it first
                run.errors[item] = exc
            _poll(run, children, block=False)
            if run.finished():
                break
        while not run.finished():
            if not any(not c.done and not c.eof for c in children):
                raise InternalError("every reading process has ended, yet some files were not read; the run stops")
            _poll(run, children, block=True)
        run.raise_first()
        return cast("list[T]", run.results)  # finished, no error: every item answered
    finally:
        for child in children:
            child.close()
            child.end()


def _fork(fn: Callable[[int], object], share: Sequence[int], table: dict[type, Any], started: Sequence[_Child]) -> _Child:
    control_r, control_w = os.pipe()
    try:
        answers = os.memfd_create("gate-read", os.MFD_CLOEXEC)
    except OSError:
        os.close(control_r)
        os.close(control_w)
        raise
    parent = os.getpid()
    try:
        pid = os.fork()
    except OSError:
        for fd in (control_r, control_w, answers):
            os.close(fd)
        raise
    if pid == 0:  # child
        code = _CHILD_FAILED
        try:
            die_with_parent(parent)
            os.close(control_r)
            for other in started:  # the other children's ends: not this child's business
                other.close()
            # Anything written to stdout or stderr here (a warning) would also flush what the
            # parent had buffered when it forked: the streams go to /dev/null instead.
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.dup2(devnull, 2)
            except OSError:  # pragma: no cover - a sandbox without /dev/null: nothing writes there anyway
                pass
            # The parent's objects stay out of this child's collections (where the collector
            # runs at all: the CLI pauses it): a full collection would touch, and so copy, every
            # page of the parent's heap. `freeze` only moves the lists' heads.
            gc.freeze()
            _child(fn, share, control_w, answers, table)
            code = 0
        except BaseException:  # noqa: BLE001, S110 - the parent sees the pipe end without the end record
            pass
        finally:
            os._exit(code)
    os.close(control_w)
    return _Child(pid, control_r, answers, share)


def _poll(run: _Run[Any], children: Sequence[_Child], *, block: bool) -> None:
    """Take what the children have written (waiting for something if `block`)."""
    fds = {c.control: c for c in children if not c.done and not c.eof}
    if not fds:
        return
    poller = select.poll()  # not select.select: descriptors past FD_SETSIZE (1024) are fine
    for fd in fds:
        poller.register(fd, select.POLLIN)
    for fd, _ in poller.poll(None if block else 0):
        child = fds[fd]
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            child.eof = True
            if not child.done:
                run.died(child)
            continue
        child.buffer += chunk
        while len(child.buffer) >= _RECORD.size and not child.done:
            tag, item, offset, length = _RECORD.unpack_from(child.buffer)
            del child.buffer[: _RECORD.size]
            run.take(child, tag, item, offset, length)
        if child.done and child.buffer:
            raise run.broken(child, "bytes after its end record")
