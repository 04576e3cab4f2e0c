"""`gate policy ...`: tools for the people who own the policies. Subcommands load lazily."""

from __future__ import annotations

from importlib import import_module

import click

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "test": ("gate.cli.policy_test", "test_command"),
    "check": ("gate.cli.policy_check", "check_command"),
    "doc": ("gate.cli.policy_doc", "doc_command"),
    "bundle": ("gate.cli.policy_bundle", "bundle_command"),
    "compare": ("gate.cli.policy_compare", "compare_command"),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in SUBCOMMANDS:
            return None
        module, attr = SUBCOMMANDS[cmd_name]
        try:
            command: click.Command = getattr(import_module(module), attr)
        except (ImportError, AttributeError):
            return None
        return command


@click.group("policy", cls=_LazyGroup)
def policy_group() -> None:
    """Test, check, document, bundle and compare policies."""
