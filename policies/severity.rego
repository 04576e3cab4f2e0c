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

other_warn_at := object.get(other, "warn", "high")

unknown(f) if {
	f.kind != "secret"
	lib.severity(f) == "unknown"
}

strict(f) if {
	unknown_severity_denies
	not lib.test_code(f)
	lib.blocking(f)
}

description(f) := sprintf("%s at %s reported a %s finding of unknown severity: %s%s", [
	lib.rule_ref(f),
	lib.where(f),
	lib.text(f.kind),
	lib.one_line(f.message, 200),
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
	some f in input.findings
	unknown(f)
	lib.primary(f)
	not strict(f)
	v := lib.finding_violation("GATE-SEV-001", f, description(f), remediation(f))
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
	some f in input.findings
	unknown(f)
	lib.primary(f)
	strict(f)
	v := lib.finding_violation("GATE-SEV-002", f, description(f), remediation(f))
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
	some f in input.findings
	f.kind in other_kinds
	lib.primary(f)
	lib.at_least(lib.severity(f), other_warn_at)
	v := lib.finding_violation("GATE-SEV-003", f, sprintf("%s at %s [%s, severity %s]: %s%s", [
		lib.rule_ref(f),
		lib.where(f),
		lib.text(f.kind),
		lib.severity(f),
		lib.one_line(f.message, 200),
		lib.also_reported(f),
	]), sprintf("Triage finding %s; fix it or record a waiver.", [f.id]))
}
