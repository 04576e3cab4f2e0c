"""The README is the contract: its tables and commands are checked against the code."""

from __future__ import annotations

import re

from gate.cli import COMMANDS
from gate.cli.policy import SUBCOMMANDS
from gate.errors import ExitCode
from gate.output.registry import FORMATS
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def _table_after(heading: str) -> list[list[str]]:
    section = README.split(heading, 1)[1]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("#"):
            break
        if line.startswith("|") and not set(line) <= set("|- "):
            rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows[1:]


def test_exit_code_table_matches_the_code() -> None:
    rows = _table_after("## Exit codes")
    assert sorted(int(r[0]) for r in rows) == sorted(int(c) for c in ExitCode)


def test_formats_table_matches_the_registry() -> None:
    rows = _table_after("## Formats")
    names = {r[0].strip("`") for r in rows}
    assert names == set(FORMATS) - {"input"}
    assert "--output input=PATH" in README


def test_commands_table_matches_the_cli() -> None:
    rows = _table_after("## Commands")
    listed = {r[0].strip("`").split()[1] for r in rows}
    assert listed == set(COMMANDS)
    policy_subs = {r[0].strip("`").split()[2] for r in rows if r[0].startswith("`gate policy")}
    assert policy_subs == set(SUBCOMMANDS)


def test_every_listed_command_is_implemented() -> None:
    from click.testing import CliRunner

    from gate.cli import cli

    for name in COMMANDS:
        res = CliRunner().invoke(cli, [name, "--help"])
        assert res.exit_code == 0, (name, res.output)
    for name in SUBCOMMANDS:
        res = CliRunner().invoke(cli, ["policy", name, "--help"])
        assert res.exit_code == 0, (name, res.output)


def test_ci_runs_the_readme_commands() -> None:
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    install, tests = blocks[0].strip(), blocks[1].strip()
    ci = (REPO / ".ci" / "run").read_text()
    assert tests in ci
    install_part = install.split(" && .venv/bin/gate")[0]
    for piece in install_part.split(" && "):
        assert piece.replace("pip install", "pip install --quiet") in ci or piece in ci, piece
