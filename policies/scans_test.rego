package gate.scans_test

import rego.v1

import data.gate.fixtures_test as fx
import data.gate.scans

broken := fx.scan({"complete": false, "errors": ["app/gen.py: syntax error while parsing AST from file"]})

sbom := fx.scan({"path": "sbom.cdx.json", "format": "cyclonedx", "tool": "cyclonedx-py", "tool_version": "7.5.0", "findings": 0, "components": 12})

audit := fx.scan({"path": "audit.json", "format": "pip-audit", "tool": "pip-audit", "tool_version": "2.9.0"})

test_complete_scan_passes if {
	s := fx.scan({})
	d := fx.doc("default", [], [], [s])
	count(scans.deny) == 0 with input as d
	count(scans.warn) == 0 with input as d
}

test_incomplete_scan_denies_with_the_tool_errors if {
	s := broken
	d := fx.doc("default", [], [], [s])
	vs := scans.deny with input as d
	count(vs) == 1
	some v in vs
	v.rule == "GATE-SCAN-001"
	v.msg == "scan bandit.json (bandit 1.9.4) did not complete (1 error): app/gen.py: syntax error while parsing AST from file"
	v.evidence == {"findings": [], "components": [], "scans": ["bandit.json"], "details": ["app/gen.py: syntax error while parsing AST from file"]}
	contains(v.remediation, "adds 'bandit' to data scans.allow_incomplete")
}

test_incomplete_scan_without_error_text if {
	s := fx.scan({"complete": false, "errors": [], "tool_version": null})
	d := fx.doc("default", [], [], [s])
	vs := scans.deny with input as d
	some v in vs
	v.msg == "scan bandit.json (bandit) did not complete (0 errors) (the tool gave no error text)"
}

test_scan_without_complete_flag_counts_as_incomplete if {
	s := object.remove(fx.scan({}), ["complete"])
	d := fx.doc("default", [], [], [s])
	fx.rules(scans.deny) == {"GATE-SCAN-001"} with input as d
}

test_many_errors_are_capped if {
	errs := [sprintf("error %d", [i]) | some i in numbers.range(1, 60)]
	s := fx.scan({"complete": false, "errors": errs})
	d := fx.doc("default", [], [], [s])
	vs := scans.deny with input as d
	some v in vs
	count(v.evidence.details) == 51
	v.evidence.details[50] == "... and 10 more errors"
	contains(v.msg, "(60 errors): error 1")
}

test_incomplete_scan_accepted_by_data_warns if {
	s := broken
	d := fx.doc("default", [], [], [s])
	count(scans.deny) == 0 with input as d with data.config.scans.allow_incomplete as ["bandit"]
	vs := scans.warn with input as d with data.config.scans.allow_incomplete as ["bandit"]
	fx.rules(vs) == {"GATE-SCAN-002"}
	some v in vs
	endswith(v.msg, "(accepted by data scans.allow_incomplete)")
	v.evidence.details == ["app/gen.py: syntax error while parsing AST from file"]
}

test_default_stage_requires_no_evidence if {
	d := fx.doc("default", [], [], [])
	count(scans.deny) == 0 with input as d
}

test_prod_requires_sast_dependency_and_sbom if {
	s := fx.scan({})
	d := fx.doc("prod", [], [], [s])
	vs := scans.deny with input as d
	fx.rules(vs) == {"GATE-SCAN-003"}
	{v.msg | some v in vs} == {
		"stage prod requires dependency evidence, and no complete scan of this run provides it (provided: sast)",
		"stage prod requires sbom evidence, and no complete scan of this run provides it (provided: sast)",
	}
	some v in vs
	v.evidence.scans == ["bandit.json"]
	v.evidence.details == ["required: dependency, sast, sbom", "provided: sast"]
}

test_prod_passes_with_all_evidence if {
	d := fx.doc("prod", [], [], [fx.scan({}), sbom, audit])
	count(scans.deny) == 0 with input as d
}

test_incomplete_scan_does_not_provide_evidence if {
	d := fx.doc("staging", [], [], [broken, audit])
	fx.rules(scans.deny) == {"GATE-SCAN-001", "GATE-SCAN-003"} with input as d
}

# Attack (issue 13): a SARIF file from a tool nobody listed, holding one low finding of kind
# sast, used to satisfy the stage's sast evidence ("findings prove their kind").
test_findings_do_not_prove_their_kind if {
	f := fx.finding({"tool": "some-sast-tool"})
	d := fx.doc("staging", [f], [], [fx.scan({"tool": "some-sast-tool", "format": "sarif", "path": "x.sarif"}), audit])
	fx.rules(scans.deny) == {"GATE-SCAN-003"} with input as d
}

# Attack (issue 13): two empty SARIF files whose drivers say "Bandit" and "pip-audit" met the
# stage's required evidence. bandit writes SARIF (its `sarif` formatter) and provides sast;
# pip-audit writes no SARIF, so dependency evidence is missing and the evidence says why.
test_spoofed_sarif_tools_do_not_provide_evidence if {
	b := fx.scan({"tool": "Bandit", "format": "sarif", "path": "bandit.sarif", "findings": 0})
	p := fx.scan({"tool": "pip-audit", "format": "sarif", "path": "pip-audit.sarif", "findings": 0})
	d := fx.doc("staging", [], [], [b, p])
	vs := scans.deny with input as d
	fx.rules(vs) == {"GATE-SCAN-003"}
	some v in vs
	v.msg == "stage staging requires dependency evidence, and no complete scan of this run provides it (provided: sast)"
	"pip-audit.sarif: pip-audit does not write sarif reports (data evidence.producers): none of its evidence" in v.evidence.details
}

test_an_sbom_claiming_a_scanner_provides_only_sbom_evidence if {
	c := fx.scan({"tool": "pip-audit", "format": "cyclonedx", "path": "audit.cdx.json", "findings": 1})
	d := fx.doc("staging", [], [], [c, fx.scan({})])
	vs := scans.deny with input as d
	some v in vs
	v.msg == "stage staging requires dependency evidence, and no complete scan of this run provides it (provided: sast, sbom)"
	"audit.cdx.json: pip-audit does not write cyclonedx reports (data evidence.producers): none of its evidence" in v.evidence.details
}

test_a_scan_that_hid_results_is_not_accepted_by_allow_incomplete if {
	s := fx.scan({"complete": false, "errors": ["bandit: the tool left 2 results out of the report under inline suppressions (# nosec)"], "hidden_suppressions": 2})
	d := fx.doc("default", [], [], [s])
	fx.rules(scans.deny) == {"GATE-SCAN-001"} with input as d with data.config.scans.allow_incomplete as ["bandit"]
	vs := scans.deny with input as d
	some v in vs
	contains(v.msg, "left 2 results out of the report under inline suppressions")
}

test_staging_without_any_scan if {
	d := fx.doc("staging", [], [], [])
	vs := scans.deny with input as d
	count(vs) == 2
	some v in vs
	contains(v.msg, "(provided: none)")
}

test_remediation_names_the_providers if {
	scans.providers("sbom") == "generate a CycloneDX or SPDX SBOM (for example with gate sbom)"
	scans.providers("secret") == "run gitleaks or trivy"
	scans.providers("fuzzing") == "run a scanner mapped to 'fuzzing' in data evidence.tools"
}

test_required_evidence_comes_from_data if {
	d := fx.doc("default", [], [], [])
	fx.rules(scans.deny) == {"GATE-SCAN-003"} with input as d with data.config.stages.default.required_evidence as ["secret"]
}
