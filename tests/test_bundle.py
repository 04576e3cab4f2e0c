"""`gate policy bundle` and `--policy BUNDLE`: OPA bundles with a manifest, a revision and a
digest; OPA's bundle signing, faithful enough that OPA verifies what the gate signs and the gate
verifies what OPA signs; tampered or unsafe bundles refused with exit 4."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest
from conftest import POLICIES, run_gate
from opa_support import TEST_POLICY, ec_key_pair, opa_binary, opa_runs_bundle, rsa_key_pair

from gate.bundle import (
    MANIFEST,
    SIGNATURES,
    VERIFICATION_KEY_ENV,
    build_bundle,
    content_digest,
    git_revision,
    load_bundle,
    opa_file_hash,
    read_bundle_files,
)
from gate.errors import ConfigError, ExitCode, OutputError, PolicyError
from gate.policy import load_policy
from gate.runner import Config, resolve_policy

MINIMAL_REGO = """package gate.p

import rego.v1

# METADATA
# title: T
# custom:
#   id: P-1
deny contains {"rule": "P-1", "msg": "m"} if input.x
"""


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


def _write_tar(path: Path, members: dict[str, bytes], extra: list[tarfile.TarInfo] | None = None) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
        for info in extra or []:
            tar.addfile(info)
    path.write_bytes(gzip.compress(raw.getvalue()))


@pytest.fixture(scope="module")
def policy() -> object:
    return load_policy(TEST_POLICY, include_tests=False)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("keys")
    rsa_priv, rsa_pub = rsa_key_pair(d)
    ec_priv, ec_pub = ec_key_pair(d)
    secret = d / "hmac.secret"
    secret.write_bytes(b"a shared secret of reasonable length\n")
    return {"rsa": rsa_priv, "rsa_pub": rsa_pub, "ec": ec_priv, "ec_pub": ec_pub, "hmac": secret}


# --------------------------------------------------------------------------------------------
# Layout, determinism, digest


def test_bundle_layout_manifest_and_data(policy: object, tmp_path: Path) -> None:
    out = tmp_path / "b.tar.gz"
    digest = build_bundle(policy, out, revision="rev-1")  # type: ignore[arg-type]
    assert digest == "sha256:" + hashlib.sha256(out.read_bytes()).hexdigest()
    members = _members(out)
    assert sorted(members) == [".manifest", "_gate_decision.rego", "data.json", "lib/opadiff_lib.rego", "opadiff.rego"]
    manifest = json.loads(members[".manifest"])
    assert manifest["revision"] == "rev-1"
    assert manifest["roots"] == ["gate", "config"]
    assert manifest["metadata"]["gate"]["content_digest"] == content_digest(policy)  # type: ignore[arg-type]
    assert manifest["metadata"]["gate"]["content_digest"] == policy.digest  # type: ignore[attr-defined]  # one policy set, one digest
    assert json.loads(members["data.json"]) == {"config": policy.data}  # type: ignore[attr-defined]
    assert members["opadiff.rego"] == (TEST_POLICY / "opadiff.rego").read_bytes()


def test_same_policy_and_revision_give_the_same_bytes(policy: object, tmp_path: Path) -> None:
    a = build_bundle(policy, tmp_path / "a.tar.gz", revision="r")  # type: ignore[arg-type]
    b = build_bundle(policy, tmp_path / "b.tar.gz", revision="r")  # type: ignore[arg-type]
    assert a == b
    assert (tmp_path / "a.tar.gz").read_bytes() == (tmp_path / "b.tar.gz").read_bytes()
    c = build_bundle(policy, tmp_path / "c.tar.gz", revision="other")  # type: ignore[arg-type]
    assert c != a


def test_unit_tests_are_left_out_of_the_bundle(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    (pack / "config").mkdir(parents=True)
    (pack / "p.rego").write_text(MINIMAL_REGO)
    (pack / "p_test.rego").write_text("package gate.p_test\n\nimport rego.v1\n\ntest_x if true\n")
    built = load_policy(pack, include_tests=True)
    build_bundle(built, tmp_path / "b.tar.gz", revision="r")
    assert sorted(_members(tmp_path / "b.tar.gz")) == [".manifest", "_gate_decision.rego", "data.json", "p.rego"]


def test_a_package_outside_the_roots_is_refused(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "p.rego").write_text('package gate.p\n\nimport rego.v1\n\ndeny contains {"rule": "P-1", "msg": "m"} if input.x\n')
    (pack / "helpers.rego").write_text("package helpers\n\nimport rego.v1\n\nx := 1\n")
    with pytest.raises(PolicyError) as err:
        build_bundle(load_policy(pack), tmp_path / "b.tar.gz", revision="r")
    assert "outside the bundle root" in err.value.message and err.value.file == f"{pack}/helpers.rego"
    assert err.value.exit_code == ExitCode.POLICY


def _git(cwd: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    import os

    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, env={**os.environ, **env})
    return done.stdout.strip()


def test_revision_is_the_policy_digest_and_git_is_recorded_beside_it(tmp_path: Path) -> None:
    """One policy set, one digest: the manifest's revision is the content digest (the folder's
    policy digest), whether or not the folder is in git; the git revision (with `-dirty`) is kept
    in metadata.gate.git_revision. (Before, the revision was the git commit, a third identity.)"""
    repo = tmp_path / "repo"
    pack = repo / "policies"
    import shutil

    shutil.copytree(TEST_POLICY, pack)
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "policies")
    head = _git(repo, "rev-parse", "HEAD")
    assert git_revision(pack) == head
    folder = load_policy(pack, include_tests=False)
    digest = build_bundle(folder, tmp_path / "b.tar.gz")
    manifest = json.loads(_members(tmp_path / "b.tar.gz")[".manifest"])
    assert manifest["revision"] == folder.digest == manifest["metadata"]["gate"]["content_digest"]
    assert manifest["metadata"]["gate"]["git_revision"] == head
    assert digest.startswith("sha256:")
    (pack / "opadiff.rego").write_text((pack / "opadiff.rego").read_text() + "\n# edited\n")
    assert git_revision(pack) == head + "-dirty"
    # Outside git: the same revision (the content did not change), no git_revision.
    plain = tmp_path / "plain"
    shutil.copytree(TEST_POLICY, plain)
    assert git_revision(plain) is None
    build_bundle(load_policy(plain, include_tests=False), tmp_path / "c.tar.gz")
    outside = json.loads(_members(tmp_path / "c.tar.gz")[".manifest"])
    assert outside["revision"] == content_digest(load_policy(plain, include_tests=False)) == folder.digest
    assert "git_revision" not in outside["metadata"]["gate"]


def test_cli_prints_the_policy_digest(tmp_path: Path) -> None:
    """stdout is the policy digest (what --policy-digest pins, the folder's too); the file's own
    sha256 is on stderr, for artifact stores."""
    out = tmp_path / "pack.tar.gz"
    res = run_gate(["policy", "bundle", str(POLICIES), "-o", str(out), "--revision", "v-test"])
    assert res.exit_code == 0, res.stdout + res.stderr
    assert res.stdout.strip() == load_policy(POLICIES, include_tests=False).digest
    assert "file sha256:" + hashlib.sha256(out.read_bytes()).hexdigest() in res.stderr
    assert "revision v-test" in res.stderr and "unsigned" in res.stderr
    assert json.loads(_members(out)[".manifest"])["revision"] == "v-test"


# --------------------------------------------------------------------------------------------
# Loading a bundle as the policy


def test_bundle_loads_as_the_same_policy(policy: object, tmp_path: Path) -> None:
    out = tmp_path / "b.tar.gz"
    build_bundle(policy, out, revision="rev-7")  # type: ignore[arg-type]
    loaded = load_bundle(out)
    digest = policy.digest  # type: ignore[attr-defined]
    assert loaded.source == "bundle" and loaded.revision == "rev-7" and loaded.digest == digest
    assert content_digest(loaded) == content_digest(policy)  # type: ignore[arg-type]
    assert loaded.data == policy.data  # type: ignore[attr-defined]
    assert loaded.decision_packages == policy.decision_packages  # type: ignore[attr-defined]
    assert sorted(loaded.rules) == sorted(policy.rules)  # type: ignore[attr-defined]
    assert loaded.to_dict() == {"path": str(out), "source": "bundle", "digest": digest, "revision": "rev-7"}


def test_policy_option_takes_a_bundle_and_its_digest_pins_it(policy: object, tmp_path: Path) -> None:
    out = tmp_path / "b.tar.gz"
    build_bundle(policy, out, revision="r")  # type: ignore[arg-type]
    digest = policy.digest  # type: ignore[attr-defined]
    assert resolve_policy(Config(policy=str(out), policy_digest=digest)).digest == digest
    with pytest.raises(PolicyError) as err:
        resolve_policy(Config(policy=str(out), policy_digest="sha256:" + "0" * 64))
    assert "differs from the pinned" in err.value.message


def test_extra_data_is_merged_over_the_bundle_data_and_changes_the_digest(policy: object, tmp_path: Path) -> None:
    out = tmp_path / "b.tar.gz"
    build_bundle(policy, out, revision="r")  # type: ignore[arg-type]
    digest = policy.digest  # type: ignore[attr-defined]
    extra = tmp_path / "extra.yaml"
    extra.write_text("opadiff:\n  deny_at: critical\n")
    loaded = load_bundle(out, extra_data=[str(extra)])
    assert loaded.data["opadiff"]["deny_at"] == "critical"
    assert loaded.data["opadiff"]["warn_at"] == "medium"
    assert loaded.digest != digest and loaded.digest.startswith("sha256:")


def test_data_with_awkward_strings_survives_the_round_trip(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    (pack / "config").mkdir(parents=True)
    (pack / "p.rego").write_text('package gate.p\n\nimport rego.v1\n\ndeny contains {"rule": "P-1", "msg": data.config.s} if input.x\n')
    doc = {"s": "emoji 😀, line\u2028sep, nbsp\u00a0, ctrl \u0001, <html>&", "n": [1.5, 10, 0.1]}
    (pack / "config" / "d.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    built = load_policy(pack)
    build_bundle(built, tmp_path / "b.tar.gz", revision="r")
    loaded = load_bundle(tmp_path / "b.tar.gz")
    assert loaded.data == built.data == doc
    assert content_digest(loaded) == content_digest(built)
    # Written with ASCII escapes, the data file's emoji comes back from the YAML reader as two
    # lone surrogates; the bundle and the content digest still treat it as the one character.
    (pack / "config" / "d.json").write_text(json.dumps(doc), encoding="utf-8")
    built = load_policy(pack)
    build_bundle(built, tmp_path / "c.tar.gz", revision="r")
    loaded = load_bundle(tmp_path / "c.tar.gz")
    assert loaded.data["s"] == doc["s"]
    assert content_digest(loaded) == content_digest(built)


# --------------------------------------------------------------------------------------------
# Signing: OPA accepts what the gate signs


@pytest.mark.slow
@pytest.mark.parametrize(("alg", "key", "pub"), [("RS256", "rsa", "rsa_pub"), ("ES256", "ec", "ec_pub"), ("PS384", "rsa", "rsa_pub")])
def test_opa_verifies_a_bundle_the_gate_signed(alg: str, key: str, pub: str, policy: object, keys: dict[str, Path], tmp_path: Path) -> None:
    opa_binary()
    out = tmp_path / "signed.tar.gz"
    build_bundle(policy, out, revision="r", signing_key=keys[key], signing_alg=alg)  # type: ignore[arg-type]
    members = _members(out)
    assert SIGNATURES in members
    token = json.loads(members[SIGNATURES])["signatures"][0]
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == alg and header["kid"] == "default"
    ok, log = opa_runs_bundle(out, tmp_path, "--verification-key", str(keys[pub]), "--signing-alg", alg)
    assert ok, log
    # And the gate verifies its own signature.
    assert load_bundle(out, verification_key=keys[pub]).revision == "r"


def test_opa_verifies_an_hmac_signed_bundle(policy: object, keys: dict[str, Path], tmp_path: Path) -> None:
    opa_binary()
    out = tmp_path / "hs.tar.gz"
    build_bundle(policy, out, revision="r", signing_key=keys["hmac"], signing_alg="HS256")  # type: ignore[arg-type]
    ok, log = opa_runs_bundle(out, tmp_path, "--verification-key", str(keys["hmac"]), "--signing-alg", "HS256")
    assert ok, log
    assert load_bundle(out, verification_key=keys["hmac"]).source == "bundle"


def test_opa_refuses_a_bundle_the_gate_signed_when_tampered(policy: object, keys: dict[str, Path], tmp_path: Path) -> None:
    opa_binary()
    out = tmp_path / "signed.tar.gz"
    build_bundle(policy, out, revision="r", signing_key=keys["rsa"])  # type: ignore[arg-type]
    members = _members(out)
    members["opadiff.rego"] = members["opadiff.rego"].replace(b"lib.at_least(f.severity, lib.cfg.deny_at)", b"false")
    tampered = tmp_path / "tampered.tar.gz"
    _write_tar(tampered, members)
    ok, log = opa_runs_bundle(tampered, tmp_path, "--verification-key", str(keys["rsa_pub"]))
    assert not ok and "digest mismatch" in log
    with pytest.raises(PolicyError) as err:
        load_bundle(tampered, verification_key=keys["rsa_pub"])
    assert "opadiff.rego does not match its signed hash" in err.value.message and err.value.exit_code == ExitCode.POLICY


# --------------------------------------------------------------------------------------------
# Signing: the gate verifies what OPA signs (OPA's hashing of structured files, reproduced)


def test_gate_verifies_a_bundle_opa_signed_with_awkward_data(keys: dict[str, Path], tmp_path: Path) -> None:
    opa = opa_binary()
    src = tmp_path / "src"
    (src / "gate").mkdir(parents=True)
    (src / "gate" / "p.rego").write_text(MINIMAL_REGO)
    # Numbers as written (1.50, 1e3, a big integer), HTML characters, U+2028, control characters,
    # astral characters, unsorted keys, odd spacing: OPA hashes the parsed value, keys sorted.
    (src / "data.json").write_text(
        '{"config": {"z": [1.50, 1e3, 12345678901234567890, -0.0],  "s": "a<b>&c \u2028 \\u0001 \u007f \\b \\f é 😀 \\"q\\" \\\\",'
        ' "a": {"é": true, "e": null}}}'
    )
    (src / ".manifest").write_text(json.dumps({"revision": "opa-signed\u2028<x>", "roots": ["gate", "config"], "metadata": {"n": 2.0}}))
    out = tmp_path / "opa-signed.tar.gz"
    subprocess.run(
        [opa, "build", "--bundle", str(src), "--signing-key", str(keys["rsa"]), "-o", str(out)], check=True, capture_output=True, timeout=60
    )
    loaded = load_bundle(out, verification_key=keys["rsa_pub"])
    assert loaded.revision == "opa-signed\u2028<x>"
    assert loaded.data["s"].startswith("a<b>&c")
    # Each file hash the gate computes is the one OPA signed.
    files = read_bundle_files(out)
    token = json.loads(files.pop(SIGNATURES))["signatures"][0]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert {f["name"]: f["hash"] for f in claims["files"]} == {name: opa_file_hash(name, content) for name, content in files.items()}


def test_gate_refuses_an_opa_signed_bundle_with_an_extra_file(keys: dict[str, Path], tmp_path: Path) -> None:
    opa = opa_binary()
    src = tmp_path / "src"
    src.mkdir()
    (src / "p.rego").write_text('package gate.p\n\nimport rego.v1\n\ndeny contains {"rule": "P-1", "msg": "m"} if input.x\n')
    out = tmp_path / "opa-signed.tar.gz"
    subprocess.run(
        [opa, "build", "--bundle", str(src), "--signing-key", str(keys["rsa"]), "-o", str(out)], check=True, capture_output=True, timeout=60
    )
    members = _members(out)
    members["/zz.rego"] = b'package gate.zz\n\nimport rego.v1\n\ndeny contains {"rule": "ZZ", "msg": "planted"} if true\n'
    planted = tmp_path / "planted.tar.gz"
    _write_tar(planted, members)
    with pytest.raises(PolicyError) as err:
        load_bundle(planted, verification_key=keys["rsa_pub"])
    assert "zz.rego is not covered by the signature" in err.value.message


# --------------------------------------------------------------------------------------------
# Refusals (exit 4)


def test_signed_bundle_needs_a_key_and_a_key_needs_a_signature(
    policy: object, keys: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(VERIFICATION_KEY_ENV, raising=False)
    signed, plain = tmp_path / "s.tar.gz", tmp_path / "p.tar.gz"
    build_bundle(policy, signed, revision="r", signing_key=keys["rsa"])  # type: ignore[arg-type]
    build_bundle(policy, plain, revision="r")  # type: ignore[arg-type]
    with pytest.raises(PolicyError, match="signed but no verification key"):
        load_bundle(signed)
    with pytest.raises(PolicyError, match="not signed: refused"):
        load_bundle(plain, verification_key=keys["rsa_pub"])
    # The key may come from the environment, as the CLI's --policy path does.
    monkeypatch.setenv(VERIFICATION_KEY_ENV, str(keys["rsa_pub"]))
    assert load_bundle(signed).revision == "r"


def test_wrong_key_and_removed_file_are_refused(policy: object, keys: dict[str, Path], tmp_path: Path) -> None:
    signed = tmp_path / "s.tar.gz"
    build_bundle(policy, signed, revision="r", signing_key=keys["rsa"])  # type: ignore[arg-type]
    with pytest.raises(PolicyError, match="does not verify with the given key"):
        load_bundle(signed, verification_key=keys["ec_pub"])
    (tmp_path / "other").mkdir()
    _, other_pub = rsa_key_pair(tmp_path / "other")
    with pytest.raises(PolicyError, match="does not verify with the given key"):
        load_bundle(signed, verification_key=other_pub)
    members = _members(signed)
    del members["lib/opadiff_lib.rego"]
    removed = tmp_path / "removed.tar.gz"
    _write_tar(removed, members)
    with pytest.raises(PolicyError, match="lists files that are missing: lib/opadiff_lib.rego"):
        load_bundle(removed, verification_key=keys["rsa_pub"])
    # A data change is tampering too (data decides as much as code).
    members = _members(signed)
    members["data.json"] = members["data.json"].replace(b'"high"', b'"critical"')
    changed = tmp_path / "changed.tar.gz"
    _write_tar(changed, members)
    with pytest.raises(PolicyError, match="data.json does not match its signed hash"):
        load_bundle(changed, verification_key=keys["rsa_pub"])


def test_tampered_bundle_exits_4_through_the_cli(policy: object, keys: dict[str, Path], tmp_path: Path) -> None:
    signed = tmp_path / "s.tar.gz"
    build_bundle(policy, signed, revision="r", signing_key=keys["rsa"])  # type: ignore[arg-type]
    members = _members(signed)
    members["opadiff.rego"] += b"\n# planted\n"
    tampered = tmp_path / "t.tar.gz"
    _write_tar(tampered, members)
    res = run_gate(["policy", "test", str(tampered)], env={VERIFICATION_KEY_ENV: str(keys["rsa_pub"])})
    assert res.exit_code == ExitCode.POLICY, res.stdout + res.stderr
    assert "does not match its signed hash" in res.stderr


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("symlink", "not a regular file"),
        ("dotdot", "not a clean relative path"),
        ("duplicate", "holds p.rego twice"),
        ("notgzip", "not a readable bundle"),
        ("truncated", "not a readable bundle"),
        ("yamldata", "not supported by the gate"),
        ("otherdata", 'must be {"config"'),
    ],
)
def test_unsafe_or_foreign_bundles_are_refused(case: str, expected: str, tmp_path: Path) -> None:
    rego = b'package gate.p\n\nimport rego.v1\n\ndeny contains {"rule": "P-1", "msg": "m"} if input.x\n'
    path = tmp_path / "b.tar.gz"
    if case == "symlink":
        link = tarfile.TarInfo("evil.rego")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        _write_tar(path, {"p.rego": rego}, [link])
    elif case == "dotdot":
        _write_tar(path, {"../p.rego": rego})
    elif case == "duplicate":
        _write_tar(path, {"p.rego": rego, "./p.rego": rego})
    elif case == "notgzip":
        path.write_bytes(b"just text")
    elif case == "truncated":
        _write_tar(path, {"p.rego": rego})
        path.write_bytes(path.read_bytes()[:40])
    elif case == "yamldata":
        _write_tar(path, {"p.rego": rego, "gate/data.yaml": b"a: 1\n"})
    elif case == "otherdata":
        _write_tar(path, {"p.rego": rego, "data.json": b'{"config": {}, "secrets": {}}'})
    with pytest.raises(PolicyError) as err:
        load_bundle(path)
    assert expected in err.value.message
    assert err.value.exit_code == ExitCode.POLICY


def test_manifest_is_hashed_over_its_parsed_form() -> None:
    a = opa_file_hash(MANIFEST, b'{"roots": ["gate"], "revision": "x"}')
    b = opa_file_hash(MANIFEST, b'{\n  "revision": "x",\n  "roots": [ "gate" ]\n}\n')
    assert a == b == hashlib.sha256(b'{"revision":"x","roots":["gate"]}').hexdigest()
    # Rego is hashed as bytes: a changed space is a changed file.
    assert opa_file_hash("p.rego", b"x := 1") != opa_file_hash("p.rego", b"x :=  1")


def test_unwritable_output_and_unreadable_key(policy: object, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputError) as err:
        build_bundle(policy, blocker / "b.tar.gz", revision="r")  # type: ignore[arg-type]
    assert err.value.exit_code == ExitCode.OUTPUT and err.value.file == str(blocker / "b.tar.gz")
    with pytest.raises(ConfigError) as cerr:
        build_bundle(policy, tmp_path / "b.tar.gz", revision="r", signing_key=tmp_path / "missing.pem")  # type: ignore[arg-type]
    assert cerr.value.exit_code == ExitCode.USAGE and "cannot read the signing key" in cerr.value.message
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("hello")
    with pytest.raises(ConfigError, match="RS256 needs a PEM private key"):
        build_bundle(policy, tmp_path / "b.tar.gz", revision="r", signing_key=not_pem)  # type: ignore[arg-type]
    assert not (tmp_path / "b.tar.gz").exists()
