"""Run pip-audit on the project's declared dependencies.

    pip-audit -f json -o OUT/pip-audit.json --progress-spinner off --timeout 10 -s pypi
              -r requirements.txt [...] [--no-deps --disable-pip]

What is audited comes from the same manifest the SBOM is built from (`sbom.generate`): the
requirements files themselves, or the pinned packages of a lock file (poetry, Pipfile, uv) or
the dependencies of `pyproject.toml`, written to a temporary requirements file.

- Pinned requirements (every line `name==version`, as lock files and pip-compile write them) are
  audited as they are: `--no-deps --disable-pip`, so pip neither resolves nor builds anything.
  Otherwise pip-audit resolves them with pip in a temporary virtual environment (its default),
  which downloads and may build packages; the record notes it.
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

from sbom.generate import NO_MANIFEST, all_pinned, find_manifest, requirement_lines
from scanners.run.interface import Prepared, RunRecord, ScannerRunner

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
        self.requirement_files: tuple[str, ...] = ()
        self.pinned = False

    def run(self, target: Path, out_dir: Path, timeout: float) -> RunRecord:
        """As the base, with the socket timeout kept well under the scanner time limit."""
        if timeout < 2 * self.socket_timeout:
            self.socket_timeout = max(1.0, timeout / 2)
        return super().run(target, out_dir, timeout)

    def derived_file(self) -> Path:
        """The temporary requirements file written from a lock file or `pyproject.toml`."""
        return self.work_dir / "requirements.txt"

    def prepare(self, target: Path, out_dir: Path) -> Prepared:
        """Find what to audit; nothing to audit is `not_applicable`."""
        manifest = find_manifest(target)
        if manifest is None:
            return Prepared(not_applicable=NO_MANIFEST)
        lines = requirement_lines(target, manifest)  # PrepareError for setup.py-only projects
        self.pinned = all_pinned(lines)
        notes = [f"from {manifest.describe()}"]
        if manifest.kind == "requirements":
            self.requirement_files = manifest.files
        else:
            self.derived_file().write_text("".join(f"{ln}\n" for ln in lines), encoding="utf-8")
            self.requirement_files = (str(self.derived_file()),)
        notes.append(
            "pinned requirements audited as they are (--no-deps --disable-pip)"
            if self.pinned
            else "requirements not all pinned: pip-audit resolved them with pip (downloads, may build packages)"
        )
        return Prepared(notes=notes)

    def command(self, target: Path, out_dir: Path) -> list[str]:
        """The pip-audit command line (run with `target` as the working directory)."""
        if not self.requirement_files:
            manifest = find_manifest(target)
            if manifest is not None and manifest.kind == "requirements":
                self.requirement_files = manifest.files
                self.pinned = all_pinned(requirement_lines(target, manifest))
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
        for req in self.requirement_files:
            argv += ["-r", req]
        if self.pinned:
            argv += ["--no-deps", "--disable-pip"]
        return argv
