# Findings no other rule can judge by severity: nothing is silently dropped.
#
# - A finding whose severity is `unknown` (the tool gave none the gate could map, and the
#   profile's unknown_severity_as does not assume one for its kind) cannot be compared with a
#   threshold. It warns, and blocks where the stage profile says `unknown_severity: deny`
#   (shipped: prod), because "we could not tell how bad it is" must not ship unseen.
# - A finding of a kind no family of rules covers (`other`, and `license` findings reported by
#   scanners) warns from `thresholds.other.warn` up.
#
# Secret findings are judged without regard to severity (gate.secrets) and are left out here.
package gate.severity

import rego.v1

import data.gate.lib

unknown_severity_denies if lib.setting(["unknown_severity"], "warn") == "deny"

other := lib.setting(["thresholds", "other"], {})

other_kinds := {k | some k in object.get(other, "kinds", ["other", "license"])}

other_severities := lib.severities_from(object.get(other, "warn", "high"))

known_severities := {"critical", "high", "medium", "low", "info"}

# unknown_candidates: flaws whose severity is unknown even after the profile's assumptions. A
# finding's own known severity is a cheap first test: its group's can only be higher.
unknown_candidates := [c |
	some f in input.findings
	not object.get(f, "severity", "unknown") in known_severities
	not f.kind == "secret"
	lib.primary(f)
	c := lib.view(f)
	c.severity == "unknown"
]

other_candidates := data.gate.lib.views(other_kinds, other_severities)

strict(c) if {
	unknown_severity_denies
	not c.test_code
	c.blocking
}

description(f) := sprintf("%s at %s reported a %s finding of unknown severity: %s%s", [
	lib.rule_ref(f),
	lib.where(f),
	lib.str(f, "kind"),
	lib.one_line(object.get(f, "message", ""), 200),
	lib.also_reported(f),
])

remediation(f) := sprintf(
	"Triage finding %s and fix it, or record a waiver; to judge this tool's findings by severity, configure the tool (or its SARIF rules' security-severity) to report one.",
	[f.id],
)

# METADATA
# title: Finding of unknown severity
# description: >-
#   A finding whose severity is unknown cannot be compared with the stage thresholds; it is
#   reported as a warning rather than dropped.
# custom:
#   id: GATE-SEV-001
#   severity: medium
#   control: NIST SP 800-53 RA-5 Vulnerability monitoring and scanning (analysis of scan results)
#   remediation: Triage the finding by hand; make the tool report severities.
warn contains v if {
	some c in unknown_candidates
	not strict(c)
	v := lib.finding_violation("GATE-SEV-001", c.f, description(c.f), remediation(c.f))
}

# METADATA
# title: Finding of unknown severity in a strict stage
# description: >-
#   Where the stage profile sets `unknown_severity: deny` (shipped: prod), a finding of unknown
#   severity outside test code blocks until someone has triaged it (fixed, or waived with a
#   reason and an expiry).
# custom:
#   id: GATE-SEV-002
#   severity: high
#   control: NIST SP 800-53 RA-5 Vulnerability monitoring and scanning, RA-7 Risk response
#   remediation: Triage the finding; fix it or record a waiver with a reason and an expiry.
deny contains v if {
	some c in unknown_candidates
	strict(c)
	v := lib.finding_violation("GATE-SEV-002", c.f, description(c.f), remediation(c.f))
}

# METADATA
# title: Finding of an unclassified kind
# description: >-
#   A finding of a kind no dedicated rule judges (`thresholds.other.kinds`, shipped: other and
#   license) warns from `thresholds.other.warn` up, so a serious result of an unfamiliar tool is
#   seen.
# custom:
#   id: GATE-SEV-003
#   severity: low
#   control: NIST SP 800-53 RA-5 Vulnerability monitoring and scanning (analysis of scan results)
#   remediation: Triage the finding; fix it or record a waiver with a reason and an expiry.
warn contains v if {
	some c in other_candidates
	c.severity in other_severities
	v := lib.finding_violation(
		"GATE-SEV-003", c.f, sprintf("%s at %s [%s, severity %s]: %s%s", [
			lib.rule_ref(c.f),
			lib.where(c.f),
			lib.str(c.f, "kind"),
			c.severity,
			lib.one_line(object.get(c.f, "message", ""), 200),
			c.also,
		]),
		sprintf("Triage finding %s; fix it or record a waiver.", [c.f.id]),
	)
}
