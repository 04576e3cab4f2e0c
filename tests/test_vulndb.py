"""The local OSV vulnerability database: building it, matching SBOM components, the database as evidence.

Version semantics are checked end to end (records -> `gate vulndb update` -> `gate evaluate` of an
SBOM -> the input document), so each test proves what a pipeline would see.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.conftest import REPO, run_gate
from tests.vulndb_support import EXAMPLE_SOURCE, TIME, build_db, evaluate, matches, pypi, record, write_records

# --------------------------------------------------------------------------------------------
# Ranges and PEP 440


def test_several_introduced_fixed_pairs(tmp_path: Path) -> None:
    rec = record(
        "PYSEC-0000-1",
        "demo",
        [{"introduced": "1.0"}, {"fixed": "1.5"}, {"introduced": "2.0"}, {"fixed": "2.3.1"}, {"introduced": "3.0"}],
    )
    db = build_db(tmp_path, [rec])
    versions = ["0.9", "1.0", "1.4.9", "1.5", "1.9", "2.0", "2.3.0", "2.3.1", "2.9", "3.0", "9.0"]
    _, doc, _ = evaluate(tmp_path, db, [pypi("demo", v) for v in versions])
    hit = {p.rsplit("@", 1)[1] for p in matches(doc)}
    assert hit == {"1.0", "1.4.9", "2.0", "2.3.0", "3.0", "9.0"}


def test_events_in_any_order_are_sorted(tmp_path: Path) -> None:
    rec = record("PYSEC-0000-2", "demo", [{"fixed": "2.3.1"}, {"introduced": "2.0"}, {"fixed": "1.5"}, {"introduced": "0"}])
    db = build_db(tmp_path, [rec])
    _, doc, _ = evaluate(tmp_path, db, [pypi("demo", v) for v in ["0.1", "1.5", "2.1", "2.3.1"]])
    assert {p.rsplit("@", 1)[1] for p in matches(doc)} == {"0.1", "2.1"}


def test_last_affected_and_limit(tmp_path: Path) -> None:
    recs = [
        record("PYSEC-0000-3", "last", [{"introduced": "0"}, {"last_affected": "1.4"}]),
        record("PYSEC-0000-4", "limited", [{"introduced": "1.0"}, {"limit": "2.0"}]),
    ]
    db = build_db(tmp_path, recs)
    comps = [pypi("last", v) for v in ["1.3", "1.4", "1.4.post1", "1.5"]] + [pypi("limited", v) for v in ["0.9", "1.0", "1.9", "2.0"]]
    _, doc, _ = evaluate(tmp_path, db, comps)
    assert set(matches(doc)) == {"pkg:pypi/last@1.3", "pkg:pypi/last@1.4", "pkg:pypi/limited@1.0", "pkg:pypi/limited@1.9"}


def test_pre_and_post_releases_order_by_pep_440(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-0000-5", "demo", [{"introduced": "2.0rc1"}, {"fixed": "2.0.post1"}])])
    versions = ["2.0b9", "2.0rc1", "2.0rc2", "2.0", "2.0.post1", "2.0.post2", "2.0.1.dev0"]
    _, doc, _ = evaluate(tmp_path, db, [pypi("demo", v) for v in versions])
    assert {p.rsplit("@", 1)[1] for p in matches(doc)} == {"2.0rc1", "2.0rc2", "2.0"}


def test_epochs(tmp_path: Path) -> None:
    """1!1.0 is later than any version without an epoch: a fix at 2.0 does not cover it, one at 1!1.1 does."""
    recs = [
        record("PYSEC-0000-6", "demo", [{"introduced": "0"}, {"fixed": "2.0"}]),
        record("PYSEC-0000-7", "demo", [{"introduced": "1!0"}, {"fixed": "1!1.1"}]),
    ]
    db = build_db(tmp_path, recs)
    _, doc, _ = evaluate(tmp_path, db, [pypi("demo", v) for v in ["1.9", "9.0", "1!1.0", "1!1.1"]])
    found = {f["package"]["version"]: f["rule_id"] for f in doc["findings"]}
    assert found == {"1.9": "PYSEC-0000-6", "1!1.0": "PYSEC-0000-7"}


def test_local_versions(tmp_path: Path) -> None:
    """A local version (+build) of an affected release is affected: 1.4+patched sorts just above 1.4, below 1.5.

    Attack: an SBOM that labels the vulnerable build `1.4+ubuntu1` (or `+safe`) to slip past an
    exact-version comparison. PEP 440 ordering keeps it in the range.
    """
    db = build_db(tmp_path, [record("PYSEC-0000-8", "demo", [{"introduced": "0"}, {"fixed": "1.5"}], versions=["1.4"])])
    _, doc, _ = evaluate(tmp_path, db, [pypi("demo", v) for v in ["1.4+ubuntu1", "1.4+safe", "1.5+local"]])
    # The input document's purls are canonical (gate.purl): `+` is percent-encoded there.
    assert {unquote(p.rsplit("@", 1)[1]) for p in matches(doc)} == {"1.4+ubuntu1", "1.4+safe"}
    # The SBOM may spell the purl canonically itself: the encoded version is the same version.
    _, doc, _ = evaluate(tmp_path, db, [{"name": "demo", "purl": "pkg:pypi/demo@1.4%2Bubuntu1", "version": "1.4+ubuntu1"}])
    assert len(matches(doc)) == 1


def test_versions_list_without_ranges(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-0000-9", "demo", [], versions=["1.0", "1.1.0"])])
    _, doc, _ = evaluate(tmp_path, db, [pypi("demo", v) for v in ["1.0", "1.0.0", "1.1", "1.2"]])
    # PEP 440 equality: 1.0.0 is 1.0, 1.1 is 1.1.0.
    assert {p.rsplit("@", 1)[1] for p in matches(doc)} == {"1.0", "1.0.0", "1.1"}


def test_withdrawn_records_are_skipped(tmp_path: Path) -> None:
    recs = [
        record("PYSEC-0000-10", "demo", withdrawn="2024-01-01T00:00:00Z"),
        record("PYSEC-0000-11", "demo", [{"introduced": "0"}, {"fixed": "3.0"}]),
    ]
    db = build_db(tmp_path, recs)
    status = run_gate(["vulndb", "status", "--db", str(db), "--format", "json"])
    assert json.loads(status.stdout)["withdrawn"] == 1
    assert json.loads(status.stdout)["records"] == 1
    _, doc, _ = evaluate(tmp_path, db, [pypi("demo", "1.0")])
    assert matches(doc) == {"pkg:pypi/demo@1.0": {"PYSEC-0000-11"}}


@pytest.mark.slow
def test_aliases_merge_into_one_finding(tmp_path: Path) -> None:
    """PYSEC and GHSA records of one flaw (each naming the other, and the CVE) are one finding with every id."""
    v3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    recs = [
        record("PYSEC-2099-1", "demo", [{"introduced": "0"}, {"fixed": "1.2"}], aliases=["CVE-2099-0001", "GHSA-aaaa-bbbb-cccc"]),
        record(
            "GHSA-aaaa-bbbb-cccc",
            "demo",
            [{"introduced": "1.0"}, {"fixed": "1.2.1"}],
            aliases=["CVE-2099-0001"],
            severity=[{"type": "CVSS_V3", "score": v3}],
        ),
        record("PYSEC-2099-2", "demo", [{"introduced": "0"}, {"fixed": "1.3"}], aliases=["CVE-2099-0002"]),
    ]
    db = build_db(tmp_path, recs)
    _, doc, _ = evaluate(tmp_path, db, [pypi("Demo", "1.1")])
    findings = sorted((f for f in doc["findings"] if f["tool"] == "gate-vulndb"), key=lambda f: f["rule_id"])
    assert [f["rule_id"] for f in findings] == ["PYSEC-2099-1", "PYSEC-2099-2"]
    merged = findings[0]
    assert merged["cve"] == ["CVE-2099-0001"]
    assert merged["aliases"] == ["GHSA-aaaa-bbbb-cccc"]
    assert merged["package"]["fixed_versions"] == ["1.2", "1.2.1"]
    assert merged["severity"] == "critical"  # the GHSA record's CVSS 3.1 vector, 9.8
    assert "CVSS 9.8" in merged["message"]
    assert findings[1]["severity"] == "unknown"  # no vector, no label: the stage's unknown_severity_as decides


@pytest.mark.slow
def test_cvss_v4_and_label_fallback(tmp_path: Path) -> None:
    v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N"
    recs = [
        record("GHSA-v4v4-v4v4-v4v4", "demo", severity=[{"type": "CVSS_V4", "score": v4}]),
        record("GHSA-labl-labl-labl", "demo", database_specific={"severity": "MODERATE"}),
        record("GHSA-badv-badv-badv", "demo", severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/garbage"}]),
    ]
    db = build_db(tmp_path, recs)
    _, doc, _ = evaluate(tmp_path, db, [pypi("demo", "1.0")])
    sev = {f["rule_id"]: f["severity"] for f in doc["findings"]}
    assert sev == {"GHSA-v4v4-v4v4-v4v4": "medium", "GHSA-labl-labl-labl": "medium", "GHSA-badv-badv-badv": "unknown"}


# --------------------------------------------------------------------------------------------
# Other ecosystems (univers)


def test_other_ecosystems_through_univers(tmp_path: Path) -> None:
    recs = [
        record("GHSA-npm1-npm1-npm1", "@scope/pkg", [{"introduced": "0"}, {"fixed": "1.10.0"}], ecosystem="npm", range_type="SEMVER"),
        record("GHSA-mvn1-mvn1-mvn1", "org.example:lib", [{"introduced": "2.0"}, {"fixed": "2.0.1"}], ecosystem="Maven"),
        record("GO-2024-0001", "example.com/mod", [{"introduced": "0"}, {"fixed": "1.2.3"}], ecosystem="Go"),
        record("RUSTSEC-2024-0001", "crate", [], ecosystem="crates.io", versions=["0.3.1"]),
    ]
    db = build_db(tmp_path, recs)
    comps = [
        {"name": "pkg", "version": "1.9.0", "purl": "pkg:npm/%40scope/pkg@1.9.0"},
        {"name": "pkg", "version": "1.10.0", "purl": "pkg:npm/%40scope/pkg@1.10.0"},
        {"name": "lib", "version": "2.0", "purl": "pkg:maven/org.example/lib@2.0"},
        {"name": "mod", "version": "v1.2.2", "purl": "pkg:golang/example.com/mod@v1.2.2"},
        {"name": "crate", "version": "0.3.1", "purl": "pkg:cargo/crate@0.3.1"},
    ]
    _, doc, _ = evaluate(tmp_path, db, comps)
    assert matches(doc) == {
        "pkg:npm/%40scope/pkg@1.9.0": {"GHSA-npm1-npm1-npm1"},
        "pkg:maven/org.example/lib@2.0": {"GHSA-mvn1-mvn1-mvn1"},
        "pkg:golang/example.com/mod@v1.2.2": {"GO-2024-0001"},
        "pkg:cargo/crate@0.3.1": {"RUSTSEC-2024-0001"},
    }


# --------------------------------------------------------------------------------------------
# Unmatched components: never safe


def test_unmatched_components_are_listed_and_deny_in_prod(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-0000-12", "demo")])
    comps = [
        pypi("demo", None),  # no version
        pypi("demo", ">=1.0"),  # a specifier, not a version
        {"name": "nopurl", "version": "1.0"},
        {"name": "left-pad", "version": "1.0.0", "purl": "pkg:npm/left-pad@1.0.0"},  # the database has no npm records
        {"name": "thing", "version": "1.0", "purl": "pkg:generic/thing@1.0"},
    ]
    code, doc, verdict = evaluate(tmp_path, db, comps, "--stage", "prod")
    reasons = {(u["purl"], u["reason"]) for u in doc["vulndb"]["unmatched"]}
    assert reasons == {
        ("pkg:pypi/demo", "no version"),
        ("pkg:pypi/demo@>=1.0", "'>=1.0' is not a PEP 440 version"),
        (None, "no purl"),
        ("pkg:npm/left-pad@1.0.0", "the database holds no npm records"),
        ("pkg:generic/thing@1.0", "no OSV ecosystem for purl type 'generic'"),
    }
    assert code == 10
    assert "GATE-VULNDB-003" in {v["rule"] for v in verdict["violations"]}
    assert verdict["vulndb"]["unmatched"] == doc["vulndb"]["unmatched"]


# --------------------------------------------------------------------------------------------
# Attacks through SBOM text (SECURITY.md section IV)


def test_sbom_spelling_tricks_still_match(tmp_path: Path) -> None:
    """Attack: name the vulnerable package so that a text comparison misses it.

    Case (`Flask`), separators (`Py_YAML` is not `pyyaml`, but `Flask_Login` is `flask-login`),
    percent-encoding in the purl (`fl%61sk`), a leading `v`, qualifiers and a subpath, a purl whose
    version differs from the `version` field (both are matched). Each is still found.
    """
    recs = [
        record("PYSEC-2018-66", "flask", [{"introduced": "0"}, {"fixed": "0.12.3"}]),
        record("PYSEC-0000-13", "flask-login", [{"introduced": "0"}, {"fixed": "0.6.3"}]),
    ]
    db = build_db(tmp_path, recs)
    comps = [
        {"name": "Flask", "version": "0.12.2", "purl": "pkg:pypi/Flask@0.12.2"},
        {"name": "flask", "version": "0.12.1", "purl": "pkg:pypi/fl%61sk@0.12.1"},
        {"name": "flask", "version": "v0.12.0", "purl": "pkg:pypi/flask@v0.12.0?extension=whl#src"},
        {"name": "flask", "version": "0.11", "purl": "pkg:pypi/flask@9.9.9"},  # the purl claims a safe version
        {"name": "Flask_Login", "version": "0.6.2", "purl": "pkg:PYPI/Flask_Login@0.6.2"},
    ]
    _, doc, _ = evaluate(tmp_path, db, comps)
    hit = {f["package"]["purl"] for f in doc["findings"]}
    assert hit == {
        "pkg:pypi/flask@0.12.2",
        "pkg:pypi/flask@0.12.1",
        "pkg:pypi/flask@v0.12.0",
        "pkg:pypi/flask@0.11",
        "pkg:pypi/flask-login@0.6.2",
    }


def test_sbom_versions_that_order_nowhere_are_unmatched_not_safe(tmp_path: Path) -> None:
    """Attack: a version no scheme orders (`latest`, `0.12.2-evil!`, 10 kB of digits and dots,
    a lookalike Cyrillic name) so that no range contains it. Each is listed as unmatched."""
    db = build_db(tmp_path, [record("PYSEC-2018-66", "flask", [{"introduced": "0"}, {"fixed": "0.12.3"}])])
    long = ".".join(["1"] * 5000)
    comps = [
        {"name": "flask", "version": "latest", "purl": "pkg:pypi/flask@latest"},
        {"name": "flask", "version": "0.12.2-evil!", "purl": "pkg:pypi/flask@0.12.2-evil%21"},
        {"name": "flask", "version": f"{long}x", "purl": f"pkg:pypi/flask@{long}x"},
        {"name": "fl\u0430sk", "version": "0.12.2", "purl": "pkg:pypi/fl%D0%B0sk@0.12.2"},
        {"name": "etc", "version": "1.0", "purl": "pkg:pypi/..%2F..%2Fetc@1.0"},
    ]
    _, doc, _ = evaluate(tmp_path, db, comps)
    unmatched = doc["vulndb"]["unmatched"]
    assert len(unmatched) == 5, unmatched
    assert all(u["reason"] for u in unmatched)
    assert doc["vulndb"]["matched"] == 0


# --------------------------------------------------------------------------------------------
# The database on disk


def test_update_status_and_manifest(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-0000-14", "demo", modified="2024-10-25T12:00:00Z")])
    res = run_gate(["vulndb", "status", "--db", str(db), "--time", TIME])
    assert res.exit_code == 0
    assert "records:        1" in res.stdout
    assert "age_days:       6" in res.stdout
    manifest = json.loads((db / "manifest.json").read_text())
    import hashlib

    assert manifest["sha256"] == "sha256:" + hashlib.sha256((db / "index.json").read_bytes()).hexdigest()
    assert manifest["newest_record"] == "2024-10-25T12:00:00Z"
    assert manifest["source"].endswith("db-src")


def test_yaml_and_zip_sources(tmp_path: Path) -> None:
    """The PyPA advisory database's YAML (unquoted 0.10 stays the version "0.10") and a zip of JSON."""
    from tests.vulndb_support import zip_records

    yml = tmp_path / "yaml-src" / "vulns" / "demo"
    yml.mkdir(parents=True)
    (yml / "PYSEC-0000-15.yaml").write_text(
        "id: PYSEC-0000-15\nmodified: 2024-10-01T00:00:00Z\naffected:\n- package: {name: demo, ecosystem: PyPI}\n"
        "  ranges: [{type: ECOSYSTEM, events: [{introduced: 0}, {fixed: 0.10}]}]\n",
        encoding="utf-8",
    )
    res = run_gate(["vulndb", "update", "--source", str(tmp_path / "yaml-src"), "--db", str(tmp_path / "ydb")])
    assert res.exit_code == 0, res.stderr
    _, doc, _ = evaluate(tmp_path, tmp_path / "ydb", [pypi("demo", "0.9"), pypi("demo", "0.10")])
    assert set(matches(doc)) == {"pkg:pypi/demo@0.9"}
    z = zip_records(tmp_path / "all.zip", [record("PYSEC-0000-16", "demo")])
    res = run_gate(["vulndb", "update", "--source", str(z), "--db", str(tmp_path / "zdb")])
    assert res.exit_code == 0, res.stderr


@pytest.mark.parametrize("damage", ["flip", "truncate", "delete"])
def test_corrupt_or_truncated_index_is_exit_2_naming_the_file(tmp_path: Path, damage: str) -> None:
    db = build_db(tmp_path, [record("PYSEC-0000-17", "demo")])
    index = db / "index.json"
    data = index.read_bytes()
    if damage == "flip":
        index.write_bytes(data.replace(b"PYSEC-0000-17", b"PYSEC-0000-18"))
    elif damage == "truncate":
        index.write_bytes(data[: len(data) // 2])
    else:
        index.unlink()
    from tests.vulndb_support import sbom

    bom = sbom(tmp_path / "s.cdx.json", [pypi("demo", "1.0")])
    res = run_gate(["evaluate", str(bom), "--vuln-db", str(db)])
    assert res.exit_code == 2
    assert str(index) in res.stderr
    res = run_gate(["vulndb", "status", "--db", str(db)])
    assert res.exit_code == 2
    assert str(index) in res.stderr


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"format": "gate.vulndb/v1"}'])
def test_corrupt_manifest_is_exit_2_naming_the_file(tmp_path: Path, content: bytes) -> None:
    db = build_db(tmp_path, [record("PYSEC-0000-19", "demo")])
    (db / "manifest.json").write_bytes(content)
    from tests.vulndb_support import sbom

    bom = sbom(tmp_path / "s.cdx.json", [pypi("demo", "1.0")])
    res = run_gate(["evaluate", str(bom), "--vuln-db", str(db)])
    assert res.exit_code == 2
    assert str(db / "manifest.json") in res.stderr


def test_failed_update_leaves_the_old_database_whole(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-0000-20", "demo")])
    before = {p.name: p.read_bytes() for p in db.iterdir()}
    bad = write_records(tmp_path / "bad", [record("PYSEC-0000-21", "demo")])
    (bad / "broken.json").write_text('{"id": "X", "affected": [{"package": {"name": 1}}]}')
    res = run_gate(["vulndb", "update", "--source", str(bad), "--db", str(db)])
    assert res.exit_code == 2
    assert "broken.json" in res.stderr and "affected[0].package.ecosystem" in res.stderr
    assert {p.name: p.read_bytes() for p in db.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if ".update-" in p.name] == []


def test_update_failing_at_the_last_moment_leaves_the_old_database(tmp_path: Path) -> None:
    from gate.vulndb import store

    db = build_db(tmp_path, [record("PYSEC-0000-22", "demo")])
    before = {p.name: p.read_bytes() for p in db.iterdir()}
    src = write_records(tmp_path / "new", [record("PYSEC-0000-23", "demo")])

    def crash(_: Path) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        store.update(db, source=str(src), before_commit=crash)
    assert {p.name: p.read_bytes() for p in db.iterdir()} == before
    store.update(db, source=str(src))
    assert json.loads((db / "index.json").read_text())["records"].keys() == {"PYSEC-0000-23"}


def test_update_refuses_to_replace_a_folder_that_is_not_a_database(tmp_path: Path) -> None:
    """`--db .` by mistake must not rename the user's folder away."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    src = write_records(tmp_path / "src", [record("PYSEC-0000-24", "demo")])
    res = run_gate(["vulndb", "update", "--source", str(src), "--db", str(folder)])
    assert res.exit_code == 2
    assert "not a vulnerability database" in res.stderr
    assert (folder / "keep.txt").read_text() == "mine"


# --------------------------------------------------------------------------------------------
# The database as evidence


@pytest.mark.slow
def test_missing_database_for_a_stage_that_requires_dependency_evidence(tmp_path: Path) -> None:
    bom = tmp_path / "sbom.cdx.json"
    from tests.vulndb_support import sbom

    sbom(bom, [pypi("flask", "0.12.2")])
    missing = tmp_path / "no-db"
    verdict = tmp_path / "v.json"
    res = run_gate(["evaluate", str(bom), "--vuln-db", str(missing), "--stage", "staging", "--output", f"json={verdict}", "--time", TIME])
    assert res.exit_code == 10
    v = json.loads(verdict.read_text())
    scan = next(i for i in v["inputs"] if i["tool"] == "gate-vulndb")
    assert scan["complete"] is False
    assert f"gate vulndb update --db {missing}" in scan["errors"][0]
    rules = {x["rule"] for x in v["violations"]}
    assert "GATE-SCAN-001" in rules
    assert v["vulndb"]["status"] == "missing"
    # Where the stage does not require dependency evidence, the run says so and passes.
    res = run_gate(["evaluate", str(bom), "--vuln-db", str(missing), "--output", f"json={verdict}", "--time", TIME])
    assert res.exit_code == 0
    assert json.loads(verdict.read_text())["vulndb"]["status"] == "missing"


@pytest.mark.slow
def test_database_evidence_in_the_input_document_and_verdict(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-0000-25", "demo", modified="2024-10-01T00:00:00Z")])
    code, doc, verdict = evaluate(tmp_path, db, [pypi("demo", "1.0")], "--stage", "prod")
    info = doc["vulndb"]
    assert info["status"] == "ok"
    assert info["age_days"] == 31
    assert info["records"] == 1
    assert info["sha256"] == json.loads((db / "manifest.json").read_text())["sha256"]
    assert verdict["vulndb"] == info
    scan = next(i for i in verdict["inputs"] if i["tool"] == "gate-vulndb")
    assert "sha256:" + scan["sha256"] == info["sha256"]
    assert code == 10
    assert {"GATE-VULNDB-001", "GATE-DEP-001"} <= {v["rule"] for v in verdict["violations"]} | {"GATE-DEP-001"}
    stale = next(v for v in verdict["violations"] if v["rule"] == "GATE-VULNDB-001")
    assert "31 days old" in stale["msg"]
    # dev: a stale database warns
    code, _, verdict = evaluate(tmp_path, db, [pypi("demo", "1.0")], "--stage", "dev")
    assert "GATE-VULNDB-002" in {w["rule"] for w in verdict["warnings"]}


def test_documents_validate_against_the_schemas(tmp_path: Path) -> None:
    import jsonschema_rs

    db = build_db(tmp_path, [record("PYSEC-0000-26", "demo")])
    _, doc, verdict = evaluate(tmp_path, db, [pypi("demo", "1.0"), pypi("demo", None)])
    schemas = REPO / "gate" / "schemas"
    jsonschema_rs.validate(json.loads((schemas / "input.schema.json").read_text()), doc)
    jsonschema_rs.validate(json.loads((schemas / "verdict.schema.json").read_text()), verdict)


def test_waivers_and_vex_apply_to_database_findings(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-0000-27", "demo", [{"introduced": "0"}, {"fixed": "2.0"}], aliases=["CVE-2099-0027"])])
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n  - id: W-1\n    vulnerability: CVE-2099-0027\n    package: pkg:pypi/demo\n    reason: not reachable\n"
        "    approved_by: security-officer\n    expires: 2024-12-31\n",
        encoding="utf-8",
    )
    code, doc, verdict = evaluate(tmp_path, db, [pypi("demo", "1.0")], "--waivers", str(waivers))
    assert code == 0, verdict["violations"]
    assert [w["waiver"] for w in verdict["waived"]] == ["W-1"]


def test_vuln_db_from_the_environment(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-0000-28", "demo")])
    from tests.vulndb_support import sbom

    bom = sbom(tmp_path / "s.cdx.json", [pypi("demo", "1.0")])
    out = tmp_path / "i.json"
    res = run_gate(["evaluate", str(bom), "--output", f"input={out}"], env={"GATE_VULN_DB": str(db)})
    assert res.exit_code == 0  # default stage: a vulnerability of unknown severity warns
    doc = json.loads(out.read_text())
    assert doc["vulndb"]["status"] == "ok"
    assert matches(doc) == {"pkg:pypi/demo@1.0": {"PYSEC-0000-28"}}


# --------------------------------------------------------------------------------------------
# The quick start's example


@pytest.fixture(scope="module")
def example_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("example") / "vulndb"
    res = run_gate(["vulndb", "update", "--source", str(EXAMPLE_SOURCE), "--db", str(db)])
    assert res.exit_code == 0, res.stderr
    return db


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["json", "console", "markdown", "sarif", "junit", "github"])
def test_example_closes_on_its_vulnerable_dependencies_in_every_format(example_db: Path, fmt: str, tmp_path: Path) -> None:
    """The README's quick start, in every format. GitHub shows at most 10 error annotations per
    step (the example's SAST findings fill them), so that format is checked on the example SBOM's
    three packages the issue names."""
    reports = REPO / "examples" / "reports"
    args = [str(reports), "--stage", "prod"]
    if fmt == "github":
        bom = json.loads((reports / "sbom.cdx.json").read_text())
        bom["components"] = [c for c in bom["components"] if c["name"].lower() in ("flask", "pyyaml", "requests")]
        (tmp_path / "three.cdx.json").write_text(json.dumps(bom))
        args = [str(tmp_path / "three.cdx.json")]
    res = run_gate(["evaluate", *args, "--vuln-db", str(example_db), "--format", fmt, "--time", TIME])
    assert res.exit_code == 10
    out = res.stdout
    for package, advisory, fixed in (
        ("flask", "PYSEC-2018-66", "0.12.3"),
        ("pyyaml", "PYSEC-2020-96", "5.3.1"),
        ("requests", "PYSEC-2018-28", "2.20.0"),
    ):
        assert package in out.lower(), (fmt, package)
        assert advisory in out, (fmt, advisory)
        assert fixed in out, (fmt, fixed)
    assert "vulnerability database 358 days old" in out, fmt


def test_example_source_carries_its_attribution() -> None:
    """The extract is CC-BY-4.0: it ships with the licence and names where it comes from."""
    assert "Attribution 4.0 International" in (EXAMPLE_SOURCE / "LICENSE").read_text()
    readme = (EXAMPLE_SOURCE / "README.md").read_text()
    assert "pypa/advisory-database" in readme
    assert "Creative Commons Attribution 4.0" in readme


@pytest.mark.slow
def test_readme_quick_start_runs_as_written(tmp_path: Path) -> None:
    """The README's first command, after the install: build the database from the shipped extract, judge the example."""
    import re
    import shlex

    block = re.findall(r"```sh\n(.*?)```", (REPO / "README.md").read_text(), re.S)[0].strip()
    gate_steps = [shlex.split(p) for p in block.split(" && ") if p.startswith(".venv/bin/gate ")]
    assert [s[1] for s in gate_steps] == ["vulndb", "evaluate"]
    codes = []
    for step in gate_steps:
        args = [str(tmp_path / "vulndb") if a == ".venv/vulndb" else a for a in step[1:]]
        res = run_gate([*args, "--time", TIME] if args[0] == "evaluate" else args, cwd=REPO)
        codes.append(res.exit_code)
        out = res.stdout
    assert codes == [0, 10]
    assert "PYSEC-2018-66" in out and "PYSEC-2020-96" in out and "PYSEC-2018-28" in out
    assert "GATE-VULNDB-001" in out  # the extract is dated: prod refuses its age


def test_vuln_db_from_the_config_file(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-0000-29", "demo")])
    from tests.vulndb_support import sbom

    bom = sbom(tmp_path / "s.cdx.json", [pypi("demo", "1.0")])
    (tmp_path / "gate.toml").write_text(f"[gate]\nvuln_db = {json.dumps(str(db))}\n", encoding="utf-8")
    out = tmp_path / "i.json"
    res = run_gate(["evaluate", str(bom), "--config", str(tmp_path / "gate.toml"), "--output", f"input={out}"])
    assert res.exit_code == 0, res.stderr
    assert json.loads(out.read_text())["vulndb"]["path"] == str(db)


@pytest.mark.slow
def test_gate_run_audits_dependencies_from_the_sbom_by_default(tmp_path: Path, example_db: Path) -> None:
    """`gate run`'s default scanners are bandit, semgrep and sbom: the dependency evidence is the
    generated SBOM matched against the database (nothing installed); pip-audit only by name."""
    from gate.cli.scan import run_command

    scanners = next(p for p in run_command.params if p.name == "scanners")
    assert scanners.default == "bandit,semgrep,sbom"
    pytest.importorskip("cyclonedx_py", reason="cyclonedx-bom (the SBOM generator) is not installed")
    verdict = tmp_path / "v.json"
    res = run_gate(
        [
            "run",
            str(REPO / "examples" / "vulnerable-app"),
            "--scanners",
            "sbom",
            "--out",
            str(tmp_path / "out"),
            "--vuln-db",
            str(example_db),
            "--time",
            TIME,
            "--output",
            f"json={verdict}",
        ]
    )
    assert res.exit_code == 10, res.stderr
    v = json.loads(verdict.read_text())
    cited = {f["package"]["name"].lower() for f in v["findings"].values() if f["tool"] == "gate-vulndb"}
    assert {"flask", "pyyaml", "requests"} <= cited


def test_source_symlinks_are_not_followed(tmp_path: Path) -> None:
    """A source folder's symbolic link (to a record elsewhere, or to /etc/passwd) is not read."""
    outside = write_records(tmp_path / "outside", [record("PYSEC-0000-40", "demo")])
    src = write_records(tmp_path / "src", [record("PYSEC-0000-41", "demo")])
    (src / "linked.json").symlink_to(outside / "PYSEC-0000-40.json")
    (src / "passwd.yaml").symlink_to("/etc/passwd")
    res = run_gate(["vulndb", "update", "--source", str(src), "--db", str(tmp_path / "db")])
    assert res.exit_code == 0, res.stderr
    assert json.loads((tmp_path / "db" / "index.json").read_text())["records"].keys() == {"PYSEC-0000-41"}


def test_yaml_tags_are_data_never_objects(tmp_path: Path) -> None:
    """Attack on a mirror: a YAML record with a Python tag. The base loader builds no object (nothing runs)."""
    src = tmp_path / "src"
    src.mkdir()
    marker = tmp_path / "pwned"
    (src / "PYSEC-0000-42.yaml").write_text(
        f"id: !!python/object/apply:os.system ['touch {marker}']\naffected: []\n",
        encoding="utf-8",
    )
    res = run_gate(["vulndb", "update", "--source", str(src), "--db", str(tmp_path / "db")])
    assert not marker.exists()
    assert res.exit_code == 2  # the tag's node read as plain data (a list), which is no record id
    assert "PYSEC-0000-42.yaml" in res.stderr and "id must be a string" in res.stderr


def test_oversized_record_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gate.vulndb import records

    monkeypatch.setattr(records, "MAX_RECORD_BYTES", 1000)
    src = write_records(tmp_path / "src", [record("PYSEC-0000-43", "demo", versions=[f"1.{i}" for i in range(200)])])
    res = run_gate(["vulndb", "update", "--source", str(src), "--db", str(tmp_path / "db")])
    assert res.exit_code == 2
    assert "PYSEC-0000-43.json" in res.stderr and "larger than 1000 bytes" in res.stderr


@pytest.mark.slow
def test_baseline_holds_the_database_findings(tmp_path: Path) -> None:
    """`gate baseline` matches the SBOM as `evaluate` does, so in dev (new findings only) a known
    vulnerability already on the target branch warns (GATE-DEP-005) instead of blocking."""
    from tests.vulndb_support import sbom

    db = build_db(tmp_path, [record("PYSEC-0000-44", "demo", [{"introduced": "0"}, {"fixed": "2.0"}])])
    bom = sbom(tmp_path / "s.cdx.json", [pypi("demo", "1.0")])
    base = tmp_path / "baseline.json"
    res = run_gate(["baseline", str(bom), "--vuln-db", str(db), "-o", str(base), "--time", TIME])
    assert res.exit_code == 0, res.stderr
    assert len(json.loads(base.read_text())["findings"]) == 1
    verdict = tmp_path / "v.json"
    args = ["evaluate", str(bom), "--vuln-db", str(db), "--stage", "dev", "--time", TIME, "--output", f"json={verdict}"]
    assert run_gate([*args, "--baseline", str(base)]).exit_code == 0
    assert "GATE-DEP-005" in {w["rule"] for w in json.loads(verdict.read_text())["warnings"]}
    assert run_gate(args).exit_code == 10


def test_ecosystem_filter(tmp_path: Path) -> None:
    src = write_records(
        tmp_path / "src",
        [
            record("PYSEC-0000-45", "demo"),
            record("GHSA-npm2-npm2-npm2", "left-pad", ecosystem="npm"),
            record("DSA-0000-1", "openssl", ecosystem="Debian:12"),
        ],
    )
    for wanted, kept in ((["npm"], ["npm"]), (["Debian:12", "PyPI"], ["Debian:12", "PyPI"]), (["Debian"], ["Debian:12"])):
        db = tmp_path / f"db-{'-'.join(wanted).replace(':', '')}"
        args = [a for e in wanted for a in ("--ecosystem", e)]
        res = run_gate(["vulndb", "update", "--source", str(src), "--db", str(db), *args])
        assert res.exit_code == 0, res.stderr
        assert json.loads((db / "manifest.json").read_text())["ecosystems"] == kept
