"""The command line: the only place that prints or exits.

Each command builds a frozen config, calls one function that returns a value (a verdict, a
test run, a document), renders it and exits with its code. Errors the user can cause are
`GateError`s carrying their exit code; anything else is a bug and exits 6 (never 1).
Commands live in their own modules and are imported on use, so `gate --version` starts fast.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import Any, NoReturn

import click

from gate import __version__
from gate.errors import ConfigError, ExitCode, GateError

# name -> (module, attribute); listed by hand, imported on use.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("gate.cli.scan", "run_command"),
    "scan": ("gate.cli.scan", "scan_command"),
    "sbom": ("gate.cli.scan", "sbom_command"),
    "evaluate": ("gate.cli.evaluate", "evaluate_command"),
    "baseline": ("gate.cli.evaluate", "baseline_command"),
    "explain": ("gate.cli.explain", "explain_command"),
    "policy": ("gate.cli.policy", "policy_group"),
    "vulndb": ("gate.cli.vulndb", "vulndb_group"),
}


class GateGroup(click.Group):
    """A group whose commands load lazily and whose `main` maps every failure to an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attr = COMMANDS[cmd_name]
        try:
            command: click.Command = getattr(import_module(module), attr)
        except (ImportError, AttributeError):
            return None
        return command

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        ctx.meta["gate.args"] = list(rest)  # the command's own arguments, for `--config` under `--policy-ref`
        return name, command, rest

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, **extra: Any) -> Any:  # type: ignore[override]
        extra.pop("standalone_mode", None)
        verbose = "--verbose" in (args if args is not None else sys.argv[1:]) or os.environ.get("GATE_VERBOSE") in ("1", "true")
        # One command is one short process that builds large acyclic trees (parsed reports, the
        # input document, the verdict): the cyclic collector would walk them again and again to
        # find nothing (a third of the time at 10^5 findings). Paused, and restored on the way out.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._main(args, prog_name, verbose, extra)
        except SystemExit as exc:
            if _KEPT:  # still without the collector: its first pass would walk every kept object
                _exit_early(exc)
            raise
        finally:
            if gc_was_enabled:
                gc.enable()

    def _main(self, args: Sequence[str] | None, prog_name: str | None, verbose: bool, extra: dict[str, Any]) -> None:
        try:
            rv = super().main(args=args, prog_name=prog_name or "gate", standalone_mode=False, **extra)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            click.echo(f"{ERROR_PREFIX}aborted", err=True)
            sys.exit(int(ExitCode.USAGE))
        except click.ClickException as exc:
            # Click's own "Error: ..." would be a second prefix: the usage and hint as Click
            # prints them, then the message under the gate's one prefix.
            ctx = getattr(exc, "ctx", None)
            if isinstance(exc, click.UsageError) and ctx is not None:
                click.echo(ctx.get_usage(), err=True)
                if ctx.command.get_help_option(ctx) is not None:
                    click.echo(f"Try '{ctx.command_path} {ctx.help_option_names[0]}' for help.", err=True)
            _echo_error(exc.format_message())
            sys.exit(int(ExitCode.USAGE))
        except GateError as exc:
            if verbose:
                _print_traceback()
            _echo_error(str(exc))
            sys.exit(int(exc.exit_code))
        except SystemExit:
            raise
        except BaseException as exc:  # noqa: BLE001 - a bug: say so and exit 6, never 1
            if isinstance(exc, KeyboardInterrupt):
                click.echo(f"{ERROR_PREFIX}interrupted", err=True)
                sys.exit(int(ExitCode.INTERNAL))
            if verbose:
                _print_traceback()
            _echo_error(f"internal error (a bug; run with --verbose for the traceback): {type(exc).__name__}: {exc}")
            sys.exit(int(ExitCode.INTERNAL))
        sys.exit(int(rv) if isinstance(rv, int) else 0)


ERROR_PREFIX = "gate: error: "
"""The one prefix of every error the CLI prints on stderr."""


def _echo_error(message: str) -> None:
    """An error on stderr: the one prefix, the message's own lines kept, each made safe."""
    from gate.output.text import error_lines

    for text in error_lines(message, ERROR_PREFIX):
        click.echo(text, err=True)


def _print_traceback() -> None:
    import traceback  # only on --verbose errors: its tokenizer imports cost every run start-up

    from gate.output.text import clean

    # A traceback quotes the exception's text, which may quote a report: one clean line each.
    for chunk in traceback.format_exc().splitlines():
        click.echo(clean(chunk), err=True)


def load_config_file(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """`--config FILE`: read a gate.toml and use its keys as the command's defaults.

    Under `--policy-ref` (given on the command line or as GATE_POLICY_REF, or named by the work
    tree's config file itself) a config file inside the repository is read from the ref, like
    every other governing file; the work tree's edit is listed in the verdict as not used.
    """
    if not value:
        return value
    ref, repo_root = _policy_ref_of(ctx)
    section = _config_section(ctx, value, ref, repo_root)
    named = section.get("policy-ref", section.get("policy_ref"))
    if ref is None and isinstance(named, str) and named:
        section = _config_section(ctx, value, named, repo_root)
    command = ctx.command
    # Keys are the long option names (`fail-on` or `fail_on`, `time`, `format`).
    names: dict[str, str] = {}
    for param in command.params:
        for opt in getattr(param, "opts", ()):
            if opt.startswith("--") and param.name:
                names[opt[2:].replace("-", "_")] = param.name
    defaults: dict[str, Any] = {}
    for key, val in section.items():
        name = names.get(key.replace("-", "_"))
        if name is None or key == "config":
            raise ConfigError(f"unknown key {key!r} for `gate {ctx.info_name}`", file=value)
        defaults[name] = val
    ctx.default_map = {**(ctx.default_map or {}), **defaults}
    return value


def _policy_ref_of(ctx: click.Context) -> tuple[str | None, str | None]:
    """`--policy-ref` and `--repo-root` as the command line or the environment give them (eager
    options are processed before the others, so they are read here from the raw arguments)."""
    opts: dict[str, Any] = {}
    args = ctx.meta.get("gate.args")
    if args is not None and any(p.name == "policy_ref" for p in ctx.command.params):
        try:
            opts = ctx.command.make_parser(ctx).parse_args(list(args))[0]
        except click.UsageError:
            opts = {}  # the command's own parsing reports it
    ref = opts.get("policy_ref") or os.environ.get("GATE_POLICY_REF") or None
    root = opts.get("repo_root") or os.environ.get("GATE_REPO_ROOT") or None
    return (str(ref) if ref else None), (str(root) if root else None)


def _config_section(ctx: click.Context, value: str, ref: str | None, repo_root: str | None) -> dict[str, Any]:
    from gate.sources import read_config

    section, not_used = read_config(value, ref, repo_root)
    if ref:
        ctx.meta["gate.not_used"] = not_used
    return section


def config_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`--config FILE` (eager, so the other options see its values as defaults)."""
    return click.option(
        "--config",
        "config_file",
        type=click.Path(dir_okay=False),
        envvar="GATE_CONFIG",
        is_eager=True,
        expose_value=False,
        callback=load_config_file,
        help="Read options from a gate.toml (keys named like the options).",
    )(fn)


def verbose_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`--verbose`: tracebacks on errors (handled in GateGroup.main)."""
    return click.option("--verbose", is_flag=True, envvar="GATE_VERBOSE", expose_value=False, help="Show tracebacks on errors.")(fn)


@click.group(cls=GateGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="gate", message="%(prog)s %(version)s")
@verbose_option
def cli() -> None:
    """policy-gate: judge security scanner reports and SBOMs against Rego policies.

    Exit codes: 0 gate open; 2 usage or configuration error; 3 input error; 4 policy or engine
    error; 5 output error; 6 internal error; 10 gate closed (deny); 11 gate closed on warnings.
    """


_KEPT: list[object] = []
_KEEP = False


def keep_until_exit(*documents: object) -> None:
    """Hold a command's big documents (the verdict and input document of `evaluate` and `run`,
    10^5 findings are millions of objects) until the process ends, once every output is written.

    Under the console script (`main`) they are then never freed one object at a time: the
    process ends without walking them (`exit_process`). In process (Click's runner, tests) this
    does nothing, so nothing outlives the command there.
    """
    if _KEEP:
        _KEPT.extend(documents)


def exit_process(code: int) -> NoReturn:
    """End the process now with `code`: the exit handlers (`atexit`, which also removes leftover
    temporary folders) run, the interpreter's teardown (freeing every object, module by module:
    about 1.5 s at 10^5 findings) does not. Only called once stdout and stderr are flushed."""
    import atexit

    atexit._run_exitfuncs()
    os._exit(code)


def _exit_early(exc: SystemExit) -> None:
    """End the process at once when a command kept its documents (`keep_until_exit`) and nothing
    can be lost: an integer exit code, no other thread, stdout and stderr flushed. Returns (and
    the interpreter exits as usual, with its own report) when a flush fails, so a write error
    on a closed pipe is never hidden."""
    import threading

    code = 0 if exc.code is None else exc.code
    try:
        if isinstance(code, int) and threading.active_count() == 1:
            for stream in (sys.stdout, sys.stderr):
                if stream is not None:
                    stream.flush()
            exit_process(code)
    except (OSError, ValueError):
        pass
    _KEPT.clear()  # the usual exit: freed now, by reference counts, before the collector is back


def main() -> None:
    """Console-script entry point. A command that kept big documents (`evaluate`, `run`) ends the
    process as soon as its outputs are written and flushed: the same exit code and bytes, without
    the interpreter's teardown."""
    global _KEEP
    _KEEP = True
    cli.main()
