package gate.dependencies_test

import rego.v1

import data.gate.dependencies as deps
import data.gate.fixtures_test as fx

no_fix := {"name": "py", "version": "1.11.0", "purl": "pkg:pypi/py@1.11.0", "fixed_versions": []}

test_fixable_high_vulnerability_denies_with_the_fix_named if {
	d := fx.findings_doc("default", [fx.dependency({})])
	vs := deps.deny with input as d
	fx.rules(vs) == {"GATE-DEP-001"}
	some v in vs
	v.msg == "pip-audit: jinja2@2.10.1 is affected by PYSEC-2021-66 (CVE-2020-28493, GHSA-g3rq-g295-4j3m) [severity high]: Jinja2 before 2.11.3 allows a ReDoS in the urlize filter."
	v.remediation == "Upgrade jinja2@2.10.1 to 2.11.3 (versions with the fix: 2.11.3) and regenerate the lock file."
	v.evidence.findings == ["d0000001"]
}

test_pip_audit_without_severity_is_assumed_high if {
	d := fx.findings_doc("default", [fx.dependency({"severity": "unknown"})])
	fx.rules(deps.deny) == {"GATE-DEP-001"} with input as d
}

test_upgrade_target_is_the_nearest_fix_above_the_installed_version if {
	f := fx.dependency({"package": {"name": "django", "version": "3.2.1", "fixed_versions": ["4.2.2", "2.2.28", "3.2.19"]}})
	deps.upgrade_target(f) == "3.2.19"
	g := fx.dependency({"package": {"name": "django", "version": null, "fixed_versions": ["4.2.2", "3.2.19"]}})
	deps.upgrade_target(g) == "3.2.19"
	h := fx.dependency({"package": {"name": "django", "version": "9.0", "fixed_versions": ["4.2.2", "3.2.19"]}})
	deps.upgrade_target(h) == "3.2.19"
}

# Attack: an SBOM (attacker text) gives its component the version "2019.08.01" (or a digit run
# longer than a number can hold). The upgrade suggestion read each digit run with to_number, which
# the embedded engine refuses for "08" (a JSON number has no leading zero): the whole evaluation
# failed (exit 4) instead of closing the gate on the vulnerability with evidence.
test_versions_with_leading_zeros_or_long_digit_runs_still_order if {
	f := fx.dependency({"package": {"name": "demo", "version": "2019.08.01", "fixed_versions": ["2019.09.0", "2019.010.0", "2018.1"]}})
	deps.upgrade_target(f) == "2019.09.0"
	g := fx.dependency({"package": {"name": "demo", "version": "1.000000000000000000000000000000001", "fixed_versions": ["1.0", "2.0"]}})
	deps.upgrade_target(g) == "2.0"
	d := fx.findings_doc("default", [f])
	fx.rules(deps.deny) == {"GATE-DEP-001"} with input as d
}

test_unfixable_high_vulnerability_warns_outside_prod if {
	d := fx.findings_doc("staging", [fx.dependency({"package": no_fix})])
	count(deps.deny) == 0 with input as d
	vs := deps.warn with input as d
	fx.rules(vs) == {"GATE-DEP-003"}
	some v in vs
	startswith(v.remediation, "No fixed version of py@1.11.0 is known for PYSEC-2021-66.")
}

test_unfixable_high_vulnerability_denies_in_prod if {
	d := fx.findings_doc("prod", [fx.dependency({"package": no_fix})])
	fx.rules(deps.deny) == {"GATE-DEP-002"} with input as d
	count(deps.warn) == 0 with input as d
}

test_package_without_fixed_versions_field if {
	f := object.union(object.remove(fx.dependency({}), ["package"]), {"package": {"name": "py", "version": "1.0"}})
	d := fx.findings_doc("prod", [f])
	fx.rules(deps.deny) == {"GATE-DEP-002"} with input as d
}

test_medium_vulnerability_warns if {
	d := fx.findings_doc("default", [fx.dependency({"severity": "medium"})])
	count(deps.deny) == 0 with input as d
	vs := deps.warn with input as d
	fx.rules(vs) == {"GATE-DEP-004"}
	some v in vs
	startswith(v.remediation, "Upgrade jinja2@2.10.1 to 2.11.3")
}

test_medium_unfixable_vulnerability_warns_with_nofix_advice if {
	d := fx.findings_doc("default", [fx.dependency({"severity": "medium", "package": no_fix})])
	vs := deps.warn with input as d
	some v in vs
	startswith(v.remediation, "No fixed version")
}

test_low_vulnerability_passes_by_default_warns_in_prod if {
	d := fx.findings_doc("default", [fx.dependency({"severity": "low"})])
	count(deps.deny) == 0 with input as d
	count(deps.warn) == 0 with input as d
	p := fx.findings_doc("prod", [fx.dependency({"severity": "low"})])
	fx.rules(deps.warn) == {"GATE-DEP-004"} with input as p
}

test_vex_not_affected_skips_the_vulnerability if {
	d := fx.findings_doc("prod", [fx.dependency({"vex": {"state": "not_affected", "justification": "vulnerable_code_not_in_execute_path"}})])
	count(deps.deny) == 0 with input as d
	count(deps.warn) == 0 with input as d
}

test_vex_in_triage_does_not_skip if {
	d := fx.findings_doc("prod", [fx.dependency({"vex": {"state": "in_triage"}})])
	fx.rules(deps.deny) == {"GATE-DEP-001"} with input as d
}

test_waived_vulnerability_passes if {
	d := fx.findings_doc("prod", [fx.dependency({"package": no_fix, "waiver": fx.waiver})])
	count(deps.deny) == 0 with input as d
}

test_existing_vulnerability_warns_with_new_findings_only if {
	d := fx.findings_doc("dev", [fx.dependency({"baseline": "existing"})])
	count(deps.deny) == 0 with input as d
	vs := deps.warn with input as d
	fx.rules(vs) == {"GATE-DEP-005"}
	some v in vs
	startswith(v.msg, "existing (baseline): pip-audit")
}

test_existing_unfixable_vulnerability_in_strict_dev_profile if {
	d := fx.findings_doc("dev", [fx.dependency({"baseline": "existing", "package": no_fix})])
	vs := deps.warn with input as d with data.config.stages.dev.block_unfixable as true
	fx.rules(vs) == {"GATE-DEP-005"}
	count(deps.deny) == 0 with input as d with data.config.stages.dev.block_unfixable as true
}

test_new_vulnerability_denies_with_new_findings_only if {
	d := fx.findings_doc("dev", [fx.dependency({"baseline": "new"})])
	fx.rules(deps.deny) == {"GATE-DEP-001"} with input as d
}

test_duplicate_reports_of_one_vulnerability if {
	a := fx.dependency({"id": "d1", "duplicates": ["d2"], "severity": "unknown"})
	b := fx.dependency({"id": "d2", "tool": "grype", "severity": "critical", "duplicates": ["d1"], "rule_id": "GHSA-g3rq-g295-4j3m"})
	d := fx.findings_doc("default", [a, b])
	vs := deps.deny with input as d
	count(vs) == 1
	some v in vs
	v.evidence.findings == ["d1", "d2"]
	contains(v.msg, "[severity critical]")
	endswith(v.msg, "(also reported by grype)")
}

test_finding_without_package if {
	d := fx.findings_doc("prod", [fx.dependency({"package": null})])
	vs := deps.deny with input as d
	some v in vs
	v.rule == "GATE-DEP-002"
	contains(v.msg, "(unnamed package)")
}

test_aliases_may_be_null if {
	f := fx.dependency({"cve": null, "aliases": null})
	deps.also_known_as(f) == ""
}
