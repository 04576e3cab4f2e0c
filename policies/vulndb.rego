# The vulnerability database is evidence too: how old it is and what it could not judge.
#
# `gate evaluate`/`gate run` match every SBOM component against a local OSV database (gate
# vulndb) and describe it in input.vulndb: status (ok | missing | not_used), sha256, source,
# records, age_days (days from its newest record to the run's time) and unmatched[] (components
# with no purl or version, a version their ecosystem cannot order, or an ecosystem the database
# lacks: never taken as safe). The stage profile's `vulndb` object decides (stages.yaml):
#
#   age_days > max_age_days, stale: deny            -> deny GATE-VULNDB-001
#   age_days > max_age_days, stale: warn            -> warn GATE-VULNDB-002
#   unmatched components, unmatched: deny           -> deny GATE-VULNDB-003
#   unmatched components, unmatched: warn           -> warn GATE-VULNDB-004
#
# A stage that requires dependency evidence and has no database gets an incomplete gate-vulndb
# scan (GATE-SCAN-001, naming `gate vulndb update`).
package gate.vulndb

import rego.v1

import data.gate.lib

settings := s if {
	s := lib.setting(["vulndb"], {})
	is_object(s)
} else := {}

max_age := n if {
	n := settings.max_age_days
	is_number(n)
} else := 7

stale_action := object.get(settings, "stale", "warn")

unmatched_action := object.get(settings, "unmatched", "warn")

db := d if {
	d := input.vulndb
	is_object(d)
	d.status == "ok"
}

stale if db.age_days > max_age

db_ref := sprintf("%s (%s, %d records)", [lib.text(db.source), lib.text(db.sha256), db.records]) if is_number(db.records)

else := sprintf("%s (%s)", [lib.text(db.source), lib.text(db.sha256)])

stale_msg := sprintf("the vulnerability database is %d days old (its newest record: %s), older than the %d days stage %s accepts: %s", [
	db.age_days,
	lib.text(db.newest_record),
	max_age,
	lib.stage,
	db_ref,
])

stale_evidence := {"scans": [lib.text(db.index)], "details": [
	sprintf("age_days: %d", [db.age_days]),
	sprintf("max_age_days: %d", [max_age]),
	sprintf("fetched: %s", [lib.text(db.fetched)]),
]}

fix := "Refresh it (gate vulndb update; the Action's weekly cache does it) and run the gate again."

# METADATA
# title: Stale vulnerability database
# description: >-
#   Where the stage profile says `vulndb.stale: deny` (shipped: prod), a vulnerability database
#   older than `vulndb.max_age_days` blocks: advisories published since it was built are missing,
#   so "no vulnerable dependency" would be a claim about the past.
# custom:
#   id: GATE-VULNDB-001
#   severity: high
#   control: NIST SP 800-53 RA-5(2) Update vulnerabilities to be scanned; SSDF RV.1.1
#   remediation: Refresh the database (gate vulndb update) and run the gate again.
deny contains v if {
	stale
	stale_action == "deny"
	v := lib.violation("GATE-VULNDB-001", stale_msg, stale_evidence, fix)
}

# METADATA
# title: Vulnerability database getting old
# description: >-
#   A vulnerability database older than the stage's `vulndb.max_age_days` warns where the stage
#   profile says `vulndb.stale: warn` (shipped: every stage but prod).
# custom:
#   id: GATE-VULNDB-002
#   severity: medium
#   control: NIST SP 800-53 RA-5(2) Update vulnerabilities to be scanned
#   remediation: Refresh the database (gate vulndb update).
warn contains v if {
	stale
	stale_action == "warn"
	v := lib.violation("GATE-VULNDB-002", stale_msg, stale_evidence, fix)
}

max_details := 50

unmatched := [u | some u in lib.arr(object.get(db, "unmatched", null)); is_object(u)]

unmatched_ref(u) := lib.one_line(sprintf("%s: %s", [lib.component_ref(u), lib.str(u, "reason")]), 300)

unmatched_refs := [unmatched_ref(u) | some u in unmatched]

unmatched_details := refs if {
	refs := unmatched_refs
	count(refs) <= max_details
} else := array.concat(array.slice(unmatched_refs, 0, max_details), [sprintf("... and %d more", [count(unmatched_refs) - max_details])])

unmatched_msg := sprintf("%d SBOM component(s) could not be matched against the vulnerability database, so their vulnerabilities are unknown: %s", [
	count(unmatched),
	lib.one_line(concat("; ", array.slice(unmatched_refs, 0, 3)), 300),
])

unmatched_evidence := {
	"components": sort({lib.component_ref(u) | some u in unmatched}),
	"details": unmatched_details,
}

unmatched_fix := "Give every component a purl with an exact version its ecosystem can order (regenerate the SBOM from a lock file), or build the database with its ecosystem (gate vulndb update --ecosystem NAME)."

# METADATA
# title: SBOM components the vulnerability database cannot judge
# description: >-
#   Where the stage profile says `vulndb.unmatched: deny` (shipped: prod), SBOM components that
#   cannot be matched (no purl, no version, a version their ecosystem cannot order, an ecosystem
#   the database lacks) block: an unknown is not a pass.
# custom:
#   id: GATE-VULNDB-003
#   severity: high
#   control: NIST SP 800-53 RA-5 Vulnerability monitoring and scanning, CM-8 System component inventory; SSDF PS.3.2
#   remediation: >-
#     Pin every component to an exact version with a purl (regenerate the SBOM from a lock file),
#     or build the database with the component's ecosystem.
deny contains v if {
	count(unmatched) > 0
	unmatched_action == "deny"
	v := lib.violation("GATE-VULNDB-003", unmatched_msg, unmatched_evidence, unmatched_fix)
}

# METADATA
# title: SBOM components not matched against the vulnerability database
# description: >-
#   SBOM components that cannot be matched warn where the stage profile says
#   `vulndb.unmatched: warn` (shipped: every stage but prod): they are listed, never taken as safe.
# custom:
#   id: GATE-VULNDB-004
#   severity: medium
#   control: NIST SP 800-53 RA-5 Vulnerability monitoring and scanning, CM-8 System component inventory
#   remediation: Pin every component to an exact version with a purl, or build the database with its ecosystem.
warn contains v if {
	count(unmatched) > 0
	unmatched_action == "warn"
	v := lib.violation("GATE-VULNDB-004", unmatched_msg, unmatched_evidence, unmatched_fix)
}

# --- Declared version ranges (issue 17) ---------------------------------------------------------
#
# A library's SBOM lists its declared dependencies (`urllib3>=1.26,<3`), not versions: the gate
# matches the range itself (input.vulndb.ranges, gate.vulndb.match._judge_range). A range none
# of whose versions is affected is matched and clean. A range every admitted version of which
# an advisory affects blocks in every stage, as a pinned vulnerable version does (GATE-VULNDB-005,
# at the dependency deny threshold). A range that admits affected and fixed versions follows the
# stage's `vulndb.ranges`: deny in prod (an application that swaps a vulnerable pin for a range
# is still blocked: it must pin or raise the bound), warn elsewhere and in the `library` profile
# that the trusted CI configuration picks for a library (whoever installs it resolves the range).

ranges_action := object.get(settings, "ranges", "warn")

ranges := [r | some r in lib.arr(object.get(db, "ranges", null)); is_object(r); is_array(r.advisories)]

dependency_deny := lib.severities_from(lib.setting(["thresholds", "dependency", "deny"], "high"))

assumed_severity := lib.setting(["unknown_severity_as", "dependency"], "high")

advisory_severity(a) := assumed_severity if a.severity == "unknown"

else := a.severity

# fully_affected(r): an advisory at the deny threshold affects every version r admits.
fully_affected(r) if {
	some a in r.advisories
	a.every_version == true
	advisory_severity(a) in dependency_deny
}

advisory_ids(r) := concat(", ", [lib.text(a.id) | some a in r.advisories])

range_ref(r) := sprintf("%s %s", [lib.component_ref(r), lib.text(r.range)])

raise_text(r) := sprintf("raise the lower bound to %s", [r.raise_to]) if is_string(r.raise_to)

else := "no fixed version covers every advisory: pin a version, or record the accepted risk"

range_detail(r) := lib.one_line(sprintf("%s admits versions affected by %s: %s", [range_ref(r), advisory_ids(r), raise_text(r)]), 400)

# METADATA
# title: Dependency range whose every version is vulnerable
# description: >-
#   A component without a version (a library's declared dependency) whose range admits only
#   versions that an advisory at the dependency deny threshold affects blocks in every stage,
#   as a pinned vulnerable version does (issue 17).
# custom:
#   id: GATE-VULNDB-005
#   severity: high
#   control: NIST SP 800-53 RA-5 Vulnerability monitoring and scanning, SI-2 Flaw remediation; SSDF PW.4.4
#   remediation: Raise the range's lower bound above the vulnerable versions (the message names it).
deny contains v if {
	some r in ranges
	fully_affected(r)
	v := lib.violation(
		"GATE-VULNDB-005",
		sprintf("every version the range %s admits is affected by a known vulnerability (%s)", [range_ref(r), advisory_ids(r)]),
		{"components": [lib.component_ref(r)], "details": [range_detail(r)]},
		sprintf("Change the requirement: %s.", [raise_text(r)]),
	)
}

partly := [r | some r in ranges; not fully_affected(r)]

partly_msg := sprintf("%d dependency range(s) admit versions with known vulnerabilities: %s", [
	count(partly),
	lib.one_line(concat("; ", [range_detail(r) | some r in array.slice(partly, 0, 3)]), 600),
])

partly_evidence := {
	"components": sort({lib.component_ref(r) | some r in partly}),
	"details": [range_detail(r) | some r in array.slice(partly, 0, max_details)],
}

partly_fix := "Raise each range's lower bound as its detail says (or pin the versions with a lock file), so that no admitted version is vulnerable."

# METADATA
# title: Dependency range admits vulnerable versions
# description: >-
#   Where the stage profile says `vulndb.ranges: deny` (shipped: prod), components without a
#   version whose declared range admits versions some advisory affects block: an application
#   must not ship whatever the resolver picks (issue 17).
# custom:
#   id: GATE-VULNDB-006
#   severity: high
#   control: NIST SP 800-53 RA-5 Vulnerability monitoring and scanning, CM-8 System component inventory; SSDF PS.3.2
#   remediation: Raise each range's lower bound above the vulnerable versions, or pin versions with a lock file.
deny contains v if {
	count(partly) > 0
	ranges_action == "deny"
	v := lib.violation("GATE-VULNDB-006", partly_msg, partly_evidence, partly_fix)
}

# METADATA
# title: Dependency range admits vulnerable versions
# description: >-
#   Where the stage profile says `vulndb.ranges: warn` (shipped: every stage but prod, and the
#   `library` profile), such ranges warn once per SBOM, each with the lower bound that leaves
#   every advisory out (issue 17).
# custom:
#   id: GATE-VULNDB-007
#   severity: medium
#   control: NIST SP 800-53 RA-5 Vulnerability monitoring and scanning
#   remediation: Raise each range's lower bound above the vulnerable versions.
warn contains v if {
	count(partly) > 0
	ranges_action == "warn"
	v := lib.violation("GATE-VULNDB-007", partly_msg, partly_evidence, partly_fix)
}
