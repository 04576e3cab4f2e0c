"""Broken or hostile policies: exit 4 with file:line:column where one exists, and no partial verdict.

Every case evaluates a report that the intact policy denies (high.sarif): the error verdict must
carry not one violation, so nothing downstream can mistake a half-evaluated run for a result.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.threats.helpers import CORE, CORE_POLICY, assert_error_verdict, copy_tree, evaluate_verdict, opa_binary, said

REPORT = str(CORE / "high.sarif")


def policy_copy(tmp_path: Path) -> Path:
    return copy_tree(CORE_POLICY, tmp_path / "policy")


def run(tmp_path: Path, policy: Path, *extra: str) -> tuple[object, dict]:
    res, verdict, _ = evaluate_verdict(tmp_path, REPORT, *extra, policy=policy)
    return res, verdict


def test_the_intact_policy_denies_the_report(tmp_path: Path) -> None:
    res, verdict = run(tmp_path, policy_copy(tmp_path))
    assert res.exit_code == 10 and verdict["violations"]


def test_syntax_error_in_one_file_names_file_line_column(tmp_path: Path) -> None:
    pol = policy_copy(tmp_path)
    broken = pol / "broken.rego"
    broken.write_text("package gate.broken\nimport rego.v1\n\ndeny contains x if {\n  x := \n}\n")
    res, verdict = run(tmp_path, pol)
    assert res.exit_code == 4
    assert_error_verdict(verdict, 4)
    err = verdict["error"]
    assert err["file"].endswith("broken.rego") and err["position"]["line"] in (5, 6) and err["position"]["column"] >= 1
    assert f"broken.rego:{err['position']['line']}:{err['position']['column']}:" in said(res)


@pytest.mark.parametrize("layout", ["empty", "data only", "missing"])
def test_a_policy_folder_without_rego_is_4(tmp_path: Path, layout: str) -> None:
    pol = tmp_path / "policy"
    if layout != "missing":
        pol.mkdir()
    if layout == "data only":
        (pol / "config").mkdir()
        (pol / "config" / "gate.yaml").write_text("stages: {}\n")
    res, verdict = run(tmp_path, pol)
    assert res.exit_code == 4
    assert_error_verdict(verdict, 4)
    expected = "policy folder not found" if layout == "missing" else "no Rego policy (*.rego) in the policy folder"
    assert f"{pol}: {expected}" in said(res)


@pytest.mark.parametrize("engine", ["embedded", "opa"])
def test_package_typo_is_an_undefined_decision(tmp_path: Path, engine: str) -> None:
    if engine == "opa":
        opa_binary()
    pol = policy_copy(tmp_path)
    core = pol / "core.rego"
    core.write_text(core.read_text().replace("package gate.core", "package gat.core"))
    res, verdict = run(tmp_path, pol, "--engine", engine)
    assert res.exit_code == 4
    assert_error_verdict(verdict, 4)
    assert "no decision" in said(res), said(res)


@pytest.mark.parametrize("engine", ["embedded", "opa"])
def test_builtin_error_is_an_error_never_undefined(tmp_path: Path, engine: str) -> None:
    if engine == "opa":
        opa_binary()
    pol = policy_copy(tmp_path)
    (pol / "bad.rego").write_text(
        'package gate.bad\nimport rego.v1\n\ndeny contains {"rule": "CORE-001", "msg": "x"} if {\n  to_number("not a number") > 1\n}\n'
    )
    res, verdict = run(tmp_path, pol, "--engine", engine)
    assert res.exit_code == 4, said(res)
    assert_error_verdict(verdict, 4)
    assert "bad.rego:5" in said(res), said(res)


@pytest.mark.slow
def test_very_slow_policy_stops_at_the_limit(tmp_path: Path) -> None:
    pol = policy_copy(tmp_path)
    (pol / "slow.rego").write_text(
        'package gate.slow\nimport rego.v1\n\nwarn contains {"rule": "CORE-002", "msg": "never"} if {\n'
        "  some i in numbers.range(1, 100000000)\n  some j in numbers.range(1, 100000000)\n  i * j == -1\n}\n"
    )
    started = time.perf_counter()
    res, verdict = run(tmp_path, pol, "--eval-timeout", "1")
    elapsed = time.perf_counter() - started
    assert res.exit_code == 4
    assert_error_verdict(verdict, 4)
    assert "policy evaluation exceeded the time limit of 1 s" in said(res)
    assert elapsed < 10, f"stopped after {elapsed:.1f} s for a limit of 1 s"


@pytest.mark.parametrize(
    ("call", "builtin"),
    [
        ('http.send({"method": "get", "url": "http://127.0.0.1:9/"})', "http.send"),
        ("opa.runtime()", "opa.runtime"),
        ('net.lookup_ip_addr("example.com")', "net.lookup_ip_addr"),
        ('x := http.send({"method": "get", "url": "http://127.0.0.1:9/"}).body', "http.send"),
    ],
)
def test_network_and_environment_builtins_are_refused_at_load(tmp_path: Path, call: str, builtin: str) -> None:
    pol = policy_copy(tmp_path)
    body = call if call.startswith("x :=") else f"x := {call}"
    (pol / "evil.rego").write_text(f"package gate.evil\nimport rego.v1\n\n{body}\n")
    res, verdict = run(tmp_path, pol)
    assert res.exit_code == 4
    assert_error_verdict(verdict, 4)
    err = verdict["error"]
    assert err["file"].endswith("evil.rego") and err["position"]["line"] == 4 and err["position"]["column"] >= 1
    assert f"evil.rego:4:{err['position']['column']}:" in said(res)
    assert "forbidden builtin" in said(res) and builtin in said(res)


def test_a_network_call_in_a_policy_test_file_never_runs(tmp_path: Path) -> None:
    """`*_test.rego` files are not loaded for evaluation, and `gate policy test` refuses them (4)."""
    from tests.conftest import run_gate

    pol = policy_copy(tmp_path)
    (pol / "evil_test.rego").write_text(
        'package gate.evil_test\nimport rego.v1\n\ntest_x if http.send({"method": "get", "url": "http://127.0.0.1:9/"})\n'
    )
    res, verdict = run(tmp_path, pol)
    assert res.exit_code == 10 and verdict["violations"], "evaluated without the test file"
    res = run_gate(["policy", "test", str(pol)])
    assert res.exit_code == 4
    assert "evil_test.rego:4:11: forbidden builtin http.send" in said(res)


# --------------------------------------------------------------------------------------------
# Forbidden builtins are found in the parse tree (gate.policy_safety), not by scanning text.

NETWORK_CALL = 'http.send({"method": "get", "url": "http://127.0.0.1:9/"})'


@pytest.mark.parametrize("engine", ["embedded", "opa"])
def test_a_backtick_inside_a_string_does_not_hide_the_lines_after_it(tmp_path: Path, engine: str) -> None:
    """The attack (issue 14): a backtick inside a double-quoted string made the old text scanner
    believe a raw string had opened, so it skipped the following lines; `opa.runtime()` and
    `http.send` there reached the engine and `gate policy check` reported nothing."""
    pol = policy_copy(tmp_path)
    (pol / "evil.rego").write_text(
        f'package gate.evil\nimport rego.v1\n\nquote := "a ` inside"\nenv := opa.runtime().env\nleak := {NETWORK_CALL}\n'
    )
    if engine == "opa":
        opa_binary()
    res, verdict = run(tmp_path, pol, "--engine", engine)
    assert res.exit_code == 4, said(res)
    assert_error_verdict(verdict, 4)
    assert "evil.rego:5:8: forbidden builtin opa.runtime" in said(res)
    from tests.conftest import run_gate

    res = run_gate(["policy", "check", str(pol)])
    assert res.exit_code == 4
    assert "evil.rego:5:8: forbidden builtin: opa.runtime" in said(res)
    assert "evil.rego:6:9: forbidden builtin: http.send" in said(res)


@pytest.mark.parametrize(
    ("body", "name", "line", "col", "how"),
    [
        # The clock: `time.now_ns()` ignored --time, so a verdict could not be reproduced.
        ("stamp := time.now_ns()", "time.now_ns", 4, 10, ""),
        ('pick := rand.intn("seed", 10)', "rand.intn", 4, 9, ""),
        ('id := uuid.rfc4122("k")', "uuid.rfc4122", 4, 7, ""),
        ('mod := rego.parse_module("m.rego", "package m")', "rego.parse_module", 4, 8, ""),
        # Indirect: a bracketed name, an escaped one, a function named without a call, a `with` value.
        ('leak := http["send"]({"url": "http://127.0.0.1:9/"})', "http.send", 4, 9, ""),
        ('leak := http["s\\u0065nd"]({"url": "http://127.0.0.1:9/"})', "http.send", 4, 9, ""),
        ("clock := time.now_ns", "time.now_ns", 4, 10, " (reference)"),
        ("f(x) := x\n\nt if f(1) with f as opa.runtime", "opa.runtime", 6, 21, " (with value)"),
        ("t if 1 == 1 with time.now_ns as 1", "time.now_ns", 4, 18, " (with target)"),
        # Spread over lines, after a comment that looks like code and a raw string with quotes.
        ('# http.send( in a comment\ns := `"\n#`\nx := net.lookup_ip_addr(\n\t"example.com")', "net.lookup_ip_addr", 7, 6, ""),
    ],
)
def test_every_forbidden_use_is_refused_at_load(tmp_path: Path, body: str, name: str, line: int, col: int, how: str) -> None:
    pol = policy_copy(tmp_path)
    (pol / "evil.rego").write_text(f"package gate.evil\nimport rego.v1\n\n{body}\n")
    res, verdict = run(tmp_path, pol)
    assert res.exit_code == 4, said(res)
    assert_error_verdict(verdict, 4)
    assert f"evil.rego:{line}:{col}: forbidden builtin {name}{how}:" in said(res), said(res)


def test_text_that_only_looks_like_a_call_is_not_refused(tmp_path: Path) -> None:
    """Strings, raw strings and comments that spell a forbidden call are data, not calls."""
    pol = policy_copy(tmp_path)
    (pol / "quiet.rego").write_text(
        "package gate.quiet\nimport rego.v1\n\n"
        '# opa.runtime() is forbidden\nnote := "http.send({}) ` time.now_ns()"\nraw := `rand.intn("x", 1)\nuuid.rfc4122("k")`\n'
        "parsed := time.parse_rfc3339_ns(input.context.time)\n"
    )
    res, verdict = run(tmp_path, pol)
    assert res.exit_code == 10, said(res)


def test_the_shipped_pack_uses_no_forbidden_builtin_and_no_clock() -> None:
    """Policies read the time from the input (`input.context.time`, set by --time), never the clock;
    the shipped pack judges time only through flags the gate computed at --time (waiver expiry)."""
    from gate.policy import default_policy_dir, load_policy
    from gate.policy_safety import forbidden_uses

    policy = load_policy(default_policy_dir(), include_tests=True)
    assert len(policy.modules) > 10
    assert forbidden_uses(policy.modules) == []


def test_opa_itself_refuses_a_forbidden_builtin(tmp_path: Path) -> None:
    """The second wall: with the loader's check switched off, `opa eval` (run with a capabilities
    file that leaves the builtins out) still refuses the module, naming file and line."""
    opa_binary()
    from gate.engine.opa import OpaEngine
    from gate.errors import PolicyError
    from gate.policy import load_policy

    pol = policy_copy(tmp_path)
    (pol / "evil.rego").write_text(f"package gate.evil\nimport rego.v1\n\nleak := {NETWORK_CALL}\nstamp := time.now_ns()\n")
    policy = load_policy(pol, check_builtins=False)
    with pytest.raises(PolicyError) as caught:
        OpaEngine().evaluate(policy, '{"findings": []}', timeout=30)
    err = caught.value
    assert err.exit_code == 4
    assert err.file == str(pol / "evil.rego") and err.position is not None and err.position.line in (4, 5)
    assert "undefined function" in err.message


# The property: whatever comments, strings (with escapes, backticks, quotes) and raw strings
# surround it, a call of a forbidden builtin is refused by both engines at its file:line:col.

_CALLS = {
    "http.send": 'http.send({"method": "get", "url": "http://127.0.0.1:9/"})',
    "opa.runtime": "opa.runtime()",
    "net.lookup_ip_addr": 'net.lookup_ip_addr("example.com")',
    "rego.parse_module": 'rego.parse_module("m.rego", "package m")',
    "time.now_ns": "time.now_ns()",
    "rand.intn": 'rand.intn("seed", 10)',
    "uuid.rfc4122": 'uuid.rfc4122("k")',
}
# Characters that confuse a text scanner, and words that look like the calls.
_NOISE = ["`", '"', "\\", "#", "'", "(", ")", "{", "}", "\t", "é", "😀", "\u202e", "http.send(", "opa.runtime()", "time.now_ns", " ", "x"]


def _quoted(pieces: list[str]) -> str:
    """A double-quoted Rego string holding the pieces, escaped (some as \\u escapes)."""
    out = []
    for i, piece in enumerate(pieces):
        for ch in piece:
            if ch in '"\\':
                out.append("\\" + ch)
            elif ch == "\t" or (i % 3 == 2 and ch.isascii()):
                out.append(f"\\u{ord(ch):04x}")
            else:
                out.append(ch)
    return '"' + "".join(out) + '"'


def _raw(pieces: list[str]) -> str:
    """A raw string (backticks), spanning lines where a piece is a newline."""
    return "`" + "".join(p for p in pieces if p != "`") + "`"


def _comment(pieces: list[str]) -> str:
    return "# " + "".join(pieces).replace("\n", " ")


def _property_modules() -> object:
    from hypothesis import strategies as st

    pieces = st.lists(st.sampled_from([*_NOISE, "\n"]), max_size=8)
    noise = st.one_of(
        pieces.map(lambda p: ("string", _quoted([x for x in p if x != "\n"]))),
        pieces.map(lambda p: ("raw", _raw(p))),
        pieces.map(lambda p: ("comment", _comment(p))),
    )
    return st.tuples(st.sampled_from(sorted(_CALLS)), st.lists(noise, max_size=5), st.lists(noise, max_size=4), st.booleans())


def _build(name: str, before: list[tuple[str, str]], after: list[tuple[str, str]], inline: bool) -> tuple[str, int, int]:
    """The module text, and the line and column (characters) of the forbidden call."""
    lines = ["package gate.evil", "import rego.v1", ""]
    for i, (kind, text) in enumerate(before):
        lines.extend((text if kind == "comment" else f"s{i} := {text}").split("\n"))
    strings = [text for kind, text in before if kind != "comment"]
    prefix = f"x := [{strings[-1]}, " if inline and strings else "x := ["
    head = (prefix).split("\n")
    lines.extend(head[:-1])
    line = len(lines) + 1
    col = len(head[-1]) + 1
    lines.append(head[-1] + _CALLS[name] + "]")
    for i, (kind, text) in enumerate(after):
        lines.extend((text if kind == "comment" else f"t{i} := {text}").split("\n"))
    return "\n".join(lines) + "\n", line, col


@pytest.mark.slow
def test_property_any_forbidden_call_is_refused_by_both_engines(tmp_path: Path) -> None:
    from hypothesis import HealthCheck, given, settings

    from gate.engine.opa import OpaEngine, find_opa
    from gate.errors import EngineError, PolicyError
    from gate.policy import load_policy

    try:
        find_opa()
        with_opa = True
    except EngineError:
        with_opa = False
    base = policy_copy(tmp_path)
    files = {p.relative_to(base).as_posix(): p.read_bytes() for p in base.rglob("*") if p.is_file()}
    root = str(tmp_path / "policy")
    seen = {"examples": 0}

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(_property_modules())
    def check(case: tuple[str, list[tuple[str, str]], list[tuple[str, str]], bool]) -> None:
        name, before, after, inline = case
        text, line, col = _build(name, before, after, inline)
        where = f"{root}/evil.rego"
        # The same module without the call loads: the noise alone is valid Rego and refuses nothing.
        harmless = text.replace(_CALLS[name], "count([])")
        load_policy(root, files={**files, "evil.rego": harmless.encode()})
        # The embedded engine's loader (every engine's: the check runs before any engine).
        with pytest.raises(PolicyError) as caught:
            load_policy(root, files={**files, "evil.rego": text.encode()})
        err = caught.value
        assert err.exit_code == 4
        assert (err.file, err.position.line if err.position else None, err.position.column if err.position else None) == (
            where,
            line,
            col,
        ), text
        assert f"forbidden builtin {name}" in err.message
        # OPA, with the loader's check off: its capabilities leave the builtin out.
        if with_opa:
            policy = load_policy(root, files={**files, "evil.rego": text.encode()}, check_builtins=False)
            with pytest.raises(PolicyError) as caught:
                OpaEngine().evaluate(policy, '{"findings": []}', timeout=30)
            err = caught.value
            assert err.exit_code == 4
            assert err.file == where and err.position is not None and (err.position.line, err.position.column) == (line, col), (
                err,
                text,
            )
            assert f"undefined function {name}" in err.message
        seen["examples"] += 1

    check()
    assert seen["examples"] >= 30
    if not with_opa:
        opa_binary()  # skips (fails under GATE_REQUIRE_OPA=1): the embedded half has run


def test_the_quick_skips_never_skip_a_use() -> None:
    """The check parses only modules whose text names a forbidden root followed by `.name` or `[`,
    and walks only trees whose rules hold a variable of that name; a tree of another shape than
    expected is walked in full (never "nothing found")."""
    from gate.policy_safety import _may_use, _tree_json, may_mention

    head = "package gate.q\nimport rego.v1\n\n"
    for body in ["x := time.now_ns()", 'x := http["send"]({})', 'x := http["s\\u0065nd"]({})', "t if 1 == 1 with time.now_ns as 1"]:
        text = head + body + "\n"
        assert may_mention(text), body
        assert _may_use("q.rego", text, _tree_json("q.rego", text)), body
    quiet = head + 'note := "time.now_ns()" # http.send\nt := timed.x\n'
    assert not _may_use("q.rego", quiet, _tree_json("q.rego", quiet))
    assert _may_use("q.rego", quiet, "[]")  # an unexpected shape: walked in full
    assert not may_mention(head + "# at run time. Or http. send\nx := 1\n")
