# A small policy for the governance tests: what blocks is fixed here, so the tests prove the
# gate's own semantics (waivers, VEX, baseline, expiry warnings, trusted source) and nothing else.
package gate.governance

import rego.v1

suppressing := {"not_affected", "false_positive", "resolved"}

covered(f) if f.waiver != null

covered(f) if f.vex.state in suppressing

active(f) if not covered(f)

# METADATA
# title: High-severity findings block
# description: Every active finding of high or critical severity blocks.
# custom:
#   id: GOV-HIGH
#   severity: high
#   control: TEST-1 Governance test control
#   remediation: Fix the finding, or record a waiver with a reason, an approver and an expiry.
deny contains v if {
	some f in input.findings
	f.severity in {"high", "critical"}
	active(f)
	v := {
		"rule": "GOV-HIGH",
		"msg": sprintf("%s %s", [f.tool, f.rule_id]),
		"evidence": {"findings": [f.id]},
	}
}

# METADATA
# title: Waiver about to expire
# description: A waiver within data.config.waivers.warn_before_days of its expiry warns, so it is renewed or the flaw fixed.
# custom:
#   id: GOV-WAIVER-EXPIRING
#   severity: low
#   control: TEST-2 Risk acceptance review
#   remediation: Renew the waiver (with a new approval) or fix the findings it covers.
warn contains v if {
	some w in input.waivers
	w.expiring == true
	v := {
		"rule": "GOV-WAIVER-EXPIRING",
		"msg": sprintf("waiver %s expires %s", [w.id, w.expires]),
		"evidence": {"details": [w.id]},
	}
}
