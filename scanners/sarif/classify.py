"""What a SARIF result is: its kind hint, its severity, whether it was suppressed.

* Kind: only the result's own hint (`classify`). The gate decides a finding's kind from the
  trusted producer table (`scanners/claims.py`), where the hint only chooses among the kinds the
  table lets the tool write. Results of a kind other than `fail` are counted, not findings.
* Severity follows GitHub code scanning: `security-severity` (result, then rule) by CVSS bands
  (`Traits.severity`), else the SARIF `level` by `LEVEL_SEVERITY` (the result's, else the rule's
  configured level, see `rules.configured_level`, which falls back to the spec default "warning").
  The reader applies it inline, in its hot loop.
* Suppressions: a result with `suppressions` is in the log, so it was recorded, not hidden
  (`suppressed` when one is accepted). bandit's SARIF formatter drops `# nosec` results and
  copies bandit's counts into `run.properties.metrics`; those counts are hidden suppressions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from gate.errors import InputError
from gate.model import as_text, severity_from_score
from scanners.bandit import hidden_by_nosec
from scanners.sarif.facts import Facts, cwe_order
from scanners.sarif.pointer import Walk, as_str

LEVEL_SEVERITY: Final = {"error": "high", "warning": "medium", "note": "low", "none": "info"}
OTHER_KINDS: Final = frozenset({"pass", "open", "review", "notApplicable", "informational"})

# Words (from tags, rule names and rule ids) that say what a finding is about.
_LICENSE_WORDS: Final = frozenset({"license", "licence", "licenses", "licences", "licensing"})
_SECRET_WORDS: Final = frozenset({"secret", "secrets"})
_IAC_WORDS: Final = frozenset(
    {
        *("iac", "misconfiguration", "misconfigurations", "misconfig"),
        *("terraform", "cloudformation", "kubernetes", "k8s", "dockerfile", "helm", "ansible", "bicep"),
    }
)
_SECURITY_WORDS: Final = frozenset({"security", "vulnerability", "cwe", "owasp", "injection", "xss", "csrf", "ssrf", "taint"})


def classify(words: set[str], id_words: set[str], vulnerable: bool, has_package: bool, security: bool) -> str:
    """What a result's own content says it is about: only a hint. The kind of the finding is
    decided by the gate from the trusted producer table (`scanners/claims.py`): a hint counts
    only where the table lets the tool write that kind, so a CVE tag or a purl on a code
    scanner's result changes nothing. `words` are the whole tags and the words of the rule name,
    `id_words` the words of the rule id. First match wins:

    1. `license` when a tag or the rule name says license/licence (trivy "License" rules).
    2. `dependency` when the rule or result carries a vulnerability id (CVE, GHSA, ...) or
       package data (a purl, a package name).
    3. `secret` when a tag, the rule name or a segment of the rule id says secret(s)
       (trivy "Secret", semgrep `generic.secrets.*`).
    4. `iac` when they say misconfiguration or name an IaC language (trivy "Misconfiguration",
       semgrep `terraform.*`).
    5. `sast` when there is a security signal (`security`: a CWE or a security-severity, or a
       security tag), else `other` (code quality).

    The driver's name is not read here: which tool writes which kinds is the table's business.
    """
    if words & _LICENSE_WORDS:
        return "license"
    if vulnerable or has_package:
        return "dependency"
    every = words | id_words
    if every & _SECRET_WORDS:
        return "secret"
    if every & _IAC_WORDS:
        return "iac"
    return "sast" if security or words & _SECURITY_WORDS else "other"


@dataclass(frozen=True, slots=True)
class Traits:
    """What a finding is, as its rule says (computed once per rule) or as the result's own
    properties and taxa refine it."""

    kind: str
    cwe: tuple[str, ...]
    cve: tuple[str, ...]
    aliases: tuple[str, ...]
    severity: str | None  # from security-severity, when one is given; else the level decides
    confidence: str


def cves_and_aliases(ids: set[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Vulnerability ids split into CVEs and the other aliases, each sorted."""
    return tuple(sorted(i for i in ids if i.startswith("CVE-"))), tuple(sorted(i for i in ids if not i.startswith("CVE-")))


def result_traits(rule: Traits, rule_ids: set[str], id_words: set[str], rule_has_package: bool, merged: Facts) -> Traits:
    """A result's traits when it has properties or taxa of its own: `merged` holds the rule's
    facts with the result's added (the result's score and confidence win)."""
    cve, aliases = rule.cve, rule.aliases
    if merged.ids != rule_ids:
        cve, aliases = cves_and_aliases(merged.ids)
    has_pkg = merged.purl is not None or merged.pkg_name is not None or rule_has_package
    return Traits(
        kind=classify(merged.words, id_words, bool(merged.ids), has_pkg, security=bool(merged.cwe) or merged.score is not None),
        cwe=tuple(sorted(merged.cwe, key=cwe_order)),
        cve=cve,
        aliases=aliases,
        severity=severity_from_score(merged.score) if merged.score is not None else rule.severity,
        confidence=merged.confidence or rule.confidence,
    )


def bad_level(walk: Walk, path: str, value: Any) -> InputError:
    """A `level` that is not one of SARIF's four, naming its JSON path and pointer."""
    return walk.out_of_spec(path, f"is {json.dumps(value)[:40]}, not a SARIF level (none, note, warning, error)")


def check_level(walk: Walk, value: Any, path: str) -> str:
    """A configured level, which must be one of SARIF's four."""
    if type(value) is not str or value not in LEVEL_SEVERITY:
        raise bad_level(walk, path, value)
    return value


def counted_other_kind(walk: Walk, kind: Any, path: str) -> None:
    """A result `kind` other than `fail`: counted under `kind:<kind>` (not a finding), or an
    input error when it is not a SARIF result kind at all (an array, an object, a typo)."""
    if isinstance(kind, str) and kind in OTHER_KINDS:
        walk.count(f"kind:{kind}")
        return
    raise InputError(
        f"{path} is {json.dumps(kind)[:60]}, which is not a SARIF result kind (fail, pass, open, review, notApplicable, informational)",
        file=walk.source,
    )


def suppressions(walk: Walk, path: str, raw: Any) -> tuple[bool, tuple[str, ...]]:
    """(suppressed, descriptions) of a result's `suppressions` (at `path`): suppressed when any
    suppression is accepted; one without `status` counts as accepted (SARIF 3.35.3). Under review
    and rejected ones do not."""
    if not isinstance(raw, list):
        raise walk.type_error(path, "an array", raw)
    suppressed = False
    entries: list[str] = []
    for n, sup in enumerate(raw):
        if not isinstance(sup, dict):
            raise walk.type_error(f"{path}[{n}]", "an object", sup)
        suppressed = suppressed or "status" not in sup or sup["status"] == "accepted"
        entry = f"{as_text(sup.get('kind')) or 'unspecified'}:{as_text(sup.get('status')) or 'accepted'}"
        justification = as_str(sup.get("justification"))
        if justification:
            entry += f": {justification}"
        entries.append(entry)
    if suppressed:
        walk.count("suppressed")
    return suppressed, tuple(entries)


def hidden_suppressions(walk: Walk, raw_run: dict[str, Any], path: str) -> int:
    """Results the run at `path` says it left out under inline suppressions. A suppressed result
    that is in the log was kept (recorded, `suppressed: true`): nothing hidden. bandit's SARIF
    formatter copies bandit's metrics into `run.properties.metrics`, whose `nosec` and
    `skipped_tests` count the results `# nosec` made it drop (bandit without --ignore-nosec)."""
    props = walk.obj(raw_run.get("properties"), f"{path}.properties")
    if not props or "metrics" not in props:
        return 0
    return hidden_by_nosec(props["metrics"])
