"""Waivers: validated before evaluation (exit 2 naming file and line), applied by exact scopes, judged at `--time`.

Covers THREATS.md's waiver rows (no expiry, misspelt key, unparsable date, beyond horizon,
wildcard or empty id, duplicate keys) and time rows (expiry at the UTC day boundary under several
TZ values, `--time` for reproducible runs), then what applying waivers gives: waived findings
that stay visible, expired, unused and expiring waivers.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from gate.errors import ConfigError
from gate.output.registry import FORMATS
from gate.waivers import WaiverSet
from tests.conftest import REPO, run_gate
from tests.governance_support import GOV, dependency, evaluate, finding, write

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 7, 1, 12, 0, 0, tzinfo=UTC)
POLICY = GOV / "policy"
BANDIT = GOV / "reports" / "bandit-sample.json"


def load(path: Path, now: dt.datetime = NOW, horizon: int = 180, warn: int = 14) -> WaiverSet:
    return WaiverSet.load(str(path), now=now, horizon_days=horizon, warn_before_days=warn)


def waiver_text(**fields: Any) -> str:
    """One waiver entry; a field set to None is left out."""
    base: dict[str, Any] = {
        "id": "W-2026-014",
        "rule": "B602",
        "reason": "legacy export, retired with the Q4 release",
        "approved_by": "security-officer",
        "expires": "2026-09-30",
    }
    base.update(fields)
    lines = ["waivers:"]
    first = True
    for key, value in base.items():
        if value is None:
            continue
        lines.append(f"  {'- ' if first else '  '}{key}: {value}")
        first = False
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------
# Refused: exit 2 naming file and line (THREATS.md: waivers)

# (case id, file text, line of the error, text the message must hold)
REFUSED = [
    ("no-expiry", waiver_text(expires=None), 2, "'expires' is missing"),
    ("expiry-null", waiver_text(expires=""), 6, "expires must be a date"),
    ("misspelt-expiry", waiver_text(expires=None, expiry="2026-09-30"), 6, "unknown key 'expiry'"),
    ("misspelt-approver", waiver_text(approved_by=None, aproved_by="ciso"), 6, "unknown key 'aproved_by'"),
    ("unknown-key", waiver_text(owner="team-a"), 7, "unknown key 'owner'"),
    ("misspelt-top-level", "waiver:\n  - id: W-1\n", 1, "unknown key 'waiver'"),
    ("month-13", waiver_text(expires="2026-13-01"), 6, "is not a date"),
    ("february-30", waiver_text(expires="2026-02-30"), 6, "is not a date"),
    ("day-month-year", waiver_text(expires="30/09/2026"), 6, "is not a date"),
    ("words", waiver_text(expires="next quarter"), 6, "is not a date"),
    ("time-without-zone", waiver_text(expires="2026-09-30T12:00:00"), 6, "is not a date"),
    ("hour-25", waiver_text(expires="2026-09-30T25:00:00Z"), 6, "is not a date"),
    ("zone-out-of-range", waiver_text(expires="2026-09-30T12:00:00+25:00"), 6, "is not a date"),
    ("number", waiver_text(expires="20260930"), 6, "expires must be a date"),
    ("beyond-horizon", waiver_text(expires="2027-06-30"), 6, "beyond the horizon of 180 days"),
    ("horizon-plus-one-day", waiver_text(expires="2026-12-29"), 6, "beyond the horizon"),
    ("horizon-plus-one-second", waiver_text(expires="2026-12-28T12:00:01Z"), 6, "beyond the horizon"),
    ("year-9999", waiver_text(expires="9999-12-31"), 6, "beyond the horizon"),
    ("year-9999-time", waiver_text(expires="9999-12-31T23:59:59Z"), 6, "beyond the horizon"),
    ("wildcard-id", waiver_text(id='"*"'), 2, "must be an exact value"),
    ("wildcard-in-id", waiver_text(id="W-*"), 2, "must be an exact value"),
    ("question-mark-id", waiver_text(id="W-?"), 2, "must be an exact value"),
    ("empty-id", waiver_text(id='""'), 2, "must be an exact value"),
    ("blank-id", waiver_text(id='"  "'), 2, "must be an exact value"),
    ("missing-id", waiver_text(id=None), 2, "'id' is missing"),
    ("wildcard-rule", waiver_text(rule='"*"'), 3, "must be an exact value"),
    ("wildcard-vulnerability", waiver_text(rule=None, vulnerability="CVE-2024-*"), 6, "must be an exact value"),
    ("catch-all-path", waiver_text(rule=None, path='"**"'), 6, "names nothing"),
    ("star-path", waiver_text(rule=None, path='"*"'), 6, "names nothing"),
    ("star-star-slash-star", waiver_text(rule=None, path='"**/*"'), 6, "names nothing"),
    ("dot-slash-star-star", waiver_text(rule=None, path='"./**"'), 6, "names nothing"),
    ("no-scope", waiver_text(rule=None), 2, "names no finding and no scope"),
    ("empty-reason", waiver_text(reason='""'), 4, "must not be empty"),
    ("blank-approver", waiver_text(approved_by='"   "'), 5, "must not be empty"),
    ("missing-reason", waiver_text(reason=None), 2, "'reason' is missing"),
    ("finding-not-an-id", waiver_text(rule=None, finding="my-finding"), 6, "is not a finding id"),
    ("empty-file", "", 1, "is empty"),
    ("not-a-list", "waivers: W-1\n", 1, 'is not of type "array"'),
]


@pytest.mark.parametrize(("text", "line", "needle"), [pytest.param(t, ln, n, id=c) for c, t, ln, n in REFUSED])
def test_invalid_waivers_are_refused_naming_file_and_line(tmp_path: Path, text: str, line: int, needle: str) -> None:
    path = write(tmp_path / "waivers.yaml", text)
    with pytest.raises(ConfigError) as err:
        load(path)
    exc = err.value
    assert exc.exit_code == 2
    assert exc.file == str(path)
    assert exc.position is not None and exc.position.line == line, (str(exc), text)
    assert needle in exc.message, str(exc)


def test_duplicate_keys_are_refused_at_the_second_key(tmp_path: Path) -> None:
    text = waiver_text() + "    reason: a second reason that would replace the first\n"
    path = write(tmp_path / "waivers.yaml", text)
    with pytest.raises(ConfigError) as err:
        load(path)
    assert err.value.position is not None and err.value.position.line == 7
    assert "duplicate key" in err.value.message


def test_duplicate_ids_are_refused_at_the_second_id(tmp_path: Path) -> None:
    text = waiver_text() + waiver_text(rule="B324").replace("waivers:\n", "")
    path = write(tmp_path / "waivers.yaml", text)
    with pytest.raises(ConfigError) as err:
        load(path)
    assert err.value.position is not None and err.value.position.line == 7
    assert "duplicate id (first used on line 2)" in err.value.message


def test_a_misspelt_key_is_named_with_a_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path / "waivers.yaml", waiver_text(expires=None, expiry="2026-09-30"))
    with pytest.raises(ConfigError) as err:
        load(path)
    assert err.value.message.endswith("unknown key 'expiry' (did you mean 'expires'?)")
    assert str(err.value).startswith(f"{path}:6:")


def test_the_horizon_comes_from_data_and_its_last_day_is_allowed(tmp_path: Path) -> None:
    # now 2026-07-01T12:00Z + 180 days = 2026-12-28T12:00Z: that date, and that instant, are allowed.
    assert load(write(tmp_path / "a.yaml", waiver_text(expires="2026-12-28"))).waivers[0].expires == "2026-12-28"
    assert load(write(tmp_path / "b.yaml", waiver_text(expires="2026-12-28T12:00:00Z"))).waivers
    # A stricter horizon in data refuses what the default accepts.
    with pytest.raises(ConfigError, match="horizon of 30 days"):
        load(write(tmp_path / "c.yaml", waiver_text(expires="2026-09-30")), horizon=30)


def test_the_cli_refuses_each_invalid_file_with_exit_2_and_file_line(tmp_path: Path) -> None:
    for case, text, line, _ in REFUSED:
        if case not in {"no-expiry", "misspelt-expiry", "month-13", "beyond-horizon", "year-9999", "wildcard-id", "empty-id"}:
            continue
        path = write(tmp_path / f"{case}.yaml", text)
        res = run_gate(["evaluate", str(BANDIT), "--policy", str(POLICY), "--time", "2026-07-01T12:00:00Z", "--waivers", str(path)])
        assert res.exit_code == 2, (case, res.stdout, res.stderr)
        assert f"{path}:{line}" in res.stdout + res.stderr, (case, res.stdout, res.stderr)
    dup = write(tmp_path / "dup.yaml", waiver_text() + "    reason: again\n")
    res = run_gate(["evaluate", str(BANDIT), "--policy", str(POLICY), "--time", "2026-07-01T12:00:00Z", "--waivers", str(dup)])
    assert res.exit_code == 2 and f"{dup}:7" in res.stdout + res.stderr


# ------------------------------------------------------------------------------------------
# Accepted


def test_a_valid_file_gives_json_safe_entries_with_flags(tmp_path: Path) -> None:
    text = textwrap.dedent(
        """\
        waivers:
          - id: W-1
            finding: 0123456789abcdef0123456789abcdef
            reason: false positive, reviewed
            approved_by: security-officer
            ticket: SEC-1234
            expires: 2026-07-10
          - id: W-2
            path: "src/legacy/**"
            rule: B602
            reason: retired in Q4
            approved_by: ciso
            expires: 2026-12-01T17:00:00+01:00
        """
    )
    ws = load(write(tmp_path / "waivers.yaml", text))
    entries = ws.entries()
    json.dumps(entries)  # JSON-safe
    assert [e["id"] for e in entries] == ["W-1", "W-2"]
    assert entries[0] == {
        "id": "W-1",
        "finding": "0123456789abcdef0123456789abcdef",
        "reason": "false positive, reviewed",
        "approved_by": "security-officer",
        "expires": "2026-07-10",
        "ends": "2026-07-11T00:00:00Z",
        "ticket": "SEC-1234",
        "expired": False,
        "expiring": True,
    }
    assert entries[1]["ends"] == "2026-12-01T16:00:00Z" and entries[1]["expiring"] is False
    assert entries[1]["path"] == "src/legacy/**" and entries[1]["rule"] == "B602"


def test_json_and_an_empty_list_are_accepted(tmp_path: Path) -> None:
    doc = {"waivers": [{"id": "W-1", "vulnerability": "CVE-2024-22195", "reason": "r", "approved_by": "a", "expires": "2026-08-01"}]}
    assert load(write(tmp_path / "w.json", json.dumps(doc))).entries()[0]["vulnerability"] == "CVE-2024-22195"
    assert load(write(tmp_path / "none.yaml", "waivers: []\n")).entries() == []


# ------------------------------------------------------------------------------------------
# Applying


def ws_of(tmp_path: Path, *entries: dict[str, Any], now: dt.datetime = NOW) -> WaiverSet:
    full = [{"reason": "accepted", "approved_by": "security-officer", "expires": "2026-09-30", **e} for e in entries]
    return load(write(tmp_path / "w.json", json.dumps({"waivers": full})), now=now)


SCOPES = [
    ({"finding": "a" * 32}, True),
    ({"finding": "b" * 32}, False),
    ({"rule": "B602"}, True),
    ({"rule": "b602"}, True),
    ({"rule": "B603"}, False),
    ({"path": "src/shop/**"}, True),
    ({"path": "src/shop/orders.py"}, True),
    ({"path": "shop/*.py"}, False),  # anchored at the project root (tests/test_path_scopes.py)
    ({"path": "**/shop/*.py"}, True),  # `**/` is the explicit "at any depth"
    ({"path": "src/legacy/**"}, False),
    ({"path": "src/shop/orders.py", "rule": "B602"}, True),
    ({"path": "src/shop/orders.py", "rule": "B603"}, False),  # every field must match
]


@pytest.mark.parametrize(("scope", "covers"), SCOPES, ids=[json.dumps(s) for s, _ in SCOPES])
def test_scopes_of_code_findings(tmp_path: Path, scope: dict[str, Any], covers: bool) -> None:
    f = finding()
    out = ws_of(tmp_path, {"id": "W-1", **scope}).apply([f], "2026-07-01T12:00:00Z")
    assert (f["waiver"] is not None) is covers
    assert len(out.waived) == int(covers)
    assert len(out.unused) == int(not covers)


PACKAGE_SCOPES = [
    ({"package": "pkg:pypi/jinja2"}, True),
    ({"package": "pkg:pypi/jinja2@3.1.2"}, True),
    ({"package": "pkg:pypi/Jinja2@3.1.2"}, True),
    ({"package": "pkg:pypi/jinja2@3.1.3"}, False),
    ({"package": "jinja2"}, True),
    ({"package": "Jinja2"}, True),
    ({"package": "jinja"}, False),
    ({"vulnerability": "CVE-2024-22195"}, True),
    ({"vulnerability": "GHSA-h5c8-rqwp-cp95"}, True),
    ({"vulnerability": "ghsa-h5c8-rqwp-cp95"}, True),
    ({"vulnerability": "CVE-2024-22196"}, False),
    ({"vulnerability": "CVE-2024-22195", "package": "pkg:pypi/markupsafe"}, False),
]


@pytest.mark.parametrize(("scope", "covers"), PACKAGE_SCOPES, ids=[json.dumps(s) for s, _ in PACKAGE_SCOPES])
def test_scopes_of_dependency_findings(tmp_path: Path, scope: dict[str, Any], covers: bool) -> None:
    f = dependency("c" * 32, "Jinja2", "3.1.2", "GHSA-h5c8-rqwp-cp95", ("CVE-2024-22195",))
    ws_of(tmp_path, {"id": "W-1", **scope}).apply([f])
    assert (f["waiver"] is not None) is covers


def test_a_waived_finding_records_the_waiver_and_stays_listed(tmp_path: Path) -> None:
    f, g = finding("a" * 32), finding("b" * 32, rule_id="B324")
    ws = ws_of(tmp_path, {"id": "W-1", "rule": "B602", "ticket": "SEC-9"}, {"id": "W-2", "rule": "B602"})
    out = ws.apply([f, g])
    assert f["waiver"] == {"id": "W-1", "reason": "accepted", "approved_by": "security-officer", "expires": "2026-09-30", "ticket": "SEC-9"}
    assert g["waiver"] is None
    assert out.waived == [
        {
            "finding": "a" * 32,
            "waiver": "W-1",
            "reason": "accepted",
            "approved_by": "security-officer",
            "expires": "2026-09-30",
            "ticket": "SEC-9",
            "rule_id": "B602",
            "tool": "bandit",
            "path": "src/shop/orders.py",
        }
    ]
    # W-2 covers the same finding: it is used (not listed as unused), the first one is recorded.
    assert out.unused == []


def test_expired_unused_and_expiring_waivers_are_listed(tmp_path: Path) -> None:
    f = finding("a" * 32)
    ws = ws_of(
        tmp_path,
        {"id": "W-old", "rule": "B602", "expires": "2026-06-30"},
        {"id": "W-unused", "rule": "B999"},
        {"id": "W-soon", "path": "src/**", "expires": "2026-07-10"},
    )
    out = ws.apply([f])
    # The expired waiver no longer applies: the later, live one covers the finding.
    assert f["waiver"]["id"] == "W-soon"
    assert [(e["id"], e["findings"]) for e in out.expired] == [("W-old", ["a" * 32])]
    assert [e["id"] for e in out.unused] == ["W-unused"]
    assert [(e["id"], e["days_left"]) for e in out.expiring] == [("W-soon", 9)]
    assert out.expiring[0]["file"].endswith("w.json")
    flags = {e["id"]: (e["expired"], e["expiring"]) for e in ws.entries()}
    assert flags == {"W-old": (True, False), "W-unused": (False, False), "W-soon": (False, True)}


def test_an_expired_waiver_covers_nothing(tmp_path: Path) -> None:
    f = finding()
    out = ws_of(tmp_path, {"id": "W-1", "rule": "B602", "expires": "2026-06-30"}).apply([f])
    assert f["waiver"] is None and out.waived == [] and out.unused == []
    assert out.expired[0]["id"] == "W-1"


# ------------------------------------------------------------------------------------------
# Time: the UTC day boundary, in every zone


BOUNDARY = [
    # (expires, now, still applies)
    ("2026-07-01", "2026-07-01T00:00:00Z", True),
    ("2026-07-01", "2026-07-01T23:59:59Z", True),
    ("2026-07-01", "2026-07-01T23:59:59.999999Z", True),
    ("2026-07-01", "2026-07-02T00:00:00Z", False),
    ("2026-07-01", "2026-07-01T20:00:00-04:00", False),  # = 2026-07-02T00:00Z
    ("2026-07-01", "2026-07-02T13:59:59+14:00", True),  # = 2026-07-01T23:59:59Z
    ("2026-07-01T10:00:00-10:00", "2026-07-01T19:59:59Z", True),
    ("2026-07-01T10:00:00-10:00", "2026-07-01T20:00:00Z", False),
    ("2026-07-01T23:30:00+14:00", "2026-07-01T09:29:59Z", True),
    ("2026-07-01T23:30:00+14:00", "2026-07-01T09:30:00Z", False),
    ("2026-07-01T12:00:00.5Z", "2026-07-01T12:00:00Z", True),  # one fraction digit (Python 3.10 needs 3 or 6)
    ("2026-07-01T12:00:00.5Z", "2026-07-01T12:00:01Z", False),
]


def _applies(tmp_path: Path, expires: str, now: str) -> bool:
    from gate.verdict import parse_time

    f = finding()
    ws_of(tmp_path, {"id": "W-1", "rule": "B602", "expires": expires}, now=parse_time(now)).apply([f])
    return f["waiver"] is not None


@pytest.mark.parametrize(("expires", "now", "applies"), BOUNDARY, ids=[f"{e}@{n}" for e, n, _ in BOUNDARY])
def test_expiry_at_the_utc_day_boundary(tmp_path: Path, expires: str, now: str, applies: bool) -> None:
    assert _applies(tmp_path, expires, now) is applies


ZONES = ["UTC", "Pacific/Kiritimati", "America/Adak"]  # UTC+0, UTC+14, UTC-9 (July)

_PROBE = """
import json, sys, time, datetime as dt
from gate.verdict import parse_time
from gate.waivers import WaiverSet
cases = json.loads(sys.argv[1]); path = sys.argv[2]; out = []
for expires, now in cases:
    open(path, "w").write(json.dumps({"waivers": [{"id": "W-1", "rule": "B602", "reason": "r", "approved_by": "a", "expires": expires}]}))
    ws = WaiverSet.load(path, now=parse_time(now), horizon_days=180, warn_before_days=14)
    f = {"id": "a" * 32, "rule_id": "B602", "location": None, "package": None, "cve": [], "aliases": []}
    ws.apply([f]); out.append([f.get("waiver") is not None, ws.entries()[0]["ends"], ws.entries()[0]["expiring"]])
print(json.dumps({"local": time.strftime("%z", time.localtime(1782950399)), "out": out}))
"""


@pytest.mark.slow
def test_the_same_answer_in_every_time_zone(tmp_path: Path) -> None:
    """Each zone runs in its own process (TZ is read at start-up), so the zone really applies."""
    cases = [[e, n] for e, n, _ in BOUNDARY]
    answers = {}
    for zone in ZONES:
        proc = subprocess.run(  # noqa: S603
            [sys.executable, "-c", _PROBE, json.dumps(cases), str(tmp_path / f"{zone.replace('/', '_')}.json")],
            env={**os.environ, "TZ": zone},
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        answers[zone] = json.loads(proc.stdout)
    offsets = {a["local"] for a in answers.values()}
    assert len(offsets) == len(ZONES), f"the zones did not take effect: {offsets}"
    results = {json.dumps(a["out"]) for a in answers.values()}
    assert len(results) == 1, answers
    assert [r[0] for r in answers["UTC"]["out"]] == [applies for _, _, applies in BOUNDARY]


_CLI_PROBE = """
import json, sys
from click.testing import CliRunner
from gate.cli import cli
report, policy, waivers, out = sys.argv[1:5]
codes = []
for now in ("2026-07-01T23:59:59Z", "2026-07-02T00:00:00Z"):
    res = CliRunner().invoke(cli, ["evaluate", report, "--policy", policy, "--waivers", waivers, "--time", now,
                                   "--output", f"json={out}"], catch_exceptions=False)
    v = json.load(open(out))
    codes.append([res.exit_code, len(v["waived"]), [w["id"] for w in v["waivers_expired"]]])
print(json.dumps(codes))
"""


@pytest.mark.slow
def test_the_gate_judges_expiry_by_utc_whatever_the_runner_zone(tmp_path: Path) -> None:
    waivers = write(
        tmp_path / "waivers.yaml",
        textwrap.dedent(
            """\
            waivers:
              - id: W-B602
                rule: B602
                reason: legacy export, retired with the Q4 release
                approved_by: security-officer
                expires: 2026-07-01
              - id: W-MD5
                rule: B324
                path: src/shop/orders.py
                reason: cache key only, not a security use
                approved_by: security-officer
                expires: 2026-07-01
            """
        ),
    )
    seen = {}
    for zone in ("Pacific/Kiritimati", "America/Adak"):  # the day starts 14 h early / 9 h late there
        proc = subprocess.run(  # noqa: S603
            [sys.executable, "-c", _CLI_PROBE, str(BANDIT), str(POLICY), str(waivers), str(tmp_path / "v.json")],
            env={**os.environ, "TZ": zone},
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        seen[zone] = json.loads(proc.stdout)
    # Through 23:59:59 UTC both waivers cover their 3 findings: the gate opens. At 00:00 UTC they have expired.
    expected = [[0, 3, []], [10, 0, ["W-B602", "W-MD5"]]]
    assert seen == {"Pacific/Kiritimati": expected, "America/Adak": expected}


# ------------------------------------------------------------------------------------------
# End to end: reproducible, visible everywhere, expiring waivers warn


def _run(tmp_path: Path, waivers: Path, now: str = "2026-07-01T12:00:00Z", *extra: str) -> tuple[int, dict[str, Any], dict[str, Any]]:
    return evaluate(tmp_path, [BANDIT], "--waivers", str(waivers), *extra, policy=POLICY, time=now)


GOOD = textwrap.dedent(
    """\
    waivers:
      - id: W-B602
        rule: B602
        reason: legacy export, retired with the Q4 release
        approved_by: security-officer
        ticket: SEC-1234
        expires: 2026-07-10
      - id: W-UNUSED
        vulnerability: CVE-2024-22195
        reason: not used by this service
        approved_by: security-officer
        expires: 2026-09-30
      - id: W-OLD
        rule: B324
        reason: was a cache key
        approved_by: security-officer
        expires: 2026-06-30
    """
)


def test_waivers_end_to_end(tmp_path: Path) -> None:
    code, verdict, doc = _run(tmp_path, write(tmp_path / "waivers.yaml", GOOD))
    # B602 x2 waived; B324's waiver expired, so the MD5 finding blocks.
    assert code == 10
    waived_ids = {w["finding"] for w in verdict["waived"]}
    b602 = {f["id"] for f in doc["findings"] if f["rule_id"] == "B602"}
    assert waived_ids == b602 and len(b602) == 2
    assert all(w["waiver"] == "W-B602" and w["ticket"] == "SEC-1234" for w in verdict["waived"])
    blocking = {fid for e in verdict["violations"] for fid in e["evidence"]["findings"]}
    assert blocking == {f["id"] for f in doc["findings"] if f["rule_id"] == "B324"}
    assert [w["id"] for w in verdict["waivers_expired"]] == ["W-OLD"]
    assert [w["id"] for w in verdict["waivers_unused"]] == ["W-UNUSED"]
    assert [w["id"] for w in verdict["waivers_expiring"]] == ["W-B602"]
    # The expiring waiver warns (the policy reads input.waivers[].expiring).
    assert [w["rule"] for w in verdict["warnings"]] == ["GOV-WAIVER-EXPIRING"]
    # Waived findings stay in the input document and the verdict's findings, with their waiver.
    for fid in b602:
        assert verdict["findings"][fid]["waiver"]["id"] == "W-B602"
    assert {f["id"]: (f["waiver"] or {}).get("id") for f in doc["findings"] if f["id"] in b602} == dict.fromkeys(b602, "W-B602")
    assert [w["id"] for w in doc["waivers"]] == ["W-B602", "W-UNUSED", "W-OLD"]


def test_the_schemas_are_valid_and_the_documents_follow_them(tmp_path: Path) -> None:
    import jsonschema_rs
    import yaml

    from gate.documents.schema import load_schema

    for name in ("waivers", "baseline"):
        jsonschema_rs.meta.validate(load_schema(name))
    # The schema sees dates as text (the gate reads them so): validate the file as the gate does.
    doc = yaml.load(GOOD, Loader=yaml.BaseLoader)  # noqa: S506 - BaseLoader builds strings only
    jsonschema_rs.validate(load_schema("waivers"), doc)
    _, verdict, document = _run(tmp_path, write(tmp_path / "waivers.yaml", GOOD))
    jsonschema_rs.validate(load_schema("verdict"), verdict)
    jsonschema_rs.validate(load_schema("input"), document)


@pytest.mark.slow
def test_time_makes_runs_reproducible(tmp_path: Path) -> None:
    path = write(tmp_path / "waivers.yaml", GOOD)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _, first, _ = _run(tmp_path / "a", path)
    _, second, _ = _run(tmp_path / "b", path)
    first.pop("timing")
    second.pop("timing")
    assert first == second
    assert first["context"]["time"] == "2026-07-01T12:00:00Z"
    # Another --time, another judgement: on 2026-07-11 W-B602 has expired too.
    _, later, _ = _run(tmp_path / "a", path, "2026-07-11T00:00:00Z")
    assert sorted(w["id"] for w in later["waivers_expired"]) == ["W-B602", "W-OLD"]
    assert later["waived"] == []


@pytest.mark.slow
@pytest.mark.parametrize("fmt", [f for f in FORMATS if f not in ("input",)])
def test_waived_findings_are_visible_in_every_output(tmp_path: Path, fmt: str) -> None:
    path = write(tmp_path / "waivers.yaml", GOOD)
    out = tmp_path / f"out.{fmt}"
    res = run_gate(
        [
            "evaluate",
            str(BANDIT),
            "--policy",
            str(POLICY),
            "--waivers",
            str(path),
            "--time",
            "2026-07-01T12:00:00Z",
            "--output",
            f"{fmt}={out}",
        ]
    )
    assert res.exit_code == 10, (res.stdout, res.stderr)
    text = html.unescape(out.read_text())  # Markdown writes "-" as "&#45;", XML escapes too
    assert "W-B602" in text, f"{fmt} does not show the waiver covering the waived findings"
