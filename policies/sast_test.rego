package gate.sast_test

import rego.v1

import data.gate.fixtures_test as fx
import data.gate.sast

# Fixtures are bound to local variables before `with input as` (see lib_test.rego).

test_high_high_finding_denies if {
	d := fx.findings_doc("default", [fx.finding({})])
	vs := sast.deny with input as d
	count(vs) == 1
	some v in vs
	v.rule == "GATE-SAST-001"
	v.evidence == {"findings": ["f0000001"], "components": [], "scans": [], "details": []}
	v.msg == "bandit B602 (subprocess_popen_with_shell_equals_true) at app/run.py:12: subprocess call with shell=True identified, security issue. [severity high, confidence high]"
	contains(v.remediation, "app/run.py:12 (CWE-78; bandit B602")
	count(sast.warn) == 0 with input as d
}

test_critical_finding_denies if {
	d := fx.findings_doc("default", [fx.finding({"severity": "critical"})])
	fx.rules(sast.deny) == {"GATE-SAST-001"} with input as d
}

test_iac_finding_is_judged_like_sast if {
	d := fx.findings_doc("default", [fx.finding({"kind": "iac", "tool": "checkov"})])
	fx.rules(sast.deny) == {"GATE-SAST-001"} with input as d
}

test_other_kinds_are_not_judged_here if {
	d := fx.findings_doc("default", [fx.finding({"kind": "other"}), fx.finding({"id": "x2", "kind": "dependency"})])
	count(sast.deny) == 0 with input as d
	count(sast.warn) == 0 with input as d
}

test_medium_finding_warns if {
	d := fx.findings_doc("default", [fx.finding({"severity": "medium"})])
	count(sast.deny) == 0 with input as d
	fx.rules(sast.warn) == {"GATE-SAST-002"} with input as d
}

test_low_finding_passes_by_default if {
	d := fx.findings_doc("default", [fx.finding({"severity": "low"}), fx.finding({"id": "i", "severity": "info"})])
	count(sast.deny) == 0 with input as d
	count(sast.warn) == 0 with input as d
}

test_low_finding_warns_in_prod if {
	d := fx.findings_doc("prod", [fx.finding({"severity": "low"})])
	fx.rules(sast.warn) == {"GATE-SAST-002"} with input as d
}

test_low_confidence_high_severity_warns_outside_prod if {
	d := fx.findings_doc("staging", [fx.finding({"confidence": "low"})])
	count(sast.deny) == 0 with input as d
	fx.rules(sast.warn) == {"GATE-SAST-002"} with input as d
}

test_low_confidence_high_severity_denies_in_prod if {
	d := fx.findings_doc("prod", [fx.finding({"confidence": "low"})])
	fx.rules(sast.deny) == {"GATE-SAST-001"} with input as d
}

test_unknown_confidence_is_assumed_medium if {
	# SARIF has no confidence: such findings must still be able to block.
	d := fx.findings_doc("default", [fx.finding({"confidence": "unknown", "tool": "CodeQL"})])
	vs := sast.deny with input as d
	some v in vs
	contains(v.msg, "confidence medium")
}

test_unknown_severity_is_left_to_the_severity_rules if {
	d := fx.findings_doc("prod", [fx.finding({"severity": "unknown"})])
	count(sast.deny) == 0 with input as d
	count(sast.warn) == 0 with input as d
}

test_test_code_never_denies if {
	d := fx.findings_doc("prod", [fx.finding({"test_code": true, "severity": "critical", "location": {"path": "tests/test_run.py", "start_line": 3}})])
	count(sast.deny) == 0 with input as d
	vs := sast.warn with input as d
	fx.rules(vs) == {"GATE-SAST-003"}
	some v in vs
	startswith(v.msg, "test code: bandit B602")
}

# Attack (issue 14): a flaw of a class the data names (deserialisation of untrusted data,
# CWE-502, in the shipped test_code.always_block) in test code only warned. Test code ships in
# helpers and runs in CI: such classes block there as in production code.
test_test_code_flaw_of_a_class_the_data_names_denies if {
	f := fx.finding({"test_code": true, "rule_id": "B301", "cwe": ["CWE-502"], "location": {"path": "tests/helpers.py", "start_line": 3}})
	d := fx.findings_doc("prod", [f])
	fx.rules(sast.deny) == {"GATE-SAST-001"} with input as d
	count(sast.warn) == 0 with input as d
}

# Variant: a rule named in data (tool:rule_id, any case) blocks in test code; others still warn.
test_test_code_rule_the_data_names_denies if {
	a := fx.finding({"test_code": true})
	b := fx.finding({"id": "f2", "test_code": true, "rule_id": "B324", "cwe": ["CWE-327"]})
	d := fx.findings_doc("prod", [a, b])
	vs := sast.deny with input as d with data.config.test_code.always_block as {"rules": ["BANDIT:b602"]}
	{id | some v in vs; some id in v.evidence.findings} == {"f0000001"}
	ws := sast.warn with input as d with data.config.test_code.always_block as {"rules": ["BANDIT:b602"]}
	fx.rules(ws) == {"GATE-SAST-003"}
}

test_test_code_below_its_threshold_passes if {
	d := fx.findings_doc("default", [fx.finding({"test_code": true, "severity": "medium"})])
	count(sast.deny) == 0 with input as d
	count(sast.warn) == 0 with input as d
}

test_waived_finding_is_skipped if {
	d := fx.findings_doc("prod", [fx.finding({"waiver": fx.waiver})])
	count(sast.deny) == 0 with input as d
	count(sast.warn) == 0 with input as d
}

test_vex_not_affected_is_skipped if {
	d := fx.findings_doc("prod", [fx.finding({"vex": {"state": "not_affected", "justification": "code_not_reachable"}})])
	count(sast.deny) == 0 with input as d
}

test_nosec_does_not_open_the_gate_by_default if {
	d := fx.findings_doc("default", [fx.finding({"suppressed": true})])
	fx.rules(sast.deny) == {"GATE-SAST-001"} with input as d
}

test_nosec_honoured_when_data_says_so if {
	d := fx.findings_doc("default", [fx.finding({"suppressed": true})])
	count(sast.deny) == 0 with input as d with data.config.honour_inline_suppressions as true
}

bandit := fx.finding({"id": "a1", "duplicates": ["b2"], "severity": "medium", "confidence": "high"})

semgrep := fx.finding({
	"id": "b2", "tool": "semgrep", "rule_id": "python.lang.security.audit.subprocess-shell-true",
	"rule_name": null, "duplicates": ["a1"], "severity": "high", "confidence": "unknown",
	"location": {"path": "app/run.py", "start_line": 13, "end_line": 13},
})

test_duplicates_give_one_violation_with_all_ids if {
	d := fx.findings_doc("default", [bandit, semgrep])
	vs := sast.deny with input as d
	count(vs) == 1
	some v in vs
	v.evidence.findings == ["a1", "b2"]

	# the group is judged by its highest severity and confidence, and reported once
	contains(v.msg, "[severity high, confidence high] (also reported by semgrep)")
	count(sast.warn) == 0 with input as d
}

test_duplicates_same_verdict_whatever_the_order if {
	d := fx.findings_doc("default", [semgrep, bandit])
	vs := sast.deny with input as d
	count(vs) == 1
}

test_duplicate_survives_when_one_member_is_waived if {
	d := fx.findings_doc("default", [object.union(bandit, {"waiver": fx.waiver}), semgrep])
	vs := sast.deny with input as d
	count(vs) == 1
	some v in vs
	startswith(v.msg, "semgrep python.lang.security.audit.subprocess-shell-true at app/run.py:13")
}

test_existing_finding_warns_with_new_findings_only if {
	d := fx.findings_doc("dev", [fx.finding({"baseline": "existing"})])
	count(sast.deny) == 0 with input as d
	vs := sast.warn with input as d
	fx.rules(vs) == {"GATE-SAST-004"}
	some v in vs
	startswith(v.msg, "existing (baseline): ")
}

test_new_finding_denies_with_new_findings_only if {
	d := fx.findings_doc("dev", [fx.finding({"baseline": "new"})])
	fx.rules(sast.deny) == {"GATE-SAST-001"} with input as d
}

test_existing_finding_denies_where_all_findings_count if {
	d := fx.findings_doc("staging", [fx.finding({"baseline": "existing"})])
	fx.rules(sast.deny) == {"GATE-SAST-001"} with input as d
}

test_thresholds_come_from_data if {
	d := fx.findings_doc("default", [fx.finding({"severity": "medium"})])
	fx.rules(sast.deny) == {"GATE-SAST-001"} with input as d with data.config.stages.default.thresholds.sast.deny as "medium"
}

test_fallbacks_without_data if {
	d := fx.findings_doc("default", [fx.finding({}), fx.finding({"id": "m", "severity": "medium"})])
	fx.rules(sast.deny) == {"GATE-SAST-001"} with input as d with data.config as {}
	fx.rules(sast.warn) == {"GATE-SAST-002"} with input as d with data.config as {}
}

test_message_details if {
	f := fx.finding({"rule_name": null, "help_uri": "https://example.test/b602", "cwe": [], "message": "line one\nline two"})
	d := fx.findings_doc("default", [f])
	vs := sast.deny with input as d
	some v in vs
	v.msg == "bandit B602 at app/run.py:12: line one line two [severity high, confidence high]"
	contains(v.remediation, "Guidance: https://example.test/b602.")
	contains(v.remediation, "(bandit B602)")
}

test_finding_with_missing_fields_still_reported if {
	d := fx.findings_doc("default", [{"id": "z", "kind": "sast", "severity": "critical", "confidence": "high"}])
	vs := sast.deny with input as d
	some v in vs
	v.msg == "  at (no location):  [severity critical, confidence high]"
}

test_cwe_text_keeps_only_identifiers if {
	sast.cwe_text({"cwe": ["CWE-78", "CWE-88"]}) == "CWE-78, CWE-88; "
	sast.cwe_text({"cwe": []}) == ""
	sast.cwe_text({"cwe": [42]}) == ""
	sast.cwe_text({"cwe": null}) == ""
	sast.cwe_text({}) == ""
}

test_severe_finding_of_low_confidence_only_warns if {
	d := fx.findings_doc("default", [fx.finding({"confidence": "low"})])
	count(sast.deny) == 0 with input as d
	vs := sast.warn with input as d
	fx.rules(vs) == {"GATE-SAST-002"}
	some v in vs
	endswith(v.msg, "[severity high, confidence low]")
}

test_sparse_finding_with_a_rule_but_no_rule_id if {
	d := fx.findings_doc("default", [{"id": "z", "kind": "sast", "severity": "high", "tool": "t", "rule_name": "n"}])
	vs := sast.deny with input as d
	some v in vs
	v.msg == "t  at (no location):  [severity high, confidence medium]"
}

# A low-severity report grouped with a high one (another tool, same flaw): the group is judged
# by its highest member, whichever member is primary, so grouping never lowers a flaw.
test_a_low_member_does_not_lower_its_group if {
	low := fx.finding({"id": "a1", "duplicates": ["b2"], "severity": "low", "confidence": "high"})
	d := fx.findings_doc("default", [low, semgrep])
	vs := sast.deny with input as d
	count(vs) == 1
	some v in vs
	v.evidence.findings == ["a1", "b2"]
	count(sast.warn) == 0 with input as d
}

# ---------------------------------------------------------------------------------------------
# Calibration (issue 17): quiet hygiene rules, name-only rules confirmed by a syntax-aware scan.

semgrep_scan := fx.scan({"tool": "Semgrep OSS", "format": "sarif"})

pickle_b301 := fx.finding({
	"id": "p1", "rule_id": "B301", "rule_name": "blacklist", "cwe": ["CWE-502"],
	"message": "Pickle and modules that wrap it can be unsafe", "confidence": "high",
})

assert_b101 := fx.finding({"id": "q1", "rule_id": "B101", "rule_name": "assert_used", "severity": "low", "cwe": ["CWE-703"]})

test_quiet_rule_does_not_warn if {
	d := fx.findings_doc("prod", [assert_b101])
	count(sast.warn) == 0 with input as d
	count(sast.deny) == 0 with input as d

	# the list comes from data: emptied, the finding warns again
	fx.rules(sast.warn) == {"GATE-SAST-002"} with input as d with data.config.sast.quiet_rules as []
}

test_quiet_rule_does_not_warn_in_test_code if {
	d := fx.findings_doc("prod", [object.union(assert_b101, {"severity": "high", "test_code": true})])
	count(sast.warn) == 0 with input as d
	fx.rules(sast.warn) == {"GATE-SAST-003"} with input as d with data.config.sast.quiet_rules as []
}

test_quiet_rule_at_the_deny_threshold_still_blocks if {
	# Listing a rule as quiet mutes warnings only: a finding of it that is severe blocks.
	d := fx.findings_doc("prod", [object.union(assert_b101, {"severity": "high"})])
	fx.rules(sast.deny) == {"GATE-SAST-001"} with input as d
}

test_name_only_finding_warns_when_a_confirming_scan_is_present if {
	# The attack this must not open: bandit B301 alone blocked attrs and requests for
	# pickle.loads(pickle.dumps(x)) in their tests; semgrep's rule tells the round trip apart.
	d := fx.doc("prod", [pickle_b301], [], [fx.scan({}), semgrep_scan])
	count(sast.deny) == 0 with input as d
	vs := sast.warn with input as d
	fx.rules(vs) == {"GATE-SAST-002"}
	some v in vs
	startswith(v.msg, "not confirmed by a syntax-aware rule: bandit B301 (blacklist) at app/run.py:12")
}

test_name_only_finding_blocks_without_a_confirming_scan if {
	# Fail closed: no semgrep report (gate evaluate bandit.json alone), or an incomplete one.
	d := fx.doc("prod", [pickle_b301], [], [fx.scan({})])
	fx.rules(sast.deny) == {"GATE-SAST-001"} with input as d
	count(sast.warn) == 0 with input as d
	broken := fx.doc("prod", [pickle_b301], [], [fx.scan({}), object.union(semgrep_scan, {"complete": false})])
	fx.rules(sast.deny) == {"GATE-SAST-001"} with input as broken
}

test_name_only_finding_confirmed_by_another_rule_blocks if {
	b := object.union(pickle_b301, {"duplicates": ["s1"]})
	s := fx.finding({
		"id": "s1", "tool": "Semgrep OSS", "rule_id": "gate.python.unsafe-deserialization",
		"rule_name": null, "duplicates": ["p1"], "severity": "high", "cwe": ["CWE-502"],
	})
	d := fx.doc("prod", [b, s], [], [fx.scan({}), semgrep_scan])
	vs := sast.deny with input as d
	fx.rules(vs) == {"GATE-SAST-001"}
	count(vs) == 1
}

test_name_only_group_of_name_only_rules_warns if {
	b := object.union(pickle_b301, {"duplicates": ["p2"]})
	m := object.union(pickle_b301, {"id": "p2", "rule_id": "B302", "duplicates": ["p1"]})
	d := fx.doc("prod", [b, m], [], [fx.scan({}), semgrep_scan])
	count(sast.deny) == 0 with input as d
	fx.rules(sast.warn) == {"GATE-SAST-002"} with input as d

	# the lists come from data
	fx.rules(sast.deny) == {"GATE-SAST-001"} with input as d with data.config.sast.name_only_rules as []
}

test_name_only_in_test_code_that_always_blocks if {
	# CWE-502 blocks in test code (data.config.test_code.always_block): still only when confirmed;
	# unconfirmed there (a round trip the syntax-aware rule passed) it is muted, at any severity.
	t := object.union(pickle_b301, {"test_code": true, "location": {"path": "tests/test_x.py", "start_line": 3, "end_line": 3}})
	d := fx.doc("prod", [t], [], [fx.scan({}), semgrep_scan])
	count(sast.deny) == 0 with input as d
	count(sast.warn) == 0 with input as d
	m := fx.doc("prod", [object.union(t, {"severity": "medium"})], [], [fx.scan({}), semgrep_scan])
	count(sast.warn) == 0 with input as m
	fx.rules(sast.deny) == {"GATE-SAST-001"} with input as fx.doc("prod", [t], [], [fx.scan({})])
	fx.rules(sast.warn) == {"GATE-SAST-002"} with input as fx.doc("prod", [object.union(t, {"severity": "medium"})], [], [fx.scan({})])
}

test_group_unconfirmed_needs_the_lists if {
	sast.group_unconfirmed([{"tool": "bandit", "rule_id": "B301"}]) with input as fx.doc("prod", [], [], [semgrep_scan])
	not sast.group_unconfirmed([{"tool": "bandit", "rule_id": "B301"}]) with input as fx.doc("prod", [], [], [semgrep_scan])
		with data.config.sast.name_only_rules as []
}

# unconfirmed_at is found in one pass (issue 20): it equals the plain per-candidate definition
# the rules called before, written out here, on solo findings, groups of name-only rules, groups
# a syntax-aware rule confirms, test code, a finding lacking keys, with and without a complete
# confirming scan and with the lists emptied.
plain_unconfirmed(c, keys) := c.rule in keys if {
	not c.f.duplicates[0]
	sast.confirmer_present
} else := sast.group_unconfirmed(c.peers)

unconfirmed_fixtures := [
	pickle_b301,
	object.union(pickle_b301, {"id": "g1", "duplicates": ["g2"]}),
	object.union(pickle_b301, {"id": "g2", "rule_id": "B302", "duplicates": ["g1"]}),
	object.union(pickle_b301, {"id": "h1", "duplicates": ["h2"]}),
	fx.finding({
		"id": "h2", "tool": "Semgrep OSS", "rule_id": "gate.python.unsafe-deserialization",
		"rule_name": null, "duplicates": ["h1"], "severity": "high", "cwe": ["CWE-502"],
	}),
	assert_b101,
	object.union(pickle_b301, {"id": "t1", "test_code": true, "severity": "medium"}),
	object.remove(object.union(pickle_b301, {"id": "k1"}), ["aliases"]),
	fx.finding({"id": "o1"}),
]

unconfirmed_cases := [[scans, names] |
	some scans in [[fx.scan({}), semgrep_scan], [fx.scan({})], [object.union(semgrep_scan, {"complete": false})]]
	some names in [["bandit:B301", "bandit:B302"], ["bandit:B301"], []]
]

test_unconfirmed_at_equals_the_plain_definition if {
	every case in unconfirmed_cases {
		d := fx.doc("prod", unconfirmed_fixtures, [], case[0])
		got := sast.unconfirmed_at with input as d with data.config.sast.name_only_rules as case[1]
		want := {i |
			nk := sast.name_only_keys
			some i, c in sast.candidates
			plain_unconfirmed(c, nk)
		} with input as d with data.config.sast.name_only_rules as case[1]
		got == want
	}
	d := fx.doc("prod", unconfirmed_fixtures, [], [fx.scan({}), semgrep_scan])
	ids := {sast.candidates[i].f.id | some i in sast.unconfirmed_at} with input as d
	ids == {"p1", "g1", "t1", "k1"}
}
