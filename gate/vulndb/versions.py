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


# ---------------------------------------------------------------------------------------------
# Version ranges of components that have no version (a library's declared dependencies)


Bound = tuple[Any, bool] | None
"""(parsed version, inclusive) of one end of an interval; None: unbounded."""


def vers_interval(text: str, ecosystem: str) -> tuple[Bound, Bound] | None:
    """(lower, upper) of a simple `vers` range of a PyPI component, or None when it is not one.

    Simple: `*`, or at most one lower bound (`>=`, `>`), at most one upper bound (`<`, `<=`) and
    any exclusions (`!=`, which are ignored: an excluded version does not make a range safe, and
    counting it keeps the judgement on the strict side), or a single `=` (a pin). The vers
    scheme must be the component's ecosystem (pypi); anything else, or a range that admits no
    version: None (unmatched).
    """
    scheme, sep, rest = text.removeprefix("vers:").partition("/")
    if not text.startswith("vers:") or not sep or base_ecosystem(ecosystem) != "PyPI" or scheme.lower() != "pypi":
        return None
    if rest.strip() == "*":
        return None, None
    lower: Bound = None
    upper: Bound = None
    pins = 0
    for raw in rest.split("|"):
        c = raw.strip()
        m = re.fullmatch(r"(>=|<=|!=|>|<|=)?\s*(\S+)", c)
        if m is None:
            return None
        op = m.group(1) or "="
        try:
            v = pypi_version(m.group(2))
        except Unorderable:
            return None
        if op == "!=":
            continue
        if op == "=":
            pins += 1
            lower = upper = (v, True)
            continue
        if op in (">=", ">"):
            if lower is not None:
                return None
            lower = (v, op == ">=")
        else:
            if upper is not None:
                return None
            upper = (v, op == "<=")
    if pins > 1 or (pins == 1 and len([x for x in rest.split("|") if not x.strip().startswith("!=")]) != 1):
        return None
    if lower is not None and upper is not None and (lower[0] > upper[0] or (lower[0] == upper[0] and not (lower[1] and upper[1]))):
        return None  # admits no version: nothing overlaps it, so it would read as clean (red team, round 2)
    return lower, upper


Span = tuple[Any, Any, bool]
"""An affected span of an advisory: (start inclusive or None for "from the start", end or None
for "no fix", end inclusive)."""


def spans(compiled: Compiled) -> list[Span]:
    """The affected spans of a compiled OSV range (as `in_range` evaluates it)."""
    out: list[Span] = []
    start: Any = None
    is_open = False
    for kind, key in compiled:
        if kind == "introduced":
            if not is_open:
                is_open, start = True, key
        elif is_open and kind in ("fixed", "limit", "last_affected"):
            out.append((start, key, kind == "last_affected"))
            is_open = False
    if is_open:
        out.append((start, None, False))
    return out


def overlaps(lower: Bound, upper: Bound, span: Span) -> bool:
    """Whether the interval [lower, upper] shares a version with the span."""
    start, end, end_incl = span
    # the larger start
    lo: Bound = lower
    if start is not None and (lo is None or start > lo[0] or (start == lo[0] and not lo[1])):
        lo = (start, True) if lo is None or start > lo[0] else lo
    hi: Bound = upper
    if end is not None and (hi is None or end < hi[0] or (end == hi[0] and not end_incl)):
        hi = (end, end_incl)
    if lo is None or hi is None:
        return True
    return bool(lo[0] < hi[0] or (lo[0] == hi[0] and lo[1] and hi[1]))


def covers(lower: Bound, upper: Bound, span: Span) -> bool:
    """Whether every version of the interval lies in the span."""
    start, end, end_incl = span
    if start is not None and (lower is None or lower[0] < start):
        return False
    if end is None:
        return True
    if upper is None:
        return False
    return bool(upper[0] < end or (upper[0] == end and (end_incl or not upper[1])))
