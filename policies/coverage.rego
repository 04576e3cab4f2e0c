# Coverage: source code that no code scanner looked at.
#
# A scanner's silence about a file it never opened is not evidence that the file is clean. Where
# the gate knows the project's tree (`gate run`), it decides from trusted data what the code
# scanners scan (data.config.coverage.exclude: globs anchored at the project root, on the record
# in the verdict), checks each scanner's own list of the files it scanned, and lists every Python
# source file that no code scanner covered in `input.unscanned` (path, reason, test_code): a file
# a tool skipped, a symbolic link that leaves the project, a file that could not be read.
#
# Unscanned production code blocks in every stage: the way to leave a folder unscanned (vendored
# code, generated code) is to exclude it in data, reviewed like code. Unscanned test code warns.
# When the gate does not know the tree (`gate evaluate` of reports alone), `input.unscanned` is
# absent and these rules say nothing.
package gate.coverage

import rego.v1

import data.gate.lib

max_details := 50

entries := [u | some u in lib.arr(object.get(input, "unscanned", [])); is_object(u)]

in_tests(u) if object.get(u, "test_code", false) == true

production := [u | some u in entries; not in_tests(u)]

tests_list := [u | some u in entries; in_tests(u)]

detail(u) := sprintf("%s: %s", [lib.one_line(object.get(u, "path", ""), 300), lib.one_line(object.get(u, "reason", ""), 300)])

# details(us): one line per file (path: reason), at most max_details of them.
details(us) := [detail(u) | some u in us] if {
	count(us) <= max_details
} else := array.concat(
	[detail(u) | some u in array.slice(us, 0, max_details)],
	[sprintf("... and %d more", [count(us) - max_details])],
)

files_text(us) := "1 source file" if count(us) == 1

else := sprintf("%d source files", [count(us)])

first(us) := sprintf("%s (%s)", [lib.one_line(object.get(us[0], "path", ""), 200), lib.one_line(object.get(us[0], "reason", ""), 200)]) if count(us) == 1

else := sprintf("%s (%s), and %d more", [lib.one_line(object.get(us[0], "path", ""), 200), lib.one_line(object.get(us[0], "reason", ""), 200), count(us) - 1])

# METADATA
# title: Production code no scanner covered
# description: >-
#   Source files of production code that no code scanner scanned (the scanners' own reports do
#   not list them, or the gate could not hand them over) block in every stage: a flaw there would
#   pass unseen. Folders that are deliberately not scanned are excluded in data, on the record.
# custom:
#   id: GATE-SCAN-020
#   severity: high
#   control: NIST SP 800-53 SA-11(1) Static code analysis, CA-7 Continuous monitoring; SSDF PW.7.2
#   remediation: >-
#     Make the files scannable (a regular file inside the project, a name or shebang the scanners
#     read), or, for vendored or generated code, have a security officer exclude the folder in
#     data coverage.exclude.
deny contains v if {
	count(production) > 0
	v := lib.violation(
		"GATE-SCAN-020",
		sprintf("%s of production code no code scanner covered: %s", [files_text(production), first(production)]),
		{"details": details(production)},
		"Make the files scannable (a regular file inside the project that the scanners read), or have a security officer exclude vendored or generated folders in data coverage.exclude.",
	)
}

# METADATA
# title: Test code no scanner covered
# description: >-
#   Source files of test code (data test_paths) that no code scanner scanned warn, so the gap
#   stays visible without blocking.
# custom:
#   id: GATE-SCAN-021
#   severity: low
#   control: NIST SP 800-53 SA-11(1) Static code analysis
#   remediation: Make the files scannable, or exclude the folder in data coverage.exclude.
warn contains v if {
	count(tests_list) > 0
	v := lib.violation(
		"GATE-SCAN-021",
		sprintf("%s of test code no code scanner covered: %s", [files_text(tests_list), first(tests_list)]),
		{"details": details(tests_list)},
		"Make the files scannable, or exclude the folder in data coverage.exclude.",
	)
}
