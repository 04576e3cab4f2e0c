"""Helpers for the policy-authoring tests: copies of the shipped pack, broken on purpose.

Every break is made relative to what the pack contains (its first rule, its first data file),
never to a line number written here, so the tests hold as the pack grows.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from gate.policy import RuleMeta, load_policy
from tests.conftest import DATA, POLICIES

AUTHORING = DATA / "authoring"
FINDINGS = AUTHORING / "findings.sarif"
TIME = "2026-11-26T12:00:00Z"


def copy_pack(tmp_path: Path, name: str = "policies") -> Path:
    """A private copy of the shipped pack."""
    dest = tmp_path / name
    shutil.copytree(POLICIES, dest)
    return dest


def rules_of(pack: Path) -> list[RuleMeta]:
    """The pack's annotated rules, by id."""
    return sorted(load_policy(pack, include_tests=True).rules.values(), key=lambda m: m.id)


def first_deny(pack: Path) -> RuleMeta:
    """The deny rule with the smallest id."""
    return next(m for m in rules_of(pack) if m.decision == "deny")


def append(path: Path, text: str) -> int:
    """Append text to a file; the 1-based number of the first appended line."""
    old = path.read_text(encoding="utf-8")
    if not old.endswith("\n"):
        old += "\n"
    path.write_text(old + text, encoding="utf-8")
    return old.count("\n") + 1


def metadata_block(path: Path, rule_line: int) -> tuple[int, int]:
    """(first, last) 1-based lines of the `# METADATA` block right above the rule at rule_line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    k = rule_line - 2
    while lines[k].strip() != "# METADATA":
        k -= 1
    return k + 1, rule_line - 1


def remove_metadata_key(path: Path, rule_line: int, key: str) -> int:
    """Delete the `key:` line (and its folded continuation) from a rule's METADATA; the rule's new line."""
    first, last = metadata_block(path, rule_line)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = next(i for i in range(first, last) if re.match(rf"#\s+{re.escape(key)}:", lines[i]))
    indent = len(lines[start]) - len(lines[start][1:].lstrip()) - 1
    end = start + 1
    while end < last and lines[end].startswith("#") and len(lines[end]) - len(lines[end][1:].lstrip()) - 1 > indent:
        end += 1
    del lines[start:end]
    path.write_text("".join(lines), encoding="utf-8")
    return rule_line - (end - start)


def rename_metadata_key(path: Path, rule_line: int, key: str, new: str) -> None:
    """Misspell a METADATA key of one rule."""
    first, last = metadata_block(path, rule_line)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    i = next(i for i in range(first, last) if re.match(rf"#\s+{re.escape(key)}:", lines[i]))
    lines[i] = lines[i].replace(f"{key}:", f"{new}:", 1)
    path.write_text("".join(lines), encoding="utf-8")


def set_effective_on(pack: Path, date: str) -> int:
    """Give every rule of the pack `custom.effective_on: DATE` (replacing any); how many blocks changed."""
    changed = 0
    for path in sorted(pack.rglob("*.rego")):
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines(keepends=True) if not re.match(r"#\s+effective_on:", ln)]
        out: list[str] = []
        for i, line in enumerate(lines):
            out.append(line)
            if re.match(r"#\s+custom:\s*$", line) and i + 1 < len(lines):
                indent = re.match(r"#(\s+)", lines[i + 1])
                out.append(f"#{indent.group(1) if indent else '   '}effective_on: {date}\n")
                changed += 1
        path.write_text("".join(out), encoding="utf-8")
    return changed
