package gate.coverage_test

import rego.v1

import data.gate.coverage
import data.gate.fixtures_test as fx

with_unscanned(stage, entries) := object.union(fx.doc(stage, [], [], [fx.scan({})]), {"unscanned": entries})

vendored := {"path": "src/node_modules/pkg/x.py", "reason": "no code scanner scanned it (code scanners that ran: bandit, semgrep)", "test_code": false}

link := {"path": "lib", "reason": "symbolic link to a folder outside the project: not followed", "test_code": false}

helper := {"path": "tests/helpers.py", "reason": "no code scanner scanned it (code scanners that ran: bandit)", "test_code": true}

test_tree_not_known_says_nothing if {
	d := fx.doc("prod", [], [], [fx.scan({})])
	count(coverage.deny) == 0 with input as d
	count(coverage.warn) == 0 with input as d
}

test_everything_scanned_passes if {
	d := with_unscanned("prod", [])
	count(coverage.deny) == 0 with input as d
	count(coverage.warn) == 0 with input as d
}

test_unscanned_production_code_denies_in_every_stage if {
	every stage in ["default", "dev", "staging", "prod"] {
		d := with_unscanned(stage, [vendored])
		vs := coverage.deny with input as d
		count(vs) == 1
		some v in vs
		v.rule == "GATE-SCAN-020"
		v.msg == "1 source file of production code no code scanner covered: src/node_modules/pkg/x.py (no code scanner scanned it (code scanners that ran: bandit, semgrep))"
		v.evidence.details == ["src/node_modules/pkg/x.py: no code scanner scanned it (code scanners that ran: bandit, semgrep)"]
		contains(v.remediation, "coverage.exclude")
	}
}

test_several_files_are_one_violation if {
	d := with_unscanned("dev", [link, vendored])
	vs := coverage.deny with input as d
	count(vs) == 1
	some v in vs
	startswith(v.msg, "2 source files of production code no code scanner covered: lib (symbolic link to a folder outside the project: not followed), and 1 more")
	count(v.evidence.details) == 2
}

test_unscanned_test_code_warns_only if {
	d := with_unscanned("prod", [helper])
	count(coverage.deny) == 0 with input as d
	ws := coverage.warn with input as d
	count(ws) == 1
	some w in ws
	w.rule == "GATE-SCAN-021"
	w.evidence.details == ["tests/helpers.py: no code scanner scanned it (code scanners that ran: bandit)"]
}

test_details_are_capped if {
	many := [{"path": sprintf("gen/m%03d.py", [i]), "reason": "no code scanner scanned it", "test_code": false} | some i in numbers.range(1, 60)]
	d := with_unscanned("prod", many)
	some v in coverage.deny with input as d
	count(v.evidence.details) == 51
	v.evidence.details[50] == "... and 10 more"
}

test_attacker_text_stays_on_one_line if {
	odd := {"path": "a\nb.py", "reason": "x\r\ny", "test_code": false}
	d := with_unscanned("prod", [odd, "not an object"])
	some v in coverage.deny with input as d
	v.evidence.details == ["a b.py: x y"]
}
