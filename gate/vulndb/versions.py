"""Version ordering per OSV ecosystem, and OSV range evaluation.

PyPI versions are ordered by PEP 440 with `packaging` (epochs, pre-, post- and dev-releases,
local versions). Other ecosystems are ordered by `univers`, a maintained library of
ecosystem version schemes (npm and crates.io semver, Maven, Go, RubyGems, NuGet, Composer...);
a range of type SEMVER is ordered by semver whatever the ecosystem. A version the ecosystem
cannot order raises `Unorderable`: the caller reports the component as unmatched, never safe.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, Final

from packaging.version import InvalidVersion, Version


class Unorderable(ValueError):
    """A version string the ecosystem's scheme cannot order, or an ecosystem no scheme orders."""


_PEP503: Final = re.compile(r"[-_.]+")


def pep503(name: str) -> str:
    """A PyPI project name normalised as PEP 503 says (case, runs of `-`, `_`, `.`)."""
    return _PEP503.sub("-", name).lower()


@lru_cache(maxsize=1 << 16)
def pypi_version(text: str) -> Version:
    """A PEP 440 version (cached: the same strings recur across records)."""
    try:
        return Version(text)
    except InvalidVersion:
        raise Unorderable(f"{text!r} is not a PEP 440 version") from None


def canonical_pypi(text: str) -> str:
    """The PEP 440 normal form of a version, trailing zeros of the release dropped, so that two
    spellings of one version compare equal as text ("1.0.0" and "1.0" are "1"; "1.0-RC1" is
    "1rc1"); the text itself when it is not a PEP 440 version."""
    from packaging.utils import canonicalize_version

    try:
        pypi_version(text)
    except Unorderable:
        return text
    return canonicalize_version(text)


# OSV ecosystem (the part before ":", e.g. "Debian" of "Debian:12") -> univers version class name.
_UNIVERS: Final = {
    "npm": "SemverVersion",
    "crates.io": "SemverVersion",
    "Hex": "SemverVersion",
    "Pub": "SemverVersion",
    "Go": "GolangVersion",
    "Maven": "MavenVersion",
    "RubyGems": "RubygemsVersion",
    "NuGet": "NugetVersion",
    "Packagist": "ComposerVersion",
    "Debian": "DebianVersion",
    "Ubuntu": "DebianVersion",
    "Alpine": "AlpineLinuxVersion",
    "Rocky Linux": "RpmVersion",
    "AlmaLinux": "RpmVersion",
    "Red Hat": "RpmVersion",
}


def base_ecosystem(ecosystem: str) -> str:
    """The ecosystem without its release ("Debian:12" is Debian)."""
    return ecosystem.split(":", 1)[0]


@lru_cache(maxsize=64)
def _univers_class(name: str) -> Any:
    import univers.versions  # imported on use: only non-PyPI components need it

    return getattr(univers.versions, name)


def _univers_parser(class_name: str) -> Callable[[str], Any]:
    cls = _univers_class(class_name)

    @lru_cache(maxsize=1 << 14)
    def parse(text: str) -> Any:
        try:
            return cls(text.removeprefix("v") if class_name == "SemverVersion" else text)
        except Exception as exc:  # noqa: BLE001 - univers raises many types (InvalidVersion, ValueError, TypeError)
            raise Unorderable(f"{text!r} is not a {base_name(class_name)} version: {exc}") from None

    return parse


def base_name(class_name: str) -> str:
    """The scheme's name for messages (SemverVersion is Semver)."""
    return class_name.removesuffix("Version")


_PARSERS: dict[str, Callable[[str], Any]] = {}


def parser(ecosystem: str, range_type: str = "ECOSYSTEM") -> Callable[[str], Any]:
    """The function that turns a version string of `ecosystem` into an orderable key.

    Raises `Unorderable` for an ecosystem no scheme orders.
    """
    if range_type == "SEMVER":
        key = "SemverVersion"
    elif base_ecosystem(ecosystem) == "PyPI":
        return pypi_version
    else:
        found = _UNIVERS.get(base_ecosystem(ecosystem))
        if found is None:
            raise Unorderable(f"no version scheme is known for the ecosystem {ecosystem!r}")
        key = found
    if key not in _PARSERS:
        _PARSERS[key] = _univers_parser(key)
    return _PARSERS[key]


# Events of an OSV range as stored in the index: [kind, version], kind one of these.
EVENT_ORDER: Final = {"introduced": 0, "fixed": 1, "last_affected": 2, "limit": 3}


Compiled = tuple[tuple[str, Any], ...]
"""A range's events, sorted and parsed once: (kind, key); key None means "from the start"."""


def compile_range(events: Sequence[Sequence[str]], parse: Callable[[str], Any]) -> Compiled:
    """Sort and parse an OSV range's events for `in_range` (once per range and run).

    Events are sorted by version, "introduced: 0" first. An event version the scheme cannot
    order is treated on the safe side: an unorderable `introduced` opens the range from the
    start, an unorderable `fixed`, `last_affected` or `limit` is dropped (the range stays open):
    a database typo over-reports rather than hides.
    """
    starts: list[tuple[str, Any]] = []
    rest: list[tuple[Any, int, str]] = []
    for kind, text in events:
        order = EVENT_ORDER.get(kind)
        if order is None:
            continue
        if kind == "introduced" and text == "0":
            starts.append((kind, None))
            continue
        try:
            key = parse(text)
        except Unorderable:
            if kind == "introduced":
                starts.append((kind, None))
            continue
        rest.append((key, order, kind))
    rest.sort(key=lambda k: (k[0], k[1]))
    return tuple(starts) + tuple((kind, key) for key, _, kind in rest)


def in_range(version: Any, compiled: Compiled) -> bool:
    """Whether `version` (parsed) lies in a compiled OSV range, as the OSV schema evaluates it.

    Walking the sorted events, an `introduced` at or below the version opens the range, a
    `fixed` or `limit` at or below it closes it, a `last_affected` below it closes it. Several
    introduced/fixed pairs describe several affected spans.
    """
    affected = False
    for kind, key in compiled:
        if kind == "introduced":
            if key is None or version >= key:
                affected = True
        elif kind == "fixed" or kind == "limit":
            if version >= key:
                affected = False
        elif kind == "last_affected" and version > key:
            affected = False
    return affected
