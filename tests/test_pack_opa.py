"""The pack is plain OPA, and one policy set has one digest however it is packaged.

- `opa test`, `opa check --strict` and `opa fmt --list` pass on `policies/` with no gate in the
  loop (the data lies where OPA loads it: `policies/config/*.yaml` is `data.config`); skipped
  without `opa` unless GATE_REQUIRE_OPA=1 (tests/opa_support.py).
- The gate loads the data exactly as OPA does: two files that set one value are refused (OPA
  refuses them too), and a data file outside config/ is refused (OPA would load it elsewhere).
- The folder, the same folder at a git ref, its bundle, the bundle's revision and its manifest
  metadata give the same digest, and `--policy-digest` pins it whichever way it is packaged.
- A folder of plain Rego rules works, with the built-in default stage profile.
- Compile errors come before data errors: exit 4 at file:line:column with the engine's lines.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from gate.bundle import build_bundle, load_bundle
from gate.errors import ConfigError, PolicyError
from gate.policy import DEFAULT_DATA, load_policy
from gate.runner import Config, resolve_policy
from gate.sources import GitRef, GitRepo, load_policy_from
from tests.conftest import run_gate
from tests.opa_support import opa_binary

REPO = Path(__file__).resolve().parent.parent
POLICIES = REPO / "policies"
BANDIT = REPO / "examples" / "reports" / "bandit.json"

PLAIN_RULE = """package gate.mine

# METADATA
# title: No finding at all
# description: Any finding closes the gate.
# custom:
#   id: MINE-001
#   severity: high
#   control: none
#   remediation: Fix it.
deny contains {"rule": "MINE-001", "msg": sprintf("finding %s", [f.id])} if {
\tsome f in input.findings
}
"""


def _opa(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([opa_binary(), *args], capture_output=True, text=True, timeout=600, check=False, cwd=REPO)


# --------------------------------------------------------------------------------------------
# OPA's own checks, no gate in the loop


@pytest.mark.slow
def test_opa_test_passes_on_the_pack() -> None:
    """Before: 64 of 222 tests failed, because only the gate merged policies/data/*.yaml into
    data.config (OPA put them at data.data)."""
    res = _opa("test", "policies")
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    assert "FAIL" not in res.stdout


def test_opa_check_strict_passes_on_the_pack() -> None:
    res = _opa("check", "--strict", "policies")
    assert res.returncode == 0, res.stdout + res.stderr


def test_opa_fmt_lists_nothing_in_the_pack() -> None:
    res = _opa("fmt", "--list", "policies")
    assert res.returncode == 0 and res.stdout.strip() == "", res.stdout + res.stderr


def test_the_gate_and_opa_see_the_same_data() -> None:
    """`opa eval -d policies data.config` is exactly the data every engine of the gate receives."""
    res = _opa("eval", "--format", "json", "-d", "policies", "data.config")
    assert res.returncode == 0, res.stderr
    seen_by_opa = json.loads(res.stdout)["result"][0]["expressions"][0]["value"]
    assert seen_by_opa == load_policy(POLICIES).data


def _conflicting_pack(tmp_path: Path) -> Path:
    pack = tmp_path / "pack"
    (pack / "config").mkdir(parents=True)
    (pack / "p.rego").write_text(PLAIN_RULE, encoding="utf-8")
    (pack / "config" / "a.yaml").write_text("stages:\n  default:\n    fail_on: deny\n", encoding="utf-8")
    (pack / "config" / "b.yaml").write_text("# an override\nstages:\n  default:\n    fail_on: warn\n", encoding="utf-8")
    return pack


def test_a_value_set_by_two_data_files_is_refused_as_opa_refuses_it(tmp_path: Path) -> None:
    """The gate once deep-merged in sorted order (the last file won) where OPA refuses the folder:
    the two would have judged with different data. Now both refuse, naming both files."""
    pack = _conflicting_pack(tmp_path)
    with pytest.raises(ConfigError) as err:
        load_policy(pack)
    assert err.value.file == f"{pack}/config/b.yaml" and err.value.position is not None and err.value.position.line == 4
    assert "conflicting values at data.config.stages.default.fail_on" in err.value.message and "config/a.yaml" in err.value.message
    res = _opa("eval", "-d", str(pack), "data.config")
    assert res.returncode != 0 and "merge error: conflicting values at data.config" in res.stdout + res.stderr


def test_mappings_of_several_files_and_subfolders_merge_as_in_opa(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    (pack / "config" / "org").mkdir(parents=True)
    (pack / "p.rego").write_text(PLAIN_RULE, encoding="utf-8")
    (pack / "config" / "a.yaml").write_text("stages:\n  default:\n    fail_on: deny\n", encoding="utf-8")
    (pack / "config" / "b.yaml").write_text("stages:\n  prod:\n    fail_on: warn\n", encoding="utf-8")
    (pack / "config" / "org" / "teams.json").write_text('{"owners": ["sec"]}', encoding="utf-8")
    data = load_policy(pack).data
    assert data == {"stages": {"default": {"fail_on": "deny"}, "prod": {"fail_on": "warn"}}, "org": {"owners": ["sec"]}}
    res = _opa("eval", "--format", "json", "-d", str(pack), "data.config")
    assert json.loads(res.stdout)["result"][0]["expressions"][0]["value"] == data


@pytest.mark.parametrize("rel", ["data/gate.yaml", "extra.json", "lib/settings.yaml"])
def test_a_data_file_outside_config_is_refused(tmp_path: Path, rel: str) -> None:
    """Fail closed: a data file OPA would load elsewhere (the old `data/` folder at data.data) is
    not silently ignored, which would drop its settings for the gate but not for OPA."""
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "p.rego").write_text(PLAIN_RULE, encoding="utf-8")
    (pack / rel).parent.mkdir(parents=True, exist_ok=True)
    (pack / rel).write_text("stages:\n  default:\n    fail_on: warn\n", encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policy(pack)
    assert err.value.file == f"{pack}/{rel}" and "outside config/" in err.value.message
    if rel.startswith("data/"):
        assert "git mv data config" in (err.value.hint or "")


# --------------------------------------------------------------------------------------------
# One policy set, one digest


def _git(cwd: Path, *args: str) -> str:
    who = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    env = {**who, "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, env=env).stdout.strip()


@pytest.mark.slow
def test_folder_git_ref_bundle_revision_and_manifest_share_one_digest(tmp_path: Path) -> None:
    """Before: the folder's digest hashed its files (tests included), the bundle's was the
    archive's sha256 and its revision the git commit: three identities for one policy set."""
    repo = tmp_path / "repo"
    shutil.copytree(POLICIES, repo / "policies")
    _git(repo, "init", "-q")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "policies")
    folder = load_policy(repo / "policies", include_tests=False)
    with_tests = load_policy(repo / "policies", include_tests=True)
    at_ref = load_policy_from(GitRef("HEAD", GitRepo.find(str(repo))), str(repo / "policies"))
    out = tmp_path / "pack.tar.gz"
    build_bundle(folder, out)
    with tarfile.open(out) as tar:
        member = tar.extractfile(".manifest")
        assert member is not None
        manifest = json.loads(member.read())
    bundle = load_bundle(out)
    digest = folder.digest
    assert digest.startswith("sha256:")
    assert with_tests.digest == at_ref.digest == bundle.digest == digest
    assert manifest["revision"] == manifest["metadata"]["gate"]["content_digest"] == digest
    # The CLI prints it, and --policy-digest pins the folder and the bundle alike.
    res = run_gate(["policy", "bundle", str(repo / "policies"), "-o", str(tmp_path / "cli.tar.gz")])
    assert res.exit_code == 0 and res.stdout.strip() == digest, res.stderr
    assert resolve_policy(Config(policy=str(out), policy_digest=digest)).digest == digest
    assert resolve_policy(Config(policy=str(repo / "policies"), policy_digest=digest)).digest == digest
    # `gate policy check` and `gate policy doc` name the same digest.
    check = run_gate(["policy", "check", str(repo / "policies"), "--format", "json"])
    assert json.loads(check.stdout)["digest"] == digest, check.stderr
    assert digest in run_gate(["policy", "doc", str(repo / "policies")]).stdout


def test_a_manifest_whose_content_digest_lies_is_refused(tmp_path: Path) -> None:
    """Attack: a bundle edited after it was built (a rule removed from data.json) keeps the
    manifest of the reviewed build, so an OPA server's status (and a reviewer reading the
    manifest) would name the reviewed content. The reader recomputes the digest and refuses."""
    pack = tmp_path / "pack"
    (pack / "config").mkdir(parents=True)
    (pack / "p.rego").write_text(PLAIN_RULE, encoding="utf-8")
    (pack / "config" / "a.yaml").write_text("stages:\n  default:\n    fail_on: deny\n", encoding="utf-8")
    out = tmp_path / "b.tar.gz"
    build_bundle(load_policy(pack, include_tests=False), out, revision="r")
    import io

    with tarfile.open(out) as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]
    files["data.json"] = json.dumps({"config": {"stages": {"default": {"fail_on": "warn"}}}}).encode()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    (tmp_path / "edited.tar.gz").write_bytes(raw.getvalue())
    with pytest.raises(PolicyError) as err:
        load_bundle(tmp_path / "edited.tar.gz")
    assert "changed after it was built" in err.value.message


# --------------------------------------------------------------------------------------------
# A folder of plain Rego rules; compile errors before data errors


def test_a_folder_of_plain_rego_rules_works_with_the_default_stage_profile(tmp_path: Path) -> None:
    """Before: "'stages' is a required property", exit 2."""
    pack = tmp_path / "mine"
    pack.mkdir()
    (pack / "rules.rego").write_text(PLAIN_RULE, encoding="utf-8")
    policy = load_policy(pack)
    assert policy.data == DEFAULT_DATA
    res = run_gate(["evaluate", "--policy", str(pack), "--format", "json", str(BANDIT)])
    assert res.exit_code == 10, res.stderr
    verdict = json.loads(res.stdout)
    assert verdict["violations"] and {v["rule"] for v in verdict["violations"]} == {"MINE-001"}
    check = run_gate(["policy", "check", str(pack)])
    assert check.exit_code == 0, check.stderr
    # Its bundle carries the same default, and `opa build` of the folder (no data.json) gets it too.
    out = tmp_path / "b.tar.gz"
    build_bundle(policy, out)
    assert load_bundle(out).digest == policy.digest


def test_a_syntax_error_comes_before_missing_data(tmp_path: Path) -> None:
    """Before: a Rego syntax error in a plain-Rego folder was reported as a data error (exit 2,
    "'stages' is a required property"). Now: exit 4, file:line:col, the engine's own lines."""
    pack = tmp_path / "mine"
    pack.mkdir()
    (pack / "rules.rego").write_text(PLAIN_RULE.replace("\tsome f in input.findings\n}", "\tsome f in input.findings\n"), encoding="utf-8")
    res = run_gate(["evaluate", "--policy", str(pack), str(BANDIT)])
    assert res.exit_code == 4, res.stderr
    assert f"{pack}/rules.rego:" in res.stderr and "compile error" in res.stderr
    assert "\\n" not in res.stderr and "|" in res.stderr  # the excerpt on its own lines, not flattened
    assert "data" not in res.stderr.split("compile error", 1)[0]


def test_a_syntax_error_comes_before_a_data_error(tmp_path: Path) -> None:
    pack = _conflicting_pack(tmp_path)
    (pack / "p.rego").write_text("package gate.mine\n\ndeny contains x if {\n", encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policy(pack)
    assert err.value.file == f"{pack}/p.rego" and err.value.position is not None
    res = run_gate(["evaluate", "--policy", str(pack), str(BANDIT)])
    assert res.exit_code == 4 and "compile error" in res.stderr and "conflicting" not in res.stderr, res.stderr


def test_a_bundle_opa_builds_has_the_same_digest(tmp_path: Path) -> None:
    """`opa build .` in the policy folder (OPA's own bundle: tests included, no gate metadata) is
    read by the gate as the same policy set: same data, same digest."""
    out = tmp_path / "opa.tar.gz"
    cmd = [opa_binary(), "build", ".", "-o", str(out)]
    res = subprocess.run(cmd, cwd=POLICIES, capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stderr
    bundle, folder = load_bundle(out), load_policy(POLICIES)
    assert bundle.data == folder.data and bundle.digest == folder.digest
