"""A waiver that never expires is refused: every way to write one is a configuration error (exit 2)
naming the file and the line (THREATS.md, attack path 4). `--time` is 2026-11-26T12:00:00Z and
the horizon 180 days, so the latest allowed expiry is 2027-05-25T12:00:00Z."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.threats.helpers import CORE, assert_error_verdict, evaluate_verdict, said

GOOD = (
    "waivers:\n  - id: W-1\n    rule: R1\n    reason: accepted until the rewrite\n"
    "    approved_by: security-officer\n    expires: 2026-12-01\n"
)

CASES = [
    ("no expiry", GOOD.replace("    expires: 2026-12-01\n", ""), "2:5", "waiver 1 (W-1): required key 'expires' is missing"),
    ("misspelt key", GOOD.replace("expires:", "expiry:"), "6:5", "waiver 1 (W-1): unknown key 'expiry' (did you mean 'expires'?)"),
    (
        "misspelt approver",
        GOOD.replace("approved_by:", "aproved_by:"),
        "5:5",
        "waiver 1 (W-1): unknown key 'aproved_by' (did you mean 'approved_by'?)",
    ),
    (
        "impossible date",
        GOOD.replace("2026-12-01", "2026-13-01"),
        "6:5",
        "waiver 1 (W-1): expires '2026-13-01' is not a date (YYYY-MM-DD) or an RFC 3339 time with a zone: month must be in 1..12",
    ),
    (
        "words for a date",
        GOOD.replace("2026-12-01", "next year"),
        "6:5",
        "expires 'next year' is not a date (YYYY-MM-DD) or an RFC 3339 time with a zone",
    ),
    (
        "time without a zone",
        GOOD.replace("2026-12-01", "2026-12-01T10:00:00"),
        "6:5",
        "expires '2026-12-01T10:00:00' is not a date (YYYY-MM-DD) or an RFC 3339 time with a zone",
    ),
    (
        "beyond the horizon",
        GOOD.replace("2026-12-01", "2027-05-26"),
        "6:5",
        "expires '2027-05-26' lies beyond the horizon of 180 days (latest allowed: 2027-05-25T12:00:00Z)",
    ),
    ("year 9999", GOOD.replace("2026-12-01", "9999-12-31"), "6:5", "expires '9999-12-31' lies beyond the horizon of 180 days"),
    (
        "wildcard id",
        GOOD.replace("id: W-1", 'id: "*"'),
        "2:5",
        "id '*' must be an exact value (not blank, no spaces, no wildcard * ? [ ] { })",
    ),
    ("empty id", GOOD.replace("id: W-1", 'id: ""'), "2:5", "id '' must be an exact value"),
    ("blank id", GOOD.replace("id: W-1", 'id: "  "'), "2:5", "must be an exact value"),
    ("wildcard rule", GOOD.replace("rule: R1", 'rule: "B*"'), "3:5", "rule 'B*' must be an exact value"),
    (
        "catch-all path",
        GOOD.replace("rule: R1", 'path: "**/*"'),
        "3:5",
        "path '**/*' names nothing: every component is a wildcard or only an extension, so it matches files anywhere",
    ),
    ("no scope at all", GOOD.replace("    rule: R1\n", ""), "2:5", "waiver 1 (W-1): names no finding and no scope"),
    (
        "duplicate key",
        GOOD.replace("    rule: R1\n", "    rule: R1\n    rule: R2\n"),
        "4:5",
        "duplicate key 'rule' in the waivers file",
    ),
    ("duplicate expires", GOOD + "    expires: 2026-12-02\n", "7:5", "duplicate key 'expires' in the waivers file"),
    ("duplicate id", GOOD + GOOD.replace("waivers:\n", ""), "7:5", "waiver 2 (W-1): duplicate id (first used on line 2)"),
]


@pytest.mark.parametrize(("name", "text", "where", "message"), CASES, ids=[c[0] for c in CASES])
def test_a_waiver_that_could_outlive_its_reason_is_refused(tmp_path: Path, name: str, text: str, where: str, message: str) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(text)
    res, verdict, _ = evaluate_verdict(tmp_path, str(CORE / "high.sarif"), "--waivers", str(waivers))
    assert res.exit_code == 2, said(res)
    assert_error_verdict(verdict, 2)
    line, column = (int(x) for x in where.split(":"))
    assert verdict["error"]["file"] == str(waivers)
    assert (verdict["error"]["position"]["line"], verdict["error"]["position"]["column"]) == (line, column)
    assert f"{waivers}:{where}: " in said(res) and message in said(res)


def test_the_good_waiver_applies(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(GOOD)
    res, verdict, _ = evaluate_verdict(tmp_path, str(CORE / "high.sarif"), "--waivers", str(waivers))
    assert res.exit_code == 10, said(res)  # the test policy does not skip waived findings; the gate records the waiver
    assert [w["waiver"] for w in verdict["waived"]] == ["W-1"] and verdict["error"] is None


def test_the_last_day_within_the_horizon_is_accepted(tmp_path: Path) -> None:
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(GOOD.replace("2026-12-01", "2027-05-25"))
    res, verdict, _ = evaluate_verdict(tmp_path, str(CORE / "high.sarif"), "--waivers", str(waivers))
    assert res.exit_code == 10 and verdict["error"] is None, said(res)
    assert [w["waiver"] for w in verdict["waived"]] == ["W-1"]
