"""The scanner runners, listed by hand (no discovery) in a table like the other plug-in families
(readers, engines, formats), in the order `--scanners` documents them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from enum import Enum
from importlib import import_module
from typing import Any, Final

from scanners.run.interface import ScannerRunner


class ScannerName(str, Enum):
    """`--scanners` choices, in the order they are documented (the default is all of them)."""

    BANDIT = "bandit"
    SEMGREP = "semgrep"
    PIP_AUDIT = "pip-audit"
    SBOM = "sbom"


def _no_options(options: Mapping[str, Any]) -> dict[str, Any]:
    return {}


# Each runner: its module and class (imported on use, so a run loads only the runners it runs),
# and how the run's options become its constructor's arguments.
_IMPLEMENTATIONS: Final[dict[ScannerName, tuple[str, str, Callable[[Mapping[str, Any]], dict[str, Any]]]]] = {
    ScannerName.BANDIT: ("scanners.run.bandit", "BanditRunner", _no_options),
    ScannerName.SEMGREP: ("scanners.run.semgrep", "SemgrepRunner", lambda o: {"extra_configs": o.get("semgrep_configs") or ()}),
    ScannerName.PIP_AUDIT: (
        "scanners.run.pip_audit",
        "PipAuditRunner",
        lambda o: {"service": o.get("pip_audit_service") or "pypi", "osv_url": o.get("osv_url")},
    ),
    ScannerName.SBOM: ("scanners.run.sbom", "SbomRunner", lambda o: {"environment": o.get("environment")}),
}

SCANNERS: Final[tuple[str, ...]] = tuple(s.value for s in ScannerName)
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
    try:
        key = ScannerName(name)
    except ValueError:
        raise UnknownScanner(f"unknown scanner {name!r} (choose from {', '.join(SCANNERS)})") from None
    module, cls, arguments = _IMPLEMENTATIONS[key]
    runner: ScannerRunner = getattr(import_module(module), cls)(**arguments(options))
    return runner
