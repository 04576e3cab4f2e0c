"""The environment every process the gate starts gets: an allow-list, never the job's own.

A scanner (or anything it runs by mistake) must not reach what the CI job keeps in its
environment: the files that change the job's next steps (`GITHUB_ENV`, `GITHUB_OUTPUT`,
`GITHUB_PATH`, `GITHUB_STEP_SUMMARY`), tokens, secrets and the runner's `ACTIONS_*` variables.
So a process the gate starts sees only:

- `PATH`, the locale (`LANG`, `LANGUAGE`, `LC_*`), `TZ`;
- `HOME`, `TMPDIR` and the XDG folders pointing into a private folder of the run (semgrep
  writes its settings under `~/.semgrep`, pip-audit its cache under `~/.cache`);
- the proxy and CA-bundle variables (the vulnerability service may sit behind a proxy);
- the variables the gate itself sets for the tool (`NO_COLOR`, `PYTHONIOENCODING`,
  `SEMGREP_ENABLE_VERSION_CHECK`, ...), and `PYTHONNOUSERSITE=1`, `PYTHONDONTWRITEBYTECODE=1`.

Whatever name is allowed, a name that looks like a credential or a runner control
(`*TOKEN*`, `*SECRET*`, `*PASSWORD*`, `*CREDENTIAL*`, `ACTIONS_*`, `GITHUB_*`, `RUNNER_*`) never
passes, not even from the gate's own additions. `PYTHONPATH`, `PYTHONHOME`, `PYTHONSTARTUP`,
`BASH_ENV`, `ENV`, `LD_PRELOAD` and their kin are not on the list, so they never pass either.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final

ALLOWED: Final = frozenset(
    {
        "PATH",
        "LANG",
        "LANGUAGE",
        "TZ",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "all_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
    }
)
"""Names passed on from the gate's own environment (plus every `LC_*`)."""

GATE_SET: Final = frozenset(
    {
        "NO_COLOR",
        "PYTHONIOENCODING",
        "PYTHONUTF8",
        "SEMGREP_ENABLE_VERSION_CHECK",
        "SEMGREP_SEND_METRICS",
        "SEMGREP_USER_AGENT_APPEND",
    }
)
"""Names a runner may set for its tool (`ScannerRunner.env_additions`)."""

NEVER: Final = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE_KEY|API_KEY|^ACTIONS_|^GITHUB_|^RUNNER_", re.IGNORECASE)
"""Names that never pass, whatever the lists above say."""

FIXED: Final = {"PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def _passes(name: str) -> bool:
    return not NEVER.search(name)


def minimal_env(home: Path, additions: Mapping[str, str] | None = None, *, source: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a process the gate starts: the allow-list of `source` (default: the
    gate's own environment), a private `home` (created, mode 0700) for HOME, TMPDIR and the XDG
    folders, and `additions` (names from `GATE_SET` only; anything else is a bug and raises)."""
    source = os.environ if source is None else source
    env = {k: v for k, v in source.items() if (k in ALLOWED or k.startswith("LC_")) and _passes(k)}
    # Only absolute PATH entries: an empty or relative one would find programs in whatever the
    # working directory is.
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", os.defpath).split(os.pathsep) if os.path.isabs(p)) or os.defpath
    tmp = home / "tmp"
    for folder in (home, tmp, home / ".cache", home / ".config", home / ".local" / "share"):
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    env.update(
        {
            "HOME": str(home),
            "TMPDIR": str(tmp),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            **FIXED,
        }
    )
    for name, value in (additions or {}).items():
        if name not in GATE_SET or not _passes(name):
            raise ValueError(f"{name} is not a variable the gate sets for a tool (scanners.run.environment.GATE_SET)")
        env[name] = value
    return env
