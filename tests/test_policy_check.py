"""`gate policy check`: the shipped pack is clean; every kind of break is reported with its place."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema_rs
import pytest

from gate.authoring.check import check_policy, decision_heads, empty_input, sample_input
from tests.authoring_helpers import append, copy_pack, first_deny, remove_metadata_key, rename_metadata_key, rules_of
from tests.conftest import POLICIES, REPO, run_gate

DATA_SCHEMA = REPO / "gate" / "schemas" / "data.schema.json"


@pytest.mark.slow
def test_shipped_pack_is_clean_and_every_rule_is_listed() -> None:
    res = run_gate(["policy", "check", str(POLICIES)])
    assert res.exit_code == 0, res.stderr
    assert "no problems" in res.stdout
    rules = rules_of(POLICIES)
    assert rules, "the shipped pack has annotated rules"
    for m in rules:
        # id, decision, severity, title and file:line on one line
        row = next(line for line in res.stdout.splitlines() if re.search(rf"\b{re.escape(m.id)}\b", line))
        assert m.decision in row and m.severity in row and m.title[:30] in row
        assert row.rstrip().endswith(f"{m.file}:{m.line}")
    assert res.stderr.count("error") == 0


@pytest.mark.slow
def test_shipped_pack_json_report() -> None:
    res = run_gate(["policy", "check", str(POLICIES), "--format", "json"])
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert doc["problems"] == [] and doc["exit_code"] == 0
    assert {r["id"] for r in doc["rules"]} == {m.id for m in rules_of(POLICIES)}
    assert all(p.endswith(".rego") for p in doc["modules"])
    assert doc["digest"].startswith("sha256:")


@pytest.mark.slow
def test_every_decision_rule_of_the_pack_has_metadata() -> None:
    """The AST finds the same deny/warn rules as the METADATA index: none is unannotated."""
    report = check_policy(POLICIES)
    annotated = {(m.file, m.line) for m in report.rules}
    from gate.engine.embedded import build

    for path in report.modules:
        text = Path(path).read_text(encoding="utf-8")
        ast = json.loads(build([(path, text)], "{}", None).get_ast_as_json())
        heads = decision_heads(ast[0]["ast"]["rules"])
        assert {(path, line) for _, line, _ in heads} <= annotated


@pytest.mark.slow
def test_syntax_errors_in_two_files_are_both_reported_with_line_column_and_caret(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    modules = sorted(p for p in pack.rglob("*.rego") if not p.name.endswith("_test.rego"))
    a, b = modules[0], modules[-1]
    line_a = append(a, "this is not rego\n")
    line_b = append(b, "broken if {\n\tx := [1, 2\n}\n")
    res = run_gate(["policy", "check", str(pack)])
    assert res.exit_code == 4
    assert f"{a}:{line_a}:1: compile error:" in res.stderr
    assert re.search(rf"{re.escape(str(b))}:{line_b + 1}:\d+: compile error:", res.stderr)
    # The offending line is shown, with a caret under it.
    assert "this is not rego" in res.stderr and "x := [1, 2" in res.stderr
    assert re.search(r"^\s+\|\s*\^", res.stderr, re.MULTILINE)


@pytest.mark.slow
def test_unknown_function_is_found_by_the_trial_evaluations(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    target = Path(first_deny(pack).file)
    # Reached only when there are findings: the sample run finds it, an empty one would not.
    line = append(target, "gate_check_probe contains x if {\n\tsome f in input.findings\n\tx := nosuch_function(f.id)\n}\n")
    res = run_gate(["policy", "check", str(pack)])
    assert res.exit_code == 4
    assert re.search(
        rf"{re.escape(str(target))}:{line + 2}:\d+: compile error: could not find function nosuch_function "
        r"\(found evaluating every rule on a sample input at stage \w+\)",
        res.stderr,
    ), res.stderr


@pytest.mark.parametrize("stage", ["default", "prod"])
def test_sample_input_is_a_valid_input_document(stage: str) -> None:
    schema = json.loads((REPO / "gate" / "schemas" / "input.schema.json").read_text(encoding="utf-8"))
    doc = sample_input(stage)
    jsonschema_rs.validate(schema, doc)
    jsonschema_rs.validate(schema, empty_input(stage))
    assert {f["kind"] for f in doc["findings"]} == {"sast", "dependency", "secret", "iac", "license", "other"}


@pytest.mark.slow
def test_missing_metadata_key_is_reported_at_the_rule(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    rule = first_deny(pack)
    new_line = remove_metadata_key(Path(rule.file), rule.line, "severity")
    res = run_gate(["policy", "check", str(pack)])
    assert res.exit_code == 4
    assert f"{rule.file}:{new_line}: METADATA error: METADATA lacks custom.severity" in res.stderr


@pytest.mark.slow
def test_misspelt_metadata_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    rule = first_deny(pack)
    rename_metadata_key(Path(rule.file), rule.line, "remediation", "remediaton")
    res = run_gate(["policy", "check", str(pack)])
    assert res.exit_code == 4
    assert "custom.remediaton is not known: did you mean custom.remediation?" in res.stderr
    assert "lacks custom.remediation" in res.stderr


@pytest.mark.slow
def test_rule_without_metadata_and_bad_stage_name(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    target = Path(first_deny(pack).file)
    bare = append(
        target, '\nwarn contains v if {\n\tsome f in input.findings\n\tf.kind == "nothing-real"\n\tv := {"rule": "X", "msg": "x"}\n}\n'
    )
    annotated = append(
        target,
        "\n# METADATA\n# title: Probe\n# description: A probe.\n# custom:\n#   id: GATE-PROBE-001\n#   severity: low\n"
        "#   control: probe\n#   remediation: none\n#   stages: [nosuchstage]\n"
        'warn contains v if {\n\tsome f in input.findings\n\tf.kind == "nothing-real"\n\tv := {"rule": "GATE-PROBE-001", "msg": "x"}\n}\n',
    )
    res = run_gate(["policy", "check", str(pack)])
    assert res.exit_code == 4
    assert f"{target}:{bare + 1}:1: METADATA error: `warn` rule has no # METADATA block right above it" in res.stderr
    assert f"{target}:{annotated + 1}: METADATA error: custom.stages names nosuchstage" in res.stderr


@pytest.mark.slow
def test_forbidden_builtins_are_all_reported(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    target = Path(first_deny(pack).file)
    line = append(
        target, 'gate_probe_a := http.send({"method": "GET", "url": "https://example.invalid"})\n\ngate_probe_b := opa.runtime().env\n'
    )
    res = run_gate(["policy", "check", str(pack)])
    assert res.exit_code == 4
    # `gate_probe_a := ` is 16 characters: the call starts in column 17.
    assert f"{target}:{line}:17: forbidden builtin: http.send: it reaches the network" in res.stderr
    assert f"{target}:{line + 2}:17: forbidden builtin: opa.runtime:" in res.stderr


def _first_data_file(pack: Path) -> Path:
    files = sorted((pack / "config").glob("*.y*ml"))
    assert files, "the shipped pack has YAML data files"
    return files[0]


@pytest.mark.slow
def test_data_file_syntax_error_exits_2_with_its_position(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    data = _first_data_file(pack)
    line = append(data, "broken: [unclosed\n")
    res = run_gate(["policy", "check", str(pack)])
    assert res.exit_code == 2, res.stderr
    assert re.search(rf"{re.escape(str(data))}:{line}:\d+: data error: invalid YAML", res.stderr) or re.search(
        rf"{re.escape(str(data))}:{line + 1}:\d+: data error: invalid YAML", res.stderr
    ), res.stderr
    # The rules are still listed: one broken data file does not hide the rest of the check.
    assert first_deny(POLICIES).id in res.stdout


@pytest.mark.slow
@pytest.mark.skipif(not DATA_SCHEMA.is_file(), reason="gate/schemas/data.schema.json is not written yet")
def test_data_schema_violation_is_located_in_the_file_that_set_it(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    extra = pack / "config" / "zz-override.yaml"
    extra.write_text("# a new stage with a typo\nstages:\n  qa:\n    fail_on: maybe\n", encoding="utf-8")
    res = run_gate(["policy", "check", str(pack)])
    assert res.exit_code == 2, res.stderr
    assert re.search(rf"{re.escape(str(extra))}:4:\d+: data error: invalid policy data at stages/qa/fail_on", res.stderr), res.stderr


@pytest.mark.slow
def test_policy_problems_win_over_data_problems(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    target = Path(first_deny(pack).file)
    append(_first_data_file(pack), "broken: [unclosed\n")
    append(target, "this is not rego\n")
    res = run_gate(["policy", "check", str(pack)])
    assert res.exit_code == 4
    assert "data error" in res.stderr and "compile error" in res.stderr


def test_missing_folder_is_a_policy_error(tmp_path: Path) -> None:
    res = run_gate(["policy", "check", str(tmp_path / "nowhere")])
    assert res.exit_code == 4
    assert "policy folder not found" in res.stderr
