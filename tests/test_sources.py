"""One trusted source for everything that governs (issue 14) and signatures wherever a key is
configured (issue 19).

Under `--policy-ref`, the baseline, the config file and the verification key come from the ref
like the policies, data, waivers and VEX; a copy the pull request changed is listed in
`not_used`. A policy folder is verified like a bundle when a key is set. Every attack test here
was first run against the gate before gate/sources.py, where it opened the gate (or used the
pull request's file); each docstring says what the attack was.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gate.bundle import SIGNATURES, build_bundle, sign_files
from gate.policy import load_policy
from tests.conftest import POLICIES, REPO, run_gate
from tests.governance_support import GOV, write
from tests.opa_support import opa_binary, rsa_key_pair
from tests.test_policy_ref import BANDIT, NOW, POLICY, SELF_APPROVAL, WAIVERS, changes, git, repo

__all__ = ["repo"]  # the fixture, imported for the tests below


def evaluate(root: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
    out = root.parent / "verdict.json"
    if out.exists():
        out.unlink()
    res = run_gate(["evaluate", "bandit.json", "--time", NOW, "--output", f"json={out}", *args], cwd=root, env=env)
    if not out.exists():  # a config-file error stops before the verdict
        return res.exit_code, {}, res.stdout + res.stderr
    verdict = json.loads(out.read_text())
    assert res.exit_code == verdict["exit_code"], (res.stdout, res.stderr)
    return res.exit_code, verdict, res.stdout + res.stderr


# --------------------------------------------------------------------------------------------
# The baseline


def _without_new_flaw(report: Path, dst: Path) -> Path:
    """The sample bandit report as it was before the change added its second shell=True call."""
    doc = json.loads(report.read_text())
    last = max(r["line_number"] for r in doc["results"] if r["test_id"] == "B602")
    doc["results"] = [r for r in doc["results"] if not (r["test_id"] == "B602" and r["line_number"] == last)]
    dst.write_text(json.dumps(doc))
    return dst


@pytest.fixture
def pack_repo(tmp_path: Path) -> Path:
    """A repository whose `main` holds the shipped pack and a baseline of the findings before the change."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    shutil.copytree(POLICIES, root / "policies")
    shutil.copy(BANDIT, root / "bandit.json")
    before = _without_new_flaw(BANDIT, tmp_path / "before.json")
    res = run_gate(["baseline", str(before), "-o", str(root / "baseline.json"), "--policy", str(root / "policies"), "--time", NOW])
    assert res.exit_code == 0, res.stderr
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "trusted pack and baseline")
    return root


@pytest.mark.slow
def test_a_baseline_regenerated_by_the_change_is_not_used(pack_repo: Path) -> None:
    """Attack (issue 14): under --policy-ref the pull request regenerated `baseline.json` from its
    own report; the new flaw became "existing", stage dev passed and not_used listed nothing.
    Now the ref's baseline is read: the new shell=True call blocks, the baseline is listed."""
    res = run_gate(["baseline", "bandit.json", "-o", "baseline.json", "--policy", "policies", "--time", NOW], cwd=pack_repo)
    assert res.exit_code == 0
    opened, _, _ = evaluate(pack_repo, "--policy", "policies", "--baseline", "baseline.json", "--stage", "dev")
    assert opened == 0  # the work tree's baseline would approve the change
    code, verdict, _ = evaluate(pack_repo, "--policy", "policies", "--policy-ref", "main", "--baseline", "baseline.json", "--stage", "dev")
    assert code == 10
    assert [v["rule"] for v in verdict["violations"]] == ["GATE-SAST-001"]
    [entry] = verdict["not_used"]
    assert (entry["path"], entry["kind"], entry["change"]) == ("baseline.json", "baseline", "modified")
    assert entry["reason"] == "main:baseline.json was used"


@pytest.mark.slow
def test_a_baseline_the_ref_lacks_makes_every_finding_new(pack_repo: Path) -> None:
    """Variant: the change adds a baseline the trusted ref does not have (and points the config
    at it). It is not used; the run reads an empty baseline, so every finding is `new`."""
    shutil.copy(pack_repo / "baseline.json", pack_repo / "pr-baseline.json")
    run_gate(["baseline", "bandit.json", "-o", "pr-baseline.json", "--policy", "policies", "--time", NOW], cwd=pack_repo)
    args = ("--policy", "policies", "--policy-ref", "main", "--baseline", "pr-baseline.json", "--stage", "dev")
    code, verdict, _ = evaluate(pack_repo, *args)
    assert code == 10 and len(verdict["violations"]) == 3  # both shell=True calls and MD5: all new
    assert changes(verdict) == [{"path": "pr-baseline.json", "kind": "baseline", "change": "added"}]


def test_a_broken_baseline_at_the_ref_is_named_with_its_ref_path_line_and_column(pack_repo: Path) -> None:
    (pack_repo / "baseline.json").write_text('{\n  "schema": "gate.baseline/v1",\n  "findings": [1,]\n}\n')
    git(pack_repo, "commit", "-q", "-am", "broken baseline")
    code, verdict, out = evaluate(pack_repo, "--policy", "policies", "--policy-ref", "main", "--baseline", "baseline.json")
    assert code == 2 and verdict["error"]["file"] == "main:baseline.json"
    assert verdict["error"]["position"]["line"] == 3 and verdict["error"]["position"]["column"] is not None
    assert "main:baseline.json:3" in out


# --------------------------------------------------------------------------------------------
# The config file


@pytest.fixture
def config_repo(repo: Path) -> Path:
    """The trusted branch also has a sandbox waivers file (approving B602, for another use) and
    a `gate.toml` naming the real waivers file."""
    write(repo / "sandbox" / "waivers.yaml", WAIVERS + SELF_APPROVAL)
    write(repo / "gate.toml", '[gate]\npolicy = "policies"\nwaivers = "waivers.yaml"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "config")
    return repo


def test_an_edited_config_file_cannot_choose_the_waivers(config_repo: Path) -> None:
    """Variant of the class (the config file governs too): the change edits `gate.toml` to point
    `waivers` at the sandbox's file, which approves B602. The old gate read the work tree's
    config: exit 0. Now the ref's config is read by name: exit 10, gate.toml listed."""
    write(config_repo / "gate.toml", '[gate]\npolicy = "policies"\nwaivers = "sandbox/waivers.yaml"\n')
    code, verdict, _ = evaluate(config_repo, "--config", "gate.toml", "--policy-ref", "main")
    assert code == 10
    assert {w["waiver"] for w in verdict["waived"]} == {"W-MD5"}
    assert changes(verdict) == [{"path": "gate.toml", "kind": "config", "change": "modified"}]
    # The same, with the ref and the config given as the CI would: environment variables.
    code, verdict, _ = evaluate(config_repo, env={"GATE_CONFIG": "gate.toml", "GATE_POLICY_REF": "main"})
    assert code == 10 and changes(verdict) == [{"path": "gate.toml", "kind": "config", "change": "modified"}]


def test_a_policy_ref_named_by_the_work_trees_config_rereads_the_config_from_the_ref(config_repo: Path) -> None:
    write(config_repo / "gate.toml", '[gate]\npolicy = "policies"\npolicy-ref = "main"\nwaivers = "sandbox/waivers.yaml"\n')
    code, verdict, _ = evaluate(config_repo, "--config", "gate.toml")
    assert code == 10 and {w["waiver"] for w in verdict["waived"]} == {"W-MD5"}


def test_a_config_file_the_ref_lacks_is_refused(repo: Path) -> None:
    write(repo / "gate.toml", '[gate]\nwaivers = "waivers.yaml"\n')
    code, _, out = evaluate(repo, "--config", "gate.toml", "--policy-ref", "main")
    assert code == 2 and "main:gate.toml" in out


# --------------------------------------------------------------------------------------------
# Signatures wherever a key is configured


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("keys")
    (d / "org").mkdir()
    (d / "attacker").mkdir()
    org, org_pub = rsa_key_pair(d / "org")
    attacker, attacker_pub = rsa_key_pair(d / "attacker")
    return {"org": org, "org_pub": org_pub, "attacker": attacker, "attacker_pub": attacker_pub}


def sign_folder(folder: Path, key: Path) -> None:
    """`.signatures.json` over every file of the folder, as `opa sign` writes it."""
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file() and p.name != SIGNATURES}
    (folder / SIGNATURES).write_bytes(sign_files(files, key))


def _plain(tmp_path: Path) -> Path:
    root = tmp_path / "plain"
    shutil.copytree(POLICY, root / "policies")
    shutil.copy(BANDIT, root / "bandit.json")
    return root


def test_a_folder_with_a_key_but_no_signature_is_refused(tmp_path: Path, keys: dict[str, Path]) -> None:
    """Attack (issue 19): a policy given as a folder skipped signature checking even with a
    verification key set (exit 10 from whatever policies the folder held). Now refused: exit 4."""
    root = _plain(tmp_path)
    code, verdict, _ = evaluate(root, "--policy", "policies", env={"GATE_VERIFICATION_KEY": str(keys["org_pub"])})
    assert code == 4 and "not signed" in verdict["error"]["message"]


def test_a_folder_with_a_forged_or_stale_signature_is_refused(tmp_path: Path, keys: dict[str, Path]) -> None:
    root = _plain(tmp_path)
    sign_folder(root / "policies", keys["attacker"])
    code, verdict, _ = evaluate(root, "--policy", "policies", "--verification-key", str(keys["org_pub"]))
    assert code == 4 and "does not verify" in verdict["error"]["message"]
    sign_folder(root / "policies", keys["org"])
    code, verdict, _ = evaluate(root, "--policy", "policies", "--verification-key", str(keys["org_pub"]))
    assert code == 10 and verdict["policy"]["source"] == "bundle"
    rule = root / "policies" / "governance.rego"
    rule.write_text(rule.read_text().replace('f.severity in {"high", "critical"}', 'f.severity == "critical"'))
    code, verdict, _ = evaluate(root, "--policy", "policies", "--verification-key", str(keys["org_pub"]))
    assert code == 4 and "does not match its signed hash" in verdict["error"]["message"]
    write(root / "policies" / "zz_allow.rego", "package gate.allow\n\nallowed := true\n")
    sign_folder(root / "policies", keys["org"])
    (root / "policies" / "zz_more.rego").write_text("package gate.more\n\nx := 1\n")
    code, verdict, _ = evaluate(root, "--policy", "policies", "--verification-key", str(keys["org_pub"]))
    assert code == 4 and "not covered by the signature" in verdict["error"]["message"]


def test_a_signed_folder_without_a_key_is_refused(tmp_path: Path, keys: dict[str, Path]) -> None:
    root = _plain(tmp_path)
    sign_folder(root / "policies", keys["org"])
    code, verdict, _ = evaluate(root, "--policy", "policies")
    assert code == 4 and "no verification key" in verdict["error"]["message"]


def test_a_folder_signed_by_opa_sign_verifies(tmp_path: Path, keys: dict[str, Path]) -> None:
    """Interoperability: `.signatures.json` written by `opa sign --bundle` into the folder is the
    format the gate verifies (the same file names, the same hashes)."""
    opa = opa_binary()
    root = _plain(tmp_path)
    subprocess.run(  # noqa: S603 - the real opa, fixed arguments
        [str(opa), "sign", ".", "--signing-key", str(keys["org"]), "--bundle"], cwd=root / "policies", check=True, capture_output=True
    )
    code, verdict, _ = evaluate(root, "--policy", "policies", "--verification-key", str(keys["org_pub"]))
    assert code == 10 and verdict["policy"]["source"] == "bundle"
    code, verdict, _ = evaluate(root, "--policy", "policies", "--verification-key", str(keys["attacker_pub"]))
    assert code == 4


def test_a_key_planted_in_the_work_tree_is_not_used(repo: Path, tmp_path: Path, keys: dict[str, Path]) -> None:
    """Attack (issue 19): the CI verifies a bundle downloaded outside the repository with the
    key at `keys/policy.pub` in the repository. The change replaced that key with its own and
    the bundle with one it signed (permissive): the old gate read the key from the work tree and
    accepted it (exit 0; under --policy-ref it refused any bundle outside the repository, so the
    key was never pinned to the ref). Now the key is read from the ref: the bundle does not
    verify, exit 4, and the key is listed as not used."""
    write(repo / "keys" / "policy.pub", keys["org_pub"].read_text())
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the organisation's key")
    weak = tmp_path / "weak"
    shutil.copytree(POLICY, weak)
    (weak / "governance.rego").write_text((weak / "governance.rego").read_text().replace('f.severity in {"high", "critical"}', "false"))
    bundle = tmp_path / "downloaded" / "policy.tar.gz"
    build_bundle(load_policy(weak, include_tests=False), bundle, revision="r", signing_key=keys["attacker"])
    shutil.copy(keys["attacker_pub"], repo / "keys" / "policy.pub")
    env = {"GATE_VERIFICATION_KEY": "keys/policy.pub"}
    opened, _, _ = evaluate(repo, "--policy", str(bundle), env=env)
    assert opened == 0  # the work tree's key would accept the change's bundle
    code, verdict, _ = evaluate(repo, "--policy", str(bundle), "--policy-ref", "main", env=env)
    assert code == 4 and "does not verify" in verdict["error"]["message"], verdict["error"]
    # With the organisation's bundle the ref's key verifies it, and the edited key is listed.
    good = tmp_path / "org.tar.gz"
    build_bundle(load_policy(POLICY, include_tests=False), good, revision="r", signing_key=keys["org"])
    code, verdict, _ = evaluate(repo, "--policy", str(good), "--policy-ref", "main", env=env)
    assert code == 10
    assert changes(verdict) == [{"path": "keys/policy.pub", "kind": "key", "change": "modified"}]


def test_a_key_inside_the_repository_that_the_ref_lacks_is_refused(repo: Path, keys: dict[str, Path]) -> None:
    shutil.copy(keys["attacker_pub"], repo / "my.pub")
    code, verdict, _ = evaluate(repo, "--policy", "policies", "--policy-ref", "main", "--verification-key", "my.pub")
    assert code == 2 and "main:my.pub" in verdict["error"]["message"]


# --------------------------------------------------------------------------------------------
# The module's shape


def test_the_model_does_not_import_the_bundle_reader() -> None:
    """The import cycle between gate/policy.py and gate/bundle.py is gone: policy.py (the model
    and loading from bytes) imports neither the bundle reader nor the sources."""

    def imported(path: Path) -> set[str]:
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module + "".join(f".{a.name}" for a in node.names if node.module == "gate"))
            elif isinstance(node, ast.Import):
                names.update(a.name for a in node.names)
        return names

    assert not {n for n in imported(REPO / "gate" / "policy.py") if n.startswith(("gate.bundle", "gate.sources"))}
    assert not {n for n in imported(REPO / "gate" / "bundle.py") if n.startswith("gate.sources")}
    probe = "import sys, gate.policy; print(sorted(m for m in sys.modules if m in ('gate.bundle', 'gate.sources')))"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip() == "[]"  # noqa: S603


def test_a_data_error_at_the_ref_names_the_ref_path_line_and_column(repo: Path) -> None:
    write(repo / "policies" / "config" / "gate.yaml", "waivers:\n  horizon_days: [1,\n")
    git(repo, "commit", "-q", "-am", "broken data")
    code, verdict, out = evaluate(repo, "--policy", "policies", "--policy-ref", "main")
    assert code == 2 and verdict["error"]["file"] == "main:policies/config/gate.yaml"
    assert verdict["error"]["position"]["line"] is not None and verdict["error"]["position"]["column"] is not None
    assert "main:policies/config/gate.yaml:" in out
    assert GOV.is_dir()


def test_not_used_shows_in_every_output_format(pack_repo: Path) -> None:
    """What the change tried (here: a regenerated baseline) is visible in every format a reviewer
    or a tool reads: json, console, Markdown, SARIF run properties, JUnit properties, GitHub
    annotations, the verification summary attestation."""
    run_gate(["baseline", "bandit.json", "-o", "baseline.json", "--policy", "policies", "--time", NOW], cwd=pack_repo)
    out = pack_repo.parent / "out"
    formats = ("json", "console", "markdown", "sarif", "junit", "github", "vsa")
    args = ["--policy", "policies", "--policy-ref", "main", "--baseline", "baseline.json", "--stage", "dev"]
    res = run_gate(
        ["evaluate", "bandit.json", "--time", NOW, *args, *(a for f in formats for a in ("--output", f"{f}={out / f}"))], cwd=pack_repo
    )
    assert res.exit_code == 10
    text = {f: (out / f).read_text() for f in formats}
    assert json.loads(text["json"])["not_used"][0]["path"] == "baseline.json"
    assert "modified: baseline.json (baseline): main:baseline.json was used" in text["console"]
    assert "`baseline.json`" in text["markdown"] and "`main:baseline.json was used`" in text["markdown"]
    assert json.loads(text["sarif"])["runs"][0]["properties"]["notUsed"][0]["kind"] == "baseline"
    assert 'name="not_used.0" value="modified: baseline.json (baseline): main:baseline.json was used"' in text["junit"]
    assert "::warning" in text["github"] and "baseline.json (modified)" in text["github"]
    assert '"notUsed"' in text["vsa"] and '"path": "baseline.json"' in text["vsa"]


def test_the_three_sources_hand_out_bytes_by_path(repo: Path, tmp_path: Path, keys: dict[str, Path]) -> None:
    """The interface every loader reads through: the work tree, the git ref and a bundle answer
    the same questions (node, read, folder) with bytes, and name files the way errors do."""
    from gate.sources import Bundle, GitRef, GitRepo, WorkTree

    archive = tmp_path / "b.tar.gz"
    build_bundle(load_policy(POLICY, include_tests=False), archive, revision="r", signing_key=keys["org"])
    bundle = Bundle.from_archive("b.tar.gz", archive.read_bytes(), keys["org_pub"].read_bytes())
    assert bundle.node("governance.rego") == "file" and bundle.node(".") == "folder" and bundle.node("nope") is None
    assert SIGNATURES not in bundle.folder(".") and bundle.read("data.json", what="data") is not None
    assert bundle.shown("governance.rego") == "b.tar.gz/governance.rego"

    old = Path.cwd()
    try:
        os.chdir(repo)
        ref = GitRef("main", GitRepo.find())
        work = WorkTree()
        (repo / "waivers.yaml").write_text("edited\n")
        assert ref.read("waivers.yaml", what="waivers file") == WAIVERS.encode()
        assert work.read("waivers.yaml", what="waivers file") == b"edited\n"
        assert ref.shown("waivers.yaml") == "main:waivers.yaml" and work.shown("waivers.yaml") == "waivers.yaml"
        assert ref.node("policies") == "folder" and ref.node("nope/x") is None and ref.read("nope", what="x") is None
        assert set(ref.folder("policies")) >= {"governance.rego", "config/gate.yaml", "README.md"}
        assert work.node("policies") == "folder" and work.read("waivers.yaml/x", what="x") is None
    finally:
        os.chdir(old)
