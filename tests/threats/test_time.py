"""Time: a waiver's expiry and a rule's `effective_on` at the UTC day boundary give the same answer
whatever the machine's `TZ`; `--time` makes a run reproducible to the byte (apart from `timing`).

`expires: 2026-11-26` applies through 2026-11-26T23:59:59Z and no later; an RFC 3339 expiry
applies until that instant, exclusive. The zones below span UTC-12 to UTC+14, with DST and a
half-hour offset, so a gate that read local time anywhere would answer differently in some.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_gate
from tests.threats.helpers import CORE, CORE_POLICY, copy_tree, said

ZONES = ["UTC", "Etc/GMT+12", "America/Los_Angeles", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Tokyo", "Pacific/Kiritimati"]
WAIVER = "waivers:\n  - id: W-1\n    rule: R1\n    reason: accepted\n    approved_by: officer\n    expires: {expires}\n"


@pytest.fixture
def zone(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run the test with the process's TZ set (and the C library told), then restore it."""
    name: str = request.param
    if name != "UTC" and not Path("/usr/share/zoneinfo", name).exists():
        pytest.skip(f"no zoneinfo for {name} here")
    monkeypatch.setenv("TZ", name)
    time.tzset()
    try:
        yield name
    finally:
        monkeypatch.undo()
        time.tzset()


def run(tmp_path: Path, now: str, expires: str, policy: Path = CORE_POLICY) -> dict[str, Any]:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(WAIVER.format(expires=expires))
    out = tmp_path / "verdict.json"
    res = run_gate(
        ["evaluate", str(CORE / "high.sarif"), "--policy", str(policy), "--waivers", str(waivers), "--time", now, "--output", f"json={out}"]
    )
    assert res.exit_code in (0, 10), said(res)
    verdict: dict[str, Any] = json.loads(out.read_text())
    return verdict


def applies(verdict: dict[str, Any]) -> bool:
    waived = [w["waiver"] for w in verdict["waived"]]
    expired = [w["id"] for w in verdict["waivers_expired"]]
    assert (waived, expired) in ((["W-1"], []), ([], ["W-1"])), (waived, expired)
    return waived == ["W-1"]


BOUNDARY = [
    ("2026-11-26", "2026-11-26T23:59:59Z", True),
    ("2026-11-26", "2026-11-27T00:00:00Z", False),
    ("2026-11-26", "2026-11-27T08:59:59+09:00", True),  # the same instants, written in other zones
    ("2026-11-26", "2026-11-26T16:00:00-08:00", False),
    ("2026-11-27T00:00:00+02:00", "2026-11-26T21:59:59Z", True),  # an instant: exclusive
    ("2026-11-27T00:00:00+02:00", "2026-11-26T22:00:00Z", False),
]


@pytest.mark.slow
@pytest.mark.parametrize("zone", ZONES, indirect=True)
def test_waiver_expiry_at_the_utc_day_boundary_is_the_same_in_every_zone(tmp_path: Path, zone: str) -> None:
    for expires, now, expected in BOUNDARY:
        assert applies(run(tmp_path, now, expires)) is expected, (zone, expires, now)


def _effective_policy(tmp_path: Path) -> Path:
    pol = copy_tree(CORE_POLICY, tmp_path / "policy")
    core = pol / "core.rego"
    core.write_text(
        core.read_text().replace(
            "#   remediation: Fix the finding.\n", "#   remediation: Fix the finding.\n#   effective_on: 2026-11-27\n", 1
        )
    )
    return pol


@pytest.mark.parametrize("zone", ["Etc/GMT+12", "Pacific/Kiritimati"], indirect=True)
def test_effective_on_at_the_utc_day_boundary_is_the_same_in_every_zone(tmp_path: Path, zone: str) -> None:
    pol = _effective_policy(tmp_path)
    before = run(tmp_path, "2026-11-26T23:59:59Z", "2026-11-26", pol)
    after = run(tmp_path, "2026-11-27T00:00:00Z", "2026-11-26", pol)
    assert before["exit_code"] == 0 and before["warnings"][0]["not_yet_effective"] is True
    assert after["exit_code"] == 10 and after["violations"][0]["rule"] == "CORE-001"


def _without_timing(verdict: dict[str, Any]) -> str:
    verdict = dict(verdict)
    verdict.pop("timing")
    return json.dumps(verdict, sort_keys=True)


def test_time_makes_runs_reproducible_across_zones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = set()
    for name in ("UTC", "Pacific/Kiritimati", "Etc/GMT+12"):
        monkeypatch.setenv("TZ", name)
        time.tzset()
        seen.add(_without_timing(run(tmp_path, "2026-11-26T23:59:59Z", "2026-11-26")))
    monkeypatch.undo()
    time.tzset()
    assert len(seen) == 1
    assert json.loads(seen.pop())["context"]["time"] == "2026-11-26T23:59:59Z"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("tz", "now", "expected"),
    [
        ("Pacific/Kiritimati", "2026-11-26T23:59:59Z", True),  # already the 27th there: local time would say expired
        ("Etc/GMT+12", "2026-11-27T00:00:00Z", False),  # still the 26th there: local time would say it applies
    ],
)
def test_the_installed_command_under_an_extreme_tz(tmp_path: Path, tz: str, now: str, expected: bool) -> None:
    """A real process, whose C library read TZ at start-up."""
    import shutil

    exe = shutil.which("gate", path=os.path.dirname(sys.executable))
    assert exe
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(WAIVER.format(expires="2026-11-26"))
    cmd = [
        exe,
        "evaluate",
        str(CORE / "high.sarif"),
        "--policy",
        str(CORE_POLICY),
        "--waivers",
        str(waivers),
        "--format",
        "json",
        "--time",
        now,
    ]
    proc = subprocess.run(cmd, env={**os.environ, "TZ": tz}, capture_output=True, text=True, timeout=60)
    assert applies(json.loads(proc.stdout)) is expected, proc.stderr


def test_an_unparsable_time_is_a_usage_error(tmp_path: Path) -> None:
    res = run_gate(["evaluate", str(CORE / "high.sarif"), "--policy", str(CORE_POLICY), "--time", "2026-11-26 noon"])
    assert res.exit_code == 2
    assert "--time '2026-11-26 noon' is not an RFC 3339 time" in said(res)
