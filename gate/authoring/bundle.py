"""`gate policy bundle`: a policy folder packed as an OPA bundle, its data checked first."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BuiltBundle:
    """What `gate policy bundle` wrote."""

    path: str
    digest: str
    """The policy digest (the folder's, which the bundle and its manifest carry too): pin it with `--policy-digest`."""
    file_sha: str
    """`sha256:` of the bundle file."""
    revision: str
    modules: int
    signing_alg: str | None
    """The signature's algorithm; None when unsigned."""

    def summary(self) -> str:
        """The line the CLI prints on stderr."""
        signed = f"signed {self.signing_alg}" if self.signing_alg else "unsigned"
        return f"gate: wrote {self.path} (file {self.file_sha}): revision {self.revision}, {self.modules} modules, {signed}"


def make_bundle(
    root: str | None,
    output: str,
    *,
    revision: str | None = None,
    signing_key: str | None = None,
    signing_alg: str = "RS256",
    key_id: str | None = None,
) -> BuiltBundle:
    """Build the OPA bundle of the policy folder at `root` (None: `gate.sources.policy_root`)
    into `output`: .manifest (revision, default the policy digest), the Rego modules that decide,
    data.json with the merged data, signed when `signing_key` is given.

    The data the runner would refuse is not shipped either (ConfigError, exit 2). Raises
    PolicyError, ConfigError (bad key), OutputError.
    """
    from gate.bundle import DEFAULT_KEY_ID, build_bundle
    from gate.policy import load_policy, validate_data
    from gate.sources import policy_root

    policy = load_policy(policy_root(root), include_tests=False)
    validate_data(policy.data, policy.root)
    revision = revision if revision is not None else policy.digest
    file_sha = build_bundle(
        policy, output, revision=revision, signing_key=signing_key, signing_alg=signing_alg, key_id=key_id or DEFAULT_KEY_ID
    )
    return BuiltBundle(
        path=output,
        digest=policy.digest,
        file_sha=file_sha,
        revision=revision,
        modules=len(policy.policy_modules()),
        signing_alg=signing_alg if signing_key else None,
    )
