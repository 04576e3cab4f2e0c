# Helpers of the differential-test policy: written to exercise many builtins that the embedded
# engine (regorus) and OPA must agree on. Known divergences are kept out (see
# tests/test_differential.py::KNOWN_DIVERGENCES).
package gate.opadiff_lib

import rego.v1

cfg := object.get(data.config, "opadiff", {})

rank := {"critical": 5, "high": 4, "medium": 3, "low": 2, "info": 1, "unknown": 0}

at_least(sev, min) if object.get(rank, sev, 0) >= object.get(rank, min, 0)

covered(f) if f.waiver != null

covered(f) if object.get(f, ["vex", "state"], "") in {"not_affected", "false_positive", "resolved"}

active(f) if not covered(f)

where(f) := sprintf("%s:%d", [f.location.path, f.location.start_line]) if {
	is_string(f.location.path)
	is_number(f.location.start_line)
} else := sprintf("%s", [f.location.path]) if {
	is_string(f.location.path)
} else := "(no location)"

# ASCII-only whitespace class: regorus' \s is Unicode-aware, Go's is ASCII.
flat(s) := regex.replace(s, `[\t\n\f\r ]+`, " ")

short(s) := t if {
	limit := object.get(cfg, "message_limit", 60)
	t := concat("", [substring(flat(s), 0, limit), "..."])
	count(s) > limit
} else := flat(s)

cwe_numbers(f) := sort([to_number(trim_prefix(c, "CWE-")) | some c in f.cwe; regex.match(`^CWE-[0-9]+$`, c)])

weight(f) := object.get(cfg, ["weights", f.severity], 1)
