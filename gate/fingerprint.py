"""Stable finding fingerprints.

A fingerprint must survive what does not change the flaw: line shifts, edits to unrelated
lines, the order of the report and a re-run of the tool (even a newer version of it). So it is
built from what the flaw *is*: the tool's name, the rule, the file, the dependency and
vulnerability ids, and the code the tool quoted (or its own stable fingerprint, or the message
with numbers taken out) — never from line numbers or positions in the report. Findings that
share all of that (the same call twice in one file) are told apart by their order of
appearance in the file, which a line shift keeps.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from gate.model import Finding
from gate.paths import normalise

_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
_LINE_NO = re.compile(r"^\s*\d+\s?", re.MULTILINE)


def _content(f: Finding) -> str:
    if f.fingerprint_hint:
        return "h:" + f.fingerprint_hint
    if f.snippet:
        # Snippets sometimes carry their line numbers (bandit prints "12 code"): drop them.
        return "s:" + _SPACE.sub(" ", _LINE_NO.sub("", f.snippet)).strip()
    return "m:" + _SPACE.sub(" ", _DIGITS.sub("#", f.message)).strip()


def base_key(f: Finding) -> str:
    """Everything that identifies the flaw, except which occurrence it is."""
    pkg = f.package
    parts = [
        f.tool.strip().lower(),
        f.rule_id,
        normalise(f.location.path) if f.location and f.location.path else "",
        (pkg.purl or f"{pkg.name}@{pkg.version}") if pkg else "",
        ",".join(sorted({*f.cve, *f.aliases})),
        _content(f),
    ]
    return "\x1f".join(parts)


def fingerprints(findings: Sequence[Finding], sources: Sequence[str]) -> list[str]:
    """One fingerprint per finding, in the order given. `sources[i]` is finding i's report path.

    Occurrences of the same base key are numbered in order of (line, column, source, index):
    stable under line shifts and report reordering.
    """
    keys = [base_key(f) for f in findings]
    groups: dict[str, list[int]] = {}
    for i, k in enumerate(keys):
        groups.setdefault(k, []).append(i)
    out = [""] * len(findings)
    for k, members in groups.items():
        if len(members) > 1:
            members.sort(key=lambda i: _order(findings[i], sources[i]))
        for n, i in enumerate(members):
            out[i] = hashlib.sha256(f"{k}\x1e{n}".encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return out


def _order(f: Finding, source: str) -> tuple[int, int, str, int]:
    loc = f.location
    return (
        loc.start_line if loc and loc.start_line is not None else 0,
        loc.start_column if loc and loc.start_column is not None else 0,
        source,
        f.index,
    )
