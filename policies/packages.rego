# Banned and discouraged third-party packages (data.config.packages.banned / .discouraged).
#
# An entry names a package by `purl_prefix` (e.g. pkg:pypi/pycrypto, or pkg:npm/@evil-scope/ for
# a whole namespace) and/or by `name` (with an optional purl `type`), optionally only some
# `versions`, and says why (`reason`) and what to use instead (`alternative`). Matching:
#   - a purl matches a prefix on a package boundary: pkg:pypi/request matches
#     pkg:pypi/request@1.0 but not pkg:pypi/requests@2.31 (typosquats differ by one letter);
#   - PyPI names are compared normalised (PEP 503: case and runs of - _ . are insignificant);
#   - a package without a purl (pip-audit findings, SPDX packages) matches by name.
# Packages are looked for among the SBOM components and the packages findings are about, whether
# or not those findings are waived: a waiver accepts a vulnerability, not a banned package. To
# accept a banned package, a security officer edits the list.
package gate.packages

import rego.v1

import data.gate.lib

entries(key) := [e | some e in object.get(lib.cfg, ["packages", key], []); is_object(e)]

banned := entries("banned")

discouraged := entries("discouraged")

norm_name(n) := regex.replace(lower(n), `[-_.]+`, "-")

# purl_base(p): lower-cased purl without version, qualifiers and subpath; PyPI names normalised.
purl_base(p) := concat("", ["pkg:pypi/", norm_name(substring(b, 9, -1))]) if {
	b := raw_base(p)
	startswith(b, "pkg:pypi/")
} else := raw_base(p)

raw_base(p) := regex.replace(regex.replace(lower(p), `[?#].*$`, ""), `@[^/@]*$`, "")

purl_type(p) := lower(regex.replace(p, `^pkg:([^/]+)/.*$`, "$1")) if regex.match(`^(?i)pkg:[^/]+/`, p)

purl_matches(purl, prefix) if purl_base(purl) == purl_base(prefix)

purl_matches(purl, prefix) if {
	endswith(prefix, "/")
	startswith(purl_base(purl), lower(prefix))
}

# prefix_name("pkg:pypi/pycrypto") = "pycrypto": to match packages that carry no purl.
prefix_name(prefix) := norm_name(regex.replace(purl_base(prefix), `^.*/`, ""))

name_of(p) := p.name if is_string(p.name)

type_ok(e, _) if not is_string(object.get(e, "type", null))

type_ok(_, p) if not is_string(object.get(p, "purl", null))

type_ok(e, p) if purl_type(p.purl) == lower(e.type)

identified(e, p) if {
	is_string(e.purl_prefix)
	is_string(p.purl)
	purl_matches(p.purl, e.purl_prefix)
}

identified(e, p) if {
	is_string(e.purl_prefix)
	not endswith(e.purl_prefix, "/")
	not is_string(object.get(p, "purl", null))
	norm_name(name_of(p)) == prefix_name(e.purl_prefix)
}

identified(e, p) if {
	is_string(e.name)
	norm_name(name_of(p)) == norm_name(e.name)
	type_ok(e, p)
}

version_ok(e, _) if not is_array(object.get(e, "versions", null))

version_ok(e, p) if p.version in e.versions

matches(e, p) if {
	identified(e, p)
	version_ok(e, p)
}

# The distinct packages findings are about (computed once, not once per entry).
finding_packages := {{"name": object.get(f.package, "name", null), "version": object.get(f.package, "version", null), "purl": object.get(f.package, "purl", null)} |
	some f in input.findings
	is_object(f.package)
}

label(e) := e.purl_prefix if is_string(e.purl_prefix)

else := e.name

reason(e) := sprintf(" (%s)", [e.reason]) if is_string(e.reason)

else := ""

instead(e) := sprintf(" Use %s instead.", [e.alternative]) if is_string(e.alternative)

else := ""

# hits(e): what matched e, as evidence; undefined when nothing did.
hits(e) := h if {
	components := sort({lib.component_ref(c) | some c in input.components; matches(e, c)})
	packages := {lib.package_ref(p) | some p in finding_packages; matches(e, p)}
	count(components) + count(packages) > 0
	h := {
		"components": components,
		"findings": sort({f.id | some f in input.findings; is_object(f.package); matches(e, f.package)}),
		"details": array.concat([r | r := e.reason; is_string(r)], [sprintf("matched entry: %s", [label(e)])]),
		"names": sort({lib.package_ref(c) | some c in input.components; matches(e, c)} | packages),
	}
}

# METADATA
# title: Banned package
# description: >-
#   A package on the banned list in data (unmaintained with known flaws, known typosquats and
#   malicious packages) present in the SBOM or named by a finding blocks.
# custom:
#   id: GATE-PKG-001
#   severity: high
#   control: NIST SP 800-53 SR-3 Supply chain controls, SR-11 Component authenticity, SA-22 Unsupported system components; SSDF PW.4.1
#   remediation: Remove the package (check the name for a typo) and use the alternative the message names.
deny contains v if {
	some e in banned
	h := hits(e)
	v := lib.violation(
		"GATE-PKG-001",
		sprintf("banned package %s present: %s%s", [label(e), concat(", ", h.names), reason(e)]),
		object.remove(h, ["names"]),
		sprintf("Remove %s from the dependencies (and the lock file); check the name for a typo.%s", [label(e), instead(e)]),
	)
}

# METADATA
# title: Discouraged package
# description: >-
#   A package on the discouraged list in data (unmaintained, superseded) present in the SBOM or
#   named by a finding warns, so that its replacement gets planned.
# custom:
#   id: GATE-PKG-002
#   severity: low
#   control: NIST SP 800-53 SA-22 Unsupported system components; SSDF PW.4.1
#   remediation: Plan the replacement of the package with the alternative the message names.
warn contains v if {
	some e in discouraged
	h := hits(e)
	v := lib.violation(
		"GATE-PKG-002",
		sprintf("discouraged package %s present: %s%s", [label(e), concat(", ", h.names), reason(e)]),
		object.remove(h, ["names"]),
		sprintf("Plan to replace %s.%s", [label(e), instead(e)]),
	)
}
