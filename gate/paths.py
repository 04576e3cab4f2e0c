"""Path text as tools report it: normalised for matching, never resolved or opened."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


def normalise(path: str | None) -> str | None:
    """A tool's path as comparable text: forward slashes, no `file://`, no leading `./`.

    `..` segments and absolute paths are kept as they are: the path is attacker text and is
    only ever compared, never resolved against the file system.
    """
    if path is None:
        return None
    p = path.replace("\\", "/")
    if p.startswith("file://"):
        p = p[7:]
    while p.startswith("./"):
        p = p[2:]
    return p


@lru_cache(maxsize=1024)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a glob with `**` (any depth), `*` and `?` (within a segment) to a regex.

    A relative pattern matches at any directory boundary (`tests/**` also matches
    `/src/app/tests/x.py`), because tools report paths relative to different roots.
    """
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(c))
            i += 1
    body = "".join(out)
    prefix = "" if pattern.startswith("/") else "(?:.*/)?"
    return re.compile(f"^{prefix}{body}$")


def compile_globs(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for a list of globs; None when the list is empty."""
    parts = [_glob_regex(p).pattern for p in patterns]
    if not parts:
        return None
    return re.compile("|".join(f"(?:{p})" for p in parts))


def glob_match(pattern: str, path: str) -> bool:
    """True when the normalised path matches the glob."""
    return _glob_regex(pattern).match(normalise(path) or "") is not None
