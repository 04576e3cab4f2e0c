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

entries(key) := [e | some e in object.get(data.gate.lib.cfg, ["packages", key], []); is_object(e)]

banned := entries("banned")

discouraged := entries("discouraged")

norm_name(n) := regex.replace(lower(n), `[-_.]+`, "-")

# purl_base(p): lower-cased purl without version, qualifiers and subpath; PyPI names normalised.
purl_base(p) := concat("", ["pkg:pypi/", norm_name(substring(b, 9, -1))]) if {
	b := raw_base(p)
	startswith(b, "pkg:pypi/")
} else := raw_base(p)

# raw_base(p): without qualifiers, subpath and version; a percent-encoded "@" (npm scopes, the
# canonical purl form) is decoded first.
raw_base(p) := regex.replace(regex.replace(replace(lower(p), "%40", "@"), `[?#].*$`, ""), `@[^/@]*$`, "")

purl_type(p) := lower(regex.replace(p, `^pkg:([^/]+)/.*$`, "$1")) if regex.match(`^(?i)pkg:[^/]+/`, p)

else := null

# ---------------------------------------------------------------------------------------------
# Normalised identities, computed once per package and per entry; matching compares them.

opt(x, key) := v if {
	v := x[key]
	is_string(v)
} else := null

base_of(purl) := purl_base(purl) if is_string(purl)

else := null

type_of(purl) := purl_type(purl) if is_string(purl)

else := null

name_key(name) := norm_name(name) if is_string(name)

else := null

pkg_key(p) := {
	"base": base_of(opt(p, "purl")),
	"type": type_of(opt(p, "purl")),
	"name": name_key(opt(p, "name")),
	"version": opt(p, "version"),
}

prefix(e) := opt(e, "purl_prefix")

namespace_prefix(e) if {
	p := prefix(e)
	is_string(p)
	endswith(p, "/")
}

# entry_key(e): base (a package purl prefix), namespace (a prefix ending in "/"), name (the
# entry's name, else the prefix's last segment: for packages without a purl), type, versions.
entry_key(e) := {
	"base": entry_base(e),
	"namespace": entry_namespace(e),
	"name": entry_name(e),
	"by_name": is_string(opt(e, "name")),
	"type": entry_type(e),
	"versions": entry_versions(e),
}

entry_base(e) := null if namespace_prefix(e)

else := base_of(prefix(e))

entry_namespace(e) := lower(prefix(e)) if namespace_prefix(e)

else := null

entry_name(e) := name_key(opt(e, "name")) if is_string(opt(e, "name"))

else := null if namespace_prefix(e)

else := norm_name(regex.replace(base_of(prefix(e)), `^.*/`, "")) if is_string(prefix(e))

else := null

entry_type(e) := lower(opt(e, "type")) if is_string(opt(e, "type"))

else := type_of(prefix(e))

entry_versions(e) := e.versions if is_array(e.versions)

else := null

identified(x, k) if {
	k.base != null
	k.base == x.base
}

identified(x, k) if {
	k.base != null
	x.namespace != null
	startswith(k.base, x.namespace)
}

# A package without a purl (pip-audit findings, some SPDX packages) matches by name.
identified(x, k) if {
	k.base == null
	x.name != null
	k.name == x.name
}

# An entry that gives a name matches that name in its type (or any type when it gives none).
identified(x, k) if {
	x.by_name
	k.name == x.name
	type_compatible(x, k)
}

type_compatible(x, _) if x.type == null

type_compatible(_, k) if k.type == null

type_compatible(x, k) if k.type == x.type

version_ok(x, _) if x.versions == null

version_ok(x, k) if k.version in x.versions

matches(x, k) if {
	identified(x, k)
	version_ok(x, k)
}

# The distinct packages of this run: components, and the packages findings are about.
finding_packages := [p | some p in {object.filter(f.package, ["name", "version", "purl"]) |
	some f in input.findings
	is_object(f.package)
}]

# Most runs hold none of the listed packages, and normalising every purl and name costs several
# regular expressions per package. So each package's purl and name are first written on one line
# (lower-cased, "%40" decoded, without "-", "_" and "."): a package that matches an entry has
# the entry's tokens(x) in its line, and only the packages whose line holds one are normalised
# and matched. An entry whose tokens are in no line matches nothing.
squashed(text) := strings.replace_n({"-": "", "_": "", ".": ""}, replace(lower(text), "%40", "@"))

lines_of(pkgs) := split(squashed(concat("\n", [sprintf("%v %v", [object.get(p, "purl", null), object.get(p, "name", null)]) | some p in pkgs])), "\n")

component_lines := lines_of(input.components)

finding_lines := lines_of(finding_packages)

haystack := concat("\n", array.concat(component_lines, finding_lines))

# tokens(x): what the line of a package matching entry x must contain: its base, namespace or
# name (already lower-cased and decoded) without "-", "_" and ".".
tokens(x) := {strings.replace_n({"-": "", "_": "", ".": ""}, t) | some t in [x.base, x.namespace, x.name]; is_string(t)}

mentions(line, ts) if {
	some t in ts
	contains(line, t)
}

# suspects(pkgs, lines, ts): the packages whose line holds a token (all of them if a purl or
# name held a line break).
suspects(pkgs, lines, ts) := [p | some i, p in pkgs; mentions(lines[i], ts)] if count(lines) == count(pkgs)

else := pkgs

label(e) := prefix(e) if is_string(prefix(e))

else := e.name

reason(e) := sprintf(" (%s)", [e.reason]) if is_string(e.reason)

else := ""

instead(e) := sprintf(" Use %s instead.", [e.alternative]) if is_string(e.alternative)

else := ""

# hits(e): what matched e, as evidence; undefined when nothing did.
hits(e) := h if {
	x := entry_key(e)
	ts := tokens(x)
	mentions(haystack, ts)
	components := [c | some c in suspects(input.components, component_lines, ts); matches(x, pkg_key(c))]
	packages := [p | some p in suspects(finding_packages, finding_lines, ts); matches(x, pkg_key(p))]
	count(components) + count(packages) > 0
	h := {
		"components": sort({lib.component_ref(c) | some c in components}),
		"findings": sort({f.id | some f in input.findings; is_object(f.package); object.filter(f.package, ["name", "version", "purl"]) in packages}),
		"details": array.concat([r | r := e.reason; is_string(r)], [sprintf("matched entry: %s", [label(e)])]),
		"names": sort({lib.package_ref(p) | some p in array.concat(components, packages)}),
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
