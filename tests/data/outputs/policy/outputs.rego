package gate.outputs

import rego.v1

# Rules for the output-format tests: evidence of every kind (findings, components, scans).

# METADATA
# title: No high-severity findings
# description: A finding of high or critical severity closes the gate.
# custom:
#   id: OUT-001
#   severity: high
#   control: SA-11 Developer security testing
#   remediation: Fix the finding or accept it with a waiver.
deny contains v if {
	some f in input.findings
	f.severity in {"high", "critical"}
	f.waiver == null
	v := {"rule": "OUT-001", "msg": sprintf("%s: %s", [f.rule_id, f.message]), "evidence": {"findings": [f.id]}}
}

# METADATA
# title: Medium findings warn
# description: A medium finding is reported.
# custom:
#   id: OUT-002
#   severity: medium
#   control: SA-11 Developer security testing
#   remediation: Look at it.
warn contains v if {
	some f in input.findings
	f.severity == "medium"
	f.waiver == null
	v := {"rule": "OUT-002", "msg": sprintf("%s: %s", [f.rule_id, f.message]), "evidence": {"findings": [f.id]}}
}

# METADATA
# title: Banned components
# description: A component whose name is on the banned list closes the gate.
# custom:
#   id: OUT-003
#   severity: critical
#   control: SR-3 Supply chain controls
#   remediation: Remove the component.
deny contains v if {
	some c in input.components
	contains(lower(c.name), "evil")
	v := {"rule": "OUT-003", "msg": sprintf("banned component %s", [c.name]), "evidence": {"components": [c.purl]}}
}

# METADATA
# title: Complete scans
# description: A scan that did not complete is not evidence of safety.
# custom:
#   id: OUT-004
#   severity: high
#   control: CA-7 Continuous monitoring
#   remediation: Fix the scanner run.
deny contains v if {
	some s in input.scans
	not s.complete
	v := {"rule": "OUT-004", "msg": sprintf("incomplete scan by %s: %s", [s.tool, concat("; ", s.errors)]), "evidence": {"scans": [s.path]}}
}
