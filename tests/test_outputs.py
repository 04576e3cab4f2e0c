"""Every output format: valid for its medium, the same totals everywhere, attacker text inert."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from gate.output.github import escape_data, escape_property, unescape
from tests.conftest import DATA, SHARED, require_shared, run_gate

CORE = DATA / "core"
POLICY = CORE / "policy"
T = ["--time", "2026-11-26T12:00:00Z"]
FORMATS = ["json", "sarif", "junit", "markdown", "github", "vsa", "console"]


def render_all(tmp_path: Path, *reports: str, extra: tuple[str, ...] = ()) -> dict[str, str]:
    args = ["evaluate", *reports, "--policy", str(POLICY), *T, *extra]
    for f in FORMATS:
        args += ["--output", f"{f}={tmp_path / f}"]
    res = run_gate(args)
    assert res.exit_code in (0, 10, 11), res.stderr
    return {f: (tmp_path / f).read_text(encoding="utf-8") for f in FORMATS}


def sarif_schema() -> dict:
    require_shared()
    return json.loads((SHARED / "schemas" / "sarif-schema-2.1.0.json").read_text())


# --- the runner's parser, as actions/runner implements it (ActionCommand.TryParseV2 / TryParse)


def runner_commands(output: str) -> list[tuple[str, dict[str, str], str]]:
    """Parse output the way the GitHub runner does: lines split on \\n and a bare \\r."""
    found = []
    for line in re.split(r"\r\n|\n|\r", output):
        msg = line.lstrip()
        if msg.startswith("::"):
            end = msg.find("::", 2)
            if end >= 0:
                info = msg[2:end]
                name, _, props = info.partition(" ")
                pairs = {}
                for p in props.split(","):
                    if "=" in p:
                        k, v = p.split("=", 1)
                        pairs[k] = unescape(v)
                found.append((name, pairs, unescape(msg[end + 2 :])))
                continue
        idx = line.find("##[")
        if idx >= 0 and "]" in line[idx:]:
            found.append(("legacy:" + line[idx + 3 : line.index("]", idx)].split(" ")[0], {}, ""))
    return found


def test_sarif_is_valid_against_the_official_schema(tmp_path: Path) -> None:
    out = render_all(tmp_path, str(CORE / "many.sarif"), str(CORE / "medium.sarif"), str(CORE / "hostile.sarif"))
    log = json.loads(out["sarif"])
    jsonschema.Draft7Validator(sarif_schema()).validate(log)
    run = log["runs"][0]
    assert run["properties"]["totals"]["violations"] == 256 + 7
    assert all(r["partialFingerprints"]["gateFingerprint/v1"] for r in run["results"])
    assert {r["ruleId"] for r in run["results"]} <= {rule["id"] for rule in run["tool"]["driver"]["rules"]}


def test_sarif_caps_results_and_says_how_many(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gate.output import sarif

    monkeypatch.setattr(sarif.SarifFormatter, "max_results", 100)
    out = render_all(tmp_path, str(CORE / "many.sarif"))
    run = json.loads(out["sarif"])["runs"][0]
    assert len(run["results"]) == 100
    assert run["properties"]["totals"]["resultsOmitted"] == 156
    assert "156 of 256" in run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]


def test_junit_parses_and_counts(tmp_path: Path) -> None:
    out = render_all(tmp_path, str(CORE / "many.sarif"), str(CORE / "medium.sarif"))
    root = ET.fromstring(out["junit"])
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("failures") == "1"
    failure = suite.find("testcase/failure")
    assert failure is not None and "256 violation(s)" in failure.get("message", "")


def test_totals_are_equal_across_formats(tmp_path: Path) -> None:
    out = render_all(tmp_path, str(CORE / "many.sarif"), str(CORE / "medium.sarif"))
    verdict = json.loads(out["json"])
    v, w = verdict["summary"]["violations"], verdict["summary"]["warnings"]
    assert (v, w) == (256, 1)
    assert json.loads(out["sarif"])["runs"][0]["properties"]["totals"]["violations"] == v
    assert f"| {v} | {w} |" in out["markdown"]
    assert f"{v} violation(s), {w} warning(s)" in out["github"]
    assert f"{v} violation(s), {w} warning(s)" in out["console"]
    assert json.loads(out["vsa"])["predicate"]["policyGate"]["totals"]["violations"] == v
    props = {p.get("name"): p.get("value") for p in ET.fromstring(out["junit"]).iter("property")}
    assert props["violations"] == str(v) and props["warnings"] == str(w)


def test_github_output_yields_only_the_gates_own_commands(tmp_path: Path) -> None:
    out = render_all(tmp_path, str(CORE / "hostile.sarif"))
    commands = runner_commands(out["github"])
    assert commands, "annotations expected"
    assert {c[0] for c in commands} <= {"error", "warning", "notice"}
    assert len(commands) == len(out["github"].splitlines())
    datas = [c[2] for c in commands]
    assert any("::add-mask::secret" in d for d in datas), "the text is shown, as data"


@pytest.mark.parametrize("fmt", ["console", "markdown", "junit", "json", "sarif", "vsa"])
def test_other_formats_printed_to_the_log_carry_no_command(tmp_path: Path, fmt: str) -> None:
    out = render_all(tmp_path, str(CORE / "hostile.sarif"))
    if fmt in ("json", "sarif", "vsa"):
        # JSON escapes control characters, so no line of it can start a command...
        assert not [c for c in runner_commands(out[fmt]) if not c[0].startswith("legacy")]
        return
    assert runner_commands(out[fmt]) == []


def test_markdown_keeps_tables_and_renders_no_markup(tmp_path: Path) -> None:
    out = render_all(tmp_path, str(CORE / "hostile.sarif"))["markdown"]
    for line in out.splitlines():
        if line.startswith("| "):
            assert line.count("|") - line.count("&#124;") in (5, 7, 8), line
    for bad in ("<script", "<!--", "![", "](http", "\n# heading", "@octocat"):
        assert bad not in out


def test_markdown_is_capped_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATE_MARKDOWN_MAX_BYTES", "4000")
    out = render_all(tmp_path, str(CORE / "many.sarif"))["markdown"]
    assert len(out.encode()) <= 4000
    assert "more row(s) left out" in out


def test_vsa_statement(tmp_path: Path) -> None:
    out = render_all(tmp_path, str(CORE / "high.sarif"))
    st = json.loads(out["vsa"])
    assert st["_type"] == "https://in-toto.io/Statement/v1"
    assert st["predicateType"] == "https://slsa.dev/verification_summary/v1"
    assert st["predicate"]["verificationResult"] == "FAILED"
    assert re.fullmatch(r"[0-9a-f]{64}", st["subject"][0]["digest"]["sha256"])
    assert re.fullmatch(r"[0-9a-f]{64}", st["predicate"]["policy"]["digest"]["sha256"])


@pytest.mark.parametrize("text", ["a%b", "x\ny", "r\rz", "::add-mask::s", "%0A", "a:b,c", "100%25", "##[error]x"])
def test_workflow_escaping_round_trips(text: str) -> None:
    assert "\n" not in escape_data(text) and "\r" not in escape_data(text)
    if "##[" not in text:
        assert unescape(escape_data(text)) == text
        assert unescape(escape_property(text)) == text
    assert "," not in escape_property(text) and ":" not in escape_property(text)
