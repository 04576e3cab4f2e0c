"""Missing or empty input: scanning nothing is never a pass (exit 3, naming the path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.threats.helpers import CORE, assert_error_verdict, evaluate, evaluate_verdict, output


def test_missing_path_is_3_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "reports" / "bandit.json"
    res, verdict, doc = evaluate_verdict(tmp_path, str(missing))
    assert res.exit_code == 3
    assert f"{missing}: no such file" in output(res)
    assert_error_verdict(verdict, 3)
    assert verdict["error"]["file"] == str(missing) and doc is None


def test_missing_path_next_to_a_good_report_still_fails(tmp_path: Path) -> None:
    """One report missing among several is not "the others passed"."""
    missing = tmp_path / "semgrep.json"
    res, verdict, _ = evaluate_verdict(tmp_path, str(CORE / "clean.sarif"), str(missing))
    assert res.exit_code == 3
    assert f"{missing}: no such file" in output(res)
    assert_error_verdict(verdict, 3)


@pytest.mark.parametrize("allow_empty", [False, True], ids=["strict", "allow-empty"])
def test_zero_byte_file_is_3_even_with_allow_empty(tmp_path: Path, allow_empty: bool) -> None:
    empty = tmp_path / "bandit.json"
    empty.write_bytes(b"")
    res, verdict, _ = evaluate_verdict(tmp_path, str(empty), *(["--allow-empty"] if allow_empty else []))
    assert res.exit_code == 3
    assert f"{empty}: the file is empty (0 bytes): a report was expected" in output(res)
    assert_error_verdict(verdict, 3)


def test_white_space_only_file_is_3(tmp_path: Path) -> None:
    blank = tmp_path / "semgrep.json"
    blank.write_bytes(b" \n\t\r\n")
    res = evaluate(str(blank))
    assert res.exit_code == 3
    assert f"{blank}: the file holds only white space" in output(res)


def test_glob_matching_nothing_is_3_naming_the_pattern(tmp_path: Path) -> None:
    pattern = str(tmp_path / "reports" / "*.sarif")
    res, verdict, _ = evaluate_verdict(tmp_path, pattern)
    assert res.exit_code == 3
    assert f"{pattern}: the pattern matched no file" in output(res)
    assert_error_verdict(verdict, 3)
    assert verdict["error"]["file"] == pattern


def test_glob_matching_nothing_is_accepted_only_with_allow_empty(tmp_path: Path) -> None:
    res, verdict, doc = evaluate_verdict(tmp_path, str(tmp_path / "*.sarif"), "--allow-empty")
    assert res.exit_code == 0, output(res)
    assert verdict["decision"] == "pass" and doc is not None and doc["scans"] == []


def test_directory_without_reports_is_3_naming_it(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "notes.txt").write_text("bandit was here")
    (folder / "sub").mkdir()
    res, verdict, _ = evaluate_verdict(tmp_path, str(folder))
    assert res.exit_code == 3
    assert f"{folder}: the directory holds no report" in output(res)
    assert_error_verdict(verdict, 3)


def test_directory_with_reports_reads_them_all(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    (folder / "nested").mkdir(parents=True)
    (folder / "high.sarif").write_bytes((CORE / "high.sarif").read_bytes())
    (folder / "nested" / "medium.sarif").write_bytes((CORE / "medium.sarif").read_bytes())
    res, verdict, doc = evaluate_verdict(tmp_path, str(folder))
    assert res.exit_code == 10, output(res)
    assert doc is not None
    assert sorted(Path(s["path"]).name for s in doc["scans"]) == ["high.sarif", "medium.sarif"]


def test_no_argument_at_all_is_3_unless_allowed(tmp_path: Path) -> None:
    res, verdict, _ = evaluate_verdict(tmp_path)
    assert res.exit_code == 3
    assert "no report to evaluate (give report paths, or --allow-empty)" in output(res)
    assert_error_verdict(verdict, 3)
    res, verdict, _ = evaluate_verdict(tmp_path, "--allow-empty")
    assert res.exit_code == 0 and verdict["decision"] == "pass"


def test_a_directory_named_as_a_report_is_3(tmp_path: Path) -> None:
    """A directory whose name looks like a report is expanded, and empty: not silently nothing."""
    folder = tmp_path / "bandit.json"
    folder.mkdir()
    res = evaluate(str(folder))
    assert res.exit_code == 3
    assert f"{folder}: the directory holds no report" in output(res)
