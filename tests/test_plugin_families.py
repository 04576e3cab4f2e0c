"""The closed plug-in families (readers, scanner runners, engines, output formats): each is a table
in its registry, its member names are the CLI's choices, and every choice is handled.

A wrong value is a Click usage error (exit 2) found when the command line is parsed: before any
report is read (the report paths given here do not exist, which would otherwise be exit 3).
"""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from gate.cli import cli
from gate.cli.choices import ScannerList
from gate.collect import detect, formats
from gate.engine.interface import Engine
from gate.engine.registry import ENGINES, get_engine
from gate.output.interface import Formatter
from gate.output.registry import FORMATS, get_formatter
from sbom.registry import READERS as SBOM_READERS
from scanners.registry import READERS as REPORT_READERS
from scanners.run.interface import ScannerRunner
from scanners.run.registry import SCANNERS, UnknownScanner, get_runner, parse_scanners
from tests.conftest import run_gate

MISSING = "/nonexistent/report.json"


@pytest.mark.parametrize("name", formats())
def test_every_as_choice_has_a_reader(name: str) -> None:
    """`--as NAME` dispatches to a reader of that format, for each medium that format has."""
    media = {r.media for r in (*SBOM_READERS, *REPORT_READERS) if r.format == name}
    assert media, name
    for medium in media:
        assert detect({}, medium, "report", as_format=name).format == name


@pytest.mark.parametrize("name", SCANNERS)
def test_every_scanners_choice_has_a_runner(name: str) -> None:
    runner = get_runner(name)
    assert isinstance(runner, ScannerRunner) and runner.name == name
    assert parse_scanners(name) == (name,)


def test_an_unknown_runner_is_refused_by_the_registry() -> None:
    with pytest.raises(UnknownScanner, match="trivy"):
        get_runner("trivy")


@pytest.mark.parametrize("name", ENGINES)
def test_every_engine_choice_has_an_engine(name: str) -> None:
    engine = get_engine(name)
    assert isinstance(engine, Engine) and engine.name == name


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_choice_has_a_formatter(name: str) -> None:
    formatter = get_formatter(name)
    assert isinstance(formatter, Formatter) and formatter.name == name


def _options(command: click.Command, prefix: str = "") -> dict[str, click.Option]:
    found: dict[str, click.Option] = {}
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for sub_name in command.list_commands(ctx):
            sub = command.get_command(ctx, sub_name)
            assert sub is not None, sub_name
            found.update(_options(sub, f"{prefix}{sub_name} "))
        return found
    for param in command.params:
        if isinstance(param, click.Option):
            found[f"{prefix}{param.opts[0]}"] = param
    return found


def test_the_cli_choices_are_the_registries_members() -> None:
    """Every `--as`, `--engine`, the verdict's `--format` and `--scanners` of every command takes its
    values from its family's registry (so help, validation and dispatch cannot drift). (The report
    formats of `policy check`, `policy compare` and `vulndb status` come from their `RENDERERS`:
    tests/test_cli_wiring.py::test_every_report_format_choice_has_a_renderer.)"""
    seen = set()
    for where, option in _options(cli).items():
        flag = where.rsplit(" ", 1)[-1]
        if flag == "--as":
            assert isinstance(option.type, click.Choice) and list(option.type.choices) == formats(), where
        elif flag == "--engine":
            assert isinstance(option.type, click.Choice), where
            # `policy compare` and `policy test` offer the local engines only; evaluate and run offer them all.
            expected = [e for e in ENGINES if e != "opa-server"] if where.startswith("policy ") else list(ENGINES)
            assert list(option.type.choices) == expected, where
        elif where in ("evaluate --format", "run --format"):
            assert isinstance(option.type, click.Choice), where
            assert list(option.type.choices) == [f for f in FORMATS if f != "input"], where
        elif flag == "--scanners":
            assert option.type.name == "scanners", where
        else:
            continue
        seen.add(flag)
    assert seen == {"--as", "--engine", "--format", "--scanners"}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["evaluate", MISSING, "--as", "trivy"], "'trivy' is not one of"),
        (["baseline", MISSING, "-o", "/nonexistent/b.json", "--as", "trivy"], "'trivy' is not one of"),
        (["evaluate", MISSING, "--engine", "wasm"], "'wasm' is not one of"),
        (["evaluate", MISSING, "--format", "html"], "'html' is not one of"),
        (["evaluate", MISSING, "--output", "html=out.html"], "unknown format 'html'"),
        (["evaluate", MISSING, "--output", "json"], "is not NAME=PATH"),
        (["scan", "/nonexistent", "--scanners", "bandit,trivy"], "unknown scanner 'trivy'"),
        (["run", "/nonexistent", "--scanners", ","], "no scanner selected"),
    ],
)
def test_a_wrong_choice_is_a_usage_error_at_parse_time(args: list[str], says: str) -> None:
    res = run_gate(args)
    assert res.exit_code == 2, (res.exit_code, res.stderr)
    assert says in res.stderr, res.stderr


def test_scanners_from_a_config_file_are_checked_the_same_way(tmp_path: Path) -> None:
    """`scanners` in gate.toml (a string or a list) goes through the same choice: a wrong name is exit 2."""
    for value in ('"bandit,trivy"', '["bandit", "trivy"]'):
        config = tmp_path / "gate.toml"
        config.write_text(f"[gate]\nscanners = {value}\n", encoding="utf-8")
        res = run_gate(["scan", "/nonexistent", "--config", str(config)])
        assert res.exit_code == 2 and "unknown scanner 'trivy'" in res.stderr, (value, res.exit_code, res.stderr)
    assert ScannerList().convert(["bandit", "sbom,semgrep"], None, None) == ("bandit", "sbom", "semgrep")
