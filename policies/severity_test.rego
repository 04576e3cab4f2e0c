package gate.severity_test

import rego.v1

import data.gate.fixtures_test as fx
import data.gate.severity

unknown_sast := fx.finding({"severity": "unknown", "tool": "semgrep", "rule_id": "custom.rule", "rule_name": null})

test_unknown_severity_warns_by_default if {
	f := unknown_sast
	d := fx.findings_doc("default", [f])
	count(severity.deny) == 0 with input as d
	vs := severity.warn with input as d
	fx.rules(vs) == {"GATE-SEV-001"}
	some v in vs
	v.msg == "semgrep custom.rule at app/run.py:12 reported a sast finding of unknown severity: subprocess call with shell=True identified, security issue."
}

test_unknown_severity_denies_in_prod if {
	f := unknown_sast
	d := fx.findings_doc("prod", [f])
	fx.rules(severity.deny) == {"GATE-SEV-002"} with input as d
	count(severity.warn) == 0 with input as d
}

test_off_scale_severity_counts_as_unknown if {
	d := fx.findings_doc("prod", [fx.finding({"severity": "EXPERIMENT"})])
	fx.rules(severity.deny) == {"GATE-SEV-002"} with input as d
	e := fx.findings_doc("prod", [object.remove(fx.finding({}), ["severity"])])
	fx.rules(severity.deny) == {"GATE-SEV-002"} with input as e
}

test_unknown_severity_in_test_code_only_warns_in_prod if {
	d := fx.findings_doc("prod", [fx.finding({"severity": "unknown", "test_code": true})])
	count(severity.deny) == 0 with input as d
	fx.rules(severity.warn) == {"GATE-SEV-001"} with input as d
}

test_unknown_severity_in_baseline_only_warns_with_new_findings_only if {
	d := fx.findings_doc("dev", [fx.finding({"severity": "unknown", "baseline": "existing"})])
	fx.rules(severity.warn) == {"GATE-SEV-001"} with input as d with data.config.stages.dev.unknown_severity as "deny"
	count(severity.deny) == 0 with input as d with data.config.stages.dev.unknown_severity as "deny"
}

test_dependency_of_unknown_severity_is_judged_by_the_dependency_rules if {
	d := fx.findings_doc("prod", [fx.dependency({"severity": "unknown"})])
	count(severity.deny) == 0 with input as d
	count(severity.warn) == 0 with input as d
}

test_secret_of_unknown_severity_is_judged_by_the_secret_rules if {
	d := fx.findings_doc("prod", [fx.finding({"kind": "secret", "severity": "unknown"})])
	count(severity.deny) == 0 with input as d
	count(severity.warn) == 0 with input as d
}

test_known_severity_passes if {
	d := fx.findings_doc("prod", [fx.finding({"severity": "info"})])
	count(severity.deny) == 0 with input as d
	count(severity.warn) == 0 with input as d
}

test_waived_unknown_severity_passes if {
	d := fx.findings_doc("prod", [fx.finding({"severity": "unknown", "waiver": fx.waiver})])
	count(severity.deny) == 0 with input as d
}

test_group_with_a_known_severity_is_not_unknown if {
	a := fx.finding({"id": "a1", "severity": "unknown", "duplicates": ["b2"]})
	b := fx.finding({"id": "b2", "severity": "low", "duplicates": ["a1"], "tool": "semgrep"})
	d := fx.findings_doc("prod", [a, b])
	count(severity.deny) == 0 with input as d
	count(severity.warn) == 0 with input as d
}

test_group_of_unknowns_gives_one_violation if {
	a := fx.finding({"id": "a1", "severity": "unknown", "duplicates": ["b2"]})
	b := fx.finding({"id": "b2", "severity": "unknown", "duplicates": ["a1"], "tool": "semgrep"})
	d := fx.findings_doc("prod", [b, a])
	vs := severity.deny with input as d
	count(vs) == 1
	some v in vs
	v.evidence.findings == ["a1", "b2"]
}

test_unclassified_high_finding_warns if {
	d := fx.findings_doc("prod", [fx.finding({"kind": "other", "tool": "eslint", "rule_id": "no-eval"})])
	vs := severity.warn with input as d
	fx.rules(vs) == {"GATE-SEV-003"}
	some v in vs
	startswith(v.msg, "eslint no-eval (subprocess_popen_with_shell_equals_true) at app/run.py:12 [other, severity high]")
	count(severity.deny) == 0 with input as d
}

test_licence_finding_from_a_scanner_warns if {
	d := fx.findings_doc("default", [fx.finding({"kind": "license", "severity": "critical"})])
	fx.rules(severity.warn) == {"GATE-SEV-003"} with input as d
}

test_unclassified_medium_finding_passes if {
	d := fx.findings_doc("default", [fx.finding({"kind": "other", "severity": "medium"})])
	count(severity.warn) == 0 with input as d
}
