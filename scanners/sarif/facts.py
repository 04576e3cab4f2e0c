"""What a SARIF log says about a finding beyond its rule id: rule metadata from property bags,
tags, names and help texts.

Derived by structure and vocabulary, never by file:

* CWEs from tags (`external/cwe/cwe-079`, `CWE-79: Title`) and from properties meant to hold them
  (`cwe`, `cwes`, `identifiers`, ...); taxonomy references are resolved in `rules.py`.
* Vulnerability ids (CVE, GHSA, PYSEC, RUSTSEC, GO, GSD, MAL, OSV, SNYK) from tags, rule ids and
  names, properties, and (for dependency rules only) descriptions.
* `security-severity` (GitHub's score, 0.0 to 10.0) and a confidence word.
* Package facts (purl, name, installed and fixed versions) from properties and from the
  "Package: x" / "Installed Version: y" lines trivy, grype and anchore write into help texts.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from packageurl import PackageURL

from gate.model import Package, as_text
from scanners.sarif.pointer import OutOfSpec, as_str

_CONFIDENCE_WORDS: Final = {
    "very-high": "high",
    "veryhigh": "high",
    "high": "high",
    "medium": "medium",
    "moderate": "medium",
    "low": "low",
    "very-low": "low",
    "verylow": "low",
}

# Vulnerability ids as SCA tools write them into rule ids, names, tags and properties.
_VULN_ID: Final = re.compile(
    r"(?<![A-Za-z0-9])("
    r"CVE-\d{4}-\d{4,}"
    r"|GHSA(?:-[23456789cfghjmpqrvwx]{4}){3}"  # GitHub's id alphabet
    r"|PYSEC-\d{4}-\d+"
    r"|RUSTSEC-\d{4}-\d{4}"
    r"|GO-\d{4}-\d{4,}"
    r"|GSD-\d{4}-\d+"
    r"|MAL-\d{4}-\d+"
    r"|OSV-\d{4}-\d+"
    r"|SNYK(?:-[A-Z0-9]{1,64}){1,4}-\d{1,12}"  # bounded: no backtracking blow-up on hostile text
    r")(?![A-Za-z0-9])",
    re.IGNORECASE,
)
# A CWE tag: "external/cwe/cwe-079" (CodeQL, mobsfscan), "CWE-79", "CWE-79: Title" (semgrep, snyk).
_CWE_TAG: Final = re.compile(r"^(?:external/cwe/)?cwe[-_ /:]?0*(\d+)(?!\d)", re.IGNORECASE)
# A CWE anywhere in a property value meant to hold CWEs ("CWE-798: Use of Hard-coded Credentials").
_CWE_ANY: Final = re.compile(r"(?<![A-Za-z0-9])cwe[-_ :]?0*(\d+)(?!\d)", re.IGNORECASE)
_DECIMAL: Final = re.compile(r"^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$")
_WORD_SPLIT: Final = re.compile(r"[^a-z0-9]+")
NO_WORDS: Final[set[str]] = set()  # shared, never written: for package-only facts
_NO_VERSION: Final = frozenset({"", "none", "n/a", "na", "-", "unknown", "not fixed", "<nil>"})

# Property names (lower case, punctuation removed) that carry package facts, across tools.
_PURL_KEYS: Final = frozenset({"purl", "purls", "packageurl", "packageurls"})
_PKG_NAME_KEYS: Final = frozenset({"packagename", "pkgname", "componentname"})
_PKG_OBJECT_KEYS: Final = frozenset({"package", "component", "dependency"})  # only as {"name", "version", "purl"}
_PKG_VERSION_KEYS: Final = frozenset({"packageversion", "pkgversion", "installedversion", "componentversion"})
_FIXED_KEYS: Final = frozenset({"fixedversion", "fixedversions", "fixversion", "fixversions", "patchedversions", "fixedin"})
_ID_KEYS: Final = frozenset(
    {"cve", "cves", "cveid", "cveids", "alias", "aliases", "identifiers", "vulnerabilityid", "vulnid", "ghsa", "ghsaid"}
)
_CWE_KEYS: Final = frozenset({"cwe", "cwes", "cweid", "cweids"})


def words_of(text: str) -> set[str]:
    """The lower-case words of `text` (runs of letters and digits)."""
    return {w for w in _WORD_SPLIT.split(text.lower()) if w}


def _flatten_strings(value: Any, depth: int = 0) -> Iterable[str]:
    """Every string (and integer, as text) in a property value, nested lists and objects included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, int) and not isinstance(value, bool):
        yield str(value)
    elif depth < 4 and isinstance(value, list):
        for v in value:
            yield from _flatten_strings(v, depth + 1)
    elif depth < 4 and isinstance(value, dict):
        for v in value.values():
            yield from _flatten_strings(v, depth + 1)


def _norm_key(key: str) -> str:
    return "".join(ch for ch in key.lower() if ch.isalnum())


def _score(value: Any) -> float | None:
    """A `security-severity` as a number in [0, 10]; None when absent.

    GitHub defines it as a string holding a number from 0.0 to 10.0; numbers are taken too.
    Anything else ("high", "abc", 10.5, -1, NaN, a boolean) is out of spec and refuses the report:
    read as "absent" it would fall back to the level and could lower the finding's severity.
    The string "null" is what Snyk Container writes for "no score" (real reports in the corpus)
    and is taken as absent.
    """
    if value is None or value == "null":
        return None
    score: float | None = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        score = float(value)
    elif isinstance(value, str) and _DECIMAL.match(value):
        score = float(value)
    if score is None or math.isnan(score) or score < 0 or score > 10:
        shown = json.dumps(value)[:40] if not isinstance(value, float) else repr(value)
        raise OutOfSpec("security-severity", f"is {shown}, not a score from 0.0 to 10.0 (GitHub's security-severity)")
    return score


def _confidence_word(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return _CONFIDENCE_WORDS.get(value.strip().lower().replace("_", "-").replace(" ", "-"))


@dataclass(slots=True)
class Facts:
    """What a property bag (and, for rules, the descriptor) says about a finding."""

    score: float | None = None
    confidence: str | None = None
    words: set[str] = field(default_factory=set)
    cwe: set[str] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)
    purl: str | None = None
    pkg_name: str | None = None
    pkg_version: str | None = None
    fixed: tuple[str, ...] = ()


def _cwes_from_tag(tag: str, out: set[str]) -> None:
    m = _CWE_TAG.match(tag)
    if m:
        n = int(m.group(1))
        if n > 0:
            out.add(f"CWE-{n}")


def cwes_from_text(text: str, out: set[str]) -> None:
    """CWEs in a value meant to hold them: a bare number ("79") or every "CWE-n" in the text."""
    if text.isdigit():
        n = int(text)
        if n > 0:
            out.add(f"CWE-{n}")
        return
    for m in _CWE_ANY.finditer(text):
        n = int(m.group(1))
        if n > 0:
            out.add(f"CWE-{n}")


def vuln_ids(text: str, out: set[str]) -> None:
    """CVE, GHSA and OSV-database ids in `text`, normalised (GHSA bodies lower case, others upper)."""
    for m in _VULN_ID.finditer(text):
        vid = m.group(1)
        out.add("GHSA" + vid[4:].lower() if vid[:4].upper() == "GHSA" else vid.upper())


def _split_versions(value: str) -> tuple[str, ...]:
    if "," not in value and ";" not in value and "||" not in value:
        v = value.strip()
        return () if v.lower() in _NO_VERSION else (v,)
    parts = (p.strip() for p in re.split(r"[,;]|\|\|", value))
    return tuple(p for p in parts if p.lower() not in _NO_VERSION)


def props_facts(props: Mapping[str, Any], facts: Facts) -> None:
    """Read the well-known property names of a SARIF property bag into `facts`.

    Raises `OutOfSpec` for a `security-severity` that is not a score from 0 to 10.
    """
    score = _score(props.get("security-severity"))
    if score is not None and facts.score is None:
        facts.score = score
    _tags_and_confidence(props, facts)
    for key, value in props.items():
        _keyed_fact(_norm_key(key), value, facts)


def _tags_and_confidence(props: Mapping[str, Any], facts: Facts) -> None:
    """Whole tags as words, the CWEs and vulnerability ids tags name, and a confidence word
    (`confidence`, `*/confidence`, `precision` or a "LOW CONFIDENCE" tag)."""
    conf: str | None = None
    for key, value in props.items():
        lk = key.lower()
        if lk == "confidence" or lk.endswith("/confidence"):  # "zizmor/confidence"
            conf = conf or _confidence_word(value)
    conf = conf or _confidence_word(props.get("precision"))
    tags = props.get("tags")
    if isinstance(tags, list):
        for tag in tags:
            if not isinstance(tag, str):
                continue
            low = tag.lower()
            facts.words.add(low)  # whole tags only: "Security Misconfiguration" is not an IaC tag
            _cwes_from_tag(tag, facts.cwe)
            vuln_ids(tag, facts.ids)
            if low.endswith(" confidence"):  # semgrep: "LOW CONFIDENCE"
                conf = _confidence_word(low[: -len(" confidence")]) or conf
    if conf and facts.confidence is None:
        facts.confidence = conf


def _keyed_fact(nk: str, value: Any, facts: Facts) -> None:
    """One property (its name normalised by `_norm_key`) that carries CWEs, vulnerability ids or
    package facts, across tools' names for them. A fact already known is not replaced."""
    if nk in _CWE_KEYS:
        for s in _flatten_strings(value):
            cwes_from_text(s, facts.cwe)
    elif nk in _ID_KEYS:
        for s in _flatten_strings(value):
            vuln_ids(s, facts.ids)
            if nk == "identifiers" and s.upper().startswith("CWE"):
                cwes_from_text(s, facts.cwe)
    elif nk in _PURL_KEYS:
        purl = next((s for s in _flatten_strings(value) if s.startswith("pkg:")), None)
        if purl and facts.purl is None:
            facts.purl = purl
    elif nk in _PKG_OBJECT_KEYS:
        if isinstance(value, dict):  # {"name": ..., "version": ..., "purl": ...}
            facts.pkg_name = facts.pkg_name or as_str(value.get("name"))
            facts.pkg_version = facts.pkg_version or as_str(value.get("version"))
            p = as_str(value.get("purl"))
            facts.purl = facts.purl or (p if p and p.startswith("pkg:") else None)
    elif nk in _PKG_NAME_KEYS:
        if isinstance(value, str) and value.strip() and facts.pkg_name is None:
            facts.pkg_name = value.strip()
    elif nk in _PKG_VERSION_KEYS:
        v = as_text(value)
        if v and v.strip() and facts.pkg_version is None:
            facts.pkg_version = v.strip()
    elif nk in _FIXED_KEYS and not facts.fixed:
        found: list[str] = []
        for s in _flatten_strings(value):
            found.extend(_split_versions(s))
        facts.fixed = tuple(dict.fromkeys(found))


_KEY_NAME: Final = frozenset({"package", "pkgname"})
_KEY_VERSION: Final = frozenset({"installed version", "version"})
_KEY_FIXED: Final = frozenset({"fixed version", "fixed versions", "fix version", "fix versions", "fixed in"})


def facts_from_key_lines(text: str, facts: Facts) -> None:
    """Fill package gaps from "Package: x" / "Installed Version: y" / "Fixed Version: z" lines,
    as trivy, grype and anchore write them into help texts and messages."""
    for line in text.split("\n"):
        key, sep, value = line.partition(":")
        if not sep or len(key) > 24:
            continue
        k = key.strip().lower()
        if k in _KEY_NAME:
            value = value.strip().strip("*`").strip()
            if value and facts.pkg_name is None:
                facts.pkg_name = value
        elif k in _KEY_VERSION:
            value = value.strip().strip("*`").strip()
            if value.lower() not in _NO_VERSION and facts.pkg_version is None:
                facts.pkg_version = value
        elif k in _KEY_FIXED and not facts.fixed:
            facts.fixed = _split_versions(value.strip().strip("*`"))


def fill_package(dst: Facts, src: Facts) -> None:
    """Fill the package facts `dst` lacks from `src` (a less specific source)."""
    dst.purl = dst.purl or src.purl
    dst.pkg_name = dst.pkg_name or src.pkg_name
    dst.pkg_version = dst.pkg_version or src.pkg_version
    dst.fixed = dst.fixed or src.fixed


def package_from(facts: Facts) -> Package | None:
    """The package a finding is about, from a purl and/or name/version/fixed-version facts."""
    name, version, purl = facts.pkg_name, facts.pkg_version, facts.purl
    if purl is not None:
        try:
            parsed = PackageURL.from_string(purl)
        except ValueError:
            parsed = None
        if parsed is not None:
            if name is None:
                # Ecosystems whose package names include the namespace ("@scope/x", "group:artifact"
                # is written "group/artifact" in a purl, "github.com/x/y").
                scoped = parsed.namespace and parsed.type in ("npm", "golang", "maven", "composer", "github")
                name = f"{parsed.namespace}/{parsed.name}" if scoped else parsed.name
            version = version or parsed.version
    if name is None and purl is None:
        return None
    return Package(name=name, version=version, purl=purl, fixed_versions=facts.fixed)


def rule_package(props: Facts, help_facts: Facts) -> Package | None:
    """A dependency rule's package: its properties first, then its help text's key lines."""
    facts = Facts()
    fill_package(facts, props)
    fill_package(facts, help_facts)
    return package_from(facts)


def cwe_order(cwe: str) -> int:
    """Sort key of a "CWE-n": by number."""
    return int(cwe[4:])
