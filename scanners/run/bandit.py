"""Run bandit on the gate's snapshot of the project's source:

    bandit -r -f json -o OUT/bandit.json -q --ignore-nosec --ini WORK/gate.bandit
           -x WORK/gate-excludes-nothing -- . [other sources by name]

in the snapshot (`scanners.run.coverage`): a private copy of exactly the source files the data
says to scan, so nothing of the tree's own configuration is there for bandit to read.

- Inline suppressions are recorded, not obeyed: `--ignore-nosec` makes bandit report results on
  `# nosec` lines like any other (without it they vanish and only a count remains), and the
  reader (`scanners.bandit`) marks such a finding `suppressed` from the `# nosec` comment in its
  quoted code. Whether a suppression then counts is the policy's decision
  (data `honour_inline_suppressions`).
- No configuration but the gate's: `--ini` names an empty configuration of the gate's own (so no
  `.bandit` file is looked for), and `-x` names one path that exists nowhere: without `-x`,
  bandit applies its built-in excludes (`.svn,CVS,.bzr,.hg,.git,__pycache__,.tox,.eggs,*.egg`,
  matched as substrings of every path), which would skip `src/.tox/x.py`. The project's
  `.bandit` files and `[tool.bandit]` sections are noted, never used (they are not even copied).
- `-r` on `.` finds the `*.py` files; every other source (`.pyw`, a script with a Python shebang)
  is named on the command line (after `--`, so no name reads as an option), which bandit scans
  whatever its name.
- Exit codes: 0 (nothing found) and 1 (something found) both mean bandit ran; its exit code says
  nothing about risk. Files bandit could not parse are in the report's `errors`, which the
  reader turns into an incomplete scan. The files bandit scanned are the keys of its report's
  `metrics`: what the gate counts as covered.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

from scanners.run.coverage import bandit_scanned
from scanners.run.interface import Prepared, ScannerRunner, find_named


def _mentions_bandit(path: Path) -> bool:
    """Whether a configuration file at the project root has a bandit section (for the record only)."""
    try:
        if not path.is_file() or path.is_symlink() or path.stat().st_size > 1 << 20:
            return False
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return "[bandit]" in text or "[tool.bandit]" in text


class BanditRunner(ScannerRunner):
    """bandit, JSON report."""

    name: ClassVar[str] = "bandit"
    tool: ClassVar[str] = "bandit"
    format: ClassVar[str] = "bandit"
    program: ClassVar[str] = "bandit"
    dist: ClassVar[str] = "bandit"
    report_name: ClassVar[str] = "bandit.json"
    ok_exit_codes: ClassVar[frozenset[int]] = frozenset({0, 1})
    code_scanner: ClassVar[bool] = True

    def prepare(self, target: Path, out_dir: Path) -> Prepared:
        """An empty configuration of the gate's own; note the project's bandit configuration (not used)."""
        (self.work_dir / "gate.bandit").write_text("[bandit]\n", encoding="utf-8")
        found = find_named(target, [".bandit"])
        for name in ("setup.cfg", "pyproject.toml", "tox.ini"):
            if _mentions_bandit(target / name):
                found.append(name)
        notes = [f"project bandit configuration not used: {', '.join(found)}"] if found else []
        return Prepared(notes=notes)

    def excludes(self) -> str:
        """bandit's `-x`: one path that exists nowhere, so its built-in excludes do not apply."""
        # bandit excludes a file when an exclude is a substring of its path ("./pkg/mod.py"):
        # an absolute path inside the gate's private work folder is never one.
        return str(self.work_dir / "gate-excludes-nothing")

    def command(self, target: Path, out_dir: Path) -> list[str]:
        """The bandit command line (run in the snapshot `target`)."""
        others = self.plan.survey.by_extension()[1] if self.plan is not None else []
        argv = [
            self.executable() or self.program,
            "-r",
            "-f",
            "json",
            "-o",
            str(self.report_file(out_dir).resolve()),
            "-q",
            "--ignore-nosec",
            "--ini",
            str(self.work_dir / "gate.bandit"),
            "-x",
            self.excludes(),
        ]
        return [*argv, "--", ".", *others]

    def covered(self, data: bytes) -> set[str]:
        """The files in the report's `metrics`."""
        try:
            return bandit_scanned(json.loads(data))
        except ValueError:
            return set()
