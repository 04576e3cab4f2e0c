package gate.governance_test

import rego.v1

import data.gate.fixtures_test as fx
import data.gate.governance

waiver(id, expired, expiring) := {
	"id": id,
	"rule": "B602",
	"reason": "legacy module",
	"approved_by": "security-officer",
	"expires": "2026-12-01",
	"ends": "2026-12-01T23:59:59Z",
	"ticket": null,
	"expired": expired,
	"expiring": expiring,
}

with_waivers(ws) := object.union(fx.doc("default", [], [], []), {"waivers": ws})

test_no_waivers_no_warning if {
	count(governance.warn) == 0 with input as with_waivers([])
}

test_a_live_waiver_far_from_expiry_is_quiet if {
	count(governance.warn) == 0 with input as with_waivers([waiver("W-1", false, false)])
}

test_an_expiring_waiver_warns if {
	d := with_waivers([waiver("W-2", false, true)])
	vs := governance.warn with input as d
	count(vs) == 1
	some v in vs
	v.rule == "GATE-GOV-001"
	startswith(v.msg, "waiver W-2 expires on 2026-12-01 (within 14 day(s))")
	v.evidence.details == ["waiver W-2: legacy module (approved by security-officer)"]
}

test_an_expired_waiver_warns if {
	d := with_waivers([waiver("W-3", true, false)])
	vs := governance.warn with input as d
	count(vs) == 1
	some v in vs
	v.rule == "GATE-GOV-002"
	v.msg == "waiver W-3 expired on 2026-12-01 and no longer applies: remove or renew it"
}

test_both_states_warn_once_each if {
	d := with_waivers([waiver("W-2", false, true), waiver("W-3", true, false)])
	vs := governance.warn with input as d
	{v.rule | some v in vs} == {"GATE-GOV-001", "GATE-GOV-002"}
	count(vs) == 2
}
