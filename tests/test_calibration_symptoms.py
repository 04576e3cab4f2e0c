"""The symptoms issue 17 names, each closed and kept closed (the calibration set's own test,
tests/test_calibration.py, runs the eight real projects; these are small and to the point).

- SHA-1 inside HMAC, including a signing library's SHA-1 constructor wrapper passed as
  `digestmod`, does not block; a weak hash used as a security control still does; so does not
  `usedforsecurity=False` (real bandit and semgrep, `gate run`).
- Development dependencies do not ship: a uv.lock's dependency groups (tests, docs, lint) are
  neither described in the SBOM nor audited, as development requirement files are not
  (before: click's, attrs' and markupsafe's SBOMs listed 80, 92 and 64 development packages).
- An SBOM that lists no component (a library without runtime dependencies) is audited: the
  empty audit is the run's dependency evidence; a VEX document is not an SBOM for that.
- `app/requirements.txt` is found; licence warnings come once per SBOM and one flaw reported by
  two tools counts once: see tests/test_scan_trust.py (`test_development_requirement_files`,
  discovery below the root), policies/licenses_test.rego (GATE-LIC-003) and
  tests/test_linked_findings.py.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest
from scan_support import require_tools

from scanners.run.sbom import find_manifest, requirement_lines
from tests.conftest import POLICIES, run_gate
from tests.vulndb_support import TIME, build_db, record

UV_LOCK = """
version = 1
requires-python = ">=3.10"

[[package]]
name = "lib"
version = "1.0.0"
source = { editable = "." }
dependencies = [
    { name = "idna" },
    { name = "requests", extra = ["socks"] },
]

[package.optional-dependencies]
fast = [
    { name = "ujson" },
]

[package.dev-dependencies]
tests = [
    { name = "pytest" },
]
docs = [
    { name = "sphinx" },
]

[[package]]
name = "idna"
version = "3.7"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "requests"
version = "2.32.3"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "urllib3" },
]

[package.optional-dependencies]
socks = [
    { name = "pysocks" },
]
security = [
    { name = "pyopenssl" },
]

[[package]]
name = "urllib3"
version = "2.2.3"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "PySocks"
version = "1.7.1"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pyopenssl"
version = "24.0.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "ujson"
version = "5.10.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pytest"
version = "8.3.3"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "iniconfig" },
]

[[package]]
name = "iniconfig"
version = "2.0.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "sphinx"
version = "8.0.0"
source = { registry = "https://pypi.org/simple" }
"""


def test_uv_lock_dependency_groups_do_not_ship(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_text(UV_LOCK, encoding="utf-8")
    manifest = find_manifest(tmp_path)
    assert manifest is not None and manifest.kind == "uv"
    # runtime: idna, requests with the socks extra it asks for (not security), urllib3; the
    # project's own extra (fast: ujson); not pytest, iniconfig, sphinx (dependency groups).
    assert sorted(requirement_lines(tmp_path, manifest)) == [
        "PySocks==1.7.1",
        "idna==3.7",
        "requests==2.32.3",
        "ujson==5.10.0",
        "urllib3==2.2.3",
    ]


def test_uv_lock_without_a_package_of_the_project_lists_every_package(tmp_path: Path) -> None:
    text = UV_LOCK.replace('source = { editable = "." }', 'source = { registry = "https://pypi.org/simple" }')
    (tmp_path / "uv.lock").write_text(text, encoding="utf-8")
    manifest = find_manifest(tmp_path)
    assert manifest is not None
    assert len(requirement_lines(tmp_path, manifest)) == 10  # nothing to start from: all of them, as before


def test_app_requirements_below_the_root_are_found(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "requirements.txt").write_text("flask==3.0.0\n", encoding="utf-8")
    (tmp_path / "requirements-dev.txt").write_text("pytest==8.3.3\n", encoding="utf-8")
    manifest = find_manifest(tmp_path)
    assert manifest is not None and manifest.files == ("app/requirements.txt",)
    assert requirement_lines(tmp_path, manifest) == ["flask==3.0.0"]


def _evaluate(tmp_path: Path, doc: dict[str, Any], db: Path) -> dict[str, Any]:
    report = tmp_path / "bom.cdx.json"
    report.write_text(json.dumps(doc), encoding="utf-8")
    verdict = tmp_path / "verdict.json"
    res = run_gate(
        [
            "evaluate",
            str(report),
            "--policy",
            str(POLICIES),
            "--vuln-db",
            str(db),
            "--stage",
            "staging",
            "--time",
            TIME,
            "--output",
            f"json={verdict}",
        ]
    )
    assert res.exit_code in (0, 10, 11), res.stderr
    result: dict[str, Any] = json.loads(verdict.read_text(encoding="utf-8"))
    return result


def _missing_evidence(verdict: dict[str, Any]) -> list[str]:
    return [v["msg"] for v in verdict["violations"] if v["rule"] == "GATE-SCAN-003"]


def test_an_empty_sbom_is_audited_and_a_vex_document_is_not_an_sbom(tmp_path: Path) -> None:
    db = build_db(tmp_path, [record("PYSEC-0000-90", "demo")])
    empty = {"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1, "components": []}
    verdict = _evaluate(tmp_path, empty, db)
    assert not [m for m in _missing_evidence(verdict) if "requires dependency evidence" in m], verdict["violations"]
    assert verdict["vulndb"]["status"] == "ok" and verdict["vulndb"]["components"] == 0
    # Attack: a VEX document (no components, a vulnerability statement) must not stand in for
    # the SBOM and give dependency evidence through an empty audit.
    vex = {
        **empty,
        "vulnerabilities": [
            {
                "id": "CVE-2024-0001",
                "analysis": {"state": "not_affected", "justification": "code_not_reachable"},
                "affects": [{"ref": "pkg:pypi/demo@1.0"}],
            }
        ],
    }
    verdict = _evaluate(tmp_path, vex, db)
    assert [m for m in _missing_evidence(verdict) if "requires dependency evidence" in m], verdict["violations"]


SIGNER = '''
import hashlib
import hmac


def _lazy_sha1(string=b""):
    """Don't access hashlib.sha1 until runtime (FIPS builds may lack it)."""
    return hashlib.sha1(string)


class Signer:
    default_digest_method = staticmethod(_lazy_sha1)

    def sign(self, key, value):
        return hmac.new(key, msg=value, digestmod=self.default_digest_method).digest()

    def checksum(self, data):
        return hashlib.md5(data, usedforsecurity=False).hexdigest()

    def legacy(self, key, value):
        return hmac.new(key, value, hashlib.sha1).hexdigest()
'''

PASSWORDS = """
import hashlib


def store(password, salt):
    return hashlib.sha1(salt + password).hexdigest()
"""


def _sast_blocks(tmp_path: Path, source: str) -> list[dict[str, Any]]:
    project = tmp_path / "project"
    (project / "pkg").mkdir(parents=True)
    (project / "pkg" / "__init__.py").write_text(textwrap.dedent(source), encoding="utf-8")
    verdict = tmp_path / "verdict.json"
    env = {**os.environ, "SEMGREP_ENABLE_VERSION_CHECK": "0", "SEMGREP_SEND_METRICS": "off"}
    res = run_gate(
        [
            "run",
            str(project),
            "--scanners",
            "bandit,semgrep",
            "--policy",
            str(POLICIES),
            "--stage",
            "prod",
            "--out",
            str(tmp_path / "reports"),
            "--time",
            TIME,
            "--progress",
            "off",
            "--output",
            f"json={verdict}",
        ],
        env=env,
    )
    assert res.exit_code in (0, 10, 11), res.stderr
    doc: dict[str, Any] = json.loads(verdict.read_text(encoding="utf-8"))
    return [v for v in doc["violations"] if v["rule"] == "GATE-SAST-001"]


@pytest.mark.slow
def test_sha1_inside_hmac_does_not_block_a_signing_library(tmp_path: Path) -> None:
    """bandit's B324 names every hashlib.sha1 call; the wrapper passed as digestmod is the
    constructor by another name: semgrep's weak-hash rule does not confirm it, so it only warns."""
    require_tools("bandit", "semgrep")
    assert _sast_blocks(tmp_path, SIGNER) == []


@pytest.mark.slow
def test_sha1_as_a_password_hash_still_blocks(tmp_path: Path) -> None:
    """Attack: a weak hash used as a security control is reported by both tools and blocks."""
    require_tools("bandit", "semgrep")
    blocks = _sast_blocks(tmp_path, PASSWORDS)
    assert blocks, "a weak password hash must block"
    assert any("also reported by Semgrep" in v["msg"] for v in blocks), blocks  # both tools, one flaw


def test_attack_a_runtime_dependency_the_lock_files_as_a_dependency_group(tmp_path: Path) -> None:
    """Attack (red team, round 2): pyproject.toml declares `sphinx` (the wheel's metadata: it
    ships) while the PR's uv.lock files it only under a dependency group, and `demo==1.0` is not
    in the lock at all, and `evil==1.0` is a lock entry claiming to be the project itself
    (`source = { virtual = "." }`): the lock alone decided, so none was described nor audited.
    What pyproject.toml declares ([project] dependencies and optional dependencies) ships
    whatever the lock says: its locked packages are described with their dependencies, a
    declaration the lock lacks (or claims is local) as written."""
    forged = '\n[[package]]\nname = "evil"\nversion = "1.0"\nsource = { virtual = "." }\n'  # "the project itself"
    (tmp_path / "uv.lock").write_text(UV_LOCK + forged, encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "lib"\nversion = "1.0.0"\ndependencies = ["idna", "Sphinx>=7", "evil==1.0"]\n\n'
        "[project.optional-dependencies]\nextra = [\"demo==1.0 ; python_version >= '3.8'\"]\n\n"
        '[dependency-groups]\ntests = ["pytest"]\n',
        encoding="utf-8",
    )
    manifest = find_manifest(tmp_path)
    assert manifest is not None and manifest.kind == "uv"
    lines = requirement_lines(tmp_path, manifest)
    assert "sphinx==8.0.0" in lines
    assert "demo==1.0 ; python_version >= '3.8'" in lines
    assert "evil==1.0" in lines
    assert not any(line.startswith(("pytest", "iniconfig")) for line in lines)  # the group still does not ship


WRAPPED_PASSWORDS = """
import hashlib


def _md5(data):
    return hashlib.md5(data)


def store(password, salt):
    return _md5(salt + password).hexdigest()
"""


@pytest.mark.slow
def test_attack_a_weak_hash_called_through_a_constructor_wrapper_still_blocks(tmp_path: Path) -> None:
    """Attack (red team, round 2): `def _md5(data): return hashlib.md5(data)` is exempt as a
    constructor wrapper, and nothing reported its call: `_md5(salt + password)` hashed passwords
    with MD5 while bandit's name-only B324 only warned. A wrapper is exempt only where it is
    handed on (a digestmod, a default), not where the same file calls it: the call is reported."""
    require_tools("bandit", "semgrep")
    assert _sast_blocks(tmp_path, WRAPPED_PASSWORDS), "a weak password hash through a wrapper must block"
