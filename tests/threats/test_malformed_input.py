"""Malformed input: exit 3 with line:column or byte offset, no traceback, bounded time and memory.

Truncation is tried exhaustively on a few-KB report of every reader (in process, through
`gate.collect.read_document`, the same code `gate evaluate` runs after reading the file), on a
sample of cut points of big corpus reports, and through the command line for a handful.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest

from gate.collect import Limits, parse_document, read_document
from gate.errors import ExitCode, InputError
from tests.threats.helpers import (
    CORE,
    SMALL_SAMPLES,
    assert_error_verdict,
    corpus_file,
    evaluate,
    evaluate_verdict,
    output,
    result,
    said,
    sarif,
    within,
    write_json,
)


def read_error(data: bytes, path: str = "report.json", limits: Limits | None = None) -> InputError:
    with pytest.raises(InputError) as info:
        read_document(data, path, limits=limits)
    err = info.value
    assert err.exit_code == ExitCode.INPUT and err.file == path
    return err


def located(err: InputError) -> bool:
    pos = err.position
    return pos is not None and ((pos.line is not None and pos.column is not None) or pos.offset is not None)


# --------------------------------------------------------------------------------------------
# Truncation


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SMALL_SAMPLES))
def test_every_prefix_of_a_small_report_is_refused_with_a_position(name: str) -> None:
    path = SMALL_SAMPLES[name]
    data = path.read_bytes()
    whole = len(data.rstrip())
    report = read_document(data, str(path))  # the whole file is a good report ...
    assert report.result.findings or report.result.components or report.result.vex
    assert read_document(data[:whole], str(path)).result == report.result  # ... with or without a final newline
    started = time.perf_counter()
    for n in range(whole):  # ... and no shorter prefix is one
        err = read_error(data[:n], str(path))
        if n == 0:
            assert "the file is empty (0 bytes)" in err.message
        elif not data[:n].strip():
            assert "only white space" in err.message
        else:
            assert located(err), (n, str(err))
            assert str(err).startswith(f"{path}:{err.position}: "), (n, str(err))
    assert time.perf_counter() - started < 15, "every prefix of a few-KB report in well under a second each"


CUT_SAMPLES = [
    "sarif/codeql-2.20.4-javascript.sarif",
    "cyclonedx/bomex-dropwizard-cdx1.2.xml",
    "cyclonedx/cdxgen-9.10.2-java-cdx1.5.json",
    "semgrep/dracon-semgrep-1.73.0-vulpy.json",
    "bandit/celery-bandit-2020.json",
    "spdx/chainloop-spdx-trivy-container.json",
]


@pytest.mark.slow
@pytest.mark.parametrize("relative", CUT_SAMPLES)
def test_sampled_cut_points_of_big_corpus_reports_are_refused(relative: str) -> None:
    path = corpus_file(relative)
    data = path.read_bytes()
    whole = len(data.rstrip())
    rnd = random.Random(relative)  # noqa: S311 - reproducible cut points
    cuts = sorted({1, 2, whole // 2, whole - 1, *(rnd.randrange(1, whole) for _ in range(40))})
    non_ascii = [i for i, b in enumerate(data[:whole]) if b >= 0xC0]
    cuts += [i + 1 for i in non_ascii[:3]]  # inside a multi-byte character
    for n in cuts:
        err = read_error(data[:n], str(path))
        assert located(err), (n, str(err))


def test_the_corpus_report_bandit_left_truncated_is_refused() -> None:
    path = corpus_file("bandit/celery-bandit-truncated.json")
    res = evaluate(str(path))
    assert res.exit_code == 3
    assert f"{path}:" in said(res) and "invalid JSON" in said(res)


@pytest.mark.parametrize(
    ("name", "cut", "expected"),
    [
        ("sarif", 600, "invalid JSON: "),
        ("bandit", 1000, "invalid JSON: "),
        ("cyclonedx-xml", 2000, "invalid XML: "),
        ("spdx", 31, "invalid JSON: "),
    ],
)
def test_truncated_reports_through_the_command_line(tmp_path: Path, name: str, cut: int, expected: str) -> None:
    source = SMALL_SAMPLES[name]
    cut_file = tmp_path / source.name
    cut_file.write_bytes(source.read_bytes()[:cut])
    res, verdict, _ = evaluate_verdict(tmp_path, str(cut_file))
    assert res.exit_code == 3, said(res)
    assert_error_verdict(verdict, 3)
    pos = verdict["error"]["position"]
    assert pos["line"] >= 1 and pos["column"] >= 1
    assert f"{cut_file}:{pos['line']}:{pos['column']}: {expected}" in said(res)
    assert "Traceback" not in output(res)


@pytest.mark.parametrize("text", ["{}", "[]", '"a report"', "42", "null", '{"results": []}', '{"bomFormat": "SPDX"}'])
def test_valid_json_that_is_no_report_is_refused(text: str) -> None:
    err = read_error(text.encode())
    assert "unknown format" in err.message or "must" in err.message, err.message


# --------------------------------------------------------------------------------------------
# Invalid JSON, nesting, constants, numbers


def test_invalid_json_names_line_and_column() -> None:
    err = read_error(b'{\n  "version": "2.1.0",\n  "runs": [}\n')
    assert str(err) == "report.json:3:12: invalid JSON: Expecting value"


def test_raw_control_character_in_a_string_is_refused_where_it_is() -> None:
    path = corpus_file("sarif/chainloop-control-chars.sarif")
    res = evaluate(str(path))
    assert res.exit_code == 3
    assert f"{path}:35:10: invalid JSON: Invalid control character" in said(res)


def test_corpus_syntax_error_and_zero_byte_files() -> None:
    broken = corpus_file("sarif/sdk-json-syntax-error.sarif")
    empty = corpus_file("sarif/credo-zero-byte.sarif")
    assert f"{broken}:3:3: invalid JSON: Expecting property name enclosed in double quotes" in said(evaluate(str(broken)))
    res = evaluate(str(empty))
    assert res.exit_code == 3 and f"{empty}: the file is empty (0 bytes)" in said(res)


def test_several_documents_in_one_file_are_refused_at_the_second() -> None:
    path = corpus_file("semgrep/badguys-semgrep-2020-concatenated.json")
    res = evaluate(str(path))
    assert res.exit_code == 3
    assert "invalid JSON: extra data after the document (several JSON values in one file?)" in said(res)
    err = read_error(b'{"results": [], "errors": []}\n{"results": []}', "two.json")
    assert str(err).startswith("two.json:2:1: ")


@pytest.mark.parametrize("opener", [b"[", b'{"a":'])
def test_nesting_100k_deep_is_refused_at_level_129_quickly(opener: bytes) -> None:
    closer = b"]" if opener == b"[" else b"}"
    data = opener * 100_000 + b"1" + closer * 100_000
    with within(5):
        started = time.perf_counter()
        err = read_error(data)
        elapsed = time.perf_counter() - started
    assert err.message == "JSON nested deeper than 128 levels" and err.hint == "raise it with --max-depth"
    assert err.position is not None and err.position.line == 1 and err.position.column == 128 * len(opener) + 1
    assert elapsed < 1.0


def test_deep_nesting_inside_a_real_report_is_refused_through_the_cli(tmp_path: Path) -> None:
    deep: object = "bottom"
    for _ in range(300):
        deep = {"k": deep}
    path = write_json(tmp_path / "deep.sarif", sarif([result(properties={"deep": deep})]))
    res, verdict, _ = evaluate_verdict(tmp_path, str(path))
    assert res.exit_code == 3
    assert_error_verdict(verdict, 3)
    assert verdict["error"]["message"] == "JSON nested deeper than 128 levels"
    pos = verdict["error"]["position"]
    assert f"{path}:{pos['line']}:{pos['column']}: JSON nested deeper than 128 levels" in said(res)


@pytest.mark.parametrize(("literal", "column"), [("NaN", 30), ("Infinity", 30), ("-Infinity", 30)])
def test_nan_and_infinity_are_refused_where_they_stand(literal: str, column: int) -> None:
    data = f'{{"version": "2.1.0", "runs": {literal}}}'.encode()
    err = read_error(data, "x.sarif")
    assert str(err) == f"x.sarif:1:{column}: invalid JSON: {literal} is not a JSON value (JSON has no NaN or Infinity)"


def _sarif_with_line(tmp_path: Path, literal: str) -> Path:
    text = json.dumps(sarif([result(line=7)]), indent=1).replace('"startLine": 7', f'"startLine": {literal}')
    path = tmp_path / "huge.sarif"
    path.write_text(text)
    return path


@pytest.mark.parametrize("literal", ["1" + "0" * 400, "-" + "9" * 309, "1e400", "-2.5E+999", "1" + "0" * 5000])
def test_numbers_no_engine_can_hold_are_refused_with_a_position(tmp_path: Path, literal: str) -> None:
    path = _sarif_with_line(tmp_path, literal)
    line = next(i for i, ln in enumerate(path.read_text().splitlines(), 1) if "startLine" in ln)
    res = evaluate(str(path))
    assert res.exit_code == 3, said(res)
    assert f"{path}:{line}:" in said(res)
    assert "number out of range" in said(res) and "does not fit a 64-bit floating-point number" in said(res)


def test_a_huge_line_number_that_fits_a_double_reaches_a_verdict_exactly(tmp_path: Path) -> None:
    """10**300 is valid JSON every engine can read: the finding is kept, its line exact."""
    huge = 10**300
    res, verdict, doc = evaluate_verdict(tmp_path, str(_sarif_with_line(tmp_path, str(huge))))
    assert res.exit_code == 10, said(res)
    assert doc is not None and doc["findings"][0]["location"]["start_line"] == huge
    assert verdict["violations"][0]["rule"] == "CORE-001"


def test_huge_line_number_gives_the_same_verdict_with_opa(tmp_path: Path) -> None:
    from tests.threats.helpers import opa_binary

    opa_binary()
    path = _sarif_with_line(tmp_path, str(10**300))
    res = evaluate(str(path), "--engine", "opa")
    assert res.exit_code == 10, said(res)


def test_corpus_integer_beyond_int64_is_read() -> None:
    path = corpus_file("sarif/sdk-mobsfscan-bigint-locid.sarif")
    report = read_document(path.read_bytes(), str(path))
    assert len(report.result.findings) == 1


# --------------------------------------------------------------------------------------------
# Duplicate keys


@pytest.mark.parametrize(
    ("text", "where", "key"),
    [
        ('{"version": "2.1.0", "version": "2.0.0", "runs": []}', "1:22", "version"),
        ('{\n "runs": [\n  {"tool": {"driver": {"name": "a", "name": "b"}}}\n ]\n}', "3:37", "name"),
        ('{"a": {"k": 1, "k": 2}, "a": 3}', "1:16", "k"),  # the first repeat in reading order
        ('{"key": 1, "\\u006bey": 2}', "1:12", "key"),  # the same key, spelt with an escape
    ],
)
def test_duplicate_keys_are_refused_at_the_second_occurrence(text: str, where: str, key: str) -> None:
    err = read_error(text.encode(), "dup.sarif")
    assert str(err) == f'dup.sarif:{where}: duplicate key "{key}" in a JSON object (each key may appear once per object)'


def test_same_key_in_different_objects_is_fine() -> None:
    doc, media, _ = parse_document(b'{"a": {"k": 1}, "b": {"k": 2}, "c": [{"k": 1}, {"k": 2}]}', "x")
    assert media == "json" and doc["c"][1]["k"] == 2


def test_duplicate_key_through_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "dup.sarif"
    path.write_text((CORE / "high.sarif").read_text().replace('"level": "error",', '"level": "note", "level": "error",'))
    res, verdict, _ = evaluate_verdict(tmp_path, str(path))
    assert res.exit_code == 3
    assert_error_verdict(verdict, 3)
    assert f"{path}:21:" in said(res) and 'duplicate key "level"' in said(res)


# --------------------------------------------------------------------------------------------
# Encodings


def _finding_ids(tmp_path: Path, data: bytes, name: str) -> list[str]:
    path = tmp_path / name
    path.write_bytes(data)
    res, _, doc = evaluate_verdict(tmp_path, str(path))
    assert res.exit_code == 10, said(res)
    assert doc is not None
    return [f["id"] for f in doc["findings"]]


def test_utf8_bom_is_accepted_and_changes_nothing(tmp_path: Path) -> None:
    plain = (CORE / "high.sarif").read_bytes()
    assert _finding_ids(tmp_path, b"\xef\xbb\xbf" + plain, "bom.sarif") == _finding_ids(tmp_path, plain, "plain.sarif")


def test_corpus_report_with_a_bom_is_read() -> None:
    path = corpus_file("sarif/sdk-utf8-bom.sarif")
    assert len(read_document(path.read_bytes(), str(path)).result.findings) == 5


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"])
def test_utf16_and_utf32_are_decoded_never_misread(tmp_path: Path, encoding: str) -> None:
    text = (CORE / "high.sarif").read_text(encoding="utf-8").replace("bad thing", "bad thing: naïve café ☃ 😀")
    utf8 = read_document(text.encode("utf-8"), "same.sarif")
    other = read_document(text.encode(encoding), "same.sarif")
    assert other.result.findings == utf8.result.findings
    assert "naïve café ☃ 😀" in other.result.findings[0].message


def test_utf16_cyclonedx_xml_is_decoded_never_misread() -> None:
    path = SMALL_SAMPLES["cyclonedx-xml"]
    text = path.read_text(encoding="utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    utf8 = read_document(path.read_bytes(), "bom.xml")
    utf16 = read_document(text.encode("utf-16"), "bom.xml")
    assert utf16.result.components == utf8.result.components and utf16.result.findings == utf8.result.findings


def test_utf32_xml_is_refused_not_misread() -> None:
    err = read_error('<?xml version="1.0"?><bom/>'.encode("utf-32"), "bom.xml")
    assert err.message == "UTF-32 XML is not supported (expat reads UTF-8 and UTF-16)"


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (b"\xff", "invalid start byte"),
        (b"\xc0\x80", "invalid start byte"),  # overlong NUL
        (b"\xed\xa0\x80", "invalid continuation byte"),  # a UTF-16 surrogate, encoded
        (b"\xe2\x82", "invalid continuation byte"),  # cut short before the closing quote
    ],
)
def test_invalid_utf8_is_refused_with_its_byte_offset(bad: bytes, reason: str) -> None:
    data = b'{\n  "version": "2.1.0",\n  "runs": [],\n  "x": "ok ' + bad + b'"\n}'
    offset = data.index(bad)
    err = read_error(data, "bad.sarif")
    assert err.message == f"invalid UTF-8 at byte {offset}: {reason}"
    assert err.position is not None and err.position.offset == offset and (err.position.line, err.position.column) == (4, 12)


def test_invalid_utf8_through_the_cli_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.sarif"
    path.write_bytes((CORE / "high.sarif").read_text().replace("bad thing", "mauvaise chose é").encode("latin-1"))
    res, verdict, _ = evaluate_verdict(tmp_path, str(path))
    assert res.exit_code == 3
    offset = path.read_bytes().index(b"\xe9")
    assert verdict["error"]["position"]["offset"] == offset
    assert f"invalid UTF-8 at byte {offset}: invalid continuation byte" in said(res)


def test_invalid_utf16_is_refused_with_its_byte_offset() -> None:
    data = b"\xff\xfe" + '{"a": "'.encode("utf-16-le") + b"\x00\xd8" + '"}'.encode("utf-16-le")
    err = read_error(data)
    assert err.message.startswith("invalid UTF-16-LE at byte 16: ")
    assert str(err.position) == "byte 16"


def test_escaped_unpaired_surrogates_become_replacement_characters(tmp_path: Path) -> None:
    """`"\\udc00"` is valid JSON but no text: the gate reads it as U+FFFD rather than failing an engine."""
    path = tmp_path / "surrogate.sarif"
    path.write_text((CORE / "high.sarif").read_text().replace("bad thing", "bad \\udc00 thing \\ud83d \\ud83d\\ude00"))
    res, _, doc = evaluate_verdict(tmp_path, str(path))
    assert res.exit_code == 10, said(res)
    assert doc is not None and doc["findings"][0]["message"] == "bad \ufffd thing \ufffd 😀"


@pytest.mark.parametrize("declared", ["mtf-8", "shift_jis", "utf-7", "rot13"])
def test_an_xml_encoding_expat_cannot_read_is_refused(declared: str) -> None:
    err = read_error(f'<?xml version="1.0" encoding="{declared}"?><bom/>'.encode(), "bom.xml")
    assert err.message.startswith("the XML declaration names an encoding that cannot be read")
    assert declared not in str(err), "the declared name is attacker text and is not echoed"


def test_malformed_xml_names_line_and_column() -> None:
    err = read_error(b'<?xml version="1.0"?>\n<bom xmlns="http://cyclonedx.org/schema/bom/1.6">\n  <components>\n</bom>\n', "bom.xml")
    assert str(err) == "bom.xml:4:3: invalid XML: mismatched tag"
