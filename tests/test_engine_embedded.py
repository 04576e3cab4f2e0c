"""The embedded engine's forked workers: the input parsed once in the parent and shared, or,
where the machine has the memory, parsed by every worker itself (issue 20); the packages shared
out among workers in the order a probe measured (slowest first), the memory budget, and the same
answers, errors and time limit however the work is shared out."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import run_gate

from gate.engine import embedded
from gate.engine.embedded import EmbeddedEngine
from gate.errors import EngineError, PolicyError
from gate.policy import PolicySet, load_policy
from gate.processes import fork_safe

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(not fork_safe(), reason="the forked workers run on Linux only; elsewhere one spawned worker answers all")

RULE = """package gate.{name}

import rego.v1

# METADATA
# title: {name}
# custom:
#   id: {id}
#   severity: high
#   control: C
#   remediation: R
deny contains v if {{
{body}
}}
"""

CHEAP = '\tsome f in input.findings\n\tf.severity == "critical"\n\tv := {"rule": "%s", "msg": f.id}'
# Every pair of findings: quadratic, so slower than the others by far on any sample.
COSTLY = (
    "\tsome f in input.findings\n\tsome g in input.findings\n\tf.id < g.id\n\tf.rule_id == g.rule_id\n"
    '\tf.severity == "none"\n\tv := {"rule": "%s", "msg": f.id}'
)


def _policy(tmp_path: Path, bodies: dict[str, str]) -> PolicySet:
    root = tmp_path / "policy"
    root.mkdir()
    for i, (name, body) in enumerate(sorted(bodies.items())):
        rid = f"T-{i}"
        (root / f"{name}.rego").write_text(RULE.format(name=name, id=rid, body=body.replace("%s", rid)), encoding="utf-8")
    return load_policy(root, include_tests=False)


def _document(findings: int) -> str:
    sev = ["critical", "high", "medium", "low"]
    return json.dumps(
        {
            "findings": [{"id": f"f{i:05d}", "rule_id": f"R{i % 7}", "severity": sev[i % 4]} for i in range(findings)],
            "components": [],
            "scans": [],
        }
    )


def _canon(items: list[object]) -> list[str]:
    return sorted(json.dumps(i, sort_keys=True) for i in items)


@pytest.fixture(scope="module")
def pack_input(tmp_path_factory: pytest.TempPathFactory) -> tuple[PolicySet, str]:
    """The shipped pack and the gate's input document for the shipped example reports."""
    out = tmp_path_factory.mktemp("pack") / "input.json"
    res = run_gate(["evaluate", str(REPO / "examples" / "reports"), "--policy", str(REPO / "policies"), "--output", f"input={out}"])
    assert res.exit_code == 10, res.stderr
    return load_policy(REPO / "policies", include_tests=False), json.dumps(json.loads(out.read_text(encoding="utf-8")))


@pytest.mark.slow
def test_the_same_answers_with_one_two_and_four_workers_and_with_the_probe(
    pack_input: tuple[PolicySet, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    policy, doc = pack_input
    first = EmbeddedEngine(workers=1).evaluate(policy, doc, timeout=60)
    assert first.deny and first.warn
    for workers in (2, 4):
        got = EmbeddedEngine(workers=workers).evaluate(policy, doc, timeout=60)
        assert (_canon(got.deny), _canon(got.warn)) == (_canon(first.deny), _canon(first.warn))
    monkeypatch.setattr(embedded, "PROBE_MIN_CHARS", 0)  # the probe runs on this small input too
    monkeypatch.setattr(embedded, "PROBE_GRACE", 10.0)
    monkeypatch.setattr(embedded, "_available_bytes", lambda: 0)  # no memory for a parse per worker
    got = EmbeddedEngine(workers=2).evaluate(policy, doc, timeout=60)
    assert (_canon(got.deny), _canon(got.warn)) == (_canon(first.deny), _canon(first.warn))
    # Memory to spare: each worker parses the input itself (issue 20); the same answers.
    monkeypatch.setattr(embedded, "_available_bytes", lambda: 1 << 40)
    parsed: list[int] = []
    monkeypatch.setattr(embedded, "_start_probe", lambda *a: parsed.append(1))  # never called on this path
    for workers in (2, 3):
        got = EmbeddedEngine(workers=workers).evaluate(policy, doc, timeout=60)
        assert (_canon(got.deny), _canon(got.warn)) == (_canon(first.deny), _canon(first.warn))
    assert parsed == []


@pytest.mark.slow
def test_the_probe_puts_the_slowest_package_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = _policy(tmp_path, {"a_cheap": CHEAP, "b_cheap": CHEAP, "c_costly": COSTLY, "d_cheap": CHEAP})
    engine = embedded.build([(m.path, m.text) for m in policy.policy_modules()], "{}", None)
    units = embedded._units(policy)
    assert [pkg for pkg, _ in units] == ["gate.a_cheap", "gate.b_cheap", "gate.c_costly", "gate.d_cheap"]
    monkeypatch.setattr(embedded, "PROBE_GRACE", 30.0)  # nothing else to wait for here
    probe = embedded._start_probe(engine, _document(20_000), units)
    assert probe is not None
    order = embedded._probe_order(probe, len(units))
    assert sorted(order) == [0, 1, 2, 3]
    assert units[order[0]][0] == "gate.c_costly"


def test_a_late_or_failing_probe_leaves_package_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = _policy(tmp_path, {"a": CHEAP, "b": COSTLY, "c": CHEAP})
    engine = embedded.build([(m.path, m.text) for m in policy.policy_modules()], "{}", None)
    units = embedded._units(policy)
    monkeypatch.setattr(embedded, "PROBE_GRACE", 0.0)  # late: killed, never waited for
    started = time.perf_counter()
    probe = embedded._start_probe(engine, _document(20_000), units)
    assert probe is not None
    assert embedded._probe_order(probe, len(units)) == [0, 1, 2]
    assert time.perf_counter() - started < 5
    monkeypatch.setattr(embedded, "PROBE_GRACE", 30.0)
    probe = embedded._start_probe(engine, "[1, 2", units)  # the probe cannot even read its input
    assert probe is not None
    assert embedded._probe_order(probe, len(units)) == [0, 1, 2]


def test_without_a_probe_the_largest_package_source_goes_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Below the probe's threshold the units went out in package order, so the slowest package
    could start last: the shipped pack's gate.sast, half of the evaluation, is the sixth of ten
    (issue 20). Now the largest source goes first; a late probe falls back to the same order."""
    policy = _policy(tmp_path, {"a": CHEAP, "b": COSTLY, "c": CHEAP + '\n\tcount(f.id) > 0\n\tf.id != "x"'})
    units = embedded._units(policy)
    assert [pkg for pkg, _ in units] == ["gate.a", "gate.b", "gate.c"]
    assert embedded._static_order(policy, units) == [1, 2, 0]
    engine = embedded.build([(m.path, m.text) for m in policy.policy_modules()], "{}", None)
    monkeypatch.setattr(embedded, "PROBE_GRACE", 0.0)
    probe = embedded._start_probe(engine, _document(20_000), units)
    assert probe is not None
    assert embedded._probe_order(probe, len(units), [1, 2, 0]) == [1, 2, 0]
    # the answers do not depend on the order
    doc = _document(300)
    first = EmbeddedEngine(workers=1).evaluate(policy, doc, timeout=60)
    got = EmbeddedEngine(workers=2).evaluate(policy, doc, timeout=60)
    assert (_canon(got.deny), _canon(got.warn)) == (_canon(first.deny), _canon(first.warn))


def test_a_builtin_error_in_one_package_fails_the_evaluation_whichever_worker_meets_it(tmp_path: Path) -> None:
    failing = '\tsome f in input.findings\n\tto_number(f.id) > 0\n\tv := {"rule": "%s", "msg": f.id}'
    policy = _policy(tmp_path, {"a": CHEAP, "b": failing, "c": CHEAP, "d": CHEAP})
    for workers in (1, 2, 3):
        with pytest.raises(PolicyError) as err:
            EmbeddedEngine(workers=workers).evaluate(policy, _document(50), timeout=30)
        assert "b.rego" in str(err.value) + str(err.value.file)


def test_the_time_limit_holds_with_several_workers(tmp_path: Path) -> None:
    slow = (
        "\tsome i in numbers.range(1, 100000000)\n\tsome j in numbers.range(1, 100000000)\n\ti * j == -1\n"
        + '\tv := {"rule": "%s", "msg": "never"}'
    )
    policy = _policy(tmp_path, {"a": CHEAP, "b": slow, "c": CHEAP})
    started = time.perf_counter()
    with pytest.raises(EngineError, match="exceeded the time limit of 0.5 s"):
        EmbeddedEngine(workers=2).evaluate(policy, _document(50), timeout=0.5)
    assert time.perf_counter() - started < 5


def test_worker_count_follows_cpus_units_and_the_memory_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    assert embedded._worker_count(3, units=8, input_bytes=10**9) == 3  # asked for: honoured
    assert embedded._worker_count(9, units=2, input_bytes=10) == 2  # never more than the units
    monkeypatch.setattr(embedded, "_resident_bytes", lambda: 100 << 20)
    monkeypatch.setattr(embedded.os, "sched_getaffinity", lambda _pid: set(range(16)), raising=False)
    assert embedded._worker_count(None, units=8, input_bytes=1 << 20) == embedded.MAX_WORKERS
    # 140 MiB of input JSON beside 100 MiB resident: the largest worker's 560 MiB and two more at
    # 140 MiB fit 1 GiB, a fourth does not.
    assert embedded._worker_count(None, units=8, input_bytes=140 << 20) == 3
    # So large that even one worker overruns the budget: one worker still evaluates.
    assert embedded._worker_count(None, units=8, input_bytes=1 << 30) == 1


def test_meanwhile_runs_once_in_the_parent_while_the_workers_evaluate(tmp_path: Path) -> None:
    """The caller's work (the runner parses its document back) runs in this process once the
    workers are forked, while they evaluate: the workers' answers do not wait for it, and it
    does not change them."""
    slow = (
        "\tsome i in numbers.range(1, 2000)\n\tsome j in numbers.range(1, 2000)\n\ti * j == -1\n" + '\tv := {"rule": "%s", "msg": "never"}'
    )
    policy = _policy(tmp_path, {"a": CHEAP, "b": slow})
    doc = _document(200)
    calls: list[tuple[int, float]] = []
    import os

    started = time.perf_counter()
    got = EmbeddedEngine(workers=2).evaluate(
        policy, doc, timeout=60, meanwhile=lambda: calls.append((os.getpid(), time.perf_counter() - started))
    )
    total = time.perf_counter() - started
    assert [pid for pid, _ in calls] == [os.getpid()]
    assert calls[0][1] < total  # before the answers were all in
    plain = EmbeddedEngine(workers=2).evaluate(policy, doc, timeout=60)
    assert (_canon(got.deny), _canon(got.warn)) == (_canon(plain.deny), _canon(plain.warn))
    assert len(got.deny) == 50


def test_an_error_in_meanwhile_abandons_the_evaluation_and_reaps_the_workers(tmp_path: Path) -> None:
    import os

    policy = _policy(tmp_path, {"a": CHEAP, "b": CHEAP})

    def boom() -> None:
        raise RuntimeError("the caller's own work failed")

    with pytest.raises(RuntimeError, match="own work failed"):
        EmbeddedEngine(workers=2).evaluate(policy, _document(50), timeout=30, meanwhile=boom)
    with pytest.raises(ChildProcessError):  # every worker was waited for: no zombie is left
        os.waitpid(-1, os.WNOHANG)


def test_the_probe_samples_every_array_in_proportion() -> None:
    """One step for all arrays: 5,000 components are not weighed like 10^5 findings (the licence
    package, 0.3 s at 10^5 findings, was probed slower than the SAST package, 5 s)."""
    doc = {"findings": list(range(101_000)), "components": list(range(5_000)), "scans": [1, 2, 3], "context": {"stage": "x"}}
    got = embedded._sample(doc)
    assert len(got["findings"]) == 1000 and len(got["components"]) == 50 and got["scans"] == [1]
    assert got["context"] == {"stage": "x"}
    small = {"findings": list(range(800)), "components": list(range(10))}
    assert embedded._sample(dict(small)) == small  # below SAMPLE_ITEMS nothing is cut


def test_meanwhile_is_left_to_the_caller_when_the_memory_budget_has_no_room(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading the document back beside the workers would take the process tree over the budget
    at 10^5 findings: the engine then does not call it, and the caller does the work afterwards."""
    policy = _policy(tmp_path, {"a": CHEAP, "b": CHEAP})
    calls: list[int] = []
    EmbeddedEngine(workers=2).evaluate(policy, _document(50), timeout=30, meanwhile=lambda: calls.append(1))
    assert calls == [1]
    monkeypatch.setattr(embedded, "MEMORY_BUDGET", 1)
    calls.clear()
    got = EmbeddedEngine(workers=2).evaluate(policy, _document(50), timeout=30, meanwhile=lambda: calls.append(1))
    assert calls == [] and len(got.deny) == 26
    monkeypatch.undo()
    # The parent at 10^5 findings (67 MiB of JSON; about 500 MiB resident once the engine holds the
    # input) has no room for the 300 MiB document beside two workers; at 10^4 it has.
    monkeypatch.setattr(embedded, "_resident_bytes", lambda: 500 << 20)
    assert embedded._room_beside(2, 67 << 20) is False
    monkeypatch.setattr(embedded, "_resident_bytes", lambda: 150 << 20)
    assert embedded._room_beside(2, 7 << 20) is True


def _own_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any input large enough, and the machine roomy enough, for a parse per worker."""
    monkeypatch.setattr(embedded, "PROBE_MIN_CHARS", 0)
    monkeypatch.setattr(embedded, "_available_bytes", lambda: 1 << 40)


def test_each_worker_parses_its_own_input_where_the_machine_has_the_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 20: with memory to spare, every worker parses the input at the same time and the
    parent, which holds no parsed input, reads its document back beside them; the answers are
    those of one shared parse, with any number of workers."""
    import os

    policy = _policy(tmp_path, {"a": CHEAP, "b": COSTLY, "c": CHEAP, "d": CHEAP})
    doc = _document(400)
    plain = EmbeddedEngine(workers=1).evaluate(policy, doc, timeout=60)
    _own_parse(monkeypatch)
    assert embedded._parse_in_workers(2, 4, len(doc)) == 2
    real = embedded._worker

    def parsing(engine: object, units: object, commands: int, answers: int, input_json: str | None = None) -> None:
        # In the child: a failed check ends it without an answer, which fails the evaluation.
        assert input_json == doc
        real(engine, units, commands, answers, input_json)  # type: ignore[arg-type]

    monkeypatch.setattr(embedded, "_worker", parsing)
    calls: list[int] = []
    for workers in (2, 3):
        got = EmbeddedEngine(workers=workers).evaluate(policy, doc, timeout=60, meanwhile=lambda: calls.append(os.getpid()))
        assert (_canon(got.deny), _canon(got.warn)) == (_canon(plain.deny), _canon(plain.warn))
    assert calls == [os.getpid(), os.getpid()]  # the parent's own work ran beside the workers, once each
    assert len(plain.deny) == 300


def test_a_parse_per_worker_is_chosen_on_memory_and_cpus(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "_resident_bytes", lambda: 200 << 20)
    monkeypatch.setattr(embedded.os, "sched_getaffinity", lambda _pid: {0, 1}, raising=False)
    mib67 = 67 << 20
    # 10^5 findings (67 MiB of JSON) on two CPUs: each worker 200 + 8 x 67 MiB, under 1 GiB; the
    # machine needs two of those, the parent's document (5 x 67 MiB) and 1 GiB of headroom.
    need = 2 * 8 * mib67 + 5 * mib67 + embedded.MEMORY_HEADROOM
    monkeypatch.setattr(embedded, "_available_bytes", lambda: need)
    assert embedded._parse_in_workers(None, 10, mib67) == 2
    monkeypatch.setattr(embedded, "_available_bytes", lambda: need - 1)  # a loaded machine: one shared parse
    assert embedded._parse_in_workers(None, 10, mib67) == 0
    monkeypatch.setattr(embedded, "_available_bytes", lambda: 1 << 40)
    assert embedded._parse_in_workers(None, 1, mib67) == 0  # one unit: nothing to share out
    assert embedded._parse_in_workers(1, 10, mib67) == 0  # one worker asked for
    assert embedded._parse_in_workers(None, 10, 120 << 20) == 0  # a worker would pass 1 GiB on its own
    monkeypatch.setattr(embedded.os, "sched_getaffinity", lambda _pid: set(range(16)), raising=False)
    assert embedded._parse_in_workers(None, 10, mib67) == embedded.MAX_WORKERS
    monkeypatch.setattr(embedded, "_available_bytes", lambda: 0)  # unknown (no /proc/meminfo): shared
    assert embedded._parse_in_workers(None, 10, mib67) == 0


def test_an_input_the_workers_cannot_parse_fails_as_the_shared_parse_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A broken input document read in the workers is the same error, never an empty answer."""
    policy = _policy(tmp_path, {"a": CHEAP, "b": CHEAP})
    with pytest.raises(PolicyError) as shared:
        EmbeddedEngine(workers=2).evaluate(policy, '{"findings": [1, 2', timeout=30)
    _own_parse(monkeypatch)
    with pytest.raises(PolicyError) as own:
        EmbeddedEngine(workers=2).evaluate(policy, '{"findings": [1, 2', timeout=30)
    assert "loading the input" in str(shared.value)
    assert str(own.value) == str(shared.value)


def test_the_time_limit_counts_the_workers_parse_and_holds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    slow = (
        "\tsome i in numbers.range(1, 100000000)\n\tsome j in numbers.range(1, 100000000)\n\ti * j == -1\n"
        + '\tv := {"rule": "%s", "msg": "never"}'
    )
    policy = _policy(tmp_path, {"a": CHEAP, "b": slow, "c": CHEAP})
    _own_parse(monkeypatch)
    started = time.perf_counter()
    with pytest.raises(EngineError, match="exceeded the time limit of 0.5 s"):
        EmbeddedEngine(workers=2).evaluate(policy, _document(50), timeout=0.5)
    assert time.perf_counter() - started < 5
    with pytest.raises(ChildProcessError):  # every worker was killed and waited for
        import os

        os.waitpid(-1, os.WNOHANG)


@pytest.mark.parametrize("own", [False, True], ids=["shared-parse", "parse-per-worker"])
def test_a_worker_killed_mid_run_fails_the_evaluation_never_passes_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own: bool) -> None:
    """An input built to make the parse huge (a parse per worker multiplies it) may get a worker
    killed by the kernel's out-of-memory killer. Written as the attack: a worker that dies
    without a word must not leave its packages' decisions out of the verdict (an empty deny).
    The engine refused a worker that died while evaluating (its end of file is an error), but
    one that died before it read its first unit broke the parent's write of that unit: an
    uncaught BrokenPipeError (about one run in four here), a crash rather than the engine's
    error. Now both are the engine error (a distinct exit code), for both ways of parsing."""
    import os
    import signal

    policy = _policy(tmp_path, {"a": CHEAP, "b": CHEAP, "c": CHEAP})
    if own:
        _own_parse(monkeypatch)

    def killed(engine: object, units: object, commands: int, answers: int, input_json: str | None = None) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(embedded, "_worker", killed)
    with pytest.raises(EngineError, match="ended without an answer"):
        EmbeddedEngine(workers=2).evaluate(policy, _document(50), timeout=30)
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_a_container_memory_limit_caps_the_memory_a_parse_per_worker_may_take(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """/proc/meminfo shows the host: a runner's container limited to 1 GiB on a host of 64 GiB
    would fork a parse per worker into the out-of-memory killer. The control group's limit less
    its usage caps what counts as available; "max" (no limit) does not."""
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       67108864 kB\nMemFree:        1000 kB\nMemAvailable:   62914560 kB\n")
    monkeypatch.setattr(embedded, "MEMINFO", str(meminfo))
    limit, usage = tmp_path / "memory.max", tmp_path / "memory.current"
    limit.write_text("1073741824\n")
    usage.write_text(str(200 << 20) + "\n")
    monkeypatch.setattr(embedded, "_cgroup_memory_files", lambda: [(str(limit), str(usage)), (str(tmp_path / "absent"), str(usage))])
    assert embedded._available_bytes() == (1 << 30) - (200 << 20)
    monkeypatch.setattr(embedded, "_resident_bytes", lambda: 200 << 20)
    assert embedded._parse_in_workers(2, 10, 67 << 20) == 0  # the container cannot hold two parses
    limit.write_text("max\n")
    assert embedded._available_bytes() == 60 << 30  # the host's MemAvailable
    assert embedded._parse_in_workers(2, 10, 67 << 20) == 2
    meminfo.write_text("MemTotal: 1 kB\n")  # no MemAvailable (an old kernel): unknown, so shared
    assert embedded._available_bytes() == 0


@pytest.mark.slow
def test_with_a_parse_per_worker_the_probe_on_the_callers_sample_sends_the_slowest_unit_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caller's sample (`input_sample`, milliseconds to parse) is what the probe times while
    the workers parse; the first unit handed out, to the first worker ready, is the slowest one
    on it, not the largest source (here the largest source is the cheapest package)."""
    from gate.engine.interface import input_sample

    big_cheap = CHEAP + "".join(f'\n\tf.id != "never-{i}"' for i in range(40))
    policy = _policy(tmp_path, {"a": big_cheap, "b": COSTLY, "c": CHEAP})
    units = embedded._units(policy)
    assert units[embedded._static_order(policy, units)[0]][0] == "gate.a"  # by source, a goes first
    doc = _document(2_000)
    sample = json.dumps(input_sample(json.loads(doc)))
    assert len(json.loads(sample)["findings"]) == 1000
    plain = EmbeddedEngine(workers=1).evaluate(policy, doc, timeout=120)
    _own_parse(monkeypatch)
    monkeypatch.setattr(embedded, "PROBE_GRACE", 30.0)
    first: list[int] = []
    real = embedded._evaluate_forked

    def watching(*args: object, **kwargs: object) -> dict[str, object]:
        planned = kwargs["order"]
        assert callable(planned)
        kwargs["order"] = lambda: first.extend(planned()) or first  # type: ignore[func-returns-value]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(embedded, "_evaluate_forked", watching)
    got = EmbeddedEngine(workers=2).evaluate(policy, doc, timeout=120, sample=sample)
    assert units[first[0]][0] == "gate.b"
    assert (_canon(got.deny), _canon(got.warn)) == (_canon(plain.deny), _canon(plain.warn))


def test_the_input_sample_keeps_every_array_in_proportion_and_leaves_the_document_alone() -> None:
    from gate.engine.interface import input_sample

    doc = {"findings": list(range(101_000)), "components": list(range(5_000)), "scans": [1, 2, 3], "context": {"stage": "x"}}
    got = input_sample(doc)
    assert len(got["findings"]) == 1000 and len(got["components"]) == 50 and got["scans"] == [1]
    assert got["context"] is doc["context"] and len(doc["findings"]) == 101_000  # the document is not cut
    small = {"findings": list(range(800)), "components": list(range(10))}
    assert input_sample(small) == small and input_sample(small) is not small
