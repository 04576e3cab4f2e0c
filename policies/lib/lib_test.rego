package gate.lib_test

import rego.v1

import data.gate.fixtures_test as fx
import data.gate.lib

# --- active(f): waivers, VEX, inline suppressions -------------------------------------------

test_active_plain_finding if {
	lib.active(fx.finding({}))
}

test_active_skips_waived if {
	not lib.active(fx.finding({"waiver": fx.waiver}))
}

test_active_skips_suppressing_vex_states if {
	every state in ["not_affected", "false_positive", "resolved", "resolved_with_pedigree"] {
		not lib.active(fx.finding({"vex": {"state": state, "justification": "code_not_reachable", "detail": null, "source": "vex.json"}}))
	}
}

test_active_keeps_vex_states_that_need_action if {
	every state in ["exploitable", "in_triage"] {
		lib.active(fx.finding({"vex": {"state": state, "justification": null, "detail": null, "source": "vex.json"}}))
	}
}

test_active_vex_states_come_from_data if {
	lib.active(fx.finding({"vex": {"state": "resolved"}})) with data.config.vex.suppressing_states as ["not_affected"]
}

test_active_vex_states_default_without_data if {
	not lib.active(fx.finding({"vex": {"state": "not_affected"}})) with data.config as {}
}

test_active_inline_suppression_not_honoured_by_default if {
	lib.active(fx.finding({"suppressed": true}))
}

test_active_inline_suppression_honoured_when_data_says_so if {
	not lib.active(fx.finding({"suppressed": true})) with data.config.honour_inline_suppressions as true
}

test_active_finding_without_optional_fields if {
	lib.active({"id": "x", "kind": "sast"})
}

# --- profile ----------------------------------------------------------------------------------

test_profile_default_stage_without_context if {
	lib.stage == "default" with input as {}
	lib.profile.required_evidence == [] with input as {}
}

test_profile_stage_overlays_default if {
	p := lib.profile with input as fx.findings_doc("prod", [])
	p.required_evidence == ["sast", "dependency", "sbom"]
	p.block_unfixable == true

	# deep merge: prod states sast.warn but keeps default's sast.deny
	p.thresholds.sast.deny == "high"
	p.thresholds.sast.warn == "low"
	p.fail_on == "deny"
}

test_profile_unknown_stage_falls_back_to_default if {
	lib.stage == "default" with input as fx.findings_doc("qa-42", [])
	lib.profile == data.config.stages["default"] with input as fx.findings_doc("qa-42", [])
}

test_profile_non_string_stage_falls_back_to_default if {
	lib.stage == "default" with input.context.stage as 42
}

test_profile_without_data_is_empty if {
	lib.profile == {} with data.config as {}
	lib.setting(["thresholds", "sast", "deny"], "high") == "high" with data.config as {}
}

test_profile_data_config_not_an_object if {
	lib.cfg == {} with data.config as "oops"
}

# Object values replace whole data.config: OPA merges an object given to
# `with data.config.stages as {...}` into the loaded data when read through data.config.
test_profile_stage_profile_not_an_object if {
	lib.profile == {"fail_on": "deny"} with data.config as {"stages": {"default": {"fail_on": "deny"}, "dev": "oops"}}
		with input.context.stage as "dev"
}

test_profile_default_profile_not_an_object if {
	lib.profile == {} with data.config as {"stages": {"default": "oops"}}
	lib.profile == {} with data.config as {"stages": "oops"}
}

test_profile_every_shipped_stage_has_fail_on if {
	every name, _ in data.config.stages {
		lib.profile.fail_on in {"deny", "warn"} with input.context.stage as name
	}
}

# --- scales -------------------------------------------------------------------------------------

test_severity_ranks if {
	lib.severity_rank == {"critical": 5, "high": 4, "medium": 3, "low": 2, "info": 1, "unknown": 0}
	lib.rank("bogus") == 0
	lib.at_least("critical", "high")
	lib.at_least("high", "high")
	not lib.at_least("medium", "high")
	not lib.at_least("unknown", "info")
}

test_misspelt_threshold_blocks_more_not_less if {
	lib.at_least("info", "hgih")
}

test_severities_from if {
	lib.severities_from("high") == {"critical", "high"}
	lib.severities_from("info") == {"critical", "high", "medium", "low", "info"}
	lib.confidences_from("medium") == {"high", "medium"}
}

test_confidence_at_least if {
	lib.confidence_at_least("high", "medium")
	not lib.confidence_at_least("low", "medium")
	not lib.confidence_at_least("unknown", "low")
}

# --- duplicate groups ---------------------------------------------------------------------------

bandit := fx.finding({"id": "a1", "duplicates": ["b2"], "severity": "medium", "confidence": "low"})

semgrep := fx.finding({
	"id": "b2", "tool": "semgrep", "rule_id": "python.lang.security.audit.subprocess-shell-true",
	"rule_name": null, "duplicates": ["a1"], "severity": "high", "confidence": "unknown",
	"location": {"path": "app/run.py", "start_line": 13, "end_line": 13},
})

pair := fx.findings_doc("default", [bandit, semgrep])

test_solo if {
	lib.solo(fx.finding({}))
	lib.solo(fx.finding({"duplicates": null}))
	not lib.solo(bandit)
}

# Bind fixtures to local variables before `with input as`: regorus 0.13 leaves a call
# undefined when both its argument and the `with` value are rule references (OPA does not).
test_primary_is_smallest_active_id if {
	b := bandit
	s := semgrep
	d := pair
	lib.primary(b) with input as d
	not lib.primary(s) with input as d
}

test_primary_solo_finding if {
	lib.primary(fx.finding({}))
	not lib.primary(fx.finding({"waiver": fx.waiver}))
}

test_primary_passes_to_next_when_smallest_is_waived if {
	waived := object.union(bandit, {"waiver": fx.waiver})
	d := fx.findings_doc("default", [waived, semgrep])
	not lib.primary(waived) with input as d
	lib.primary(semgrep) with input as d
}

test_primary_is_per_kind if {
	secret := object.union(semgrep, {"kind": "secret"})
	d := fx.findings_doc("default", [bandit, secret])
	lib.primary(bandit) with input as d
	lib.primary(secret) with input as d
}

test_group_ids_and_tools if {
	b := bandit
	d := pair
	lib.group_ids(semgrep) == ["a1", "b2"]
	lib.group_ids(fx.finding({})) == ["f0000001"]
	lib.group_tools(b) == ["bandit", "semgrep"] with input as d
	lib.also_reported(b) == " (also reported by semgrep)" with input as d
	lib.also_reported(fx.finding({})) == ""
}

test_also_reported_when_duplicate_missing if {
	b := bandit
	d := fx.findings_doc("default", [b])
	lib.also_reported(b) == "" with input as d
}

test_group_severity_and_confidence_are_the_highest if {
	b := bandit
	s := semgrep
	d := pair
	lib.severity(b) == "high" with input as d
	lib.confidence(b) == "low" with input as d
	lib.severity(s) == "high" with input as d
}

test_group_confidence_unknown_is_assumed if {
	s := object.union(semgrep, {"duplicates": ["c3"]})
	c := fx.finding({"id": "c3", "confidence": "unknown", "duplicates": ["b2"]})
	lib.confidence(s) == "medium" with input as fx.findings_doc("default", [s, c])
}

test_view_of_group_matches_view_of_solo_semantics if {
	b := bandit
	d := pair
	v := lib.view(b) with input as d
	v.severity == "high"
	v.confidence == "low"
	v.test_code == false
	v.blocking == true
}

test_view_of_solo if {
	v := lib.view(fx.finding({"severity": "bogus", "confidence": "unknown", "test_code": true}))
	v.severity == "unknown"
	v.confidence == "medium"
	v.test_code == true
}

test_severity_unknown_assumed_per_kind if {
	lib.severity(fx.dependency({"severity": "unknown"})) == "high"
	lib.severity(fx.finding({"severity": "unknown"})) == "unknown"
	lib.solo_severity(fx.dependency({"severity": "unknown"})) == "high"
}

test_solo_finding_helpers if {
	f := fx.finding({"confidence": "low", "severity": "low"})
	lib.peers(f) == [lib.summary(f)]
	lib.confidence(f) == "low"
	lib.severity(f) == "low"
	lib.confidence(fx.finding({"confidence": "unknown"})) == "medium"
}

# --- baseline -----------------------------------------------------------------------------------

test_blocking_without_new_findings_only if {
	lib.blocking(fx.finding({"baseline": "existing"}))
	lib.blocking_flag(fx.finding({"baseline": "existing"}))
}

test_blocking_with_new_findings_only if {
	lib.blocking(fx.finding({"baseline": "new"})) with input.context.stage as "dev"
	lib.blocking(fx.finding({"baseline": "unknown"})) with input.context.stage as "dev"
	not lib.blocking(fx.finding({"baseline": "existing"})) with input.context.stage as "dev"
	lib.blocking_flag(fx.finding({"baseline": "existing"})) == false with input.context.stage as "dev"
	lib.blocking_flag(fx.finding({"baseline": "new"})) == true with input.context.stage as "dev"
}

test_group_is_existing_only_when_every_member_is if {
	old := object.union(bandit, {"baseline": "existing"})
	new := object.union(semgrep, {"baseline": "new"})
	d := object.union(fx.findings_doc("dev", [old, new]), {})
	lib.blocking(old) with input as d
	d2 := fx.findings_doc("dev", [old, object.union(semgrep, {"baseline": "existing"})])
	not lib.blocking(old) with input as d2
}

# --- evidence kinds -----------------------------------------------------------------------------

test_evidence_kinds_from_sboms_and_tools_in_formats_they_write if {
	d := fx.doc(
		"default",
		[fx.finding({"kind": "secret", "tool": "gitleaks"})],
		[],
		[
			fx.scan({"path": "sbom.cdx.json", "format": "cyclonedx", "tool": "cyclonedx-py"}),
			fx.scan({"path": "audit.json", "format": "pip-audit", "tool": "pip-audit"}),
			fx.scan({"path": "results.sarif", "format": "sarif", "tool": "CodeQL"}),
		],
	)
	lib.evidence_kinds == {"sbom", "dependency", "sast"} with input as d
}

# Attack (issue 13): empty SARIF files whose drivers say "Bandit" and "pip-audit" were taken as
# sast and dependency evidence; pip-audit writes no SARIF. A finding's kind proves nothing either.
test_evidence_needs_a_format_the_tool_writes if {
	d := fx.doc(
		"default",
		[fx.finding({"kind": "dependency", "tool": "Mystery"})],
		[],
		[
			fx.scan({"path": "a.sarif", "format": "sarif", "tool": "pip-audit"}),
			fx.scan({"path": "b.sarif", "format": "sarif", "tool": "pip-audit-ish"}),
			fx.scan({"path": "c.json", "format": "cyclonedx", "tool": "pip-audit"}),
		],
	)
	lib.evidence_kinds == {"sbom"} with input as d
}

test_evidence_kinds_exclude_incomplete_scans if {
	d := fx.doc("default", [], [], [fx.scan({"complete": false, "errors": ["boom"]})])
	lib.evidence_kinds == set() with input as d
}

test_evidence_kinds_include_accepted_incomplete_scans if {
	d := fx.doc("default", [], [], [fx.scan({"complete": false, "errors": ["boom"], "tool": "Bandit"})])
	lib.evidence_kinds == {"sast"} with input as d with data.config.scans.allow_incomplete as ["bandit"]
}

test_allow_incomplete_does_not_accept_hidden_results if {
	s := fx.scan({"complete": false, "errors": ["bandit: the tool left 1 result out"], "hidden_suppressions": 1})
	not lib.incomplete_allowed(s) with data.config.scans.allow_incomplete as ["bandit"]
	lib.incomplete_allowed(s) with data.config.scans.allow_incomplete as ["bandit"] with data.config.honour_inline_suppressions as true
	not lib.incomplete_allowed(object.union(s, {"hidden_suppressions": null})) with data.config.scans.allow_incomplete as ["bandit"]
}

test_scan_without_tool_or_complete_flag if {
	lib.tool_name({}) == ""
	lib.incomplete({"path": "x.json"})
}

# --- text helpers -------------------------------------------------------------------------------

test_where if {
	lib.where(fx.finding({})) == "app/run.py:12"
	lib.where(fx.finding({"location": {"path": "app/run.py", "start_line": null}})) == "app/run.py"
	lib.where(fx.finding({"location": null})) == "(no location)"
}

test_one_line_and_truncation if {
	lib.one_line("a\nb\r\n\tc", 100) == "a b c"
	lib.one_line("abcdef", 3) == "abc..."
	lib.one_line(null, 3) == ""
}

test_package_ref if {
	lib.package_ref({"name": "jinja2", "version": "2.10.1"}) == "jinja2@2.10.1"
	lib.package_ref({"name": "jinja2", "version": null}) == "jinja2"
	lib.package_ref({"purl": "pkg:pypi/jinja2"}) == "pkg:pypi/jinja2"
	lib.package_ref({}) == "(unnamed package)"
	lib.component_ref({"name": "x", "version": "1", "purl": null}) == "x@1"
}

test_rule_ref if {
	lib.rule_ref(fx.finding({})) == "bandit B602 (subprocess_popen_with_shell_equals_true)"
	lib.rule_ref(fx.finding({"rule_name": null})) == "bandit B602"
	lib.rule_ref(fx.finding({"rule_name": "B602"})) == "bandit B602"
	lib.rule_ref({"id": "x"}) == " "
}

test_str_and_arr if {
	lib.str({"a": 1}, "a") == ""
	lib.str({"a": "x"}, "a") == "x"
	lib.arr(null) == []
	lib.arr([1]) == [1]
}

test_violation_has_all_evidence_keys if {
	v := lib.violation("GATE-X-001", "m", {"scans": ["a.json"]}, "r")
	v == {
		"rule": "GATE-X-001", "msg": "m", "remediation": "r",
		"evidence": {"findings": [], "components": [], "scans": ["a.json"], "details": []},
	}
	w := lib.finding_violation("GATE-X-002", semgrep, "m", "r")
	w.evidence.findings == ["a1", "b2"]
}

# --- views: the whole run at once ---------------------------------------------------------------

# A finding for every combination of the fields the fast path of views reads.
combinations := [f |
	some s in ["critical", "high", "medium", "low", "info", "unknown"]
	some c in ["high", "medium", "low", "unknown"]
	some b in ["new", "existing", "unknown"]
	some t in [true, false]
	some k in ["sast", "dependency"]
	f := fx.finding({"id": sprintf("%s-%s-%s-%v-%s", [s, c, b, t, k]), "severity": s, "confidence": c, "baseline": b, "test_code": t, "kind": k})
]

# Waivers, VEX states and inline suppressions (what active(f) decides).
coverings := [f |
	some w in [null, fx.waiver]
	some x in [null, {"state": "not_affected"}, {"state": "in_triage"}]
	some u in [true, false]
	f := fx.finding({"id": sprintf("%v-%v-%v", [w, x, u]), "waiver": w, "vex": x, "suppressed": u})
]

# What views(kinds, sevs) must give: view(f) of each primary finding whose severity is in sevs.
expected_views(fs, kinds, sevs) := {v | some f in fs; f.kind in kinds; lib.primary(f); v := lib.view(f); v.severity in sevs}

test_views_equal_view_of_each_primary_finding if {
	fs := array.concat(combinations, coverings)
	every stage in ["default", "dev"] {
		every sevs in [{"critical", "high"}, {"medium", "low", "info", "unknown"}] {
			d := fx.findings_doc(stage, fs)
			got := {v | some v in lib.views({"sast", "dependency"}, sevs)} with input as d
			want := expected_views(fs, {"sast", "dependency"}, sevs) with input as d
			got == want
		}
	}
}

test_views_honour_inline_suppressions_like_active if {
	fs := coverings
	d := fx.findings_doc("default", fs)
	sevs := {"critical", "high", "medium", "low", "info", "unknown"}
	got := {v.f.id | some v in lib.views({"sast"}, sevs)} with input as d with data.config.honour_inline_suppressions as true
	want := {f.id | some f in fs; lib.active(f)} with data.config.honour_inline_suppressions as true
	got == want
	count(got) == 2
}

test_views_of_groups_and_sparse_findings if {
	b := bandit
	s := semgrep
	sparse := {"id": "c3", "kind": "sast", "severity": "critical"}
	d := fx.findings_doc("default", [b, s, sparse])
	vs := lib.views({"sast"}, {"critical", "high"}) with input as d
	{v.f.id: v.ids | some v in vs} == {"a1": ["a1", "b2"], "c3": ["c3"]}
	some v in vs
	v.f.id == "a1"
	v.severity == "high"
	v.also == " (also reported by semgrep)"
	v.rule == ["bandit", "B602", "subprocess_popen_with_shell_equals_true", null, ["CWE-78"]]
	some w in vs
	w.f.id == "c3"
	w.confidence == "medium"
	w.rule == [set(), set(), set(), set(), set()]
}

test_group_blocking_with_new_findings_only if {
	old := object.union(bandit, {"baseline": "existing"})
	new := object.union(semgrep, {"baseline": "new"})
	d := fx.findings_doc("dev", [old, new])
	[v] := lib.views({"sast"}, {"high"}) with input as d
	v.blocking == true
	e := fx.findings_doc("dev", [old, object.union(semgrep, {"baseline": "existing"})])
	[w] := lib.views({"sast"}, {"high"}) with input as e
	w.blocking == false
}

test_rule_key_marks_missing_fields if {
	k := lib.rule_key({"tool": "bandit", "rule_name": null})
	k == ["bandit", set(), null, set(), set()]
	lib.rule_of(k) == {"tool": "bandit", "rule_name": null}
	lib.rule_of(lib.rule_key(fx.finding({}))) == object.filter(fx.finding({}), lib.rule_fields)
}

test_in_test_code if {
	lib.in_test_code(fx.finding({"test_code": true}))
	not lib.in_test_code(fx.finding({}))
}

always_block_cfg := {"rules": ["semgrep:python.lang.eval", "B307"], "cwes": ["CWE-502"]}

test_in_test_code_except_what_data_always_blocks if {
	cfg := always_block_cfg
	lib.in_test_code(fx.finding({"test_code": true})) with data.config.test_code.always_block as cfg
	not lib.in_test_code(fx.finding({"test_code": true, "cwe": ["CWE-502"]})) with data.config.test_code.always_block as cfg
	not lib.in_test_code(fx.finding({"test_code": true, "rule_id": "b307"})) with data.config.test_code.always_block as cfg
	not lib.in_test_code(fx.finding({"test_code": true, "tool": "Semgrep", "rule_id": "python.lang.eval"})) with data.config.test_code.always_block as cfg
	lib.in_test_code(fx.finding({"test_code": true, "tool": "bandit", "rule_id": "python.lang.eval"})) with data.config.test_code.always_block as cfg
	not lib.in_test_code(fx.finding({"test_code": true, "rule_id": null, "cwe": null, "tool": null})) with data.config.test_code.always_block as {"rules": [":"]}
}

# Issue 17: a pickle load in test code that the gate proved reads a constant data pickle
# (input.constant_pickles, computed by the gate from its snapshot) is test code again; any
# other finding of the always-blocking classes, and the same finding without the proof, is not.
constant_pickle_finding := fx.finding({
	"id": "p1", "rule_id": "B301", "test_code": true, "cwe": ["CWE-502"],
	"location": {"path": "tests/test_x.py", "start_line": 7, "end_line": 7},
})

test_proven_constant_pickle_is_test_code_again if {
	cfg := always_block_cfg
	proof := [{"finding": "p1", "path": "tests/test_x.py", "line": 7, "imports": ["builtins.int"]}]
	lib.in_test_code(constant_pickle_finding) with data.config.test_code.always_block as cfg with input.constant_pickles as proof
	not lib.in_test_code(constant_pickle_finding) with data.config.test_code.always_block as cfg
	not lib.in_test_code(object.union(constant_pickle_finding, {"id": "p2"})) with data.config.test_code.always_block as cfg with input.constant_pickles as proof
	not lib.in_test_code(constant_pickle_finding) with data.config.test_code.always_block as cfg with input.constant_pickles as [{"finding": 1}]
}

test_proven_constant_pickle_warns_instead_of_blocking if {
	d := fx.doc("prod", [constant_pickle_finding], [], [fx.scan({})])
	proven := object.union(d, {"constant_pickles": [{"finding": "p1", "path": "tests/test_x.py", "line": 7, "imports": []}]})
	count(data.gate.sast.deny) == 1 with input as d
	count(data.gate.sast.deny) == 0 with input as proven
	some w in data.gate.sast.warn with input as proven
	w.rule == "GATE-SAST-003"
}

test_views_equal_view_when_data_always_blocks_in_test_code if {
	fs := array.concat(combinations, coverings)
	cfg := {"cwes": ["CWE-78"]} # every finding of the fixtures: those in test code are forced
	every sevs in [{"critical", "high"}, {"medium", "low", "info", "unknown"}] {
		d := fx.findings_doc("default", fs)
		got := {v | some v in lib.views({"sast", "dependency"}, sevs)} with input as d with data.config.test_code.always_block as cfg
		want := expected_views(fs, {"sast", "dependency"}, sevs) with input as d with data.config.test_code.always_block as cfg
		got == want
		every v in got {
			v.test_code == false
		}
	}
}

# forced_ids is written for speed (a set lookup per CWE, always_blocks only when data lists
# rules): it equals the plain definition, for CWE lists, rule lists, both, and findings whose
# cwe is absent, null or not an array (issue 20).
test_forced_ids_equal_the_plain_definition if {
	fs := array.concat(array.concat(combinations, coverings), [
		fx.finding({"id": "t1", "test_code": true, "cwe": ["CWE-502", "CWE-20"]}),
		fx.finding({"id": "t2", "test_code": true, "cwe": null, "rule_id": "B307"}),
		fx.finding({"id": "t3", "test_code": true, "cwe": "CWE-502"}),
		fx.finding({"id": "t4", "test_code": true, "tool": "Semgrep", "rule_id": "python.lang.eval", "cwe": {"a": "CWE-502"}}),
		fx.finding({"id": "t5", "test_code": false, "cwe": ["CWE-502"]}),
		object.remove(fx.finding({"id": "t6", "test_code": true}), ["cwe"]),
	])
	d := fx.findings_doc("default", fs)
	every cfg in [always_block_cfg, {"cwes": ["CWE-502", "CWE-78"]}, {"rules": ["B307"]}, {}, {"rules": [], "cwes": []}] {
		got := lib.forced_ids with input as d with data.config.test_code.always_block as cfg
		want := {f.id | some f in fs; f.test_code == true; lib.always_blocks(f)} with data.config.test_code.always_block as cfg
		got == want
	}
	lib.forced_ids == {"t1", "t2", "t4"} with input as d with data.config.test_code.always_block as always_block_cfg
}

# The two branches met in one merge: forced_by_cwe must leave out a finding the gate proved loads
# a constant data pickle, as always_blocks does, or the proof is lost for every CWE-listed rule.
test_forced_ids_leave_out_proven_constant_pickles if {
	fs := [
		fx.finding({"id": "t1", "test_code": true, "cwe": ["CWE-502"]}),
		fx.finding({"id": "t2", "test_code": true, "cwe": ["CWE-502"]}),
	]
	d := object.union(fx.findings_doc("default", fs), {"constant_pickles": [{"finding": "t1", "path": "tests/test_x.py", "line": 7, "imports": []}]})
	every cfg in [always_block_cfg, {"cwes": ["CWE-502"]}] {
		got := lib.forced_ids with input as d with data.config.test_code.always_block as cfg
		want := {f.id | some f in fs; f.test_code == true; lib.always_blocks(f)} with input as d with data.config.test_code.always_block as cfg
		got == want
		got == {"t2"}
	}
}

# --- one_lines: the messages of a run at once ----------------------------------------------------

long_text := concat("", [x | some _ in numbers.range(1, 30); x := "0123456789"])

test_one_lines_equal_one_line_of_each if {
	every texts in [
		[],
		["a\nb\r\n\tc", "plain", "", "two  spaces", " edge "],
		[long_text, "short", concat("", [long_text, "\n", long_text])],
		["na\u00efve\u00a0text", "\u3000wide\u2003space"],
		["with\u0000nul", "x\ty"],
	] {
		lib.one_lines(texts, 200) == [lib.one_line(t, 200) | some t in texts]
		lib.one_lines(texts, 5) == [lib.one_line(t, 5) | some t in texts]
	}
}

test_one_lines_cut_at_n_characters if {
	lib.one_lines(["abcdef", "abc", "\u00e9\u00e9\u00e9\u00e9"], 3) == ["abc...", "abc", "\u00e9\u00e9\u00e9..."]
}
