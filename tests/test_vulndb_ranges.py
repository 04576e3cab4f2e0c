"""Declared version ranges matched against the database (issue 17, gate.vulndb.match._judge_range).

A library's SBOM (written by `gate run` from its pyproject dependencies) lists ranges, not
versions (`urllib3>=1.26,<3`): before, every such component was "unmatched" and prod denied
(GATE-VULNDB-003), so a healthy library could never pass. Now the range itself is judged: no
admitted version affected -> clean; every admitted version affected -> blocks everywhere
(GATE-VULNDB-005); some affected, some fixed -> the stage's `vulndb.ranges` (prod: deny,
GATE-VULNDB-006; the `library` profile the CI configuration picks, and the other stages: one
warning, GATE-VULNDB-007, naming the lower bound to raise to).

Attack first: an application pinning a vulnerable version is blocked in prod; the same
application switching the pin to a range (`demo>=1.0` admitting the vulnerable 1.x) must still be
blocked in prod under the default profile, and a range every version of which is vulnerable is
blocked even in the library profile.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gate.vulndb.versions import covers, overlaps, pypi_version, vers_interval
from sbom.cyclonedx import _version_range, pep440_vers
from tests.vulndb_support import build_db, evaluate, pypi, record


def ranged(name: str, requirement: str, line: int = 1) -> dict[str, Any]:
    """A component as cyclonedx-py writes it from a requirement line without a pin."""
    return {"name": name, "purl": f"pkg:pypi/{name}", "description": f"requirements line {line}: {requirement}"}


@pytest.mark.parametrize(
    ("requirement", "vers"),
    [
        ("urllib3>=1.26,<3", "vers:pypi/>=1.26|<3"),
        ("urllib3 >= 1.26 ; python_version >= '3.8'", "vers:pypi/>=1.26"),
        ("urllib3", "vers:pypi/*"),
        ("urllib3~=2.2", "vers:pypi/>=2.2|<3"),
        ("urllib3~=1.26.5", "vers:pypi/>=1.26.5|<1.27"),
        ("urllib3==1.*", "vers:pypi/>=1.dev0|<2.dev0"),
        ("urllib3!=2.0.0,>=1.26", "vers:pypi/>=1.26|!=2.0.0"),
        ("urllib3===1.26", None),
        ("urllib3!=1.*", None),
        ("requests>=1", None),  # names another project
        ("urllib3>=not a version", None),
    ],
)
def test_requirement_lines_become_vers_ranges(requirement: str, vers: str | None) -> None:
    assert pep440_vers(requirement, "urllib3") == vers


def test_vers_intervals() -> None:
    v = pypi_version
    assert vers_interval("vers:pypi/>=1.26|<3", "PyPI") == ((v("1.26"), True), (v("3"), False))
    assert vers_interval("vers:pypi/*", "PyPI") == (None, None)
    assert vers_interval("vers:pypi/=1.2", "PyPI") == ((v("1.2"), True), (v("1.2"), True))
    assert vers_interval("vers:pypi/>=1|>=2", "PyPI") is None  # two lower bounds: not a simple range
    assert vers_interval("vers:pypi/=1|=2", "PyPI") is None
    assert vers_interval("vers:pypi/>=1|=2", "PyPI") is None
    assert vers_interval("vers:npm/>=1", "PyPI") is None
    assert vers_interval(">=1", "PyPI") is None
    assert vers_interval("vers:pypi/>=x y", "PyPI") is None


def test_spans_overlap_and_cover() -> None:
    v = pypi_version
    span = (v("1.0"), v("1.5"), False)  # [1.0, 1.5)
    assert overlaps((v("1.4"), True), None, span)
    assert not overlaps((v("1.5"), True), None, span)
    assert not overlaps(None, (v("1.0"), False), span)
    assert overlaps(None, (v("1.0"), True), span)
    assert covers((v("1.0"), True), (v("1.5"), False), span)
    assert not covers((v("1.0"), True), (v("1.5"), True), span)
    assert not covers((v("0.9"), True), (v("1.2"), False), span)
    assert covers((v("1.1"), True), (v("1.4"), True), span)
    assert covers((v("3"), True), None, (v("2"), None, False))  # no fix: everything above
    assert not covers((v("3"), True), None, span)


def test_the_reader_takes_a_range_only_for_a_component_without_a_version() -> None:
    assert _version_range({"name": "a", "version": "1.0", "description": "requirements line 1: a>=1"}) is None
    assert _version_range({"name": "a", "versionRange": "vers:pypi/>=1|<2"}) == "vers:pypi/>=1|<2"
    assert _version_range({"name": "a", "description": "requirements line 3: a>=1"}) == "vers:pypi/>=1"
    assert _version_range({"name": "a", "description": "a>=1"}) is None
    assert _version_range({"name": "a"}) is None


RECORDS = [
    record(
        "PYSEC-0000-71",
        "demo",
        [{"introduced": "0"}, {"fixed": "1.5"}],
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
    ),
    record(
        "PYSEC-0000-72",
        "demo",
        [{"introduced": "2.0"}, {"fixed": "2.3"}],
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
    ),
]


def _rules(verdict: dict[str, Any], kind: str) -> set[str]:
    return {v["rule"] for v in verdict[kind]}


def test_attack_vulnerable_pin_then_range_still_blocks_in_prod(tmp_path: Path) -> None:
    """Attack: the pinned vulnerable demo 1.0 blocks in prod; switching the pin to `demo>=1.0`
    (which admits 1.0 to 1.4 and 2.0 to 2.2) must not open the gate under the default profile."""
    db = build_db(tmp_path, RECORDS)
    code, _, verdict = evaluate(tmp_path, db, [pypi("demo", "1.0")], "--stage", "prod")
    assert code == 10
    code, doc, verdict = evaluate(tmp_path, db, [ranged("demo", "demo>=1.0")], "--stage", "prod")
    assert code == 10
    assert "GATE-VULNDB-006" in _rules(verdict, "violations")
    assert "GATE-VULNDB-003" not in _rules(verdict, "violations")  # judged, not unknown
    (entry,) = doc["vulndb"]["ranges"]
    assert entry["range"] == "vers:pypi/>=1.0"
    assert entry["raise_to"] == ">=2.3"
    assert {a["id"]: a["every_version"] for a in entry["advisories"]} == {"PYSEC-0000-71": False, "PYSEC-0000-72": False}
    assert doc["vulndb"]["unmatched"] == []


def test_attack_range_whose_every_version_is_vulnerable_blocks_even_for_a_library(tmp_path: Path) -> None:
    """Attack: `demo>=1.0,<1.5` admits only versions PYSEC-0000-71 affects; the library profile
    (ranges warn) must still block it."""
    db = build_db(tmp_path, RECORDS)
    for stage in ("library", "prod", "dev"):
        code, _, verdict = evaluate(tmp_path, db, [ranged("demo", "demo>=1.0,<1.5")], "--stage", stage)
        assert code == 10, stage
        assert "GATE-VULNDB-005" in _rules(verdict, "violations"), stage


def test_library_profile_warns_with_the_bound_to_raise(tmp_path: Path) -> None:
    db = build_db(tmp_path, RECORDS)
    _, _, verdict = evaluate(tmp_path, db, [ranged("demo", "demo>=1.0")], "--stage", "library")
    # (the SBOM alone lacks the SAST evidence the profile requires: that violation is not ours)
    assert not {r for r in _rules(verdict, "violations") if r.startswith("GATE-VULNDB")}, verdict["violations"]
    (warning,) = [w for w in verdict["warnings"] if w["rule"] == "GATE-VULNDB-007"]
    assert "raise the lower bound to >=2.3" in warning["msg"]
    assert warning["evidence"]["components"] == ["pkg:pypi/demo"]


def test_a_range_that_admits_only_fixed_versions_is_clean(tmp_path: Path) -> None:
    db = build_db(tmp_path, RECORDS)
    for requirement in ("demo>=2.3", "demo>=1.5,<2", "other>=1"):
        name = requirement.split(">")[0]
        _, doc, verdict = evaluate(tmp_path, db, [ranged(name, requirement)], "--stage", "prod")
        rules = _rules(verdict, "violations") | _rules(verdict, "warnings")
        assert not {r for r in rules if r.startswith("GATE-VULNDB")}, (requirement, rules)
        assert doc["vulndb"]["ranges"] == [] and doc["vulndb"]["unmatched"] == []
        assert doc["vulndb"]["matched"] == 1


def test_a_range_the_gate_cannot_read_stays_unmatched(tmp_path: Path) -> None:
    db = build_db(tmp_path, RECORDS)
    comp = {"name": "demo", "purl": "pkg:pypi/demo", "description": "requirements line 1: demo===1.0"}
    code, doc, verdict = evaluate(tmp_path, db, [comp], "--stage", "prod")
    assert code == 10
    assert "GATE-VULNDB-003" in _rules(verdict, "violations")
    assert [u["reason"] for u in doc["vulndb"]["unmatched"]] == ["no version"]


def test_attack_an_epoch_in_a_compatible_release_range(tmp_path: Path) -> None:
    """Attack (red team, round 2): `~=1!1.4` and `==1!1.*` were read as `>=1!1.4|<2` (the upper
    bound lost its epoch): an interval that admits nothing, so no advisory overlapped and the
    vulnerable 1!1.4 to 1!1.8 passed prod as clean. The bound keeps the epoch now, and a range
    that admits no version is not judged (unmatched: it blocks in prod)."""
    assert pep440_vers("epo~=1!1.4", "epo") == "vers:pypi/>=1!1.4|<1!2"
    assert pep440_vers("epo==1!1.*", "epo") == "vers:pypi/>=1!1.dev0|<1!2.dev0"
    assert vers_interval("vers:pypi/<1|>=2", "PyPI") is None  # admits nothing
    assert vers_interval("vers:pypi/>=2|<2", "PyPI") is None
    records = [record("PYSEC-0000-90", "epo", [{"introduced": "1!1.0"}, {"fixed": "1!1.9"}])]
    db = build_db(tmp_path, records)
    for requirement in ("epo~=1!1.4", "epo==1!1.*"):
        code, _, verdict = evaluate(tmp_path, db, [ranged("epo", requirement)], "--stage", "prod")
        assert code == 10, requirement
        assert {"GATE-VULNDB-005", "GATE-VULNDB-006"} & _rules(verdict, "violations"), requirement
