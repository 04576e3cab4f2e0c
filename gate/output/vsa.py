"""`vsa`: an in-toto Statement v1 whose predicate is a SLSA Verification Summary Attestation.

Subjects are the inputs the verdict rests on (their SHA-256 digests); the policy is named with
its digest; `verificationResult` is PASSED or FAILED; `verifiedLevels` uses the gate's own
level names (the spec reserves the `SLSA_` prefix for SLSA's tracks). The statement is not
signed here: sign it with the tool of the pipeline (for example `actions/attest` or cosign).
The predicate carries, beside the spec's fields, a `policyGate` object with the decision, the
totals and the waivers applied (consumers ignore fields they do not know).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gate import __version__
from gate.output.common import totals
from gate.output.interface import Formatter

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/verification_summary/v1"
VERIFIER_ID = "https://github.com/policy-gate/policy-gate"


class VsaFormatter(Formatter):
    """in-toto Statement v1 + SLSA VSA v1 predicate."""

    name = "vsa"

    def render(self, verdict: Mapping[str, Any], document: Mapping[str, Any] | None) -> str:
        ctx = verdict.get("context") or {}
        policy = verdict.get("policy") or {}
        inputs = verdict.get("inputs") or []
        subjects = [{"name": str(i["path"]), "digest": {"sha256": str(i["sha256"])}} for i in inputs if i.get("sha256")]
        passed = verdict["decision"] == "pass"
        stage = str(ctx.get("stage") or "default")
        digest = str(policy.get("digest") or "")
        resource = ctx.get("repository") or ""
        if resource and ctx.get("commit"):
            resource = f"git+https://github.com/{resource}@{ctx['commit']}"
        predicate: dict[str, Any] = {
            "verifier": {"id": VERIFIER_ID, "version": {"policy-gate": __version__, **({"engine": (verdict.get("engine") or {}).get("version")} if verdict.get("engine") else {})}},
            "timeVerified": ctx.get("time") or "",
            "resourceUri": resource or (subjects[0]["name"] if subjects else ""),
            "policy": {"uri": str(policy.get("path") or ""), **({"digest": {"sha256": digest.split(":", 1)[1]}} if digest.startswith("sha256:") else {})},
            "inputAttestations": [{"uri": s["name"], "digest": s["digest"]} for s in subjects],
            "verificationResult": "PASSED" if passed else "FAILED",
            "verifiedLevels": [f"POLICY_GATE_{stage.upper()}"] if passed else ["FAILED"],
            "policyGate": {
                "decision": verdict["decision"],
                "exitCode": verdict["exit_code"],
                "stage": stage,
                "totals": totals(verdict),
                "violations": sorted({e["rule"] for e in verdict.get("violations") or []}),
                "waiversApplied": [
                    {k: w.get(k) for k in ("waiver", "finding", "reason", "approved_by", "expires", "ticket") if w.get(k) is not None}
                    for w in verdict.get("waived") or []
                ],
                "policyRevision": policy.get("revision"),
            },
        }
        statement = {"_type": STATEMENT_TYPE, "subject": subjects, "predicateType": PREDICATE_TYPE, "predicate": predicate}
        return json.dumps(statement, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
