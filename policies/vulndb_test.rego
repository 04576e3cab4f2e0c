package gate.vulndb_test

import rego.v1

import data.gate.fixtures_test as fx
import data.gate.vulndb

cfg := {"stages": {
	"default": {"fail_on": "deny", "vulndb": {"max_age_days": 7, "stale": "warn", "unmatched": "warn"}},
	"prod": {"fail_on": "deny", "vulndb": {"stale": "deny", "unmatched": "deny"}},
	"lax": {"fail_on": "deny", "vulndb": {"stale": "ignore", "unmatched": "ignore"}},
}}

db(o) := object.union(
	{
		"status": "ok",
		"path": "/cache/vulndb",
		"index": "/cache/vulndb/index.json",
		"sha256": "sha256:0000000000000000000000000000000000000000000000000000000000000000",
		"source": "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip",
		"fetched": "2026-12-01T00:00:00Z",
		"newest_record": "2026-12-01T00:00:00Z",
		"records": 2651,
		"components": 5,
		"age_days": 3,
		"unmatched": [],
	},
	o,
)

run(stage, d) := object.union(fx.doc(stage, [], [], []), {"vulndb": d})

no_version := {"name": "left-pad", "version": null, "purl": "pkg:pypi/left-pad", "reason": "no version", "sources": ["sbom.cdx.json"]}

test_fresh_database_passes if {
	d := run("prod", db({}))
	count(vulndb.deny) == 0 with input as d with data.config as cfg
	count(vulndb.warn) == 0 with input as d with data.config as cfg
}

test_stale_database_warns_by_default if {
	d := run("default", db({"age_days": 30}))
	vs := vulndb.warn with input as d with data.config as cfg
	fx.rules(vs) == {"GATE-VULNDB-002"}
	some v in vs
	contains(v.msg, "30 days old")
	contains(v.msg, "older than the 7 days stage default accepts")
	v.evidence.scans == ["/cache/vulndb/index.json"]
	count(vulndb.deny) == 0 with input as d with data.config as cfg
}

test_stale_database_denies_in_prod if {
	d := run("prod", db({"age_days": 8}))
	vs := vulndb.deny with input as d with data.config as cfg
	fx.rules(vs) == {"GATE-VULNDB-001"}
	some v in vs
	contains(v.msg, "sha256:0000")
	contains(v.msg, "2651 records")
}

test_age_at_the_limit_is_not_stale if {
	d := run("prod", db({"age_days": 7}))
	count(vulndb.deny) == 0 with input as d with data.config as cfg
}

test_stale_ignored_where_data_says_so if {
	d := run("lax", db({"age_days": 700, "unmatched": [no_version]}))
	count(vulndb.deny) == 0 with input as d with data.config as cfg
	count(vulndb.warn) == 0 with input as d with data.config as cfg
}

test_missing_database_is_not_judged_here if {
	d := run("prod", {"status": "missing", "path": "/cache/vulndb", "components": 3})
	count(vulndb.deny) == 0 with input as d with data.config as cfg
}

test_unmatched_components_warn_by_default if {
	d := run("default", db({"unmatched": [no_version]}))
	vs := vulndb.warn with input as d with data.config as cfg
	fx.rules(vs) == {"GATE-VULNDB-004"}
	some v in vs
	v.evidence.components == ["pkg:pypi/left-pad"]
	v.evidence.details == ["pkg:pypi/left-pad: no version"]
	contains(v.msg, "1 SBOM component(s) could not be matched")
}

test_unmatched_components_deny_in_prod if {
	u2 := {"name": "evil", "version": "latest", "purl": null, "reason": "no purl", "sources": []}
	d := run("prod", db({"unmatched": [no_version, u2]}))
	vs := vulndb.deny with input as d with data.config as cfg
	fx.rules(vs) == {"GATE-VULNDB-003"}
	some v in vs
	v.evidence.components == ["evil@latest", "pkg:pypi/left-pad"]
}

test_many_unmatched_are_capped if {
	us := [object.union(no_version, {"purl": sprintf("pkg:pypi/p%d", [i])}) | some i in numbers.range(1, 60)]
	d := run("default", db({"unmatched": us}))
	vs := vulndb.warn with input as d with data.config as cfg
	some v in vs
	count(v.evidence.details) == 51
	v.evidence.details[50] == "... and 10 more"
}

test_defaults_without_data if {
	d := run("default", db({"age_days": 8, "records": null}))
	vs := vulndb.warn with input as d with data.config as {"stages": {"default": {"fail_on": "deny"}}}
	some v in vs
	v.rule == "GATE-VULNDB-002"
	not contains(v.msg, "records")
}

# --- declared version ranges (issue 17) ----------------------------------------------------------

range_cfg := {"stages": {
	"default": {"fail_on": "deny", "vulndb": {"ranges": "warn"}, "thresholds": {"dependency": {"deny": "high"}}},
	"prod": {"fail_on": "deny", "vulndb": {"ranges": "deny"}},
	"library": {"fail_on": "deny", "vulndb": {"ranges": "warn"}},
	"lax": {"fail_on": "deny", "vulndb": {"ranges": "ignore"}},
}}

partly_range := {
	"name": "urllib3", "purl": "pkg:pypi/urllib3", "range": "vers:pypi/>=1.26|<3", "sources": ["sbom.cdx.json"],
	"advisories": [{"id": "PYSEC-2023-192", "severity": "high", "every_version": false, "fixed": ["1.26.17", "2.0.6"]}],
	"raise_to": ">=2.0.6",
}

full_range := {
	"name": "urllib3", "purl": "pkg:pypi/urllib3", "range": "vers:pypi/>=1.26|<1.26.5", "sources": ["sbom.cdx.json"],
	"advisories": [{"id": "PYSEC-2021-108", "severity": "unknown", "every_version": true, "fixed": ["1.26.5"]}],
	"raise_to": ">=1.26.5",
}

test_range_admitting_vulnerable_versions_denies_in_prod if {
	# Attack (issue 17): an application swaps its vulnerable pin for a range; prod still blocks.
	d := run("prod", db({"ranges": [partly_range]}))
	vs := vulndb.deny with input as d with data.config as range_cfg
	fx.rules(vs) == {"GATE-VULNDB-006"}
	some v in vs
	contains(v.msg, "raise the lower bound to >=2.0.6")
	v.evidence.components == ["pkg:pypi/urllib3"]
}

test_range_admitting_vulnerable_versions_warns_for_a_library if {
	every stage in ["library", "default"] {
		d := run(stage, db({"ranges": [partly_range]}))
		count(vulndb.deny) == 0 with input as d with data.config as range_cfg
		vs := vulndb.warn with input as d with data.config as range_cfg
		fx.rules(vs) == {"GATE-VULNDB-007"}
	}
	d := run("lax", db({"ranges": [partly_range]}))
	count(vulndb.deny) == 0 with input as d with data.config as range_cfg
	count(vulndb.warn) == 0 with input as d with data.config as range_cfg
}

test_range_whose_every_version_is_vulnerable_denies_everywhere if {
	every stage in ["library", "default", "lax", "prod"] {
		d := run(stage, db({"ranges": [full_range, partly_range]}))
		vs := vulndb.deny with input as d with data.config as range_cfg
		"GATE-VULNDB-005" in fx.rules(vs)
		some v in vs
		v.rule == "GATE-VULNDB-005"
		contains(v.msg, "every version the range pkg:pypi/urllib3 vers:pypi/>=1.26|<1.26.5 admits")
	}

	# below the dependency deny threshold it is one of the ranges that warn
	low := object.union(full_range, {"advisories": [{"id": "X-1", "severity": "low", "every_version": true, "fixed": []}], "raise_to": null})
	d := run("default", db({"ranges": [low]}))
	count(vulndb.deny) == 0 with input as d with data.config as range_cfg
	some w in vulndb.warn with input as d with data.config as range_cfg
	contains(w.msg, "no fixed version covers every advisory")
}

test_no_ranges_no_rule if {
	d := run("prod", db({"ranges": [{"name": "x", "purl": "pkg:pypi/x", "range": "vers:pypi/*", "advisories": "bogus"}]}))
	count(vulndb.deny) == 0 with input as d with data.config as range_cfg
}
