"""Run bandit: `bandit -r . -f json -o OUT/bandit.json --ignore-nosec` in the project directory.

- Inline suppressions are recorded, not obeyed: `--ignore-nosec` makes bandit report results on
  `# nosec` lines like any other (without it they vanish and only a count remains), and the
  reader (`scanners.bandit`) marks such a finding `suppressed` from the `# nosec` comment in its
  quoted code. Whether a suppression then counts is the policy's decision
  (data `honour_inline_suppressions`).
- The project's own `.bandit` files are not read: bandit picks one up from the scanned tree on
  its own, and it can skip tests, exclude paths or change the output. The runner passes
  `--ini` with an empty configuration of its own and notes any `.bandit` file it found.
- Exit codes: 0 (nothing found) and 1 (something found) both mean bandit ran; its exit code says
  nothing about risk. Files bandit could not parse are in the report's `errors`, which the
  reader turns into an incomplete scan.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from scanners.run.interface import SKIP_DIRS, Prepared, ScannerRunner, find_named, relative_inside


class BanditRunner(ScannerRunner):
    """bandit, JSON report."""

    name: ClassVar[str] = "bandit"
    tool: ClassVar[str] = "bandit"
    format: ClassVar[str] = "bandit"
    program: ClassVar[str] = "bandit"
    dist: ClassVar[str] = "bandit"
    report_name: ClassVar[str] = "bandit.json"
    ok_exit_codes: ClassVar[frozenset[int]] = frozenset({0, 1})

    def prepare(self, target: Path, out_dir: Path) -> Prepared:
        """An empty configuration of the gate's own, so no `.bandit` file from the tree is used."""
        (self.work_dir / "gate.bandit").write_text("[bandit]\n", encoding="utf-8")
        found = find_named(target, [".bandit"])
        notes = [f"project bandit configuration not used: {', '.join(found)}"] if found else []
        return Prepared(notes=notes)

    def excludes(self, target: Path, out_dir: Path) -> list[str]:
        """bandit's `-x` globs: the directories no scanner looks into, and the report folder."""
        # bandit matches each glob against the whole path ("./pkg/mod.py") with fnmatch, where
        # `*` also crosses `/`; a bare name would match as a substring of any path.
        globs = [f"*/{d}/*" for d in SKIP_DIRS] + ["*/*.egg/*"]
        inside = relative_inside(out_dir, target)
        if inside:
            globs.append(f"./{inside}/*")
        return globs

    def command(self, target: Path, out_dir: Path) -> list[str]:
        """The bandit command line (run with `target` as the working directory)."""
        return [
            self.executable() or self.program,
            "-r",
            ".",
            "-f",
            "json",
            "-o",
            str(self.report_file(out_dir).resolve()),
            "-q",
            "--ignore-nosec",
            "--ini",
            str(self.work_dir / "gate.bandit"),
            "-x",
            ",".join(self.excludes(target, out_dir)),
        ]
