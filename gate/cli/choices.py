"""Click parameter types fed by the plug-in families' registries, so a wrong value is a usage error
(exit 2) when the command line is parsed, and help, validation and dispatch cannot drift.

- `--as`: the report and SBOM readers' formats (`scanners.registry`, `sbom.registry`), loaded only
  when a value is checked or a command's help is shown (so `gate --version` stays fast).
- `--scanners`: the scanner runners (`scanners.run.registry.SCANNERS`), a comma-separated list.
- `--output NAME=PATH`: the output formats (`gate.output.registry.FORMATS`).
- `--engine` and `--format` are plain `click.Choice`s of `ENGINES` and `FORMATS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

import click


class LazyChoices(Sequence[str]):
    """A registry's member names, read on first use."""

    def __init__(self, load: Callable[[], Sequence[str]]) -> None:
        self._load = load
        self._names: tuple[str, ...] | None = None

    def _get(self) -> tuple[str, ...]:
        if self._names is None:
            self._names = tuple(self._load())
        return self._names

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._get()[index]

    def __len__(self) -> int:
        return len(self._get())

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())


def _reader_formats() -> list[str]:
    from gate.collect import formats

    return formats()


def reader_format_choice() -> click.Choice:  # type: ignore[type-arg]  # generic from click 8.2 on
    """`--as FORMAT`: one of the readers' formats."""
    return click.Choice(LazyChoices(_reader_formats))


if TYPE_CHECKING:  # click.ParamType is generic from click 8.2 on; pyproject allows 8.1
    _ScannersType = click.ParamType[tuple[str, ...]]
    _OutputType = click.ParamType[tuple[str, str]]
else:
    _ScannersType = _OutputType = click.ParamType


class ScannerList(_ScannersType):
    """`--scanners a,b`: known runner names, each once, in the given order (a tuple)."""

    name = "scanners"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, ...]:
        from scanners.run.registry import UnknownScanner, parse_scanners

        try:
            if isinstance(value, (list, tuple)):  # a gate.toml list, or a value already converted
                return parse_scanners([str(v) for v in value])
            return parse_scanners(str(value))
        except UnknownScanner as exc:
            self.fail(str(exc), param, ctx)


class OutputPair(_OutputType):
    """`--output NAME=PATH`: NAME one of the output formats; converted to (name, path)."""

    name = "NAME=PATH"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, str]:
        from gate.output.registry import FORMATS

        if isinstance(value, tuple):
            return value
        name, sep, path = str(value).partition("=")
        if not sep or not path:
            self.fail(f"{value!r} is not NAME=PATH", param, ctx)
        if name not in FORMATS:
            self.fail(f"unknown format {name!r} (choose from {', '.join(FORMATS)})", param, ctx)
        return name, path
