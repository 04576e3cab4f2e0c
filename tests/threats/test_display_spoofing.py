"""Display spoofing: bidirectional and invisible characters in attacker text are shown, not obeyed.

The attack (issue 14): a finding's message and path carrying U+202E (RIGHT-TO-LEFT OVERRIDE)
reached the Markdown summary and the annotations as is, so a reviewer read `src/admin‮gnp.py`
as `src/adminyp.png`; a zero-width space or joiner makes two different paths or rule ids look
alike. Every human-facing output now applies `gate.output.text.neutralise`: each character of
Unicode's categories Cc, Cf, Cs, Zl, Zp is written as a visible escape (`\\u202e`). The verdict
JSON and the input document keep the text exactly (machines read them; the fingerprints depend
on it).
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from tests.conftest import run_gate
from tests.threats.helpers import CORE_POLICY, T, output, result, sarif, write_json

RLO, ZWSP, ZWJ, LRI, PDI, BOM, ALM, TAG_A = "\u202e", "\u200b", "\u200d", "\u2066", "\u2069", "\ufeff", "\u061c", "\U000e0041"
HIDDEN = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def hidden_in(text: str, allowed: str = "\n") -> list[str]:
    """Every hidden character of the text (but the line breaks of the medium itself)."""
    return sorted({f"U+{ord(c):04X}" for c in text if c not in allowed and unicodedata.category(c) in HIDDEN})


def hostile_report(tmp_path: Path) -> Path:
    findings = [
        # The instance: the override in the message and in the path.
        result(f"harmless {RLO}txt.exe", rule="R-bidi", uri=f"src/admin{RLO}gnp.py", line=3),
        # Variants: zero-width characters in a path and a rule id; isolates, a BOM, ALM, a tag character.
        result(f"x{ZWSP}y {LRI}evil{PDI} {BOM} {ALM} {TAG_A}", rule=f"R{ZWJ}-zw", uri=f"src/ap{ZWSP}p.py", line=4),
    ]
    return write_json(tmp_path / "hostile.sarif", sarif(findings, tool=f"Tool{RLO}"))


FORMATS = {"markdown": "summary.md", "github": "annotations.txt", "junit": "junit.xml", "sarif": "gate.sarif", "console": "console.txt"}


@pytest.fixture
def rendered(tmp_path: Path) -> dict[str, str]:
    report = hostile_report(tmp_path)
    args = ["evaluate", str(report), "--policy", str(CORE_POLICY), *T, "--output", f"json={tmp_path / 'verdict.json'}"]
    for fmt, name in FORMATS.items():
        args += ["--output", f"{fmt}={tmp_path / name}"]
    res = run_gate(args)
    assert res.exit_code == 10, output(res)
    out = {fmt: (tmp_path / name).read_text(encoding="utf-8") for fmt, name in FORMATS.items()}
    out["json"] = (tmp_path / "verdict.json").read_text(encoding="utf-8")
    out["explain"] = run_gate(["explain", str(tmp_path / "verdict.json")]).stdout
    return out


@pytest.mark.slow
@pytest.mark.parametrize("fmt", [*FORMATS, "explain"])
def test_no_output_for_people_carries_a_hidden_character(rendered: dict[str, str], fmt: str) -> None:
    text = rendered[fmt]
    if fmt == "sarif":
        # SARIF is read by machines, but code scanning shows its message texts to reviewers.
        doc = json.loads(text)
        text = "\n".join(r["message"]["text"] for r in doc["runs"][0]["results"])
    assert hidden_in(text, "\n\t\r") == [], fmt
    assert "\\u202e" in text, fmt  # shown, not obeyed: the reviewer sees that something is there
    if fmt != "sarif":
        assert "\\u200b" in text or "\\u200d" in text, fmt


def test_the_verdict_keeps_the_text_exactly(rendered: dict[str, str]) -> None:
    """Machines read the verdict: the finding's text and path are kept as the report said."""
    verdict = json.loads(rendered["json"])
    messages = [f["message"] for f in verdict["findings"].values()]
    assert any(RLO in m for m in messages)


def test_policy_doc_shows_hidden_characters_in_metadata(tmp_path: Path) -> None:
    import shutil

    pol = tmp_path / "policy"
    shutil.copytree(CORE_POLICY, pol)
    core = pol / "core.rego"
    text = core.read_text(encoding="utf-8")
    marker = "# title: "
    assert marker in text
    core.write_text(text.replace(marker, f"{marker}Safe{RLO}kcolb ", 1), encoding="utf-8")
    res = run_gate(["policy", "doc", str(pol)])
    assert res.exit_code == 0, output(res)
    assert hidden_in(res.stdout) == []
    assert "\\u202e" in res.stdout
