"""A running OPA server, queried through `opa-python-client` (package `opa_client`).

The server must have the policies loaded from a bundle made by `gate policy bundle`; the gate
never uploads policy. Before evaluating, the engine checks the server's health (bundles
activated) and reads the manifests of its bundles (`GET /v1/data/system/bundles`): one of them
must carry the content digest of the policies the gate was given (`metadata.gate.content_digest`),
so the METADATA the verdict joins to is the METADATA of the rules that ran. After an evaluation,
`version()` names the server's version (`GET /v1/config`) and the bundle that decided with its
revision, for the verdict's `engine.version` (`describe()` has the same as data).

An evaluation sends the input document once: one `POST /v1/data/gate/_decision/decisions` (the
rule `gate policy bundle` generates, gathering every decision set; `gate.bundle.decision_module`)
with strict builtin errors, the body (`{"input": ...}`, spliced from the gate's JSON text, never
re-encoded) gzip-compressed (`Content-Encoding: gzip`, which OPA's data API accepts). OPA's
ad-hoc query API (`POST /v1/query`) would take the combined query without a generated rule, but
it ignores `strict-builtin-errors`: a builtin error there silently drops the rule's answers (a
violation lost), so the gate does not use it. Where that rule is undefined (a bundle made before
it existed, or one lacking a package), each decision is asked apart with the same body, as
before, which also names the undefined one. The bundle is read again afterwards, so a bundle
activated mid-run is an error rather than a mixed answer. TLS certificates are always verified (REQUESTS_CA_BUNDLE names
a private CA); a bearer token comes from GATE_OPA_TOKEN. Unreachable, unhealthy, slow (past the
evaluation limit, counted over the whole exchange), HTTP errors, malformed JSON, an undefined
decision or an answer that is not a set are all EngineErrors (exit 4), never an empty set.

Plain `http` is accepted only for a loopback address (127.0.0.0/8, ::1, or the name `localhost`
when every address it resolves to is a loopback one): anything on a network in between could
read the input document or forge the verdict. Any other host needs `https` (exit 2 otherwise),
and the refusal comes before any connection is made. `localhost.evil.com`, `127.0.0.1.nip.io`,
`127.1` and `[::ffff:10.0.0.1]` are not loopback addresses.

What the gate trusts the server for: to evaluate, on the input document the gate sends, exactly
the policies whose content digest the gate computed from the trusted policy source (a bundle of
another content is refused), and to report its bundle's name and revision, which the verdict
records. It does not trust the server for the METADATA, stages or exit code: the verdict joins
the answers to the METADATA the gate read itself.

Forbidden builtins (network, environment, clock, randomness: `gate.policy_safety`): the gate
cannot hand a server a capabilities file, but the bundle the server runs has the content digest
of the policies the gate loaded, and the loader refused any use of them there. A server operator
who wants the second wall too starts OPA on bundles built with `opa build --capabilities` from
the same file the `opa` engine uses (`gate.engine.opa.capabilities_json`).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import time
import zlib
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from gate.engine.embedded import split_decisions
from gate.engine.interface import Engine, RawDecision
from gate.errors import ConfigError, EngineError
from gate.policy import PolicySet

TOKEN_ENV = "GATE_OPA_TOKEN"  # noqa: S105 - the name of a variable, not a secret
DEFAULT_PORTS = {"http": 80, "https": 443}
GZIP_LEVEL = 1
"""Fast compression: JSON shrinks about sevenfold at level 1, and a higher level costs more
client time than it saves on the wire."""


def _client_errors() -> tuple[type[BaseException], ...]:
    import requests
    from opa_client.errors import ConnectionsError, PolicyNotFoundError

    return (requests.exceptions.RequestException, ConnectionsError, PolicyNotFoundError)


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def is_loopback(host: str) -> bool:
    """True for a loopback IP address, or the name `localhost` (any case; not `localhost.`, which a
    resolver may send to DNS) when every address it resolves to is a loopback one; False for every
    other name, so no lookup decides what a name like `127.0.0.1.nip.io` means."""
    if host.lower() != "localhost":
        return _is_loopback_ip(host)
    try:
        infos = socket.getaddrinfo("localhost", None, proto=socket.IPPROTO_TCP)
    except OSError:
        return False
    return bool(infos) and all(_is_loopback_ip(str(info[4][0])) for info in infos)


def _is_loopback_ip(text: str) -> bool:
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def _gzip_body(input_json: str, chunk: int = 1 << 20) -> bytes:
    """`{"input": <input_json>}`, gzip-compressed, encoded a megabyte at a time (at 10^5 findings
    the document is 100 MB: no second copy of it is made)."""
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: the gzip container
    parts = [compressor.compress(b'{"input":')]
    for start in range(0, len(input_json), chunk):
        parts.append(compressor.compress(input_json[start : start + chunk].encode("utf-8", "surrogatepass")))
    parts.append(compressor.compress(b"}"))
    parts.append(compressor.flush())
    return b"".join(parts)


class OpaServerEngine(Engine):
    """Evaluates through the data API of a remote OPA server."""

    name = "opa-server"

    def __init__(self, url: str = "http://127.0.0.1:8181", token: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ConfigError(f"--opa-url {url!r} is not an http:// or https:// URL with a host")
        if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
            raise ConfigError(f"--opa-url {url!r} must name only scheme, host and port (the data API lives at /v1)")
        try:
            port = parts.port or DEFAULT_PORTS[parts.scheme]
        except ValueError:
            raise ConfigError(f"--opa-url {url!r} has an invalid port") from None
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise ConfigError(
                f"--opa-url {url!r}: plain http is accepted only on a loopback address (127.0.0.0/8, ::1, localhost)",
                hint="use https:// for a server on another host (its certificate is verified; REQUESTS_CA_BUNDLE names a private CA)",
            )
        self.url = f"{parts.scheme}://{parts.netloc}"
        self._host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        self._port = port
        self._https = parts.scheme == "https"
        self._token = token if token is not None else (os.environ.get(TOKEN_ENV) or None)
        self._server_version: str | None = None
        self.bundle: dict[str, Any] | None = None
        """The bundle that decided the last evaluation: name, revision, content digest."""

    # ----------------------------------------------------------------------------------------

    def _client(self, timeout: float) -> Any:
        from opa_client import OpaClient

        # ssl=True makes the client use https and leave certificate verification on
        # (requests' default); retries=0 so the time limit bounds the whole exchange.
        return OpaClient(host=self._host, port=self._port, ssl=self._https, token=self._token, retries=0, timeout=timeout)

    def _fail(self, exc: BaseException, what: str, timeout: float) -> EngineError:
        import requests
        from opa_client.errors import ConnectionsError

        if isinstance(exc, ConnectionsError) and exc.__cause__ is not None:
            exc = exc.__cause__  # the client wraps the requests error that says what happened

        if isinstance(exc, requests.exceptions.Timeout):
            return EngineError(
                f"the OPA server at {self.url} did not answer {what} within {timeout:g} s", hint="raise --eval-timeout or check the server"
            )
        if isinstance(exc, requests.exceptions.SSLError):
            return EngineError(
                f"TLS to the OPA server at {self.url} failed ({what}): {_one_line(str(exc))}",
                hint="set REQUESTS_CA_BUNDLE to the CA that signed the server's certificate",
            )
        if isinstance(exc, requests.exceptions.ConnectionError):
            return EngineError(f"the OPA server at {self.url} is unreachable ({what}): {_one_line(str(exc))}")
        if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
            status = exc.response.status_code
            hint = f"set {TOKEN_ENV} to a token the server accepts" if status in (401, 403) else None
            return EngineError(
                f"the OPA server at {self.url} answered {what} with HTTP {status}: {_one_line(exc.response.text)}", hint=hint
            )
        if isinstance(exc, ValueError):  # requests' JSONDecodeError is one
            return EngineError(f"the OPA server at {self.url} answered {what} with malformed JSON: {_one_line(str(exc))}")
        message = getattr(exc, "message", None) or str(exc)
        return EngineError(f"the OPA server at {self.url} failed {what}: {_one_line(str(message))}")

    def _call(self, client: Any, deadline: float, timeout: float, what: str, fn: Any, *args: Any, **kw: Any) -> Any:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise EngineError(
                f"the OPA server at {self.url} did not answer within {timeout:g} s (before {what})",
                hint="raise --eval-timeout or check the server",
            )
        client.timeout = remaining
        failure: EngineError | None = None
        try:
            answer = fn(*args, **kw)
        except _client_errors() as exc:
            failure = self._fail(exc, what, timeout)
        if failure is not None:
            # Raised outside the handler so it does not carry the client's exception (and,
            # through its traceback, the response and its open connection) as its context.
            raise failure
        if time.monotonic() > deadline:
            raise EngineError(
                f"the OPA server at {self.url} answered {what} after the time limit of {timeout:g} s",
                hint="raise --eval-timeout or check the server",
            )
        return answer

    def _connect(self, client: Any, deadline: float, timeout: float) -> None:
        """Health (bundles activated), server version, and the bundles it has loaded."""
        healthy = self._call(client, deadline, timeout, "the health check", client.check_health, query={"bundles": "true"})
        if not healthy:
            # check_health hides why; ask once more to say it (unreachable, TLS, HTTP status).
            self._call(client, deadline, timeout, "the health check", client.check_connection)
            raise EngineError(
                f"the OPA server at {self.url} is not healthy (GET /health?bundles=true did not answer 200): its bundles are not activated"
            )
        if self._server_version is None:
            config = self._call(client, deadline, timeout, "GET /v1/config", client.get_config)
            labels = config.get("result", {}).get("labels", {}) if isinstance(config, dict) else {}
            self._server_version = str(labels.get("version") or "unknown version") if isinstance(labels, dict) else "unknown version"

    def _bundles(self, client: Any, deadline: float, timeout: float) -> dict[str, Any]:
        answer = self._call(client, deadline, timeout, "GET /v1/data/system/bundles", client.get_data, "system/bundles")
        bundles = answer.get("result") if isinstance(answer, dict) else None
        if not isinstance(bundles, dict):
            raise EngineError(f"the OPA server at {self.url} answered GET /v1/data/system/bundles with no bundle list")
        return bundles

    @staticmethod
    def _summaries(bundles: dict[str, Any]) -> list[dict[str, Any]]:
        """Name, revision and gate content digest (None for a bundle not made by the gate) of each bundle."""
        out = []
        for name, info in sorted(bundles.items()):
            manifest = info.get("manifest") if isinstance(info, dict) else None
            manifest = manifest if isinstance(manifest, dict) else {}
            meta = manifest.get("metadata")
            gate_meta = meta.get("gate") if isinstance(meta, dict) else None
            found = gate_meta.get("content_digest") if isinstance(gate_meta, dict) else None
            out.append({"name": name, "revision": manifest.get("revision"), "content_digest": found})
        return out

    def _matching_bundle(self, bundles: dict[str, Any], digest: str) -> dict[str, Any]:
        summaries = self._summaries(bundles)
        for summary in summaries:
            if summary["content_digest"] == digest:
                return summary
        seen = [f"{b['name']} (revision {b['revision'] or '-'}, content {b['content_digest'] or 'not a gate bundle'})" for b in summaries]
        listing = "; ".join(seen) if seen else "no bundle at all"
        raise EngineError(
            f"the OPA server at {self.url} does not run the policies the gate was given (content {digest}); it has: {listing}",
            hint="deploy the bundle made by `gate policy bundle` from these policies, or point --policy at the deployed bundle",
        )

    # ----------------------------------------------------------------------------------------

    def version(self) -> str:
        """`OPA server at <url>`; after an evaluation, also the server's version and the name and
        revision of the bundle that decided (no request is made here: every exchange with the
        server happens in `evaluate`, within its time limit)."""
        if self.bundle is None or self._server_version is None:
            return f"OPA server at {self.url}"
        return f"OPA {self._server_version} server at {self.url} (bundle {self.bundle['name']}, revision {self.bundle['revision'] or '-'})"

    def describe(self) -> dict[str, Any]:
        """What the verdict should record about the server: URL, version, the bundle that decided."""
        return {"url": self.url, "server_version": self._server_version, "bundle": self.bundle}

    def _post(self, client: Any, path: str, body: bytes) -> Any:
        """`POST /v1/data/<path>?strict-builtin-errors=true` with the gzip-compressed body; the JSON answer."""
        response = client._session.post(
            f"{client.root_url}/data/{path}?strict-builtin-errors=true",
            data=body,
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
            timeout=client.timeout,
        )
        response.raise_for_status()
        return response.json()

    def _decision(self, client: Any, deadline: float, timeout: float, path: str, body: bytes) -> tuple[str, Any]:
        what = f"POST /v1/data/{path}"
        answer = self._call(client, deadline, timeout, what, self._post, client, path, body)
        if not isinstance(answer, dict):
            raise EngineError(f"the OPA server at {self.url} answered {what} with {type(answer).__name__}, not an object")
        return what, answer

    def evaluate(
        self,
        policy: PolicySet,
        input_json: str,
        *,
        timeout: float,
        meanwhile: Callable[[], object] | None = None,
        sample: str | None = None,  # noqa: ARG002 - OPA plans nothing from it
    ) -> RawDecision:
        """One request for every decision (the bundle's generated rule); `meanwhile` is not
        overlapped with it (the caller does that work afterwards)."""
        from gate.bundle import DECISION_PACKAGE, DECISION_RULE, content_digest

        digest = content_digest(policy)
        body = _gzip_body(input_json)
        deadline = time.monotonic() + timeout
        started = time.perf_counter()
        with self._client(timeout) as client:
            self._connect(client, deadline, timeout)
            self.bundle = self._matching_bundle(self._bundles(client, deadline, timeout), digest)
            expected = {f"{pkg}|{dec}" for pkg, dec in policy.queries()}
            what, answer = self._decision(client, deadline, timeout, f"{DECISION_PACKAGE.replace('.', '/')}/{DECISION_RULE}", body)
            value = answer.get("result")
            if "result" in answer and not (isinstance(value, dict) and set(value) == expected):
                raise EngineError(
                    f"the OPA server at {self.url} answered {what} with something other than the decisions of its bundle"
                    f" (an object keyed {', '.join(sorted(expected))})"
                )
            if "result" not in answer:  # a bundle without the generated rule: one request per decision
                value = {}
                for pkg, dec in policy.queries():
                    what, answer = self._decision(client, deadline, timeout, f"{pkg.replace('.', '/')}/{dec}", body)
                    if "result" not in answer:
                        raise EngineError(
                            f"decision data.{pkg}.{dec} is undefined on the OPA server at {self.url}"
                            " (its bundle lacks the package, or the rule is not a set)"
                        )
                    value[f"{pkg}|{dec}"] = answer["result"]
            after = self._matching_bundle(self._bundles(client, deadline, timeout), digest)
            if after != self.bundle:
                raise EngineError(
                    f"the OPA server at {self.url} activated another bundle during the evaluation"
                    f" ({after['name']} revision {after['revision']}): run again"
                )
        return split_decisions(value, time.perf_counter() - started)
