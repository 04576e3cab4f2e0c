# Risk acceptance on the record: the waivers file itself.
#
# The gate validates the waivers file in Python and applies the live waivers before evaluation
# (input.waivers carries every entry with its `expired` and `expiring` flags, judged at --time).
# These rules make the state of the register visible in every verdict: a waiver about to run out
# warns, so the team fixes the finding or renews the acceptance before the gate closes on it; an
# expired entry still in the file warns, so the register stays truthful.
package gate.governance

import rego.v1

import data.gate.lib

horizon_note := sprintf("within %d day(s)", [object.get(data.config, ["waivers", "warn_before_days"], 14)])

# METADATA
# title: Waiver about to expire
# description: >-
#   A waiver in the waivers file expires soon (within data waivers.warn_before_days of --time).
#   When it expires, the findings it covers block again: fix them or renew the acceptance, with a
#   new approval, before then.
# custom:
#   id: GATE-GOV-001
#   severity: low
#   control: "RA-3 Risk assessment: accepted risks are reviewed before they lapse"
#   remediation: Fix the covered findings, or renew the waiver with a fresh approval and a new expiry date.
warn contains v if {
	some w in input.waivers
	object.get(w, "expiring", false) == true
	object.get(w, "expired", false) == false
	v := lib.violation(
		"GATE-GOV-001",
		sprintf("waiver %s expires on %s (%s): the findings it covers will block again", [w.id, w.expires, horizon_note]),
		{"details": [sprintf("waiver %s: %s (approved by %s)", [w.id, object.get(w, "reason", ""), object.get(w, "approved_by", "")])]},
		sprintf("Fix what waiver %s covers, or renew it with a new approval before %s.", [w.id, w.expires]),
	)
}

# METADATA
# title: Expired waiver still in the waivers file
# description: >-
#   A waiver whose expiry date has passed no longer applies (the gate ignores it), but it is still
#   in the waivers file. Remove it, or renew it with a fresh approval, so the register of accepted
#   risks says what is really accepted.
# custom:
#   id: GATE-GOV-002
#   severity: low
#   control: "RA-3 Risk assessment: the register of accepted risks is kept current"
#   remediation: Delete the expired entry from the waivers file, or renew it with a fresh approval and a new expiry date.
warn contains v if {
	some w in input.waivers
	object.get(w, "expired", false) == true
	v := lib.violation(
		"GATE-GOV-002",
		sprintf("waiver %s expired on %s and no longer applies: remove or renew it", [w.id, w.expires]),
		{"details": [sprintf("waiver %s: %s (approved by %s)", [w.id, object.get(w, "reason", ""), object.get(w, "approved_by", "")])]},
		sprintf("Delete waiver %s from the waivers file, or renew it with a new approval.", [w.id]),
	)
}
