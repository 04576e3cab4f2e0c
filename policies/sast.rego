# Static analysis of the project's own code (bandit, semgrep, CodeQL, any SARIF SAST tool).
#
# Thresholds come from the stage profile (data.config.stages.<stage>.thresholds.sast): a
# finding blocks when its severity reaches `deny` AND the tool's confidence reaches
# `min_confidence`; findings below that but at or above `warn` only warn. Findings in test code
# never block (test fixtures use asserts, fake keys and verify=False on purpose) but warn from
# `test_code_warn` up, so they stay visible. The kinds judged here are `thresholds.sast.kinds`
# (default: sast and iac).
package gate.sast

import rego.v1

import data.gate.lib

thresholds := lib.setting(["thresholds", "sast"], {})

kinds := {k | some k in object.get(thresholds, "kinds", ["sast", "iac"])}

deny_severities := lib.severities_from(object.get(thresholds, "deny", "high"))

warn_severities := lib.severities_from(object.get(thresholds, "warn", "medium"))

severities_in_tests := lib.severities_from(object.get(thresholds, "test_code_warn", "high"))

confident := lib.confidences_from(object.get(thresholds, "min_confidence", "medium"))

# Calibration data (data.config.sast, scanning.yaml; issue 17):
#   quiet_rules       "tool:rule_id" of hygiene rules whose findings never warn here (bandit's
#                     assert, try/except/pass, import of subprocess/pickle, every subprocess
#                     call): they stay in the verdict's findings; a finding of one of them that
#                     reaches the deny threshold still blocks.
#   name_only_rules   "tool:rule_id" of rules that judge a call by its name alone (bandit B301:
#                     any pickle.loads, round trips in tests included); a flaw only they report
#                     warns instead of blocking when a complete scan by one of
#   confirming_tools  is in the input: the gate's semgrep pack judges the same weakness on the
#                     syntax tree, and a flaw it confirms is one group with a finding of another
#                     rule. Without such a scan they block as before (fail closed).
sast_cfg := object.get(lib.cfg, "sast", {})

lower_set(path) := {lower(r) | some r in object.get(sast_cfg, path, []); is_string(r)}

quiet_rules := lower_set("quiet_rules")

name_only_rules := lower_set("name_only_rules")

confirming_tools := lower_set("confirming_tools")

key_of(p) := lower(sprintf("%s:%s", [lib.text(object.get(p, "tool", null)), lib.text(object.get(p, "rule_id", null))]))

# confirmer_present: a complete scan by a confirming tool is among the inputs.
confirmer_present if {
	some s in input.scans
	lib.tool_name(s) in confirming_tools
	not lib.incomplete(s)
}

# rule_keys: the distinct rule keys (c.rule) of the candidates, collected once (a run has a few
# hundred rules and up to 10^5 candidates; quiet_keys, name_only_keys and rule_texts share it).
rule_keys := {c.rule | some c in candidates}

# quiet_keys, name_only_keys: the rule keys (c.rule) of the candidates whose rule is listed.
quiet_keys := {k | some k in rule_keys; key_of(lib.rule_of(k)) in quiet_rules}

name_only_keys := {k | some k in rule_keys; key_of(lib.rule_of(k)) in name_only_rules}

group_unconfirmed(peers) if {
	confirmer_present
	count(name_only_rules) > 0
	every p in peers {
		key_of(p) in name_only_rules
	}
}

else := false

# unconfirmed_at: the indices i of the candidates c = candidates[i] whose flaw is unconfirmed:
# every active report of it comes from a name-only rule and a confirming scan is present. For a
# candidate without duplicates that is c.rule in name_only_keys; for a group, every peer's rule
# is name-only (group_unconfirmed), which needs c's own rule in name_only_keys too (c is one of
# its peers). Found once, in one pass with a set lookup per candidate: the rules test
# `i in unconfirmed_at` instead of calling a function per candidate, which cost seconds at
# 10^5 findings (issue 20).
unconfirmed_at := {i |
	confirmer_present
	nk := name_only_keys
	count(nk) > 0
	some i, c in candidates
	c.rule in nk
	only_name_only(c)
}

only_name_only(c) if not c.f.duplicates[0]

else := group_unconfirmed(c.peers)

# muted_at: the indices of the candidates muted(c, name_only_keys): a name-only report the
# confirming scan did not confirm, in test code (where the flaw classes of
# test_code.always_block are judged as production code): the syntax-aware rule judged it (a
# pickle round trip in a test), so it neither blocks nor warns.
muted_at := {i | some i in unconfirmed_at; candidates[i].f.test_code == true}

# reportable: the severities any rule of this package reports.
reportable := (deny_severities | warn_severities) | severities_in_tests

# candidates: one view per flaw of a kind judged here (the primary finding of its group) whose
# severity some rule of this package reports.
candidates := data.gate.lib.views(kinds, reportable)

# lines[i]: the message of candidates[i] on one line (for all candidates at once).
lines := data.gate.lib.one_lines([object.get(c.f, "message", "") | some c in candidates], 200)

# A candidate is severe when its severity reaches the deny threshold with enough confidence
# (c.severity in deny_severities, c.confidence in confident): what blocks outside test code. The
# rules test it written out, cheapest test first; SAST-002 its negation through
# blocking_confidences.
#
# blocking_confidences[s]: for a severity s at or above the warn threshold, the confidences with
# which a finding of severity s is severe (none below the deny threshold).
blocking_confidences := {s: cs | some s in warn_severities; cs := confidences_at(s)}

confidences_at(s) := confident if s in deny_severities

else := set()

# cwe_text(f): "CWE-78, CWE-88; " or "".
cwe_text(f) := "" if f.cwe == []

else := sprintf("%s; ", [concat(", ", cwes)]) if {
	cwes := [x | some x in lib.arr(object.get(f, "cwe", null)); is_string(x)]
	count(cwes) > 0
} else := ""

guidance(f) := sprintf(" Guidance: %s.", [f.help_uri]) if {
	is_string(f.help_uri)
	f.help_uri != ""
} else := ""

# rule_texts[c.rule]: the parts of the texts that depend only on the rule, computed once per
# distinct rule (a run has a few hundred rules and up to 10^5 findings).
rule_texts := {k: {"rule": lib.rule_ref(r), "cwe": cwe_text(r), "guidance": guidance(r)} |
	some k in rule_keys
	r := lib.rule_of(k)
}

# violation(id, c, line, r, prefix): line is c's message on one line, r the texts of its rule;
# the message and remediation share the location and rule text. The rules read the rules they
# use into local variables first: the embedded engine looks a rule up by its path each time.
violation(id, c, line, r, prefix) := {
	"rule": id,
	"msg": sprintf("%s%s at %s: %s [severity %s, confidence %s]%s", [
		prefix,
		r.rule,
		at,
		line,
		c.severity,
		c.confidence,
		c.also,
	]),
	"evidence": {"findings": c.ids, "components": [], "scans": [], "details": []},
	"remediation": sprintf(
		"Fix the flaw at %s (%s%s).%s If it is a false positive or an accepted risk, record a waiver (reason, approver, expiry) for finding %s; inline suppressions do not open the gate.",
		[at, r.cwe, r.rule, r.guidance, c.f.id],
	),
} if {
	at := lib.where(c.f)
}

# METADATA
# title: Static-analysis finding at or above the stage threshold
# description: >-
#   A SAST or IaC finding in production code whose severity reaches the stage profile's
#   `thresholds.sast.deny` and whose confidence reaches `thresholds.sast.min_confidence` blocks
#   the delivery. Cross-tool duplicates (bandit and semgrep on the same flaw) give one violation
#   listing every finding id. Calibration (issue 17): a flaw that only a name-only rule reports
#   (data.config.sast.name_only_rules) does not block when a complete scan by a confirming tool
#   (data.config.sast.confirming_tools) is in the input; it warns (GATE-SAST-002).
# custom:
#   id: GATE-SAST-001
#   severity: high
#   control: NIST SP 800-53 SA-11(1) Static code analysis; SSDF PW.7.2
#   remediation: >-
#     Fix the code the finding points at, or record an accepted risk as a waiver with reason,
#     approver and expiry in the reviewed waivers file.
deny contains v if {
	cs := candidates
	ls := lines
	rt := rule_texts
	sevs := deny_severities
	confs := confident
	unc := unconfirmed_at
	some i, c in cs
	c.severity in sevs
	c.blocking
	not c.test_code
	c.confidence in confs
	not i in unc
	v := violation("GATE-SAST-001", c, ls[i], rt[c.rule], "")
}

# METADATA
# title: Static-analysis finding below the blocking threshold
# description: >-
#   A SAST or IaC finding in production code at or above `thresholds.sast.warn` that does not
#   block (its severity is below `thresholds.sast.deny`, or the tool's confidence is below
#   `thresholds.sast.min_confidence`) is reported as a warning so that it is triaged. Findings of
#   the hygiene rules in data.config.sast.quiet_rules (bandit's assert, try/except/pass, imports
#   of subprocess and pickle, every subprocess call: issue 17) do not warn; they stay in the
#   verdict's findings, and the gate's semgrep rule for non-constant subprocess arguments
#   reports the calls that matter.
# custom:
#   id: GATE-SAST-002
#   severity: medium
#   control: NIST SP 800-53 SA-11(1) Static code analysis; SSDF PW.7.2
#   remediation: Triage the finding; fix it or record why it is acceptable.
warn contains v if {
	cs := candidates
	ls := lines
	rt := rule_texts
	confs := blocking_confidences
	qk := quiet_keys
	mut := muted_at
	some i, c in cs
	not c.test_code
	not c.rule in qk
	blocking := confs[c.severity]
	not c.confidence in blocking
	not i in mut
	v := violation("GATE-SAST-002", c, ls[i], rt[c.rule], "")
}

# METADATA
# title: Static-analysis finding below the blocking threshold
# description: >-
#   (Second part of GATE-SAST-002, issue 17.) A flaw at the deny threshold that only a name-only
#   rule reports (data.config.sast.name_only_rules, e.g. bandit B301 on every pickle.loads)
#   warns instead of blocking when a complete scan by a confirming tool
#   (data.config.sast.confirming_tools: the gate's semgrep pack, which tells a pickle round trip
#   from a load of outside data on the syntax tree) is in the input and did not report it. In
#   test code such an unconfirmed report neither blocks nor warns (a pickle round trip in a test).
# custom:
#   id: GATE-SAST-002
#   severity: medium
#   control: NIST SP 800-53 SA-11(1) Static code analysis; SSDF PW.7.2
#   remediation: Triage the finding; fix it or record why it is acceptable.
warn contains v if {
	cs := candidates
	ls := lines
	rt := rule_texts
	sevs := deny_severities
	confs := confident
	some i in unconfirmed_at
	c := cs[i]
	c.severity in sevs
	c.blocking
	not c.test_code
	c.confidence in confs
	not c.f.test_code == true
	v := violation("GATE-SAST-002", c, ls[i], rt[c.rule], "not confirmed by a syntax-aware rule: ")
}

# METADATA
# title: Static-analysis finding in test code
# description: >-
#   Findings in test code (paths matching data.config.test_paths) never block: tests use
#   asserts, fixed keys and disabled certificate checks against local servers on purpose. From
#   `thresholds.sast.test_code_warn` up they warn, so a real flaw in a test helper stays visible.
#   Findings of data.config.sast.quiet_rules do not warn here either (issue 17).
# custom:
#   id: GATE-SAST-003
#   severity: low
#   control: NIST SP 800-53 SA-11(1) Static code analysis; SSDF PW.7.2
#   remediation: Check that the flagged test code cannot reach production (fixtures, helpers shipped in the package).
warn contains v if {
	cs := candidates
	ls := lines
	rt := rule_texts
	sevs := severities_in_tests
	qk := quiet_keys
	some i, c in cs
	c.test_code
	c.severity in sevs
	not c.rule in qk
	v := violation("GATE-SAST-003", c, ls[i], rt[c.rule], "test code: ")
}

# METADATA
# title: Pre-existing static-analysis finding (baseline)
# description: >-
#   With `new_findings_only` in the stage profile, a finding that would block but is already in
#   the baseline (every tool's report of it is `existing`) warns instead: the change did not add
#   it, and the warning keeps the debt visible.
# custom:
#   id: GATE-SAST-004
#   severity: medium
#   control: NIST SP 800-53 SA-11(1) Static code analysis; SSDF PW.7.2
#   remediation: Plan the fix of the existing flaw; it blocks in stages that judge all findings.
warn contains v if {
	cs := candidates
	ls := lines
	rt := rule_texts
	sevs := deny_severities
	confs := confident
	some i, c in cs
	not c.blocking
	not c.test_code
	c.severity in sevs
	c.confidence in confs
	v := violation("GATE-SAST-004", c, ls[i], rt[c.rule], "existing (baseline): ")
}
