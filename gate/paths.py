"""Path text as tools report it, and the path scopes (globs) trusted data and waivers give.

Paths are attacker text: they are normalised for comparison, never resolved or opened.

Every scope is anchored at the project root (issue 14): `src/legacy/**` covers
`src/legacy/api.py` and not `tools/src/legacy/api.py`; a leading `**/` is the explicit way to
match at any depth (`**/tests/**`). A scope must name something: a pattern whose every
component is a wildcard or only an extension (`**`, `*/**`, `**/*.py`, `*.py`, `**/*.p?`) is
refused (`scope_problem`), and so is a pattern whose meaning a reader could mistake: a leading
`/`, a backslash, an empty, `.` or `..` component, `**` inside a component. Matching is
case-sensitive. A path is compared in its lexical form: `\\` as `/`, `./`, empty and `.`
components dropped, `..` applied (`src/legacy/../../app/x.py` is `app/x.py`); a path that
climbs above the root or is absolute matches no scope. Not matching is the safe side for every
scope the gate has (a waiver that does not apply, a file that is not test code).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


def normalise(path: str | None) -> str | None:
    """A tool's path as comparable text: forward slashes, no `file://`, no leading `./`.

    `..` segments and absolute paths are kept as they are: the path is attacker text and is
    only ever compared, never resolved against the file system. (This is the text the input
    document and the fingerprints use; `match_form` is the form scopes are matched against.)
    """
    if path is None:
        return None
    p = path.replace("\\", "/")
    if p.startswith("file://"):
        p = p[7:]
    while p.startswith("./"):
        p = p[2:]
    return p


def match_form(path: str | None) -> str | None:
    """The path as scopes see it: relative to the project root, lexically normal; None for a path
    that is absolute or climbs above the root (it matches no scope).

    `src//legacy/./x.py` is `src/legacy/x.py`; `tests/../app/main.py` is `app/main.py` (so a
    report cannot claim a production file is under `tests/`, or under a waived folder).
    """
    p = normalise(path)
    if not p or p.startswith("/") or re.match(r"^[A-Za-z]:/", p):
        return None
    parts: list[str] = []
    for part in p.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
            continue
        parts.append(part)
    return "/".join(parts) or None


# A component that names nothing: only wildcards, or wildcards and an extension (`*.py`, `*.p?`,
# `**.tar.gz`, `.*`).
_NAMELESS = re.compile(r"^(?:[*?]*|[*?]+\..*|[*?]*\.[*?.]*)$")


def scope_problem(pattern: str) -> tuple[str, str] | None:
    """Why a path scope is refused, as (problem, fix); None when it is acceptable.

    The pattern is taken as written, apart from a leading `./` (the root itself).
    """
    if not isinstance(pattern, str) or not pattern.strip():
        return ("is empty", "name a folder or a file, e.g. src/legacy/**")
    if "\\" in pattern:
        return ("holds a backslash", "write the path with `/` as the separator")
    if pattern.startswith("/"):
        return ("starts with `/`", "scopes are relative to the project root: drop the leading `/`")
    body = pattern
    while body.startswith("./"):
        body = body[2:]
    parts = body.split("/")
    if any(p == "" for p in parts):
        return ("has an empty component (`//` or a trailing `/`)", "write e.g. src/legacy/** for a folder")
    if any(p in (".", "..") for p in parts):
        return ("has a `.` or `..` component", "write the path from the project root without `.` or `..`")
    if any("**" in p and p != "**" for p in parts):
        return ("uses `**` inside a component", "`**` spans folders only as a whole component: src/**/x.py")
    if all(_NAMELESS.match(p) for p in parts):
        return (
            "names nothing: every component is a wildcard or only an extension, so it matches files anywhere",
            "name the folder or file it is about, e.g. src/legacy/** or **/conftest.py",
        )
    return None


@lru_cache(maxsize=1024)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a scope to a regex anchored at the project root.

    `**` as a whole component spans any number of folders (none included), `*` and `?` stay
    within one component; everything else is literal.
    """
    body = pattern
    while body.startswith("./"):
        body = body[2:]
    out: list[str] = []
    parts = body.split("/")
    last = len(parts) - 1
    for n, part in enumerate(parts):
        if part == "**":
            out.append(".*" if n == last else "(?:[^/]+/)*")
            continue
        for c in part:
            out.append("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c))
        if n != last:
            out.append("/")
    return re.compile("^" + "".join(out) + "$")


def compile_globs(patterns: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for a list of scopes (matched against `match_form` paths); None when empty."""
    parts = [_glob_regex(p).pattern for p in patterns]
    if not parts:
        return None
    return re.compile("|".join(f"(?:{p})" for p in parts))


def glob_match(pattern: str, path: str) -> bool:
    """True when the path (in its `match_form`) lies in the scope."""
    form = match_form(path)
    return form is not None and _glob_regex(pattern).match(form) is not None
