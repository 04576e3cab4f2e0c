package gate.injection_test

import rego.v1

import data.gate.injection

cfg := {"injection": {"cwes": ["CWE-78", "CWE-89"], "deny_at": "medium"}}

finding(cwe, severity) := {
	"id": "f1",
	"tool": "bandit",
	"rule_id": "B602",
	"rule_name": "subprocess_popen_with_shell_equals_true",
	"kind": "sast",
	"severity": severity,
	"confidence": "high",
	"message": "subprocess call with shell=True",
	"location": {"path": "src/app.py", "start_line": 3, "end_line": 3},
	"cwe": [cwe],
	"duplicates": [],
	"test_code": false,
	"baseline": "unknown",
	"suppressed": false,
	"waiver": null,
	"vex": null,
}

test_medium_command_injection_denies if {
	some v in injection.deny with input as {"findings": [finding("CWE-78", "medium")]} with data.config as cfg
	v.rule == "GATE-INJ-001"
	v.evidence.findings == ["f1"]
	contains(v.msg, "src/app.py:3")
}

test_below_the_threshold_does_not_deny if {
	count(injection.deny) == 0 with input as {"findings": [finding("CWE-78", "low")]} with data.config as cfg
}

test_other_cwe_does_not_deny if {
	count(injection.deny) == 0 with input as {"findings": [finding("CWE-327", "high")]} with data.config as cfg
}

test_test_code_does_not_deny if {
	f := object.union(finding("CWE-89", "high"), {"test_code": true})
	count(injection.deny) == 0 with input as {"findings": [f]} with data.config as cfg
}

test_waived_finding_does_not_deny if {
	f := object.union(finding("CWE-78", "high"), {"waiver": {"id": "W-2026-001"}})
	count(injection.deny) == 0 with input as {"findings": [f]} with data.config as cfg
}
