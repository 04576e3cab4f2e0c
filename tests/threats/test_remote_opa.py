"""Remote OPA (`--engine opa-server --opa-url URL`): a server answering `{}`, 5xx, slowly, or not
listening at all is an engine error, exit 4, with an error verdict: never an empty set of
violations read as a pass.

Each server here is a few lines of `http.server` on 127.0.0.1, bounded in time, stopped at the
end of its test. tests/test_engine_opa_server.py covers the engine against a real OPA and more
failure modes; this module is the THREATS.md row, through the command line.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gate.bundle import content_digest
from gate.policy import load_policy
from tests.conftest import run_gate
from tests.threats.helpers import CORE, CORE_POLICY, T, assert_error_verdict, said


@contextmanager
def server(mode: str) -> Iterator[str]:
    """An HTTP server on loopback; yields its URL.

    `{}`: every request answered 200 `{}`. `500`: every request answered 500. `slow`: a healthy
    server running the right bundle (so the gate gets as far as evaluating) whose decisions take
    longer than the evaluation limit.
    """
    stop = threading.Event()
    digest = content_digest(load_policy(str(CORE_POLICY), include_tests=False))
    bundles = {"result": {"gate.tar.gz": {"manifest": {"revision": "r1", "metadata": {"gate": {"content_digest": digest}}}}}}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's name
            pass

        def send(self, status: int, body: object) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:
                pass  # the client gave up first

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if mode == "500":
                self.send(500, {"code": "internal_error", "message": "boom"})
            elif mode == "{}":
                self.send(200, {})
            elif self.path == "/v1/config":
                self.send(200, {"result": {"labels": {"version": "0.0.0-test"}}})
            elif self.path == "/v1/data/system/bundles":
                self.send(200, bundles)
            else:
                self.send(200, {})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(min(length, 10 << 20))
            if mode == "slow":
                stop.wait(10)  # past the evaluation limit of 1 s; released at teardown
                self.send(200, {"result": []})
            elif mode == "500":
                self.send(500, {"code": "internal_error", "message": "boom"})
            else:
                self.send(200, {})

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        stop.set()
        srv.shutdown()
        srv.server_close()
        thread.join(5)


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def evaluate_remote(tmp_path: Path, url: str) -> tuple[object, dict, float]:
    out = tmp_path / "verdict.json"
    started = time.perf_counter()
    res = run_gate(
        ["evaluate", str(CORE / "high.sarif"), "--policy", str(CORE_POLICY), *T, "--engine", "opa-server", "--opa-url", url,
         "--eval-timeout", "1", "--output", f"json={out}"]
    )  # fmt: skip
    elapsed = time.perf_counter() - started
    return res, json.loads(out.read_text()), elapsed


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("{}", ""),
        ("500", r"HTTP 500|not healthy"),
        ("slow", r" 1 s|timed out"),
        ("not listening", "unreachable"),
    ],
)
def test_a_broken_opa_server_is_exit_4(tmp_path: Path, mode: str, expected: str) -> None:
    if mode == "not listening":
        res, verdict, elapsed = evaluate_remote(tmp_path, url := f"http://127.0.0.1:{closed_port()}")
    else:
        with server(mode) as url:
            res, verdict, elapsed = evaluate_remote(tmp_path, url)
    assert res.exit_code == 4, said(res)  # type: ignore[attr-defined]
    assert_error_verdict(verdict, 4)
    assert verdict["error"]["kind"] == "engine"
    message = verdict["error"]["message"]
    assert f"the OPA server at {url}" in message and re.search(expected, message), message
    assert message in said(res)  # type: ignore[arg-type]
    assert elapsed < 8, f"bounded by --eval-timeout 1 (took {elapsed:.1f} s)"
