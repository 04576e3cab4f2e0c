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
