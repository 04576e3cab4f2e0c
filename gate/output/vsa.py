"""`vsa`: an in-toto Statement v1 whose predicate is a SLSA Verification Summary Attestation.

Follows https://slsa.dev/spec/v1.0/verification_summary (predicate type
`https://slsa.dev/verification_summary/v1`) and the in-toto Statement v1:

- `subject`: what was verified. With `--subject NAME@sha256:HEX` (repeatable), exactly the
  artifacts being released, which is what a deployment policy checks the attestation against.
  Without it (decided: kept as before, but flagged), the commit (`gitCommit`) when the run knows
  it and every input report or SBOM (`sha256`), and the extension's `subjectKind` says
  `scanner-reports`, so a consumer cannot mistake it for an attestation about a release
  artifact. A run with none of these names the empty input set (the SHA-256 of nothing),
  because a Statement must have a subject.
- the predicate's required fields: `verifier.id` (the CI job that ran the gate: the GitHub
  workflow run, the GitLab job or the Jenkins build URL, from the CI's own variables that the
  CLI passes in; else the gate's own project URL), `timeVerified`,
  `resourceUri` (the repository at the commit, `git+<server>/<project>@COMMIT`: GitHub's
  `GITHUB_SERVER_URL`/`GITHUB_REPOSITORY`/`GITHUB_SHA`, GitLab's `CI_PROJECT_URL`/`CI_COMMIT_SHA`,
  Jenkins' `GIT_URL`/`GIT_COMMIT`, or `--repository`/`--commit`, where an `OWNER/NAME` with no
  CI server is taken as github.com), `policy` (a `uri` and
  the policy digest), `verificationResult` (PASSED or FAILED) and `verifiedLevels` (the gate's own
  level names, since the spec reserves the `SLSA_` prefix for SLSA's tracks: `POLICY_GATE_<STAGE>`,
  or `FAILED`). `inputAttestations` is left out: the gate reads scanner reports, not attestations.
- an extension field named by a URI (as the spec's parsing rules ask; consumers ignore it):
  the decision, exit code, totals, the rules violated, the waivers applied and the policy
  changes that were not used.

The statement is not signed here: sign it with the tool of the pipeline (for example
`actions/attest` or cosign).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from gate import __version__
from gate.output.common import not_used, safe_url, totals
from gate.output.interface import Formatter
from gate.output.json_format import dump
from gate.records import ContextRecord, InputDocument, Verdict

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/verification_summary/v1"
VERIFIER_FALLBACK = "https://github.com/policy-gate/policy-gate"  # the gate's own home, when no CI job ran it
DEFAULT_SERVER = "https://github.com"
EXTENSION = "https://github.com/policy-gate/policy-gate/vsa-extension/v1"
_HEX_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")


def _uri_ref(path: str) -> str:
    return quote(path, safe="/:@-._~!$&'()*+,;=")


class VsaFormatter(Formatter):
    """in-toto Statement v1 + SLSA VSA v1 predicate."""

    name = "vsa"

    def _repository(self, ctx: ContextRecord | None) -> tuple[str, str]:
        """(`git+URL` of the repository or '', commit or ''): the CLI's context first, then the CI's variables."""
        ci = self.options.ci
        repo = str((ctx.get("repository") if ctx else None) or "")
        commit = str((ctx.get("commit") if ctx else None) or "").lower()
        url = ""
        if repo.startswith(("https://", "http://")):
            url = repo
        elif _REPO.fullmatch(repo):
            server = ci.get("GITHUB_SERVER_URL") or ci.get("CI_SERVER_URL") or DEFAULT_SERVER
            url = f"{server.rstrip('/')}/{repo}"
        elif ci.get("GITHUB_REPOSITORY") and _REPO.fullmatch(ci["GITHUB_REPOSITORY"]):
            url = f"{(ci.get('GITHUB_SERVER_URL') or DEFAULT_SERVER).rstrip('/')}/{ci['GITHUB_REPOSITORY']}"
            commit = commit or ci.get("GITHUB_SHA", "").lower()
        elif ci.get("CI_PROJECT_URL"):
            url = ci["CI_PROJECT_URL"]
            commit = commit or ci.get("CI_COMMIT_SHA", "").lower()
        elif ci.get("GIT_URL"):
            url = ci["GIT_URL"]
            commit = commit or ci.get("GIT_COMMIT", "").lower()
        if url and not url.startswith(("https://", "http://")):
            url = ""  # only web URLs become resource URIs (no ssh:, file: or credentials-bearing forms)
        if url:
            parts = urlsplit(url)
            url = f"git+{parts.scheme}://{parts.hostname or ''}{(':' + str(parts.port)) if parts.port else ''}{parts.path}"
        return url, commit

    def _verifier_id(self) -> str:
        """The CI job that ran the gate (GitHub workflow run, GitLab job, Jenkins build), else the gate's purl."""
        ci = self.options.ci
        if ci.get("GITHUB_REPOSITORY") and ci.get("GITHUB_RUN_ID"):
            server = (ci.get("GITHUB_SERVER_URL") or DEFAULT_SERVER).rstrip("/")
            return f"{server}/{ci['GITHUB_REPOSITORY']}/actions/runs/{ci['GITHUB_RUN_ID']}"
        for key in ("CI_JOB_URL", "BUILD_URL"):
            url = safe_url(ci.get(key))
            if url:
                return url
        return VERIFIER_FALLBACK

    def render(self, verdict: Verdict, document: InputDocument | None) -> str:
        ctx = verdict.get("context")
        policy: Mapping[str, Any] = verdict.get("policy") or {}
        repo_uri, commit = self._repository(ctx)
        subjects: list[dict[str, Any]] = []
        subject_kind = "artifacts"
        for name, hexdigest in self.options.subjects:
            subjects.append({"name": name, "digest": {"sha256": hexdigest}})
        if not subjects:
            subject_kind = "scanner-reports"
            if _HEX_COMMIT.fullmatch(commit):
                subjects.append({"name": f"{repo_uri}@{commit}" if repo_uri else commit, "digest": {"gitCommit": commit}})
            for i in verdict.get("inputs") or []:
                if re.fullmatch(r"[0-9a-f]{64}", str(i.get("sha256") or "")):
                    subjects.append({"name": str(i["path"]), "digest": {"sha256": str(i["sha256"])}})
        if not subjects:
            subject_kind = "none"
            subjects.append({"name": "no-input", "digest": {"sha256": hashlib.sha256(b"").hexdigest()}})
        passed = verdict["decision"] == "pass"
        stage = str((ctx.get("stage") if ctx else None) or "default")
        level = "POLICY_GATE_" + (re.sub(r"[^A-Z0-9]+", "_", stage.upper()).strip("_") or "DEFAULT")
        if repo_uri and _HEX_COMMIT.fullmatch(commit):
            resource = f"{repo_uri}@{commit}"
        elif repo_uri:
            resource = repo_uri
        else:
            resource = _uri_ref(str(subjects[0]["name"]))
        digest = str(policy.get("digest") or "")
        policy_desc: dict[str, Any] = {"uri": self._policy_uri(policy, repo_uri)}
        if digest.startswith("sha256:"):
            policy_desc["digest"] = {"sha256": digest.split(":", 1)[1]}
        verifier: dict[str, Any] = {"id": self._verifier_id(), "version": {"policy-gate": __version__}}
        engine = verdict.get("engine")
        if engine and engine.get("name") and engine.get("version"):
            verifier["version"][f"engine-{engine['name']}"] = str(engine["version"])
        time_verified = (ctx.get("time") if ctx else None) or dt.datetime.now(dt.timezone.utc).replace(microsecond=0).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        predicate: dict[str, Any] = {
            "verifier": verifier,
            "timeVerified": time_verified,
            "resourceUri": resource,
            "policy": policy_desc,
            "verificationResult": "PASSED" if passed else "FAILED",
            "verifiedLevels": [level] if passed else ["FAILED"],
            EXTENSION: {
                "decision": verdict["decision"],
                "exitCode": int(verdict["exit_code"]),
                "stage": stage,
                "subjectKind": subject_kind,
                "totals": totals(verdict, document),
                "reportOnly": verdict.get("report_only"),
                "violations": sorted({str(e["rule"]) for e in verdict.get("violations") or []}),
                "waiversApplied": [
                    {k: w.get(k) for k in ("waiver", "finding", "reason", "approved_by", "expires", "ticket") if w.get(k) is not None}
                    for w in verdict.get("waived") or []
                ],
                "notUsed": [dict(e) for e in not_used(verdict)],
                "policyRevision": policy.get("revision"),
                "error": err.get("message") if (err := verdict.get("error")) else None,
            },
        }
        statement = {"_type": STATEMENT_TYPE, "subject": subjects, "predicateType": PREDICATE_TYPE, "predicate": predicate}
        return dump(statement)

    @staticmethod
    def _policy_uri(policy: Mapping[str, Any], repo_uri: str) -> str:
        path = str(policy.get("path") or "")
        revision = str(policy.get("revision") or "")
        if policy.get("source") == "git" and repo_uri and _HEX_COMMIT.fullmatch(revision):
            rel = path.split(":", 1)[1] if ":" in path else path
            return f"{repo_uri}@{revision}#{_uri_ref(rel)}"
        return _uri_ref(path) if path else "policy-gate:shipped-policy"
