"""`gate policy compare`: the what-if a security officer runs before merging a policy change.

The same reports are judged under two policy versions (folders or bundles) with the same stage,
clock, waivers and baseline; the two verdicts are then matched entry by entry.

Identity of an entry: the rule id and the evidence it rests on (finding ids, component purls,
scan paths, details), not its message: a reworded message is the same violation, while the same
rule firing on another finding is another one. Each key is compared across the two verdicts:

- appeared: only the new policy reports it;
- disappeared: only the old policy reports it;
- changed level: both report it, one as a violation (deny) and the other as a warning (a rule
  moved between `deny` and `warn`, an effective date moved, a stage profile changed);
- unchanged: both report it at the same level (counted, listed only in JSON).

Entries are compared as the verdict states them, after effective dates and stages have been
applied, because that is what a pipeline would see.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

from gate.authoring.mdtext import escape
from gate.output.console import location_of
from gate.output.text import clean
from gate.verdict import EVIDENCE_KEYS

if TYPE_CHECKING:
    from gate.records import Verdict
    from gate.runner import Config, Outcome

LEVELS = {"violations": "deny", "warnings": "warn"}


def entry_key(entry: Mapping[str, Any]) -> str:
    """The identity of a violation or warning: its rule and its evidence, canonically."""
    ev = entry.get("evidence") or {}
    canon = {k: sorted(str(x) for x in ev.get(k) or []) for k in EVIDENCE_KEYS}
    return json.dumps([entry.get("rule"), canon], sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Item:
    """One entry on one side: its level there and what the verdict said about it."""

    level: str  # deny | warn
    entry: Mapping[str, Any]
    where: str


@dataclass(frozen=True)
class Change:
    """One key whose presence or level differs between the two sides."""

    kind: str  # appeared | disappeared | level
    rule: str
    old: Item | None
    new: Item | None

    @property
    def shown(self) -> Item:
        item = self.new or self.old
        assert item is not None  # a change has at least one side
        return item

    def to_dict(self) -> dict[str, Any]:
        e = self.shown.entry
        return {
            "change": self.kind,
            "rule": self.rule,
            "title": e.get("title"),
            "old_level": self.old.level if self.old else None,
            "new_level": self.new.level if self.new else None,
            "severity": e.get("severity"),
            "msg": e.get("msg"),
            "where": self.shown.where,
            "evidence": e.get("evidence"),
        }


@dataclass
class Side:
    """One policy version's verdict, reduced to what a comparison shows."""

    label: str
    verdict: Mapping[str, Any]

    @property
    def decision(self) -> str:
        return str(self.verdict.get("decision"))

    @property
    def exit_code(self) -> int:
        return int(self.verdict.get("exit_code", 6))

    def items(self) -> dict[str, Item]:
        out: dict[str, Item] = {}
        for key, level in LEVELS.items():
            for e in self.verdict.get(key) or []:
                k = entry_key(e)
                # The same key twice on one side (a rule that emits two messages for the same
                # evidence): the deny wins, as it does for the gate.
                if k not in out or (level == "deny" and out[k].level == "warn"):
                    out[k] = Item(level, e, location_of(cast("Verdict", self.verdict), e))  # a verdict the runner built
        return out

    def summary(self) -> dict[str, Any]:
        pol = self.verdict.get("policy") or {}
        s = self.verdict.get("summary") or {}
        return {
            "policy": pol.get("path"),
            "digest": pol.get("digest"),
            "decision": self.decision,
            "exit_code": self.exit_code,
            "violations": s.get("violations", 0),
            "warnings": s.get("warnings", 0),
            "error": self.verdict.get("error"),
        }


@dataclass
class Comparison:
    """What changes when the old policy is replaced by the new one."""

    old: Side
    new: Side
    changes: list[Change] = field(default_factory=list)
    unchanged: list[tuple[str, str]] = field(default_factory=list)  # (rule, level)

    @property
    def changed(self) -> bool:
        return bool(self.changes) or self.old.decision != self.new.decision

    def of_kind(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "gate.compare/v1",
            "old": self.old.summary(),
            "new": self.new.summary(),
            "changed": self.changed,
            "appeared": [c.to_dict() for c in self.of_kind("appeared")],
            "disappeared": [c.to_dict() for c in self.of_kind("disappeared")],
            "level_changed": [c.to_dict() for c in self.of_kind("level")],
            "unchanged": {"count": len(self.unchanged), "rules": sorted({r for r, _ in self.unchanged})},
        }


_LEVEL_ORDER = {"deny": 0, "warn": 1}


def _where_key(where: str) -> tuple[str, int]:
    """`path:line` sorted by path, then by line as a number."""
    path, sep, line = where.rpartition(":")
    return (path, int(line)) if sep and line.isdigit() else (where, 0)


def _sort_key(c: Change) -> tuple[int, str, tuple[str, int], str]:
    return (_LEVEL_ORDER.get(c.shown.level, 2), c.rule, _where_key(c.shown.where), entry_key(c.shown.entry))


def compare(old: Mapping[str, Any], new: Mapping[str, Any], *, old_label: str = "old", new_label: str = "new") -> Comparison:
    """Match the entries of two verdicts of the same reports by identity."""
    a, b = Side(old_label, old), Side(new_label, new)
    result = Comparison(a, b)
    ia, ib = a.items(), b.items()
    for key in sorted(set(ia) | set(ib)):
        x, y = ia.get(key), ib.get(key)
        if x is None and y is not None:
            result.changes.append(Change("appeared", str(y.entry.get("rule")), None, y))
        elif y is None and x is not None:
            result.changes.append(Change("disappeared", str(x.entry.get("rule")), x, None))
        elif x is not None and y is not None:
            if x.level != y.level:
                result.changes.append(Change("level", str(y.entry.get("rule")), x, y))
            else:
                result.unchanged.append((str(y.entry.get("rule")), y.level))
    result.changes.sort(key=_sort_key)
    return result


@dataclass(frozen=True)
class WhatIf:
    """`gate policy compare`'s answer: the comparison, or the error of each side that could not
    be evaluated (the new side's first), and the exit code."""

    comparison: Comparison | None
    errors: tuple[str, ...]
    exit_code: int


def _error_line(label: str, policy: str, outcome: Outcome) -> str:
    err = outcome.error
    record = outcome.verdict["error"]
    text = str(err) if err is not None else str(record["message"] if record else None)
    return clean(f"gate: error with the {label} policy ({policy}): {text}", 2000)


def what_if(old: str, new: str, config: Config, *, fail_on_change: bool = False) -> WhatIf:
    """Judge `config`'s reports under the `old` and the `new` policy (folder or bundle) with one
    clock, and compare the verdicts.

    Exit 0 (it informs), or 10 with `fail_on_change` when anything changed. When either side
    cannot be evaluated: no comparison, each failed side's error line, and the exit code of the
    first (the new side's first).
    """
    from gate.errors import ExitCode
    from gate.runner import evaluate, resolve_time
    from gate.verdict import format_time

    # One clock for both sides, or effective dates and waiver expiry could differ between them.
    config = replace(config, time=format_time(resolve_time(config.time)))
    before = evaluate(replace(config, policy=old))
    after = evaluate(replace(config, policy=new))
    failed = [(label, path, o) for label, path, o in (("new", new, after), ("old", old, before)) if o.verdict["decision"] == "error"]
    if failed:
        lines = tuple(_error_line(label, path, o) for label, path, o in failed)
        return WhatIf(None, lines, failed[0][2].exit_code)
    result = compare(before.verdict, after.verdict, old_label="old", new_label="new")
    return WhatIf(result, (), int(ExitCode.DENY) if fail_on_change and result.changed else 0)


# --------------------------------------------------------------------------------------------
# Rendering


def _side_text(side: Side) -> str:
    s = side.summary()
    text = f"{side.label}: {s['policy']} ({s['digest']}): {s['decision']}, exit {s['exit_code']}, "
    text += f"{s['violations']} violation(s), {s['warnings']} warning(s)"
    err = s.get("error")
    if err:
        text += f"; error: {err.get('message')}"
    return text


def _change_text(c: Change) -> str:
    e = c.shown.entry
    level = {"appeared": f"new {c.new.level if c.new else ''}", "disappeared": f"was {c.old.level if c.old else ''}"}.get(
        c.kind, f"{c.old.level if c.old else ''} -> {c.new.level if c.new else ''}"
    )
    where = f" at {c.shown.where}" if c.shown.where else ""
    return f"  {c.rule} [{level}]{where}: {e.get('msg')}"


def render_text(cmp: Comparison) -> str:
    """Plain text for the terminal (attacker text cleaned)."""
    lines = [clean(_side_text(cmp.old), 600), clean(_side_text(cmp.new), 600)]
    for kind, title in (
        ("appeared", "Appear with the new policy"),
        ("disappeared", "Disappear with the new policy"),
        ("level", "Change level"),
    ):
        items = cmp.of_kind(kind)
        if items:
            lines.append("")
            lines.append(f"{title} ({len(items)}):")
            lines.extend(clean(_change_text(c), 400) for c in items)
    lines.append("")
    if cmp.changed:
        counts = ", ".join(
            f"{len(cmp.of_kind(k))} {name}" for k, name in (("appeared", "appear"), ("disappeared", "disappear"), ("level", "change level"))
        )
        lines.append(f"policy compare: {counts}; {len(cmp.unchanged)} unchanged; decision {cmp.old.decision} -> {cmp.new.decision}")
    else:
        lines.append(f"policy compare: no change ({len(cmp.unchanged)} unchanged); decision {cmp.new.decision}")
    return "\n".join(lines) + "\n"


def render_json(cmp: Comparison) -> str:
    """The comparison as a JSON document (`gate.compare/v1`)."""
    return json.dumps(cmp.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


MARKDOWN_ROWS = 100


def _md_rows(items: Sequence[Change]) -> list[str]:
    rows = ["| Rule | Old | New | Severity | Where | Message |", "|---|---|---|---|---|---|"]
    for c in items[:MARKDOWN_ROWS]:
        e = c.shown.entry
        rows.append(
            "| "
            + " | ".join(
                [
                    escape(clean(c.rule, 80), cell=True, keep_code=False),
                    c.old.level if c.old else "-",
                    c.new.level if c.new else "-",
                    escape(clean(e.get("severity"), 20), cell=True, keep_code=False),
                    escape(clean(c.shown.where, 200), cell=True, keep_code=False),
                    escape(clean(e.get("msg"), 300), cell=True, keep_code=False),
                ]
            )
            + " |"
        )
    if len(items) > MARKDOWN_ROWS:
        rows.append("")
        rows.append(f"... and {len(items) - MARKDOWN_ROWS} more (the full list: `--format json` or `--format text`).")
    return rows


def render_markdown(cmp: Comparison) -> str:
    """Markdown for a pull-request comment (every piece of report text escaped)."""
    out = ["## Policy change: what-if", ""]
    out.append("| | Policy | Decision | Exit | Violations | Warnings |")
    out.append("|---|---|---|---|---|---|")
    for side in (cmp.old, cmp.new):
        s = side.summary()
        cells = [escape(side.label, cell=True), escape(clean(s["policy"]), cell=True, keep_code=False)]
        cells += [str(s[k]) for k in ("decision", "exit_code", "violations", "warnings")]
        out.append("| " + " | ".join(cells) + " |")
    for kind, title in (
        ("appeared", "Appear with the new policy"),
        ("disappeared", "Disappear with the new policy"),
        ("level", "Change level"),
    ):
        items = cmp.of_kind(kind)
        if items:
            out += ["", f"### {title} ({len(items)})", ""]
            out += _md_rows(items)
    out.append("")
    out.append(f"{len(cmp.unchanged)} unchanged." if cmp.changed else f"No change ({len(cmp.unchanged)} unchanged).")
    return "\n".join(out) + "\n"


RENDERERS: dict[str, Callable[[Comparison], str]] = {"text": render_text, "json": render_json, "markdown": render_markdown}
"""`gate policy compare --format` choices."""
