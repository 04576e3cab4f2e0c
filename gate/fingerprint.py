"""Stable finding fingerprints (a finding's `id`).

A fingerprint must survive what does not change the flaw: line shifts, edits to unrelated
lines, reformatting, the order of the report and a re-run of the tool (even a newer version of
it). So it is built from what the flaw *is*, never from line numbers or positions in the report:

- code findings: the tool's name, the rule, the file, and the code the tool quoted (its
  whitespace collapsed), else the tool's own stable fingerprint (SARIF `partialFingerprints`),
  else the message with its numbers taken out;
- dependency findings (those with a package): the tool's name, the rule (the advisory id) and
  the package (purl, else name@version). Not the message, CVE list or aliases: advisory
  databases edit descriptions and add aliases between two runs;
- secrets: the tool, the rule and the file only (or the tool's own fingerprint). The quoted
  line and bandit's message hold the secret itself, and a fingerprint is published (SARIF,
  pull-request comments): hashing a weak password into it would let anyone guess it offline.

Findings that share all of that (the same call twice in one file; two secrets in one file) are
told apart by their order of appearance in the file, which a line shift keeps.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from gate.model import Finding
from gate.paths import normalise

_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


def _content(f: Finding) -> str:
    if f.fingerprint_hint:
        return "h:" + f.fingerprint_hint
    if f.package is not None or f.kind == "secret":
        return ""
    if f.snippet and f.snippet.strip():
        return "s:" + _SPACE.sub(" ", f.snippet).strip()
    return "m:" + _SPACE.sub(" ", _DIGITS.sub("#", f.message)).strip()


def base_key(f: Finding, _paths: dict[str | None, str | None] | None = None) -> str:
    """Everything that identifies the flaw, except which occurrence it is.

    `_paths` memoises normalised paths across a run's findings (many share a file).
    """
    pkg = f.package
    if pkg is not None:
        package = pkg.purl or f"{pkg.name}@{pkg.version}"
        # The advisory id is the rule; without one, the sorted vulnerability ids stand in.
        rule = f.rule_id or ",".join(sorted({*f.cve, *f.aliases}))
    else:
        package = ""
        rule = f.rule_id
    path = ""
    if f.location:
        raw = f.location.path
        if _paths is None:
            path = normalise(raw) or ""
        else:
            if raw not in _paths:
                _paths[raw] = normalise(raw)
            path = _paths[raw] or ""
    parts = [f.tool.strip().lower(), rule, path, package, _content(f)]
    return "\x1f".join(parts)


def fingerprints(findings: Sequence[Finding], sources: Sequence[str]) -> list[str]:
    """One fingerprint (32 hex digits) per finding, in the order given. `sources[i]` is finding i's report.

    Occurrences of the same base key are numbered in order of (line, column, source, index):
    stable under line shifts and report reordering.
    """
    paths: dict[str | None, str | None] = {}
    keys = [base_key(f, paths) for f in findings]
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
