"""Every output format: valid for its medium, the same totals everywhere, caps that say what they left out."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as ET
import jsonschema_rs
import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from gate.output.common import rule_anchor
from tests.conftest import DATA, SHARED, require_shared, run_gate
from tests.workflow_commands import commands

CORE = DATA / "core"
OUT = DATA / "outputs"
T = ["--time", "2026-11-26T12:00:00Z"]
FORMATS = ["json", "sarif", "junit", "markdown", "github", "vsa", "console", "input"]
HOSTILE = [str(OUT / "hostile.sarif"), str(OUT / "hostile.cdx.json")]


def render_all(tmp_path: Path, *reports: str, policy: Path = CORE / "policy", extra: tuple[str, ...] = ()) -> dict[str, str]:
    """Run `gate evaluate` once, writing every format to a file; their texts by name."""
    args = ["evaluate", *reports, "--policy", str(policy), *T, *extra]
    for f in FORMATS:
        args += ["--output", f"{f}={tmp_path / f}"]
    res = run_gate(args)
    assert res.exit_code in (0, 10, 11), res.stderr
    return {f: (tmp_path / f).read_text(encoding="utf-8") for f in FORMATS}


def hostile(tmp_path: Path) -> dict[str, str]:
    return render_all(tmp_path, *HOSTILE, policy=OUT / "policy", extra=("--waivers", str(OUT / "waivers.yaml")))


def validate_sarif(log: Any) -> None:
    """Validate against the official SARIF 2.1.0 schema (draft-04, as it declares)."""
    require_shared()
    schema = json.loads((SHARED / "schemas" / "sarif-schema-2.1.0.json").read_text())
    jsonschema_rs.validator_for(schema, validate_formats=True).validate(log)


def markdown_tokens(text: str) -> list[Token]:
    """Block tokens of GitHub-flavoured Markdown (CommonMark + tables + strike-through)."""
    md = MarkdownIt("commonmark").enable("table").enable("strikethrough")
    return md.parse(text)


# --- totals: the same in every format ----------------------------------------------------------------


def stated_totals(out: dict[str, str]) -> dict[str, tuple[int, int, int]]:
    """(violations, warnings, waived) as each format states them."""
    found: dict[str, tuple[int, int, int]] = {}
    s = json.loads(out["json"])["summary"]
    found["json"] = (s["violations"], s["warnings"], s["waived"])
    t = json.loads(out["sarif"])["runs"][0]["properties"]["totals"]
    found["sarif"] = (t["violations"], t["warnings"], t["waived"])
    props = {p.get("name"): p.get("value") for p in ET.fromstring(out["junit"]).iter("property")}
    found["junit"] = (int(props["violations"]), int(props["warnings"]), int(props["waived"]))
    row = re.search(r"^\| (\d+) \| (\d+) \| (\d+) \| \d+ \|", out["markdown"], re.MULTILINE)
    assert row, out["markdown"][:500]
    found["markdown"] = (int(row[1]), int(row[2]), int(row[3]))
    for name in ("github", "console"):
        if json.loads(out["json"])["decision"] == "error":
            assert re.search(r"(?i)error \(exit \d\)", out[name]), out[name]
            continue
        m = re.search(r"(\d+) violation\(s\), (\d+) warning\(s\), (\d+) waived", out[name])
        assert m, out[name][-500:]
        found[name] = (int(m[1]), int(m[2]), int(m[3]))
    ext = next(v for k, v in json.loads(out["vsa"])["predicate"].items() if k.startswith("https://"))
    found["vsa"] = (ext["totals"]["violations"], ext["totals"]["warnings"], ext["totals"]["waived"])
    return found


def check_same_totals(out: dict[str, str]) -> None:
    """Every format states the verdict's totals, and every listing adds up to them (shown + left out)."""
    verdict = json.loads(out["json"])
    s = verdict["summary"]
    expected = (s["violations"], s["warnings"], s["waived"])
    stated = stated_totals(out)
    assert stated == dict.fromkeys(stated, expected)
    # SARIF: results shown + results left out = every result; per level as in the verdict.
    run = json.loads(out["sarif"])["runs"][0]
    t = run["properties"]["totals"]
    assert len(run["results"]) == t["resultsShown"] and t["resultsShown"] + t["resultsOmitted"] == t["results"]
    # One result per violation, warning and waived finding: a cross-tool group is one row, not one per member.
    cited = len(verdict["violations"]) + len(verdict["warnings"]) + s["waived"]
    assert t["results"] == cited
    # JUnit: the failures' counts add up to the violations.
    root = ET.fromstring(out["junit"])
    counted = sum(int(re.match(r"(\d+) violation", f.get("message", ""))[1]) for f in root.iter("failure"))  # type: ignore[index]
    assert counted == s["violations"]
    # GitHub: annotations + "left out" = every result.
    cmds = commands(out["github"])
    annotations = [c for c in cmds if "policy-gate" not in c.properties.get("title", "")]
    left = sum(int(m[1]) for c in cmds if (m := re.match(r"(\d+) more result", c.data)))
    assert len(annotations) + left == cited


def test_totals_are_equal_across_formats(tmp_path: Path) -> None:
    out = render_all(tmp_path, str(CORE / "many.sarif"), str(CORE / "medium.sarif"))
    assert json.loads(out["json"])["summary"]["violations"] == 256
    check_same_totals(out)


def test_totals_are_equal_with_waivers_components_and_scans(tmp_path: Path) -> None:
    out = hostile(tmp_path)
    s = json.loads(out["json"])["summary"]
    assert s["waived"] == 1 and s["violations"] >= 4 and s["warnings"] >= 1
    check_same_totals(out)


# --- SARIF ------------------------------------------------------------------------------------------


def test_sarif_is_valid_and_complete(tmp_path: Path) -> None:
    out = hostile(tmp_path)
    log = json.loads(out["sarif"])
    validate_sarif(log)
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert {"OUT-001", "OUT-002", "OUT-003", "OUT-004"} <= set(rules)
    for rid in ("OUT-001", "OUT-003"):
        props = rules[rid]["properties"]
        assert float(props["security-severity"]) >= 7.0 and "security" in props["tags"] and len(props["tags"]) <= 20
    for r in run["results"]:
        assert run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        assert re.fullmatch(r"[0-9a-f]{16,64}", r["partialFingerprints"]["gateFingerprint/v1"])
        assert len(r["locations"]) == 1, r  # every result points somewhere: finding, SBOM, scan
    waived = [r for r in run["results"] if r.get("suppressions")]
    assert len(waived) == 1 and waived[0]["suppressions"][0]["status"] == "accepted"
    assert "W-OUT-1" in waived[0]["suppressions"][0]["justification"]
    sbom = [r for r in run["results"] if r["ruleId"] == "OUT-003"]
    assert sbom and all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith("hostile.cdx.json") for r in sbom)
    # Braces are placeholders in SARIF messages: literal ones are doubled.
    assert any("{{0}}" in r["message"]["text"] for r in run["results"])


def test_sarif_caps_results_and_says_how_many(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gate.output import sarif

    monkeypatch.setattr(sarif.SarifFormatter, "max_results", 100)
    out = render_all(tmp_path, str(CORE / "many.sarif"))
    log = json.loads(out["sarif"])
    validate_sarif(log)
    run = log["runs"][0]
    assert len(run["results"]) == 100
    assert run["properties"]["totals"]["resultsOmitted"] == 156
    assert run["properties"]["totals"]["violations"] == 256
    assert "156 of 256" in run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]


def test_sarif_stays_within_the_compressed_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gate.output import sarif

    monkeypatch.setattr(sarif.SarifFormatter, "max_gzip_bytes", 6000)
    out = render_all(tmp_path, str(CORE / "many.sarif"))
    assert len(gzip.compress(out["sarif"].encode(), 6)) <= 6000
    run = json.loads(out["sarif"])["runs"][0]
    t = run["properties"]["totals"]
    assert 0 < t["resultsShown"] < 256 and t["resultsShown"] + t["resultsOmitted"] == 256
    # The longest prefix that fits: one more result would not.
    shown = t["resultsShown"]
    assert "left out" in run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]
    assert shown == len(run["results"])


def test_sarif_links_rules_to_their_documentation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATE_RULE_DOCS_URL", "https://example.org/policies.md")
    rules = json.loads(hostile(tmp_path)["sarif"])["runs"][0]["tool"]["driver"]["rules"]
    by_id = {r["id"]: r for r in rules}
    assert by_id["OUT-001"]["helpUri"] == f"https://example.org/policies.md#{rule_anchor('OUT-001')}"


def test_rule_anchors_match_the_catalogue(tmp_path: Path) -> None:
    res = run_gate(["policy", "doc", str(OUT / "policy")])
    assert res.exit_code == 0, res.stderr
    for rid in ("OUT-001", "OUT-004"):
        assert f'<a id="{rule_anchor(rid)}"></a>' in res.stdout


# --- JUnit ------------------------------------------------------------------------------------------


def test_junit_has_the_shape_ci_tools_read(tmp_path: Path) -> None:
    out = hostile(tmp_path)
    root = ET.fromstring(out["junit"])
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    cases = suite.findall("testcase")
    assert int(suite.get("tests", "-1")) == len(cases) == int(root.get("tests", "-2"))
    assert all(c.get("name") and c.get("classname") for c in cases)
    failing = [c for c in cases if c.find("failure") is not None]
    assert int(suite.get("failures", "-1")) == len(failing) == 3  # OUT-001, OUT-003, OUT-004
    assert int(suite.get("skipped", "-1")) == len([c for c in cases if c.find("skipped") is not None]) == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", suite.get("timestamp", ""))
    warned = [
        c
        for c in cases
        if c.find("failure") is None and c.find("system-out") is not None and "warning(s)" in (c.findtext("system-out") or "")
    ]
    assert len(warned) == 1


def test_junit_caps_long_failures_and_says_how_many(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gate.output import junit

    monkeypatch.setattr(junit, "MAX_LINES", 10)
    out = render_all(tmp_path, str(CORE / "many.sarif"))
    failure = ET.fromstring(out["junit"]).find("testsuite/testcase/failure")
    assert failure is not None and failure.get("message", "").startswith("256 violation(s)")
    assert "... and 246 more result(s)" in (failure.text or "")


def test_junit_error_verdict_is_one_errored_case(tmp_path: Path) -> None:
    out = tmp_path / "junit.xml"
    res = run_gate(["evaluate", str(tmp_path / "missing.sarif"), "--policy", str(CORE / "policy"), *T, "--output", f"junit={out}"])
    assert res.exit_code == 3
    root = ET.fromstring(out.read_text())
    assert root.get("errors") == "1" and root.find("testsuite/testcase/error") is not None


# --- GitHub annotations -----------------------------------------------------------------------------


def test_github_annotations_stay_within_the_per_step_limits(tmp_path: Path) -> None:
    out = render_all(tmp_path, str(CORE / "many.sarif"), str(CORE / "medium.sarif"))
    cmds = commands(out["github"])
    assert len(cmds) == len(out["github"].splitlines())
    kinds = [c.name for c in cmds]
    assert kinds.count("error") == 10 and kinds.count("warning") == 1 and kinds.count("notice") == 2
    left = next(c for c in cmds if "more result(s) not annotated" in c.data)
    assert left.data.startswith("246 more result(s) not annotated (246 deny, 0 warn, 0 waived)")
    assert cmds[-1].data.startswith("policy gate closed: 256 violation(s), 1 warning(s), 0 waived, 0 suppressed inline; 257 result(s)")
    first = cmds[0]
    assert first.properties["file"] and first.properties["line"].isdigit() and first.properties["title"].startswith("CORE-001")


def test_github_error_verdict_is_one_error(tmp_path: Path) -> None:
    res = run_gate(["evaluate", str(tmp_path / "missing.sarif"), "--policy", str(CORE / "policy"), *T, "--format", "github"])
    assert res.exit_code == 3
    cmds = commands(res.stdout)
    assert [c.name for c in cmds] == ["error"] and "exit 3" in cmds[0].data


# --- Markdown ---------------------------------------------------------------------------------------


def inline_tokens(tokens: list[Token]) -> list[Token]:
    return [child for t in tokens if t.type == "inline" for child in (t.children or [])]


def test_markdown_tables_keep_their_shape_and_nothing_renders_as_markup(tmp_path: Path) -> None:
    text = hostile(tmp_path)["markdown"]
    tokens = markdown_tokens(text)
    # Every table row has as many cells as its header.
    rows: list[int] = []
    head = 0
    for t in tokens:
        if t.type == "thead_open":
            head = -1
        if t.type == "tr_open":
            rows.append(0)
        if t.type in ("th_open", "td_open"):
            rows[-1] += 1
        if t.type == "tr_close" and head == -1:
            head = rows[-1]
        if t.type == "tr_close":
            assert rows[-1] == head, text
    assert len(rows) > 10
    assert not [t for t in tokens if t.type in ("html_block", "heading_open") and "evil" in t.content]
    inline = inline_tokens(tokens)
    assert not [t for t in inline if t.type in ("html_inline", "image")]
    links = [t.attrGet("href") for t in inline if t.type == "link_open"]
    assert links and all(re.fullmatch(r"#out-00\d", str(h)) for h in links)
    # Attacker text appears only inside code spans.
    plain = " ".join(t.content for t in inline if t.type == "text")
    for marker in ("evil", "octocat", "add-mask", "script", "heading", "set-output"):
        assert marker not in plain
    codes = " ".join(t.content for t in inline if t.type == "code_inline")
    for marker in ("@octocat", "<script>", "![img]", "| pipe |", "<!-- unclosed", "::add-mask::x"):
        assert marker in codes
    # Headings are only the gate's own.
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert all(re.fullmatch(r"(❌ Policy gate: closed|\w[\w ]+ \(\d+\)|Rules|OUT-00\d)", h) for h in headings), headings


def test_markdown_rule_links_point_at_the_rule_sections_or_the_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a").mkdir()
    text = hostile(tmp_path / "a")["markdown"]
    tokens = markdown_tokens(text)
    anchors = {tokens[i + 1].content.lower() for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h4"}
    assert anchors == {"out-001", "out-002", "out-003", "out-004"}
    monkeypatch.setenv("GATE_RULE_DOCS_URL", "https://example.org/docs/policies.md")
    (tmp_path / "b").mkdir()
    text = hostile(tmp_path / "b")["markdown"]
    assert f"(https://example.org/docs/policies.md#{rule_anchor('OUT-003')})" in text


def test_markdown_is_capped_with_a_note(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATE_MARKDOWN_MAX_BYTES", "9000")
    out = render_all(tmp_path, str(CORE / "many.sarif"), str(CORE / "medium.sarif"))["markdown"]
    assert len(out.encode()) <= 9000
    shown = len(re.findall(r"^\| \[`CORE-001`\]", out, re.MULTILINE))
    m = re.search(r"_… (\d+) more row\(s\) left out to stay within 9000 bytes \((\d+) of violations, (\d+) of warnings\)", out)
    assert m, out[-600:]
    assert shown + int(m[2]) == 256 and int(m[3]) == 1 and int(m[1]) == int(m[2]) + 1
    assert "| 256 | 1 | 0 | 0 | 257 |" in out


def test_markdown_default_cap_is_a_step_summary(tmp_path: Path) -> None:
    out = render_all(tmp_path, str(CORE / "many.sarif"))["markdown"]
    assert "left out" not in out and len(re.findall(r"^\| \[`CORE-001`\]", out, re.MULTILINE)) == 256


# --- VSA --------------------------------------------------------------------------------------------

# The required fields of https://slsa.dev/spec/v1.0/verification_summary and the in-toto Statement v1.
VSA_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["_type", "subject", "predicateType", "predicate"],
    "properties": {
        "_type": {"const": "https://in-toto.io/Statement/v1"},
        "predicateType": {"const": "https://slsa.dev/verification_summary/v1"},
        "subject": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["digest"],
                "properties": {
                    "name": {"type": "string"},
                    "digest": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "string", "pattern": "^[0-9a-f]+$"}},
                },
            },
        },
        "predicate": {
            "type": "object",
            "required": ["verifier", "timeVerified", "resourceUri", "policy", "verificationResult", "verifiedLevels"],
            "properties": {
                "verifier": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string", "pattern": "^https://"}}},
                "timeVerified": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"},
                "resourceUri": {"type": "string", "minLength": 1},
                "policy": {
                    "type": "object",
                    "required": ["uri"],
                    "properties": {"uri": {"type": "string", "minLength": 1}, "digest": {"type": "object"}},
                },
                "verificationResult": {"enum": ["PASSED", "FAILED"]},
                "verifiedLevels": {"type": "array", "minItems": 1, "items": {"type": "string", "not": {"pattern": "^SLSA_"}}},
            },
            "propertyNames": {
                "anyOf": [
                    {
                        "enum": [
                            "verifier",
                            "timeVerified",
                            "resourceUri",
                            "policy",
                            "inputAttestations",
                            "verificationResult",
                            "verifiedLevels",
                            "dependencyLevels",
                            "slsaVersion",
                        ]
                    },
                    {"pattern": "^https://"},
                ]
            },
        },
    },
}


def test_vsa_statement_has_the_required_fields(tmp_path: Path) -> None:
    out = render_all(tmp_path, str(CORE / "high.sarif"), extra=("--repository", "octo/app", "--commit", "a" * 40))
    st = json.loads(out["vsa"])
    jsonschema_rs.Draft202012Validator(VSA_SCHEMA).validate(st)
    p = st["predicate"]
    assert p["verificationResult"] == "FAILED" and p["verifiedLevels"] == ["FAILED"]
    assert p["resourceUri"] == "git+https://github.com/octo/app@" + "a" * 40
    assert {"name": "git+https://github.com/octo/app@" + "a" * 40, "digest": {"gitCommit": "a" * 40}} in st["subject"]
    report = next(s for s in st["subject"] if s["name"].endswith("high.sarif"))
    assert re.fullmatch(r"[0-9a-f]{64}", report["digest"]["sha256"])
    assert re.fullmatch(r"[0-9a-f]{64}", p["policy"]["digest"]["sha256"])


def test_vsa_passed_and_waivers_applied(tmp_path: Path) -> None:
    st = json.loads(render_all(tmp_path, str(CORE / "clean.sarif"))["vsa"])
    jsonschema_rs.Draft202012Validator(VSA_SCHEMA).validate(st)
    assert st["predicate"]["verificationResult"] == "PASSED" and st["predicate"]["verifiedLevels"] == ["POLICY_GATE_DEFAULT"]
    (tmp_path / "h").mkdir()
    st = json.loads(hostile(tmp_path / "h")["vsa"])
    ext = next(v for k, v in st["predicate"].items() if k.startswith("https://"))
    assert [w["waiver"] for w in ext["waiversApplied"]] == ["W-OUT-1"]
    assert ext["violations"] == ["OUT-001", "OUT-003", "OUT-004"]


def test_vsa_of_an_error_verdict_is_still_a_valid_statement(tmp_path: Path) -> None:
    out = tmp_path / "vsa.json"
    res = run_gate(["evaluate", str(tmp_path / "missing.sarif"), "--policy", str(CORE / "policy"), *T, "--output", f"vsa={out}"])
    assert res.exit_code == 3
    st = json.loads(out.read_text())
    jsonschema_rs.Draft202012Validator(VSA_SCHEMA).validate(st)
    assert st["predicate"]["verificationResult"] == "FAILED"


# --- the rest ---------------------------------------------------------------------------------------


def test_an_unwritable_output_path_is_an_output_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = run_gate(["evaluate", str(CORE / "high.sarif"), "--policy", str(CORE / "policy"), *T, "--output", f"sarif={blocker}/out.sarif"])
    assert res.exit_code == 5
    assert "sarif" in res.stderr


def test_json_outputs_read_back_exactly(tmp_path: Path) -> None:
    out = hostile(tmp_path)
    verdict = json.loads(out["json"])
    messages = [e["msg"] for e in verdict["violations"] + verdict["warnings"]]
    assert any("##[error]" in m for m in messages), "the JSON escape of `##[` reads back as the text itself"
    assert "##[" not in out["json"] and "##[" not in out["input"] and "##[" not in out["sarif"]
