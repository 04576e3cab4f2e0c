# Credentials committed to the repository (gitleaks, trufflehog, semgrep secret rules, any
# finding of kind `secret`).
#
# A committed credential is compromised whatever its severity and whether or not it was already
# in the baseline: it is in the history and must be rotated. So every active secret finding in
# production code blocks in every stage. In test code (fixtures with fake keys are common) it
# warns. Messages never quote the tool's message or snippet, which may contain the secret itself.
#
# One exception, in data: rules that guess from a variable's name rather than detect a
# credential (data.config.secrets.heuristic_rules, shipped: bandit B105-B107, which fire on
# `password = ""`) warn instead (GATE-SEC-003), unless a detector in the same duplicate group
# (e.g. gitleaks on the same line) reports it too.
package gate.secrets

import rego.v1

import data.gate.lib

# candidates: the primary finding of each secret flaw.
candidates := [f |
	some f in input.findings
	f.kind == "secret"
	lib.primary(f)
]

heuristic_rules := {lower(r) | some r in object.get(data.gate.lib.cfg, ["secrets", "heuristic_rules"], []); is_string(r)}

rule_key(p) := lower(sprintf("%s:%s", [lib.text(p.tool), lib.text(p.rule_id)]))

# heuristic(f): every active report of this flaw comes from a name-based heuristic rule.
heuristic(f) if {
	count(heuristic_rules) > 0
	every p in lib.peers(f) {
		rule_key(p) in heuristic_rules
	}
}

description(f) := sprintf("%s at %s: possible credential in the repository%s", [
	lib.rule_ref(f),
	lib.where(f),
	lib.also_reported(f),
])

remediation(f) := sprintf(
	"Revoke and rotate the credential found at %s, remove it from the code (and from the history where it matters), and load it from a secret store at run time. If it is not a secret (a public test key), record a waiver for finding %s.",
	[lib.where(f), f.id],
)

# METADATA
# title: Credential committed to the repository
# description: >-
#   Any active finding of kind `secret` outside test code blocks, whatever its severity and
#   baseline state: a credential in the repository is exposed to everyone with read access and
#   stays in the history.
# custom:
#   id: GATE-SEC-001
#   severity: critical
#   control: NIST SP 800-53 IA-5(7) No embedded unencrypted static authenticators; SSDF PS.1
#   remediation: >-
#     Revoke and rotate the credential, remove it from the code, and read it from a secret store
#     or the CI's secret variables at run time.
deny contains v if {
	some f in candidates
	not lib.in_test_code(f)
	not heuristic(f)
	v := lib.finding_violation("GATE-SEC-001", f, description(f), remediation(f))
}

# METADATA
# title: Credential-like value in test code
# description: >-
#   A secret finding in test code warns instead of blocking: test fixtures often carry fake keys.
#   It stays visible because real credentials do end up in tests.
# custom:
#   id: GATE-SEC-002
#   severity: medium
#   control: NIST SP 800-53 IA-5(7) No embedded unencrypted static authenticators; SSDF PS.1
#   remediation: Make sure the value is a fake; if it is a real credential, rotate it and remove it.
warn contains v if {
	some f in candidates
	lib.in_test_code(f)
	v := lib.finding_violation("GATE-SEC-002", f, sprintf("test code: %s", [description(f)]), remediation(f))
}

# METADATA
# title: Possible hard-coded credential (name-based heuristic)
# description: >-
#   A secret finding outside test code reported only by a rule that guesses from a variable's
#   name (data.config.secrets.heuristic_rules, e.g. bandit B105 on `password = ""`) warns: such
#   rules flag empty strings and token-type constants far more often than credentials.
# custom:
#   id: GATE-SEC-003
#   severity: medium
#   control: NIST SP 800-53 IA-5(7) No embedded unencrypted static authenticators; SSDF PS.1
#   remediation: Check the value; if it is a real credential, rotate it and read it from a secret store.
warn contains v if {
	some f in candidates
	not lib.in_test_code(f)
	heuristic(f)
	v := lib.finding_violation("GATE-SEC-003", f, sprintf("heuristic: %s", [description(f)]), remediation(f))
}
