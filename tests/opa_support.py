"""Helpers for the tests that need OPA: the binary, a real OPA server, and fake servers.

Everything listens on 127.0.0.1 only, waits a bounded time and is stopped at teardown.
Tests that need the `opa` binary skip when it is absent, unless GATE_REQUIRE_OPA=1 (CI), where
they fail.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA

OPA_DATA = DATA / "opa"
TEST_POLICY = OPA_DATA / "policy"
STARTUP_SECONDS = 20.0


def opa_binary() -> str:
    """The `opa` the engine would use, or skip (fail under GATE_REQUIRE_OPA=1)."""
    from gate.engine.opa import find_opa
    from gate.errors import EngineError

    try:
        return find_opa()
    except EngineError as exc:
        reason = f"opa is not available: {exc}"
        if os.environ.get("GATE_REQUIRE_OPA") == "1":
            pytest.fail(reason + " but GATE_REQUIRE_OPA=1")
        pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of asking)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class RunningOpa:
    """A real `opa run --server` on loopback."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def opa_server(bundle: Path, workdir: Path, *extra: str) -> Iterator[RunningOpa]:
    """`opa run --server` with one bundle on a free loopback port; killed on exit.

    Waits (at most STARTUP_SECONDS) until /health?bundles=true answers 200.
    """
    binary = opa_binary()
    port = free_port()
    log = workdir / f"opa-{port}.log"
    argv = [
        binary,
        "run",
        "--server",
        "--addr",
        f"127.0.0.1:{port}",
        "--skip-version-check",
        "--log-level",
        "error",
        "--bundle",
        str(bundle),
        *extra,
    ]
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"opa exited with {proc.returncode}: {log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health?bundles=true", timeout=1) as resp:  # noqa: S310 - loopback
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"opa did not become healthy within {STARTUP_SECONDS} s: {log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)
        yield RunningOpa(url=url, process=proc, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def opa_runs_bundle(bundle: Path, workdir: Path, *extra: str) -> tuple[bool, str]:
    """Whether `opa build` accepts (loads, and with a key verifies) the bundle; and its output."""
    binary = opa_binary()
    out = workdir / "opa-build-check.tar.gz"
    done = subprocess.run(
        [binary, "build", "--bundle", str(bundle), "-o", str(out), *extra], capture_output=True, text=True, timeout=60, check=False
    )
    return done.returncode == 0, done.stdout + done.stderr


# --------------------------------------------------------------------------------------------
# A fake OPA server, for the failure modes a real one will not produce on demand


@dataclass
class FakeOpa:
    """A loopback HTTP(S) server that speaks just enough of OPA's API.

    `mode` decides the answer to `POST /v1/data/...`: ok (an empty set), slow (answers after
    `delay` seconds, cut short at teardown), status500, malformed, undefined, notaset, swap
    (another bundle after the first decision). `health` is the status of /health. With `token`,
    every request without `Authorization: Bearer <token>` gets 401. With `keys` (`package|decision`),
    the bundle's generated rule (`/v1/data/gate/_decision/decisions`) answers an object of them
    (each an empty set; 5 in notaset mode); without, that rule is undefined, as in a bundle made
    before it existed. `bodies` holds every POST body as received.
    """

    content_digest: str
    mode: str = "ok"
    health: int = 200
    delay: float = 5.0
    token: str | None = None
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    decisions: int = 0
    url: str = ""
    keys: list[str] | None = None
    bodies: list[bytes] = field(default_factory=list)

    def bundles(self) -> dict[str, Any]:
        revision = "r2" if self.mode == "swap" and self.decisions > 0 else "r1"
        manifest = {"revision": revision, "roots": ["gate", "config"], "metadata": {"gate": {"content_digest": self.content_digest}}}
        return {"result": {"fake.tar.gz": {"etag": "", "manifest": manifest}}}


def _handler(fake: FakeOpa) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 5  # a client that keeps its connection idle cannot hold the teardown longer

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
            pass

        def _send(self, status: int, body: bytes | str, content_type: str = "application/json") -> None:
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            self.wfile.write(data)

        def _authorised(self) -> bool:
            fake.requests.append((self.command, self.path, dict(self.headers.items())))
            if fake.token is not None and self.headers.get("Authorization") != f"Bearer {fake.token}":
                self._send(401, json.dumps({"code": "unauthorized", "message": "request rejected by administrative policy"}))
                return False
            return True

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if not self._authorised():
                return
            if self.path.startswith("/health"):
                self._send(fake.health, "{}")
            elif self.path == "/v1/config":
                self._send(200, json.dumps({"result": {"labels": {"id": "fake", "version": "0.0.0-fake"}}}))
            elif self.path == "/v1/data/system/bundles":
                self._send(200, json.dumps(fake.bundles()))
            elif self.path.startswith("/v1/policies"):
                self._send(200, json.dumps({"result": []}))
            else:
                self._send(404, json.dumps({"code": "not_found"}))

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            fake.bodies.append(self.rfile.read(length))
            if not self._authorised():
                return
            fake.decisions += 1
            mode = fake.mode
            combined = self.path.startswith("/v1/data/gate/_decision/decisions")
            if combined and mode in ("ok", "swap", "notaset"):
                value = 5 if mode == "notaset" else []
                self._send(200, json.dumps({"result": {k: value for k in fake.keys}}) if fake.keys is not None else "{}")
                return
            if mode == "slow":
                fake.stop.wait(fake.delay)
                self._send(200, json.dumps({"result": []}))
            elif mode == "status500":
                self._send(500, json.dumps({"code": "internal_error", "message": "boom"}))
            elif mode == "malformed":
                self._send(200, '{"result": [')
            elif mode == "undefined":
                self._send(200, "{}")
            elif mode == "notaset":
                self._send(200, json.dumps({"result": 5}))
            else:
                self._send(200, json.dumps({"result": []}))

    return Handler


@contextmanager
def fake_opa(fake: FakeOpa, tls: tuple[Path, Path] | None = None) -> Iterator[FakeOpa]:
    """Serve `fake` on a free loopback port (HTTPS with the given cert and key)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = False  # server_close() then joins the handler threads
    scheme = "http"
    if tls is not None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(tls[0]), str(tls[1]))
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    fake.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        fake.stop.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def self_signed_cert(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (and its key), as PEM files."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gate-test")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


def rsa_key_pair(directory: Path, bits: int = 2048) -> tuple[Path, Path]:
    """(private, public) RSA keys as PEM files."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    priv, pub = directory / "rsa.pem", directory / "rsa.pub.pem"
    priv.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return priv, pub


def ec_key_pair(directory: Path) -> tuple[Path, Path]:
    """(private, public) P-256 keys as PEM files."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    priv, pub = directory / "ec.pem", directory / "ec.pub.pem"
    priv.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return priv, pub
