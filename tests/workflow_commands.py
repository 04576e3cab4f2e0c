"""The GitHub runner's workflow-command parser, re-implemented for tests (stricter than the runner).

actions/runner reads every line a step prints on stdout and stderr (`ActionCommandManager.
TryProcessCommand`). Lines end at `\\n`, `\\r\\n` or a bare `\\r` (.NET `ReadLine`). A line is a
command when, after leading whitespace is trimmed, it starts with `::name props::data`
(`ActionCommand.TryParseV2`), or, failing that, when it holds the legacy `##[name props]data`
anywhere (`ActionCommand.TryParse`). The runner only honours registered names and stops honouring
them between `::stop-commands::TOKEN` and `::TOKEN::`; this parser does neither, so it reports
every line that could become a command under any name, whatever came before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

LINE_BREAK = re.compile(r"\r\n|\n|\r")


def unescape_data(text: str) -> str:
    """ActionCommand.UnescapeData."""
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(text: str) -> str:
    """ActionCommand.UnescapeProperty."""
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


@dataclass(frozen=True)
class Command:
    """One command the runner would read: its name, properties, data, and how it was spelt."""

    name: str
    data: str
    properties: dict[str, str] = field(default_factory=dict)
    legacy: bool = False
    line: str = ""


def parse_v2(line: str) -> Command | None:
    """`::name k=v,k=v::data` after leading whitespace."""
    msg = line.lstrip()
    if not msg.startswith("::"):
        return None
    end = msg.find("::", 2)
    if end < 0:
        return None
    info = msg[2:end]
    name, _, props_text = info.partition(" ")
    props: dict[str, str] = {}
    for prop in props_text.strip().split(","):
        key, sep, value = prop.partition("=")
        if sep and key and value:
            props[key] = unescape_property(value)
    return Command(name=name, data=unescape_data(msg[end + 2 :]), properties=props, line=line)


def parse_legacy(line: str) -> Command | None:
    """`##[name k=v;k=v]data` anywhere in the line."""
    start = line.find("##[")
    if start < 0:
        return None
    close = line.find("]", start)
    if close < 0:
        return None
    info = line[start + 3 : close]
    name, _, _ = info.partition(" ")
    return Command(name=name, data=line[close + 1 :], legacy=True, line=line)


def commands(output: str) -> list[Command]:
    """Every command any line of `output` could be read as (both spellings are tried on every line)."""
    found: list[Command] = []
    for line in LINE_BREAK.split(output):
        for parsed in (parse_v2(line), parse_legacy(line)):
            if parsed is not None:
                found.append(parsed)
    return found
