# Shared helpers of the shipped policy pack (package gate.lib).
#
# Every rule of the pack goes through these helpers, so the contract's uniform semantics live in
# one place:
#   - active(f): the ONE place that skips findings covered by a waiver, a suppressing VEX state or
#     (only when data says so) an inline suppression;
#   - profile / setting(path, fallback): the stage profile (data.config.stages.default overlaid
#     with the current stage);
#   - primary(f) / group_ids(f): one violation per cross-tool duplicate group;
#   - severity(f) / confidence(f): a group's effective severity and confidence;
#   - blocking(f): the baseline rule (new_findings_only) in one place;
#   - view(f) / views(kinds, sevs): all of the above, computed once per finding for the rules of
#     a family (views: for a whole run at once);
#   - evidence_kinds: which kinds of evidence the scans of this run provide (a tool's evidence,
#     only from a report format it writes: data evidence.producers);
#   - violation(...) / finding_violation(...): the violation object, always with all four
#     evidence keys;
#   - one_line(x, n) / one_lines(texts, n): finding text on one line, cut to n characters.
#
# Defaults written here are only a safety net for a data file that leaves a key out; the values a
# security officer tunes live in policies/config/*.yaml.
#
# Performance (10^5 findings; the embedded engine, regorus 0.13, interprets the syntax tree, so
# the cost is about the number of expressions, calls and rule references evaluated per finding):
#   - each rule package calls views(kinds, sevs) once: one pass over input.findings with table
#     lookups and no function call per finding; findings with duplicates (few) take the
#     general path (primary, peers, group_view);
#   - per-rule and per-licence texts are computed once per distinct value, and finding messages
#     are put on one line with one regular expression over all of them (one_lines);
#   - rules are read into local variables before a loop (a rule reference is looked up by its
#     path each time), functions hot loops call have one definition (the engine evaluates every
#     definition of a function at each call), and rules of other packages refer to this
#     package's rules by their full path, data.gate.lib.NAME (the engine re-evaluates the
#     package for every reference made through an import alias).
package gate.lib

import rego.v1

# ---------------------------------------------------------------------------------------------
# Data and the stage profile

cfg := c if {
	c := data.config
	is_object(c)
} else := {}

stages := s if {
	s := cfg.stages
	is_object(s)
} else := {}

# The stage named by the run; a stage the data does not define falls back to "default".
stage := s if {
	s := input.context.stage
	is_string(s)
	is_object(stages[s])
} else := "default"

default_profile := p if {
	p := stages["default"]
	is_object(p)
} else := {}

stage_profile := p if {
	p := stages[stage]
	is_object(p)
} else := {}

# Deep merge: a stage only states what differs from the default profile.
profile := object.union(default_profile, stage_profile)

# setting(path, fallback): a value of the stage profile.
setting(path, fallback) := object.get(profile, path, fallback)

# ---------------------------------------------------------------------------------------------
# Which findings count

default_suppressing_states := ["not_affected", "false_positive", "resolved", "resolved_with_pedigree"]

suppressing_states := {s | some s in object.get(cfg, ["vex", "suppressing_states"], default_suppressing_states)}

honour_inline_suppressions if cfg.honour_inline_suppressions == true

# suppressing_flag: the value of f.suppressed that covers a finding: true where data honours
# inline suppressions, else an empty set, which no JSON value equals (one cheap test per
# finding: f.suppressed != suppressing_flag).
suppressing_flag if honour_inline_suppressions

else := set()

# active(f): the finding is not covered by a waiver, a suppressing VEX state, or an honoured
# inline suppression. Every rule about findings goes through this one helper (one body: it runs
# once per finding of a large run).
active(f) if {
	object.get(f, "waiver", null) == null
	not object.get(f, ["vex", "state"], null) in suppressing_states
	object.get(f, "suppressed", false) != suppressing_flag
}

active_flag(f) if active(f)

else := false

# in_test_code(f): the path of f matches data.config.test_paths (Python sets f.test_code, from
# trusted data, anchored at the project root) and neither its rule nor one of its CWEs is listed
# in data.config.test_code.always_block: those are judged as production code wherever they are.
in_test_code(f) if {
	f.test_code == true
	not always_blocks(f)
}

in_test_code_flag(f) if in_test_code(f)

else := false

always_block := object.get(cfg, ["test_code", "always_block"], {})

always_block_rules := {lower(r) | some r in object.get(always_block, "rules", []); is_string(r)}

always_block_cwes := {c | some c in object.get(always_block, "cwes", []); is_string(c)}

# always_blocks(f): data names f's rule ("tool:rule_id" or the bare rule id, without regard to
# case) or one of its CWEs as blocking in test code too, and the gate did not prove f's call
# loads a constant data pickle (constant_pickle_ids). One definition: a function's every
# definition is evaluated at each call.
always_blocks(f) if {
	rule := text(object.get(f, "rule_id", null))
	keys := {lower(rule), lower(sprintf("%s:%s", [text(object.get(f, "tool", null)), rule]))}
	cwes := {c | some c in arr(object.get(f, "cwe", null))}
	count(((keys & always_block_rules) | (cwes & always_block_cwes))) > 0
	not constant_pickle_ids[f.id]
}

# constant_pickle_ids: findings in test code whose call the gate itself proved (from its
# snapshot of the source, never from a report) loads only pickles that are program constants
# and import only harmless builtins or the project's own classes (input.constant_pickles,
# scanners.run.constant_pickles; issue 17): an old version's pickle kept to test backward
# compatibility is data a reviewer can read through its imports, not an opaque payload. Such a
# finding is judged as test code (it warns); a payload importing os.system is never listed.
constant_pickle_ids := {e.finding |
	some e in arr(object.get(input, "constant_pickles", []))
	is_string(e.finding)
}

# forced_ids: the ids of the findings in test code that always_blocks (few): views judges them
# as production code. always_blocks is a function call per finding (about 30 us each with the
# embedded engine, seconds at 10^5 findings): a listed CWE is found with a set lookup per CWE
# of each test-code finding, and the call is made only when data lists rules (issue 20; unit
# tests hold the result equal to the plain definition).
forced_ids := forced_by_cwe | forced_by_rule

forced_by_cwe := {f.id |
	cwes := always_block_cwes
	count(cwes) > 0
	some f in input.findings
	f.test_code == true
	listed := object.get(f, "cwe", null)
	is_array(listed)
	some c in listed
	cwes[c]
	not constant_pickle_ids[f.id]
}

forced_by_rule := {f.id |
	count(always_block_rules) > 0
	some f in input.findings
	f.test_code == true
	always_blocks(f)
}

# ---------------------------------------------------------------------------------------------
# Scales

severity_rank := {"critical": 5, "high": 4, "medium": 3, "low": 2, "info": 1, "unknown": 0}

severity_names := ["unknown", "info", "low", "medium", "high", "critical"]

confidence_rank := {"high": 3, "medium": 2, "low": 1, "unknown": 0}

confidence_names := ["unknown", "low", "medium", "high"]

# rank(sev): 5 for critical down to 1 for info; unknown or anything else is 0.
rank(sev) := object.get(severity_rank, sev, 0)

conf_rank(conf) := object.get(confidence_rank, conf, 0)

# at_least(sev, min): sev is at or above min on the severity scale. A threshold outside the
# scale ranks 0, so a misspelt threshold blocks more, never less (the data schema refuses it).
at_least(sev, min) if rank(sev) >= rank(min)

confidence_at_least(conf, min) if conf_rank(conf) >= conf_rank(min)

# severities_from(min): the set of severities at or above min, for a cheap `in` test per finding.
severities_from(min) := {s | some s in severity_names; at_least(s, min)}

confidences_from(min) := {c | some c in confidence_names; confidence_at_least(c, min)}

# ---------------------------------------------------------------------------------------------
# Cross-tool duplicate groups
#
# Python links findings of different tools that report the same flaw (f.duplicates holds the
# other ids). A group gives one violation per rule: the primary finding is the active one with
# the smallest id among the active members of the same kind (a waived or VEX-covered member
# never hides the others). Only findings that have duplicates are indexed, so the common case
# costs nothing and there is no findings x findings loop. The index holds a summary rather than
# the finding, so the same finding read twice (identical fields) cannot conflict.

# solo(f): f has no duplicates (the common case, kept cheap).
solo(f) if not f.duplicates[0]

# grouped_findings: the findings that have duplicates (few), found in one pass.
grouped_findings := [f | some f in input.findings; f.duplicates[0]]

summary(f) := {
	"id": f.id,
	"tool": object.get(f, "tool", null),
	"rule_id": object.get(f, "rule_id", null),
	"kind": object.get(f, "kind", null),
	"severity": object.get(f, "severity", "unknown"),
	"confidence": object.get(f, "confidence", "unknown"),
	"baseline": object.get(f, "baseline", "unknown"),
	"active": active_flag(f),
}

grouped := {f.id: summary(f) | some f in grouped_findings}

# peers(f): the active findings of f's group (f included) of the same kind as f.
peers(f) := [summary(f)] if solo(f)

else := peers_in(f, grouped)

# peers_in(f, index): peers(f) of a finding with duplicates, from an index of summaries that
# holds at least the findings of f's kind that have duplicates.
peers_in(f, index) := [p |
	some id in ({f.id} | {d | some d in f.duplicates})
	p := index[id]
	p.active
	p.kind == f.kind
]

# group_ids(f): every id of f's group, sorted: the evidence of the one violation.
group_ids(f) := [f.id] if solo(f)

else := sort({f.id} | {d | some d in f.duplicates})

# primary(f): f is active and represents its group (for a solo finding: f is active).
primary(f) if {
	active(f)
	solo(f)
}

primary(f) if {
	not solo(f)
	active(f)
	every p in peers(f) {
		f.id <= p.id
	}
}

# group_tools(f): the tools that reported f's flaw (active members of the same kind).
group_tools(f) := sort({t | some p in peers(f); t := p.tool; is_string(t)})

# ---------------------------------------------------------------------------------------------
# Effective severity, confidence and baseline state of a finding (its group's)

# raw_severity(f): the group's highest severity on the scale; anything off the scale is unknown.
raw_severity(f) := severity_names[rank(object.get(f, "severity", "unknown"))] if solo(f)

else := peers_severity(peers(f))

# peers_severity(ps): the highest severity of a group's members on the scale.
peers_severity(ps) := severity_names[max([rank(p.severity) | some p in ps])]

unknown_severity_as := setting(["unknown_severity_as"], {})

assume_severity(kind, sev) := object.get(unknown_severity_as, kind, "unknown") if sev == "unknown"

else := sev

# severity(f): the highest severity its group reports. Unknown stays unknown unless the
# profile's unknown_severity_as maps the kind (e.g. pip-audit gives no severity: a known
# vulnerability of unknown severity is assumed high).
severity(f) := assume_severity(object.get(f, "kind", null), raw_severity(f))

raw_confidence(f) := confidence_names[conf_rank(object.get(f, "confidence", "unknown"))] if solo(f)

else := peers_confidence(peers(f))

peers_confidence(ps) := confidence_names[max([conf_rank(p.confidence) | some p in ps])]

assume_confidence := setting(["thresholds", "sast", "assume_confidence"], "medium")

# confidence(f): the highest confidence its group reports; a tool that states none (SARIF never
# does) gets the profile's assume_confidence rather than being dropped.
confidence(f) := assume_confidence if raw_confidence(f) == "unknown"

else := raw_confidence(f)

# existing(f): every active member of the group is in the baseline.
existing(f) if {
	solo(f)
	f.baseline == "existing"
}

existing(f) if {
	not solo(f)
	peers_existing(peers(f))
}

peers_existing(ps) if {
	every p in ps {
		p.baseline == "existing"
	}
}

new_findings_only if setting(["new_findings_only"], false) == true

# blocking(f): the finding may deny. With new_findings_only, a finding already in the baseline
# only warns: the team is not blocked by debt it did not add, and the warning keeps it visible.
blocking(_) if not new_findings_only

blocking(f) if {
	new_findings_only
	not existing(f)
}

blocking_flag(f) if not new_findings_only

else if blocking(f)

else := false

# view(f): what the rules of a family need to know about a primary finding: its group's
# severity(f), confidence(f) and blocking(f), f.test_code, and for messages and evidence
# group_ids(f) ("ids"), also_reported(f) ("also") and the rule that reported it ("rule":
# rule_key(f)). views(kinds, sevs) gives the views of a whole run; view(f) is for the few
# findings judged one by one.
view(f) := {
	"f": f,
	"severity": solo_severity(f),
	"confidence": object.get(known_confidence, object.get(f, "confidence", null), assume_confidence),
	"test_code": in_test_code_flag(f),
	"blocking": blocking_flag(f),
	"ids": [f.id],
	"also": "",
	"rule": rule_key(f),
} if solo(f)

else := group_view(f, peers(f))

# group_view(f, ps): view(f) of a finding with duplicates, from its peers ps (computed once),
# which it holds too ("peers").
group_view(f, ps) := {
	"f": f,
	"severity": assume_severity(object.get(f, "kind", null), peers_severity(ps)),
	"confidence": c,
	"test_code": in_test_code_flag(f),
	"blocking": b,
	"ids": group_ids(f),
	"also": peers_also(f, ps),
	"rule": rule_key(f),
	"peers": ps,
} if {
	raw := peers_confidence(ps)
	c := object.get(known_confidence, raw, assume_confidence)
	b := peers_blocking(ps)
}

# rule_key(f): the fields that identify the rule that reported f ([tool, rule_id, rule_name,
# help_uri, cwe]), for texts computed once per rule; a field f lacks is an empty set (a value
# no JSON document holds). rule_of(k) is the finding-like object a key stands for.
rule_fields := ["tool", "rule_id", "rule_name", "help_uri", "cwe"]

rule_key(f) := [object.get(f, name, set()) | some name in rule_fields]

rule_of(k) := {name: x | some i, name in rule_fields; x := k[i]; x != set()}

peers_blocking(ps) if not new_findings_only

else := false if peers_existing(ps)

else := true

# views(kinds, sevs): view(f) of every primary finding of one of `kinds` whose severity is in
# `sevs`. This is what the rule packages iterate. One pass picks the findings of these kinds;
# of those, a finding without duplicates that has every key of the input schema (the common
# case) is judged with table lookups: reach[f.kind][f.severity] is its severity where that is in
# `sevs` (undefined otherwise), and the three tests of active(f) are written out (unit tests
# hold views equal to view(f) and active(f)). The lookups rely on what the input schema
# guarantees for such a finding and the gate's readers produce: severity, confidence and
# baseline on their scales, test_code a boolean. Findings with duplicates, hand-written ones
# that lack keys, and test-code findings data makes block (forced_ids) take the general path.
# Rules are read into local variables before the loops: the embedded engine looks a rule up by
# its path at each reference.
views(kinds, sevs) := array.concat(
	[{
		"f": f,
		"severity": sev,
		"confidence": conf[f.confidence],
		"test_code": f.test_code,
		"blocking": block[f.baseline],
		"ids": [f.id],
		"also": "",
		"rule": [f.tool, f.rule_id, f.rule_name, f.help_uri, f.cwe],
	} |
		some f in mine
		scale := reach[f.kind]
		sev := scale[f.severity]
		not f.duplicates[0]
		count(f) == 22
		f.waiver == null
		not object.get(f, ["vex", "state"], null) in states
		f.suppressed != flag
		not forced[f.id]
	],
	array.concat(
		[v |
			some f in mine
			f.duplicates[0]
			active(f)
			ps := peers_in(f, index)
			every p in ps {
				f.id <= p.id
			}
			v := group_view(f, ps)
			v.severity in sevs
		],
		array.concat(
			[v |
				some f in mine
				count(f) != 22
				not f.duplicates[0]
				active(f)
				v := group_view(f, [summary(f)])
				v.severity in sevs
			],
			[v |
				some f in mine
				forced[f.id]
				count(f) == 22
				not f.duplicates[0]
				active(f)
				v := view(f)
				v.severity in sevs
			],
		),
	),
) if {
	reach := {kind: {s: x | some s, x in severities_of(kind); x in sevs} | some kind in kinds}
	mine := [f | some f in input.findings; reach[f.kind]]
	index := {f.id: summary(f) | some f in mine; f.duplicates[0]}
	conf := confidence_of
	block := blocking_of
	states := suppressing_states
	flag := suppressing_flag
	forced := forced_ids
}

# severities_of(kind)[s]: severity(f) of a finding of that kind without duplicates whose own
# severity is s.
severities_of(kind) := {s: assume_severity(kind, object.get(known_severity, s, "unknown")) | some s in severity_names}

# confidence_of[c], blocking_of[b]: confidence(f) and blocking(f) of a finding without
# duplicates whose own confidence is c and baseline state is b.
confidence_of := {c: object.get(known_confidence, c, assume_confidence) | some c in confidence_names}

blocking_of := {b: blocking_flag({"baseline": b}) | some b in ["new", "existing", "unknown"]}

# solo_severity(f): severity(f) for a finding without duplicates.
solo_severity(f) := assume_severity(object.get(f, "kind", null), object.get(known_severity, object.get(f, "severity", null), "unknown"))

# The scale names that stand for themselves (anything else is unknown).
known_severity := {s: s | some s in severity_names; s != "unknown"}

known_confidence := {c: c | some c in confidence_names; c != "unknown"}

# ---------------------------------------------------------------------------------------------
# Evidence provided by the scans of this run

sbom_formats := {x | some x in object.get(cfg, ["evidence", "sbom_formats"], ["cyclonedx", "spdx"])}

tool_kinds := object.get(cfg, ["evidence", "tools"], {})

# producers[tool][format]: the kinds of finding a tool writes in a report format (scanning.yaml
# evidence.producers). A report provides its tool's evidence only in a format the tool writes.
producers := object.get(cfg, ["evidence", "producers"], {})

writes(s) if is_array(object.get(producers, [tool_name(s), s.format], null))

allow_incomplete := {lower(t) | some t in object.get(cfg, ["scans", "allow_incomplete"], []); is_string(t)}

tool_name(s) := lower(s.tool) if is_string(s.tool)

else := ""

incomplete(s) if not s.complete == true

# hid(s): the report left results out under inline suppressions (or cannot say) and the data
# does not honour them; allow_incomplete does not accept that (only honour_inline_suppressions).
hid(s) if {
	object.get(s, "hidden_suppressions", 0) != 0
	not honour_inline_suppressions
}

incomplete_allowed(s) if {
	tool_name(s) in allow_incomplete
	not hid(s)
}

# An incomplete scan provides evidence only when data accepts it as incomplete.
counts_as_evidence(s) if not incomplete(s)

counts_as_evidence(s) if incomplete_allowed(s)

evidence_kinds contains "sbom" if {
	some s in input.scans
	s.format in sbom_formats
	counts_as_evidence(s)
}

# A scan provides its tool's kinds of evidence when the tool writes the scan's format (findings
# prove nothing by themselves: their kind, too, comes from the producer table).
evidence_kinds contains k if {
	some s in input.scans
	counts_as_evidence(s)
	writes(s)
	some k in object.get(tool_kinds, tool_name(s), [])
}

# ---------------------------------------------------------------------------------------------
# Text for messages (finding text is attacker-controlled data: kept short and on one line; the
# outputs escape it for their medium). Helpers take the object and the key, so a missing field
# gives "" rather than an undefined (and so silently missing) violation.

text(x) := x if is_string(x)

else := ""

# str(obj, key): obj[key] when it is a string, else "".
str(obj, key) := text(object.get(obj, key, null))

# arr(x): x when it is an array, else [] (a field that is null or absent).
arr(x) := x if is_array(x)

else := []

# Whitespace written out: `\s` differs between regorus (Unicode) and OPA (ASCII).
whitespace := `[\t\n\v\f\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]+`

one_line(x, n) := truncated(regex.replace(text(x), whitespace, " "), n)

# one_lines(texts, n): [one_line(t, n) | some t in texts] for an array of strings, with one
# regular expression over the texts joined by a separator (NUL: not whitespace) rather than one
# per text. A text holding the separator would split apart: the counts then differ and each text
# takes one_line.
one_lines(texts, n) := cut(joined, lines, n) if {
	joined := regex.replace(concat("\u0000", texts), whitespace, " ")
	lines := split(joined, "\u0000")
	count(lines) == count(texts)
} else := [one_line(t, n) | some t in texts]

# cut(joined, lines, n): the lines truncated to n characters. Only a line of more than n ASCII
# characters in a row, or with any other character, can be longer than n: when no line is,
# nothing is cut (one search rather than a count per line).
cut(joined, lines, n) := lines if {
	not regex.match(sprintf("[^\\x00-\\x7f]|[\\x01-\\x7f]{%d}", [n + 1]), joined)
} else := [truncated(t, n) | some t in lines]

truncated(t, n) := concat("", [substring(t, 0, n), "..."]) if count(t) > n

else := t

# where(f): "path:line", "path", or "(no location)".
where(f) := sprintf("%s:%v", [p, l]) if {
	p := f.location.path
	is_string(p)
	l := f.location.start_line
	is_number(l)
} else := p if {
	p := f.location.path
	is_string(p)
} else := "(no location)"

# package_ref(p): "name@version", "name", or the purl.
package_ref(p) := sprintf("%s@%s", [p.name, p.version]) if {
	is_string(p.name)
	is_string(p.version)
} else := p.name if {
	is_string(p.name)
} else := p.purl if {
	is_string(p.purl)
} else := "(unnamed package)"

# rule_ref(f): "bandit B602 (subprocess_popen_with_shell_equals_true)" or "bandit B602".
rule_ref(f) := sprintf("%s %s (%s)", [str(f, "tool"), str(f, "rule_id"), one_line(f.rule_name, 80)]) if {
	is_string(f.rule_name)
	f.rule_name != ""
	f.rule_name != f.rule_id
} else := sprintf("%s %s", [str(f, "tool"), str(f, "rule_id")])

# also_reported(f): " (also reported by semgrep)" for a duplicate group, else "".
also_reported(f) := "" if solo(f)

else := peers_also(f, peers(f))

peers_also(f, ps) := sprintf(" (also reported by %s)", [concat(", ", others)]) if {
	others := [t | some t in sort({t | some p in ps; t := p.tool; is_string(t)}); t != f.tool]
	count(others) > 0
} else := ""

# ---------------------------------------------------------------------------------------------
# Violation objects

empty_evidence := {"findings": [], "components": [], "scans": [], "details": []}

# violation(id, msg, evidence, remediation): evidence may name only some of the four keys.
violation(id, msg, evidence, remediation) := {
	"rule": id,
	"msg": msg,
	"evidence": object.union(empty_evidence, evidence),
	"remediation": remediation,
}

# finding_violation(id, f, msg, remediation): evidence is every id of f's duplicate group.
finding_violation(id, f, msg, remediation) := {
	"rule": id,
	"msg": msg,
	"evidence": {"findings": group_ids(f), "components": [], "scans": [], "details": []},
	"remediation": remediation,
}

# component_ref(c): the purl evidence names a component by (name@version when it has none).
component_ref(c) := c.purl if is_string(c.purl)

else := package_ref(c)
