# Injection flaws (command, SQL, code injection) block from a lower severity than other
# static-analysis findings: a scanner's "medium" on a shell command built from user input is
# still exploitable. Which CWEs count and from which severity is data
# (policies/config/injection.yaml), so the security officer tunes it without touching Rego.
package gate.injection

import rego.v1

import data.gate.lib

cwes := {c | some c in object.get(lib.cfg, ["injection", "cwes"], [])}

deny_at := object.get(lib.cfg, ["injection", "deny_at"], "medium")

# matched(f): the injection CWEs the finding is tagged with, sorted.
matched(f) := sort([c | some c in lib.arr(f.cwe); c in cwes])

# METADATA
# title: Injection flaw at or above the injection threshold
# description: >-
#   A static-analysis finding in production code tagged with one of the CWEs listed in
#   `injection.cwes` blocks from the severity `injection.deny_at` up, even below the general
#   SAST threshold: injection is exploitable whatever severity the scanner gives it.
# custom:
#   id: GATE-INJ-001
#   severity: high
#   control: NIST SP 800-53 SI-10 Information input validation
#   remediation: >-
#     Pass untrusted data as parameters (parameterised queries, argument lists without a
#     shell), never by building strings; or record a waiver with reason, approver and expiry.
#   effective_on: 2027-01-01
deny contains v if {
	some f in input.findings
	f.kind == "sast"
	not lib.in_test_code(f)
	lib.primary(f)
	count(matched(f)) > 0
	lib.at_least(lib.severity(f), deny_at)
	msg := sprintf("%s at %s: injection flaw (%s)", [lib.rule_ref(f), lib.where(f), concat(", ", matched(f))])
	v := lib.finding_violation("GATE-INJ-001", f, msg, "")
}
