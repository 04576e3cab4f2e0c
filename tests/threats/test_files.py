"""Files: symbolic links, FIFOs, devices, sockets, and SARIF URIs pointing outside.

Decision (gate/collect.py): a path under the working directory that resolves through a symbolic
link to somewhere outside it is refused (exit 3); links that stay inside are followed; a path
the command line names outside the working directory is read as named (the pipeline chose it,
not the pull request). Only regular files are read. URIs inside reports are text: never
resolved, never opened, kept verbatim on the finding. An audit hook records every file the gate
opens while it runs, to prove what it did not read.
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import pytest

from tests.threats.helpers import (
    CORE,
    CORE_POLICY,
    FORMATS_ALL,
    evaluate,
    evaluate_verdict,
    opened,
    output,
    reads_of,
    result,
    said,
    sarif,
    within,
    write_json,
)

CANARY = "CANARY-7f3e9b1c-never-shown"


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    """A workspace (the working directory) and, beside it, an outside holding a secret and a report."""
    ws, outside = tmp_path / "ws", tmp_path / "outside"
    (ws / "reports").mkdir(parents=True)
    outside.mkdir()
    secret = outside / "secret.json"
    secret.write_text('{"token": "' + CANARY + '"}')
    report = outside / "high.sarif"
    report.write_bytes((CORE / "high.sarif").read_bytes())
    return {"ws": ws, "outside": outside, "secret": secret, "report": report}


# --------------------------------------------------------------------------------------------
# Symbolic links


def test_a_link_that_stays_inside_the_workspace_is_followed(world: dict[str, Path]) -> None:
    ws = world["ws"]
    (ws / "reports" / "run-1.sarif").write_bytes((CORE / "high.sarif").read_bytes())
    (ws / "reports" / "latest.sarif").symlink_to("run-1.sarif")
    res = evaluate("reports/latest.sarif", cwd=ws)
    assert res.exit_code == 10, said(res)


@pytest.mark.parametrize("target", ["secret", "report"])
def test_a_link_out_of_the_workspace_is_refused_unread(world: dict[str, Path], target: str) -> None:
    ws = world["ws"]
    link = ws / "reports" / "bandit.json"
    link.symlink_to(world[target])
    with opened() as paths:
        res, verdict, _ = evaluate_verdict(ws, "reports/bandit.json", cwd=ws)
    assert res.exit_code == 3
    assert "reports/bandit.json: resolves through a symbolic link to a file outside the working directory: refused" in said(res)
    assert verdict["error"]["file"] == "reports/bandit.json" and verdict["violations"] == []
    assert reads_of(paths, world[target]) == [], "the target was never opened"
    assert CANARY not in output(res) and str(world["outside"]) not in output(res), "neither its content nor where it is"


def test_a_linked_directory_leading_out_is_refused(world: dict[str, Path]) -> None:
    ws = world["ws"]
    (ws / "out").symlink_to(world["outside"], target_is_directory=True)
    with opened() as paths:
        res = evaluate("out/high.sarif", cwd=ws)
    assert res.exit_code == 3
    assert "out/high.sarif: resolves through a symbolic link to a file outside the working directory" in said(res)
    assert reads_of(paths, world["report"]) == []


def test_a_link_out_found_while_expanding_a_directory_is_refused_not_skipped(world: dict[str, Path]) -> None:
    ws = world["ws"]
    (ws / "reports" / "ok.sarif").write_bytes((CORE / "clean.sarif").read_bytes())
    (ws / "reports" / "evil.sarif").symlink_to(world["report"])
    res = evaluate("reports", cwd=ws)
    assert res.exit_code == 3
    assert "reports/evil.sarif: resolves through a symbolic link to a file outside the working directory" in said(res)


def test_a_dangling_link_is_3(world: dict[str, Path]) -> None:
    ws = world["ws"]
    (ws / "reports" / "gone.sarif").symlink_to("nowhere.sarif")
    res = evaluate("reports/gone.sarif", cwd=ws)
    assert res.exit_code == 3
    assert "reports/gone.sarif: is a symbolic link to a file that does not exist" in said(res)


def test_a_path_the_command_line_names_outside_is_read_as_named(world: dict[str, Path]) -> None:
    res = evaluate(str(world["report"]), cwd=world["ws"])
    assert res.exit_code == 10, said(res)


# --------------------------------------------------------------------------------------------
# FIFOs, devices, sockets


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "bandit.json"
    os.mkfifo(fifo)  # nobody ever writes: an open() or read() would block forever
    with within(10):
        res, verdict, _ = evaluate_verdict(tmp_path, str(fifo))
    assert res.exit_code == 3
    assert f"{fifo}: is a FIFO, not a regular file: refused" in said(res)
    assert verdict["violations"] == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_inside_a_reports_directory_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "a.sarif").write_bytes((CORE / "clean.sarif").read_bytes())
    os.mkfifo(folder / "b.sarif")
    with within(10):
        res = evaluate(str(folder))
    assert res.exit_code == 3
    assert f"{folder / 'b.sarif'}: is a FIFO, not a regular file: refused" in said(res)


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero", "/dev/urandom"])
def test_device_files_are_refused(device: str) -> None:
    if not os.path.exists(device):
        pytest.skip(f"{device} does not exist here")
    with within(10):
        res = evaluate(device)
    assert res.exit_code == 3
    assert f"{device}: is a device, not a regular file: refused" in said(res)


def test_a_socket_is_refused(tmp_path: Path) -> None:
    if not hasattr(socket, "AF_UNIX"):
        pytest.skip("no Unix sockets here")
    short = Path(tempfile.mkdtemp(prefix="gs-"))  # socket paths are limited to about 100 bytes
    path = short / "r.sarif"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(path))
        with within(10):
            res = evaluate(str(path))
    finally:
        sock.close()
        path.unlink(missing_ok=True)
        short.rmdir()
    assert res.exit_code == 3
    assert f"{path}: is a socket, not a regular file: refused" in said(res)


# --------------------------------------------------------------------------------------------
# URIs inside reports


def test_sarif_uris_pointing_outside_are_kept_as_text_never_opened(world: dict[str, Path], tmp_path: Path) -> None:
    secret = world["secret"]
    uris = [
        "../../../../../../etc/passwd",
        "/etc/shadow",
        "file:///etc/passwd",
        str(secret),
        "file://" + str(secret),
        os.path.relpath(secret, world["ws"]),
        "..\\..\\Windows\\win.ini",
        "C:/Windows/System32/drivers/etc/hosts",
        "%2e%2e/%2e%2e/etc/passwd",
    ]
    report = write_json(world["ws"] / "uris.sarif", sarif([result(f"finding {i}", uri=u, line=i + 1) for i, u in enumerate(uris)]))
    outs = {fmt: tmp_path / f"out.{fmt}" for fmt in FORMATS_ALL}
    args = [str(report)] + [a for fmt, p in outs.items() for a in ("--output", f"{fmt}={p}")]
    with opened() as paths:
        res = evaluate(*args, cwd=world["ws"])
    assert res.exit_code == 10, said(res)
    import json

    doc = json.loads(outs["input"].read_text())
    from gate.paths import normalise

    # Kept as text: the pipeline only unifies slashes and drops `file://` and a leading `./` for
    # comparison (gate.paths.normalise); `..` and absolute paths stay as they were written.
    assert [f["location"]["path"] for f in doc["findings"]] == [normalise(u) for u in uris], "each finding kept"
    assert doc["findings"][0]["location"]["path"] == uris[0] and doc["findings"][6]["location"]["path"] == "../../Windows/win.ini"
    assert reads_of(paths, secret) == [] and not [p for _, p in paths if p.startswith(("/etc/passwd", "/etc/shadow"))]
    for fmt, p in outs.items():
        assert CANARY not in p.read_text(encoding="utf-8"), fmt
    assert CANARY not in output(res)


def test_uris_are_not_resolved_against_the_policy_or_waivers(world: dict[str, Path]) -> None:
    """A `../` URI is not normalised into a path the waivers or test globs would match differently."""
    report = write_json(world["ws"] / "t.sarif", sarif([result(uri="src/../tests/test_x.py")]))
    res, _, doc = evaluate_verdict(world["ws"], str(report), cwd=world["ws"], policy=CORE_POLICY)
    assert res.exit_code == 10
    assert doc is not None and doc["findings"][0]["location"]["path"] == "src/../tests/test_x.py"
