package gate.packages_test

import rego.v1

import data.gate.fixtures_test as fx
import data.gate.packages

pycrypto := fx.component({"name": "pycrypto", "version": "2.6.1", "purl": "pkg:pypi/pycrypto@2.6.1", "licenses": ["Public Domain"]})

test_banned_component_denies if {
	c := pycrypto
	d := fx.doc("default", [], [c, fx.component({})], [])
	vs := packages.deny with input as d
	count(vs) == 1
	some v in vs
	v.rule == "GATE-PKG-001"
	v.msg == "banned package pkg:pypi/pycrypto present: pycrypto@2.6.1 (unmaintained since 2013, with known unfixed vulnerabilities (CVE-2013-7459, CVE-2018-6594))"
	v.evidence.components == ["pkg:pypi/pycrypto@2.6.1"]
	v.evidence.findings == []
	v.evidence.details == ["unmaintained since 2013, with known unfixed vulnerabilities (CVE-2013-7459, CVE-2018-6594)", "matched entry: pkg:pypi/pycrypto"]
	endswith(v.remediation, "Use pycryptodome (or cryptography) instead.")
}

test_banned_package_named_by_a_finding_denies if {
	f := fx.dependency({"package": {"name": "PyCrypto", "version": "2.6.1", "purl": null, "fixed_versions": []}})
	d := fx.findings_doc("default", [f])
	vs := packages.deny with input as d
	some v in vs
	v.evidence.findings == ["d0000001"]
	v.evidence.components == []
	contains(v.msg, "present: PyCrypto@2.6.1")
}

test_waived_finding_still_shows_the_banned_package if {
	f := fx.dependency({"waiver": fx.waiver, "package": {"name": "pycrypto", "version": "2.6.1", "purl": "pkg:pypi/pycrypto@2.6.1"}})
	d := fx.findings_doc("default", [f])
	fx.rules(packages.deny) == {"GATE-PKG-001"} with input as d
}

test_component_and_finding_give_one_violation if {
	c := pycrypto
	f := fx.dependency({"package": {"name": "pycrypto", "version": "2.6.1", "purl": "pkg:pypi/pycrypto@2.6.1"}})
	d := fx.doc("default", [f], [c], [])
	vs := packages.deny with input as d
	count(vs) == 1
	some v in vs
	v.evidence.components == ["pkg:pypi/pycrypto@2.6.1"]
	v.evidence.findings == ["d0000001"]
}

test_prefix_matches_on_a_package_boundary_only if {
	d := fx.doc("default", [], [fx.component({"name": "colourama-extra", "purl": "pkg:pypi/colourama-extra@1.0"})], [])
	count(packages.deny) == 0 with input as d
}

test_pypi_names_are_normalised if {
	c := fx.component({"name": "Python3_Dateutil", "purl": "pkg:pypi/Python3_Dateutil@2.8.0?repository_url=https://x.test#sub"})
	d := fx.doc("default", [], [c], [])
	fx.rules(packages.deny) == {"GATE-PKG-001"} with input as d
}

test_typosquat_with_capital_i if {
	c := fx.component({"name": "jeIlyfish", "version": "0.7.2", "purl": "pkg:pypi/jeIlyfish@0.7.2"})
	d := fx.doc("default", [], [c], [])
	fx.rules(packages.deny) == {"GATE-PKG-001"} with input as d
	ok := fx.component({"name": "jellyfish", "version": "1.0", "purl": "pkg:pypi/jellyfish@1.0"})
	e := fx.doc("default", [], [ok], [])
	count(packages.deny) == 0 with input as e
}

test_banned_versions_only if {
	bad := fx.component({"name": "event-stream", "version": "3.3.6", "purl": "pkg:npm/event-stream@3.3.6"})
	good := fx.component({"name": "event-stream", "version": "4.0.1", "purl": "pkg:npm/event-stream@4.0.1"})
	d := fx.doc("default", [], [bad, good], [])
	vs := packages.deny with input as d
	some v in vs
	v.evidence.components == ["pkg:npm/event-stream@3.3.6"]
	e := fx.doc("default", [], [good], [])
	count(packages.deny) == 0 with input as e
}

test_same_name_in_another_ecosystem_does_not_match_a_purl_prefix if {
	c := fx.component({"name": "pycrypto", "purl": "pkg:npm/pycrypto@1.0.0"})
	d := fx.doc("default", [], [c], [])
	count(packages.deny) == 0 with input as d
}

entries := [
	{"name": "left_pad", "type": "npm", "reason": "unpublished in 2016"},
	{"name": "anything-goes"},
	{"purl_prefix": "pkg:npm/@evil-scope/", "reason": "compromised namespace"},
]

test_name_entries_and_namespaces if {
	a := fx.component({"name": "left-pad", "version": "1.3.0", "purl": "pkg:npm/left-pad@1.3.0"})
	b := fx.component({"name": "left-pad", "version": "1.3.0", "purl": "pkg:pypi/left-pad@1.3.0"})
	c := fx.component({"name": "anything_goes", "version": "1", "purl": null})
	e := fx.component({"name": "@evil-scope/x", "version": "1", "purl": "pkg:npm/%40evil-scope/x@1"})
	g := fx.component({"name": "x", "version": "1", "purl": "pkg:npm/@evil-scope/x@1"})
	d := fx.doc("default", [], [a, b, c, e, g], [])
	vs := packages.deny with input as d with data.config.packages.banned as entries
	{v.msg | some v in vs} == {
		"banned package left_pad present: left-pad@1.3.0 (unpublished in 2016)",
		"banned package anything-goes present: anything_goes@1",
		"banned package pkg:npm/@evil-scope/ present: @evil-scope/x@1, x@1 (compromised namespace)",
	}
}

test_discouraged_package_warns if {
	c := fx.component({"name": "nose", "version": "1.3.7", "purl": "pkg:pypi/nose@1.3.7"})
	d := fx.doc("default", [], [c], [])
	count(packages.deny) == 0 with input as d
	vs := packages.warn with input as d
	fx.rules(vs) == {"GATE-PKG-002"}
	some v in vs
	v.remediation == "Plan to replace pkg:pypi/nose. Use pytest instead."
}

test_entry_without_reason_or_alternative if {
	c := fx.component({"name": "x", "purl": "pkg:pypi/x@1"})
	d := fx.doc("default", [], [c], [])
	vs := packages.deny with input as d with data.config.packages.banned as [{"purl_prefix": "pkg:pypi/x"}]
	some v in vs
	v.msg == "banned package pkg:pypi/x present: x@2.31.0"
	v.evidence.details == ["matched entry: pkg:pypi/x"]
}

test_clean_run_passes if {
	d := fx.doc("prod", [fx.dependency({})], [fx.component({})], [])
	count(packages.deny) == 0 with input as d
	count(packages.warn) == 0 with input as d
}

test_keys_of_odd_entries_and_packages if {
	packages.pkg_key({"purl": "not-a-purl", "name": "X_y"}) == {"base": "not-a-purl", "type": null, "name": "x-y", "version": null}
	packages.entry_key({}) == {"base": null, "namespace": null, "name": null, "by_name": false, "type": null, "versions": null}
}

test_name_entry_type_rules if {
	x := packages.entry_key({"name": "foo"})
	packages.matches(x, packages.pkg_key({"name": "Foo", "purl": "pkg:npm/foo@1"}))
	y := packages.entry_key({"name": "foo", "type": "pypi"})
	packages.matches(y, packages.pkg_key({"name": "foo"}))
	packages.matches(y, packages.pkg_key({"name": "foo", "purl": "pkg:pypi/foo@1"}))
	not packages.matches(y, packages.pkg_key({"name": "foo", "purl": "pkg:npm/foo@1"}))
	packages.matches(y, packages.pkg_key({"name": "foo", "purl": "foo-1.0.tar.gz"}))
	packages.pkg_key({}).name == null
}

test_line_break_in_a_purl_does_not_hide_a_banned_package if {
	odd := fx.component({"name": "odd", "purl": "pkg:pypi/odd\nname@1"})
	d := fx.doc("default", [], [odd, pycrypto], [])
	count(packages.component_lines) == 3 with input as d
	vs := packages.deny with input as d
	{v.evidence.components[0] | some v in vs} == {"pkg:pypi/pycrypto@2.6.1"}
}

test_entries_are_matched_only_against_packages_that_mention_them if {
	packages.squashed("PKG:PyPI/Py_Crypto.X%40y") == "pkg:pypi/pycryptox@y"
	packages.tokens(packages.entry_key({"purl_prefix": "pkg:pypi/python3-dateutil"})) == {"pkg:pypi/python3dateutil", "python3dateutil"}
	packages.tokens(packages.entry_key({})) == set()
	packages.suspects(["a", "b"], ["pkg:npm/x", "pkg:npm/zz"], {"zz"}) == ["b"]
	packages.suspects(["a", "b"], ["one line"], {"zz"}) == ["a", "b"]
}
