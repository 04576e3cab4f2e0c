"""`gate policy test [DIR]`: run the Rego unit tests (`test_*` rules) with coverage."""

from __future__ import annotations

import click

from gate.authoring.testrun import run_policy_tests
from gate.cli import verbose_option
from gate.engine.registry import ENGINES


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
    lines, code = run_policy_tests(
        directory, engine=engine, timeout=timeout, coverage_min=coverage_min, verbose=verbose_tests, show_uncovered=not no_uncovered
    )
    for line in lines:
        click.echo(line, err=line.startswith("gate: "))
    return code
