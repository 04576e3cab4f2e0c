"""`gate policy test [DIR]`: run the Rego unit tests (`test_*` rules) with coverage."""

from __future__ import annotations

import click

from gate.authoring.testrun import fill_unreached, report_lines
from gate.cli import verbose_option
from gate.engine.registry import ENGINES, get_engine
from gate.sources import load_policy_path, policy_root


def default_dir() -> str:
    """./policies if present, else the shipped pack (`gate.sources.policy_root`)."""
    return policy_root()


@click.command("test")
@click.argument("directory", required=False)
@click.option(
    "--engine", type=click.Choice([e for e in ENGINES if e != "opa-server"]), default="embedded", show_default=True, envvar="GATE_ENGINE"
)
@click.option(
    "--coverage-min",
    type=click.FloatRange(0, 100),
    default=0.0,
    show_default=True,
    envvar="GATE_COVERAGE_MIN",
    help="Fail (exit 10) when total line coverage (%) is below this.",
)
@click.option("--timeout", type=click.FloatRange(min=0.1), default=120.0, show_default=True, help="Seconds allowed for the whole test run.")
@click.option("-v", "--verbose-tests", is_flag=True, help="List every test (not only failures) and the tests' print() output.")
@click.option("--no-uncovered", is_flag=True, help="Do not list the line numbers that no test reaches.")
@verbose_option
def test_command(directory: str | None, engine: str, coverage_min: float, timeout: float, verbose_tests: bool, no_uncovered: bool) -> int:
    """Run the Rego unit tests of a policy folder, with line coverage per file and in total.

    Failures are listed with their file:line and the reason; coverage counts the lines of the
    policy modules (not the tests). Exit 0 when every test passes and coverage meets
    --coverage-min, 10 otherwise, 4 when a module does not compile.
    """
    root = directory or default_dir()
    policy = load_policy_path(root, include_tests=True)
    run = get_engine(engine).run_tests(policy, timeout=timeout)
    unreached = fill_unreached(run, policy, timeout=timeout) if run.results and all(t.passed for t in run.results) else []
    lines, code = report_lines(run, coverage_min=coverage_min, verbose=verbose_tests, show_uncovered=not no_uncovered, unreached=unreached)
    for line in lines:
        click.echo(line, err=line.startswith("gate: "))
    return code
