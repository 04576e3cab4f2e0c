"""SBOM generation (`scanners.run.sbom`, `gate sbom`) and the manifest discovery the dependency audit shares.

cyclonedx-py runs for real; each generation takes a few seconds, so one SBOM per manifest kind
is generated once per module and shared.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import DATA, REPO, run_gate
from scan_support import require_tools

from gate.collect import read_report
from scanners.run.interface import PrepareError
from scanners.run.sbom import NO_MANIFEST, Manifest, SbomRunner, all_pinned, checked_requirements, find_manifest, requirement_lines

MANIFESTS = DATA / "scan_manifests"
VULNERABLE = REPO / "examples" / "vulnerable-app"
CLEAN = REPO / "examples" / "clean-app"


@pytest.fixture(scope="module", autouse=True)
def _tools() -> None:
    require_tools("cyclonedx-py")


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


# --------------------------------------------------------------------------------------------
# Which manifest describes a project


@pytest.mark.parametrize(
    ("files", "kind", "listed"),
    [
        (
            {"pyproject.toml": '[tool.poetry]\nname = "x"\n', "poetry.lock": "", "requirements.txt": "a==1\n"},
            "poetry",
            ("poetry.lock", "pyproject.toml"),
        ),
        ({"Pipfile.lock": "{}", "requirements.txt": "a==1\n"}, "pipenv", ("Pipfile.lock",)),
        ({"uv.lock": "", "requirements.txt": "a==1\n"}, "uv", ("uv.lock",)),
        (
            {
                "requirements.txt": "a==1\n",
                "requirements-dev.txt": "b==2\n",
                "requirements/extra.txt": "c==3\n",
                "pyproject.toml": "[project]\nname='x'\ndependencies=['d']\n",
            },
            "requirements",
            ("requirements.txt", "requirements/extra.txt"),  # requirements-dev.txt does not ship
        ),
        ({"pyproject.toml": "[project]\nname = 'x'\ndependencies = ['flask>=3']\n"}, "pyproject", ("pyproject.toml",)),
        ({"pyproject.toml": "[tool.poetry.dependencies]\npython = '^3.10'\nflask = '^3'\n"}, "pyproject", ("pyproject.toml",)),
        ({"setup.py": "from setuptools import setup\nsetup()\n"}, "setuptools", ("setup.py",)),
    ],
    ids=["poetry-wins", "pipenv", "uv", "requirements", "pep621", "poetry-without-lock", "setup-py-only"],
)
def test_manifest_preference(tmp_path: Path, files: dict[str, str], kind: str, listed: tuple[str, ...]) -> None:
    manifest = find_manifest(_project(tmp_path, files))
    assert manifest is not None
    assert (manifest.kind, manifest.files) == (kind, listed)


def test_no_manifest_means_no_declared_dependencies(tmp_path: Path) -> None:
    _project(tmp_path, {"script.py": "print('hi')\n", "pyproject.toml": "[tool.ruff]\nline-length = 100\n"})
    assert find_manifest(tmp_path) is None


def test_root_component_only_from_a_project_table(tmp_path: Path) -> None:
    _project(tmp_path, {"requirements.txt": "a==1\n", "pyproject.toml": "[project]\nname = 'x'\nversion = '1'\n"})
    assert find_manifest(tmp_path) == Manifest("requirements", ("requirements.txt",), "pyproject.toml")


def test_invalid_pyproject_is_a_prepare_error_naming_it(tmp_path: Path) -> None:
    _project(tmp_path, {"pyproject.toml": "[project\nname = \n"})
    with pytest.raises(PrepareError, match=r"pyproject\.toml: invalid TOML"):
        find_manifest(tmp_path)


# --------------------------------------------------------------------------------------------
# Requirement lines


def test_requirements_inline_includes_and_drop_constraints(tmp_path: Path) -> None:
    _project(
        tmp_path,
        {
            "requirements.txt": "# top\n-r base.txt\n-c constraints.txt\nflask==3.1.1  # web\nrequests==2.32.4 \\\n    --hash=sha256:abc\n",
            "base.txt": "idna==3.7\n--requirement requirements.txt\n",
            "constraints.txt": "urllib3<3\n",
        },
    )
    manifest = find_manifest(tmp_path)
    assert manifest is not None
    lines = requirement_lines(tmp_path, manifest)
    # the include cycle back to requirements.txt is read once
    assert lines == ["idna==3.7", "flask==3.1.1", "requests==2.32.4"]  # hashes are options: not passed on
    assert all_pinned(lines)


def test_requirements_include_outside_the_project_is_not_read(tmp_path: Path) -> None:
    """An include that leaves the project is never read (nor passed to a tool): its requirements
    are not described, which is an error that makes the run incomplete (was: the whole run failed)."""
    project = tmp_path / "p"
    _project(project, {"requirements.txt": "-r ../outside.txt\nidna==3.7\n"})
    (tmp_path / "outside.txt").write_text("secret-package==1\n", encoding="utf-8")
    manifest = find_manifest(project)
    assert manifest is not None
    checked = checked_requirements(project, manifest)
    assert checked.lines == ["idna==3.7"]
    assert checked.errors == [
        "requirements.txt -> ../outside.txt: includes a file outside the project; not read, its requirements are not described"
    ]


@pytest.mark.parametrize(
    ("lines", "pinned"),
    [
        (["flask==3.1.1", "idna===3.7", "--index-url https://example.org/simple", "pyyaml==6.0.2 ; python_version > '3'"], True),
        (["flask>=3"], False),
        (["flask==3.*"], False),
        (["flask"], False),
        (["flask>=3,==3.1.1"], False),
        (["pkg @ https://example.org/pkg-1.0.tar.gz"], False),
        (["-e ."], True),  # options are not requirements; an editable install is not audited
        ([], True),
    ],
)
def test_all_pinned(lines: list[str], pinned: bool) -> None:
    assert all_pinned(lines) is pinned


def test_lock_files_give_pinned_lines() -> None:
    expected = {
        "poetry": ["certifi==2024.7.4", "requests==2.32.3"],
        "pipenv": ["flask==2.0.0", "itsdangerous==2.0.1"],  # development packages do not ship
        "uv": ["idna==3.7"],  # the project itself (source virtual) is not a dependency
    }
    for name, lines in expected.items():
        manifest = find_manifest(MANIFESTS / name)
        assert manifest is not None and manifest.kind == name
        assert requirement_lines(MANIFESTS / name, manifest) == lines


def test_pyproject_lines_and_dynamic_dependencies(tmp_path: Path) -> None:
    assert requirement_lines(CLEAN, Manifest("pyproject", ("pyproject.toml",), "pyproject.toml")) == [
        "flask==3.1.1",
        "defusedxml==0.7.1",
        "PyYAML==6.0.2",
        "requests==2.32.4",
    ]
    _project(tmp_path, {"pyproject.toml": "[project]\nname = 'x'\ndynamic = ['dependencies']\n"})
    manifest = find_manifest(tmp_path)
    assert manifest is not None
    with pytest.raises(PrepareError, match="dynamic"):
        requirement_lines(tmp_path, manifest)


def test_project_dependency_lists_that_are_not_lists_of_strings_are_refused(tmp_path: Path) -> None:
    """A pyproject.toml's dependency lists are checked before any line is used, for a plain
    pyproject project and for what a uv project declares beside its lock."""
    _project(tmp_path, {"pyproject.toml": "[project]\nname = 'x'\ndependencies = ['flask', 3]\n"})
    manifest = find_manifest(tmp_path)
    assert manifest is not None and manifest.kind == "pyproject"
    with pytest.raises(PrepareError, match=r"pyproject.toml: \[project\] dependencies must be lists of strings"):
        requirement_lines(tmp_path, manifest)
    uv = tmp_path / "uv"
    _project(
        uv,
        {
            "pyproject.toml": "[project]\nname = 'x'\ndependencies = []\n[project.optional-dependencies]\nweb = 'flask'\n",
            "uv.lock": "version = 1\n[[package]]\nname = 'x'\nversion = '0'\nsource = { editable = '.' }\n",
        },
    )
    manifest = find_manifest(uv)
    assert manifest is not None and manifest.kind == "uv"
    with pytest.raises(PrepareError, match="dependencies and optional-dependencies must be lists of strings"):
        requirement_lines(uv, manifest)


@pytest.mark.parametrize(
    "entry",
    ["dependencies = 5", "dependencies = [{ name = 'urllib3', extra = 7 }]", "optional-dependencies = 'x'"],
)
def test_a_uv_lock_with_fields_of_the_wrong_type_is_refused_not_a_crash(tmp_path: Path, entry: str) -> None:
    """Attack (review, round 2): a lock entry whose dependency list is a number crashed the
    SBOM run with a TypeError (internal error, no verdict). It is a manifest the gate cannot
    read: PrepareError naming uv.lock, so the run is incomplete and the gate closes."""
    _project(
        tmp_path,
        {
            "pyproject.toml": "[project]\nname = 'x'\ndependencies = ['urllib3']\n",
            "uv.lock": f"version = 1\n[[package]]\nname = 'x'\nversion = '0'\nsource = {{ editable = '.' }}\n{entry}\n\n"
            "[[package]]\nname = 'urllib3'\nversion = '2.2.3'\nsource = { registry = 'https://pypi.org/simple' }\n",
        },
    )
    manifest = find_manifest(tmp_path)
    assert manifest is not None and manifest.kind == "uv"
    with pytest.raises(PrepareError, match="uv.lock: x: "):
        requirement_lines(tmp_path, manifest)


def test_setup_py_only_is_refused_with_the_fix(tmp_path: Path) -> None:
    _project(tmp_path, {"setup.py": "from setuptools import setup\nsetup(install_requires=['flask'])\n"})
    manifest = find_manifest(tmp_path)
    assert manifest is not None
    with pytest.raises(PrepareError, match="add a requirements file or a lock file"):
        requirement_lines(tmp_path, manifest)


# --------------------------------------------------------------------------------------------
# Generation with the real cyclonedx-py (one SBOM per kind, shared)


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[object, Path]]:
    out = tmp_path_factory.mktemp("sboms")
    projects = {
        "requirements": VULNERABLE,
        "pyproject": CLEAN,
        "poetry": MANIFESTS / "poetry",
        "pipenv": MANIFESTS / "pipenv",
        "uv": MANIFESTS / "uv",
    }
    results: dict[str, tuple[object, Path]] = {}
    for kind, project in projects.items():
        runner = SbomRunner(output=out / f"{kind}.cdx.json")
        results[kind] = (runner.run(project, out, 120), out / f"{kind}.cdx.json")
    return results


EXPECTED_PURLS = {
    "requirements": {
        "pkg:pypi/flask@0.12.2",
        "pkg:pypi/werkzeug@0.14.1",
        "pkg:pypi/jinja2@2.10",
        "pkg:pypi/pyyaml@5.3",
        "pkg:pypi/requests@2.19.1",
    },
    "pyproject": {"pkg:pypi/flask@3.1.1", "pkg:pypi/defusedxml@0.7.1", "pkg:pypi/pyyaml@6.0.2", "pkg:pypi/requests@2.32.4"},
    "poetry": {"pkg:pypi/certifi@2024.7.4", "pkg:pypi/requests@2.32.3"},
    "pipenv": {"pkg:pypi/flask@2.0.0", "pkg:pypi/itsdangerous@2.0.1"},
    "uv": {"pkg:pypi/idna@3.7"},
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(EXPECTED_PURLS))
def test_generated_sbom_lists_the_declared_packages(generated: dict[str, tuple[object, Path]], kind: str) -> None:
    record, path = generated[kind]
    assert record.status == "ok", record.errors  # type: ignore[attr-defined]
    assert record.complete and record.exit_code == 0  # type: ignore[attr-defined]
    assert record.tool == "cyclonedx-py" and record.tool_version  # type: ignore[attr-defined]
    assert "--output-reproducible" in record.command  # type: ignore[attr-defined]
    result = read_report(str(path)).result
    assert result.format == "cyclonedx" and result.complete
    assert {c.purl for c in result.components} == EXPECTED_PURLS[kind]


@pytest.mark.slow
def test_root_component_comes_from_pyproject(generated: dict[str, tuple[object, Path]]) -> None:
    for kind, name in (("pyproject", "inventory"), ("poetry", "poetry-sample"), ("uv", "uv-sample")):
        doc = json.loads(generated[kind][1].read_text(encoding="utf-8"))
        assert doc["metadata"]["component"]["name"] == name, kind


@pytest.mark.slow
def test_generation_is_reproducible(generated: dict[str, tuple[object, Path]], tmp_path: Path) -> None:
    again = tmp_path / "again.cdx.json"
    record = SbomRunner(output=again).run(VULNERABLE, tmp_path, 120)
    assert record.status == "ok"
    assert again.read_bytes() == generated["requirements"][1].read_bytes()


@pytest.mark.slow
def test_environment_sbom(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    import venv as venv_module

    venv_module.EnvBuilder(with_pip=False).create(venv)
    out = tmp_path / "env.cdx.json"
    record = SbomRunner(environment=str(venv), output=out).run(CLEAN, tmp_path, 120)
    assert record.status == "ok", record.errors
    assert record.command[1] == "environment" and record.command[-1] == str(venv)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["metadata"]["component"]["name"] == "inventory"
    assert doc.get("components", []) == []  # a fresh environment holds nothing


def test_no_manifest_is_not_applicable(tmp_path: Path) -> None:
    _project(tmp_path, {"tool.py": "print(1)\n"})
    record = SbomRunner().run(tmp_path, tmp_path / "out", 60)
    assert record.status == "not_applicable" and record.notes[0] == NO_MANIFEST
    assert record.complete and record.scan_entry() is None and record.command == ()
    assert not (tmp_path / "out" / "sbom.cdx.json").exists()


# --------------------------------------------------------------------------------------------
# `gate sbom`


@pytest.mark.slow
def test_gate_sbom_command(tmp_path: Path) -> None:
    out = tmp_path / "nested" / "app.cdx.json"
    res = run_gate(["sbom", str(VULNERABLE), "-o", str(out)])
    assert res.exit_code == 0, res.stderr
    assert "5 component(s) from requirements (requirements.txt)" in res.stderr
    assert {c["purl"] for c in json.loads(out.read_text(encoding="utf-8"))["components"]} == EXPECTED_PURLS["requirements"]


def test_gate_sbom_without_manifest_is_an_input_error(tmp_path: Path) -> None:
    _project(tmp_path, {"tool.py": "print(1)\n"})
    res = run_gate(["sbom", str(tmp_path), "-o", str(tmp_path / "x.json")])
    assert res.exit_code == 3
    assert "no dependency manifest" in res.stderr and "--environment" in res.stderr


def test_gate_sbom_setup_py_only_says_how_to_fix(tmp_path: Path) -> None:
    _project(tmp_path, {"setup.py": "from setuptools import setup\nsetup()\n"})
    res = run_gate(["sbom", str(tmp_path), "-o", str(tmp_path / "x.json")])
    assert res.exit_code == 3
    assert "add a requirements file or a lock file" in res.stderr


@pytest.mark.slow
def test_gate_sbom_broken_lock_file_is_an_input_error_with_the_tool_text(tmp_path: Path) -> None:
    shutil.copytree(MANIFESTS / "pipenv", tmp_path / "p")
    (tmp_path / "p" / "Pipfile.lock").write_text('{"default": {"flask": {"version": "==2.0.0"}}', encoding="utf-8")
    res = run_gate(["sbom", str(tmp_path / "p"), "-o", str(tmp_path / "x.json")])
    assert res.exit_code == 3
    assert "SBOM generation from pipenv (Pipfile.lock) failed" in res.stderr
    assert "Expecting ',' delimiter" in res.stderr  # cyclonedx-py's own words


def test_gate_sbom_missing_path(tmp_path: Path) -> None:
    res = run_gate(["sbom", str(tmp_path / "nope"), "-o", str(tmp_path / "x.json")])
    assert res.exit_code == 3 and "no such directory" in res.stderr
