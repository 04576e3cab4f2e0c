"""Canonical package URLs: one spelling per package, before any policy or waiver compares them.

A purl is attacker text (SBOMs, reports, VEX documents): `pkg:pypi/py%63rypto@2.6.1`,
`pkg:PyPI/PyCrypto@2.6.1` and `pkg:pypi/pycrypto@2.6.1` name one package, and a comparison of
the raw text let the first two past the banned-package list. `canonical` turns any of them into
the form of the purl specification, proven on the specification's own test suite
(`../shared/purl-spec/`, tests/test_purl.py):

- parsing and the per-type rules (type lower-cased; pypi, npm... name and namespace case; maven
  kept as written; qualifier keys lower-cased, empty qualifiers dropped, sorted) are
  packageurl-python's (`PackageURL.from_string`, `packageurl.normalize`), the reference
  implementation;
- pypi names are normalised as PEP 503 says (lower case, every run of `-`, `_` and `.` is one
  `-`): pip installs `zope.interface` and `zope-interface` as the same project;
- every component is percent-decoded, then encoded again the one way the specification writes
  it: everything but letters, digits, `.-_~` and `:` is encoded, so `/` inside a qualifier
  value is `%2F` (packageurl-python 0.17 leaves `/` and `:` in qualifier values as they are,
  which differs from the specification's tests: the encoding is done here).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from urllib.parse import quote

_PEP503 = re.compile(r"[-_.]+")


def _enc(text: str) -> str:
    return quote(text, safe=":")


def _segments(text: str) -> str:
    return "/".join(_enc(s) for s in text.split("/") if s)


def build(
    type: str,
    namespace: str | None,
    name: str,
    version: str | None = None,
    qualifiers: Mapping[str, str] | None = None,
    subpath: str | None = None,
) -> str:
    """The canonical purl of decoded components (ValueError when they make no valid purl)."""
    from packageurl import PackageURL

    purl = PackageURL(type=type, namespace=namespace, name=name, version=version, qualifiers=dict(qualifiers or {}), subpath=subpath)
    return _serialise(purl)


def _serialise(purl: object) -> str:
    from packageurl import PackageURL, normalize

    assert isinstance(purl, PackageURL)
    parts = normalize(purl.type, purl.namespace, purl.name, purl.version, purl.qualifiers, purl.subpath, encode=False)
    ptype, namespace, name, version, qualifiers, subpath = parts
    if not ptype or not name:
        raise ValueError("a purl needs a type and a name")
    ptype = str(ptype).lower()
    name = str(name)
    if ptype == "pypi":
        name = _PEP503.sub("-", name.lower())
    out = ["pkg:", ptype, "/"]
    if namespace:
        out += [_segments(str(namespace)), "/"]
    out.append(_enc(name))
    if version:
        out += ["@", _enc(str(version))]
    if qualifiers:
        quals = qualifiers if isinstance(qualifiers, Mapping) else {}
        items = sorted((str(k).lower(), str(v)) for k, v in quals.items() if v)
        if items:
            out += ["?", "&".join(f"{k}={_enc(v)}" for k, v in items)]
    if subpath:
        segs = [s for s in str(subpath).split("/") if s not in ("", ".", "..")]
        if segs:
            out += ["#", "/".join(_enc(s) for s in segs)]
    return "".join(out)


# Already canonical by construction: a pypi purl whose name is PEP 503-normal, with a version of
# characters that are never encoded, no qualifiers, no subpath (what cyclonedx-py and pip-audit
# write). Parsing costs ~0.2 ms a purl, a second for a 5,000-component SBOM; this costs ~1 us.
# tests/test_purl.py holds the fast path equal to the full one.
_CANONICAL_PYPI = re.compile(r"^pkg:pypi/[a-z0-9]+(?:-[a-z0-9]+)*(?:@[A-Za-z0-9._~-]+)?$")


@lru_cache(maxsize=8192)
def canonical(purl: str) -> str:
    """The canonical form of a purl string; ValueError when it is not a valid purl."""
    if isinstance(purl, str) and _CANONICAL_PYPI.match(purl):
        return purl
    return slow_canonical(purl)


def slow_canonical(purl: str) -> str:
    """`canonical` without the fast path (for the tests that hold the two equal)."""
    from packageurl import PackageURL

    if not isinstance(purl, str) or not purl.strip():
        raise ValueError("empty purl")
    return _serialise(PackageURL.from_string(purl.strip()))


def canonical_or_text(purl: str | None) -> str | None:
    """`canonical(purl)`, or the text as given when it is not a purl (an unresolved bom-ref).

    Text that is no purl is kept rather than dropped, so it stays visible as evidence; it then
    equals nothing but the same text.
    """
    if purl is None:
        return None
    try:
        return canonical(purl)
    except ValueError:
        return purl


@lru_cache(maxsize=8192)
def parts(purl: str) -> tuple[str, str | None, str, str | None, dict[str, str], str | None]:
    """(type, namespace, name, version, qualifiers, subpath) of the canonical purl, decoded.

    Cached: the qualifiers dict is shared between callers, who must not change it.
    """
    from packageurl import PackageURL

    p = PackageURL.from_string(canonical(purl))
    quals = p.qualifiers if isinstance(p.qualifiers, dict) else {}
    return (p.type, p.namespace, p.name, p.version, dict(quals), p.subpath)
