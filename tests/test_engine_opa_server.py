"""The `opa-server` engine against a real OPA server on loopback (loaded with a bundle made by
`gate policy bundle`) and against small fake servers for what a real one will not do on demand:
down, slow, 5xx, malformed or undefined answers, a bundle swapped mid-run, a refused token, an
untrusted certificate. Every failure is an engine error, exit 4, never an empty set."""

from __future__ import annotations

import gzip
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, POLICIES, run_gate
from opa_support import TEST_POLICY, FakeOpa, RunningOpa, fake_opa, free_port, opa_binary, opa_server, rsa_key_pair, self_signed_cert

from gate.bundle import build_bundle, bundle_files, content_digest, load_bundle, read_bundle_files, tar_gz_bytes
from gate.engine.embedded import EmbeddedEngine
from gate.engine.opa_server import TOKEN_ENV, OpaServerEngine
from gate.engine.registry import get_engine
from gate.errors import ConfigError, EngineError, ExitCode, PolicyError
from gate.policy import PolicySet, load_policy

REPORT = DATA / "bandit" / "bandit-1.9.4-nosec-errors.json"
TIME = "2026-03-01T00:00:00Z"


def _finding(fid: str, severity: str, message: str, tool: str = "bandit") -> dict[str, Any]:
    return {
        "id": fid,
        "tool": tool,
        "tool_version": "1",
        "rule_id": "B1",
        "rule_name": "r",
        "kind": "sast",
        "severity": severity,
        "confidence": "high",
        "message": message,
        "location": {"path": "app.py", "start_line": 3, "end_line": 3},
        "cwe": ["CWE-78"],
        "cve": [],
        "aliases": [],
        "package": None,
        "suppressed": False,
        "duplicates": [],
        "test_code": False,
        "baseline": "unknown",
        "source": {"path": "r.json", "format": "bandit", "index": 0},
        "waiver": None,
        "vex": None,
        "help_uri": None,
    }


DOC = json.dumps(
    {
        "schema": "gate.input/v1",
        "context": {
            "stage": "default",
            "time": TIME,
            "repository": None,
            "ref": None,
            "commit": None,
            "pull_request": None,
            "gate_version": "t",
        },
        "findings": [_finding("a1", "high", "subprocess with shell=True"), _finding("b2", "medium", "weak hash")],
        "components": [],
        "scans": [],
        "waivers": [],
    }
)


def _canon(items: list[Any]) -> list[str]:
    return sorted(json.dumps(i, sort_keys=True) for i in items)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("opa-server")


@pytest.fixture(scope="module")
def test_policy() -> PolicySet:
    return load_policy(TEST_POLICY, include_tests=False)


@pytest.fixture(scope="module")
def pack_bundle(workdir: Path) -> Path:
    """The shipped pack, bundled by the command users run."""
    out = workdir / "pack.tar.gz"
    res = run_gate(["policy", "bundle", str(POLICIES), "-o", str(out), "--revision", "test-rev-1"])
    assert res.exit_code == 0, res.stdout + res.stderr
    return out


@pytest.fixture(scope="module")
def server(pack_bundle: Path, workdir: Path) -> Iterator[RunningOpa]:
    """One real OPA server for the module."""
    with opa_server(pack_bundle, workdir) as running:
        yield running


@pytest.fixture
def fake_server(test_policy: PolicySet) -> Iterator[FakeOpa]:
    keys = [f"{pkg}|{dec}" for pkg, dec in test_policy.queries()]
    with fake_opa(FakeOpa(content_digest=content_digest(test_policy), keys=keys)) as fake:
        yield fake


def _eval_error(engine: OpaServerEngine, policy: PolicySet, timeout: float = 5.0) -> EngineError | PolicyError:
    with pytest.raises(PolicyError) as err:
        engine.evaluate(policy, DOC, timeout=timeout)
    assert err.value.exit_code == ExitCode.POLICY
    return err.value


# --------------------------------------------------------------------------------------------
# A real server


def test_real_server_gives_the_embedded_answer_and_names_its_bundle(server: RunningOpa, pack_bundle: Path) -> None:
    policy = load_bundle(pack_bundle)
    engine = get_engine("opa-server", url=server.url)
    assert isinstance(engine, OpaServerEngine)
    assert engine.version() == f"OPA server at {server.url}"  # nothing is asked before evaluating
    raw = engine.evaluate(policy, DOC, timeout=10)
    emb = EmbeddedEngine().evaluate(policy, DOC, timeout=10)
    assert _canon(raw.deny) == _canon(emb.deny) and _canon(raw.warn) == _canon(emb.warn)
    assert raw.deny, "the shipped pack denies a high-severity finding"
    assert engine.bundle == {"name": str(pack_bundle), "revision": "test-rev-1", "content_digest": content_digest(policy)}
    assert engine.version() == f"OPA {_opa_version()} server at {server.url} (bundle {pack_bundle}, revision test-rev-1)"
    assert engine.describe()["server_version"] == _opa_version()


def _opa_version() -> str:
    from gate.engine.opa import opa_version

    return opa_version(opa_binary()).removeprefix("OPA ")


def test_folder_policy_matches_the_bundle_built_from_it(server: RunningOpa) -> None:
    # The gate may hold the folder while the server runs its bundle: same content, same answer.
    policy = load_policy(POLICIES, include_tests=False)
    raw = OpaServerEngine(url=server.url).evaluate(policy, DOC, timeout=10)
    assert _canon(raw.deny) == _canon(EmbeddedEngine().evaluate(policy, DOC, timeout=10).deny)


def test_server_running_other_policies_is_refused(server: RunningOpa, test_policy: PolicySet) -> None:
    err = _eval_error(OpaServerEngine(url=server.url), test_policy)
    assert "does not run the policies the gate was given" in err.message
    assert "revision test-rev-1" in err.message


def test_cli_records_the_server_and_revision_in_the_verdict(server: RunningOpa, pack_bundle: Path, tmp_path: Path) -> None:
    common = [str(REPORT), "--policy", str(pack_bundle), "--time", TIME]
    remote = run_gate(
        ["evaluate", *common, "--engine", "opa-server", "--opa-url", server.url, "--output", f"json={tmp_path / 'remote.json'}"]
    )
    local = run_gate(["evaluate", *common, "--output", f"json={tmp_path / 'local.json'}"])
    assert remote.exit_code == local.exit_code and remote.exit_code in (0, 10, 11), remote.stderr
    rv, lv = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("remote", "local"))
    assert rv["decision"] == lv["decision"] and rv["violations"] == lv["violations"] and rv["warnings"] == lv["warnings"]
    assert rv["engine"]["name"] == "opa-server"
    assert rv["engine"]["version"].startswith(f"OPA {_opa_version()} server at {server.url}")
    assert "revision test-rev-1" in rv["engine"]["version"], "the runner records engine.version() after evaluating"
    assert rv["policy"]["revision"] == "test-rev-1" and rv["policy"]["source"] == "bundle"


def test_undefined_decision_on_a_real_server(test_policy: PolicySet, workdir: Path) -> None:
    # A bundle whose manifest claims these policies but lacks the deciding package (hand-made:
    # `gate policy bundle` cannot produce it) leaves the decision undefined.
    files = bundle_files(test_policy, "forged")
    del files["opadiff.rego"]
    forged = workdir / "forged.tar.gz"
    forged.write_bytes(tar_gz_bytes(files))
    with opa_server(forged, workdir) as running:
        err = _eval_error(OpaServerEngine(url=running.url), test_policy)
    assert err.message.startswith("decision data.gate.opadiff.deny is undefined on the OPA server")


def test_bundle_lacking_the_package_is_refused_before_evaluation(workdir: Path, test_policy: PolicySet) -> None:
    other = workdir / "other"
    other.mkdir()
    (other / "o.rego").write_text('package gate.other\n\nimport rego.v1\n\ndeny contains {"rule": "O", "msg": "m"} if input.x\n')
    bundle = workdir / "other.tar.gz"
    build_bundle(load_policy(other), bundle, revision="other-1")
    with opa_server(bundle, workdir) as running:
        err = _eval_error(OpaServerEngine(url=running.url), test_policy)
    assert "does not run the policies" in err.message and "other-1" in err.message


# --------------------------------------------------------------------------------------------
# Failure modes (each exit 4)


def test_unreachable_server(test_policy: PolicySet) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    err = _eval_error(OpaServerEngine(url=url), test_policy)
    assert time.monotonic() - started < 5
    assert "unreachable" in err.message and url in err.message
    assert OpaServerEngine(url=url).version() == f"OPA server at {url}"  # makes no request


def test_slow_answer_is_late_not_empty(fake_server: FakeOpa, test_policy: PolicySet) -> None:
    fake_server.mode = "slow"
    started = time.monotonic()
    err = _eval_error(OpaServerEngine(url=fake_server.url), test_policy, timeout=0.5)
    assert time.monotonic() - started < 3
    assert "did not answer POST /v1/data/gate/_decision/decisions within 0.5 s" in err.message


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("status500", "answered POST /v1/data/gate/_decision/decisions with HTTP 500"),
        ("malformed", "with malformed JSON"),
        ("undefined", "decision data.gate.opadiff.deny is undefined"),
        ("notaset", "data.gate.opadiff.deny is int, not a set"),
        ("swap", "activated another bundle during the evaluation"),
    ],
)
def test_nonsense_answers(mode: str, expected: str, fake_server: FakeOpa, test_policy: PolicySet) -> None:
    fake_server.mode = mode
    err = _eval_error(OpaServerEngine(url=fake_server.url), test_policy)
    assert expected in err.message


def test_fake_server_in_ok_mode_gives_empty_sets(fake_server: FakeOpa, test_policy: PolicySet) -> None:
    # The control for the failure modes above: the same fake, answering sensibly, is accepted.
    raw = OpaServerEngine(url=fake_server.url).evaluate(test_policy, DOC, timeout=5)
    assert raw.deny == [] and raw.warn == []
    posts = [(p, h) for m, p, h in fake_server.requests if m == "POST"]
    assert [p for p, _ in posts] == ["/v1/data/gate/_decision/decisions?strict-builtin-errors=true"]  # the input, once
    assert posts[0][1]["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(fake_server.bodies[0])) == {"input": json.loads(DOC)}
    assert fake_server.requests[0][1] == "/health?bundles=true"


def test_bundle_without_the_generated_rule_is_asked_decision_by_decision(fake_server: FakeOpa, test_policy: PolicySet) -> None:
    # A bundle made before the generated rule existed: the rule is undefined, so each decision
    # is asked apart, with the same (compressed) body.
    fake_server.keys = None
    raw = OpaServerEngine(url=fake_server.url).evaluate(test_policy, DOC, timeout=5)
    assert raw.deny == [] and raw.warn == []
    paths = [p.split("?")[0] for m, p, _ in fake_server.requests if m == "POST"]
    assert paths == ["/v1/data/gate/_decision/decisions", "/v1/data/gate/opadiff/deny", "/v1/data/gate/opadiff/warn"]
    assert len(set(fake_server.bodies)) == 1


def test_an_answer_that_is_not_the_decisions_is_refused(fake_server: FakeOpa, test_policy: PolicySet) -> None:
    fake_server.keys = ["gate.opadiff|deny"]  # the warn set missing: not what the bundle decides
    err = _eval_error(OpaServerEngine(url=fake_server.url), test_policy)
    assert "with something other than the decisions of its bundle" in err.message


def test_unhealthy_server(fake_server: FakeOpa, test_policy: PolicySet) -> None:
    fake_server.health = 500
    err = _eval_error(OpaServerEngine(url=fake_server.url), test_policy)
    assert "is not healthy" in err.message
    assert not [r for r in fake_server.requests if r[0] == "POST"]


def test_token_from_the_environment(fake_server: FakeOpa, test_policy: PolicySet, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_server.token = "s3cret"  # noqa: S105 - a test token for a loopback fake
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    err = _eval_error(OpaServerEngine(url=fake_server.url), test_policy)
    assert "HTTP 401" in err.message and err.hint is not None and TOKEN_ENV in err.hint
    fake_server.requests.clear()
    monkeypatch.setenv(TOKEN_ENV, "s3cret")
    OpaServerEngine(url=fake_server.url).evaluate(test_policy, DOC, timeout=5)
    assert fake_server.requests and all(h.get("Authorization") == "Bearer s3cret" for _, _, h in fake_server.requests)


def test_tls_certificates_are_verified(test_policy: PolicySet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = self_signed_cert(tmp_path)
    with fake_opa(FakeOpa(content_digest=content_digest(test_policy)), tls=(cert, key)) as fake:
        assert fake.url.startswith("https://")
        err = _eval_error(OpaServerEngine(url=fake.url), test_policy)
        assert "TLS" in err.message and "certificate" in err.message.lower()
        assert not fake.requests  # nothing was sent over the untrusted connection
        # Trusting the server's CA (as an organisation would) makes the same server acceptable.
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
        assert OpaServerEngine(url=fake.url).evaluate(test_policy, DOC, timeout=5).deny == []


@pytest.mark.parametrize("url", ["ftp://127.0.0.1:8181", "http://127.0.0.1:8181/v1/data", "127.0.0.1:8181", "http://127.0.0.1:99999"])
def test_bad_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        OpaServerEngine(url=url)


# --------------------------------------------------------------------------------------------
# The same failure modes through the command line: exit 4 and an error verdict


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["down", "slow", "status500", "malformed", "undefined", "unhealthy"])
def test_cli_exit_4_for_each_failure_mode(mode: str, pack_bundle: Path, tmp_path: Path) -> None:
    policy = load_bundle(pack_bundle)
    fake = FakeOpa(content_digest=content_digest(policy), mode=mode, health=500 if mode == "unhealthy" else 200)
    with fake_opa(fake):
        url = f"http://127.0.0.1:{free_port()}" if mode == "down" else fake.url
        res = run_gate(
            [
                "evaluate",
                str(REPORT),
                "--policy",
                str(pack_bundle),
                "--engine",
                "opa-server",
                "--opa-url",
                url,
                "--eval-timeout",
                "1",
                "--time",
                TIME,
                "--output",
                f"json={tmp_path / 'v.json'}",
            ]
        )
    assert res.exit_code == ExitCode.POLICY, res.stdout + res.stderr
    verdict = json.loads((tmp_path / "v.json").read_text())
    assert verdict["decision"] == "error" and verdict["violations"] == [] and verdict["error"]["kind"] == "engine"


def test_signed_bundle_on_a_verifying_server(test_policy: PolicySet, workdir: Path) -> None:
    keys = workdir / "keys"
    keys.mkdir(exist_ok=True)
    priv, pub = rsa_key_pair(keys)
    signed = workdir / "signed.tar.gz"
    build_bundle(test_policy, signed, revision="signed-1", signing_key=priv)
    # `opa run --verification-key` activates the bundle the gate signed, and answers as the gate does.
    with opa_server(signed, workdir, "--verification-key", str(pub)) as running:
        engine = OpaServerEngine(url=running.url)
        raw = engine.evaluate(load_bundle(signed, verification_key=pub), DOC, timeout=10)
        assert engine.bundle is not None and engine.bundle["revision"] == "signed-1"
    assert _canon(raw.deny) == _canon(EmbeddedEngine().evaluate(test_policy, DOC, timeout=10).deny) and raw.deny
    # The same bundle with one module changed: OPA refuses to start with it, as the gate refuses to load it.
    files = read_bundle_files(signed)
    files["opadiff.rego"] += b"\n# changed after signing\n"
    tampered = workdir / "tampered.tar.gz"
    tampered.write_bytes(tar_gz_bytes(files))
    with pytest.raises(RuntimeError, match="digest mismatch"):
        with opa_server(tampered, workdir, "--verification-key", str(pub)):
            pass
    with pytest.raises(PolicyError, match="does not match its signed hash"):
        load_bundle(tampered, verification_key=pub)


# --------------------------------------------------------------------------------------------
# Plain http only on loopback (issue 14): refused before any connection, exit 2.


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5:8181",
        "http://127.0.0.1.nip.io:8181",  # a public name that resolves to loopback: still a name
        "http://localhost.evil.com:8181",
        "http://localhost.:8181",  # the final dot sends the name to DNS
        "http://[::ffff:10.0.0.1]:8181",
        "http://127.1:8181",  # inet_aton shorthand: not an address to the gate
        "http://2130706433:8181",
        "http://0.0.0.0:8181",
        "http://opa.internal:8181",
    ],
)
def test_plain_http_off_loopback_is_refused_before_connecting(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The attack: `--opa-url http://10.0.0.5:8181` sent the input document in clear and took the
    verdict from anyone on the path. Now refused with exit 2 before a socket is opened."""
    import socket

    def no_connection(*args: object, **kwargs: object) -> None:
        raise AssertionError("a connection was attempted")

    monkeypatch.setattr(socket, "create_connection", no_connection)
    with pytest.raises(ConfigError) as caught:
        OpaServerEngine(url=url)
    assert caught.value.exit_code == 2
    assert "plain http is accepted only on a loopback address" in caught.value.message


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8181", "http://127.9.9.9:8181", "http://[::1]:8181", "http://localhost:8181", "http://LOCALHOST:8181"]
)
def test_plain_http_on_loopback_is_accepted(url: str) -> None:
    assert OpaServerEngine(url=url).url.lower() == url.lower()


@pytest.mark.parametrize("url", ["https://10.0.0.5:8181", "https://opa.internal"])
def test_https_is_accepted_anywhere(url: str) -> None:
    assert OpaServerEngine(url=url).url == url


def test_the_command_line_refuses_plain_http_off_loopback_with_exit_2(tmp_path: Path) -> None:
    res = run_gate(
        ["evaluate", str(REPORT), "--policy", str(POLICIES), "--time", TIME]
        + ["--engine", "opa-server", "--opa-url", "http://10.0.0.5:8181"]
    )
    assert res.exit_code == 2, res.stderr
    assert "plain http is accepted only on a loopback address" in " ".join(res.stderr.split())


# --------------------------------------------------------------------------------------------
# The input once per evaluation (issue 20)


def _posts_to_data_api(url: str) -> dict[str, int]:
    """OPA's own Prometheus counters: POSTs to the data API, by HTTP status."""
    import urllib.request

    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as resp:  # noqa: S310 - loopback
        text = resp.read().decode()
    counts: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith("http_request_duration_seconds_count{") and 'handler="v1/data"' in line and 'method="post"' in line:
            code = line.split('code="', 1)[1].split('"', 1)[0]
            counts[code] = counts.get(code, 0) + int(float(line.rsplit(" ", 1)[1]))
    return counts


def test_a_real_server_is_asked_once_per_evaluation(server: RunningOpa, pack_bundle: Path) -> None:
    """The shipped pack has 19 decisions; before issue 20 each was a POST carrying the whole input
    (19 requests per evaluation, 12 s at 10^4 findings). The server's own request counter now
    moves by one per evaluation, and the answer is still the embedded engine's."""
    policy = load_bundle(pack_bundle)
    assert len(policy.queries()) > 1
    engine = OpaServerEngine(url=server.url)
    for runs in (1, 2):
        before = _posts_to_data_api(server.url)
        raw = engine.evaluate(policy, DOC, timeout=10)
        after = _posts_to_data_api(server.url)
        assert after.get("200", 0) - before.get("200", 0) == 1, (runs, before, after)
        assert sum(after.values()) - sum(before.values()) == 1
    emb = EmbeddedEngine().evaluate(policy, DOC, timeout=10)
    assert _canon(raw.deny) == _canon(emb.deny) and _canon(raw.warn) == _canon(emb.warn) and raw.deny


def test_a_builtin_error_on_a_real_server_is_an_error_not_a_lost_violation(workdir: Path) -> None:
    """The attack a single ad-hoc query (`POST /v1/query`) would open: that API ignores
    `strict-builtin-errors`, so a finding whose text makes a builtin fail (here `to_number` of a
    message that is not a number) drops the rule's answer, and the violation with it. The gate
    asks the bundle's generated rule through the data API with strict errors: exit 4."""
    folder = workdir / "strict"
    folder.mkdir()
    (folder / "strict.rego").write_text(
        "package gate.strict\n\nimport rego.v1\n\n"
        'deny contains {"rule": "S1", "msg": sprintf("%v", [n])} if {\n\tsome f in input.findings\n\tn := to_number(f.message)\n}\n'
    )
    policy = load_policy(folder, include_tests=False)
    bundle = workdir / "strict.tar.gz"
    build_bundle(policy, bundle, revision="strict-1")
    with opa_server(bundle, workdir) as running:
        err = _eval_error(OpaServerEngine(url=running.url), policy)
        assert "HTTP 500" in err.message and "to_number" in err.message
        numeric = DOC.replace("subprocess with shell=True", "7").replace("weak hash", "8")
        raw = OpaServerEngine(url=running.url).evaluate(policy, numeric, timeout=10)
        assert sorted(d["msg"] for d in raw.deny) == ["7", "8"]
        assert _posts_to_data_api(running.url) == {"200": 1, "500": 1}


def test_a_bundle_made_before_the_generated_rule_still_decides(test_policy: PolicySet, workdir: Path) -> None:
    from gate.bundle import DECISION_MODULE

    files = bundle_files(test_policy, "old")
    del files[DECISION_MODULE]
    old = workdir / "old.tar.gz"
    old.write_bytes(tar_gz_bytes(files))
    with opa_server(old, workdir) as running:
        raw = OpaServerEngine(url=running.url).evaluate(test_policy, DOC, timeout=10)
        assert _posts_to_data_api(running.url) == {"200": 1 + len(test_policy.queries())}
    emb = EmbeddedEngine().evaluate(test_policy, DOC, timeout=10)
    assert _canon(raw.deny) == _canon(emb.deny) and _canon(raw.warn) == _canon(emb.warn)
