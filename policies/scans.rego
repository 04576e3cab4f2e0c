# Trust in the evidence itself: a scan that did not complete, or a kind of scan the stage
# requires but nobody ran, must not read as "no findings".
#
# - A scan whose tool reported that it did not complete (bandit or semgrep `errors`, SARIF
#   `executionSuccessful: false`, pip-audit `skip_reason`, or the gate's runner recording a tool
#   that wrote no report) blocks, with the tool's own error text as evidence. A security officer
#   can accept a tool's partial scans in data (data.config.scans.allow_incomplete); they then warn.
# - Each stage profile lists the kinds of evidence it requires (`required_evidence`, e.g. prod:
#   sast, dependency, sbom). Which tool provides which kind is data (data.config.evidence.tools),
#   and only from a report format that tool writes (evidence.producers): a SARIF file whose driver
#   says "pip-audit" proves nothing. An SBOM is any CycloneDX or SPDX document. Findings prove no
#   kind by themselves.
# - A report whose tool left results out under inline suppressions (bandit's `# nosec` counts),
#   or whose format cannot say (semgrep's JSON), reaches the policy as an incomplete scan with
#   an error saying so, unless data.config.honour_inline_suppressions is true (the gate marks it:
#   scanners/claims.py); scans.allow_incomplete does not accept it.
package gate.scans

import rego.v1

import data.gate.lib

max_details := 50

scan_ref(s) := sprintf("%s (%s %s)", [lib.text(s.path), lib.text(s.tool), lib.text(s.tool_version)]) if {
	is_string(s.tool_version)
} else := sprintf("%s (%s)", [lib.text(s.path), lib.text(s.tool)])

errors(s) := [e | some e in lib.arr(object.get(s, "errors", null)); is_string(e)]

# details(s): the tool's own error texts, each on one line, at most max_details of them.
details(s) := [lib.one_line(e, 500) | some e in array.slice(errors(s), 0, max_details)] if {
	count(errors(s)) <= max_details
} else := array.concat(
	[lib.one_line(e, 500) | some e in array.slice(errors(s), 0, max_details)],
	[sprintf("... and %d more errors", [count(errors(s)) - max_details])],
)

first_error(s) := sprintf(": %s", [lib.one_line(errors(s)[0], 200)]) if count(errors(s)) > 0

else := " (the tool gave no error text)"

error_count(s) := "1 error" if count(errors(s)) == 1

else := sprintf("%d errors", [count(errors(s))])

incomplete_msg(s) := sprintf("scan %s did not complete (%s)%s", [scan_ref(s), error_count(s), first_error(s)])

# METADATA
# title: Incomplete scan
# description: >-
#   A scan whose tool reported that it did not complete blocks: its silence about the files it
#   skipped is not evidence that they are clean. The tool's own errors are the evidence.
# custom:
#   id: GATE-SCAN-001
#   severity: high
#   control: NIST SP 800-53 SA-11 Developer testing and evaluation, CA-7 Continuous monitoring; SSDF PW.7.2, PW.8.2
#   remediation: >-
#     Fix what stopped the scan (the errors name it: unparsable files, a crashed rule, an
#     unreachable vulnerability service) and scan again; a security officer may accept a tool's
#     partial scans in data (scans.allow_incomplete).
deny contains v if {
	some s in input.scans
	lib.incomplete(s)
	not lib.incomplete_allowed(s)
	v := lib.violation(
		"GATE-SCAN-001",
		incomplete_msg(s),
		{"scans": [lib.text(s.path)], "details": details(s)},
		sprintf("Fix what stopped %s (see the errors) and run it again; to accept its partial scans, a security officer adds '%s' to data scans.allow_incomplete.", [lib.text(s.tool), lib.tool_name(s)]),
	)
}

# METADATA
# title: Incomplete scan accepted by data
# description: >-
#   A scan that did not complete, by a tool whose partial scans data accepts
#   (scans.allow_incomplete), warns, with the tool's errors as evidence.
# custom:
#   id: GATE-SCAN-002
#   severity: low
#   control: NIST SP 800-53 SA-11 Developer testing and evaluation, CA-7 Continuous monitoring
#   remediation: Fix what stopped the scan when possible; review the acceptance in data periodically.
warn contains v if {
	some s in input.scans
	lib.incomplete(s)
	lib.incomplete_allowed(s)
	v := lib.violation(
		"GATE-SCAN-002",
		sprintf("%s (accepted by data scans.allow_incomplete)", [incomplete_msg(s)]),
		{"scans": [lib.text(s.path)], "details": details(s)},
		sprintf("Fix what stopped %s and run it again.", [lib.text(s.tool)]),
	)
}

required := {k | some k in lib.setting(["required_evidence"], []); is_string(k)}

# tools_providing(kind): the tools that provide `kind` and write a report format the table knows.
tools_providing(kind) := {t |
	some t, ks in data.gate.lib.tool_kinds
	kind in ks
	is_object(object.get(data.gate.lib.producers, t, null))
}

# unproven: scans whose tool does not write their report format (data evidence.producers), so
# their claim to be that tool provides nothing; said in the evidence so the cause is visible.
unproven := sort([sprintf("%s: %s does not write %s reports (data evidence.producers): none of its evidence", [lib.text(s.path), lib.text(s.tool), lib.text(s.format)]) |
	some s in input.scans
	count(object.get(data.gate.lib.tool_kinds, lib.tool_name(s), [])) > 0
	not data.gate.lib.writes(s)
])

providers(kind) := "generate a CycloneDX or SPDX SBOM (for example with gate sbom)" if kind == "sbom"

else := sprintf("run %s", [concat(" or ", sort(tools_providing(kind)))]) if count(tools_providing(kind)) > 0

else := sprintf("run a scanner mapped to '%s' in data evidence.tools", [kind])

provided_text := concat(", ", sort(data.gate.lib.evidence_kinds)) if count(data.gate.lib.evidence_kinds) > 0

else := "none"

# METADATA
# title: Required evidence missing for the stage
# description: >-
#   The stage profile's `required_evidence` lists the kinds of evidence a delivery to that stage
#   must carry (shipped: staging sast and dependency; prod also an SBOM). A kind no complete
#   scan of this run provides blocks, so a pipeline that skipped a scanner cannot pass.
# custom:
#   id: GATE-SCAN-003
#   severity: high
#   control: NIST SP 800-53 SA-11 Developer testing and evaluation, SR-4 Provenance; SSDF PS.3.2, PW.7.2
#   remediation: Run the missing scanner (or generate the SBOM) in the pipeline and pass its report to the gate.
deny contains v if {
	some kind in required
	not kind in data.gate.lib.evidence_kinds
	v := lib.violation(
		"GATE-SCAN-003",
		sprintf("stage %s requires %s evidence, and no complete scan of this run provides it (provided: %s)", [data.gate.lib.stage, kind, provided_text]),
		{
			"scans": sort([p | some s in input.scans; p := lib.text(s.path)]),
			"details": array.concat([sprintf("required: %s", [concat(", ", sort(required))]), sprintf("provided: %s", [provided_text])], unproven),
		},
		sprintf("Provide %s evidence: %s in the pipeline and pass the report to the gate.", [kind, providers(kind)]),
	)
}
