"""Calibration of the shipped pack on real projects (issue 17): the table of decisions and counts.

The calibration set (`../shared/calibration`: four deliberately vulnerable applications, four
healthy libraries) is judged by `gate run` with the default scanners and the local
vulnerability database, under the stage the ground truth names (`stage:`; prod for the
applications, `library` for the libraries: the profile a CI configuration picks for a library,
as strict as prod except that a dependency range admitting vulnerable versions warns); each
verdict is compared with the ground truth written down in `tests/calibration/<project>.yaml`
(which findings are real flaws, which are false positives, which known flaws the gate misses).

    .venv/bin/python bench/calibration.py                      # scan all eight, print the table
    .venv/bin/python bench/calibration.py --verdicts DIR       # score verdicts already written
                                                               # (DIR/<project>.json)
    .venv/bin/python bench/calibration.py --keep DIR           # keep verdicts and native reports

The vulnerability database is built once from `../shared/vulndb/pypa-advisory-database` into
`--vuln-db` (default: a temporary folder) when it is missing. The clock is fixed (`--time`, two
days after the snapshot's newest record) so that the database's age, and so the verdicts, do not
change from one day to the next.

Measures, per project: the decision, the number of violations and warnings, the confirmed real
flaws that block (violations citing a finding the ground truth marks `real`), the false blocks
(violations citing only findings marked `false-positive`, or nothing the ground truth knows), and
the known flaws missed (ground-truth flaws no violation or warning cites). Over the vulnerable
applications: the precision of blocking (confirmed real / all blocking violations); over the
healthy libraries: the false-block count.

This module is also the regression test's library (tests/test_calibration.py loads it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CALIBRATION = SHARED / "calibration"
TRUTH = REPO / "tests" / "calibration"
ADVISORIES = SHARED / "vulndb" / "pypa-advisory-database"
PROJECTS = ("dsvw", "dvga", "django-nv", "tiredful-api", "click", "attrs", "requests", "markupsafe")
# "Now" for the verdicts: two days after the snapshot's newest record (2024-10-10), so that the
# database counts as fresh in the prod profile, whatever the date of the run.
TIME = "2024-10-12T00:00:00Z"


def gate_exe() -> Path:
    """The `gate` console script of the interpreter running this module."""
    return Path(sys.executable).parent / "gate"


def load_truth(project: str) -> dict[str, Any]:
    """The ground truth of one project (tests/calibration/<project>.yaml)."""
    doc: dict[str, Any] = yaml.safe_load((TRUTH / f"{project}.yaml").read_text(encoding="utf-8"))
    return doc


def build_vulndb(db: Path) -> Path:
    """Build the vulnerability database at `db` from the shared advisory snapshot unless present."""
    if not (db / "manifest.json").is_file():
        subprocess.run(
            [str(gate_exe()), "vulndb", "update", "--source", str(ADVISORIES), "--db", str(db), "--no-progress"],
            check=True,
            capture_output=True,
            text=True,
            timeout=600,
        )
    return db


def stage_of(project: str) -> str:
    """The stage profile the project is judged under: its ground truth's `stage` (what the CI
    configuration of such a project picks: `library` for a library, whose SBOM is its declared
    dependency ranges), else prod. Never read from the project's tree."""
    return str(load_truth(project).get("stage") or "prod")


def run_gate(project: str, work: Path, db: Path, policy: Path | None = None) -> dict[str, Any]:
    """`gate run --stage STAGE` (`stage_of`) on a copy of the project under `work`; the verdict (JSON).

    The project is copied first (../shared is read-only and nothing may write into it); the native
    reports land in work/<project>-reports, the verdict in work/<project>.json.
    """
    src = work / "src" / project
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(CALIBRATION / project, src)
    for path in [src, *src.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
    verdict = work / f"{project}.json"
    env = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}
    for name in list(env):
        if name.startswith("GATE_"):
            del env[name]
    done = subprocess.run(
        [
            str(gate_exe()),
            "run",
            str(src),
            "--stage",
            stage_of(project),
            "--vuln-db",
            str(db),
            "--time",
            TIME,
            "--policy",
            str(policy or REPO / "policies"),
            "--out",
            str(work / f"{project}-reports"),
            "--output",
            f"json={verdict}",
            "--format",
            "json",
            "--progress",
            "off",
        ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    if done.returncode not in (0, 10, 11) or not verdict.is_file():
        raise RuntimeError(f"gate run {project} exited {done.returncode}: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(verdict.read_text(encoding="utf-8"))
    return result


# ---------------------------------------------------------------------------------------------
# Scoring


def finding_keys(finding: dict[str, Any]) -> set[str]:
    """`tool:rule_id@path:line` of a finding (tool lower-cased; semgrep's SARIF driver is semgrep)."""
    tool = str(finding.get("tool") or "").lower()
    if tool.startswith("semgrep"):
        tool = "semgrep"
    loc = finding.get("location") or {}
    if loc.get("path"):
        return {f"{tool}:{finding.get('rule_id')}@{loc.get('path')}:{loc.get('start_line')}"}
    package = finding.get("package") or {}
    return {f"{tool}:{finding.get('rule_id')}@{package.get('purl')}"}


def cited(verdict: dict[str, Any], item: dict[str, Any]) -> set[str]:
    """The keys a violation or warning cites: its findings (and their duplicates), else `RULE@where`.

    A finding without a location (a dependency vulnerability) is `tool:rule_id@purl`. A violation
    about components or scans (licences, the database, an incomplete scan) cites
    `GATE-RULE@purl` for each component, else `GATE-RULE@<report file name>`, else `GATE-RULE@-`.
    """
    findings = verdict.get("findings") or {}
    keys: set[str] = set()
    ids = list(item.get("evidence", {}).get("findings") or [])
    for fid in list(ids):
        ids.extend(x for x in (findings.get(fid) or {}).get("duplicates") or [] if x not in ids)
    for fid in ids:
        if fid in findings:
            keys |= finding_keys(findings[fid])
    if keys:
        return keys
    evidence = item.get("evidence", {})
    where = list(evidence.get("components") or []) or [Path(p).name for p in evidence.get("scans") or []]
    return {f"{item['rule']}@{w}" for w in where} or {f"{item['rule']}@-"}


def truth_key(entry: dict[str, Any]) -> str:
    """The key of a ground-truth entry: `rule@where` (rule is tool:rule_id or a GATE rule id)."""
    return f"{entry['rule']}@{entry['where']}"


def judge(verdicts: dict[str, str], key: str) -> str | None:
    """The ground-truth verdict of a key; `tool:*@where` entries cover every rule of that tool there
    (every advisory the database matches to one pinned component)."""
    if key in verdicts:
        return verdicts[key]
    rule, _, where = key.partition("@")
    return verdicts.get(f"{rule.split(':', 1)[0]}:*@{where}")


@dataclass
class Score:
    """One project's figures."""

    project: str
    kind: str
    decision: str
    violations: int
    warnings: int
    real_blocked: int = 0
    false_blocks: int = 0
    unknown_blocks: int = 0
    missed: int = 0
    blocking_real_keys: set[str] = field(default_factory=set)
    false_block_keys: list[str] = field(default_factory=list)
    unknown_block_keys: list[str] = field(default_factory=list)
    missed_keys: list[str] = field(default_factory=list)


def score(project: str, verdict: dict[str, Any], truth: dict[str, Any]) -> Score:
    """Compare one verdict with the ground truth."""
    verdicts = {truth_key(e): e["verdict"] for e in truth.get("findings") or []}
    s = Score(
        project,
        truth["kind"],
        verdict["decision"],
        len(verdict.get("violations") or []),
        len(verdict.get("warnings") or []),
    )
    reported: set[str] = set()
    for item in verdict.get("warnings") or []:
        reported |= cited(verdict, item)
    for item in verdict.get("violations") or []:
        keys = cited(verdict, item)
        reported |= keys
        judged = {j for k in keys if (j := judge(verdicts, k))}
        if "real" in judged:
            s.real_blocked += 1
            s.blocking_real_keys |= {k for k in keys if judge(verdicts, k) == "real"}
        elif judged:
            s.false_blocks += 1
            s.false_block_keys.append(sorted(keys)[0])
        else:
            s.unknown_blocks += 1
            s.unknown_block_keys.append(sorted(keys)[0])
    # A known flaw is missed when nothing (no violation, no warning) is reported at its place:
    # the real findings of the ground truth and its `missed` list alike.
    reported_at = {k.split("@", 1)[1] for k in reported}
    real = [e for e in truth.get("findings") or [] if e["verdict"] == "real"]
    for where in sorted({e["where"] for e in real + list(truth.get("missed") or [])}):
        if where not in reported_at:
            s.missed += 1
            s.missed_keys.append(where)
    return s


def table(scores: list[Score]) -> str:
    """The Markdown table of the figures, and the precision and false-block lines."""
    rows = [
        "| project | kind | decision | violations | warnings | real flaws blocked | false blocks | unjudged blocks | known flaws missed |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for s in scores:
        rows.append(
            f"| {s.project} | {s.kind} | {s.decision} | {s.violations} | {s.warnings} | {s.real_blocked} | "
            f"{s.false_blocks} | {s.unknown_blocks} | {s.missed} |"
        )
    vuln = [s for s in scores if s.kind == "vulnerable"]
    healthy = [s for s in scores if s.kind == "healthy"]
    blocking = sum(s.violations for s in vuln)
    real = sum(s.real_blocked for s in vuln)
    precision = f"{real}/{blocking} = {real / blocking:.2f}" if blocking else "n/a (nothing blocks)"
    false_healthy = sum(s.false_blocks + s.unknown_blocks for s in healthy)
    rows += [
        "",
        f"Precision of blocking on the vulnerable applications (confirmed real / all blocking): {precision}",
        f"False blocks on the healthy libraries (violations not judged real): {false_healthy}",
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Scan (or read) the verdicts and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verdicts", type=Path, help="read DIR/<project>.json instead of scanning")
    parser.add_argument("--keep", type=Path, help="folder for the copies, native reports and verdicts")
    parser.add_argument("--vuln-db", type=Path, help="vulnerability database folder (built when missing)")
    parser.add_argument("--projects", default=",".join(PROJECTS), help="comma-separated subset")
    parser.add_argument("--details", action="store_true", help="list the keys behind each count")
    args = parser.parse_args(argv)
    projects = [p for p in args.projects.split(",") if p]
    scores = []
    with tempfile.TemporaryDirectory(prefix="gate-calibration-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        db = None
        for project in projects:
            if args.verdicts:
                verdict = json.loads((args.verdicts / f"{project}.json").read_text(encoding="utf-8"))
            else:
                db = db or build_vulndb(args.vuln_db or Path(tmp) / "vulndb")
                verdict = run_gate(project, work, db)
            s = score(project, verdict, load_truth(project))
            scores.append(s)
            if args.details:
                print(
                    f"{project}: false blocks {s.false_block_keys}; unjudged blocks {s.unknown_block_keys}; missed {s.missed_keys}",
                    file=sys.stderr,
                )
    print(table(scores))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
