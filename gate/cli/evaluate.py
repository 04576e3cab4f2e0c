"""`gate evaluate` and `gate baseline`, and the options `gate run` shares with evaluate."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import click

from gate.cli import config_option, keep_until_exit, verbose_option
from gate.cli.choices import OutputPair, reader_format_choice
from gate.collect import DEFAULT_MAX_BYTES, DEFAULT_MAX_DEPTH, DEFAULT_MAX_FINDINGS, Limits
from gate.engine.registry import ENGINES
from gate.errors import OutputError
from gate.output.interface import OutputOptions
from gate.output.registry import FORMATS, get_formatter
from gate.runner import Config, Outcome, evaluate


def _opt(*names: str, env: str, **kw: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option(*names, envvar=env, show_envvar=True, **kw)


def _policy_options() -> list[Callable[[Callable[..., Any]], Callable[..., Any]]]:
    """What governs and how it is evaluated: policy, data, waivers, baseline, stage, engine, clock, trusted ref."""
    return [
        _opt("--policy", env="GATE_POLICY", help="Policy folder or bundle (default: ./policies, else the shipped pack)."),
        _opt(
            "--data",
            env="GATE_DATA",
            multiple=True,
            type=click.Path(dir_okay=False),
            help="Extra data file merged over the policy data (repeatable).",
        ),
        _opt("--waivers", env="GATE_WAIVERS", type=click.Path(dir_okay=False), help="Waivers file (YAML)."),
        _opt("--baseline", env="GATE_BASELINE", type=click.Path(dir_okay=False), help="Baseline file from `gate baseline`."),
        _opt("--stage", env="GATE_STAGE", help="Stage profile from the policy data (e.g. dev, staging, prod)."),
        _opt("--engine", env="GATE_ENGINE", type=click.Choice(ENGINES), default="embedded", show_default=True, help="Policy engine."),
        _opt("--opa-url", env="GATE_OPA_URL", help="OPA server URL for --engine opa-server."),
        _opt(
            "--eval-timeout",
            env="GATE_EVAL_TIMEOUT",
            type=click.FloatRange(min=0.01),
            default=60.0,
            show_default=True,
            help="Seconds allowed for policy evaluation.",
        ),
        _opt("--time", "time_", env="GATE_TIME", help='"Now" for everything judged by the clock (RFC 3339), for reproducible runs.'),
        _opt(
            "--no-timing",
            env="GATE_NO_TIMING",
            is_flag=True,
            help="Leave the run's measured durations out of the verdict (`timing` is empty): with --time, "
            "two runs on the same inputs give the same bytes.",
        ),
        _opt(
            "--policy-ref",
            env="GATE_POLICY_REF",
            help="Read everything that governs (policies, data, waivers, baseline, VEX, config, key) from this git ref.",
        ),
        _opt("--policy-digest", env="GATE_POLICY_DIGEST", help="Refuse policies whose digest (sha256:...) differs."),
        _opt(
            "--repo-root",
            env="GATE_REPO_ROOT",
            type=click.Path(file_okay=False),
            help="Top level of the checkout whose .git holds --policy-ref (default: GITHUB_WORKSPACE, CI_PROJECT_DIR, "
            "else the outermost git work tree above the current folder).",
        ),
        _opt(
            "--verification-key",
            env="GATE_VERIFICATION_KEY",
            type=click.Path(dir_okay=False),
            help="Public key (PEM) or HMAC secret file: the policy bundle or folder must be signed for it.",
        ),
    ]


def _output_options() -> list[Callable[[Callable[..., Any]], Callable[..., Any]]]:
    """What is written: formats, files, when the gate closes."""
    return [
        _opt(
            "--format",
            "format_",
            env="GATE_FORMAT",
            type=click.Choice([f for f in FORMATS if f != "input"]),
            default="console",
            show_default=True,
            help="Console output format.",
        ),
        _opt(
            "--output",
            "outputs",
            env="GATE_OUTPUT",
            multiple=True,
            metavar="NAME=PATH",
            type=OutputPair(),
            help=f"Also write a format to a file (repeatable; NAME in {', '.join(FORMATS)}).",
        ),
        _opt(
            "--fail-on",
            env="GATE_FAIL_ON",
            type=click.Choice(["deny", "warn", "never"]),
            help="Close the gate on deny (default) or also on warnings; wins over the stage profile. "
            "`never`: report only (exit 0 on any verdict, every output says what would have closed the gate; errors keep their codes).",
        ),
    ]


def _limit_options() -> list[Callable[[Callable[..., Any]], Callable[..., Any]]]:
    """What is accepted: empty runs and the bounds on reports, and the vulnerability database."""
    return [
        _opt(
            "--allow-empty",
            env="GATE_ALLOW_EMPTY",
            is_flag=True,
            help="Accept having no report at all (a 0-byte or malformed file never is).",
        ),
        _opt(
            "--max-bytes",
            env="GATE_MAX_BYTES",
            type=click.IntRange(min=1),
            default=DEFAULT_MAX_BYTES,
            show_default=True,
            help="Largest report accepted.",
        ),
        _opt(
            "--max-depth",
            env="GATE_MAX_DEPTH",
            type=click.IntRange(min=1),
            default=DEFAULT_MAX_DEPTH,
            show_default=True,
            help="Deepest JSON/XML nesting accepted.",
        ),
        _opt(
            "--max-findings",
            env="GATE_MAX_FINDINGS",
            type=click.IntRange(min=1),
            default=DEFAULT_MAX_FINDINGS,
            show_default=True,
            help="Most findings accepted.",
        ),
        _opt(
            "--vuln-db",
            env="GATE_VULN_DB",
            type=click.Path(file_okay=False),
            help="Vulnerability database folder (`gate vulndb update`) the SBOM components are matched against "
            "(default: $XDG_CACHE_HOME/policy-gate/vulndb).",
        ),
    ]


def _context_options() -> list[Callable[[Callable[..., Any]], Callable[..., Any]]]:
    """Where the run stands: source root, subjects, console quietness, the change it judges."""
    return [
        _opt(
            "--source-root",
            env="GATE_SOURCE_ROOT",
            type=click.Path(file_okay=False),
            help="Repository root: SARIF, annotation and Code Quality paths are relative to it "
            "(default: the git top level of the scanned folder); "
            "given to `evaluate`, its Python source files no report lists as scanned are also `unscanned`.",
        ),
        _opt(
            "--subject",
            "subjects",
            env="GATE_SUBJECT",
            multiple=True,
            metavar="NAME@sha256:HEX",
            help="The artifact being released, the attestation's subject (repeatable; default: the reports judged).",
        ),
        _opt("--quiet", "-q", env="GATE_QUIET", is_flag=True, help="Console: only the decision line (and errors)."),
        _opt("--repository", env="GATE_REPOSITORY", help="Context: repository (owner/name)."),
        _opt("--ref", env="GATE_REF", help="Context: git ref."),
        _opt("--commit", env="GATE_COMMIT", help="Context: commit SHA."),
        _opt("--pull-request", env="GATE_PULL_REQUEST", type=int, help="Context: pull request number."),
    ]


def evaluation_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options common to `gate run` and `gate evaluate` (CONTRACT.md), each with GATE_<OPTION>,
    in the order `--help` lists them."""
    options = [*_policy_options(), *_output_options(), *_limit_options(), *_context_options(), config_option, verbose_option]
    for option in reversed(options):
        fn = option(fn)
    return fn


def parse_outputs(values: Sequence[str | tuple[str, str]]) -> list[tuple[str, str]]:
    """`NAME=PATH` pairs; an unknown name is a usage error (never silently plain text). Click has
    already split and checked them (`OutputPair`, at parse time); raw strings are accepted too."""
    pairs = []
    for value in values:
        if isinstance(value, tuple):
            pairs.append(value)
            continue
        name, sep, path = value.partition("=")
        if not sep or not path:
            raise click.BadParameter(f"{value!r} is not NAME=PATH", param_hint="--output")
        if name not in FORMATS:
            raise click.BadParameter(f"unknown format {name!r} (choose from {', '.join(FORMATS)})", param_hint="--output")
        pairs.append((name, path))
    return pairs


def build_config(reports: Sequence[str], as_format: str | None, **kw: Any) -> Config:
    """A frozen Config from the parsed options."""
    return Config(
        reports=tuple(reports),
        as_format=as_format,
        policy=kw["policy"],
        policy_ref=kw["policy_ref"],
        policy_digest=kw["policy_digest"],
        data=tuple(kw["data"]),
        waivers=kw["waivers"],
        baseline=kw["baseline"],
        stage=kw["stage"],
        engine=kw["engine"],
        opa_url=kw["opa_url"],
        eval_timeout=kw["eval_timeout"],
        time=kw["time_"],
        fail_on=None if kw["fail_on"] == "never" else kw["fail_on"],
        allow_empty=kw["allow_empty"],
        limits=Limits(max_bytes=kw["max_bytes"], max_depth=kw["max_depth"], max_findings=kw["max_findings"]),
        repository=kw["repository"],
        ref=kw["ref"],
        commit=kw["commit"],
        pull_request=kw["pull_request"],
        run_info=kw.get("run_info"),
        extra_scans=tuple(kw.get("extra_scans") or ()),
        repo_root=kw.get("repo_root"),
        verification_key=kw.get("verification_key"),
        not_used=tuple(_config_not_used()),
        recorded_reports=kw.get("recorded_reports"),
        unscanned=kw.get("unscanned"),
        constant_pickles=kw.get("constant_pickles"),
        source_root=kw.get("source_root"),
        vuln_db=kw.get("vuln_db"),
        timing=not kw.get("no_timing"),
        report_only=kw["fail_on"] == "never",
    )


def _config_not_used() -> list[dict[str, Any]]:
    """The config file's change under --policy-ref, recorded when `--config` was read."""
    ctx = click.get_current_context(silent=True)
    return list(ctx.meta.get("gate.not_used", ())) if ctx is not None else []


def write_outputs(
    outcome: Outcome,
    outputs: Sequence[tuple[str, str]],
    options: OutputOptions | None = None,
    *,
    meanwhile: Callable[[], str] | None = None,
) -> str | None:
    """Write each requested format to its file; any failure is an OutputError (exit 5).

    `meanwhile` (the console report's rendering) runs while the last file is written, and its
    text is returned: writing is I/O that releases the interpreter, and the verdict JSON is
    100 MB at 10^5 findings (issue 20). The write ends before this returns or raises; its
    OutputError comes after `meanwhile` has run, an error of `meanwhile` after the write ended.
    """
    from gate.cli.files import write_file

    for n, (name, path) in enumerate(outputs):
        data = get_formatter(name, options).render_bytes(outcome.verdict, outcome.document)  # UTF-8, `\n` line ends
        if meanwhile is not None and n == len(outputs) - 1:
            return _beside_write(path, data, f"the {name} output", meanwhile)
        write_file(path, data, what=f"the {name} output")
        del data  # the verdict JSON is 100 MB at 10^5 findings: gone before the next format renders
    return meanwhile() if meanwhile is not None else None


def _beside_write(path: str, data: bytes, what: str, work: Callable[[], str]) -> str:
    """`work()` while a thread writes `data` to `path`; the write's OutputError, if any, first."""
    import threading

    from gate.cli.files import write_file

    failed: list[OutputError] = []

    def write() -> None:
        try:
            write_file(path, data, what=what)
        except OutputError as exc:
            failed.append(exc)

    writer = threading.Thread(target=write, name="gate-output-write")
    writer.start()
    try:
        text = work()
    finally:
        writer.join()
    if failed:
        raise failed[0]
    return text


# The CI's own variables the attestation reads (GitHub Actions, GitLab CI, Jenkins): set by the
# CI service, not by the tree under review.
CI_VARIABLES = (
    "GITHUB_ACTIONS",
    "GITHUB_SERVER_URL",
    "GITHUB_REPOSITORY",
    "GITHUB_SHA",
    "GITHUB_RUN_ID",
    "GITHUB_RUN_ATTEMPT",
    "GITHUB_WORKFLOW_REF",
    "GITLAB_CI",
    "CI_SERVER_URL",
    "CI_PROJECT_URL",
    "CI_PROJECT_PATH",
    "CI_COMMIT_SHA",
    "CI_JOB_URL",
    "CI_PIPELINE_URL",
    "JENKINS_URL",
    "BUILD_URL",
    "JOB_NAME",
    "GIT_URL",
    "GIT_COMMIT",
)


def parse_subjects(values: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """`--subject NAME@sha256:HEX` values as (name, hex); anything else is a usage error."""
    import re

    out = []
    for value in values:
        m = re.fullmatch(r"(.+)@sha256:([0-9a-fA-F]{64})", value.strip())
        if not m:
            raise click.BadParameter(f"{value!r} is not NAME@sha256:HEX (64 hex digits)", param_hint="--subject")
        out.append((m.group(1), m.group(2).lower()))
    return tuple(out)


def output_options(kw: Mapping[str, Any], scan_root: str | None = None) -> OutputOptions:
    """The formatters' view of the run's surroundings, read here (the CLI), not in the formatters."""
    import shutil
    import sys

    from gate.sources import git_toplevel

    source_root = kw.get("source_root")
    if source_root:
        source_root = os.path.abspath(source_root)
    else:
        here = os.path.abspath(scan_root or os.getcwd())
        source_root = git_toplevel(here)
        if source_root is None:  # not a git tree, or git refuses it (another owner): the CI's checkout folder
            for var in ("GITHUB_WORKSPACE", "CI_PROJECT_DIR", "WORKSPACE"):
                top = os.path.abspath(os.environ.get(var) or "/nonexistent")
                if os.path.isdir(top) and (here == top or here.startswith(top.rstrip(os.sep) + os.sep)):
                    source_root = top
                    break
    no_color = bool(os.environ.get("NO_COLOR"))  # https://no-color.org: set and not empty
    cap = os.environ.get("GATE_MARKDOWN_MAX_BYTES") or ""
    if cap and not cap.isdigit():
        raise click.BadParameter(f"GATE_MARKDOWN_MAX_BYTES={cap!r} is not a number of bytes")
    width = max(80, shutil.get_terminal_size(fallback=(80, 24)).columns)
    isatty = getattr(sys.stdout, "isatty", None)
    try:
        interactive = bool(isatty and isatty())
    except ValueError:  # a closed stream
        interactive = False
    return OutputOptions(
        source_root=source_root,
        scan_root=os.path.abspath(scan_root) if scan_root else None,
        working_dir=os.getcwd(),
        interactive=interactive,
        subjects=parse_subjects(kw.get("subjects") or ()),
        ci={k: os.environ[k] for k in CI_VARIABLES if os.environ.get(k)},
        width=width,
        color=not no_color,
        quiet=bool(kw.get("quiet")),
        docs_url=os.environ.get("GATE_RULE_DOCS_URL") or None,
        markdown_max_bytes=int(cap) if cap else None,
    )


def finish(outcome: Outcome, format_: str, outputs: Sequence[tuple[str, str]], options: OutputOptions | None = None) -> int:
    """Render to the console and the files; the exit code (5 when an output failed).

    The console report is rendered while the last file is written, and printed once every
    file is: a failed output still prints the report, then the error."""
    from gate.output.text import error_lines

    def render() -> str:
        return get_formatter(format_, options).render(outcome.verdict, outcome.document)

    try:
        rendered = write_outputs(outcome, outputs, options, meanwhile=render)
    except OutputError as exc:
        click.echo(render(), nl=False)
        for text in error_lines(str(exc)):
            click.echo(text, err=True)
        keep_until_exit(outcome)
        return int(exc.exit_code)
    stream_err = format_ == "console" and outcome.error is not None
    click.echo(rendered, nl=False, err=stream_err)
    keep_until_exit(outcome)
    return outcome.exit_code


@click.command("evaluate")
@click.argument("reports", nargs=-1, type=click.Path())
@click.option(
    "--as", "as_format", envvar="GATE_AS", type=reader_format_choice(), help="Force the report format instead of detecting it from content."
)
@evaluation_options
def evaluate_command(reports: tuple[str, ...], as_format: str | None, **kw: Any) -> int:
    """Evaluate existing reports and SBOMs (format detected from content)."""
    outputs = parse_outputs(kw["outputs"])
    options = output_options(kw)
    config = build_config(reports, as_format, **kw)
    outcome = evaluate(config)
    return finish(outcome, kw["format_"], outputs, options)


@click.command("baseline")
@click.argument("reports", nargs=-1, type=click.Path())
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False), help="Baseline file to write.")
@click.option("--as", "as_format", envvar="GATE_AS", type=reader_format_choice(), help="Force the report format.")
@click.option("--policy", envvar="GATE_POLICY", help="Policy folder (for its data: test paths, dedupe window).")
@click.option("--time", "time_", envvar="GATE_TIME", help="Creation time to record (RFC 3339).")
@click.option("--allow-empty", is_flag=True, envvar="GATE_ALLOW_EMPTY", help="Accept having no report at all.")
@click.option(
    "--vuln-db",
    envvar="GATE_VULN_DB",
    type=click.Path(file_okay=False),
    help="Vulnerability database the SBOM components are matched against, as `evaluate` does (default: the per-user cache).",
)
@verbose_option
def baseline_command(
    reports: tuple[str, ...],
    output: str,
    as_format: str | None,
    policy: str | None,
    time_: str | None,
    allow_empty: bool,
    vuln_db: str | None,
) -> int:
    """Write the fingerprints of today's findings as a baseline file."""
    from gate.cli.files import write_file
    from gate.output.json_format import dump
    from gate.runner import make_baseline

    baseline = make_baseline(reports, as_format=as_format, policy=policy, time_text=time_, allow_empty=allow_empty, vuln_db=vuln_db)
    write_file(output, dump(baseline).encode("utf-8"), what="the baseline")
    click.echo(f"baseline: {len(baseline['findings'])} finding fingerprint(s) written to {output}", err=True)
    return 0
