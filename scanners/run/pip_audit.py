"""Run pip-audit on the project's declared dependencies, installing and building nothing.

    pip-audit -f json -o OUT/pip-audit.json --progress-spinner off --timeout 10 -s pypi
              -r WORK/requirements.txt --no-deps --disable-pip

What is audited comes from the same manifest the SBOM is built from (`scanners.run.sbom`): the
checked requirement lines of the runtime requirements files, of a lock file (poetry, Pipfile,
uv) or of `pyproject.toml`, written by the gate to a requirements file in its private work
folder. pip-audit never sees the project's own files or folder: an index or find-links option,
an editable, path, `file:`, URL or VCS requirement is dropped before (and recorded), so nothing
from the project can be installed, built or fetched.

- pip-audit runs only in its install-nothing mode: every checked line pins one exact version
  (`name==version`, as lock files and pip-compile write them), audited as it is with
  `--no-deps --disable-pip`. Where a line is not pinned, pip-audit would have to resolve the
  requirements with pip in a virtual environment (downloading and possibly building packages,
  running their build code): the gate does not start it. The audit is then `skipped`, an
  incomplete scan that names the unpinned lines and the fix (pin them: pip-compile, a lock file).
- When its vulnerability service cannot be reached, pip-audit exits 1 and writes no report at
  all. The runner then records the audit itself as incomplete, with pip-audit's own last lines
  of output (the exception that stopped it) as its errors: never as clean. Where the service
  answers but knows a package not (a registry mirror without the JSON API), pip-audit writes a
  report whose dependencies carry `skip_reason`; the reader makes that scan incomplete.
- A project with no dependency manifest is `not_applicable` (see `RunRecord.scan_entry`).
- `--timeout` is pip-audit's socket timeout for each request to the service (its default is 15 s).
  Measured here: an unreachable host fails in about 0.5 s (name resolution or connection
  refused), a service that accepts the connection but never answers fails after exactly the
  socket timeout, once (pip-audit does not retry). The runner passes 10 s, or less when the
  scanner time limit is shorter.
- Exit codes: 0 (no known vulnerability) and 1 (vulnerabilities found) with a report both mean
  it ran; 1 without a report is the failure above.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from scanners.run.interface import Prepared, RunRecord, ScannerRunner, ScanPlan, Skip
from scanners.run.sbom import NO_MANIFEST, all_pinned, checked_requirements, find_manifest

SERVICES = ("pypi", "osv")
"""pip-audit's vulnerability services the gate offers (`--pip-audit-service`)."""

SOCKET_TIMEOUT = 10.0


class PipAuditRunner(ScannerRunner):
    """pip-audit, JSON report."""

    name: ClassVar[str] = "pip-audit"
    tool: ClassVar[str] = "pip-audit"
    format: ClassVar[str] = "pip-audit"
    program: ClassVar[str] = "pip-audit"
    dist: ClassVar[str] = "pip-audit"
    report_name: ClassVar[str] = "pip-audit.json"
    ok_exit_codes: ClassVar[frozenset[int]] = frozenset({0, 1})

    def __init__(self, *, service: str = "pypi", osv_url: str | None = None, socket_timeout: float = SOCKET_TIMEOUT) -> None:
        if service not in SERVICES:
            raise ValueError(f"unknown pip-audit service {service!r} (choose from {', '.join(SERVICES)})")
        self.service = service
        self.osv_url = osv_url
        self.socket_timeout = socket_timeout

    def run(self, target: Path, out_dir: Path, timeout: float, plan: ScanPlan | None = None) -> RunRecord:
        """As the base, with the socket timeout kept well under the scanner time limit."""
        if timeout < 2 * self.socket_timeout:
            self.socket_timeout = max(1.0, timeout / 2)
        return super().run(target, out_dir, timeout, plan)

    def derived_file(self) -> Path:
        """The checked requirement lines pip-audit reads (the gate's file, in the private work folder)."""
        return self.work_dir / "requirements.txt"

    def prepare(self, target: Path, out_dir: Path) -> Prepared:
        """Find and check what to audit; nothing to audit is `not_applicable`; unpinned lines skip the tool."""
        manifest = find_manifest(target)
        if manifest is None:
            return Prepared(not_applicable=NO_MANIFEST)
        checked = checked_requirements(target, manifest)  # PrepareError for setup.py-only projects
        notes = [f"from {manifest.describe()}", *manifest.development_note(), *checked.notes]
        if not checked.lines and not checked.errors:
            return Prepared(not_applicable=f"{manifest.describe()} names no package to audit", notes=notes)
        unpinned = [ln for ln in checked.lines if not all_pinned([ln])]
        if unpinned:
            shown = ", ".join(repr(ln) for ln in unpinned[:10]) + (f" and {len(unpinned) - 10} more" if len(unpinned) > 10 else "")
            raise Skip(
                f"pip-audit was not run: requirements not pinned to one version ({shown}) would have to be resolved "
                "with pip, which downloads and may build packages (running their code); pin every dependency "
                "(pip-compile, poetry lock, uv lock) so they can be audited as they are"
            )
        self.derived_file().write_text("".join(f"{ln}\n" for ln in checked.lines), encoding="utf-8")
        notes.append("pinned requirements audited as they are (--no-deps --disable-pip): nothing resolved, installed or built")
        return Prepared(notes=notes, errors=checked.errors)

    def command(self, target: Path, out_dir: Path) -> list[str]:
        """The pip-audit command line (run in the private work folder, on the gate's requirements file)."""
        argv = [
            self.executable() or self.program,
            "-f",
            "json",
            "-o",
            str(self.report_file(out_dir).resolve()),
            "--progress-spinner",
            "off",
            "--timeout",
            f"{self.socket_timeout:g}",
            "-s",
            self.service,
        ]
        if self.osv_url:
            argv += ["--osv-url", self.osv_url]
        return [*argv, "-r", str(self.derived_file()), "--no-deps", "--disable-pip"]
