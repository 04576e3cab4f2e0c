"""The walk over a SARIF 2.1.0 log: version, runs, invocations, results, messages, locations.

Containers the reader walks must have their JSON type when present; a wrong type is an
`InputError` naming the JSON path (`runs[0].results must be an array`), and a value the spec
defines outside what it allows names its JSON pointer too (`pointer.py`). What a result's rule
says comes from `rules.py`, what the result is (kind, severity, suppression) from `classify.py`.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from gate.errors import InputError
from gate.model import Finding, Location, Package, ReadResult, as_text
from scanners.sarif.classify import (
    LEVEL_SEVERITY,
    Traits,
    bad_level,
    counted_other_kind,
    hidden_suppressions,
    result_traits,
    suppressions,
)
from scanners.sarif.facts import NO_WORDS, Facts, facts_from_key_lines, fill_package, package_from, props_facts
from scanners.sarif.pointer import OutOfSpec, Walk, as_index, as_int, as_str, json_type, text_of
from scanners.sarif.rules import Rule, Run, component, cwes_from_refs, overrides, policy_levels, resolve_rule

SUPPORTED_VERSION: Final = "2.1.0"

_PLAIN_VERSION: Final = re.compile(r"[\w.+-]{1,60}")
_PLACEHOLDER: Final = re.compile(r"\{(\d{1,9})\}|\{\{|\}\}")
MAX_TEXT: Final = 1 << 28
"""The most characters of text (message, rule name, help URI and description: each copied into
every finding, the input document and the verdict) the findings of one log may carry: 256 Mi.
A result that names a rule's 1 MB message string by id is 40 bytes of log; 10^4 of them asked for
10 GB. Real logs carry a few hundred characters per finding (10^5 findings: tens of MB)."""
MAX_FILL: Final = 1 << 16
"""How many characters filling a message's `{n}` placeholders may add to it: real messages are a
few hundred characters; a template of 20,000 `{0}`s with a 15 KB argument (60 KB of file) asked
for 300 MB of text. Beyond it the message is cut, ending in "…"."""
_FINGERPRINT_PLACEHOLDERS: Final = frozenset({"requires login", "", "none", "null", "n/a"})
_REGION_KEYS: Final = ("startLine", "endLine", "startColumn", "endColumn")


class LogReader:
    """One `read` call over one log."""

    def __init__(self, source: str) -> None:
        self.walk = Walk(source)
        self.source = source
        self.text_room = MAX_TEXT
        """Characters of finding text (message, rule name, help URI, description) still allowed."""

    # -- the log ------------------------------------------------------------------------------

    def read(self, doc: Any) -> ReadResult:
        """Every result of kind `fail` (or no kind) of every run of `doc`, as a finding."""
        runs = self._runs(doc)
        stats = self.walk.stats
        findings: list[Finding] = []
        errors: list[str] = []
        complete = True
        tools: list[str] = []
        first_version: str | None = None
        position = 0
        hidden = 0
        stats["runs"] = len(runs)
        stats["results"] = 0
        for i, raw_run in enumerate(runs):
            run = self._run(raw_run, i)
            tools.append(run.tool)
            if i == 0:
                first_version = run.version
            hidden += hidden_suppressions(self.walk, raw_run, run.path)
            ok, run_errors = self._invocations(raw_run, run)
            complete = complete and ok
            errors.extend(run_errors)
            results = self.walk.arr(raw_run.get("results"), f"{run.path}.results")
            if results is None:
                self.walk.count("runs-without-results")
                continue
            stats["results"] += len(results)
            for j, result in enumerate(results):
                finding = self._result(run, result, j, position)
                position += 1
                if finding is not None:
                    findings.append(finding)
        stats["findings"] = len(findings)
        return ReadResult(
            format="sarif",
            tool=", ".join(sorted(set(tools), key=lambda t: (t.casefold(), t))) if tools else "(no runs)",
            tool_version=first_version,
            findings=tuple(findings),
            complete=complete,
            errors=tuple(dict.fromkeys(errors)),
            statistics=dict(stats),
            spec_version=SUPPORTED_VERSION,
            hidden_suppressions=hidden,
        )

    def _runs(self, doc: Any) -> list[Any]:
        """The log's `runs`, once its type and version are checked: only SARIF 2.1.0 is read."""
        if not isinstance(doc, dict):
            raise InputError(f"a SARIF log must be a JSON object, not {json_type(doc)}", file=self.source)
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
        return self.walk.arr(doc.get("runs"), "runs") or []

    # -- a run --------------------------------------------------------------------------------

    def _run(self, raw: Any, i: int) -> Run:
        walk = self.walk
        path = f"runs[{i}]"
        run = walk.obj(raw, path)
        if run is None:
            raise InputError(f"{path} must be an object (a SARIF run)", file=self.source)
        tool = walk.obj(run.get("tool"), f"{path}.tool")
        if tool is None:
            raise InputError(f"{path}.tool is required (the tool that produced the run)", file=self.source)
        if tool.get("driver") is None:
            raise InputError(f"{path}.tool.driver is required (the tool's main component)", file=self.source)
        driver = component(walk, tool.get("driver"), -1, f"{path}.tool.driver")
        if driver.name is None:
            raise InputError(f"{path}.tool.driver.name must be a string (the tool's name)", file=self.source)
        raw_driver = tool["driver"]
        version = as_text(raw_driver.get("version")) or as_text(raw_driver.get("semanticVersion"))
        exts = walk.arr(tool.get("extensions"), f"{path}.tool.extensions") or []
        extensions = [component(walk, e, k, f"{path}.tool.extensions[{k}]") for k, e in enumerate(exts)]
        artifacts = walk.arr(run.get("artifacts"), f"{path}.artifacts") or []
        taxonomies = walk.arr(run.get("taxonomies"), f"{path}.taxonomies") or []
        for k, t in enumerate(taxonomies):
            walk.obj(t, f"{path}.taxonomies[{k}]")
        r = Run(
            path=path,
            tool=driver.name,
            version=version,
            driver=driver,
            extensions=extensions,
            artifacts=artifacts,
            taxonomies=[t for t in taxonomies if isinstance(t, dict)],
            overrides={},
            policy_levels=policy_levels(walk, run, path),
        )
        r.overrides = overrides(walk, run, r)
        return r

    def _invocations(self, raw_run: dict[str, Any], run: Run) -> tuple[bool, list[str]]:
        """(complete, errors): `executionSuccessful: false` makes the scan incomplete; error-level
        notifications are reported as errors either way (lower levels are not)."""
        ok = True
        errors: list[str] = []
        invocations = self.walk.arr(raw_run.get("invocations"), f"{run.path}.invocations") or []
        for k, inv in enumerate(invocations):
            ipath = f"{run.path}.invocations[{k}]"
            if not isinstance(inv, dict):
                raise self.walk.type_error(ipath, "an object", inv)
            success = inv.get("executionSuccessful")
            if success is not None and type(success) is not bool:
                raise self.walk.out_of_spec(f"{ipath}.executionSuccessful", f"must be a boolean (true or false), not {json_type(success)}")
            if success is False:
                ok = False
                text = f"{run.tool}: the tool reported executionSuccessful: false ({ipath})"
                exit_code = as_int(inv.get("exitCode"))
                if exit_code is not None:
                    text += f", exit code {exit_code}"
                failure = as_str(inv.get("processStartFailureMessage"))
                if failure:
                    text += f": {failure}"
                errors.append(text)
            errors.extend(self._error_notifications(inv, ipath, run.tool))
        return ok, errors

    def _error_notifications(self, inv: dict[str, Any], ipath: str, tool: str) -> list[str]:
        """The error-level execution and configuration notifications of an invocation, as text."""
        errors: list[str] = []
        for key in ("toolExecutionNotifications", "toolConfigurationNotifications"):
            notes = self.walk.arr(inv.get(key), f"{ipath}.{key}") or []
            for n, note in enumerate(notes):
                if not isinstance(note, dict):
                    raise self.walk.type_error(f"{ipath}.{key}[{n}]", "an object", note)
                if note.get("level", "warning") != "error":  # the spec's default level is "warning"
                    continue
                text = text_of(note.get("message")) or ""
                desc = note.get("descriptor")
                did = as_str(desc.get("id")) if isinstance(desc, dict) else None
                if not text:
                    text = f"error notification {did}" if did else "error notification without a message"
                errors.append(f"{tool}: {text}")
        return errors

    # -- a result -----------------------------------------------------------------------------

    def _bad(self, run: Run, j: int, suffix: str, expected: str, value: Any) -> InputError:
        return self.walk.type_error(f"{run.path}.results[{j}]{suffix}", expected, value)

    def _result(self, run: Run, result: Any, j: int, position: int) -> Finding | None:
        # The hot loop (a report may hold 10^5 results): type checks are inlined and the JSON
        # path of an error is only built when there is one.
        if not isinstance(result, dict):
            raise self._bad(run, j, "", "an object (a SARIF result)", result)
        kind = result.get("kind")
        if kind is not None and kind != "fail":
            counted_other_kind(self.walk, kind, f"{run.path}.results[{j}].kind")
            return None
        rule = resolve_rule(self.walk, run, result, j)
        props = result.get("properties")
        if props is not None and not isinstance(props, dict):
            raise self._bad(run, j, ".properties", "an object", props)
        taxa = result.get("taxa")
        if taxa is not None and not isinstance(taxa, list):
            raise self._bad(run, j, ".taxa", "an array", taxa)
        traits: Traits = rule.traits
        own: Facts | None = None
        if props or taxa:
            own = self._own_facts(run, rule, props, taxa, j)
            traits = result_traits(traits, rule.facts.ids, rule.id_words, rule.package is not None, own)
        level = result.get("level")
        if level is not None and (type(level) is not str or level not in LEVEL_SEVERITY):
            raise bad_level(self.walk, f"{run.path}.results[{j}].level", level)
        msg = result.get("message")
        if isinstance(msg, dict):
            text = msg.get("text")
            message = text if isinstance(text, str) and not msg.get("arguments") else _message(msg, rule)
        elif msg is None:
            message = ""
        else:
            raise self._bad(run, j, ".message", "an object", msg)
        self.text_room -= len(message) + len(rule.name or "") + len(rule.help_uri or "") + len(rule.description or "")
        if self.text_room < 0:
            raise self.walk.out_of_spec(
                f"{run.path}.results[{j}]",
                f"brings the text of this log's findings over {MAX_TEXT:,} characters (a rule's message string, name,"
                " help or description written again for every result: a few MB of log would take gigabytes)",
            )
        location, snippet = self._location(run, result, j)
        raw_sup = result.get("suppressions")
        suppressed, sups = (False, ()) if raw_sup is None else self._suppressions(run, j, raw_sup)
        return Finding(
            tool=run.tool,
            rule_id=rule.rule_id,
            # security-severity, else the result's level, else the rule's configured one (classify.py)
            severity=traits.severity if traits.severity is not None else LEVEL_SEVERITY[rule.level if level is None else level],
            message=message,
            index=position,
            kind=traits.kind,
            tool_version=run.version,
            rule_name=rule.name,
            confidence=traits.confidence,
            location=location,
            cwe=traits.cwe,
            cve=traits.cve,
            aliases=traits.aliases,
            package=_package(rule, own, message) if traits.kind == "dependency" else rule.package,
            suppressed=suppressed,
            suppressions=sups,
            fingerprint_hint=self._fingerprint_hint(run, result, j),
            snippet=snippet,
            help_uri=rule.help_uri,
            description=rule.description,
        )

    def _own_facts(self, run: Run, rule: Rule, props: dict[str, Any] | None, taxa: list[Any] | None, j: int) -> Facts:
        """The rule's words, CWEs and vulnerability ids with what the result's own properties
        and taxa add (its score and confidence are the result's alone)."""
        facts = rule.facts
        merged = Facts(words=set(facts.words), cwe=set(facts.cwe), ids=set(facts.ids))
        if props:
            try:
                props_facts(props, merged)
            except OutOfSpec as exc:
                raise self.walk.out_of_spec(f"{run.path}.results[{j}].properties.{exc.key}", exc.problem) from None
        if taxa:
            cwes_from_refs(run, taxa, merged.cwe)
        return merged

    def _fingerprint_hint(self, run: Run, result: dict[str, Any], j: int) -> str | None:
        """`fingerprints`, else `partialFingerprints`, as sorted `key=value` pairs; placeholders
        are not fingerprints (semgrep OSS writes "requires login" for all)."""
        hint: str | None = None
        for key in ("fingerprints", "partialFingerprints"):
            fps = result.get(key)
            if fps is None:
                continue
            if not isinstance(fps, dict):
                raise self._bad(run, j, f".{key}", "an object", fps)
            if fps:
                pairs = [
                    f"{k}={v}" for k, v in sorted(fps.items()) if isinstance(v, str) and v.strip().lower() not in _FINGERPRINT_PLACEHOLDERS
                ]
                hint = ";".join(pairs) or None
                if hint:
                    break
        return hint

    def _suppressions(self, run: Run, j: int, raw: Any) -> tuple[bool, tuple[str, ...]]:
        """A result's `suppressions` (`classify.suppressions`); an empty array is none."""
        if raw:
            return suppressions(self.walk, f"{run.path}.results[{j}].suppressions", raw)
        if not isinstance(raw, list):
            raise self._bad(run, j, ".suppressions", "an array", raw)
        return False, ()

    def _location(self, run: Run, result: dict[str, Any], j: int) -> tuple[Location | None, str | None]:
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
            return self._physical(run, j, n, phys)
        # Only logical locations (a function, a package, a web address): no file to point at.
        return Location(path=None), None

    def _physical(self, run: Run, j: int, n: int, phys: dict[str, Any]) -> tuple[Location, str | None]:
        """A physicalLocation: its artifact's URI (kept verbatim: `../`, absolute and `file://`
        URIs are text, never resolved), its region's lines and columns, and its snippet."""
        uri: str | None = None
        art = phys.get("artifactLocation")
        if art is not None:
            if not isinstance(art, dict):
                raise self._bad(run, j, f".locations[{n}].physicalLocation.artifactLocation", "an object", art)
            uri = art.get("uri")
            if not isinstance(uri, str):
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

    def _bad_region(self, run: Run, j: int, n: int, region: dict[str, Any]) -> None:
        """Raise for the first line or column of `region` that is not an integer from 1."""
        for key in _REGION_KEYS:
            value = region.get(key)
            if value is not None and (type(value) is not int or value < 1):
                raise self.walk.out_of_spec(
                    f"{run.path}.results[{j}].locations[{n}].physicalLocation.region.{key}",
                    f"is {json.dumps(value)[:40]}; SARIF numbers lines and columns with integers from 1",
                )

    def _artifact_uri(self, run: Run, index: Any) -> str | None:
        """The URI of the run artifact `artifactLocation.index` names (no index: None)."""
        idx = as_index(index)
        if idx is None:
            return None
        if idx >= len(run.artifacts):
            self.walk.count("unresolved:artifact")
            return None
        artifact = run.artifacts[idx]
        if not isinstance(artifact, dict):
            raise self.walk.type_error(f"{run.path}.artifacts[{idx}]", "an object", artifact)
        location = artifact.get("location")
        uri = location.get("uri") if isinstance(location, dict) else None
        return uri if isinstance(uri, str) else None


def _message(msg: dict[str, Any], rule: Rule) -> str:
    """message.text, else the message string `message.id` names (rule, then component), else
    markdown; `{n}` placeholders filled from `arguments` ("{{" and "}}" are literal braces)."""
    text = as_str(msg.get("text"))
    if text is None:
        mid = as_str(msg.get("id"))
        if mid is not None:
            found = rule.messages.get(mid) or rule.component_messages.get(mid)
            text = text_of(found)
            if text is None and isinstance(found, dict):
                text = as_str(found.get("markdown"))
        if text is None:
            text = as_str(msg.get("markdown"))
    if text is None:
        return ""
    args = msg.get("arguments")
    if isinstance(args, list) and args and "{" in text:
        values = [a if isinstance(a, str) else (as_text(a) or "") for a in args]
        parts: list[str] = []
        size, at, limit = 0, 0, len(text) + MAX_FILL
        for m in _PLACEHOLDER.finditer(text):
            if m.group(1) is None:
                value = m.group(0)[0]
            else:
                n = int(m.group(1))
                value = values[n] if n < len(values) else m.group(0)
            piece = text[at : m.start()]
            parts += (piece, value)
            size += len(piece) + len(value)
            at = m.end()
            if size > limit:
                return "".join(parts)[:limit] + "…"
        parts.append(text[at:])
        text = "".join(parts)
    return text


def _package(rule: Rule, own: Facts | None, message: str) -> Package | None:
    """A dependency finding's package, most specific first: the result's properties, the
    result's message ("Package: x" lines: one trivy rule covers every package with that CVE),
    then the rule's properties and help text. The rule's package when the result names none."""
    pkg = Facts(words=NO_WORDS, cwe=NO_WORDS, ids=NO_WORDS)
    if own is not None:
        fill_package(pkg, own)
    if ":" in message:
        facts_from_key_lines(message, pkg)
    if pkg.purl or pkg.pkg_name or pkg.pkg_version or pkg.fixed:
        fill_package(pkg, rule.facts)
        fill_package(pkg, rule.help_facts)
        return package_from(pkg)
    return rule.package
