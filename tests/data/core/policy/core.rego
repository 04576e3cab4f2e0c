package gate.core

import rego.v1

# METADATA
# title: No high-severity findings
# description: A finding of high or critical severity closes the gate.
# custom:
#   id: CORE-001
#   severity: high
#   control: test control
#   remediation: Fix the finding.
deny contains v if {
	some f in input.findings
	f.severity in {"high", "critical"}
	v := {"rule": "CORE-001", "msg": sprintf("%s: %s", [f.rule_id, f.message]), "evidence": {"findings": [f.id]}}
}

# METADATA
# title: Medium findings warn
# description: A medium finding is a warning.
# custom:
#   id: CORE-002
#   severity: medium
#   control: test control
#   remediation: Look at it.
warn contains v if {
	some f in input.findings
	f.severity == "medium"
	v := {"rule": "CORE-002", "msg": sprintf("%s: %s", [f.rule_id, f.message]), "evidence": {"findings": [f.id]}}
}
