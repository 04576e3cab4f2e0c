# The differential-test policy: deny and warn rules over findings, components and scans whose
# messages are built with many builtins, so that any disagreement between engines shows.
package gate.opadiff

import rego.v1

import data.gate.opadiff_lib as lib

# METADATA
# title: Severe finding
# description: An active finding at or above the deny severity.
# custom:
#   id: OPADIFF-001
#   severity: high
#   control: TEST differential
#   remediation: Fix it.
deny contains v if {
	some f in input.findings
	lib.active(f)
	lib.at_least(f.severity, lib.cfg.deny_at)
	not f.test_code
	v := {
		"rule": "OPADIFF-001",
		"msg": sprintf("%s %s at %s: %s [%s/%s]", [f.tool, f.rule_id, lib.where(f), lib.short(f.message), upper(f.severity), f.confidence]),
		"evidence": {"findings": [f.id], "details": [sprintf("cwe %v", [lib.cwe_numbers(f)])]},
	}
}

warn_level(f) if not lib.at_least(f.severity, lib.cfg.deny_at)

warn_level(f) if f.test_code

# METADATA
# title: Medium finding
# description: An active finding between the warn and deny severities, or any in test code.
# custom:
#   id: OPADIFF-002
#   severity: medium
#   control: TEST differential
#   remediation: Look at it.
warn contains v if {
	some f in input.findings
	lib.active(f)
	lib.at_least(f.severity, lib.cfg.warn_at)
	warn_level(f)
	parts := split(lower(f.rule_id), "/")
	v := {
		"rule": "OPADIFF-002",
		"msg": sprintf("%s: %s (last part %q, %d parts, tool %s)", [f.id, trim_space(lib.short(f.message)), parts[count(parts) - 1], count(parts), replace(f.tool, " ", "_")]),
		"evidence": {"findings": [f.id]},
	}
}

# METADATA
# title: Tool summary
# description: One warning per tool with counts and weights (numbers, sets, sorting, formatting).
# custom:
#   id: OPADIFF-003
#   severity: low
#   control: TEST differential
#   remediation: None.
warn contains v if {
	tools := {f.tool | some f in input.findings}
	some tool in tools
	mine := [f | some f in input.findings; f.tool == tool]
	sevs := {f.severity | some f in mine}
	total := sum([lib.weight(f) | some f in mine])
	ids := sort([f.id | some f in mine])
	paths := {p | some f in mine; p := object.get(f, ["location", "path"], null); is_string(p)}
	exts := {e | some p in paths; e := regex.find_n(`\.[A-Za-z0-9]+$`, p, 1)[_]}
	v := {
		"rule": "OPADIFF-003",
		"msg": sprintf("%s: %d findings, weight %d, average %v, severities %s, extensions %s, first %s, noisy %v", [
			tool, count(mine), total, round((total * 100) / count(mine)) / 100,
			concat(",", sort(sevs)), concat(",", exts), substring(ids[0], 0, 12),
			tool in lib.cfg.noisy_tools,
		]),
		"evidence": {"findings": array.slice(ids, 0, 5), "details": [sprintf("%d distinct paths", [count(paths)])]},
	}
}

# METADATA
# title: Copyleft licence
# description: A component whose licence matches a copyleft pattern.
# custom:
#   id: OPADIFF-004
#   severity: medium
#   control: TEST differential
#   remediation: Replace the component.
deny contains v if {
	some c in input.components
	some lic in c.licenses
	some pattern in lib.cfg.licence_patterns
	glob.match(pattern, [], lic)
	v := {
		"rule": "OPADIFF-004",
		"msg": sprintf("%s@%s is licensed %s (matches %s)", [c.name, object.get(c, "version", "?"), lic, pattern]),
		"evidence": {"components": [object.get(c, "purl", c.name)]},
	}
}

# METADATA
# title: Component inventory
# description: Counts of components per type and scope (comprehensions over objects).
# custom:
#   id: OPADIFF-005
#   severity: info
#   control: TEST differential
#   remediation: None.
warn contains v if {
	count(input.components) > 0
	by_type := {t: n | some c in input.components; t := object.get(c, "type", "none"); n := count([1 | some d in input.components; object.get(d, "type", "none") == t])}
	unlicensed := count([c | some c in input.components; count(object.get(c, "licenses", [])) == 0])
	v := {
		"rule": "OPADIFF-005",
		"msg": sprintf("components by type %v; %d without licence; purl types %s", [
			by_type, unlicensed,
			concat(" ", sort({lower(regex.replace(p, `^pkg:([^/]+)/.*$`, "$1")) | some c in input.components; p := c.purl; is_string(p); startswith(p, "pkg:")})),
		]),
		"evidence": {"details": [json.marshal(sort(object.keys(by_type)))]},
	}
}

# METADATA
# title: Incomplete scan
# description: A scan that reports it did not complete, with its errors.
# custom:
#   id: OPADIFF-006
#   severity: high
#   control: TEST differential
#   remediation: Rerun the scanner.
deny contains v if {
	some s in input.scans
	not s.complete
	errs := [lib.short(e) | some e in s.errors]
	v := {
		"rule": "OPADIFF-006",
		"msg": sprintf("%s (%s %s) is incomplete: %s", [s.path, s.tool, object.get(s, "tool_version", "?"), concat(" | ", errs)]),
		"evidence": {"scans": [s.path], "details": errs},
	}
}

# METADATA
# title: Context
# description: Time and context handling (RFC 3339 parsing, dates, weekdays).
# custom:
#   id: OPADIFF-007
#   severity: info
#   control: TEST differential
#   remediation: None.
warn contains v if {
	ns := time.parse_rfc3339_ns(input.context.time)
	[y, m, d] := time.date(ns)
	later := time.add_date(ns, 0, 0, 30)
	v := {
		"rule": "OPADIFF-007",
		"msg": sprintf("stage %s on %d-%d-%d (%s); in 30 days %v; %d scans, %d findings", [
			input.context.stage, y, m, d, time.weekday(ns), time.date(later), count(input.scans), count(input.findings),
		]),
		"evidence": {"details": [format_int(count(input.findings), 16)]},
	}
}

# METADATA
# title: Duplicated or suppressed
# description: Findings linked across tools or suppressed inline (sets, every, object.union).
# custom:
#   id: OPADIFF-008
#   severity: low
#   control: TEST differential
#   remediation: None.
warn contains v if {
	some f in input.findings
	count(f.duplicates) > 0
	every d in f.duplicates {
		is_string(d)
	}
	merged := object.union({"id": f.id, "n": 0}, {"n": count(f.duplicates)})
	v := {
		"rule": "OPADIFF-008",
		"msg": sprintf("%s has %d duplicates; suppressed %v; baseline %s", [merged.id, merged.n, f.suppressed, f.baseline]),
		"evidence": {"findings": array.concat([f.id], f.duplicates)},
	}
}
