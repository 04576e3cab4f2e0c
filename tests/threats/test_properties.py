"""Property-based tests (hypothesis) of the readers and of the escaping of every output medium.

Readers: any truncation or mutation of a valid report (small real samples from tests/data and
the corpus) ends in a report or exit 3, never a traceback (exit 6), and never a pass on garbage:
bytes that a lenient parser cannot even parse are always refused. The oracle is the fuzzer's
(fuzz/fuzz_readers.py `check`), which also requires the policy input document of a report that
was read to be strict UTF-8 JSON; the fuzzer itself runs here for a few seconds.

Outputs: arbitrary text put in a real report's message, rule, path and tool name comes out of
every format as data: the JSON round-trips it exactly, JUnit re-parses, the runner sees only the
gate's own workflow commands, Markdown renders no markup. (tests/test_outputs_injection.py holds
the same properties for each escaping function and a synthetic verdict; these go end to end.)

Examples are derandomised so CI is stable; the fuzzer explores at random.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from defusedxml import ElementTree as ET
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from gate.collect import read_document
from gate.errors import InputError
from tests.conftest import CORPUS, DATA, REPO, run_gate
from tests.threats.helpers import CORE_POLICY, T, output, result, sarif
from tests.workflow_commands import commands

SETTINGS = settings(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@cache
def fuzz() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_readers", REPO / "fuzz" / "fuzz_readers.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def samples() -> tuple[tuple[str, bytes], ...]:
    """Small real reports that read whole: every test sample, and corpus files up to 32 KiB."""
    files = [
        p for p in sorted(DATA.rglob("*")) if p.suffix in (".json", ".sarif", ".xml") and p.is_file() and p.stat().st_size <= 32 * 1024
    ]
    if CORPUS.is_dir():
        files += [
            p
            for p in sorted(CORPUS.rglob("*"))
            if p.is_file() and p.suffix in (".json", ".sarif", ".xml") and 0 < p.stat().st_size <= 32 * 1024
        ]
    found = []
    for p in files:
        data = p.read_bytes()
        try:
            read_document(data, str(p))
        except InputError:
            continue  # the corpus's deliberately broken files, data files that are no report
        found.append((str(p), data))
    assert len(found) > 20
    return tuple(found)


def well_formed(data: bytes) -> bool:
    """What a lenient parser accepts: JSON (NaN, duplicate keys, any UTF) or XML."""
    try:
        json.loads(data)
        return True
    except (ValueError, RecursionError):
        pass
    try:
        ET.fromstring(data)
        return True
    except (ET.ParseError, ValueError, LookupError, RecursionError):
        return False


sample = st.integers(min_value=0, max_value=10_000).map(lambda i: samples()[i % len(samples())])


# --------------------------------------------------------------------------------------------
# Readers


@settings(SETTINGS, max_examples=300)
@given(chosen=sample, cut=st.floats(min_value=0, max_value=1, exclude_max=True))
def test_any_truncation_is_refused_with_a_position_or_reads_as_the_whole(chosen: tuple[str, bytes], cut: float) -> None:
    name, data = chosen
    n = int(len(data) * cut)
    try:
        report = read_document(data[:n], name)
    except InputError as exc:
        assert exc.exit_code == 3
        if data[:n].strip(b" \t\r\n\xef\xbb\xbf"):
            pos = exc.position
            assert pos is not None and (pos.line is not None or pos.offset is not None), str(exc)
        return
    assert report.result == read_document(data, name).result, "a prefix that reads is the whole report (less trailing space)"


@pytest.mark.slow
@settings(SETTINGS, max_examples=400)
@given(chosen=sample, seed=st.integers(min_value=0, max_value=2**32 - 1), rounds=st.integers(min_value=1, max_value=3))
def test_any_mutation_reads_or_is_refused_never_crashes_never_passes_garbage(chosen: tuple[str, bytes], seed: int, rounds: int) -> None:
    import random

    rnd = random.Random(seed)  # noqa: S311 - mutations, not secrets
    data = chosen[1]
    for _ in range(rounds):
        data = fuzz().mutate(data, rnd)
    outcome = fuzz().check(data)  # raises Crash on anything but a report or exit 3
    if not well_formed(data):
        assert outcome == "refused", "garbage is never read"


@settings(SETTINGS, max_examples=200)
@given(data=st.binary(max_size=512))
def test_arbitrary_bytes_are_refused(data: bytes) -> None:
    assert fuzz().check(data) == "refused"


_KEYS = st.sampled_from(
    ["version", "runs", "results", "tool", "driver", "name", "ruleId", "level", "kind", "message", "text", "locations", "errors", "metrics",
     "generated_at", "check_id", "extra", "severity", "dependencies", "vulns", "bomFormat", "specVersion", "components", "vulnerabilities",
     "spdxVersion", "packages", "@context", "statements", "status", "x"]
)  # fmt: skip
_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["2.1.0", "CycloneDX", "1.6", "SPDX-2.3", "fail", "error", "HIGH", ""])
    | st.text(max_size=20)
)
json_values = st.recursive(_SCALARS, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(_KEYS, kids, max_size=6), max_leaves=30)


@pytest.mark.slow
@settings(SETTINGS, max_examples=300)
@given(value=st.dictionaries(_KEYS, json_values, max_size=6))
def test_arbitrary_json_in_report_shapes_reads_or_is_refused(value: dict[str, Any]) -> None:
    assert fuzz().check(json.dumps(value).encode()) in ("read", "refused", "known")


# The reader bugs the fuzzer found (fuzz/README.md): each exits 6 today; it must be 3.


def test_sarif_result_kind_of_the_wrong_type_is_3() -> None:
    with pytest.raises(InputError):
        read_document(json.dumps(sarif([result(kind=["fail"])])).encode(), "kind.sarif")


def test_openvex_status_of_the_wrong_type_is_3() -> None:
    doc = json.loads((DATA / "openvex" / "shop-api-vex-v0.2.0.json").read_text())
    doc["statements"][0]["status"] = ["not_affected"]
    with pytest.raises(InputError):
        read_document(json.dumps(doc).encode(), "vex.json")


@pytest.mark.slow
@settings(SETTINGS, max_examples=12)
@given(chosen=sample, seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_mutated_reports_through_the_command_line_never_exit_6(
    tmp_path_factory: pytest.TempPathFactory, chosen: tuple[str, bytes], seed: int
) -> None:
    import random

    data = fuzz().mutate(chosen[1], random.Random(seed))  # noqa: S311
    assume(fuzz().check(data) != "known")  # pinned above, by the strict-xfail tests
    path = tmp_path_factory.mktemp("mut") / ("report" + Path(chosen[0]).suffix)
    path.write_bytes(data)
    res = run_gate(["evaluate", str(path), "--policy", str(CORE_POLICY), *T])
    assert res.exit_code in (0, 3, 10, 11), output(res)
    if not well_formed(data):
        assert res.exit_code == 3
    if res.exit_code == 3:
        assert f"{path}" in " ".join(output(res).split())


@pytest.mark.slow
def test_the_fuzzer_runs_clean_briefly(tmp_path: Path) -> None:
    """The fuzzing entry point, as CI runs it (GATE_FUZZ_SECONDS, default 8 s; longer on demand, fuzz/README.md)."""
    seconds = os.environ.get("GATE_FUZZ_SECONDS", "8")
    proc = subprocess.run(
        [sys.executable, str(REPO / "fuzz" / "fuzz_readers.py"), "--seconds", seconds, "--crashes", str(tmp_path / "crashes")],
        capture_output=True,
        text=True,
        timeout=float(seconds) + 120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    summary = re.search(
        r"fuzz_readers \((atheris|hypothesis)\): (\d+) inputs, (\d+) read, (\d+) refused \(exit 3\).*; no crash", proc.stdout
    )
    assert summary, proc.stdout[-2000:]
    assert int(summary.group(2)) > 1000 and int(summary.group(3)) > 0 and int(summary.group(4)) > 0


# --------------------------------------------------------------------------------------------
# Outputs, end to end

_md = MarkdownIt("commonmark").enable("table").enable("strikethrough")
_GATE_COMMANDS = {"error", "warning", "notice"}
# What the runner cannot show back as it was: control characters (percent-encoded for good), the
# legacy marker (broken for good), Unicode line separators.
_LOSSY = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]|##\[")
hostile_text = st.one_of(
    st.text(min_size=1, max_size=60),
    st.lists(
        st.sampled_from(
            [
                "\n::add-mask::x",
                "\r::stop-commands::t",
                "%0A",
                "%25",
                "##[error]",
                "::set-output name=a::b",
                "|",
                "<!--",
                "<b>",
                "](http://e.x)",
                "![i](http://e.x/i.png)",
                "# h",
                "@me",
                "`",
                "&amp;",
                "]]>",
                "\x1b[31m",
                "a",
                " ",
            ]
        ),
        min_size=1,
        max_size=10,
    ).map("".join),
)


@pytest.mark.slow
@settings(SETTINGS, max_examples=20)
@given(text=hostile_text)
def test_text_in_a_real_report_comes_out_of_every_format_as_data(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    tmp = tmp_path_factory.mktemp("esc")
    report = tmp / "r.sarif"
    report.write_text(json.dumps(sarif([result(text, rule="R1", uri=f"src/{text}.py")], tool=f"T {text}")), encoding="utf-8")
    outs = {f: tmp / f for f in ("json", "input", "junit", "github", "markdown", "sarif")}
    args = ["evaluate", str(report), "--policy", str(CORE_POLICY), *T] + [a for f, p in outs.items() for a in ("--output", f"{f}={p}")]
    res = run_gate(args)
    assert res.exit_code == 10, output(res)
    read = {f: p.read_text(encoding="utf-8") for f, p in outs.items()}
    # JSON: exact round trip, through the reader, the pipeline and the verdict.
    doc = json.loads(read["input"])
    assert doc["findings"][0]["message"] == text
    verdict = json.loads(read["json"])
    assert [f["message"] for f in verdict["findings"].values()] == [text]
    assert json.loads(read["sarif"])["runs"][0]["results"]
    # JUnit: well-formed XML whatever the text.
    ET.fromstring(read["junit"])
    # Workflow commands: only the gate's own, on the console and in the github format.
    found = commands(read["github"])
    assert found and all(c.name in _GATE_COMMANDS and not c.legacy for c in found), [c.line for c in found]
    assert len(found) == len(read["github"].splitlines())
    if not _LOSSY.search(text):
        assert any(text in c.data for c in found), "the runner shows the text as it was"
    assert commands(output(res)) == []
    # Markdown: no markup comes alive.
    tokens = _md.parse(read["markdown"])
    inline = [c for t in tokens if t.type == "inline" for c in (t.children or [])]
    assert not [t for t in tokens if t.type == "html_block"] and not [c for c in inline if c.type in ("html_inline", "image")]
    assert all(str(c.attrGet("href")).startswith("#") for c in inline if c.type == "link_open")
