# Credentials committed to the repository (gitleaks, trufflehog, semgrep secret rules, any
# finding of kind `secret`).
#
# A committed credential is compromised whatever its severity, wherever it is and whether or not
# it was already in the baseline: it is in the history and must be rotated. So every active
# secret finding blocks in every stage, in test code too: which files are test code is a
# matter of names the author of the change chooses (issue 14: a cloud key in `app/conftest.py`
# only warned), and CI runs tests with its own secrets at hand. A fake key in a fixture is
# accepted by a waiver for that finding. Messages never quote the tool's message or snippet,
# which may contain the secret itself.
#
# One exception, in data: rules that guess from a variable's name rather than detect a
# credential (data.config.secrets.heuristic_rules, shipped: bandit B105-B107, which fire on
# `password = ""`) warn instead (GATE-SEC-003), unless a detector in the same duplicate group
# (e.g. gitleaks on the same line) reports it too.
package gate.secrets

import rego.v1

import data.gate.lib

# candidates: a view of the primary finding of each secret flaw, whatever its severity.
candidates := data.gate.lib.views({"secret"}, {s | some s in data.gate.lib.severity_names})

heuristic_rules := {lower(r) | some r in object.get(data.gate.lib.cfg, ["secrets", "heuristic_rules"], []); is_string(r)}

rule_key(p) := lower(sprintf("%s:%s", [lib.text(p.tool), lib.text(p.rule_id)]))

# The texts of the distinct rules of the candidates (c.rule), and which are heuristic rules,
# computed once per rule rather than per finding.
rules := {c.rule | some c in candidates}

rule_text := {k: lib.rule_ref(lib.rule_of(k)) | some k in rules}

heuristic_keys := {k | some k in rules; rule_key(lib.rule_of(k)) in heuristic_rules}

# heuristic(c, keys): true when every active report of this flaw comes from a name-based
# heuristic rule (keys: heuristic_keys), else false. One definition with else: the embedded
# engine evaluates every definition of a function at each call.
heuristic(c, keys) := c.rule in keys if not c.f.duplicates[0]

else := group_heuristic(c.peers)

group_heuristic(peers) if {
	count(heuristic_rules) > 0
	every p in peers {
		rule_key(p) in heuristic_rules
	}
}

else := false

# violation(id, c, rule, prefix): rule is the text of c's rule. The message never quotes the
# tool's text, which may hold the secret.
violation(id, c, rule, prefix) := {
	"rule": id,
	"msg": sprintf("%s%s at %s: possible credential in the repository%s", [prefix, rule, at, c.also]),
	"evidence": {"findings": c.ids, "components": [], "scans": [], "details": []},
	"remediation": sprintf(
		"Revoke and rotate the credential found at %s, remove it from the code (and from the history where it matters), and load it from a secret store at run time. If it is not a secret (a public test key), record a waiver for finding %s.",
		[at, c.f.id],
	),
} if {
	at := lib.where(c.f)
}

# METADATA
# title: Credential committed to the repository
# description: >-
#   Any active finding of kind `secret` blocks, whatever its severity, its baseline state and
#   whether its file is test code: a credential in the repository is exposed to everyone with
#   read access and stays in the history.
# custom:
#   id: GATE-SEC-001
#   severity: critical
#   control: NIST SP 800-53 IA-5(7) No embedded unencrypted static authenticators; SSDF PS.1
#   remediation: >-
#     Revoke and rotate the credential, remove it from the code, and read it from a secret store
#     or the CI's secret variables at run time.
deny contains v if {
	cs := candidates
	texts := rule_text
	keys := heuristic_keys
	some c in cs
	not heuristic(c, keys)
	v := violation("GATE-SEC-001", c, texts[c.rule], "")
}

# METADATA
# title: Possible hard-coded credential (name-based heuristic)
# description: >-
#   A secret finding (in production or test code) reported only by a rule that guesses from a
#   variable's name (data.config.secrets.heuristic_rules, e.g. bandit B105 on `password = ""`)
#   warns: such rules flag empty strings and token-type constants far more often than credentials.
# custom:
#   id: GATE-SEC-003
#   severity: medium
#   control: NIST SP 800-53 IA-5(7) No embedded unencrypted static authenticators; SSDF PS.1
#   remediation: Check the value; if it is a real credential, rotate it and read it from a secret store.
warn contains v if {
	cs := candidates
	texts := rule_text
	keys := heuristic_keys
	some c in cs
	heuristic(c, keys)
	v := violation("GATE-SEC-003", c, texts[c.rule], "heuristic: ")
}
