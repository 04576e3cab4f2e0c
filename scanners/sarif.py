"""SARIF 2.1.0 reader: every `fail` result of every run becomes a `Finding`.

What this reader accepts and how strictly:

* Only SARIF 2.1.0. A document that has `runs` (or a `$schema` naming SARIF) claims to be SARIF;
  if its `version` is not exactly "2.1.0" it is refused, naming both versions.
* Containers the reader walks (`runs`, `results`, `rules`, `extensions`, `artifacts`,
  `locations`, `suppressions`, `message`, `properties`, ...) must have their JSON type when present:
  a wrong type is an `InputError` naming the JSON path (`runs[0].results must be an array`).
  `results` absent or null means the run reported nothing (a rules-only export, or a tool that
  did not start): zero findings from that run.
* Values the spec (or, for `security-severity`, GitHub) defines are checked: a non-boolean
  `executionSuccessful`, a `level` that is not none/note/warning/error (on a result, a rule's
  default configuration, an override or a run policy), a `security-severity` that is not a number
  from 0 to 10, a line or column that is not an integer from 1 are input errors naming the JSON
  path and pointer; read as "absent" they would change what the report claims (a failed run as
  complete, a 10.5 score as the rule's `note`). The one exception is what a real tool writes:
  Snyk's `"security-severity": "null"` means no score. Other scalars of the wrong type (a
  message `id` of 5) are treated as absent: the finding is kept with what can be known.
* References that point nowhere (a `ruleIndex` or `artifactLocation.index` past the end of its
  array, a `toolComponent` that does not exist) do not refuse the report: real tools write them
  (anchore and gosec emit wrong `ruleIndex` values, some trivy templates a `ruleIndex` with no
  `rules`). The finding keeps its `ruleId`, the rule metadata is left out, and the statistics
  count it under `unresolved:rule` / `unresolved:artifact`. When both `ruleId` and `ruleIndex`
  are given, the rule is looked up by id first for the same reason.

Severity follows GitHub code scanning: `security-severity` (result, then rule) by CVSS bands,
else the SARIF `level` (result, then `invocations[].ruleConfigurationOverrides`, then
`run.policies`, then the rule's `defaultConfiguration`, then the spec default "warning").

CWE, CVE and package data are derived by the rules documented on `_cwes_from_*`, `_vuln_ids`
and `_props_facts`: by structure and vocabulary, never by file. A finding's `kind` here is only
the result's own hint (`_classify`); the gate decides the kind from the trusted producer table
(`scanners/claims.py`), where the hint only chooses among the kinds the table lets the tool write.

Inline suppressions: a result with `suppressions` is in the log, so it was recorded, not hidden
(`suppressed` when one is accepted). bandit's SARIF formatter drops `# nosec` results and copies
bandit's counts into `run.properties.metrics`; those counts are `hidden_suppressions`.
"""

from __future__ import annotations

import gc
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from packageurl import PackageURL

from gate.errors import InputError
from gate.model import Finding, Location, Package, ReadResult, as_text, severity_from_score
from scanners.bandit import hidden_by_nosec
from scanners.interface import ReportReader

SUPPORTED_VERSION: Final = "2.1.0"
NO_RULE_ID: Final = "(no rule id)"
"""The rule id of a result that names no rule at all (no ruleId, no rule reference)."""

_LEVEL_SEVERITY: Final = {"error": "high", "warning": "medium", "note": "low", "none": "info"}
_OTHER_KINDS: Final = frozenset({"pass", "open", "review", "notApplicable", "informational"})
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
_PLACEHOLDER: Final = re.compile(r"\{(\d+)\}|\{\{|\}\}")
_WORD_SPLIT: Final = re.compile(r"[^a-z0-9]+")
_NO_WORDS: Final[set[str]] = set()  # shared, never written: for package-only facts
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

# Words (from tags, rule names and rule ids) that say what a finding is about.
_LICENSE_WORDS: Final = frozenset({"license", "licence", "licenses", "licences", "licensing"})
_SECRET_WORDS: Final = frozenset({"secret", "secrets"})
_IAC_WORDS: Final = frozenset(
    {
        *("iac", "misconfiguration", "misconfigurations", "misconfig"),
        *("terraform", "cloudformation", "kubernetes", "k8s", "dockerfile", "helm", "ansible", "bicep"),
    }
)
_PLAIN_VERSION: Final = re.compile(r"[\w.+-]{1,60}")
_FINGERPRINT_PLACEHOLDERS: Final = frozenset({"requires login", "", "none", "null", "n/a"})
_SECURITY_WORDS: Final = frozenset({"security", "vulnerability", "cwe", "owasp", "injection", "xss", "csrf", "ssrf", "taint"})


class SarifReader(ReportReader):
    """Reads SARIF 2.1.0 logs (any tool) into findings."""

    format = "sarif"
    media = "json"

    def detect(self, doc: Any) -> bool:
        """A JSON object with `runs`, or whose `$schema` names SARIF: it is, or claims to be, SARIF.

        Logs of other SARIF versions are detected too, so that `read` refuses them by name
        instead of the gate calling them an unknown format. A spec fragment (a bare `tool` or
        `result` object) has neither and is not SARIF.
        """
        if not isinstance(doc, dict):
            return False
        if "runs" in doc:
            return True
        schema = doc.get("$schema")
        return isinstance(schema, str) and "sarif" in schema.lower()

    def read(self, doc: Any, source: str) -> ReadResult:
        """Every result of kind `fail` (or no kind) of every run, as a finding."""
        # Building 10^5 findings next to a parsed document of millions of objects sets off the
        # cyclic collector again and again (a third of the time), to find nothing: the reader
        # makes no reference cycles. So it is paused while reading, and restored as it was.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return _LogReader(source).read(doc)
        finally:
            if was_enabled:
                gc.enable()


# --------------------------------------------------------------------------------------------
# Type checks that name the JSON path


def _type_error(source: str, path: str, expected: str, value: Any) -> InputError:
    return InputError(f"{path} must be {expected}, not {_json_type(value)}", file=source)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}" if isinstance(value, int) and abs(value) < 10**12 else "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


_PATH_PART: Final = re.compile(r"\[(\d+)\]|\.?([^.\[]+)")


def _pointer(path: str) -> str:
    """The JSON pointer (RFC 6901) of a path as this reader writes it: runs[0].results[2].level
    -> /runs/0/results/2/level (property names are those of the SARIF spec and GitHub: no dots)."""
    parts = []
    for m in _PATH_PART.finditer(path):
        part = m.group(1) if m.group(1) is not None else m.group(2)
        parts.append(part.replace("~", "~0").replace("/", "~1"))
    return "/" + "/".join(parts)


def _int(value: Any) -> int | None:
    """A JSON integer (not a boolean), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _index(value: Any) -> int | None:
    """A SARIF array index: a non-negative integer. SARIF writes -1 (or omits it) for "none"."""
    i = _int(value)
    return i if i is not None and i >= 0 else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _text_of(mfms: Any) -> str | None:
    """`text` of a message or multiformatMessageString object, if it has one."""
    if isinstance(mfms, dict):
        t = mfms.get("text")
        if isinstance(t, str):
            return t
    return None


def _words(text: str) -> set[str]:
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


# --------------------------------------------------------------------------------------------
# Scores, levels, confidence


class _OutOfSpec(ValueError):
    """A value the format defines, outside what it allows; the caller adds the JSON path."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key
        self.problem = problem


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
        raise _OutOfSpec("security-severity", f"is {shown}, not a score from 0.0 to 10.0 (GitHub's security-severity)")
    return score


def _confidence_word(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return _CONFIDENCE_WORDS.get(value.strip().lower().replace("_", "-").replace(" ", "-"))


# --------------------------------------------------------------------------------------------
# Facts from a property bag (rule or result)


@dataclass(slots=True)
class _Facts:
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


def _cwes_from_text(text: str, out: set[str]) -> None:
    if text.isdigit():
        n = int(text)
        if n > 0:
            out.add(f"CWE-{n}")
        return
    for m in _CWE_ANY.finditer(text):
        n = int(m.group(1))
        if n > 0:
            out.add(f"CWE-{n}")


def _vuln_ids(text: str, out: set[str]) -> None:
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


def _props_facts(props: Mapping[str, Any], facts: _Facts) -> None:
    """Read the well-known property names of a SARIF property bag into `facts`."""
    score = _score(props.get("security-severity"))
    if score is not None and facts.score is None:
        facts.score = score
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
            _vuln_ids(tag, facts.ids)
            if low.endswith(" confidence"):  # semgrep: "LOW CONFIDENCE"
                conf = _confidence_word(low[: -len(" confidence")]) or conf
    if conf and facts.confidence is None:
        facts.confidence = conf
    for key, value in props.items():
        nk = _norm_key(key)
        if nk in _CWE_KEYS:
            for s in _flatten_strings(value):
                _cwes_from_text(s, facts.cwe)
        elif nk in _ID_KEYS:
            for s in _flatten_strings(value):
                _vuln_ids(s, facts.ids)
                if nk == "identifiers" and s.upper().startswith("CWE"):
                    _cwes_from_text(s, facts.cwe)
        elif nk in _PURL_KEYS:
            purl = next((s for s in _flatten_strings(value) if s.startswith("pkg:")), None)
            if purl and facts.purl is None:
                facts.purl = purl
        elif nk in _PKG_OBJECT_KEYS:
            if isinstance(value, dict):  # {"name": ..., "version": ..., "purl": ...}
                facts.pkg_name = facts.pkg_name or _str(value.get("name"))
                facts.pkg_version = facts.pkg_version or _str(value.get("version"))
                p = _str(value.get("purl"))
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


def _facts_from_key_lines(text: str, facts: _Facts) -> None:
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


def _fill_package(dst: _Facts, src: _Facts) -> None:
    """Fill the package facts `dst` lacks from `src` (a less specific source)."""
    dst.purl = dst.purl or src.purl
    dst.pkg_name = dst.pkg_name or src.pkg_name
    dst.pkg_version = dst.pkg_version or src.pkg_version
    dst.fixed = dst.fixed or src.fixed


def _package(facts: _Facts) -> Package | None:
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


# --------------------------------------------------------------------------------------------
# Kind


def _classify(words: set[str], id_words: set[str], vulnerable: bool, has_package: bool, security: bool) -> str:
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


# --------------------------------------------------------------------------------------------
# Tool components, rules, taxonomies


@dataclass(slots=True)
class _Component:
    """A toolComponent (the driver or an extension) with its rules indexed by id."""

    key: int  # -1 for the driver, else the index in tool.extensions
    path: str
    name: str | None
    guid: str | None
    rules: list[dict[str, Any]]
    by_id: dict[str, int]
    messages: dict[str, Any]


@dataclass(slots=True)
class _Rule:
    """Everything a result inherits from its rule, computed once per (rule, ruleId)."""

    rule_id: str
    name: str | None
    description: str | None
    help_uri: str | None
    level: Any
    messages: dict[str, Any]
    component_messages: dict[str, Any]
    facts: _Facts
    id_words: set[str]
    kind: str
    package: Package | None
    cve: tuple[str, ...]
    aliases: tuple[str, ...]
    help_facts: _Facts
    cwe: tuple[str, ...]
    severity: str | None  # from security-severity, when the rule gives a usable one
    confidence: str


@dataclass(slots=True)
class _Run:
    """A run's tool, components and lookup tables, built once before its results are read."""

    path: str
    tool: str
    version: str | None
    driver: _Component
    extensions: list[_Component]
    artifacts: list[Any]
    taxonomies: list[dict[str, Any]]
    overrides: dict[str, Any]
    policy_levels: dict[str, Any]
    rules: dict[tuple[int, int | None, str | None], _Rule] = field(default_factory=dict)
    # (ruleId, ruleIndex) -> (rule, whether the reference was broken), for results without `rule`
    fast: dict[tuple[str | None, int | None], tuple[_Rule, bool]] = field(default_factory=dict)


class _LogReader:
    """One `read` call: the source name for errors and the counters the statistics report."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.stats: dict[str, int] = {}

    # -- helpers ------------------------------------------------------------------------------

    def _obj(self, value: Any, path: str) -> dict[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise _type_error(self.source, path, "an object", value)
        return value

    def _arr(self, value: Any, path: str) -> list[Any] | None:
        if value is None:
            return None
        if not isinstance(value, list):
            raise _type_error(self.source, path, "an array", value)
        return value

    def _out_of_spec(self, path: str, problem: str) -> InputError:
        """An out-of-spec value: exit 3, naming its JSON path and JSON pointer."""
        return InputError(f"{path} {problem} (JSON pointer {_pointer(path)})", file=self.source)

    def _bad_level(self, path: str, value: Any) -> InputError:
        return self._out_of_spec(path, f"is {json.dumps(value)[:40]}, not a SARIF level (none, note, warning, error)")

    def _level(self, value: Any, path: str) -> str:
        """A configured level, which must be one of SARIF's four."""
        if type(value) is not str or value not in _LEVEL_SEVERITY:
            raise self._bad_level(path, value)
        return value

    def _count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n

    # -- the log ------------------------------------------------------------------------------

    def read(self, doc: Any) -> ReadResult:
        if not isinstance(doc, dict):
            raise InputError(f"a SARIF log must be a JSON object, not {_json_type(doc)}", file=self.source)
        version = doc.get("version")
        if version != SUPPORTED_VERSION:
            if version is None:
                raise InputError(
                    f"this SARIF log declares no version; this gate reads SARIF {SUPPORTED_VERSION}",
                    file=self.source,
                    hint=f'a SARIF 2.1.0 log starts with "version": "{SUPPORTED_VERSION}"',
                )
            # The text is the report's: shown as is only when it looks like a version, else quoted.
            plain = isinstance(version, str) and _PLAIN_VERSION.fullmatch(version) is not None
            shown = version if plain else json.dumps(version)[:60]
            raise InputError(
                f"SARIF version {shown} is not supported; this gate reads SARIF {SUPPORTED_VERSION}",
                file=self.source,
                hint="convert the log (for example with the SARIF multitool) or have the tool write SARIF 2.1.0",
            )
        if "runs" not in doc:
            raise InputError("a SARIF log must have `runs` (an array of runs)", file=self.source)
        runs = self._arr(doc.get("runs"), "runs") or []

        findings: list[Finding] = []
        errors: list[str] = []
        complete = True
        tools: list[str] = []
        first_version: str | None = None
        position = 0
        hidden = 0
        self.stats["runs"] = len(runs)
        self.stats["results"] = 0
        for i, raw_run in enumerate(runs):
            run = self._run(raw_run, i)
            tools.append(run.tool)
            if i == 0:
                first_version = run.version
            hidden += self._hidden(raw_run, run)
            ok, run_errors = self._invocations(raw_run, run)
            complete = complete and ok
            errors.extend(run_errors)
            results = self._arr(raw_run.get("results"), f"{run.path}.results")
            if results is None:
                self._count("runs-without-results")
                continue
            self.stats["results"] += len(results)
            for j, result in enumerate(results):
                finding = self._result(run, result, j, position)
                position += 1
                if finding is not None:
                    findings.append(finding)
        self.stats["findings"] = len(findings)
        return ReadResult(
            format="sarif",
            tool=", ".join(sorted(set(tools), key=lambda t: (t.casefold(), t))) if tools else "(no runs)",
            tool_version=first_version,
            findings=tuple(findings),
            complete=complete,
            errors=tuple(dict.fromkeys(errors)),
            statistics=dict(self.stats),
            spec_version=SUPPORTED_VERSION,
            hidden_suppressions=hidden,
        )

    # -- a run --------------------------------------------------------------------------------

    def _component(self, raw: Any, key: int, path: str) -> _Component:
        comp = self._obj(raw, path)
        if comp is None:
            raise InputError(f"{path} must be an object (a SARIF toolComponent)", file=self.source)
        rules = self._arr(comp.get("rules"), f"{path}.rules") or []
        by_id: dict[str, int] = {}
        for n, rule in enumerate(rules):
            if not isinstance(rule, dict):
                raise _type_error(self.source, f"{path}.rules[{n}]", "an object", rule)
            rid = rule.get("id")
            if isinstance(rid, str):
                by_id.setdefault(rid, n)
        messages = self._obj(comp.get("globalMessageStrings"), f"{path}.globalMessageStrings") or {}
        return _Component(key, path, _str(comp.get("name")), _str(comp.get("guid")), rules, by_id, messages)

    def _run(self, raw: Any, i: int) -> _Run:
        path = f"runs[{i}]"
        run = self._obj(raw, path)
        if run is None:
            raise InputError(f"{path} must be an object (a SARIF run)", file=self.source)
        tool = self._obj(run.get("tool"), f"{path}.tool")
        if tool is None:
            raise InputError(f"{path}.tool is required (the tool that produced the run)", file=self.source)
        if tool.get("driver") is None:
            raise InputError(f"{path}.tool.driver is required (the tool's main component)", file=self.source)
        driver = self._component(tool.get("driver"), -1, f"{path}.tool.driver")
        if driver.name is None:
            raise InputError(f"{path}.tool.driver.name must be a string (the tool's name)", file=self.source)
        raw_driver = tool["driver"]
        version = as_text(raw_driver.get("version")) or as_text(raw_driver.get("semanticVersion"))
        exts = self._arr(tool.get("extensions"), f"{path}.tool.extensions") or []
        extensions = [self._component(e, k, f"{path}.tool.extensions[{k}]") for k, e in enumerate(exts)]
        artifacts = self._arr(run.get("artifacts"), f"{path}.artifacts") or []
        taxonomies = self._arr(run.get("taxonomies"), f"{path}.taxonomies") or []
        for k, t in enumerate(taxonomies):
            self._obj(t, f"{path}.taxonomies[{k}]")
        r = _Run(
            path=path,
            tool=driver.name,
            version=version,
            driver=driver,
            extensions=extensions,
            artifacts=artifacts,
            taxonomies=[t for t in taxonomies if isinstance(t, dict)],
            overrides={},
            policy_levels=self._policy_levels(run, path),
        )
        r.overrides = self._overrides(run, r)
        return r

    def _hidden(self, raw_run: dict[str, Any], run: _Run) -> int:
        """Results the run says it left out under inline suppressions. A suppressed result that
        is in the log was kept (recorded, `suppressed: true`): nothing hidden. bandit's SARIF
        formatter copies bandit's metrics into `run.properties.metrics`, whose `nosec` and
        `skipped_tests` count the results `# nosec` made it drop (bandit without --ignore-nosec)."""
        props = self._obj(raw_run.get("properties"), f"{run.path}.properties")
        if not props or "metrics" not in props:
            return 0
        return hidden_by_nosec(props["metrics"])

    def _policy_levels(self, run: dict[str, Any], path: str) -> dict[str, Any]:
        """Rule id -> level configured by `run.policies` (a later policy wins, per the spec)."""
        levels: dict[str, Any] = {}
        policies = self._arr(run.get("policies"), f"{path}.policies") or []
        for k, raw in enumerate(policies):
            policy = self._component(raw, k, f"{path}.policies[{k}]")
            for rule in policy.rules:
                rid = rule.get("id")
                conf = rule.get("defaultConfiguration")
                if isinstance(rid, str) and isinstance(conf, dict) and "level" in conf:
                    levels[rid] = self._level(conf["level"], f"{policy.path}.rules[{policy.by_id[rid]}].defaultConfiguration.level")
        return levels

    def _overrides(self, run: dict[str, Any], r: _Run) -> dict[str, Any]:
        """Rule id -> level from `invocations[].ruleConfigurationOverrides` (the first one wins)."""
        out: dict[str, Any] = {}
        invocations = self._arr(run.get("invocations"), f"{r.path}.invocations") or []
        for k, inv in enumerate(invocations):
            if not isinstance(inv, dict):
                continue  # reported by _invocations
            overrides = self._arr(inv.get("ruleConfigurationOverrides"), f"{r.path}.invocations[{k}].ruleConfigurationOverrides") or []
            for n, ov in enumerate(overrides):
                if not isinstance(ov, dict):
                    continue
                desc, conf = ov.get("descriptor"), ov.get("configuration")
                if not isinstance(desc, dict) or not isinstance(conf, dict) or "level" not in conf:
                    continue
                self._level(conf["level"], f"{r.path}.invocations[{k}].ruleConfigurationOverrides[{n}].configuration.level")
                rid = _str(desc.get("id"))
                if rid is None:
                    comp = self._tool_component(r, desc.get("toolComponent"))
                    idx = _index(desc.get("index"))
                    if comp is not None and idx is not None and idx < len(comp.rules):
                        rid = _str(comp.rules[idx].get("id"))
                if rid is not None:
                    out.setdefault(rid, conf["level"])
        return out

    def _invocations(self, raw_run: dict[str, Any], run: _Run) -> tuple[bool, list[str]]:
        """(complete, errors): `executionSuccessful: false` makes the scan incomplete; error-level
        notifications are reported as errors either way (lower levels are not)."""
        ok = True
        errors: list[str] = []
        invocations = self._arr(raw_run.get("invocations"), f"{run.path}.invocations") or []
        for k, inv in enumerate(invocations):
            ipath = f"{run.path}.invocations[{k}]"
            if not isinstance(inv, dict):
                raise _type_error(self.source, ipath, "an object", inv)
            success = inv.get("executionSuccessful")
            if success is not None and type(success) is not bool:
                raise self._out_of_spec(f"{ipath}.executionSuccessful", f"must be a boolean (true or false), not {_json_type(success)}")
            if success is False:
                ok = False
                text = f"{run.tool}: the tool reported executionSuccessful: false ({ipath})"
                exit_code = _int(inv.get("exitCode"))
                if exit_code is not None:
                    text += f", exit code {exit_code}"
                failure = _str(inv.get("processStartFailureMessage"))
                if failure:
                    text += f": {failure}"
                errors.append(text)
            for key in ("toolExecutionNotifications", "toolConfigurationNotifications"):
                notes = self._arr(inv.get(key), f"{ipath}.{key}") or []
                for n, note in enumerate(notes):
                    if not isinstance(note, dict):
                        raise _type_error(self.source, f"{ipath}.{key}[{n}]", "an object", note)
                    if note.get("level", "warning") != "error":  # the spec's default level is "warning"
                        continue
                    text = _text_of(note.get("message")) or ""
                    desc = note.get("descriptor")
                    did = _str(desc.get("id")) if isinstance(desc, dict) else None
                    if not text:
                        text = f"error notification {did}" if did else "error notification without a message"
                    errors.append(f"{run.tool}: {text}")
        return ok, errors

    def _tool_component(self, run: _Run, ref: Any) -> _Component | None:
        """The component a toolComponentReference names in rule context (driver or extension).

        No reference means the driver; a reference that matches nothing gives None.
        """
        if ref is None:
            return run.driver
        if not isinstance(ref, dict):
            return None
        idx = _index(ref.get("index"))
        if idx is not None:
            return run.extensions[idx] if idx < len(run.extensions) else None
        guid = _str(ref.get("guid"))
        name = _str(ref.get("name"))
        if guid is None and name is None:
            return run.driver
        for comp in (run.driver, *run.extensions):
            if guid is not None and comp.guid is not None and comp.guid.lower() == guid.lower():
                return comp
        for comp in (run.driver, *run.extensions):
            if guid is None and name is not None and comp.name == name:
                return comp
        return None

    def _taxonomy_is_cwe(self, run: _Run, ref: Any) -> dict[str, Any] | None | bool:
        """For a toolComponentReference in taxonomy context: the taxonomy object if it is CWE,
        True if it names CWE but cannot be resolved, else None."""
        if not isinstance(ref, dict):
            return None
        idx = _index(ref.get("index"))
        taxonomy: dict[str, Any] | None = None
        if idx is not None and idx < len(run.taxonomies):
            taxonomy = run.taxonomies[idx]
        else:
            guid = _str(ref.get("guid"))
            name = _str(ref.get("name"))
            for t in run.taxonomies:
                tg = _str(t.get("guid"))
                if guid is not None and tg is not None and tg.lower() == guid.lower():
                    taxonomy = t
                    break
                if guid is None and name is not None and t.get("name") == name:
                    taxonomy = t
                    break
        name = _str(taxonomy.get("name")) if taxonomy is not None else _str(ref.get("name"))
        if name is None or not name.strip().upper().startswith("CWE"):
            return None
        return taxonomy if taxonomy is not None else True

    def _cwes_from_refs(self, run: _Run, refs: Iterable[Any], out: set[str]) -> None:
        """CWEs named by reportingDescriptorReferences into a CWE taxonomy (rule relationships'
        targets, result.taxa): by `id` ("79" or "CWE-79") or by `index` into the taxonomy's taxa.
        References that resolve to nothing only add nothing."""
        for ref in refs:
            if not isinstance(ref, dict):
                continue
            taxonomy = self._taxonomy_is_cwe(run, ref.get("toolComponent"))
            if taxonomy is None:
                continue
            tid = _str(ref.get("id"))
            if tid is None and isinstance(taxonomy, dict):
                idx = _index(ref.get("index"))
                taxa = taxonomy.get("taxa")
                if idx is not None and isinstance(taxa, list) and idx < len(taxa) and isinstance(taxa[idx], dict):
                    tid = _str(taxa[idx].get("id"))
            if tid is not None:
                _cwes_from_text(tid, out)

    # -- rules --------------------------------------------------------------------------------

    def _rule(self, run: _Run, comp: _Component | None, pos: int | None, rule_id: str | None) -> _Rule:
        key = (comp.key if comp is not None else -2, pos, rule_id)
        cached = run.rules.get(key)
        if cached is not None:
            return cached
        rule: dict[str, Any] = comp.rules[pos] if comp is not None and pos is not None else {}
        rpath = f"{comp.path}.rules[{pos}]" if comp is not None and pos is not None else run.path
        own_id = _str(rule.get("id"))
        shown_id = rule_id if rule_id is not None else own_id if own_id is not None else NO_RULE_ID
        facts = _Facts()
        props = self._obj(rule.get("properties"), f"{rpath}.properties")
        if props:
            try:
                _props_facts(props, facts)
            except _OutOfSpec as exc:
                raise self._out_of_spec(f"{rpath}.properties.{exc.key}", exc.problem) from None
        short = _text_of(rule.get("shortDescription"))
        full = _text_of(rule.get("fullDescription"))
        name = _str(rule.get("name"))
        if name:
            facts.words.update(_words(name))
        id_words: set[str] = set()
        for rid in (rule_id, own_id):
            if rid is not None:
                id_words |= _words(rid)
                _vuln_ids(rid, facts.ids)
        if name:
            _vuln_ids(name, facts.ids)
        deprecated = rule.get("deprecatedIds")  # osv-scanner lists a vulnerability's aliases here
        if isinstance(deprecated, list):
            for d in deprecated:
                if isinstance(d, str):
                    _vuln_ids(d, facts.ids)
        relationships = self._arr(rule.get("relationships"), f"{rpath}.relationships") or []
        self._cwes_from_refs(run, (rel.get("target") for rel in relationships if isinstance(rel, dict)), facts.cwe)
        kind = _classify(
            facts.words,
            id_words,
            bool(facts.ids),
            facts.purl is not None or facts.pkg_name is not None,
            security=bool(facts.cwe) or facts.score is not None,
        )
        help_facts = _Facts()
        if kind == "dependency":
            # Vulnerability ids in descriptions count only for dependency findings: a SAST rule's
            # description may cite a CVE it is merely similar to.
            for text in (short, full):
                if text:
                    _vuln_ids(text, facts.ids)
            help_text = _text_of(rule.get("help"))
            if help_text:
                _facts_from_key_lines(help_text, help_facts)
        level = None
        for rid in (own_id, rule_id):
            if rid is not None and rid in run.overrides:
                level = run.overrides[rid]
                break
        if level is None:
            for rid in (own_id, rule_id):
                if rid is not None and rid in run.policy_levels:
                    level = run.policy_levels[rid]
                    break
        if level is None:
            conf = rule.get("defaultConfiguration")
            if isinstance(conf, dict) and "level" in conf:
                level = self._level(conf["level"], f"{rpath}.defaultConfiguration.level")
        cve = tuple(sorted(i for i in facts.ids if i.startswith("CVE-")))
        aliases = tuple(sorted(i for i in facts.ids if not i.startswith("CVE-")))
        messages = rule.get("messageStrings")
        info = _Rule(
            rule_id=shown_id,
            name=name or short,
            description=full,
            help_uri=_str(rule.get("helpUri")),
            level=level if level is not None else "warning",
            messages=messages if isinstance(messages, dict) else {},
            component_messages=comp.messages if comp is not None else {},
            facts=facts,
            id_words=id_words,
            kind=kind,
            package=_rule_package(facts, help_facts) if kind == "dependency" else None,
            cve=cve,
            aliases=aliases,
            help_facts=help_facts,
            cwe=tuple(sorted(facts.cwe, key=_cwe_order)),
            severity=severity_from_score(facts.score) if facts.score is not None else None,
            confidence=facts.confidence or "unknown",
        )
        run.rules[key] = info
        return info

    def _resolve_rule(self, run: _Run, result: dict[str, Any], j: int) -> _Rule:
        """The rule a result refers to: by `ruleId` / `rule.id` first, then by `ruleIndex` /
        `rule.index`, in the component `rule.toolComponent` names (the driver by default)."""
        rule_id = result.get("ruleId")
        if not isinstance(rule_id, str):
            rule_id = None
        index = result.get("ruleIndex")
        if type(index) is not int or index < 0:
            index = None
        ref = result.get("rule")
        if ref is None:
            hit = run.fast.get((rule_id, index))
            if hit is None:
                hit = self._lookup_rule(run, run.driver, rule_id, index)
                run.fast[(rule_id, index)] = hit
        else:
            if not isinstance(ref, dict):
                raise self._bad(run, j, ".rule", "an object", ref)
            if rule_id is None:
                rule_id = _str(ref.get("id"))
            if index is None:
                index = _index(ref.get("index"))
            comp = self._tool_component(run, ref.get("toolComponent"))
            hit = (self._rule(run, None, None, rule_id), True) if comp is None else self._lookup_rule(run, comp, rule_id, index)
        if hit[1]:
            self._count("unresolved:rule")
        return hit[0]

    def _lookup_rule(self, run: _Run, comp: _Component, rule_id: str | None, index: int | None) -> tuple[_Rule, bool]:
        pos: int | None = None
        broken = False
        if rule_id is not None:
            pos = comp.by_id.get(rule_id)
            if pos is None and "/" in rule_id:
                # A hierarchical id "C2001/sub" names a sub-rule of rule "C2001" (SARIF 3.52.4).
                head = rule_id
                while pos is None and "/" in head:
                    head = head.rsplit("/", 1)[0]
                    pos = comp.by_id.get(head)
        if pos is None and index is not None:
            if index < len(comp.rules):
                pos = index
            else:
                broken = True
        return self._rule(run, comp, pos, rule_id), broken

    # -- a result -----------------------------------------------------------------------------

    def _bad(self, run: _Run, j: int, suffix: str, expected: str, value: Any) -> InputError:
        return _type_error(self.source, f"{run.path}.results[{j}]{suffix}", expected, value)

    def _result(self, run: _Run, result: Any, j: int, position: int) -> Finding | None:
        # The hot loop (a report may hold 10^5 results): type checks are inlined and the JSON
        # path of an error is only built when there is one.
        if not isinstance(result, dict):
            raise self._bad(run, j, "", "an object (a SARIF result)", result)
        kind = result.get("kind")
        if kind is not None and kind != "fail":
            if isinstance(kind, str) and kind in _OTHER_KINDS:
                self._count(f"kind:{kind}")
                return None
            raise InputError(
                f"{run.path}.results[{j}].kind is {json.dumps(kind)[:60]}, which is not a SARIF result kind "
                "(fail, pass, open, review, notApplicable, informational)",
                file=self.source,
            )
        rule = self._resolve_rule(run, result, j)
        props = result.get("properties")
        if props is not None and not isinstance(props, dict):
            raise self._bad(run, j, ".properties", "an object", props)
        taxa = result.get("taxa")
        if taxa is not None and not isinstance(taxa, list):
            raise self._bad(run, j, ".taxa", "an array", taxa)

        kind_out = rule.kind
        package = rule.package
        cve, aliases, cwe = rule.cve, rule.aliases, rule.cwe
        severity = rule.severity
        confidence = rule.confidence
        result_facts: _Facts | None = None
        if props or taxa:
            facts = rule.facts
            merged = _Facts(words=set(facts.words), cwe=set(facts.cwe), ids=set(facts.ids))
            if props:
                try:
                    _props_facts(props, merged)
                except _OutOfSpec as exc:
                    raise self._out_of_spec(f"{run.path}.results[{j}].properties.{exc.key}", exc.problem) from None
            if taxa:
                self._cwes_from_refs(run, taxa, merged.cwe)
            cwe = tuple(sorted(merged.cwe, key=_cwe_order))
            if merged.ids != facts.ids:
                cve = tuple(sorted(i for i in merged.ids if i.startswith("CVE-")))
                aliases = tuple(sorted(i for i in merged.ids if not i.startswith("CVE-")))
            has_pkg = merged.purl is not None or merged.pkg_name is not None or package is not None
            kind_out = _classify(
                merged.words, rule.id_words, bool(merged.ids), has_pkg, security=bool(merged.cwe) or merged.score is not None
            )
            if merged.score is not None:
                severity = severity_from_score(merged.score)
            confidence = merged.confidence or confidence
            result_facts = merged
        level = result.get("level")
        if level is not None and (type(level) is not str or level not in _LEVEL_SEVERITY):
            raise self._bad_level(f"{run.path}.results[{j}].level", level)
        if severity is None:
            if level is None:
                level = rule.level
            severity = _LEVEL_SEVERITY[level] if level is not None else "medium"  # the spec's default: warning

        msg = result.get("message")
        if isinstance(msg, dict):
            text = msg.get("text")
            message = text if isinstance(text, str) and not msg.get("arguments") else self._message(msg, rule)
        elif msg is None:
            message = ""
        else:
            raise self._bad(run, j, ".message", "an object", msg)

        location, snippet = self._location(run, result, j)

        if kind_out == "dependency":
            # Most specific first: the result's properties, the result's message ("Package: x"
            # lines: one trivy rule covers every package with that CVE), then the rule's
            # properties and help text.
            pkg = _Facts(words=_NO_WORDS, cwe=_NO_WORDS, ids=_NO_WORDS)
            if result_facts is not None:
                _fill_package(pkg, result_facts)
            if ":" in message:
                _facts_from_key_lines(message, pkg)
            if pkg.purl or pkg.pkg_name or pkg.pkg_version or pkg.fixed:
                _fill_package(pkg, rule.facts)
                _fill_package(pkg, rule.help_facts)
                package = _package(pkg)

        suppressed = False
        suppressions: tuple[str, ...] = ()
        raw_sup = result.get("suppressions")
        if raw_sup:
            suppressed, suppressions = self._suppressions(run, j, raw_sup)
        elif raw_sup is not None and not isinstance(raw_sup, list):
            raise self._bad(run, j, ".suppressions", "an array", raw_sup)

        hint: str | None = None
        for key in ("fingerprints", "partialFingerprints"):
            fps = result.get(key)
            if fps is None:
                continue
            if not isinstance(fps, dict):
                raise self._bad(run, j, f".{key}", "an object", fps)
            if fps:
                # Placeholders are not fingerprints: semgrep OSS writes "requires login" for all.
                hint = (
                    ";".join(
                        [
                            f"{k}={v}"
                            for k, v in sorted(fps.items())
                            if isinstance(v, str) and v.strip().lower() not in _FINGERPRINT_PLACEHOLDERS
                        ]
                    )
                    or None
                )
                if hint:
                    break

        return Finding(
            tool=run.tool,
            rule_id=rule.rule_id,
            severity=severity,
            message=message,
            index=position,
            kind=kind_out,
            tool_version=run.version,
            rule_name=rule.name,
            confidence=confidence,
            location=location,
            cwe=cwe,
            cve=cve,
            aliases=aliases,
            package=package,
            suppressed=suppressed,
            suppressions=suppressions,
            fingerprint_hint=hint,
            snippet=snippet,
            help_uri=rule.help_uri,
            description=rule.description,
        )

    def _suppressions(self, run: _Run, j: int, raw: Any) -> tuple[bool, tuple[str, ...]]:
        """(suppressed, descriptions): suppressed when any suppression is accepted; one without
        `status` counts as accepted (SARIF 3.35.3). Under review and rejected ones do not."""
        if not isinstance(raw, list):
            raise self._bad(run, j, ".suppressions", "an array", raw)
        suppressed = False
        entries: list[str] = []
        for n, sup in enumerate(raw):
            if not isinstance(sup, dict):
                raise self._bad(run, j, f".suppressions[{n}]", "an object", sup)
            suppressed = suppressed or "status" not in sup or sup["status"] == "accepted"
            entry = f"{as_text(sup.get('kind')) or 'unspecified'}:{as_text(sup.get('status')) or 'accepted'}"
            justification = _str(sup.get("justification"))
            if justification:
                entry += f": {justification}"
            entries.append(entry)
        if suppressed:
            self._count("suppressed")
        return suppressed, tuple(entries)

    def _message(self, msg: dict[str, Any], rule: _Rule) -> str:
        """message.text, else the message string `message.id` names (rule, then component), else
        markdown; `{n}` placeholders filled from `arguments` ("{{" and "}}" are literal braces)."""
        text = _str(msg.get("text"))
        if text is None:
            mid = _str(msg.get("id"))
            if mid is not None:
                found = rule.messages.get(mid) or rule.component_messages.get(mid)
                text = _text_of(found)
                if text is None and isinstance(found, dict):
                    text = _str(found.get("markdown"))
            if text is None:
                text = _str(msg.get("markdown"))
        if text is None:
            return ""
        args = msg.get("arguments")
        if isinstance(args, list) and args and "{" in text:
            values = [a if isinstance(a, str) else (as_text(a) or "") for a in args]

            def fill(m: re.Match[str]) -> str:
                if m.group(1) is None:
                    return m.group(0)[0]
                n = int(m.group(1))
                return values[n] if n < len(values) else m.group(0)

            text = _PLACEHOLDER.sub(fill, text)
        return text

    def _location(self, run: _Run, result: dict[str, Any], j: int) -> tuple[Location | None, str | None]:
        """The first physical location: its URI as text (never resolved) and its region."""
        locations = result.get("locations")
        if not isinstance(locations, list):
            if locations is None:
                return None, None
            raise self._bad(run, j, ".locations", "an array", locations)
        if not locations:
            return None, None
        for n, loc in enumerate(locations):
            if not isinstance(loc, dict):
                raise self._bad(run, j, f".locations[{n}]", "an object", loc)
            phys = loc.get("physicalLocation")
            if phys is None:
                continue
            if not isinstance(phys, dict):
                raise self._bad(run, j, f".locations[{n}].physicalLocation", "an object", phys)
            uri: str | None = None
            art = phys.get("artifactLocation")
            if art is not None:
                if not isinstance(art, dict):
                    raise self._bad(run, j, f".locations[{n}].physicalLocation.artifactLocation", "an object", art)
                uri = art.get("uri")
                if not isinstance(uri, str):
                    # URIs are kept verbatim: `../`, absolute and `file://` URIs are text, never resolved.
                    uri = self._artifact_uri(run, art.get("index"))
            region = phys.get("region")
            if region is None:
                return Location(path=uri), None
            if not isinstance(region, dict):
                raise self._bad(run, j, f".locations[{n}].physicalLocation.region", "an object", region)
            # SARIF lines and columns are integers from 1 (the schema's minimum); anything else
            # refuses the report, naming where. Huge integers are kept as they are.
            start = region.get("startLine")
            end = region.get("endLine")
            scol = region.get("startColumn")
            ecol = region.get("endColumn")
            if (
                (start is not None and (type(start) is not int or start < 1))
                or (end is not None and (type(end) is not int or end < 1))
                or (scol is not None and (type(scol) is not int or scol < 1))
                or (ecol is not None and (type(ecol) is not int or ecol < 1))
            ):
                self._bad_region(run, j, n, region)
            if end is None:
                end = start  # SARIF 3.30.7: endLine defaults to startLine
            snip = region.get("snippet")
            snippet = snip.get("text") if isinstance(snip, dict) else None
            return (
                Location(path=uri, start_line=start, end_line=end, start_column=scol, end_column=ecol),
                snippet if isinstance(snippet, str) else None,
            )
        # Only logical locations (a function, a package, a web address): no file to point at.
        return Location(path=None), None

    def _bad_region(self, run: _Run, j: int, n: int, region: dict[str, Any]) -> None:
        """Raise for the first line or column of `region` that is not an integer from 1."""
        for key in ("startLine", "endLine", "startColumn", "endColumn"):
            value = region.get(key)
            if value is not None and (type(value) is not int or value < 1):
                raise self._out_of_spec(
                    f"{run.path}.results[{j}].locations[{n}].physicalLocation.region.{key}",
                    f"is {json.dumps(value)[:40]}; SARIF numbers lines and columns with integers from 1",
                )

    def _artifact_uri(self, run: _Run, index: Any) -> str | None:
        """The URI of the run artifact `artifactLocation.index` names (no index: None)."""
        idx = _index(index)
        if idx is None:
            return None
        if idx >= len(run.artifacts):
            self._count("unresolved:artifact")
            return None
        artifact = run.artifacts[idx]
        if not isinstance(artifact, dict):
            raise _type_error(self.source, f"{run.path}.artifacts[{idx}]", "an object", artifact)
        location = artifact.get("location")
        uri = location.get("uri") if isinstance(location, dict) else None
        return uri if isinstance(uri, str) else None


def _rule_package(props: _Facts, help_facts: _Facts) -> Package | None:
    facts = _Facts()
    _fill_package(facts, props)
    _fill_package(facts, help_facts)
    return _package(facts)


def _cwe_order(cwe: str) -> int:
    return int(cwe[4:])
