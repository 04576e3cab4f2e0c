# Known vulnerabilities in third-party dependencies (pip-audit, CycloneDX vulnerabilities, grype,
# trivy, osv-scanner, snyk: findings of kind `dependency`).
#
# Decision table (thresholds from data.config.stages.<stage>.thresholds.dependency):
#
#   severity >= deny, a fixed version exists          -> deny  GATE-DEP-001 (upgrade)
#   severity >= deny, no fix, block_unfixable: true    -> deny  GATE-DEP-002 (prod: a known
#                                                        serious vulnerability ships only with an
#                                                        explicit, expiring risk acceptance:
#                                                        a waiver, or a VEX not_affected statement)
#   severity >= deny, no fix, block_unfixable: false   -> warn  GATE-DEP-003 (nothing the team
#                                                        can do today; blocking would only train
#                                                        people to waive blindly)
#   warn <= severity < deny                            -> warn  GATE-DEP-004
#   would deny but already in the baseline (only with new_findings_only) -> warn GATE-DEP-005
#
# pip-audit reports no severity: profile.unknown_severity_as.dependency (shipped: high) decides
# how such a finding is judged, so it is never dropped.
package gate.dependencies

import rego.v1

import data.gate.lib

thresholds := lib.setting(["thresholds", "dependency"], {})

deny_severities := lib.severities_from(object.get(thresholds, "deny", "high"))

warn_severities := lib.severities_from(object.get(thresholds, "warn", "medium"))

block_unfixable if lib.setting(["block_unfixable"], false) == true

# candidates: one view per vulnerability (the primary finding of its duplicate group).
candidates := [lib.view(f) |
	some f in input.findings
	f.kind == "dependency"
	lib.may_reach(f, reportable)
	lib.primary(f)
]

# reportable: the severities any rule of this package reports.
reportable := deny_severities | warn_severities

fixed_versions(f) := [x | some x in f.package.fixed_versions; is_string(x)] if is_array(f.package.fixed_versions)

else := []

fixable(c) if count(fixed_versions(c.f)) > 0

severe(c) if c.severity in deny_severities

# would_deny(c): what blocks before the baseline is considered.
would_deny(c) if {
	severe(c)
	fixable(c)
}

would_deny(c) if {
	severe(c)
	not fixable(c)
	block_unfixable
}

# version_key("2.11.3") = [2, 11, 3]: a best-effort ordering of version strings (numeric parts
# only; pre-release tags are ignored), used only to suggest the nearest fixed version.
version_key(x) := [to_number(n) | some n in regex.find_n(`[0-9]+`, x, -1)]

# upgrade_target(f): the smallest fixed version above the installed one; with no installed
# version (or none above it) the smallest fixed version.
upgrade_target(f) := t if {
	is_string(f.package.version)
	current := version_key(f.package.version)
	above := [x | some x in fixed_versions(f); version_key(x) > current]
	count(above) > 0
	t := smallest(above)
} else := smallest(fixed_versions(f))

smallest(xs) := [x | some x in xs; every y in xs { version_key(x) <= version_key(y) }][0]

package_ref(f) := lib.package_ref(f.package) if is_object(f.package)

else := "(unnamed package)"

also_known_as(f) := sprintf(" (%s)", [concat(", ", ids)]) if {
	ids := sort({x | some x in array.concat(lib.arr(object.get(f, "cve", null)), lib.arr(object.get(f, "aliases", null))); is_string(x); x != f.rule_id})
	count(ids) > 0
} else := ""

description(c) := sprintf("%s: %s is affected by %s%s [severity %s]: %s%s", [
	lib.str(c.f, "tool"),
	package_ref(c.f),
	lib.str(c.f, "rule_id"),
	also_known_as(c.f),
	c.severity,
	lib.one_line(object.get(c.f, "message", ""), 160),
	lib.also_reported(c.f),
])

fix_remediation(f) := sprintf(
	"Upgrade %s to %s (versions with the fix: %s) and regenerate the lock file.",
	[package_ref(f), upgrade_target(f), concat(", ", fixed_versions(f))],
)

nofix_remediation(f) := sprintf(
	"No fixed version of %s is known for %s. Remove or replace the dependency, or, if the vulnerable code is not reachable, publish a VEX statement (not_affected with a justification) or record a waiver with an expiry; re-check when a fix is released.",
	[package_ref(f), lib.str(f, "rule_id")],
)

remediation(c) := fix_remediation(c.f) if fixable(c)

else := nofix_remediation(c.f)

violation(id, c, prefix) := lib.finding_violation(id, c.f, concat("", [prefix, description(c)]), remediation(c))

# METADATA
# title: Vulnerable dependency with a fix available
# description: >-
#   A dependency vulnerability at or above the stage profile's `thresholds.dependency.deny`
#   for which a fixed version exists blocks: the fix is an upgrade away.
# custom:
#   id: GATE-DEP-001
#   severity: high
#   control: NIST SP 800-53 RA-5 Vulnerability monitoring and scanning, SI-2 Flaw remediation; SSDF PW.4.4, RV.1.1
#   remediation: Upgrade the dependency to the fixed version named in the message and regenerate the lock file.
deny contains v if {
	some c in candidates
	severe(c)
	fixable(c)
	c.blocking
	v := violation("GATE-DEP-001", c, "")
}

# METADATA
# title: Vulnerable dependency without a fix (strict stage)
# description: >-
#   Where the stage profile sets `block_unfixable: true` (shipped: prod), a dependency
#   vulnerability at or above the deny threshold blocks even when no fixed version exists: it
#   ships only with an explicit, expiring risk acceptance (a waiver, or a VEX statement that the
#   product is not affected).
# custom:
#   id: GATE-DEP-002
#   severity: high
#   control: NIST SP 800-53 RA-5 Vulnerability monitoring and scanning, RA-7 Risk response; SSDF RV.2.2
#   remediation: >-
#     Replace or remove the dependency, publish a VEX not_affected statement with its
#     justification, or record a waiver with an expiry.
deny contains v if {
	some c in candidates
	severe(c)
	not fixable(c)
	block_unfixable
	c.blocking
	v := violation("GATE-DEP-002", c, "")
}

# METADATA
# title: Vulnerable dependency without a fix
# description: >-
#   A dependency vulnerability at or above the deny threshold with no fixed version warns where
#   the stage profile does not block unfixable vulnerabilities: nothing can be upgraded today,
#   and the warning keeps it on the team's list.
# custom:
#   id: GATE-DEP-003
#   severity: medium
#   control: NIST SP 800-53 RA-5 Vulnerability monitoring and scanning; SSDF RV.1.1
#   remediation: Track the advisory; assess reachability; replace the dependency if no fix comes.
warn contains v if {
	some c in candidates
	severe(c)
	not fixable(c)
	not block_unfixable
	v := violation("GATE-DEP-003", c, "")
}

# METADATA
# title: Vulnerable dependency below the blocking threshold
# description: >-
#   A dependency vulnerability at or above `thresholds.dependency.warn` but below the deny
#   threshold warns.
# custom:
#   id: GATE-DEP-004
#   severity: low
#   control: NIST SP 800-53 RA-5 Vulnerability monitoring and scanning, SI-2 Flaw remediation
#   remediation: Upgrade when convenient (the message names the fixed version where one exists).
warn contains v if {
	some c in candidates
	not severe(c)
	c.severity in warn_severities
	v := violation("GATE-DEP-004", c, "")
}

# METADATA
# title: Pre-existing vulnerable dependency (baseline)
# description: >-
#   With `new_findings_only` in the stage profile, a dependency vulnerability that would block
#   but is already in the baseline warns instead; it blocks in stages that judge all findings.
# custom:
#   id: GATE-DEP-005
#   severity: medium
#   control: NIST SP 800-53 RA-5 Vulnerability monitoring and scanning, SI-2 Flaw remediation
#   remediation: Plan the upgrade before the change reaches a stage that judges all findings.
warn contains v if {
	some c in candidates
	would_deny(c)
	not c.blocking
	v := violation("GATE-DEP-005", c, "existing (baseline): ")
}
