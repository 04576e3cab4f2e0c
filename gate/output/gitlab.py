"""`gitlab-codequality`: a GitLab Code Quality report (the Code Climate subset GitLab reads).

GitLab shows it in merge requests on every tier when a job declares it as
`artifacts:reports:codequality` (https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format).
The report is a JSON array of issues; GitLab reads, of each, `description`, `check_name`,
`fingerprint` (unique: it compares the merge request's issues with the target branch's by it),
`severity` (`info`, `minor`, `major`, `critical` or `blocker`) and `location.path` with
`location.lines.begin`. The other Code Climate fields written here (`type`, `categories`,
`engine_name`, `content`) are ignored by GitLab and read by other Code Climate consumers.

One issue per result, as in every other format (`common.results`): violations and warnings
named as such at the start of the description, waived findings as `info` issues that say who
waived them. Severity: a violation's from its rule's severity (critical → blocker, high →
critical, medium → major, low → minor, info → info); a warning is at most `minor`; a waived
finding is `info`. Paths are relative to the repository root, as GitLab places them. A
report-only run (`--fail-on never`) adds one `info` issue, `GATE-REPORT-ONLY`, at
`.gitlab-ci.yml`, saying what would have closed the gate. Text is
data: JSON escapes it; GitLab renders `description` as plain text.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from gate.output.common import Result, package_name, report_only_note, results, unique_fingerprints
from gate.output.interface import Formatter
from gate.output.json_format import dump
from gate.output.locate import SourceTree, repo_path
from gate.records import InputDocument, Verdict

SEVERITY = {"critical": "blocker", "high": "critical", "medium": "major", "low": "minor", "info": "info"}
_WARN_CAP = {"blocker": "minor", "critical": "minor", "major": "minor"}
LABEL = {"deny": "violation", "warn": "warning", "waived": "waived"}
MAX_DESCRIPTION = 2000


def severity_of(r: Result) -> str:
    """The Code Quality severity of a result (see the module docstring)."""
    if r.level == "waived":
        return "info"
    sev = SEVERITY.get(r.severity, "major")
    return _WARN_CAP.get(sev, sev) if r.level == "warn" else sev


class GitlabCodeQualityFormatter(Formatter):
    """A JSON array of Code Quality issues, one per result."""

    name = "gitlab-codequality"

    def render(self, verdict: Verdict, document: InputDocument | None) -> str:
        all_results = results(verdict)
        fingerprints = unique_fingerprints(all_results)
        tree = SourceTree(self.options.source_root, self.options.findings_base)
        issues = [self._issue(r, fp, tree) for r, fp in zip(all_results, fingerprints, strict=True)]
        note = report_only_note(verdict)
        if note:  # a report-only run says what would have closed the gate here too, as one info issue
            issues.append(
                {
                    "type": "issue",
                    "check_name": "GATE-REPORT-ONLY",
                    "description": f"[report-only] {note} (--fail-on never)",
                    "categories": ["Security"],
                    "severity": "info",
                    "fingerprint": hashlib.sha256(f"report-only\x1f{note}".encode()).hexdigest()[:32],
                    "engine_name": "policy-gate",
                    "location": {"path": ".gitlab-ci.yml", "lines": {"begin": 1}},
                }
            )
        return dump(issues)

    def _issue(self, r: Result, fingerprint: str, tree: SourceTree) -> dict[str, Any]:
        if r.level == "waived":
            w = r.waiver
            text = f"[waived] {r.rule}: waived by {w.get('waiver') if w else None} (expires {w.get('expires') if w else None}): {r.msg}"
        else:
            text = f"[{LABEL[r.level]}] {r.rule}: {r.msg}"
        if len(text) > MAX_DESCRIPTION:
            text = text[: MAX_DESCRIPTION - 1] + "…"
        path, line = self._where(r, tree)
        issue: dict[str, Any] = {
            "type": "issue",
            "check_name": r.rule,
            "description": text,
            "categories": ["Security"],
            "severity": severity_of(r),
            "fingerprint": fingerprint,
            "engine_name": "policy-gate",
            "location": {"path": path, "lines": {"begin": line}},
        }
        if r.remediation:
            issue["content"] = {"body": r.remediation}
        return issue

    def _where(self, r: Result, tree: SourceTree) -> tuple[str, int]:
        """(path relative to the repository root, line): the finding, the manifest line, the report; line 1 when none."""
        loc = r.finding.get("location") if r.finding else None
        if loc and loc.get("path"):
            return repo_path(str(loc["path"]), self.options.findings_base, self.options.source_root), r.start_line or 1
        name = package_name(r)
        placed = tree.manifest_line(name) if name else None
        if placed:
            return placed
        ev = r.entry.get("evidence") if r.entry else None
        scans = ev.get("scans") if ev else None
        path = r.path or (str(scans[0]) if scans else "")
        rel = repo_path(path, self.options.working_dir, self.options.source_root) if path else "."
        # GitLab reads only paths inside the repository: evidence outside it (a vulnerability
        # database in the runner's cache, a report in $CI_BUILDS_DIR/..) is placed on the pipeline's
        # own configuration, as the report-only notice is.
        if os.path.isabs(rel) or rel.startswith("file:") or rel == ".." or rel.startswith("../"):
            return ".gitlab-ci.yml", 1
        return rel, 1
