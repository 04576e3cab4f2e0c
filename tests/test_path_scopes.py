"""Path scopes are anchored at the project root and must name something (issue 14, "path scopes").

The attacks, each first run against the old glob engine (where relative patterns matched at any
folder boundary and only patterns made purely of `*`, `?` and `/` were refused):

- a trusted waiver `path: src/legacy/**` also waived `tools/src/legacy/api.py` (the pull
  request adds a flaw under a folder of its own choosing that ends in `src/legacy/`);
- a waiver `path: "**/*.py"` was accepted, waiving every Python file;
- variants of ours: a data file's `test_paths: ["**/*.py"]` made every file test code; a report
  claiming `src/legacy/../../app/main.py` was waived by `src/legacy/**` (the path climbs out of
  the waived folder), and `tests/../app/main.py` was test code under `tests/**`.

Decisions on the forms a pattern may take (each refused with exit 2 and the line): a leading
`/`, a backslash, an empty component (`src//legacy/**`), a `.` or `..` component
(`src/legacy/../../**`), `**` inside a component. A leading `./` is the root and is accepted.
Matching is case-sensitive: `SRC/legacy/x.py` is not in `src/legacy/**` (not matching is the safe
side: the waiver does not apply, the file is not test code).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gate.errors import ConfigError
from gate.paths import compile_globs, glob_match, match_form, scope_problem
from gate.policy import load_data_files
from tests.conftest import POLICIES, run_gate
from tests.governance_support import TIME, write
from tests.test_waivers import load, waiver_text

# ------------------------------------------------------------------------------------------
# The glob engine


MATCHES = [
    ("src/legacy/**", "src/legacy/api.py", True),
    ("src/legacy/**", "src/legacy/deep/er/api.py", True),
    ("src/legacy/**", "tools/src/legacy/api.py", False),  # the instance
    ("src/legacy/**", "/src/legacy/api.py", False),  # absolute: outside the root
    ("src/legacy/**", "/home/ci/work/src/legacy/api.py", False),
    ("src/legacy/**", "SRC/legacy/api.py", False),  # case-sensitive
    ("src/legacy/**", "src/legacy/../../app/main.py", False),  # climbs out of the scope
    ("src/legacy/**", "src//legacy/./api.py", True),  # the same file
    ("src/legacy/**", ".\\src\\legacy\\api.py", True),  # a Windows tool's path
    ("src/legacy/**", "../src/legacy/api.py", False),  # above the root
    ("./src/legacy/**", "src/legacy/api.py", True),
    ("./src/legacy/**", "x/src/legacy/api.py", False),
    ("**/tests/**", "app/tests/views.py", True),  # `**/` is the explicit "any depth"
    ("**/tests/**", "tests/test_a.py", True),
    ("tests/**", "app/tests/views.py", False),
    ("tests/**", "tests/../app/main.py", False),
    ("src/**/api.py", "src/api.py", True),
    ("src/**/api.py", "src/a/b/api.py", True),
    ("src/**/api.py", "lib/src/a/api.py", False),
    ("src/*.py", "src/a.py", True),
    ("src/*.py", "src/a/b.py", False),
    ("src/?.py", "src/a.py", True),
    ("src/[ab].py", "src/a.py", False),  # brackets are literal
    ("**/conftest.py", "app/conftest.py", True),
    ("conftest.py", "app/conftest.py", False),
]


@pytest.mark.parametrize(("pattern", "path", "matches"), MATCHES, ids=[f"{p} {q}" for p, q, _ in MATCHES])
def test_scopes_match_from_the_project_root(pattern: str, path: str, matches: bool) -> None:
    assert scope_problem(pattern) is None
    assert glob_match(pattern, path) is matches
    compiled = compile_globs([pattern])
    form = match_form(path)
    assert compiled is not None
    assert (form is not None and compiled.match(form) is not None) is matches


REFUSED_PATTERNS = [
    "**",
    "*",
    "*/**",
    "**/*",
    "**/*.py",  # the instance
    "**/*.p?",
    "*.py",
    "**/**/*.py",
    "*/*/*.py",
    "**/.*",
    "**.py",
    "./**",
    "./**/*.py",
    "/src/legacy/**",
    "src//legacy/**",
    "src/legacy/",
    "src/legacy/../../**",
    "./src/../**",
    "src/./legacy/**",
    "src\\legacy\\**",
    "src/legacy**",
    "",
    "   ",
]


@pytest.mark.parametrize("pattern", REFUSED_PATTERNS)
def test_patterns_that_name_nothing_or_mislead_are_refused(pattern: str) -> None:
    assert scope_problem(pattern) is not None


ACCEPTED_PATTERNS = [
    "src/legacy/**",
    "**/tests/**",
    "**/conftest.py",
    "**/test_*.py",
    "**/*_test.py",
    ".github/**",
    "*/migrations/**",
    "src/*.py",
]


@pytest.mark.parametrize("pattern", ACCEPTED_PATTERNS)
def test_patterns_that_name_a_folder_or_file_are_accepted(pattern: str) -> None:
    assert scope_problem(pattern) is None


# ------------------------------------------------------------------------------------------
# Waivers


def _bandit(path: str) -> dict[str, Any]:
    """A bandit 1.9.4 JSON report with one B602 (high, CWE-78) finding at `path`."""
    return {
        "errors": [],
        "generated_at": "2026-07-01T12:00:00Z",
        "metrics": {"_totals": {"loc": 10, "nosec": 0, "skipped_tests": 0}},
        "results": [
            {
                "code": "8 subprocess.call(cmd, shell=True)\n",
                "col_offset": 4,
                "end_col_offset": 36,
                "filename": path,
                "issue_confidence": "HIGH",
                "issue_cwe": {"id": 78, "link": "https://cwe.mitre.org/data/definitions/78.html"},
                "issue_severity": "HIGH",
                "issue_text": "subprocess call with shell=True identified, security issue.",
                "line_number": 8,
                "line_range": [8],
                "more_info": "https://bandit.readthedocs.io/en/1.9.4/plugins/b602_subprocess_popen_with_shell_equals_true.html",
                "test_id": "B602",
                "test_name": "subprocess_popen_with_shell_equals_true",
            }
        ],
    }


def _evaluate(tmp_path: Path, report_path: str, *extra: str) -> tuple[int, dict[str, Any] | None, str]:
    report = write(tmp_path / "bandit.json", json.dumps(_bandit(report_path)))
    verdict = tmp_path / "verdict.json"
    res = run_gate(["evaluate", str(report), "--policy", str(POLICIES), "--time", TIME, "--output", f"json={verdict}", *extra])
    return res.exit_code, json.loads(verdict.read_text()) if verdict.exists() else None, res.stdout + res.stderr


LEGACY_WAIVER = waiver_text(rule=None, path='"src/legacy/**"', expires="2026-09-30")


def test_attack_a_waiver_for_src_legacy_does_not_waive_tools_src_legacy(tmp_path: Path) -> None:
    """The issue's instance: `src/legacy/**` waived `tools/src/legacy/api.py`, the gate opened."""
    waivers = write(tmp_path / "waivers.yaml", LEGACY_WAIVER)
    code, verdict, out = _evaluate(tmp_path, "tools/src/legacy/api.py", "--waivers", str(waivers))
    assert code == 10, out
    assert verdict is not None and verdict["waived"] == []
    assert [w["id"] for w in verdict["waivers_unused"]] == ["W-2026-014"]
    # The folder the waiver names is still waived.
    code, verdict, out = _evaluate(tmp_path, "src/legacy/api.py", "--waivers", str(waivers))
    assert code == 0, out
    assert verdict is not None and [w["waiver"] for w in verdict["waived"]] == ["W-2026-014"]


def test_attack_a_path_that_climbs_out_of_the_waived_folder_is_not_waived(tmp_path: Path) -> None:
    """Variant: a report claims `src/legacy/../../app/main.py`; lexically that is `app/main.py`."""
    waivers = write(tmp_path / "waivers.yaml", LEGACY_WAIVER)
    code, verdict, out = _evaluate(tmp_path, "src/legacy/../../app/main.py", "--waivers", str(waivers))
    assert code == 10, out
    assert verdict is not None and verdict["waived"] == []


@pytest.mark.parametrize("pattern", ['"**/*.py"', '"**/*.p?"', '"*/**"', '"src/legacy/../../**"', '"/src/legacy/**"', '"src//legacy/**"'])
def test_attack_a_waiver_path_that_names_nothing_is_refused_with_its_line(tmp_path: Path, pattern: str) -> None:
    """The issue's instance (`**/*.py` was accepted, waiving every Python file) and variants."""
    path = write(tmp_path / "waivers.yaml", waiver_text(rule=None, path=pattern))
    with pytest.raises(ConfigError) as err:
        load(path)
    assert err.value.exit_code == 2
    assert err.value.position is not None and err.value.position.line == 6
    assert "must name something concrete" in str(err.value)


def test_the_cli_refuses_a_waiver_path_that_names_nothing_with_exit_2_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "waivers.yaml", waiver_text(rule=None, path='"**/*.py"'))
    code, _, out = _evaluate(tmp_path, "src/app.py", "--waivers", str(path))
    assert code == 2, out
    assert f"{path}:6" in out


# ------------------------------------------------------------------------------------------
# Data: test_paths


def test_attack_data_test_paths_that_name_nothing_are_refused_with_exit_2_and_the_line(tmp_path: Path) -> None:
    """Variant: `test_paths: ["**/*.py"]` in a data file made every file test code (SAST only warned)."""
    data = write(tmp_path / "tests.yaml", 'test_paths:\n  - "tests/**"\n  - "**/*.py"\n')
    code, verdict, out = _evaluate(tmp_path, "src/app.py", "--data", str(data))
    assert code == 2, out
    assert f"{data}:3" in out
    assert "names nothing" in out
    assert verdict is None or verdict["decision"] == "error"


def test_data_scopes_are_checked_file_by_file_with_the_line(tmp_path: Path) -> None:
    data = write(tmp_path / "d.yaml", "test_paths:\n  - tests/**\n  - '*/**'\n")
    with pytest.raises(ConfigError) as err:
        load_data_files([("d.yaml", str(data))])
    assert err.value.exit_code == 2
    assert err.value.file == "d.yaml"
    assert err.value.position is not None and err.value.position.line == 3


def test_the_shipped_data_globs_name_something() -> None:
    """Every glob of the shipped pack passes the same check (gate policy check runs it too)."""
    data = load_data_files([(str(p), str(p)) for p in sorted((POLICIES / "config").glob("*.yaml"))])
    assert data["test_paths"]
    for glob in data["test_paths"]:
        assert scope_problem(glob) is None, glob


def test_attack_production_code_in_a_nested_tests_folder_is_not_test_code(tmp_path: Path) -> None:
    """The issue's instance: production code in `app/tests/` only warned (shipped `**/tests/**`).

    The shipped test globs now name the top-level `tests/` and `test/` folders only, so
    `app/tests/views.py` is production code and its flaw blocks; `tests/` still warns.
    """
    code, verdict, out = _evaluate(tmp_path, "app/tests/views.py")
    assert code == 10, out
    assert verdict is not None and [v["rule"] for v in verdict["violations"]] == ["GATE-SAST-001"]
    code, verdict, out = _evaluate(tmp_path, "tests/test_views.py")
    assert code == 0, out
    assert verdict is not None and [w["rule"] for w in verdict["warnings"]] == ["GATE-SAST-003"]


def test_attack_a_path_that_climbs_out_of_tests_is_production_code(tmp_path: Path) -> None:
    """Variant: `tests/../app/main.py` matched `tests/**` and only warned."""
    code, verdict, out = _evaluate(tmp_path, "tests/../app/main.py")
    assert code == 10, out
    assert verdict is not None and [v["rule"] for v in verdict["violations"]] == ["GATE-SAST-001"]


@pytest.mark.slow
def test_policy_check_names_the_data_glob_that_names_nothing(tmp_path: Path) -> None:
    import shutil

    pack = tmp_path / "policies"
    shutil.copytree(POLICIES, pack)
    data = pack / "config" / "gate.yaml"
    text = data.read_text(encoding="utf-8")
    data.write_text(text.replace('  - "test/**"\n', '  - "test/**"\n  - "**/*.py"\n'), encoding="utf-8")
    line = data.read_text(encoding="utf-8").splitlines().index('  - "**/*.py"') + 1
    res = run_gate(["policy", "check", str(pack)])
    assert res.exit_code == 2, res.stdout + res.stderr
    assert f"gate.yaml:{line}" in res.stdout + res.stderr
    assert "names nothing" in res.stdout + res.stderr


def test_data_that_reaches_the_pipeline_another_way_is_checked_too() -> None:
    """A bundle's data.json has no lines; the pipeline refuses its catch-all test glob all the same."""
    from gate.pipeline import Context, prepare

    context = Context(stage="default", time=TIME, gate_version="test")
    with pytest.raises(ConfigError) as err:
        prepare([], context=context, config_data={"test_paths": ["tests/**", "**/*.py"]})
    assert err.value.exit_code == 2
    assert "test_paths[1]" in str(err.value)
