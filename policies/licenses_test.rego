package gate.licenses_test

import rego.v1

import data.gate.fixtures_test as fx
import data.gate.licenses

# class(expr): 0 allow, 1 review, 2 deny, with the shipped lists.
class(expr) := licenses.expression_class(expr)

test_single_identifiers if {
	class("MIT") == 0
	class("Apache-2.0") == 0
	class("apache-2.0") == 0
	class("GPL-3.0-only") == 1
	class("LGPL-2.1-or-later") == 1
	class("MPL-2.0") == 1
	class("AGPL-3.0-only") == 2
	class("AGPL-3.0-or-later") == 2
	class("SSPL-1.0") == 2
	class("BUSL-1.1") == 2
	class("LicenseRef-acme-proprietary") == 1
	class("GPL-2.0+") == 1
}

test_unrecognised_identifier_needs_review if {
	class("Frobnicate-1.0") == 1
	class("Frobnicate-1.0") == 0 with data.config.licenses.unrecognised as "allow"
	class("Frobnicate-1.0") == 2 with data.config.licenses.unrecognised as "deny"
}

test_or_takes_the_better_branch if {
	class("MIT OR AGPL-3.0-only") == 0
	class("AGPL-3.0-only OR GPL-3.0-only") == 1
	class("(MIT OR Apache-2.0)") == 0
	class("WTFPL OR ISC") == 0
}

test_and_takes_the_worse_part if {
	class("MIT AND GPL-3.0-only") == 1
	class("MIT AND AGPL-3.0-only") == 2
	class("MIT AND Apache-2.0") == 0
}

test_with_exception_is_judged_by_the_licence if {
	class("GPL-2.0-only WITH Classpath-exception-2.0") == 1
	class("EPL-2.0 OR GPL-2.0 WITH Classpath-exception-2.0") == 1
	class("Apache-2.0 WITH LLVM-exception") == 0
	class("MIT OR GPL-2.0 WITH Classpath-exception-2.0") == 0
}

test_lower_case_operators if {
	class("mit or agpl-3.0-only") == 0
	class("MIT and AGPL-3.0-only") == 2
}

test_precedence_and_binds_tighter_than_or if {
	# MIT OR (AGPL AND Apache) = MIT
	class("MIT OR AGPL-3.0-only AND Apache-2.0") == 0

	# (MIT OR AGPL) AND GPL = GPL
	class("(MIT OR AGPL-3.0-only) AND GPL-3.0-only") == 1
}

test_nested_parentheses if {
	class("(MIT AND (GPL-3.0-only OR AGPL-3.0-only)) OR SSPL-1.0") == 1
	class("((((MIT))))") == 0
	class("(BSD-3-Clause AND (Apache-2.0 OR (MIT AND (ISC OR (AGPL-3.0-only)))))") == 0
	class("(SSPL-1.0 AND (Apache-2.0 OR (MIT AND (ISC OR (AGPL-3.0-only)))))") == 2
}

test_too_deep_or_unbalanced_is_judged_by_the_worst_identifier if {
	class("((((((MIT OR AGPL-3.0-only))))))") == 2
	class("(MIT OR AGPL-3.0-only") == 2
	class("MIT OR AGPL-3.0-only)") == 2
	class("(MIT OR GPL-3.0-only") == 1
}

test_free_text_names if {
	class("MIT License") == 0
	class("The MIT License") == 0
	class("Apache Software License") == 0
	class("License :: OSI Approved :: Apache Software License") == 0
	class("License :: OSI Approved :: BSD License") == 0
	class("Public Domain") == 0
	class("GNU Lesser General Public License") == 1
	class("GNU General Public License, version 2 with the GNU Classpath Exception") == 1
	class("Apache License, Version 2.0 and Common Development And Distribution License (CDDL) Version 1.0") == 1
	class("MPL 2.0 or EPL 1.0") == 1
	class("CDDL+GPL") == 1
	class("GNU Affero General Public License v3") == 2
	class("Server Side Public License, v 1") == 2
	class("Acme Corp Licence") == 1
	class("Foo, AGPL-3.0-only") == 2
	class("lgpl") == 1
}

test_component_with_denied_licence_denies if {
	c := fx.component({"name": "ghostscript", "version": "9.0", "purl": "pkg:generic/ghostscript@9.0", "licenses": ["AGPL-3.0-or-later"]})
	d := fx.doc("default", [], [c], [])
	vs := licenses.deny with input as d
	count(vs) == 1
	some v in vs
	v.rule == "GATE-LIC-001"
	v.msg == "component ghostscript@9.0 (pkg:generic/ghostscript@9.0) is licensed under 'AGPL-3.0-or-later': on the licence deny list"
	v.evidence == {"findings": [], "components": ["pkg:generic/ghostscript@9.0"], "scans": [], "details": []}
	count(licenses.warn) == 0 with input as d
}

test_component_with_dual_licence_choice_passes if {
	c := fx.component({"licenses": ["MIT OR AGPL-3.0-only"]})
	d := fx.doc("default", [], [c], [])
	count(licenses.deny) == 0 with input as d
	count(licenses.warn) == 0 with input as d
}

test_component_licence_entries_all_apply if {
	c := fx.component({"licenses": ["MIT", "GPL-3.0-only"]})
	d := fx.doc("default", [], [c], [])
	vs := licenses.warn with input as d
	fx.rules(vs) == {"GATE-LIC-002"}
	some v in vs
	v.msg == "component requests@2.31.0 (pkg:pypi/requests@2.31.0) is licensed under 'GPL-3.0-only': needs licence review"
}

test_component_with_and_expression_denied_part if {
	c := fx.component({"licenses": ["MIT AND AGPL-3.0-only"]})
	d := fx.doc("default", [], [c], [])
	fx.rules(licenses.deny) == {"GATE-LIC-001"} with input as d
}

test_allowed_licence_passes if {
	c := fx.component({})
	d := fx.doc("prod", [], [c], [])
	count(licenses.deny) == 0 with input as d
	count(licenses.warn) == 0 with input as d
}

test_missing_licence_warns if {
	every ls in [[], ["NOASSERTION"], ["NONE"], [""], null] {
		c := fx.component({"licenses": ls})
		d := fx.doc("staging", [], [c], [])
		vs := licenses.warn with input as d
		fx.rules(vs) == {"GATE-LIC-003"}
		count(licenses.deny) == 0 with input as d
	}
}

test_missing_licence_message if {
	c := fx.component({"licenses": [], "purl": null})
	d := fx.doc("default", [], [c], [])
	vs := licenses.warn with input as d
	some v in vs
	v.msg == "component requests@2.31.0 declares no licence"
	v.evidence.components == ["requests@2.31.0"]
}

test_missing_licence_ignored_in_dev if {
	c := fx.component({"licenses": []})
	d := fx.doc("dev", [], [c], [])
	count(licenses.warn) == 0 with input as d
	count(licenses.deny) == 0 with input as d
}

test_missing_licence_denies_where_the_profile_says_so if {
	c := fx.component({"licenses": []})
	d := fx.doc("prod", [], [c], [])
	fx.rules(licenses.deny) == {"GATE-LIC-004"} with input as d with data.config.stages.prod.missing_license as "deny"
	count(licenses.warn) == 0 with input as d with data.config.stages.prod.missing_license as "deny"
}

test_missing_licence_only_for_checked_types if {
	files := fx.component({"type": "file", "licenses": []})
	untyped := fx.component({"name": "x", "purl": "pkg:pypi/x@1", "type": null, "licenses": []})
	d := fx.doc("default", [], [files, untyped], [])
	vs := licenses.warn with input as d
	{v.evidence.components[0] | some v in vs} == {"pkg:pypi/x@1"}
}

test_excluded_components_are_not_judged if {
	c := fx.component({"scope": "excluded", "licenses": ["AGPL-3.0-only"]})
	e := fx.component({"scope": "excluded", "licenses": []})
	d := fx.doc("prod", [], [c, e], [])
	count(licenses.deny) == 0 with input as d
	count(licenses.warn) == 0 with input as d
}

test_lists_come_from_data if {
	c := fx.component({"licenses": ["GPL-3.0-only"]})
	d := fx.doc("default", [], [c], [])
	fx.rules(licenses.deny) == {"GATE-LIC-001"} with input as d with data.config.licenses.deny as ["GPL-*"]
}

test_unrecognised_setting_is_validated if {
	licenses.unrecognised_class == 1 with data.config.licenses.unrecognised as "bogus"
}

test_missing_licence_only_for_sbom_components if {
	audited := fx.component({"licenses": [], "source": {"path": "pip-audit.json", "format": "pip-audit"}})
	d := fx.doc("default", [], [audited], [])
	count(licenses.warn) == 0 with input as d
	unsourced := object.remove(fx.component({"licenses": []}), ["source"])
	e := fx.doc("default", [], [unsourced], [])
	fx.rules(licenses.warn) == {"GATE-LIC-003"} with input as e
	spdx := fx.component({"licenses": ["NOASSERTION"], "source": {"path": "sbom.spdx.json", "format": "spdx"}})
	g := fx.doc("default", [], [spdx], [])
	fx.rules(licenses.warn) == {"GATE-LIC-003"} with input as g
}

test_licences_of_any_component_are_judged if {
	audited := fx.component({"licenses": ["AGPL-3.0-only"], "source": {"path": "other.json", "format": "pip-audit"}})
	d := fx.doc("default", [], [audited], [])
	fx.rules(licenses.deny) == {"GATE-LIC-001"} with input as d
}

test_purl_types_can_be_skipped if {
	c := fx.component({"name": "bash", "version": "4.4-5", "purl": "pkg:deb/debian/bash@4.4-5?arch=amd64", "licenses": ["GPL-3.0-only"]})
	d := fx.doc("default", [], [c], [])
	fx.rules(licenses.warn) == {"GATE-LIC-002"} with input as d
	count(licenses.warn) == 0 with input as d with data.config.licenses.skip_purl_types as ["deb", "apk"]
}

test_debian_names if {
	class("Expat") == 0
	class("public-domain") == 0
	class("PD") == 0
}

test_missing_licences_warn_once_per_sbom if {
	# Issue 17: an SBOM from a requirements file carries no licences; one warning per SBOM, not
	# one per component, and every component in its evidence.
	cs := [fx.component({"licenses": [], "name": sprintf("pkg%d", [i]), "purl": sprintf("pkg:pypi/pkg%d@1.0", [i])}) | some i in numbers.range(1, 7)]
	other := fx.component({"licenses": [], "name": "lone", "version": "1.0", "purl": "pkg:pypi/lone@1.0", "source": {"path": "other.cdx.json", "format": "cyclonedx"}})
	d := fx.doc("staging", [], array.concat(cs, [other]), [])
	vs := licenses.warn with input as d
	count(vs) == 2
	fx.rules(vs) == {"GATE-LIC-003"}
	some v in vs
	startswith(v.msg, "7 components of ")
	endswith(v.msg, "declare no licence: pkg:pypi/pkg1@1.0, pkg:pypi/pkg2@1.0, pkg:pypi/pkg3@1.0, pkg:pypi/pkg4@1.0, pkg:pypi/pkg5@1.0 and 2 more")
	count(v.evidence.components) == 7
	some w in vs
	w.msg == "component lone@1.0 (pkg:pypi/lone@1.0) declares no licence"
}

test_missing_licences_of_a_small_sbom_are_all_named if {
	cs := [fx.component({"licenses": [], "name": n, "purl": sprintf("pkg:pypi/%s@1.0", [n])}) | some n in ["a", "b"]]
	vs := licenses.warn with input as fx.doc("staging", [], cs, [])
	some v in vs
	endswith(v.msg, "declare no licence: pkg:pypi/a@1.0, pkg:pypi/b@1.0")
	licenses.more_text(2, 5) == ""
}
