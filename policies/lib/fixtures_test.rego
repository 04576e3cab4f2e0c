# Builders of gate.input/v1 documents for the unit tests of the pack (no test rules here).
package gate.fixtures_test

import rego.v1

base_finding := {
	"id": "f0000001",
	"tool": "bandit",
	"tool_version": "1.9.4",
	"rule_id": "B602",
	"rule_name": "subprocess_popen_with_shell_equals_true",
	"kind": "sast",
	"severity": "high",
	"confidence": "high",
	"message": "subprocess call with shell=True identified, security issue.",
	"location": {"path": "app/run.py", "start_line": 12, "end_line": 12},
	"cwe": ["CWE-78"],
	"cve": [],
	"aliases": [],
	"package": null,
	"suppressed": false,
	"duplicates": [],
	"test_code": false,
	"baseline": "unknown",
	"source": {"path": "bandit.json", "format": "bandit", "index": 0},
	"waiver": null,
	"vex": null,
	"help_uri": null,
}

# finding(o): a finding with the fields of o replacing the defaults.
finding(o) := object.union(base_finding, o)

# dependency(o): a pip-audit style dependency finding.
dependency(o) := finding(object.union(
	{
		"id": "d0000001",
		"tool": "pip-audit",
		"tool_version": "2.9.0",
		"rule_id": "PYSEC-2021-66",
		"rule_name": null,
		"kind": "dependency",
		"severity": "high",
		"confidence": "unknown",
		"message": "Jinja2 before 2.11.3 allows a ReDoS in the urlize filter.",
		"location": null,
		"cwe": [],
		"cve": ["CVE-2020-28493"],
		"aliases": ["CVE-2020-28493", "GHSA-g3rq-g295-4j3m"],
		"package": {
			"name": "jinja2",
			"version": "2.10.1",
			"purl": "pkg:pypi/jinja2@2.10.1",
			"fixed_versions": ["2.11.3"],
		},
		"source": {"path": "pip-audit.json", "format": "pip-audit", "index": 0},
	},
	o,
))

base_component := {
	"name": "requests",
	"version": "2.31.0",
	"purl": "pkg:pypi/requests@2.31.0",
	"type": "library",
	"licenses": ["Apache-2.0"],
	"scope": "required",
	"direct": true,
	"hashes": {},
	"source": {"path": "sbom.cdx.json", "format": "cyclonedx"},
}

component(o) := object.union(base_component, o)

base_scan := {
	"path": "bandit.json",
	"sha256": "0000000000000000000000000000000000000000000000000000000000000000",
	"format": "bandit",
	"tool": "bandit",
	"tool_version": "1.9.4",
	"complete": true,
	"errors": [],
	"findings": 1,
	"components": 0,
}

scan(o) := object.union(base_scan, o)

# doc(stage, findings, components, scans): a whole input document.
doc(stage, findings, components, scans) := {
	"schema": "gate.input/v1",
	"context": {
		"stage": stage,
		"repository": "example/app",
		"ref": "refs/heads/main",
		"commit": "0123456789abcdef0123456789abcdef01234567",
		"pull_request": null,
		"time": "2026-11-26T12:00:00Z",
		"gate_version": "0.1.0",
	},
	"findings": findings,
	"components": components,
	"scans": scans,
	"waivers": [],
}

findings_doc(stage, findings) := doc(stage, findings, [], [])

# rules(vs): the set of rule ids of a set of violations.
rules(vs) := {v.rule | some v in vs}

# only(vs, id): the violations of one rule.
only(vs, id) := {v | some v in vs; v.rule == id}

waiver := {"id": "W-2026-014", "reason": "accepted", "approved_by": "security-officer", "expires": "2026-12-31", "ticket": "SEC-1"}
