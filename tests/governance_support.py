"""Helpers shared by the governance tests (waivers, baseline, fingerprints, stages, VEX, policy ref).

`real_scans()` runs the real bandit and semgrep (installed in the venv) on copies of the sample
project in tests/data/governance/sample: as it is; with lines inserted at the top of every file,
an unrelated line edited and one new flaw added; and once more unchanged (a re-run). It runs
once per test session (the tools take seconds) and caches the reports.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tests.conftest import DATA, POLICIES, run_gate

GOV = DATA / "governance"
SAMPLE = GOV / "sample"
BIN = Path(sys.executable).parent
TIME = "2026-07-01T12:00:00Z"


def evaluate(
    tmp_path: Path, reports: Iterable[Path], *args: str, policy: Path = POLICIES, time: str = TIME
) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """`gate evaluate` of `reports` under `policy` at `time`, the JSON verdict and the input
    document written to `tmp_path`; (exit code, verdict, input document). The verdict must not be
    an error verdict."""
    verdict, doc = tmp_path / "verdict.json", tmp_path / "input.json"
    outputs = ["--output", f"json={verdict}", "--output", f"input={doc}"]
    res = run_gate(["evaluate", *map(str, reports), "--policy", str(policy), "--time", time, *outputs, *args])
    v = json.loads(verdict.read_text())
    assert v["error"] is None, (res.stdout, res.stderr)
    return res.exit_code, v, json.loads(doc.read_text())


def finding(fid: str = "a" * 32, **over: Any) -> dict[str, Any]:
    """An input-document finding record with sensible defaults."""
    base: dict[str, Any] = {
        "id": fid,
        "tool": "bandit",
        "tool_version": "1.9.4",
        "rule_id": "B602",
        "rule_name": "subprocess_popen_with_shell_equals_true",
        "kind": "sast",
        "severity": "high",
        "confidence": "high",
        "message": "subprocess call with shell=True identified",
        "location": {"path": "src/shop/orders.py", "start_line": 8, "end_line": 8},
        "cwe": ["CWE-78"],
        "cve": [],
        "aliases": [],
        "package": None,
        "suppressed": False,
        "duplicates": [],
        "test_code": False,
        "baseline": "unknown",
        "source": {"path": "bandit.json", "format": "bandit", "index": 0},
        "waiver": None,
        "vex": None,
        "help_uri": None,
    }
    base.update(over)
    return base


def dependency(fid: str, name: str, version: str, vuln: str, aliases: tuple[str, ...] = (), **over: Any) -> dict[str, Any]:
    """A dependency finding (pip-audit style) for `name==version` and advisory `vuln`."""
    return finding(
        fid,
        tool="pip-audit",
        rule_id=vuln,
        rule_name=None,
        kind="dependency",
        severity="unknown",
        message=f"{name} {version} is vulnerable ({vuln})",
        location=None,
        cwe=[],
        cve=[a for a in (vuln, *aliases) if a.startswith("CVE-")],
        aliases=[a for a in aliases if not a.startswith("CVE-")] + ([vuln] if not vuln.startswith("CVE-") else []),
        package={"name": name, "version": version, "purl": f"pkg:pypi/{name.lower()}@{version}", "fixed_versions": []},
        **over,
    )


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------
# Real tool runs


@dataclass(frozen=True)
class Scan:
    """Reports of one run of both tools over one state of the sample project."""

    root: Path
    bandit: Path
    semgrep: Path


@dataclass(frozen=True)
class Scans:
    before: Scan
    """The sample project as it is."""
    after: Scan
    """Lines inserted at the top of every file, an unrelated line edited, one new flaw added at the end."""
    rerun: Scan
    """The tools run again over the unchanged project."""


def _tool_env() -> dict[str, str]:
    return {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off", "NO_COLOR": "1"}


def _start(project: Path, out: Path) -> list[subprocess.Popen[bytes]]:
    """Start bandit and semgrep on `project/src` (paths relative to the project, as in CI)."""
    out.mkdir(parents=True, exist_ok=True)
    bandit = subprocess.Popen(  # noqa: S603
        [str(BIN / "bandit"), "-f", "json", "-o", str(out / "bandit.json"), "-r", "src", "-q"],
        cwd=project,
        env=_tool_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    semgrep = subprocess.Popen(  # noqa: S603
        [
            str(BIN / "semgrep"),
            "scan",
            "--metrics",
            "off",
            "--disable-version-check",
            "--config",
            "rules.yml",
            "--json",
            "--output",
            str(out / "semgrep.json"),
            "-q",
            "src",
        ],
        cwd=project,
        env=_tool_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return [bandit, semgrep]


def _wait(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        _, err = p.communicate(timeout=300)
        # bandit exits 1 whenever it reports something; semgrep 0 without --error.
        if p.returncode not in (0, 1):
            raise RuntimeError(f"{p.args[0]} failed ({p.returncode}): {err.decode(errors='replace')[-2000:]}")


def _project(dst: Path) -> Path:
    shutil.copytree(SAMPLE, dst)
    # The rules are copied next to the sources: semgrep prefixes rule ids with the path of a local
    # rules file, so the same relative path keeps rule ids (and fingerprints) the same.
    shutil.copy(GOV / "semgrep-rules.yml", dst / "rules.yml")
    return dst


def _shift(project: Path) -> None:
    """Insert lines at the top of every source file and edit a line no finding is on."""
    for path in sorted((project / "src").rglob("*.py")):
        text = path.read_text()
        path.write_text("# Copyright the sample shop authors.\n# SPDX-License-Identifier: MIT\n\nimport os\n\n" + text)
    orders = project / "src" / "shop" / "orders.py"
    edited = orders.read_text().replace("return sum(item.price for item in items)", "return sum(i.price * i.quantity for i in items)")
    orders.write_text(edited)


NEW_FLAW = "\n\ndef purge(path):\n    return subprocess.call('rm -rf ' + path, shell=True)\n"


@cache
def real_scans() -> Scans:
    """Run the tools over the sample project in its three states, all at once (cached for the session)."""
    work = Path(tempfile.mkdtemp(prefix="gate-gov-scans-"))
    atexit.register(shutil.rmtree, work, True)
    before = _project(work / "before" / "project")
    after = _project(work / "after" / "project")
    _shift(after)
    orders = after / "src" / "shop" / "orders.py"
    orders.write_text(orders.read_text() + NEW_FLAW)
    runs = [(before, work / "before" / "out"), (after, work / "after" / "out"), (before, work / "rerun" / "out")]
    _wait([p for run in runs for p in _start(*run)])
    scans = [Scan(root=p, bandit=o / "bandit.json", semgrep=o / "semgrep.json") for p, o in runs]
    return Scans(before=scans[0], after=scans[1], rerun=scans[2])


def reordered(report: Path, dst: Path) -> Path:
    """The same report with its results in reverse order (and its keys re-serialised)."""
    doc = json.loads(report.read_text())
    doc["results"] = list(reversed(doc["results"]))
    dst.write_text(json.dumps(doc, indent=1, sort_keys=True))
    return dst
