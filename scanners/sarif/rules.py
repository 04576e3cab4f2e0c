"""A SARIF run's rules: tool components, rule lookup, taxonomies, configured levels.

Everything a result inherits from its rule is computed once per (component, rule, ruleId) and
kept in the run (`Rule`): name, descriptions, help, message strings, level, and what the rule's
properties, tags, relationships and help text say (`facts.py`, `classify.py`).

References that point nowhere (a `ruleIndex` or `artifactLocation.index` past the end of its
array, a `toolComponent` that does not exist) do not refuse the report: real tools write them
(anchore and gosec emit wrong `ruleIndex` values, some trivy templates a `ruleIndex` with no
`rules`). The finding keeps its `ruleId`, the rule metadata is left out, and the statistics count
it under `unresolved:rule`. When both `ruleId` and `ruleIndex` are given, the rule is looked up by
id first for the same reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from gate.errors import InputError
from gate.model import Package, severity_from_score
from scanners.sarif.classify import Traits, check_level, classify, cves_and_aliases
from scanners.sarif.facts import (
    Facts,
    cwe_order,
    cwes_from_text,
    facts_from_key_lines,
    props_facts,
    rule_package,
    vuln_ids,
    words_of,
)
from scanners.sarif.pointer import OutOfSpec, Walk, as_index, as_str, text_of

NO_RULE_ID: Final = "(no rule id)"
"""The rule id of a result that names no rule at all (no ruleId, no rule reference)."""


@dataclass(slots=True)
class Component:
    """A toolComponent (the driver or an extension) with its rules indexed by id."""

    key: int  # -1 for the driver, else the index in tool.extensions
    path: str
    name: str | None
    guid: str | None
    rules: list[dict[str, Any]]
    by_id: dict[str, int]
    messages: dict[str, Any]


@dataclass(slots=True)
class Rule:
    """Everything a result inherits from its rule, computed once per (rule, ruleId)."""

    rule_id: str
    name: str | None
    description: str | None
    help_uri: str | None
    level: str
    messages: dict[str, Any]
    component_messages: dict[str, Any]
    facts: Facts
    id_words: set[str]
    package: Package | None
    help_facts: Facts
    traits: Traits


@dataclass(slots=True)
class Run:
    """A run's tool, components and lookup tables, built once before its results are read."""

    path: str
    tool: str
    version: str | None
    driver: Component
    extensions: list[Component]
    artifacts: list[Any]
    taxonomies: list[dict[str, Any]]
    overrides: dict[str, str]
    policy_levels: dict[str, str]
    rules: dict[tuple[int, int | None, str | None], Rule] = field(default_factory=dict)
    # (ruleId, ruleIndex) -> (rule, whether the reference was broken), for rules of the driver
    fast: dict[tuple[str | None, int | None], tuple[Rule, bool]] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Tool components


def component(walk: Walk, raw: Any, key: int, path: str) -> Component:
    """A toolComponent at `path` (the driver, an extension or a policy), its rules indexed by id."""
    comp = walk.obj(raw, path)
    if comp is None:
        raise InputError(f"{path} must be an object (a SARIF toolComponent)", file=walk.source)
    rules = walk.arr(comp.get("rules"), f"{path}.rules") or []
    by_id: dict[str, int] = {}
    for n, rule in enumerate(rules):
        if not isinstance(rule, dict):
            raise walk.type_error(f"{path}.rules[{n}]", "an object", rule)
        rid = rule.get("id")
        if isinstance(rid, str):
            by_id.setdefault(rid, n)
    messages = walk.obj(comp.get("globalMessageStrings"), f"{path}.globalMessageStrings") or {}
    return Component(key, path, as_str(comp.get("name")), as_str(comp.get("guid")), rules, by_id, messages)


def tool_component(run: Run, ref: Any) -> Component | None:
    """The component a toolComponentReference names in rule context (driver or extension).

    No reference means the driver; a reference that matches nothing gives None.
    """
    if ref is None:
        return run.driver
    if not isinstance(ref, dict):
        return None
    idx = as_index(ref.get("index"))
    if idx is not None:
        return run.extensions[idx] if idx < len(run.extensions) else None
    guid = as_str(ref.get("guid"))
    name = as_str(ref.get("name"))
    if guid is None and name is None:
        return run.driver
    for comp in (run.driver, *run.extensions):
        if guid is not None and comp.guid is not None and comp.guid.lower() == guid.lower():
            return comp
    for comp in (run.driver, *run.extensions):
        if guid is None and name is not None and comp.name == name:
            return comp
    return None


# --------------------------------------------------------------------------------------------
# Configured levels


def policy_levels(walk: Walk, run: dict[str, Any], path: str) -> dict[str, str]:
    """Rule id -> level configured by `run.policies` (a later policy wins, per the spec)."""
    levels: dict[str, str] = {}
    policies = walk.arr(run.get("policies"), f"{path}.policies") or []
    for k, raw in enumerate(policies):
        policy = component(walk, raw, k, f"{path}.policies[{k}]")
        for rule in policy.rules:
            rid = rule.get("id")
            conf = rule.get("defaultConfiguration")
            if isinstance(rid, str) and isinstance(conf, dict) and "level" in conf:
                levels[rid] = check_level(walk, conf["level"], f"{policy.path}.rules[{policy.by_id[rid]}].defaultConfiguration.level")
    return levels


def overrides(walk: Walk, run: dict[str, Any], r: Run) -> dict[str, str]:
    """Rule id -> level from `invocations[].ruleConfigurationOverrides` (the first one wins)."""
    out: dict[str, str] = {}
    invocations = walk.arr(run.get("invocations"), f"{r.path}.invocations") or []
    for k, inv in enumerate(invocations):
        if not isinstance(inv, dict):
            continue  # reported with the invocations
        overrides = walk.arr(inv.get("ruleConfigurationOverrides"), f"{r.path}.invocations[{k}].ruleConfigurationOverrides") or []
        for n, ov in enumerate(overrides):
            if not isinstance(ov, dict):
                continue
            desc, conf = ov.get("descriptor"), ov.get("configuration")
            if not isinstance(desc, dict) or not isinstance(conf, dict) or "level" not in conf:
                continue
            level = check_level(walk, conf["level"], f"{r.path}.invocations[{k}].ruleConfigurationOverrides[{n}].configuration.level")
            rid = as_str(desc.get("id"))
            if rid is None:
                comp = tool_component(r, desc.get("toolComponent"))
                idx = as_index(desc.get("index"))
                if comp is not None and idx is not None and idx < len(comp.rules):
                    rid = as_str(comp.rules[idx].get("id"))
            if rid is not None:
                out.setdefault(rid, level)
    return out


def configured_level(walk: Walk, run: Run, rule: dict[str, Any], rpath: str, ids: tuple[str | None, str | None]) -> str:
    """A rule's level: an invocation's override, else a run policy's, else the rule's own
    `defaultConfiguration.level` (each looked up by the rule's own id, then the result's), else
    the spec's default "warning"."""
    for rid in ids:
        if rid is not None and rid in run.overrides:
            return run.overrides[rid]
    for rid in ids:
        if rid is not None and rid in run.policy_levels:
            return run.policy_levels[rid]
    conf = rule.get("defaultConfiguration")
    if isinstance(conf, dict) and "level" in conf:
        return check_level(walk, conf["level"], f"{rpath}.defaultConfiguration.level")
    return "warning"


# --------------------------------------------------------------------------------------------
# Taxonomies


def _taxonomy_is_cwe(run: Run, ref: Any) -> dict[str, Any] | None | bool:
    """For a toolComponentReference in taxonomy context: the taxonomy object if it is CWE,
    True if it names CWE but cannot be resolved, else None."""
    if not isinstance(ref, dict):
        return None
    idx = as_index(ref.get("index"))
    taxonomy: dict[str, Any] | None = None
    if idx is not None and idx < len(run.taxonomies):
        taxonomy = run.taxonomies[idx]
    else:
        guid = as_str(ref.get("guid"))
        name = as_str(ref.get("name"))
        for t in run.taxonomies:
            tg = as_str(t.get("guid"))
            if guid is not None and tg is not None and tg.lower() == guid.lower():
                taxonomy = t
                break
            if guid is None and name is not None and t.get("name") == name:
                taxonomy = t
                break
    name = as_str(taxonomy.get("name")) if taxonomy is not None else as_str(ref.get("name"))
    if name is None or not name.strip().upper().startswith("CWE"):
        return None
    return taxonomy if taxonomy is not None else True


def cwes_from_refs(run: Run, refs: Iterable[Any], out: set[str]) -> None:
    """CWEs named by reportingDescriptorReferences into a CWE taxonomy (rule relationships'
    targets, result.taxa): by `id` ("79" or "CWE-79") or by `index` into the taxonomy's taxa.
    References that resolve to nothing only add nothing."""
    for ref in refs:
        if not isinstance(ref, dict):
            continue
        taxonomy = _taxonomy_is_cwe(run, ref.get("toolComponent"))
        if taxonomy is None:
            continue
        tid = as_str(ref.get("id"))
        if tid is None and isinstance(taxonomy, dict):
            idx = as_index(ref.get("index"))
            taxa = taxonomy.get("taxa")
            if idx is not None and isinstance(taxa, list) and idx < len(taxa) and isinstance(taxa[idx], dict):
                tid = as_str(taxa[idx].get("id"))
        if tid is not None:
            cwes_from_text(tid, out)


# --------------------------------------------------------------------------------------------
# Rules


def rule_of(walk: Walk, run: Run, comp: Component | None, pos: int | None, rule_id: str | None) -> Rule:
    """The rule at `pos` of `comp` as the result naming it by `rule_id` sees it (no component or
    no position: a rule known only by the result's id), built once per run."""
    key = (comp.key if comp is not None else -2, pos, rule_id)
    cached = run.rules.get(key)
    if cached is not None:
        return cached
    rule: dict[str, Any] = comp.rules[pos] if comp is not None and pos is not None else {}
    rpath = f"{comp.path}.rules[{pos}]" if comp is not None and pos is not None else run.path
    own_id = as_str(rule.get("id"))
    facts, id_words = _rule_facts(walk, run, rule, rpath, (rule_id, own_id))
    kind = classify(
        facts.words,
        id_words,
        bool(facts.ids),
        facts.purl is not None or facts.pkg_name is not None,
        security=bool(facts.cwe) or facts.score is not None,
    )
    short = text_of(rule.get("shortDescription"))
    full = text_of(rule.get("fullDescription"))
    help_facts = Facts()
    if kind == "dependency":
        # Vulnerability ids in descriptions count only for dependency findings: a SAST rule's
        # description may cite a CVE it is merely similar to.
        for text in (short, full):
            if text:
                vuln_ids(text, facts.ids)
        help_text = text_of(rule.get("help"))
        if help_text:
            facts_from_key_lines(help_text, help_facts)
    cve, aliases = cves_and_aliases(facts.ids)
    messages = rule.get("messageStrings")
    info = Rule(
        rule_id=rule_id if rule_id is not None else own_id if own_id is not None else NO_RULE_ID,
        name=as_str(rule.get("name")) or short,
        description=full,
        help_uri=as_str(rule.get("helpUri")),
        level=configured_level(walk, run, rule, rpath, (own_id, rule_id)),
        messages=messages if isinstance(messages, dict) else {},
        component_messages=comp.messages if comp is not None else {},
        facts=facts,
        id_words=id_words,
        package=rule_package(facts, help_facts) if kind == "dependency" else None,
        help_facts=help_facts,
        traits=Traits(
            kind=kind,
            cwe=tuple(sorted(facts.cwe, key=cwe_order)),
            cve=cve,
            aliases=aliases,
            severity=severity_from_score(facts.score) if facts.score is not None else None,
            confidence=facts.confidence or "unknown",
        ),
    )
    run.rules[key] = info
    return info


def _rule_facts(walk: Walk, run: Run, rule: dict[str, Any], rpath: str, ids: tuple[str | None, str | None]) -> tuple[Facts, set[str]]:
    """What a rule descriptor's properties, name, ids, deprecated ids and relationships say, and
    the words of its ids (the result's `ruleId`, then the rule's own)."""
    facts = Facts()
    props = walk.obj(rule.get("properties"), f"{rpath}.properties")
    if props:
        try:
            props_facts(props, facts)
        except OutOfSpec as exc:
            raise walk.out_of_spec(f"{rpath}.properties.{exc.key}", exc.problem) from None
    name = as_str(rule.get("name"))
    if name:
        facts.words.update(words_of(name))
    id_words: set[str] = set()
    for rid in ids:
        if rid is not None:
            id_words |= words_of(rid)
            vuln_ids(rid, facts.ids)
    if name:
        vuln_ids(name, facts.ids)
    deprecated = rule.get("deprecatedIds")  # osv-scanner lists a vulnerability's aliases here
    if isinstance(deprecated, list):
        for d in deprecated:
            if isinstance(d, str):
                vuln_ids(d, facts.ids)
    relationships = walk.arr(rule.get("relationships"), f"{rpath}.relationships") or []
    cwes_from_refs(run, (rel.get("target") for rel in relationships if isinstance(rel, dict)), facts.cwe)
    return facts, id_words


def resolve_rule(walk: Walk, run: Run, result: dict[str, Any], j: int) -> Rule:
    """The rule a result refers to: by `ruleId` / `rule.id` first, then by `ruleIndex` /
    `rule.index`, in the component `rule.toolComponent` names (the driver by default)."""
    rule_id = result.get("ruleId")
    if not isinstance(rule_id, str):
        rule_id = None
    index = result.get("ruleIndex")
    if type(index) is not int or index < 0:
        index = None
    ref = result.get("rule")
    comp: Component | None = run.driver
    if ref is not None:
        if not isinstance(ref, dict):
            raise walk.type_error(f"{run.path}.results[{j}].rule", "an object", ref)
        if rule_id is None:
            rule_id = as_str(ref.get("id"))
        if index is None:
            index = as_index(ref.get("index"))
        tc = ref.get("toolComponent")
        if tc is not None:
            comp = tool_component(run, tc)
    if comp is run.driver:
        # Most results name a rule of the driver (CodeQL writes both `ruleId` and `rule`): one
        # lookup per (ruleId, ruleIndex) and run.
        hit = run.fast.get((rule_id, index))
        if hit is None:
            hit = _lookup_rule(walk, run, run.driver, rule_id, index)
            run.fast[(rule_id, index)] = hit
    elif comp is None:
        hit = (rule_of(walk, run, None, None, rule_id), True)
    else:
        hit = _lookup_rule(walk, run, comp, rule_id, index)
    if hit[1]:
        walk.count("unresolved:rule")
    return hit[0]


def _lookup_rule(walk: Walk, run: Run, comp: Component, rule_id: str | None, index: int | None) -> tuple[Rule, bool]:
    """The rule `rule_id` (or its parent, for a hierarchical id), else the one at `index`, in
    `comp`; and whether the reference was broken (an index past the end of the rules)."""
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
    return rule_of(walk, run, comp, pos, rule_id), broken
