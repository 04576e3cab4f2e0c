"""`gate policy doc`: a deterministic, escaped Markdown catalogue of every rule, grouped by control."""

from __future__ import annotations

import re
from pathlib import Path

from gate.authoring.mdtext import escape, paragraphs
from tests.authoring_helpers import append, copy_pack, first_deny, metadata_block, rules_of
from tests.conftest import POLICIES, run_gate


def _sections(doc: str) -> dict[str, str]:
    """`## heading` -> its text, for the control sections (after the summary)."""
    parts = re.split(r"^## (.+)$", doc, flags=re.MULTILINE)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_shipped_pack_catalogue_lists_every_rule_under_its_control() -> None:
    res = run_gate(["policy", "doc", str(POLICIES)])
    assert res.exit_code == 0, res.stderr
    doc = res.stdout
    rules = rules_of(POLICIES)
    sections = _sections(doc)
    assert "Summary" in sections
    for m in rules:
        body = sections[escape(m.control)]
        heading = f"### {escape(m.id)}: {escape(m.title)}"
        assert heading in body, m.id
        block = body.split(heading, 1)[1].split("\n### ", 1)[0]
        assert f"| Severity | {escape(m.severity, cell=True)} |" in block
        assert f"| Stages | {escape(', '.join(m.stages) if m.stages else 'all stages', cell=True)} |" in block
        assert ("| Decision | deny" if m.decision == "deny" else "| Decision | warn") in block
        if m.decision == "deny":
            assert ("blocks from " + m.effective_on) in block if m.effective_on else "| Effective | immediately |" in block
        assert paragraphs(m.description) in block
        assert "**Remediation:** " + paragraphs(m.remediation) in block
        # Each rule appears in the summary table, linked to its section.
        assert re.search(rf"^\| \[{re.escape(escape(m.id, cell=True))}\]\(#rule-[a-z0-9-]+\) \|", doc, re.MULTILINE)
    # Controls are ordered and each rule is documented once.
    controls = [c for c in sections if c != "Summary"]
    assert controls == sorted(controls, key=lambda c: (c.casefold(), c))
    assert sum(doc.count(f"\n### {escape(m.id)}:") for m in rules) == len(rules)


def test_catalogue_is_deterministic_and_independent_of_the_folder_location(tmp_path: Path) -> None:
    first = run_gate(["policy", "doc", str(POLICIES)]).stdout
    again = run_gate(["policy", "doc", str(POLICIES)]).stdout
    copy = copy_pack(tmp_path, "elsewhere")
    moved = run_gate(["policy", "doc", str(copy)]).stdout
    assert first == again == moved
    assert str(POLICIES) not in first and str(tmp_path) not in moved


def test_output_file_and_unwritable_output(tmp_path: Path) -> None:
    out = tmp_path / "docs" / "rules.md"
    res = run_gate(["policy", "doc", str(POLICIES), "-o", str(out)])
    assert res.exit_code == 0
    assert out.read_text(encoding="utf-8") == run_gate(["policy", "doc", str(POLICIES)]).stdout
    assert f"written to {out}" in res.stderr
    blocked = tmp_path / "file"
    blocked.write_text("x", encoding="utf-8")
    res = run_gate(["policy", "doc", str(POLICIES), "-o", str(blocked / "rules.md")])
    assert res.exit_code == 5
    assert "cannot write the catalogue" in res.stderr


def test_hostile_metadata_is_escaped(tmp_path: Path) -> None:
    """Metadata text cannot break a table, open a heading, a link, an image or HTML."""
    pack = copy_pack(tmp_path)
    rule = first_deny(pack)
    path = Path(rule.file)
    first, last = metadata_block(path, rule.line)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for i in range(first, last):
        if re.match(r"#\s+title:", lines[i]):
            lines[i] = "# title: 'Pipe | table <script>alert(1)</script> [x](http://evil) ![i](http://e/i.png) *b* @team'\n"
    path.write_text("".join(lines), encoding="utf-8")
    res = run_gate(["policy", "doc", str(pack)])
    assert res.exit_code == 0, res.stderr
    doc = res.stdout
    assert "<script>" not in doc and "&lt;script&gt;" in doc
    assert "](http://evil)" not in doc.replace("\\](http://evil)", "")
    assert "![i]" not in doc and "@team" not in doc.replace("\\@team", "")
    row = next(line for line in doc.splitlines() if line.startswith(f"| [{escape(rule.id, cell=True)}]"))
    # Seven cells: no unescaped pipe inside the row.
    assert len(re.findall(r"(?<!\\)\|", row)) == 8


def test_broken_copy_is_refused_with_the_place(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    target = Path(first_deny(pack).file)
    line = append(target, "\ngate_doc_probe := opa.runtime()\n")
    res = run_gate(["policy", "doc", str(pack)])
    assert res.exit_code == 4
    # `gate_doc_probe := ` is 18 characters: the call starts in column 19.
    assert f"{target}:{line + 1}:19: forbidden builtin opa.runtime" in res.stderr


def test_metadata_that_is_not_yaml_is_refused_with_its_line(tmp_path: Path) -> None:
    pack = copy_pack(tmp_path)
    rule = first_deny(pack)
    path = Path(rule.file)
    first, _ = metadata_block(path, rule.line)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines.insert(first, "# title: [unclosed\n")
    path.write_text("".join(lines), encoding="utf-8")
    res = run_gate(["policy", "doc", str(pack)])
    assert res.exit_code == 4
    m = re.search(rf"{re.escape(str(path))}:(\d+):1: METADATA block is not valid YAML", res.stderr)
    assert m, res.stderr
    # The line YAML stumbled on, inside the block (the broken line or the one after it).
    assert first + 1 <= int(m.group(1)) <= first + 2
