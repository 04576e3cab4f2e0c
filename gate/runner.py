"""The wiring of one evaluation: config → collect → prepare → engine → verdict.

`evaluate(config)` always returns an `Outcome` whose verdict says pass, fail or error; a
`GateError` raised anywhere below becomes an error verdict (with no violations at all) and its
exit code. A bug (any other exception) propagates to the CLI, which exits 6.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from gate import __version__
from gate.collect import Limits, Report, collect
from gate.documents.json import dump_document, load_document
from gate.engine.interface import SAMPLE_FROM_CHARS, input_sample
from gate.errors import ConfigError, GateError, PolicyError
from gate.pipeline import Context, prepare
from gate.policy import PolicySet
from gate.records import EngineInfo, InputDocument, NotUsedRecord, Prepared, ScanRecord, UnscannedRecord, Verdict
from gate.sources import Governance, policy_root
from gate.verdict import Decision, RunInfo, build_verdict, decide, format_time, parse_time

if TYPE_CHECKING:  # imported on use: a run without waivers never loads the module
    from gate.model import VexStatement
    from gate.waivers import WaiverSet
    from scanners.run.coverage import CoverageRules, Survey

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
    repo_root: str | None = None
    """The workspace root whose `.git` holds `policy_ref` (gate.sources.find_repo_root)."""
    verification_key: str | None = None
    """Public key (or HMAC secret) file that policy bundles and folders must be signed for."""
    not_used: tuple[Mapping[str, Any], ...] = ()
    """Work-tree changes already set aside before the run (the config file read from the ref)."""
    recorded_reports: Callable[[], Sequence[tuple[str, bytes]]] | None = None
    """`gate run`: the reports its scanners wrote, as (path shown, bytes recorded when the tool
    ended); called once, where reports are read, and raises InputError for a changed report."""
    unscanned: tuple[Mapping[str, Any], ...] | None = None
    """`gate run`: source files no code scanner covered (None when the gate does not know the tree)."""
    constant_pickles: tuple[Mapping[str, Any], ...] | None = None
    """`gate run`: pickle loads its snapshot proves to read constant data pickles (scanners.run.constant_pickles)."""
    source_root: str | None = None
    """`gate evaluate --source-root DIR`: the project the reports are about, surveyed for `unscanned`."""
    vuln_db: str | None = None
    timing: bool = True
    """False (`--no-timing`): the verdict's `timing` is an empty object, so two runs on the same
    inputs with the same `--time` give the same bytes in every format."""
    report_only: bool = False
    """`--fail-on never`: a pass or fail verdict records the exit code it would have had and exits
    0 (`gate.verdict.mark_report_only`); an error verdict keeps its code."""


@dataclass
class Outcome:
    """A verdict and the input document it was judged on (None when the run stopped early)."""

    verdict: Verdict
    document: InputDocument | None
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


def resolve_policy(config: Config, governance: Governance | None = None) -> PolicySet:
    """Load the policies from the configured source: a git ref, a bundle, a folder, or the shipped pack.

    Under `--policy-ref` the policies, the `--data` files inside the repository and the
    verification key come from the ref (gate.sources); what the work tree changed is recorded in
    `governance.not_used`.
    """
    gov = governance or Governance.open(config.policy_ref, config.repo_root)
    key = verification_key(config, gov)
    policy = gov.policy(gov.policy_root(config.policy), config.data, key)
    if config.policy_digest and policy.digest != config.policy_digest:
        raise PolicyError(
            f"policy digest {policy.digest} differs from the pinned {config.policy_digest}: refused",
            file=policy.root,
        )
    return policy


def verification_key(config: Config, gov: Governance) -> tuple[str, bytes] | None:
    """(name, bytes) of the verification key: `--verification-key`, else GATE_VERIFICATION_KEY.

    Under `--policy-ref` a key inside the repository is read from the ref, never from the work
    tree; the ref lacking it is a ConfigError (2).
    """
    from gate.bundle import VERIFICATION_KEY_ENV

    path = config.verification_key or os.environ.get(VERIFICATION_KEY_ENV) or None
    if path is None:
        return None
    got = gov.file(path, "key", what="verification key")
    if got is None:
        where = f" at {gov.ref.shown(path)}" if gov.ref is not None and gov.ref.inside(path) else ""
        raise ConfigError(
            f"verification key not found{where}", file=path, hint="a key inside the repository must be committed on the trusted ref"
        )
    return got


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
    outcome = _evaluate(config)
    if config.report_only:
        from gate.verdict import mark_report_only

        mark_report_only(outcome.verdict)
    return outcome


def _evaluate(config: Config) -> Outcome:
    timing: dict[str, float] = {}
    started = time.perf_counter()
    policy: PolicySet | None = None
    prepared: Prepared | None = None
    input_json: str | None = None
    lean: Lean | None = None
    engine_info: EngineInfo | None = None
    context: Context | None = None
    try:
        now = resolve_time(config.time)
        t0 = time.perf_counter()
        gov = Governance.open(config.policy_ref, config.repo_root)
        gov.not_used.extend(dict(e) for e in config.not_used)
        policy = resolve_policy(config, gov)
        timing["policy_load"] = time.perf_counter() - t0
        stage = config.stage or DEFAULT_STAGE
        profile = stage_profile(policy, stage)
        context = _context(config, stage, now)
        check_data(policy)
        fail_on = config.fail_on or str(profile.get("fail_on") or "deny")
        if fail_on not in ("deny", "warn"):
            raise ConfigError(f"fail_on must be deny or warn, not {fail_on!r}")
        waivers = None
        if config.waivers:
            wconf = policy.data.get("waivers") or {}
            waivers = load_waivers(
                gov,
                config.waivers,
                now=now,
                horizon_days=int(wconf.get("horizon_days", 180)),
                warn_before_days=int(wconf.get("warn_before_days", 14)),
            )
        baseline = load_trusted_baseline(gov, config.baseline) if config.baseline else None
        t0 = time.perf_counter()
        recorded = list(config.recorded_reports()) if config.recorded_reports is not None else []
        reports = collect(
            config.reports, as_format=config.as_format, limits=config.limits, allow_empty=config.allow_empty or bool(recorded)
        )
        if recorded:
            from gate.collect import read_document

            reports += [read_document(data, path, as_format=config.as_format, limits=config.limits) for path, data in recorded]
        timing["read"] = time.perf_counter() - t0
        # `evaluate --source-root DIR`: DIR surveyed once, for what no report covered and for the
        # pickle loads the gate can prove constant (`gate run` brings both from its own survey).
        surveyed = None
        if config.source_root is not None and (config.unscanned is None or config.constant_pickles is None):
            surveyed = _source_survey(config.source_root, policy.data)
        unscanned_entries = config.unscanned
        if surveyed is not None and unscanned_entries is None:
            unscanned_entries = tuple(_unscanned_in(surveyed, reports, config.limits))
        if gov.ref is not None:
            reports = trusted_vex(gov, reports, config.limits)
        t0 = time.perf_counter()
        reports, vulndb, vulndb_scan = _vulndb(config, reports, profile, policy.data, now)
        timing["vulndb"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        own_scans = [*([vulndb_scan] if vulndb_scan is not None else []), *(dict(s) for s in config.extra_scans)]
        proven = config.constant_pickles
        if surveyed is not None and proven is None:
            proven = tuple(_constant_pickles_in(surveyed))
        prepared = prepare(
            reports,
            context=context,
            config_data=policy.data,
            waivers=waivers,
            baseline=baseline,
            extra_scans=cast("list[ScanRecord]", own_scans),
            vulndb=vulndb,
            unscanned=_unscanned(unscanned_entries, policy.data) if unscanned_entries is not None else None,
            proven_pickles=proven or (),
        )
        del reports  # the document holds copies; the model objects need not outlive it
        input_json, fast = dump_document(prepared.document)
        sample = dump_document(input_sample(prepared.document))[0] if len(input_json) >= SAMPLE_FROM_CHARS else None
        timing["prepare"] = time.perf_counter() - t0
        lean = Lean.of(prepared, input_json, fast)  # while the engine works, the document is kept only as its JSON
        prepared = input_json = None
        from gate.engine.registry import get_engine

        engine = get_engine(config.engine, **_engine_options(config))
        engine_info = {"name": config.engine, "version": engine.version()}
        t0 = time.perf_counter()
        raw = engine.evaluate(policy, lean.input_json, timeout=config.eval_timeout, meanwhile=lean.restore, sample=sample)
        sample = None
        engine_info["version"] = engine.version()  # a server engine knows its bundle revision only now
        prepared, lean = lean.restored(), None
        timing["evaluate"] = time.perf_counter() - t0
        decision = decide(raw, policy, stage=stage, now=now, fail_on=fail_on)
        timing["total"] = time.perf_counter() - started
        run = RunInfo(
            policy=policy.to_dict(),
            engine=engine_info,
            context=context.to_dict(),
            timing=_rounded(timing) if config.timing else {},
            run=dict(config.run_info) if config.run_info else None,
            rules={rid: policy.rules[rid].to_dict() for rid in sorted(policy.rules)},
            not_used=cast("list[NotUsedRecord]", gov.not_used),
            vulndb=vulndb,
        )
        return Outcome(verdict=build_verdict(decision, prepared, run), document=prepared.document, policy=policy)
    except GateError as exc:
        if prepared is None and lean is not None:  # the engine failed: the document back from its JSON
            prepared = lean.restored()
        timing["total"] = time.perf_counter() - started
        run = RunInfo(
            policy=policy.to_dict() if policy else None,
            engine=engine_info,
            context=context.to_dict() if context else None,
            timing=_rounded(timing) if config.timing else {},
            run=dict(config.run_info) if config.run_info else None,
        )
        verdict = build_verdict(Decision.failed(exc), prepared, run)
        return Outcome(verdict=verdict, document=prepared.document if prepared else None, policy=policy, error=exc)


@dataclass(frozen=True)
class Lean:
    """A prepared run whose input document is held only as its JSON, while the engine works.

    The engine's workers hold their own copy of the input, parsed from the JSON; the parent's
    copy as Python objects would be the largest thing in memory, and nothing reads it then.
    Keeping only the JSON and parsing it again keeps the whole run under 1 GiB. Where the engine
    has memory to spare beside its workers it parses it again (`restore`) on the core they leave
    free, where it costs no wall time; otherwise (10^5 findings) it is parsed after the
    evaluation, by orjson (0.6 s where the standard decoder took 1.2 s).
    The JSON round trip gives back an equal document (it was built of JSON values), also when
    the engine fails.
    """

    governance: Prepared
    """The prepared run with an empty document: the waiver and VEX records the verdict reports."""
    input_json: str
    fast: bool
    """Whether orjson wrote `input_json` (`gate.documents.json.dump_document`)."""
    _back: list[Prepared] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def of(cls, prepared: Prepared, input_json: str, fast: bool) -> Lean:
        """`prepared` without its document (the caller drops its own reference to it)."""
        return cls(replace(prepared, document=cast("InputDocument", {})), input_json, fast)

    def restore(self) -> None:
        """Parse the document back now (the engine's `meanwhile`); `restored` then returns it."""
        if not self._back:
            document = load_document(self.input_json, self.fast)
            self._back.append(replace(self.governance, document=cast("InputDocument", document)))

    def restored(self) -> Prepared:
        """The prepared run with its document read back from the JSON (parsed once)."""
        self.restore()
        return self._back[0]


def make_baseline(
    reports: Sequence[str],
    *,
    as_format: str | None = None,
    policy: str | None = None,
    time_text: str | None = None,
    allow_empty: bool = False,
    vuln_db: str | None = None,
) -> dict[str, Any]:
    """`gate baseline`: the fingerprints of today's findings, as the baseline document.

    The reports are read as `evaluate` reads them, the findings `evaluate` adds from the
    vulnerability database included; the policy (`policy_root`) gives the data that shapes the
    findings (test paths, dedupe window). Raises GateError.
    """
    from gate.baseline import build_baseline
    from gate.sources import load_policy_path
    from gate.vulndb.evidence import attach
    from gate.vulndb.store import db_dir_of

    now = resolve_time(time_text)
    pol = load_policy_path(policy_root(policy))
    reps = collect(reports, as_format=as_format, allow_empty=allow_empty)
    matched = attach(
        reps,
        db_dir=db_dir_of(vuln_db),
        explicit=bool(vuln_db),
        requires_dependency=False,
        now=now,
        gate_version=__version__,
    )
    if matched.report is not None:
        reps = [*reps, matched.report]
    ctx = Context(stage="default", time=format_time(now), gate_version=__version__)
    doc = prepare(reps, context=ctx, config_data=pol.data).document
    return build_baseline(doc["findings"], created=format_time(now), gate_version=__version__)


def _vulndb(
    config: Config, reports: list[Report], profile: Mapping[str, Any], data: Mapping[str, Any], now: dt.datetime
) -> tuple[list[Report], dict[str, Any], dict[str, Any] | None]:
    """Match the run's SBOM components against the vulnerability database (gate/vulndb).

    The database is `--vuln-db` / `GATE_VULN_DB` / the config file's `vuln_db`, else the per-user
    cache folder. Its findings join the reports as the `gate-vulndb` scan; the returned object is
    the input document's and the verdict's `vulndb`, and the scan record of a run without a
    database where the stage requires dependency evidence that no other complete report of the
    run provides (by data `evidence.tools`, e.g. a pip-audit report): an incomplete scan naming
    the fix.
    """
    from gate.vulndb.evidence import attach
    from gate.vulndb.store import db_dir_of

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
        db_dir=db_dir_of(config.vuln_db),
        explicit=bool(config.vuln_db),
        requires_dependency=requires,
        now=now,
        gate_version=__version__,
    )
    if attached.report is not None:
        reports = [*reports, attached.report]
    return reports, attached.info, attached.scan


def check_data(policy: PolicySet) -> None:
    """Validate the merged data against the data schema (ConfigError, exit 2, when invalid).

    `policy.validate_data`: jsonschema-rs decides valid or not in about a millisecond; only
    invalid data pays for importing the Python jsonschema (a second of start-up), which locates
    the error by file and line.
    """
    from gate.policy import validate_data

    validate_data(policy.data, policy.root)


def load_waivers(gov: Governance, path: str, *, now: dt.datetime, horizon_days: int, warn_before_days: int) -> WaiverSet:
    """The waivers file from the trusted source (a WaiverSet).

    Under `--policy-ref`, a waivers file the ref does not have waives nothing (the work tree's is
    listed as not used); one that neither has is a ConfigError (2), as without a ref.
    """
    from gate.waivers import WaiverSet

    got = gov.file(path, "waivers", what="waivers file")
    if got is None:
        ref = gov.ref
        if ref is None or not ref.inside(path) or gov.work.node(path) is None:
            where = f", neither at {ref.shown(path)} nor in the work tree" if ref is not None and ref.inside(path) else ""
            raise ConfigError(f"waivers file not found{where}", file=path)
        return WaiverSet.empty(path=ref.shown(path), now=now, warn_before_days=warn_before_days)
    shown, content = got
    return WaiverSet.load(shown, now=now, horizon_days=horizon_days, warn_before_days=warn_before_days, shown=shown, content=content)


def load_trusted_baseline(gov: Governance, path: str) -> set[str]:
    """The baseline's fingerprints from the trusted source.

    Under `--policy-ref`, a baseline the ref does not have is an EMPTY baseline: every finding is
    `new` (the strictest reading), and the work tree's file is listed as not used. Otherwise a
    regenerated baseline would turn the change's own flaws into "existing" ones.
    """
    from gate.baseline import WHAT, parse_baseline

    got = gov.file(path, "baseline", what=WHAT)
    if got is None:
        ref = gov.ref
        if ref is None or not ref.inside(path) or gov.work.node(path) is None:
            raise ConfigError(f"{WHAT} not found", file=path, hint="write one with `gate baseline REPORT... -o FILE`")
        return set()
    return parse_baseline(got[1], got[0])


def trusted_vex(gov: Governance, reports: list[Report], limits: Limits) -> list[Report]:
    """Under --policy-ref, VEX statements count only as the trusted ref holds them.

    A report whose work-tree copy carries VEX statements is looked up at the ref by name: the
    ref's statements are used (read from the ref's bytes with the same reader); a document the
    ref does not have (or that lies outside the repository) contributes no statements. Its
    findings and components still count. Every difference is listed as not used.
    """
    import dataclasses

    from gate.collect import read_document

    ref = gov.ref
    assert ref is not None  # noqa: S101 - called under --policy-ref only
    out = []
    for r in reports:
        if not r.result.vex:
            out.append(r)
            continue
        if not ref.inside(r.path):
            gov.note(r.path, "vex", "added", f"outside the repository, not in {ref.ref}: its statements were not used")
            out.append(dataclasses.replace(r, result=dataclasses.replace(r.result, vex=())))
            continue
        got = gov.file(r.path, "vex", what="VEX document")
        if got is None:
            vex: tuple[VexStatement, ...] = ()
        else:
            shown, content = got
            vex = tuple(read_document(content, shown, limits=limits).result.vex)
        if tuple(r.result.vex) != vex:
            r = dataclasses.replace(r, result=dataclasses.replace(r.result, vex=vex))
        out.append(r)
    return out


def coverage_rules(data: Mapping[str, Any]) -> CoverageRules:
    """The data's coverage section (`coverage.exclude`, anchored globs); invalid data is exit 2."""
    from scanners.run.coverage import CoverageRules

    try:
        return CoverageRules.from_data(data)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _source_survey(root: str, data: Mapping[str, Any]) -> Survey:
    """`gate evaluate --source-root DIR`: DIR's source files, surveyed with the data's coverage
    rules as `gate run` does."""
    from scanners.run.coverage import survey

    folder = Path(root)
    if not folder.is_dir():
        raise ConfigError("--source-root must be the project's folder", file=root)
    return survey(folder, coverage_rules(data))


def _unscanned_in(surveyed: Survey, reports: Sequence[Report], limits: Limits) -> list[dict[str, str]]:
    """The surveyed source files that no report lists as scanned.

    A report covers the files its tool lists (bandit `metrics`, semgrep JSON `paths.scanned`,
    SARIF `artifacts`). The list is read from the same bytes the report was judged on (a file
    that changed since it was read is an input error).
    """
    import hashlib

    from gate.collect import parse_document, read_bytes
    from gate.errors import InputError
    from scanners.run.coverage import SCANNED_LISTS, relative_to_root, unscanned

    covered: dict[str, set[str]] = {}
    for r in reports:
        lister = SCANNED_LISTS.get(r.result.format)
        if lister is None:
            continue
        data_bytes = read_bytes(r.path, limits)
        if hashlib.sha256(data_bytes).hexdigest() != r.sha256:
            raise InputError("the report changed while the gate read it: refused", file=r.path)
        doc, _, _ = parse_document(data_bytes, r.path, limits)
        covered[r.path] = relative_to_root(lister(doc), surveyed.root)
    return unscanned(surveyed, covered, "reports that list the files they scanned")


def _constant_pickles_in(surveyed: Survey) -> list[dict[str, Any]]:
    """The pickle loads among the surveyed source files the gate proves read constant data
    pickles (scanners.run.constant_pickles)."""
    from scanners.run.constant_pickles import prove

    return prove(surveyed.root, surveyed.paths, [rel for rel, _glob in surveyed.excluded])


def _unscanned(entries: Sequence[Mapping[str, Any]], data: Mapping[str, Any]) -> list[UnscannedRecord]:
    """`input.unscanned`: each file with `test_code` from the data's test-path globs, as findings have it."""
    from gate.paths import compile_globs

    test_re = compile_globs(data.get("test_paths") or ())
    return [
        {"path": str(e["path"]), "reason": str(e["reason"]), "test_code": bool(test_re is not None and test_re.match(str(e["path"])))}
        for e in entries
    ]


def _engine_options(config: Config) -> dict[str, Any]:
    if config.engine == "opa-server":
        return {"url": config.opa_url or os.environ.get("GATE_OPA_URL") or "http://127.0.0.1:8181"}
    return {}


def _rounded(timing: Mapping[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in sorted(timing.items())}
