"""`gate policy test [DIR]`: run the Rego unit tests (`test_*` rules) with coverage."""

from __future__ import annotations

from pathlib import Path

import click

from gate.cli import verbose_option
from gate.engine.registry import ENGINES, get_engine
from gate.errors import ExitCode
from gate.policy import default_policy_dir, load_policy


def default_dir() -> str:
    """./policies if present, else the shipped pack."""
    return "policies" if Path("policies").is_dir() else str(default_policy_dir())


@click.command("test")
@click.argument("directory", required=False)
@click.option("--engine", type=click.Choice([e for e in ENGINES if e != "opa-server"]), default="embedded", show_default=True, envvar="GATE_ENGINE")
@click.option("--coverage-min", type=click.FloatRange(0, 100), default=0.0, show_default=True, envvar="GATE_COVERAGE_MIN", help="Fail (exit 10) when total line coverage (%) is below this.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=120.0, show_default=True, help="Seconds allowed for the whole test run.")
@click.option("-v", "--verbose-tests", is_flag=True, help="List every test, not only failures.")
@verbose_option
def test_command(directory: str | None, engine: str, coverage_min: float, timeout: float, verbose_tests: bool) -> int:
    """Run the Rego unit tests of a policy folder, with line coverage per file and in total."""
    root = directory or default_dir()
    policy = load_policy(root, include_tests=True)
    run = get_engine(engine).run_tests(policy, timeout=timeout)
    failed = [t for t in run.results if not t.passed]
    for t in run.results:
        if verbose_tests or not t.passed:
            status = "PASS" if t.passed else "FAIL"
            click.echo(f"{status} {t.package}.{t.name} ({t.file}:{t.line})" + (f": {t.message}" if t.message else ""))
    covered = sum(c for c, _ in run.coverage.values())
    total = sum(t for _, t in run.coverage.values())
    if run.coverage:
        click.echo("coverage:")
        for path in sorted(run.coverage):
            c, t = run.coverage[path]
            click.echo(f"  {path}: {100.0 * c / t if t else 100.0:.1f}% ({c}/{t} lines)")
    pct = 100.0 * covered / total if total else 100.0
    click.echo(f"{len(run.results) - len(failed)} passed, {len(failed)} failed; coverage {pct:.1f}% ({covered}/{total} lines)")
    if not run.results:
        click.echo("gate: no test_* rule found in *_test.rego files", err=True)
        return int(ExitCode.DENY)
    if failed:
        return int(ExitCode.DENY)
    if pct < coverage_min:
        click.echo(f"gate: coverage {pct:.1f}% is below --coverage-min {coverage_min:g}%", err=True)
        return int(ExitCode.DENY)
    return 0
