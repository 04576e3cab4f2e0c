package gate.secrets_test

import rego.v1

import data.gate.fixtures_test as fx
import data.gate.secrets

gitleaks(o) := fx.finding(object.union(
	{
		"id": "s0000001",
		"tool": "gitleaks",
		"rule_id": "aws-access-token",
		"rule_name": null,
		"kind": "secret",
		"severity": "unknown",
		"confidence": "unknown",
		"message": "aws-access-token has detected secret for file config.py: AKIAIOSFODNN7EXAMPLE",
		"location": {"path": "app/config.py", "start_line": 4, "end_line": 4},
		"cwe": ["CWE-798"],
	},
	o,
))

test_secret_denies_whatever_its_severity if {
	every sev in ["critical", "high", "medium", "low", "info", "unknown"] {
		d := fx.findings_doc("dev", [gitleaks({"severity": sev})])
		fx.rules(secrets.deny) == {"GATE-SEC-001"} with input as d
	}
}

test_secret_message_never_quotes_the_tool_text if {
	d := fx.findings_doc("default", [gitleaks({})])
	vs := secrets.deny with input as d
	some v in vs
	v.msg == "gitleaks aws-access-token at app/config.py:4: possible credential in the repository"
	not contains(v.msg, "AKIA")
	not contains(v.remediation, "AKIA")
	v.evidence.findings == ["s0000001"]
}

test_secret_in_baseline_still_denies if {
	d := fx.findings_doc("dev", [gitleaks({"baseline": "existing"})])
	fx.rules(secrets.deny) == {"GATE-SEC-001"} with input as d
}

# Attack (issue 14): a cloud key in app/conftest.py, test code by the shipped globs of the time,
# only warned (GATE-SEC-002). Secrets block wherever they are.
test_secret_in_test_code_denies if {
	d := fx.findings_doc("prod", [gitleaks({"test_code": true, "location": {"path": "app/conftest.py", "start_line": 3, "end_line": 3}})])
	fx.rules(secrets.deny) == {"GATE-SEC-001"} with input as d
	count(secrets.warn) == 0 with input as d
}

# Variant: the data's always_block list is not what makes secrets block: emptied, they still do.
test_secret_in_test_code_denies_whatever_the_always_block_data if {
	d := fx.findings_doc("default", [gitleaks({"test_code": true})])
	fx.rules(secrets.deny) == {"GATE-SEC-001"} with input as d with data.config.test_code as {}
}

test_waived_secret_passes if {
	d := fx.findings_doc("prod", [gitleaks({"waiver": fx.waiver})])
	count(secrets.deny) == 0 with input as d
	count(secrets.warn) == 0 with input as d
}

test_inline_suppressed_secret_still_denies if {
	d := fx.findings_doc("prod", [gitleaks({"suppressed": true})])
	fx.rules(secrets.deny) == {"GATE-SEC-001"} with input as d
}

test_non_secret_findings_pass if {
	d := fx.findings_doc("prod", [fx.finding({})])
	count(secrets.deny) == 0 with input as d
}

test_secret_reported_twice_gives_one_violation if {
	a := gitleaks({"id": "s1", "duplicates": ["s2"]})
	b := gitleaks({"id": "s2", "tool": "semgrep", "rule_id": "generic.secrets.aws", "duplicates": ["s1"]})
	d := fx.findings_doc("default", [b, a])
	vs := secrets.deny with input as d
	count(vs) == 1
	some v in vs
	v.evidence.findings == ["s1", "s2"]
	endswith(v.msg, "(also reported by semgrep)")
}

b105 := fx.finding({
	"id": "h1", "rule_id": "B105", "rule_name": "hardcoded_password_string", "kind": "secret",
	"severity": "low", "confidence": "medium", "message": "Possible hardcoded password: ''",
})

test_name_based_heuristic_only_warns if {
	f := b105
	d := fx.findings_doc("prod", [f])
	count(secrets.deny) == 0 with input as d
	vs := secrets.warn with input as d
	fx.rules(vs) == {"GATE-SEC-003"}
	some v in vs
	v.msg == "heuristic: bandit B105 (hardcoded_password_string) at app/run.py:12: possible credential in the repository"
}

test_heuristic_confirmed_by_a_detector_denies if {
	a := object.union(b105, {"duplicates": ["h2"]})
	b := gitleaks({"id": "h2", "duplicates": ["h1"], "location": {"path": "app/run.py", "start_line": 12}})
	d := fx.findings_doc("default", [a, b])
	vs := secrets.deny with input as d
	count(vs) == 1
	some v in vs
	v.evidence.findings == ["h1", "h2"]
	count(secrets.warn) == 0 with input as d
}

test_heuristic_list_comes_from_data if {
	f := b105
	d := fx.findings_doc("default", [f])
	fx.rules(secrets.deny) == {"GATE-SEC-001"} with input as d with data.config.secrets.heuristic_rules as []
}

test_heuristic_in_test_code_warns_as_a_heuristic if {
	f := object.union(b105, {"test_code": true})
	d := fx.findings_doc("default", [f])
	fx.rules(secrets.warn) == {"GATE-SEC-003"} with input as d
	count(secrets.deny) == 0 with input as d
}

test_heuristic_reported_by_two_heuristic_rules_warns_once if {
	a := object.union(b105, {"duplicates": ["h2"]})
	b := object.union(b105, {"id": "h2", "rule_id": "B106", "duplicates": ["h1"]})
	d := fx.findings_doc("default", [b, a])
	count(secrets.deny) == 0 with input as d
	vs := secrets.warn with input as d
	count(vs) == 1
	some v in vs
	v.rule == "GATE-SEC-003"
	v.evidence.findings == ["h1", "h2"]
}

test_group_heuristic_needs_a_heuristic_list if {
	secrets.group_heuristic([{"tool": "bandit", "rule_id": "B105"}])
	not secrets.group_heuristic([{"tool": "bandit", "rule_id": "B105"}]) with data.config.secrets.heuristic_rules as []
}
