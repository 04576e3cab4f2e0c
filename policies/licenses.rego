# Licence compliance of third-party components (from SBOMs: input.components[].licenses).
#
# Every licence is classed allow (0), review (1) or deny (2) by data.config.licenses:
#   deny / review / allow:      SPDX identifier globs ("GPL-*"), case-insensitive;
#   deny_names / review_names / allow_names: regular expressions over the lower-cased text, for
#                               the free-text names SBOM tools copy from package metadata
#                               ("GNU Lesser General Public License", "BSD License");
#   unrecognised:               the class of anything no list names (shipped: review).
# Deny wins over review, review over allow.
#
# SPDX expressions are evaluated: `A OR B` takes the better branch (the licensee may choose),
# `A AND B` the worse part (both apply), `A WITH exception` is judged as A (an exception only
# adds permissions), parentheses nest up to five levels. So "MIT OR AGPL-3.0-only" is allowed
# and "MIT AND GPL-3.0-only" needs review. A component's several licence entries all apply
# (treated as AND): a choice must be written as one expression with OR.
#
# Limits, each failing towards more scrutiny, never less: an expression nested deeper than five
# levels or with unbalanced parentheses is judged by its worst identifier; text that is not an
# SPDX expression is matched as a whole against the name patterns, and is denied when one of its
# words is a denied identifier; NOASSERTION and NONE count as no licence. Identifiers are not
# checked against the SPDX list: an unknown one is `unrecognised`.
#
# Components with scope `excluded` are not shipped and are not judged, nor are those of the purl
# types in licenses.skip_purl_types. A missing licence is reported only for components read from
# an SBOM (pip-audit, for one, lists the dependencies it audited as components, without licence
# data).
package gate.licenses

import rego.v1

import data.gate.lib

lic := object.get(data.gate.lib.cfg, "licenses", {})

lowered(key) := [lower(x) | some x in object.get(lic, key, []); is_string(x)]

deny_ids := lowered("deny")

review_ids := lowered("review")

allow_ids := lowered("allow")

deny_names := [x | some x in object.get(lic, "deny_names", []); is_string(x)]

review_names := [x | some x in object.get(lic, "review_names", []); is_string(x)]

allow_names := [x | some x in object.get(lic, "allow_names", []); is_string(x)]

class_names := ["allow", "review", "deny"]

unrecognised_class := c if {
	some c, name in class_names
	name == object.get(lic, "unrecognised", "review")
} else := 1

check_types := {x | some x in object.get(lic, "check_types", ["library", "framework", "application"])}

# ---------------------------------------------------------------------------------------------
# One licence identifier or name (lower-cased)

listed(t, globs, _) if {
	some g in globs
	glob.match(g, null, t)
}

listed(t, _, patterns) if {
	some p in patterns
	regex.match(p, t)
}

token_class(t) := 2 if {
	listed(t, deny_ids, deny_names)
} else := 1 if {
	listed(t, review_ids, review_names)
} else := 0 if {
	listed(t, allow_ids, allow_names)
} else := unrecognised_class

# ---------------------------------------------------------------------------------------------
# SPDX expressions

id_re := `[A-Za-z0-9][A-Za-z0-9.:-]*\+?`

operator_re := `(AND|OR|WITH|and|or|with)`

# spdx_shaped(e): e is a sequence of identifiers joined by operators, once parentheses are
# blanked out ("MIT License" is not: two identifiers in a row).
spdx_shaped(e) if {
	regex.match(`^[A-Za-z0-9.:+() -]+$`, e)
	flat := regex.replace(e, `[()]`, " ")
	regex.match(sprintf(`^ *%s( +%s +%s)* *$`, [id_re, operator_re, id_re]), flat)
}

# A sub-expression already evaluated is replaced by a sentinel word holding its class.
sentinel(c) := sprintf("__c%d__", [c])

operand_class(p) := to_number(substring(p, 3, 1)) if {
	regex.match(`^__c[0-2]__$`, p)
} else := token_class(trim_space(regex.split(`[\t\n\v\f\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]+with[\t\n\v\f\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]+`, p)[0]))

and_class(b) := max([operand_class(trim_space(p)) | some p in regex.split(`[\t\n\v\f\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]+and[\t\n\v\f\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]+`, trim_space(b))])

# flat_class(s): the class of a lower-cased expression without parentheses.
flat_class(s) := min([and_class(b) | some b in regex.split(`[\t\n\v\f\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]+or[\t\n\v\f\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]+`, trim_space(s))])

# reduce_once(s): every innermost parenthesised group replaced by its class.
reduce_once(s) := strings.replace_n(
	{g: sentinel(flat_class(trim(g, "()"))) | some g in regex.find_n(`\([^()]*\)`, s, -1)},
	s,
)

reduced(e) := reduce_once(reduce_once(reduce_once(reduce_once(reduce_once(lower(e))))))

# worst_token(e): the fallback for what cannot be parsed: the worst identifier in it.
worst_token(e) := max([token_class(w) |
	some w in regex.split(`[\t\n\v\f\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}()]+`, lower(e))
	w != ""
	not w in {"and", "or", "with"}
])

expression_class(e) := flat_class(r) if {
	spdx_shaped(e)
	r := reduced(e)
	not regex.match(`[()]`, r)
} else := worst_token(e) if {
	spdx_shaped(e)
} else := 2 if {
	denied_word(e)
} else := token_class(lower(trim_space(e)))

# denied_word(e): free text that names a denied identifier ("Foo, AGPL-3.0-only") is denied.
denied_word(e) if {
	some w in regex.split(`[\t\n\v\f\r \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}(),;/]+`, lower(e))
	listed(w, deny_ids, [])
}

# ---------------------------------------------------------------------------------------------
# Components

declared(c) := [l |
	some l in lib.arr(object.get(c, "licenses", null))
	is_string(l)
	not upper(trim_space(l)) in {"", "NOASSERTION", "NONE"}
]

judged(c) if {
	not c.scope == "excluded"
	not skipped_type(c)
}

skip_purl_types := {lower(t) | some t in object.get(lic, "skip_purl_types", []); is_string(t)}

skipped_type(c) if {
	count(skip_purl_types) > 0
	is_string(c.purl)
	lower(regex.replace(c.purl, `^pkg:([^/]+)/.*$`, "$1")) in skip_purl_types
}

# entries: each judged component with its declared licences, computed once.
entries := [{"c": c, "ls": declared(c)} | some c in input.components; judged(c)]

# license_classes: the class of every distinct licence text of this run, computed once (the
# evaluation is regex-heavy; SBOMs repeat the same few licences thousands of times).
license_classes := {l: expression_class(l) | some l in license_texts}

license_texts := {l | some e in entries; some l in e.ls}

# licensed: the judged components that declare licences, with their class (the worst of their
# licences: all apply).
licensed := [{"c": e.c, "ls": e.ls, "class": max([license_classes[l] | some l in e.ls])} |
	some e in entries
	count(e.ls) > 0
]

entries_of_class(e, k) := sort({l | some l in e.ls; license_classes[l] == k})

quoted(ls) := concat(", ", [sprintf("'%s'", [lib.one_line(l, 120)]) | some l in ls])

component_text(c) := sprintf("%s (%s)", [lib.package_ref(c), lib.component_ref(c)]) if {
	is_string(c.purl)
} else := lib.package_ref(c)

missing_action := lib.setting(["missing_license"], "warn")

missing(e) if {
	count(e.ls) == 0
	checked_type(e.c)
	from_sbom(e.c)
}

# from_sbom(c): the component comes from an SBOM. Other readers list components too (pip-audit
# lists every audited dependency) but carry no licence data, so their silence proves nothing.
from_sbom(c) if source_format(c) in data.gate.lib.sbom_formats

from_sbom(c) if source_format(c) == null

source_format(c) := f if {
	f := c.source.format
	is_string(f)
} else := null

checked_type(c) if c.type in check_types

checked_type(c) if not is_string(object.get(c, "type", null))

evidence(c) := {"components": [lib.component_ref(c)]}

# METADATA
# title: Component licence on the deny list
# description: >-
#   A component whose licence (after evaluating SPDX expressions: an OR is acceptable when one
#   branch is, an AND is denied when any part is) is on the deny list in data (shipped: network
#   copyleft such as AGPL and SSPL, source-available and non-commercial licences) blocks.
# custom:
#   id: GATE-LIC-001
#   severity: high
#   control: NIST SP 800-53 CM-10 Software usage restrictions; SSDF PW.4.1
#   remediation: >-
#     Replace the component with one under an acceptable licence, or obtain legal approval and
#     record it (a commercial licence, or an exception in the licence data reviewed by legal).
deny contains v if {
	some e in licensed
	e.class == 2
	v := lib.violation(
		"GATE-LIC-001",
		sprintf("component %s is licensed under %s: on the licence deny list", [component_text(e.c), quoted(entries_of_class(e, 2))]),
		evidence(e.c),
		sprintf("Replace %s with a component under an acceptable licence, or obtain legal approval for its licence.", [lib.package_ref(e.c)]),
	)
}

# METADATA
# title: Component licence needs review
# description: >-
#   A component whose licence is on the review list (shipped: GPL, LGPL, MPL, EPL, CDDL and other
#   copyleft licences, custom LicenseRef licences) or is not recognised warns: whether its
#   obligations are met depends on how it is linked and distributed, which a person must judge.
# custom:
#   id: GATE-LIC-002
#   severity: medium
#   control: NIST SP 800-53 CM-10 Software usage restrictions; SSDF PW.4.1
#   remediation: Have the licence reviewed for this use; record an approved licence in data (licenses.allow) when it is cleared.
warn contains v if {
	some e in licensed
	e.class == 1
	v := lib.violation(
		"GATE-LIC-002",
		sprintf("component %s is licensed under %s: needs licence review", [component_text(e.c), quoted(entries_of_class(e, 1))]),
		evidence(e.c),
		sprintf("Have the licence of %s reviewed for this use.", [lib.package_ref(e.c)]),
	)
}

missing_msg(c) := sprintf("component %s declares no licence", [component_text(c)])

missing_remediation(c) := sprintf(
	"Find the licence of %s (its package metadata or repository) and make the SBOM carry it (e.g. cyclonedx-py environment rather than requirements); a component without a licence may not be usable at all.",
	[lib.package_ref(c)],
)

# METADATA
# title: Component without a licence
# description: >-
#   A library, framework or application component with no licence in the SBOM (or NOASSERTION)
#   warns where the stage profile says `missing_license: warn`: its terms are unknown. One
#   warning per SBOM (issue 17): an SBOM generated from a requirements file or lock carries no
#   licence at all, and 80 identical warnings, one per component, buried the rest; the warning
#   names the first components and its evidence lists every one of them.
# custom:
#   id: GATE-LIC-003
#   severity: low
#   control: NIST SP 800-53 CM-10 Software usage restrictions, SR-4 Provenance
#   remediation: Establish the component's licence and make the SBOM generator record it.
warn contains v if {
	missing_action == "warn"
	some path, cs in missing_by_sbom
	v := missing_warning(path, cs)
}

# missing_by_sbom[path]: the components without a licence, per SBOM file they come from.
missing_by_sbom[path] contains e.c if {
	some e in entries
	missing(e)
	path := sbom_path(e.c)
}

sbom_path(c) := p if {
	p := c.source.path
	is_string(p)
} else := "-"

# missing_warning(path, cs): one component keeps the message of one component.
missing_warning(path, cs) := lib.violation("GATE-LIC-003", missing_msg(c), evidence(c), missing_remediation(c)) if {
	count(cs) == 1
	some c in cs
} else := lib.violation(
	"GATE-LIC-003",
	sprintf("%d components of %s declare no licence: %s%s", [
		count(cs),
		path,
		concat(", ", array.slice(refs, 0, 5)),
		more,
	]),
	{"components": refs},
	"Find the licences of these components and make the SBOM carry them (e.g. cyclonedx-py environment rather than requirements, which records none); a component without a licence may not be usable at all.",
) if {
	refs := sort({lib.component_ref(c) | some c in cs})
	more := more_text(count(refs), 5)
}

# more_text(n, shown): " and N more" when n exceeds what is shown.
more_text(n, shown) := sprintf(" and %d more", [n - shown]) if n > shown

else := ""

# METADATA
# title: Component without a licence (strict stage)
# description: >-
#   Where the stage profile says `missing_license: deny`, a component with no licence in the
#   SBOM blocks: software with unknown terms is not distributed.
# custom:
#   id: GATE-LIC-004
#   severity: medium
#   control: NIST SP 800-53 CM-10 Software usage restrictions, SR-4 Provenance
#   remediation: Establish the component's licence and make the SBOM generator record it.
deny contains v if {
	missing_action == "deny"
	some e in entries
	missing(e)
	v := lib.violation("GATE-LIC-004", missing_msg(e.c), evidence(e.c), missing_remediation(e.c))
}
