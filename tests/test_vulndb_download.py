"""`gate vulndb update` from a URL: a local HTTP server on 127.0.0.1 serves an OSV-export-shaped zip.

The real export (osv-vulnerabilities.storage.googleapis.com) is out of reach here; the download
path (progress, size checks, atomic replacement) is the same for any http(s) URL.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, run_gate
from tests.vulndb_support import build_db, record, zip_records

Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


@pytest.fixture
def server() -> Iterator[Callable[[dict[str, Handler]], str]]:
    """serve({path: handler}) -> base URL of a server on 127.0.0.1 (stopped after the test)."""
    servers: list[http.server.ThreadingHTTPServer] = []

    def serve(routes: dict[str, Handler]) -> str:
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server hook name
                handler = routes.get(self.path)
                if handler is None:
                    self.send_error(404)
                    return
                handler(self)

            def log_message(self, *args: object) -> None:
                pass

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield serve
    for s in servers:
        s.shutdown()
        s.server_close()


def send_file(data: bytes, *, send: int | None = None, stall: float = 0.0) -> Handler:
    """A handler that announces len(data) bytes, sends `send` of them (all by default), then stalls/closes."""

    def handler(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/zip")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data[: len(data) if send is None else send])
        h.wfile.flush()
        if stall:
            time.sleep(stall)

    return handler


def test_update_downloads_the_export_with_progress(tmp_path: Path, server: Callable[[dict[str, Handler]], str]) -> None:
    data = zip_records(tmp_path / "all.zip", [record("PYSEC-0000-30", "demo"), record("GHSA-xxxx-yyyy-zzzz", "demo")]).read_bytes()
    base = server({"/PyPI/all.zip": send_file(data)})
    db = tmp_path / "db"
    res = run_gate(["vulndb", "update", "--source", base + "/{ecosystem}/all.zip", "--db", str(db), "--progress"])
    assert res.exit_code == 0, res.stderr
    assert "downloading PyPI" in res.stderr
    assert f"{len(data)}/{len(data)} bytes" in res.stderr
    manifest = json.loads((db / "manifest.json").read_text())
    assert manifest["records"] == 2
    assert manifest["source"] == base + "/PyPI/all.zip"
    # No progress unless asked (stderr is not a terminal here).
    res = run_gate(["vulndb", "update", "--source", base + "/PyPI/all.zip", "--db", str(db)])
    assert res.exit_code == 0
    assert "downloading" not in res.stderr


@pytest.mark.slow
@pytest.mark.parametrize("case", ["404", "truncated", "not-a-zip"])
def test_failed_download_leaves_the_old_database_whole(tmp_path: Path, server: Callable[[dict[str, Handler]], str], case: str) -> None:
    db = build_db(tmp_path, [record("PYSEC-0000-31", "demo")])
    before = {p.name: p.read_bytes() for p in db.iterdir()}
    data = zip_records(tmp_path / "all.zip", [record("PYSEC-0000-32", "demo")]).read_bytes()
    routes = {"/truncated": send_file(data, send=len(data) // 2), "/not-a-zip": send_file(b"<html>captive portal</html>")}
    base = server(routes)
    res = run_gate(["vulndb", "update", "--source", f"{base}/{case}", "--db", str(db)])
    assert res.exit_code == 2, res.stderr
    assert {"404": "HTTP 404", "truncated": "truncated", "not-a-zip": "not a readable zip"}[case] in res.stderr
    assert {p.name: p.read_bytes() for p in db.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if ".update-" in p.name] == []


@pytest.mark.slow
def test_update_killed_mid_download_leaves_the_old_database_whole(tmp_path: Path, server: Callable[[dict[str, Handler]], str]) -> None:
    """SIGKILL during the download: nothing of the old database is touched (the new one is built beside it)."""
    db = build_db(tmp_path, [record("PYSEC-0000-33", "demo")])
    before = {p.name: p.read_bytes() for p in db.iterdir()}
    data = zip_records(tmp_path / "all.zip", [record(f"PYSEC-0001-{i}", "demo") for i in range(200)]).read_bytes()
    started = threading.Event()

    def slow(h: http.server.BaseHTTPRequestHandler) -> None:
        started.set()
        send_file(data, send=len(data) // 2, stall=30)(h)

    base = server({"/all.zip": slow})
    proc = subprocess.Popen(
        [sys.executable, "-c", "from gate.cli import main; main()", "vulndb", "update", "--source", f"{base}/all.zip", "--db", str(db)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert started.wait(30), "the update never reached the server"
        deadline = time.monotonic() + 30
        while not any(".update-" in p.name and any(p.iterdir()) for p in tmp_path.iterdir()):
            assert time.monotonic() < deadline, "no partial download appeared"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert {p.name: p.read_bytes() for p in db.iterdir()} == before
    res = run_gate(["vulndb", "status", "--db", str(db)])
    assert res.exit_code == 0
    # The next update cleans nothing up by itself but is not disturbed by the leftover folder.
    src = tmp_path / "src"
    zip_records(src / "all.zip", [record("PYSEC-0000-34", "demo")])
    assert run_gate(["vulndb", "update", "--source", str(src / "all.zip"), "--db", str(db)]).exit_code == 0
