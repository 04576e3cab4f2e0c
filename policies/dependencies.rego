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

# candidates: one view per vulnerability (the primary finding of its duplicate group) whose
# severity some rule of this package reports.
candidates := data.gate.lib.views({"dependency"}, reportable)

# reportable: the severities any rule of this package reports.
reportable := deny_severities | warn_severities

# lines[i]: the message of candidates[i] on one line (for all candidates at once).
lines := data.gate.lib.one_lines([object.get(c.f, "message", "") | some c in candidates], 160)

fixed_versions(f) := [x | some x in f.package.fixed_versions; is_string(x)] if is_array(f.package.fixed_versions)

else := []

fixable(c) if {
	is_array(c.f.package.fixed_versions)
	some x in c.f.package.fixed_versions
	is_string(x)
}

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
version_key(x) := [number_of(n) | some n in regex.find_n(`[0-9]+`, x, -1)]

# number_of("08") = 8. A version is attacker text (an SBOM says what it likes): leading zeros are
# dropped (the embedded engine's to_number refuses "08", which failed the whole evaluation) and
# at most 15 digits are read (a longer run still orders above shorter ones).
number_of(n) := 0 if trim_left(n, "0") == ""

else := to_number(substring(trim_left(n, "0"), 0, 15))

# upgrade_target(f): the smallest fixed version above the installed one; with no installed
# version (or none above it) the smallest fixed version; of versions that order alike, the one
# listed first. Each version's key is computed once.
upgrade_target(f) := nearest(f, [[version_key(x), i, x] | some i, x in fixed_versions(f)])

nearest(f, keyed) := sort(above)[0][2] if {
	is_string(f.package.version)
	current := version_key(f.package.version)
	above := [k | some k in keyed; k[0] > current]
	count(above) > 0
} else := sort(keyed)[0][2]

# package_ref(f): "name@version" (lib.package_ref) of the package f is about.
package_ref(f) := sprintf("%s@%s", [f.package.name, f.package.version]) if {
	is_string(f.package.name)
	is_string(f.package.version)
} else := lib.package_ref(f.package) if is_object(f.package)

else := "(unnamed package)"

# also_known_as(f): " (CVE-..., GHSA-...)": the other identifiers of the vulnerability, or "".
also_known_as(f) := aliases_text(sort({x | some x in array.concat(f.cve, f.aliases); is_string(x); x != f.rule_id})) if {
	is_array(f.cve)
	is_array(f.aliases)
} else := aliases_text(sort({x | some x in array.concat(lib.arr(object.get(f, "cve", null)), lib.arr(object.get(f, "aliases", null))); is_string(x); x != f.rule_id}))

aliases_text(ids) := sprintf(" (%s)", [concat(", ", ids)]) if count(ids) > 0

else := ""

# remediation(f, pkg): upgrade to the nearest fixed version, or what to do without one.
remediation(f, pkg, rule_id) := nofix_remediation(pkg, rule_id) if f.package.fixed_versions == []

else := sprintf(
	"Upgrade %s to %s (versions with the fix: %s) and regenerate the lock file.",
	[pkg, upgrade_target(f), concat(", ", fixed)],
) if {
	fixed := fixed_versions(f)
	count(fixed) > 0
} else := nofix_remediation(pkg, rule_id)

nofix_remediation(pkg, rule_id) := sprintf(
	"No fixed version of %s is known for %s. Remove or replace the dependency, or, if the vulnerable code is not reachable, publish a VEX statement (not_affected with a justification) or record a waiver with an expiry; re-check when a fix is released.",
	[pkg, rule_id],
)

# rule_texts[c.rule]: the tool and rule id as text, once per distinct rule.
rule_texts := {k: {"tool": lib.text(k[0]), "rule_id": lib.text(k[1])} | some k in {c.rule | some c in candidates}}

# violation(id, c, line, t, prefix): line is the message of the vulnerability on one line, t
# the texts of its rule.
violation(id, c, line, t, prefix) := {
	"rule": id,
	"msg": sprintf("%s%s: %s is affected by %s%s [severity %s]: %s%s", [
		prefix,
		t.tool,
		pkg,
		t.rule_id,
		also_known_as(f),
		c.severity,
		line,
		c.also,
	]),
	"evidence": {"findings": c.ids, "components": [], "scans": [], "details": []},
	"remediation": remediation(f, pkg, t.rule_id),
} if {
	f := c.f
	pkg := package_ref(f)
}

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
	cs := candidates
	ls := lines
	rt := rule_texts
	sevs := deny_severities
	some i, c in cs
	c.severity in sevs
	c.blocking
	fixable(c)
	v := violation("GATE-DEP-001", c, ls[i], rt[c.rule], "")
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
	block_unfixable
	cs := candidates
	ls := lines
	rt := rule_texts
	sevs := deny_severities
	some i, c in cs
	c.severity in sevs
	c.blocking
	not fixable(c)
	v := violation("GATE-DEP-002", c, ls[i], rt[c.rule], "")
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
	not block_unfixable
	cs := candidates
	ls := lines
	rt := rule_texts
	sevs := deny_severities
	some i, c in cs
	c.severity in sevs
	not fixable(c)
	v := violation("GATE-DEP-003", c, ls[i], rt[c.rule], "")
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
	cs := candidates
	ls := lines
	rt := rule_texts
	sevs := deny_severities
	warns := warn_severities
	some i, c in cs
	not c.severity in sevs
	c.severity in warns
	v := violation("GATE-DEP-004", c, ls[i], rt[c.rule], "")
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
	cs := candidates
	ls := lines
	rt := rule_texts
	some i, c in cs
	not c.blocking
	would_deny(c)
	v := violation("GATE-DEP-005", c, ls[i], rt[c.rule], "existing (baseline): ")
}
