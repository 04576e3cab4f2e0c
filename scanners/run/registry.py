"""The scanner runners, listed by hand (no discovery), in the order `--scanners` documents them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from scanners.run.interface import ScannerRunner

SCANNERS: Final = ("bandit", "semgrep", "pip-audit", "sbom")
"""Every name `--scanners` accepts; the default is all of them."""


class UnknownScanner(ValueError):
    """A `--scanners` name that is not in `SCANNERS`."""


def parse_scanners(text: str | Sequence[str]) -> tuple[str, ...]:
    """`"bandit, semgrep"` (or a list of such strings) -> ("bandit", "semgrep"): known names, each once, in the given order.

    An unknown name raises `UnknownScanner` naming it and the choices; an empty selection too.
    """
    parts = [text] if isinstance(text, str) else list(text)
    names: list[str] = []
    for part in parts:
        for raw in part.split(","):
            name = raw.strip().lower()
            if not name:
                continue
            if name not in SCANNERS:
                raise UnknownScanner(f"unknown scanner {raw.strip()!r} (choose from {', '.join(SCANNERS)})")
            if name not in names:
                names.append(name)
    if not names:
        raise UnknownScanner(f"no scanner selected (choose from {', '.join(SCANNERS)})")
    return tuple(names)


def get_runner(name: str, **options: Any) -> ScannerRunner:
    """The runner for `name`. Options: `semgrep_configs` (extra semgrep configs), `pip_audit_service`,
    `osv_url`, `environment` (SBOM of an environment instead of the manifest)."""
    if name == "bandit":
        from scanners.run.bandit import BanditRunner

        return BanditRunner()
    if name == "semgrep":
        from scanners.run.semgrep import SemgrepRunner

        return SemgrepRunner(options.get("semgrep_configs") or ())
    if name == "pip-audit":
        from scanners.run.pip_audit import PipAuditRunner

        return PipAuditRunner(service=options.get("pip_audit_service") or "pypi", osv_url=options.get("osv_url"))
    if name == "sbom":
        from scanners.run.sbom import SbomRunner

        return SbomRunner(environment=options.get("environment"))
    raise UnknownScanner(f"unknown scanner {name!r} (choose from {', '.join(SCANNERS)})")
