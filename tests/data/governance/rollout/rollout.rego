# Gradual rollout and stage-bound rules, for the governance tests.
package gate.rollout

import rego.v1

# METADATA
# title: Shell injection blocks (new rule)
# description: Introduced on 2026-09-01; before that day it only warns, saying from when it blocks.
# custom:
#   id: ROLL-NEW
#   severity: high
#   control: TEST-3 Gradual rollout
#   remediation: Pass the command as a list, without shell=True.
#   effective_on: 2026-09-01
deny contains v if {
	some f in input.findings
	f.rule_id == "B602"
	v := {"rule": "ROLL-NEW", "msg": sprintf("shell=True at line %d", [f.location.start_line]), "evidence": {"findings": [f.id]}}
}

# METADATA
# title: Weak hash (established rule)
# description: Effective long ago; blocks.
# custom:
#   id: ROLL-OLD
#   severity: high
#   control: TEST-3 Gradual rollout
#   remediation: Use SHA-256, or usedforsecurity=False where the hash is not a security control.
#   effective_on: 2020-01-01
deny contains v if {
	some f in input.findings
	f.rule_id == "B324"
	v := {"rule": "ROLL-OLD", "msg": "MD5", "evidence": {"findings": [f.id]}}
}

# METADATA
# title: Subprocess import (a warning with a future date)
# description: effective_on concerns denies only; a warning stays a warning.
# custom:
#   id: ROLL-WARN
#   severity: low
#   control: TEST-3 Gradual rollout
#   remediation: Review the use of subprocess.
#   effective_on: 2027-01-01
warn contains v if {
	some f in input.findings
	f.rule_id == "B404"
	v := {"rule": "ROLL-WARN", "msg": "subprocess imported", "evidence": {"findings": [f.id]}}
}

# METADATA
# title: Hard-coded password (production only)
# description: Applies in the prod stage only (custom.stages).
# custom:
#   id: ROLL-PROD
#   severity: high
#   control: TEST-4 Stage-bound rules
#   remediation: Load the password from a secret store.
#   stages: [prod]
deny contains v if {
	some f in input.findings
	f.rule_id == "B105"
	v := {"rule": "ROLL-PROD", "msg": "hard-coded password", "evidence": {"findings": [f.id]}}
}
