"""The pull-request comment: cut by the gate on whole rows, posted whole (issue 19, "truncation breaks escaping").

The attack that worked: the example workflow's comment job cut the summary with `head -c 65000`.
With `summary-max-bytes` above that, the cut landed inside a code span of finding text: the
opening fence lost its closing one, so CommonMark read it as a literal backtick and the rest of
the finding text (images, links, @mentions, HTML) rendered live in the comment. Now the gate
writes `comment.md` itself within 60,000 bytes (gate/output/markdown.py leaves out whole rows and
says how many), and the comment job posts it as it is. The checks parse the posted body with
markdown-it-py (CommonMark plus GFM tables, as GitHub renders) and require every piece of the
attacker's text to sit inside a code span.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from markdown_it import MarkdownIt

from gate.output.interface import OutputOptions
from gate.output.markdown import MarkdownFormatter
from tests.action_support import commit, pull_request, run_local, sample_repo
from tests.composite_runner import ActionRun, substitute
from tests.conftest import REPO

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

REUSABLE = REPO / ".github" / "workflows" / "policy-gate-reusable.yml"
MARK = "evil"  # every piece of attacker markup carries it; the gate's own text never does
PARSER = MarkdownIt("commonmark").enable("table")


def hostile_message(i: int, pad: int) -> str:
    """Finding text with live markup early and padding after it, so a byte cut lands after the markup."""
    return (
        f"n{i} ![pwn](https://evil.example/{i}.png) [click](https://evil.example/{i}) @evil-team "
        f"<img src=https://evil.example/x> https://evil.example/bare " + "z" * pad
    )


def hostile_sarif(count: int, pad: int) -> dict[str, Any]:
    """A SARIF run whose `count` error-level results each become one violation row (OUT-001)."""
    results = [
        {
            "ruleId": "R1",
            "level": "error",
            "message": {"text": hostile_message(i, pad)},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": f"src/m{i}.py"}, "region": {"startLine": i + 1}}}],
        }
        for i in range(count)
    ]
    return {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t", "rules": [{"id": "R1"}]}}, "results": results}]}


def live_markup(markdown: str) -> list[str]:
    """Every piece of the attacker's text that is not inside a code span, as GitHub would render it."""
    found: list[str] = []

    def walk(tokens: list[Any]) -> None:
        for tok in tokens:
            if tok.type in ("code_inline", "code_block", "fence"):
                continue
            if tok.children:
                walk(tok.children)
                continue
            attrs = " ".join(str(v) for v in (tok.attrs or {}).values())
            if MARK in tok.content or MARK in attrs or tok.type in ("image", "html_inline", "html_block"):
                found.append(f"{tok.type}: {tok.content or attrs}"[:120])

    walk(PARSER.parse(markdown))
    return found


def old_comment(summary: str) -> str:
    """What the old comment job posted: `head -c 65000` of the summary (bytes, decoded leniently)."""
    return summary.encode()[:65000].decode("utf-8", "replace")


def comment_step() -> dict[str, Any]:
    (step,) = [s for s in yaml.safe_load(REUSABLE.read_text())["jobs"]["comment"]["steps"] if "run" in s]
    return step


def post_comment(tmp_path: Path, artifact: Path) -> str:
    """Run the comment job's own step with a stand-in `gh` that keeps the body it is given."""
    step = comment_step()
    temp = tmp_path / "comment-job"
    (temp / "bin").mkdir(parents=True)
    shutil.copytree(artifact, temp / "policy-gate")
    body = temp / "posted.md"
    gh = temp / "bin" / "gh"
    gh.write_text('#!/bin/sh\nwhile [ $# -gt 0 ]; do if [ "$1" = --body-file ]; then cp "$2" "$POSTED"; fi; shift; done\n')
    gh.chmod(gh.stat().st_mode | stat.S_IXUSR)
    ctx = {"runner": {"temp": str(temp)}, "github": {"token": "t", "repository": "octo/sample", "event": {"pull_request": {"number": 7}}}}
    env = {k: substitute(str(v), ctx) for k, v in step["env"].items()}
    env |= {"PATH": f"{temp / 'bin'}{os.pathsep}{os.environ['PATH']}", "RUNNER_TEMP": str(temp), "POSTED": str(body)}
    proc = subprocess.run(  # noqa: S603 - the workflow's own step
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return body.read_text()


def run_on_hostile_violations(tmp: Path, *, count: int, pad: int, limit: str) -> ActionRun:
    """The sample change (tests/action_support.py) with a SARIF log of `count` hostile violations
    (`hostile_sarif`), judged by the action with `summary-max-bytes: limit`."""
    repo, base, _ = sample_repo(tmp)
    (repo / "reports" / "many.sarif").write_text(json.dumps(hostile_sarif(count, pad)))
    head = commit(repo, "many")
    return run_local(tmp, repo, pull_request(base, head), reports="reports/many.sarif", **{"summary-max-bytes": limit})


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The action run once on 300 hostile violations with summary-max-bytes 200,000: its outputs."""
    tmp = tmp_path_factory.mktemp("truncation")
    result = run_on_hostile_violations(tmp, count=300, pad=260, limit="200000")
    assert result.outputs["decision"] == "fail", [s.stderr[-2000:] for s in result.steps]
    return {"tmp": tmp, "outputs": result.outputs, "verdict": json.loads(Path(result.outputs["verdict"]).read_text())}


@pytest.mark.slow
def test_the_old_byte_cut_brought_the_finding_text_to_life(hostile_run: dict[str, Any]) -> None:
    # The control: the detector finds the attack in what the old job would have posted.
    summary = Path(hostile_run["outputs"]["summary"]).read_text()
    assert len(summary.encode()) > 65000
    assert live_markup(summary) == [], "the gate's own summary is inert"
    # Where `head -c` lands depends on the table's layout; the attack needs only one byte budget
    # at which it lands inside a code span. The old job's own 65000 is one of those searched.
    cuts = [summary.encode()[:n].decode("utf-8", "replace") for n in range(60000, 65001, 97)] + [old_comment(summary)]
    assert any(live_markup(cut) for cut in cuts), "no byte cut brought the finding text to life"


@pytest.mark.slow
def test_the_posted_comment_is_the_gates_and_inert(hostile_run: dict[str, Any], tmp_path: Path) -> None:
    out = hostile_run["outputs"]
    posted = post_comment(tmp_path, Path(out["output-dir"]))
    assert posted == Path(out["comment"]).read_text()
    assert len(posted.encode()) <= 60000 and live_markup(posted) == []
    shown = len(re.findall(r"^\| \[?`OUT-001`", posted, re.M))
    left = re.search(r"_… \d+ more row\(s\) left out to stay within 60000 bytes \((\d+) of violations", posted)
    assert left and shown + int(left.group(1)) == len(hostile_run["verdict"]["violations"]) == 300
    assert posted.rstrip("\n").splitlines()[-1].startswith("Policy gate: policy `")  # the footer: the end is intact


@pytest.mark.slow
@pytest.mark.parametrize("limit", [1, 8000, 30000, 59999, 60000, 65000, 65001, 65536, 100000, 200000, 1048576])
def test_every_cap_cuts_on_whole_rows_and_stays_inert(hostile_run: dict[str, Any], limit: int) -> None:
    verdict = hostile_run["verdict"]
    text = MarkdownFormatter(OutputOptions(markdown_max_bytes=limit)).render(verdict, None)
    effective = max(limit, 8000)
    assert len(text.encode()) <= effective
    assert live_markup(text) == []
    # Whole rows: every table line is closed; the rows shown and the rows left out add up.
    for line in text.splitlines():
        if line.startswith("|"):
            assert line.endswith("|") and line.count("`") % 2 == 0, line[-80:]
    shown = len(re.findall(r"^\| \[?`OUT-001`", text, re.M))
    total = len(verdict["violations"])
    left = re.search(r"_… \d+ more row\(s\) left out to stay within \d+ bytes \((\d+) of violations", text)
    assert shown + (int(left.group(1)) if left else 0) == total
    assert text.rstrip("\n").splitlines()[-1].startswith("Policy gate: policy `")
    # The old byte cut of this text, where the text was longer than the cut: the attack, for the record.
    if len(text.encode()) > 65000:
        cuts = [text.encode()[:n].decode("utf-8", "replace") for n in range(60000, 65001, 97)]
        assert any(live_markup(cut) for cut in cuts)


@pytest.mark.slow
@pytest.mark.parametrize("limit", ["8000", "65001", "1048576"])
def test_the_action_writes_an_inert_comment_at_any_summary_max_bytes(tmp_path: Path, limit: str) -> None:
    result = run_on_hostile_violations(tmp_path, count=200, pad=300, limit=limit)
    assert result.outputs["decision"] == "fail"
    assert len(result.summary.encode()) <= max(int(limit), 8000) and live_markup(result.summary) == []
    posted = post_comment(tmp_path, Path(result.outputs["output-dir"]))
    assert len(posted.encode()) <= 60000 and live_markup(posted) == []
