"""Reading in parallel (issue 20): the reports, their order and the error of reading one by one.

`gate.collect.read_reports` shares large runs among forked children (`gate.parallel`). Whatever
the sharing, the answer must be the sequential one: every report equal and pickling to the
same bytes, in the same order; the error raised that of the first file (in order) that fails,
same class, message, file, position, hint and exit code. A child that dies, answers a file it
was not given, or sends a broken or hostile answer makes the run fail closed.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from gate import collect as collect_module
from gate import parallel
from gate.collect import (
    PARALLEL_MIN_BYTES,
    Limits,
    Report,
    collect,
    read_report,
    read_reports,
    read_shared,
    reading_plan,
    share_by_size,
)
from gate.errors import ExitCode, GateError, InputError, InternalError
from tests.bench_support import load_bench
from tests.conftest import CORPUS, corpus_files, require_shared

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reading forks only on Linux")

Outcome = tuple[Any, ...]


def outcome(call: Callable[[], list[Report]]) -> Outcome:
    """What a reading gave: every report pickled (order, equality, shared objects), or the error in full."""
    try:
        reports = call()
    except GateError as exc:
        return ("error", type(exc), str(exc), exc.to_dict(), int(exc.exit_code))
    return ("reports", [pickle.dumps(r, protocol=5) for r in reports], reports)


def same(a: Outcome, b: Outcome) -> None:
    assert a[:2] == b[:2]
    if a[0] == "reports":
        assert a[2] == b[2]
    else:
        assert a[2:] == b[2:]


def sequential(files: Sequence[str], limits: Limits | None = None) -> Outcome:
    return outcome(lambda: [read_report(f, limits=limits) for f in files])


def sharings(count: int) -> Iterator[list[list[int]]]:
    """A few ways to share `count` files among 2 and 3 processes, each share in an unusual order."""
    items = list(range(count))
    yield [items[::2], items[1::2]]
    yield [items[1::2][::-1], items[::2][::-1]]
    yield [items[::3], items[1::3][::-1], items[2::3]]
    yield [[], items[::-1]]  # this process reads nothing
    yield [items[: count // 2], [], items[count // 2 :]]  # an empty child share is skipped


def children() -> set[int]:
    """This process's child processes (zombies included), from /proc."""
    me = os.getpid()
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile
        if int(fields[1]) == me:
            found.add(int(stat.parent.name))
    return found


@pytest.fixture(autouse=True)
def no_child_left() -> Iterator[None]:
    """Every test: no reading process outlives the call, none is left a zombie."""
    before = children()
    yield
    assert children() <= before


# --------------------------------------------------------------------------------------------
# The same reports


def corpus_readable(max_size: int | None = None) -> list[str]:
    out = []
    for f in corpus_files():
        if max_size is not None and f.stat().st_size > max_size:
            continue
        try:
            read_report(str(f))
        except GateError:
            continue
        out.append(str(f))
    return out


def test_corpus_small_files_read_in_parallel_equal_the_sequential_reading() -> None:
    require_shared()
    files = corpus_readable(max_size=64_000)
    assert len(files) > 40
    expected = sequential(files)
    for shares in sharings(len(files)):
        same(outcome(lambda shares=shares: read_shared(files, shares)), expected)


@pytest.mark.slow
def test_whole_corpus_read_in_parallel_equals_the_sequential_reading() -> None:
    require_shared()
    files = corpus_readable()
    expected = sequential(files)
    for shares in [*sharings(len(files)), share_by_size([os.path.getsize(f) for f in files], 2)]:
        same(outcome(lambda shares=shares: read_shared(files, shares)), expected)


@pytest.fixture(scope="module")
def bench_files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Both benchmark shapes (bench/generate.py) at 2,000 findings each: nine files, 5 MB."""
    gen = load_bench("generate")
    root = tmp_path_factory.mktemp("bench")
    paths = gen.generate_set(root / "base", 2000, 100) + gen.generate_heavy_set(root / "heavy", 2000, 100)
    return [str(p) for p in paths]


def test_bench_shapes_read_in_parallel_equal_the_sequential_reading(bench_files: list[str]) -> None:
    expected = sequential(bench_files)
    for shares in [*list(sharings(len(bench_files)))[2:3], share_by_size([os.path.getsize(f) for f in bench_files], 3)]:
        same(outcome(lambda shares=shares: read_shared(bench_files, shares)), expected)
    # And as `collect` does it, with the plan it makes (forced to several processes).
    same(outcome(lambda: read_reports(bench_files, processes=2)), expected)


def test_collect_reads_in_parallel_above_the_threshold_and_leaves_gc_as_it_was(bench_files: list[str]) -> None:
    import gc

    assert sum(os.path.getsize(f) for f in bench_files) >= PARALLEL_MIN_BYTES
    if threading.active_count() > 1:
        pytest.skip("another thread is alive in this test process: collect reads sequentially")
    assert len(reading_plan(bench_files)) >= min(2, parallel.cpu_count())
    expected = sequential(bench_files)
    for enabled in (False, True):
        (gc.enable if enabled else gc.disable)()
        try:
            same(outcome(lambda: collect(bench_files)), expected)
            assert gc.isenabled() is enabled
        finally:
            gc.enable()


def amplified_sarif(path: Path, results: int, width: int) -> Path:
    """A SARIF log whose every message is a rule's message string of `width` `{0}` placeholders
    filled with an argument of `width` characters: width**2 characters per finding from about
    4 * width bytes of file (the reader fills placeholders as SARIF says)."""
    rule = {"id": "R1", "messageStrings": {"m": {"text": "{0}" * width}}}
    doc = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "x", "rules": [rule]}},
                "results": [{"ruleId": "R1", "ruleIndex": 0, "message": {"id": "m", "arguments": ["A" * width]}} for _ in range(results)],
            }
        ],
    }
    path.write_text(json.dumps(doc))
    return path


def test_answers_unpickled_as_they_are_read_equal_the_sequential_reading(
    bench_files: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Answers over `_READ_WHOLE` are unpickled from the memory file as they are read (never held
    as bytes beside the objects). Attack: a report a file blows up (SARIF placeholders, 40 KB of
    file; 8 MB of messages before the reader bounded filling, `MAX_FILL` more characters per
    message now) is read the same, through that path."""
    from scanners.sarif.reading import MAX_FILL

    monkeypatch.setattr(parallel, "_READ_WHOLE", 0)
    big = amplified_sarif(tmp_path / "amplified.sarif", 8, 1000)
    files = [*bench_files[:4], str(big)]
    expected = sequential(files)
    assert sum(len(f.message) for f in expected[2][-1].result.findings) == 8 * (3 * 1000 + MAX_FILL + 1)
    same(outcome(lambda: read_shared(files, [[0, 1], [4, 2, 3]])), expected)


# --------------------------------------------------------------------------------------------
# The same errors


def test_a_corrupt_file_gives_the_sequential_error_wherever_it_is_read() -> None:
    require_shared()
    good = corpus_readable(max_size=20_000)[:5]
    bad = str(CORPUS / "sarif" / "sdk-json-syntax-error.sarif")
    files = [*good[:2], bad, *good[2:]]
    expected = sequential(files)
    assert expected[0] == "error" and expected[1] is InputError
    assert expected[3]["position"] == {"line": 3, "column": 3} and expected[3]["file"] == bad and expected[4] == ExitCode.INPUT
    for shares in [*sharings(len(files)), [[0, 1, 3, 4, 5], [2]], [[2], [0, 1, 3, 4, 5]]]:
        same(outcome(lambda shares=shares: read_shared(files, shares)), expected)


def test_two_corrupt_files_give_the_error_of_the_first_in_order() -> None:
    """The child holding the later bad file may answer first: its error must not win."""
    require_shared()
    good = corpus_readable(max_size=20_000)[:4]
    first = str(CORPUS / "sarif" / "chainloop-control-chars.sarif")  # 35:10
    second = str(CORPUS / "bandit" / "celery-bandit-truncated.json")  # 2476:1
    files = [good[0], first, good[1], good[2], second, good[3]]
    expected = sequential(files)
    assert expected[3]["file"] == first and expected[3]["position"] == {"line": 35, "column": 10}
    arrangements = [
        [[0, 2, 3, 5], [4, 1]],  # one child, the later bad file first in its share
        [[0, 2, 3, 5], [4], [1]],  # each bad file in its own child
        [[4], [0, 1, 2, 3, 5]],  # this process fails first, on the later one
        [[1], [4, 0, 2, 3, 5]],
        [[5, 4, 3], [2, 1, 0]],
        *sharings(len(files)),
    ]
    for shares in arrangements:
        same(outcome(lambda shares=shares: read_shared(files, shares)), expected)


def test_a_per_file_findings_limit_fails_the_same_in_a_child(bench_files: list[str]) -> None:
    limits = Limits(max_findings=400)
    expected = sequential(bench_files, limits)
    assert expected[0] == "error" and "over the limit of 400" in expected[2]
    for shares in list(sharings(len(bench_files)))[:2]:
        same(outcome(lambda shares=shares: read_shared(bench_files, shares, limits=limits)), expected)


def test_the_total_findings_limit_is_checked_after_parallel_reading(bench_files: list[str]) -> None:
    per_file = max(len(r.result.findings) for r in (read_report(f) for f in bench_files))
    limits = Limits(max_findings=per_file)
    with pytest.raises(InputError, match="findings in all, over the limit"):
        collect_with_processes(bench_files, limits, processes=3)


def collect_with_processes(files: list[str], limits: Limits, processes: int) -> list[Report]:
    """`collect` with the plan forced to `processes` (its own checks after reading, unchanged)."""
    saved = collect_module.read_reports

    def forced(files: Sequence[str], **kw: Any) -> list[Report]:
        return saved(files, processes=processes, **kw)

    collect_module.read_reports = forced  # type: ignore[assignment]
    try:
        return collect(files, limits=limits)
    finally:
        collect_module.read_reports = saved


# --------------------------------------------------------------------------------------------
# Children that fail: fault injection (the child-side reading replaced by a crash), since no real
# input can make a bounded reader die; the parent's handling is the real code.


def crash_in_child_on(monkeypatch: pytest.MonkeyPatch, path: str, how: Callable[[], None]) -> None:
    parent = os.getpid()
    real = collect_module.read_report

    def reading(p: str, **kw: Any) -> Report:
        if p == path and os.getpid() != parent:
            how()
        return real(p, **kw)

    monkeypatch.setattr(collect_module, "read_report", reading)


@pytest.mark.parametrize(
    ("how", "said"),
    [
        (lambda: os._exit(3), "exit status 3"),
        (lambda: os.kill(os.getpid(), signal.SIGKILL), "killed by SIGKILL, perhaps out of memory"),
        (lambda: os.kill(os.getpid(), signal.SIGTERM), "killed by SIGTERM"),
    ],
)
def test_a_child_that_dies_fails_the_run_closed_naming_its_file(
    bench_files: list[str], monkeypatch: pytest.MonkeyPatch, how: Callable[[], None], said: str
) -> None:
    victim = bench_files[3]
    crash_in_child_on(monkeypatch, victim, how)
    with pytest.raises(InputError) as caught:
        read_shared(bench_files, [[0, 1, 2], [5, 3, 4, 6], [7, 8]])
    err = caught.value
    assert err.file == victim and said in err.message and err.exit_code == ExitCode.INPUT


def test_a_child_dying_after_an_earlier_file_failed_elsewhere_gives_the_earlier_error(
    bench_files: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "results": [\n    1,\n  ]\n}\n')
    files = [bench_files[0], str(bad), *bench_files[1:4]]
    crash_in_child_on(monkeypatch, files[3], lambda: os._exit(3))
    expected = sequential([bench_files[0], str(bad)])
    assert expected[0] == "error" and expected[3]["position"] == {"line": 4, "column": 3}
    same(outcome(lambda: read_shared(files, [[0, 1], [3, 4, 2]])), expected)


def test_a_bug_in_a_child_fails_the_run_as_an_internal_error(bench_files: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def bug() -> None:
        raise ValueError("a reader bug")

    crash_in_child_on(monkeypatch, bench_files[2], bug)
    with pytest.raises(InternalError) as caught:
        read_shared(bench_files, [[0, 1], [2, 3, 4, 5, 6, 7, 8]])
    assert caught.value.file == bench_files[2] and "ValueError: a reader bug" in caught.value.message
    assert caught.value.exit_code == ExitCode.INTERNAL


def test_an_error_here_kills_the_children_still_reading(bench_files: list[str], tmp_path: Path) -> None:
    """This process fails on its first file; the children (slowed) are killed and reaped at once."""
    bad = tmp_path / "empty.json"
    bad.write_bytes(b"")
    files = [str(bad), *bench_files]
    started = time.monotonic()
    with pytest.raises(InputError, match="empty"):
        read_shared(files, [[0], list(range(1, 6)), list(range(6, 10))])
    assert time.monotonic() - started < 5


# --------------------------------------------------------------------------------------------
# Hostile or broken answers: a child is the gate's own code on attacker-controlled input, so its
# channel is checked as if it were not. Each attack replaces the child's side (`_child`) with one
# that writes what an attacker would like the parent to believe.


class Evil:
    """A pickle that runs a command when loaded (the classic pickle attack)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"touch {self.marker}",))


def hostile_child(monkeypatch: pytest.MonkeyPatch, write: Callable[[int, int, Sequence[int]], None]) -> None:
    def child(fn: Any, share: Sequence[int], control: int, answers: int, table: Any) -> None:
        write(control, answers, share)

    monkeypatch.setattr(parallel, "_child", child)


def record(tag: bytes, item: int, offset: int, length: int) -> bytes:
    return parallel._RECORD.pack(tag, item, offset, length)


def answer(answers: int, control: int, item: int, payload: bytes, offset: int = 0, tag: bytes = b"A") -> None:
    os.pwrite(answers, payload, offset)
    os.write(control, record(tag, item, offset, len(payload)))


def test_attack_a_pickle_that_runs_code_is_refused(bench_files: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Attack: a child (or whoever wrote its memory file) sends a pickle calling os.system. The
    unpickler knows only the report's own classes: refused, nothing runs, the run fails."""
    marker = tmp_path / "pwned"
    hostile_child(monkeypatch, lambda c, a, share: answer(a, c, share[0], pickle.dumps(Evil(marker))))
    with pytest.raises(InternalError, match="not allowed"):
        read_shared(bench_files[:2], [[0], [1]])
    assert not marker.exists()


def test_attack_an_answer_of_another_type_is_refused(bench_files: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Attack: a child answers with an empty list where a report is due (a report silently lost)."""
    hostile_child(monkeypatch, lambda c, a, share: answer(a, c, share[0], pickle.dumps([])))
    with pytest.raises(InternalError, match="not a Report"):
        read_shared(bench_files[:2], [[0], [1]])


TWICE = pickle.dumps(Report(path="x", sha256="", size=0, media="json", result=None))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("write", "said"),
    [
        # An answer for a file this child was not given (the parent's own file 0).
        (lambda c, a, share: answer(a, c, 0, pickle.dumps(1)), "not one it was given"),
        # The same file answered twice (the second a forgery replacing the first).
        (lambda c, a, share: (answer(a, c, share[0], TWICE), answer(a, c, share[0], TWICE, len(TWICE))), "not one it was given"),
        # An answer that claims more bytes than the memory file holds (a truncated answer).
        (lambda c, a, share: (os.pwrite(a, b"abc", 0), os.write(c, record(b"A", share[0], 0, 1 << 30))), "outside its memory file"),
        # An answer that does not start where the last one ended.
        (lambda c, a, share: (os.pwrite(a, b"abcdef", 0), os.write(c, record(b"A", share[0], 3, 3))), "outside its memory file"),
        # Garbled bytes.
        (lambda c, a, share: answer(a, c, share[0], b"\x80\x05garbage"), "undecodable answer"),
        # A valid answer followed by bytes the record still counts (something smuggled after it).
        (lambda c, a, share: answer(a, c, share[0], TWICE + b"\x00"), "bytes after the end of its answer"),
        # A "bug report" of megabytes (only the child's own short text is expected).
        (lambda c, a, share: answer(a, c, share[0], b"x" * 100_000, tag=b"B"), "longer than a bug report"),
        # An unknown record.
        (lambda c, a, share: os.write(c, record(b"Z", share[0], 0, 0)), "unknown record"),
        # The end record with a file unanswered: a report silently missing.
        (lambda c, a, share: os.write(c, record(b"D", 0, 0, 0)), "unanswered"),
        # An error that is not the gate's own (an exception class is allowed only as a GateError).
        (lambda c, a, share: answer(a, c, share[0], pickle.dumps(ValueError("x")), tag=b"E"), "not allowed"),
    ],
)
def test_attack_broken_records_fail_closed(
    bench_files: list[str], monkeypatch: pytest.MonkeyPatch, write: Callable[[int, int, Sequence[int]], None], said: str
) -> None:
    hostile_child(monkeypatch, write)
    with pytest.raises(InternalError, match=said):
        read_shared(bench_files[:3], [[0], [1, 2]])


def test_a_record_split_across_reads_is_put_together(bench_files: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Partial reads: the records arrive a few bytes at a time, the answers are still taken."""
    table = parallel.dispatch_table(())

    def slow_writer(control: int, answers: int, share: Sequence[int]) -> None:
        offset = 0
        for item in share:
            payload = parallel.dumps(read_report(bench_files[item]), table)
            os.pwrite(answers, payload, offset)
            rec = record(b"A", item, offset, len(payload))
            for k in range(0, len(rec), 5):
                os.write(control, rec[k : k + 5])
                time.sleep(0.002)
            offset += len(payload)
        os.write(control, record(b"D", 0, offset, 0))

    hostile_child(monkeypatch, slow_writer)
    files = bench_files[:4]
    same(outcome(lambda: read_shared(files, [[0], [3, 1, 2]])), sequential(files))


def test_attack_a_child_that_never_writes_and_ends_is_noticed(bench_files: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A child that ends without a word (its pipe closed by its exit) never leaves the parent waiting."""
    hostile_child(monkeypatch, lambda c, a, share: None)
    with pytest.raises(InputError, match=r"ended without answering \(exit status 0\)"):
        read_shared(bench_files[:3], [[0], [1, 2]])


def test_a_child_killed_after_its_last_answer_loses_nothing(bench_files: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A child that answered all it owed (an error, then nothing to read after it) but died before
    its end record: its error stands, nothing is reported missing."""
    err = InputError("made up", file=bench_files[1])
    hostile_child(monkeypatch, lambda c, a, share: answer(a, c, share[0], pickle.dumps(err), tag=b"E"))
    with pytest.raises(InputError, match="made up") as caught:
        read_shared(bench_files[:3], [[0], [1, 2]])
    assert caught.value.file == bench_files[1]


def test_unpickling_allows_only_the_named_classes() -> None:
    allowed = parallel.allow([Report])
    with pytest.raises(pickle.UnpicklingError, match="builtins.eval"):
        parallel.loads(pickle.dumps(eval), allowed)
    with pytest.raises(pickle.UnpicklingError):
        parallel.loads(pickle.dumps(io.BytesIO), allowed)
    assert parallel.loads(pickle.dumps({"a": (1, 2.5, None, "x")}), allowed) == {"a": (1, 2.5, None, "x")}


# --------------------------------------------------------------------------------------------
# When the sequential path is kept


def test_small_runs_and_single_files_are_read_here(bench_files: list[str], tmp_path: Path) -> None:
    small = tmp_path / "a.json"
    small.write_text(json.dumps({"results": [], "errors": []}))
    assert reading_plan([str(small)]) == [[0]]
    assert reading_plan([str(small), str(small)]) == [[0, 1]]  # far under PARALLEL_MIN_BYTES
    assert reading_plan(bench_files[:1], processes=4) == [[0]]
    assert reading_plan(bench_files, processes=1) == [list(range(len(bench_files)))]


def test_a_second_thread_keeps_the_reading_sequential(bench_files: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Forking beside another thread can copy a lock it holds: never done, even when asked."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert reading_plan(bench_files, processes=2) == [list(range(len(bench_files)))]

        def no_fork() -> int:
            raise AssertionError("forked beside a second thread")

        monkeypatch.setattr(os, "fork", no_fork)
        same(outcome(lambda: read_reports(bench_files, processes=2)), sequential(bench_files))
    finally:
        stop.set()
        other.join()


def test_shares_are_balanced_largest_first_and_this_process_reads_too() -> None:
    # The violation-heavy shape at 10^5: four logs of 24 MB and a 4 MB SBOM, two processes.
    sizes = [24_118_915, 24_129_624, 24_211_717, 24_124_683, 4_174_620]
    shares = share_by_size(sizes, 2)
    assert sorted(i for s in shares for i in s) == list(range(5))
    assert len(shares) == 2 and len(shares[0]) == 2 and shares[1][0] == 1  # this process reads two logs
    assert shares[0][0] == 2  # the largest first
    assert share_by_size([5, 1], 4) == [[0], [1]] or share_by_size([5, 1], 4) == [[0, 1]]
    assert share_by_size([10, 10, 10], 1) == [[0, 1, 2]]
