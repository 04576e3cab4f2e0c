"""The wiring of one evaluation: config → collect → prepare → engine → verdict.

`evaluate(config)` always returns an `Outcome` whose verdict says pass, fail or error; a
`GateError` raised anywhere below becomes an error verdict (with no violations at all) and its
exit code. A bug (any other exception) propagates to the CLI, which exits 6.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gate import __version__
from gate.collect import Limits, collect
from gate.engine.interface import Engine, RawDecision
from gate.errors import ConfigError, GateError, PolicyError
from gate.pipeline import Context, Prepared, prepare
from gate.policy import PolicySet, default_policy_dir, load_policy
from gate.verdict import build_verdict, decide, format_time, parse_time

DEFAULT_STAGE = "default"


@dataclass(frozen=True)
class Config:
    """Everything one evaluation needs, fixed before it starts."""

    reports: tuple[str, ...] = ()
    as_format: str | None = None
    policy: str | None = None
    policy_ref: str | None = None
    policy_digest: str | None = None
    data: tuple[str, ...] = ()
    waivers: str | None = None
    baseline: str | None = None
    stage: str | None = None
    engine: str = "embedded"
    opa_url: str | None = None
    eval_timeout: float = 60.0
    time: str | None = None
    fail_on: str | None = None
    allow_empty: bool = False
    limits: Limits = field(default_factory=Limits)
    repository: str | None = None
    ref: str | None = None
    commit: str | None = None
    pull_request: int | None = None
    extra_scans: tuple[Mapping[str, Any], ...] = ()
    run_info: Mapping[str, Any] | None = None
    vuln_db: str | None = None


@dataclass
class Outcome:
    """A verdict and the input document it was judged on (None when the run stopped early)."""

    verdict: dict[str, Any]
    document: dict[str, Any] | None
    policy: PolicySet | None = None
    error: GateError | None = None

    @property
    def exit_code(self) -> int:
        return int(self.verdict["exit_code"])


def resolve_time(text: str | None) -> dt.datetime:
    """`--time`, or now (UTC, to the second)."""
    if text is None:
        return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    try:
        return parse_time(text)
    except ValueError as exc:
        raise ConfigError(f"--time {text!r} is not an RFC 3339 time: {exc}") from None


def resolve_policy(config: Config) -> PolicySet:
    """Load the policies from the configured source: a git ref, a bundle, a folder, or the shipped pack."""
    if config.policy_ref:
        from gate import trusted

        policy: PolicySet = trusted.load_from_ref(config.policy_ref, config.policy or "policies", extra_data=config.data)
    else:
        root = config.policy
        if root is None:
            root = "policies" if Path("policies").is_dir() else str(default_policy_dir())
        policy = load_policy(root, extra_data=config.data, include_tests=False)
    if config.policy_digest and policy.digest != config.policy_digest:
        raise PolicyError(
            f"policy digest {policy.digest} differs from the pinned {config.policy_digest}: refused",
            file=policy.root,
        )
    return policy


def stage_profile(policy: PolicySet, stage: str) -> dict[str, Any]:
    """The stage's profile from data; an unknown stage is a configuration error."""
    stages = policy.data.get("stages") or {}
    if not isinstance(stages, dict):
        raise ConfigError("data `stages` must be a mapping of stage names to profiles", file=policy.root)
    if stage not in stages and stage != DEFAULT_STAGE:
        known = ", ".join(sorted(stages)) or "(none)"
        raise ConfigError(f"unknown stage {stage!r}; the policy data defines: {known}")
    base = dict(stages.get(DEFAULT_STAGE) or {})
    base.update(stages.get(stage) or {})
    return base


def _context(config: Config, stage: str, now: dt.datetime) -> Context:
    return Context(
        stage=stage,
        time=format_time(now),
        gate_version=__version__,
        repository=config.repository,
        ref=config.ref,
        commit=config.commit,
        pull_request=config.pull_request,
    )


def evaluate(config: Config) -> Outcome:
    """Run one evaluation end to end. GateErrors become an error verdict; bugs propagate."""
    timing: dict[str, float] = {}
    started = time.perf_counter()
    policy: PolicySet | None = None
    prepared: Prepared | None = None
    engine_info: dict[str, Any] | None = None
    context: Context | None = None
    try:
        now = resolve_time(config.time)
        t0 = time.perf_counter()
        policy = resolve_policy(config)
        timing["policy_load"] = time.perf_counter() - t0
        stage = config.stage or DEFAULT_STAGE
        profile = stage_profile(policy, stage)
        context = _context(config, stage, now)
        check_data(policy)
        fail_on = config.fail_on or str(profile.get("fail_on") or "deny")
        if fail_on not in ("deny", "warn"):
            raise ConfigError(f"fail_on must be deny or warn, not {fail_on!r}")
        waivers = None
        # What the work tree changed in policies, data and waivers when they came from --policy-ref.
        not_used: list[dict[str, Any]] = list(getattr(policy, "not_used", ()))
        if config.waivers:
            from gate.waivers import WaiverSet

            wconf = policy.data.get("waivers") or {}
            horizon_days = int(wconf.get("horizon_days", 180))
            warn_before_days = int(wconf.get("warn_before_days", 14))
            if config.policy_ref:
                from gate import trusted

                waivers, changed = trusted.load_waivers_from_ref(
                    config.policy_ref, config.waivers, now=now, horizon_days=horizon_days, warn_before_days=warn_before_days
                )
                not_used.extend(changed)
            else:
                waivers = WaiverSet.load(config.waivers, now=now, horizon_days=horizon_days, warn_before_days=warn_before_days)
        baseline = None
        if config.baseline:
            from gate.baseline import load_baseline

            baseline = load_baseline(config.baseline)
        t0 = time.perf_counter()
        reports = collect(config.reports, as_format=config.as_format, limits=config.limits, allow_empty=config.allow_empty)
        timing["read"] = time.perf_counter() - t0
        if config.policy_ref:
            reports = _trusted_vex_only(config.policy_ref, reports, not_used)
        t0 = time.perf_counter()
        reports, vulndb, vulndb_scan = _vulndb(config, reports, profile, policy.data, now)
        timing["vulndb"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        prepared = prepare(reports, context=context, config_data=policy.data, waivers=waivers, baseline=baseline)
        del reports  # the document holds copies; the model objects need not outlive it
        prepared.document["vulndb"] = vulndb
        if vulndb_scan is not None:
            prepared.document["scans"].append(vulndb_scan)
        if config.extra_scans:
            prepared.document["scans"].extend(dict(s) for s in config.extra_scans)
        input_json = json.dumps(prepared.document, ensure_ascii=False)
        timing["prepare"] = time.perf_counter() - t0
        from gate.engine.registry import get_engine

        engine = get_engine(config.engine, **_engine_options(config))
        engine_info = {"name": config.engine, "version": engine.version()}
        t0 = time.perf_counter()
        raw = evaluate_lean(engine, policy, prepared, input_json, config.eval_timeout)
        engine_info["version"] = engine.version()  # a server engine knows its bundle revision only now
        del input_json
        timing["evaluate"] = time.perf_counter() - t0
        violations, warnings, not_applicable, decision, exit_code = decide(raw, policy, stage=stage, now=now, fail_on=fail_on)
        timing["total"] = time.perf_counter() - started
        verdict = build_verdict(
            decision=decision,
            exit_code=exit_code,
            violations=violations,
            warnings=warnings,
            document=prepared.document,
            policy=policy.to_dict(),
            engine=engine_info,
            context=context.to_dict(),
            timing=_rounded(timing),
            waived=prepared.waived,
            waivers_expired=prepared.waivers_expired,
            waivers_unused=prepared.waivers_unused,
            waivers_expiring=prepared.waivers_expiring,
            vex_applied=prepared.vex_applied,
            not_applicable=not_applicable,
            extra={
                **_extra(config, policy, prepared.document, violations, warnings, prepared),
                "not_used": sorted(not_used, key=lambda e: (str(e["path"]), str(e["change"]))),
                "vulndb": vulndb,
            },
        )
        return Outcome(verdict=verdict, document=prepared.document, policy=policy)
    except GateError as exc:
        timing["total"] = time.perf_counter() - started
        verdict = build_verdict(
            decision="error",
            exit_code=int(exc.exit_code),
            violations=[],
            warnings=[],
            document=prepared.document if prepared else None,
            policy=policy.to_dict() if policy else None,
            engine=engine_info,
            context=context.to_dict() if context else None,
            timing=_rounded(timing),
            error=exc,
            extra={"findings": {}, "run": dict(config.run_info) if config.run_info else None},
        )
        return Outcome(verdict=verdict, document=prepared.document if prepared else None, policy=policy, error=exc)


def _vulndb(
    config: Config, reports: list[Any], profile: Mapping[str, Any], data: Mapping[str, Any], now: dt.datetime
) -> tuple[list[Any], dict[str, Any], dict[str, Any] | None]:
    """Match the run's SBOM components against the vulnerability database (gate/vulndb).

    The database is `--vuln-db` / `GATE_VULN_DB` / the config file's `vuln_db`, else the per-user
    cache folder. Its findings join the reports as the `gate-vulndb` scan; the returned object is
    the input document's and the verdict's `vulndb`, and the scan record of a run without a
    database where the stage requires dependency evidence that no other complete report of the
    run provides (by data `evidence.tools`, e.g. a pip-audit report): an incomplete scan naming
    the fix.
    """
    from gate.vulndb.evidence import attach
    from gate.vulndb.store import default_db_dir

    required = profile.get("required_evidence") or []
    requires = isinstance(required, list) and "dependency" in required
    if requires:
        tools = (data.get("evidence") or {}).get("tools") or {}
        requires = not any(
            (r.result.complete and "dependency" in (tools.get(str(r.result.tool).lower()) or ()))
            or any(f.kind == "dependency" for f in r.result.findings)
            for r in reports
        )
    attached = attach(
        reports,
        db_dir=Path(config.vuln_db) if config.vuln_db else default_db_dir(),
        explicit=bool(config.vuln_db),
        requires_dependency=requires,
        now=now,
        gate_version=__version__,
    )
    if attached.report is not None:
        reports = [*reports, attached.report]
    return reports, attached.info, attached.scan


def evaluate_lean(engine: Engine, policy: PolicySet, prepared: Prepared, input_json: str, timeout: float) -> RawDecision:
    """Evaluate with the Python input document set aside, and read it back from its JSON after.

    While the engine works (its workers hold their own copy of the input, parsed from the JSON),
    the parent's copy as Python objects is the largest thing in memory and nothing reads it:
    dropping it and parsing the JSON again afterwards costs a twentieth of the run's time at
    10^5 findings and keeps the whole run under 1 GiB. The JSON round trip gives back an equal
    document (it was built of JSON values), also when the engine fails.
    """
    prepared.document = {}
    try:
        return engine.evaluate(policy, input_json, timeout=timeout)
    finally:
        prepared.document = json.loads(input_json)


def check_data(policy: PolicySet) -> None:
    """Validate the merged data against the data schema (ConfigError, exit 2, when invalid).

    `policy.validate_data`: jsonschema-rs decides valid or not in about a millisecond; only
    invalid data pays for importing the Python jsonschema (a second of start-up), which locates
    the error by file and line.
    """
    from gate.policy import validate_data

    validate_data(policy.data, policy.root)


def _trusted_vex_only(ref: str, reports: list[Any], not_used: list[dict[str, Any]]) -> list[Any]:
    """Under --policy-ref, VEX statements count only from documents unchanged at the trusted ref.

    A VEX file the change added or edited is still read (its findings and components count), but
    its statements do not stop anything from blocking; it is listed as not used.
    """
    import dataclasses

    from gate import trusted

    with_vex = [r.path for r in reports if r.result.vex]
    if not with_vex:
        return reports
    changes = trusted.unchanged_at_ref(ref, with_vex)
    out = []
    for r in reports:
        change = changes.get(r.path)
        if change is not None:
            not_used.append({"path": r.path, "kind": "vex", "change": change})
            r = dataclasses.replace(r, result=dataclasses.replace(r.result, vex=()))
        out.append(r)
    return out


def _engine_options(config: Config) -> dict[str, Any]:
    if config.engine == "opa-server":
        return {"url": config.opa_url or os.environ.get("GATE_OPA_URL") or "http://127.0.0.1:8181"}
    return {}


def _rounded(timing: Mapping[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in sorted(timing.items())}


def _extra(
    config: Config,
    policy: PolicySet,
    document: Mapping[str, Any],
    violations: Sequence[Mapping[str, Any]],
    warnings: Sequence[Mapping[str, Any]],
    prepared: Prepared,
) -> dict[str, Any]:
    """The findings cited as evidence (compact, with locations), the rules' metadata, the run."""
    cited: set[str] = set()
    for e in (*violations, *warnings):
        cited.update(e["evidence"]["findings"])
    cited.update(str(w.get("finding")) for w in prepared.waived)
    by_id = {f["id"]: f for f in document["findings"] if f["id"] in cited}
    compact = {
        fid: {
            "tool": f["tool"],
            "rule_id": f["rule_id"],
            "rule_name": f["rule_name"],
            "kind": f["kind"],
            "severity": f["severity"],
            "message": f["message"],
            "location": f["location"],
            "package": f["package"],
            "cwe": f["cwe"],
            "test_code": f["test_code"],
            "baseline": f["baseline"],
            "duplicates": f["duplicates"],
            "waiver": f["waiver"],
            "vex": f["vex"],
            "help_uri": f["help_uri"],
            "source": f["source"],
        }
        for fid, f in sorted(by_id.items())
    }
    return {
        "findings": compact,
        "rules": {rid: policy.rules[rid].to_dict() for rid in sorted(policy.rules)},
        "run": dict(config.run_info) if config.run_info else None,
    }
