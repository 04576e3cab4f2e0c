"""Tests that run the real scanners need them installed (the `scanners` extra).

Where one is missing they skip with a reason, unless GATE_REQUIRE_TOOLS=1 (CI), where they fail.
"""

from __future__ import annotations

import os

import pytest

from scanners.run.interface import find_program

OFFLINE = {
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "HTTP_PROXY": "http://127.0.0.1:9",
    "NO_PROXY": "",
    "no_proxy": "",
}
"""Environment of a scan without network: any proxy that refuses connections is "the
vulnerability service cannot be reached", whatever the machine's own network."""


def require_tools(*programs: str) -> None:
    """Skip (or, under GATE_REQUIRE_TOOLS=1, fail) unless every program is installed."""
    missing = [p for p in programs if find_program(p) is None]
    if not missing:
        return
    reason = f"{', '.join(missing)} not installed (pip install -e '.[scanners]')"
    if os.environ.get("GATE_REQUIRE_TOOLS") == "1":
        pytest.fail(reason + " but GATE_REQUIRE_TOOLS=1")
    pytest.skip(reason)
