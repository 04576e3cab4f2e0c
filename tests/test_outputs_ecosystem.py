"""Every place the gate reports to: counts that agree, code scanning, GitLab, Jenkins, report-only, the terminal.

The shipped example (`examples/reports`, stage prod, judged from `examples/vulnerable-app` as a
pipeline would, with one waiver so every count is non-zero) is rendered in every format once,
and each format's own statement of the counts is read back the way its consumer reads it.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as ET
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from gate.output.common import results, summarize, unique_fingerprints
from gate.output.console import ConsoleFormatter, strip_ansi
from gate.output.interface import OutputOptions
from gate.output.locate import SourceTree, line_hashes, repo_path
from tests.conftest import DATA, REPO, run_gate
from tests.scan_support import require_tools
from tests.test_outputs import validate_sarif
from tests.workflow_commands import commands

EXAMPLE = REPO / "examples"
APP = EXAMPLE / "vulnerable-app"
T = ["--time", "2026-12-06T00:00:00Z"]
ALL = ["json", "sarif", "junit", "markdown", "github", "console", "gitlab-codequality", "vsa"]
JENKINS_XSD = Path(__file__).parent / "schemas" / "jenkins-junit-10.xsd"
WAIVER = """waivers:
  - id: W-EX-1
    rule: B404
    path: "app.py"
    reason: "subprocess is used with argument lists only"
    approved_by: "security@example.org"
    expires: 2027-02-01
"""


def render_example(tmp_path: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    """`gate evaluate ../reports --stage prod` from the example app, every format to a file."""
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(WAIVER)
    args = ["evaluate", "../reports", "--stage", "prod", "--policy", str(REPO / "policies"), "--waivers", str(waivers), *T, *extra]
    for f in ALL:
        args += ["--output", f"{f}={tmp_path / f}"]
    res = run_gate(args, cwd=APP, env=env)
    return res.exit_code, {f: (tmp_path / f).read_text(encoding="utf-8") for f in ALL}, res.stderr


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    code, out, err = render_example(tmp_path_factory.mktemp("example"))
    assert code == 10, err
    return out


LEVEL_OF_SARIF = {"error": "deny", "warning": "warn", "note": "waived"}


def stated(out: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Per format: the totals it states and its rows counted per (rule, level)."""
    found: dict[str, dict[str, Any]] = {}
    verdict = json.loads(out["json"])
    s = verdict["summary"]
    per_rule = Counter([(e["rule"], "deny") for e in verdict["violations"]] + [(e["rule"], "warn") for e in verdict["warnings"]])
    per_rule.update(("GATE-WAIVED", "waived") for _ in verdict["waived"])
    found["json"] = {"totals": (s["violations"], s["warnings"], s["waived"]), "rules": per_rule}

    run = json.loads(out["sarif"])["runs"][0]
    t = run["properties"]["totals"]
    rules = Counter((r["ruleId"], LEVEL_OF_SARIF[r["level"]]) for r in run["results"])
    found["sarif"] = {"totals": (t["violations"], t["warnings"], t["waived"]), "suppressed": t["suppressed"], "rules": rules}

    root = ET.fromstring(out["junit"])
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    rules = Counter()
    for case in root.iter("testcase"):
        rid = case.get("classname", "").split(".", 1)[1]
        for f in case.iter("failure"):
            rules[(rid, "deny")] += int(re.match(r"(\d+) violation", f.get("message", ""))[1])  # type: ignore[index]
        for o in case.iter("system-out"):
            m = re.match(r"(\d+) warning\(s\) of", o.text or "")
            if m:
                rules[(rid, "warn")] += int(m[1])
        for sk in case.iter("skipped"):
            rules[("GATE-WAIVED", "waived")] += int(re.match(r"(\d+) finding", sk.get("message", ""))[1])  # type: ignore[index]
    found["junit"] = {
        "totals": (int(props["violations"]), int(props["warnings"]), int(props["waived"])),
        "suppressed": int(props["suppressed"]),
        "rules": rules,
    }

    md = out["markdown"]
    row = re.search(r"^\| (\d+) \| (\d+) \| (\d+) \| (\d+) \| \d+ \|", md, re.MULTILINE)
    assert row, md[:600]
    rules = Counter()
    for level, title in (("deny", "Violations"), ("warn", "Warnings"), ("waived", "Waived findings")):
        m = re.search(rf"^### {title} \((\d+)\)\n\n(.*?)\n\n", md, re.MULTILINE | re.S)
        if not m:
            continue
        body = [ln for ln in m[2].splitlines()[2:] if ln.startswith("|")]
        assert len(body) == int(m[1]), (title, m[1], len(body))  # the section's title states its own rows
        for ln in body:
            rid = "GATE-WAIVED" if level == "waived" else re.match(r"\| \[?`([^`]+)`", ln)[1]  # type: ignore[index]
            rules[(rid, level)] += 1
    found["markdown"] = {"totals": (int(row[1]), int(row[2]), int(row[3])), "suppressed": int(row[4]), "rules": rules}

    con = out["console"]
    m = re.search(r"(\d+) violation\(s\), (\d+) warning\(s\), (\d+) waived", con)
    sup = re.search(r"(\d+) suppressed inline", con)
    assert m and sup, con[:400]
    rules = Counter()
    lines = con.splitlines()
    for level, title in (("deny", "Violations"), ("warn", "Warnings"), ("waived", "Waived")):
        start = next((i for i, ln in enumerate(lines) if re.fullmatch(rf"{title} \(\d+\)", ln)), None)
        if start is None:
            continue
        n = int(re.search(r"\d+", lines[start])[0])  # type: ignore[index]
        for ln in lines[start + 3 : start + 3 + n]:
            cells = ln.split()
            rules[("GATE-WAIVED" if level == "waived" else cells[0], level)] += 1
    found["console"] = {"totals": (int(m[1]), int(m[2]), int(m[3])), "suppressed": int(sup[1]), "rules": rules}

    cmds = commands(out["github"])
    total = cmds[-1].data
    m = re.search(r"(\d+) violation\(s\), (\d+) warning\(s\), (\d+) waived, (\d+) suppressed inline", total)
    assert m, total
    kinds = Counter(c.name for c in cmds if c.properties.get("title", "") != "policy-gate")
    left = next((c.data for c in cmds if "more result(s) not annotated" in c.data), "")
    lm = re.search(r"\((\d+) deny, (\d+) warn, (\d+) waived\)", left)
    extra = [int(x) for x in lm.groups()] if lm else [0, 0, 0]
    found["github"] = {
        "totals": (int(m[1]), int(m[2]), int(m[3])),
        "suppressed": int(m[4]),
        "levels": (kinds["error"] + extra[0], kinds["warning"] + extra[1], kinds["notice"] + extra[2]),
    }

    issues = json.loads(out["gitlab-codequality"])
    rules = Counter()
    for issue in issues:
        if issue["check_name"] == "GATE-REPORT-ONLY":
            continue
        label = re.match(r"\[(violation|warning|waived)\]", issue["description"])[1]  # type: ignore[index]
        level = {"violation": "deny", "warning": "warn", "waived": "waived"}[label]
        rules[("GATE-WAIVED" if level == "waived" else issue["check_name"], level)] += 1
    by_level = Counter(level for (_r, level), n in rules.items() for _ in range(n))
    found["gitlab-codequality"] = {"totals": (by_level["deny"], by_level["warn"], by_level["waived"]), "rules": rules}
    return found


def test_every_format_states_the_same_counts_on_the_shipped_example(example: dict[str, str]) -> None:
    """The issue's example: header 17 and 'Violations (27)'; now every format says the same, per rule too."""
    found = stated(example)
    expected = found["json"]
    assert expected["totals"][0] > 0 and expected["totals"][1] > 0 and expected["totals"][2] == 1
    for name, f in found.items():
        assert f["totals"] == expected["totals"], name
        if "rules" in f:
            assert f["rules"] == expected["rules"], name
        if "levels" in f:
            assert f["levels"] == expected["totals"], name
    suppressed = {f["suppressed"] for f in found.values() if "suppressed" in f}
    assert suppressed == {2}, suppressed  # the example's two `# nosec`/`nosemgrep` lines, stated alike
    verdict = json.loads(example["json"])
    assert summarize(verdict).results == sum(expected["totals"])


def test_a_row_is_where_its_message_says(example: dict[str, str]) -> None:
    """A cross-tool group cites both members: the row sits at the member its message names (was: app.py:41 for 'app.py:40')."""
    verdict = json.loads(example["json"])
    for r in results(verdict):
        if r.level != "waived" and r.start_line and re.search(r"\S+\.py:\d+", r.msg):
            assert f"{r.where()}" in r.msg, (r.where(), r.msg)
    md = example["markdown"]
    for line in md.splitlines():
        m = re.match(r"\| \[`[^`]+`\].*?\| `([^`]+\.py:\d+)` \| `(.*)` \|$", line)
        if m and re.search(r"\.py:\d+", m[2]):
            assert m[1] in m[2], line


# --- SARIF for GitHub code scanning ----------------------------------------------------------------


def test_sarif_is_valid_and_no_two_results_share_a_fingerprint(example: dict[str, str]) -> None:
    log = json.loads(example["sarif"])
    validate_sarif(log)
    run = log["runs"][0]
    fps = [r["partialFingerprints"]["gateFingerprint/v1"] for r in run["results"]]
    assert len(fps) == len(set(fps))
    assert run["automationDetails"]["id"] == "policy-gate/prod/"
    for rule in run["tool"]["driver"]["rules"]:
        tags = rule["properties"]["tags"]
        assert "security" in tags and len(tags) <= 10 and all(len(t) <= 40 for t in tags), tags
    sast = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "GATE-SAST-001")
    assert "NIST-SA-11(1)" in sast["properties"]["tags"]  # the control's id, not its text cut at 100 characters


def test_sarif_uris_are_relative_to_the_repository_root_with_githubs_line_hashes(example: dict[str, str]) -> None:
    run = json.loads(example["sarif"])["runs"][0]
    app = (APP / "app.py").read_text(encoding="utf-8")
    expected = line_hashes(app)
    located = [r for r in run["results"] if r["locations"][0]["physicalLocation"].get("region")]
    assert located
    for r in located:
        phys = r["locations"][0]["physicalLocation"]
        uri = phys["artifactLocation"]["uri"]
        assert (REPO / uri).is_file(), uri  # placed in the repository, not in the scanned folder
        if uri == "examples/vulnerable-app/app.py":
            assert r["partialFingerprints"]["primaryLocationLineHash"] == expected[phys["region"]["startLine"]]


def test_dependency_and_licence_results_sit_at_the_manifest_line(example: dict[str, str]) -> None:
    run = json.loads(example["sarif"])["runs"][0]
    manifest = (APP / "requirements.txt").read_text().splitlines()
    lic = [r for r in run["results"] if r["ruleId"] == "GATE-LIC-003"]
    assert lic
    for r in lic:
        phys = r["locations"][0]["physicalLocation"]
        assert phys["artifactLocation"]["uri"] == "examples/vulnerable-app/requirements.txt"
        declared = manifest[phys["region"]["startLine"] - 1].split("==")[0]
        assert declared in r["message"]["text"], (declared, r["message"]["text"])


# The line-hash vectors of GitHub's upload action (github/codeql-action, src/fingerprints.test.ts).
CODEQL_VECTORS = [
    ("", ["c129715d7a2bc9a3:1"]),
    (" a\nb\n  \t\tc\n d", ["271789c17abda88f:1", "54703d4cd895b18:1", "180aee12dab6264:1", "a23a3dc5e078b07b:1"]),
    (
        " hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End",
        ["8b7cf3e952e7aeb2:1", "b1ae1287ec4718d9:1", "bff680108adb0fcc:1", "c6805c5e1288b612:1", "b86d3392aea1be30:1", "e6ceba753e1a442:1"],
    ),
    *(
        (
            text,
            [
                "e9496ae3ebfced30:1",
                "fb7c023a8b9ccb3f:1",
                "ce8ba1a563dcdaca:1",
                "e20e36e16fcb0cc8:1",
                "b3edc88f2938467e:1",
                "c8e28b0b4002a3a0:1",
                "c129715d7a2bc9a3:1",
            ],
        )
        for text in (
            " hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End\n",
            " hello; \t\nworld!!!\r\r\r  \t\tGreetings\r End\r",
            " hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n",
            " hello; \t\nworld!!!\r\n\n\r  \t\tGreetings\r End\r\n",
        )
    ),
    (
        "Lorem ipsum dolor sit amet.\n" * 10,
        [*(f"a7f2ff13bc495cf2:{i}" for i in range(1, 7)), "a7f2ff1481e87703:1", "a9cf91f7bbf1862b:1", "55ec222b86bcae53:1"]
        + ["cc97dc7b1d7d8f7b:1", "c129715d7a2bc9a3:1"],
    ),
]


@pytest.mark.parametrize(("text", "expected"), CODEQL_VECTORS)
def test_line_hashes_match_githubs_upload_action(text: str, expected: list[str]) -> None:
    hashes = line_hashes(text)
    assert [hashes[i] for i in sorted(hashes)] == expected
    assert sorted(hashes) == list(range(1, len(expected) + 1))


def test_a_symlink_out_of_the_tree_gives_no_line_hash(tmp_path: Path) -> None:
    """Attack: the PR adds `app.py -> /proc/self/environ` (or any runner file) and a report with a
    finding at app.py:1; the SARIF uploaded to GitHub then carried a hash of the runner's
    environment, secrets included. Closed: only regular files really inside the source root are read."""
    secret = tmp_path / "outside" / "environ"
    secret.parent.mkdir()
    secret.write_text("GITHUB_TOKEN=ghs_secret\n")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "app.py").symlink_to(secret)
    (root / "ok.py").write_text("GITHUB_TOKEN=ghs_secret\n")
    (root / "requirements.txt").symlink_to(secret)
    tree = SourceTree(str(root), str(root))
    assert tree.line_hash("ok.py", 1) == line_hashes("GITHUB_TOKEN=ghs_secret\n")[1]  # the defence does not hide real files
    assert tree.line_hash("app.py", 1) is None
    assert tree.line_hash("../outside/environ", 1) is None
    assert tree.line_hash(str(secret), 1) is None
    assert tree.manifest_line("github-token") is None


@pytest.mark.slow
def test_gate_run_in_a_subfolder_places_alerts_from_the_repository_root(tmp_path: Path) -> None:
    """`gate run services/api`: the scanners report `app.py`; code scanning needs `services/api/app.py`."""
    require_tools("git", "bandit")
    repo = tmp_path / "repo"
    api = repo / "services" / "api"
    api.mkdir(parents=True)
    (api / "app.py").write_text("import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    sarif = tmp_path / "out.sarif"
    res = run_gate(
        ["run", "services/api", "--scanners", "bandit", "--out", str(tmp_path / "reports"), "--progress", "off", "--allow-empty"]
        + ["--policy", str(REPO / "policies"), *T, "--output", f"sarif={sarif}"],
        cwd=repo,
    )
    assert res.exit_code in (0, 10), res.stderr
    run = json.loads(sarif.read_text())["runs"][0]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"] if r.get("locations")}
    assert "services/api/app.py" in uris, uris
    located = next(r for r in run["results"] if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "services/api/app.py")
    line = located["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert located["partialFingerprints"]["primaryLocationLineHash"] == line_hashes((api / "app.py").read_text())[line]


def test_repo_path_rebases_only_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "r"
    assert repo_path("app.py", str(root / "svc"), str(root)) == "svc/app.py"
    assert repo_path("../../etc/passwd", str(root / "svc"), str(root)) == "../../etc/passwd"  # outside: as written
    assert repo_path("app.py", None, None) == "app.py"


# --- GitLab ------------------------------------------------------------------------------------------


def test_gitlab_code_quality_report_has_the_fields_gitlab_reads(example: dict[str, str]) -> None:
    issues = json.loads(example["gitlab-codequality"])
    assert isinstance(issues, list) and issues
    fps = [i["fingerprint"] for i in issues]
    assert len(fps) == len(set(fps))
    for i in issues:
        assert isinstance(i["description"], str) and i["description"]
        assert isinstance(i["check_name"], str) and i["check_name"]
        assert i["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert isinstance(i["location"]["path"], str) and not i["location"]["path"].startswith("/")
        assert isinstance(i["location"]["lines"]["begin"], int) and i["location"]["lines"]["begin"] >= 1
    by_check = {i["check_name"]: i for i in issues if i["description"].startswith("[violation]")}
    assert by_check["GATE-SEC-001"]["severity"] == "blocker"  # critical rule
    assert all(i["severity"] in {"minor", "info"} for i in issues if not i["description"].startswith("[violation]"))


def test_gitlab_template_uses_ci_variables_and_declares_the_reports() -> None:
    doc = yaml.safe_load((REPO / "ci" / "gitlab" / "policy-gate.gitlab-ci.yml").read_text())
    job = doc["policy-gate"]
    script = "\n".join(job["script"])
    assert "CI_MERGE_REQUEST_DIFF_BASE_SHA" in script and "--policy-ref" in script
    assert "gitlab-codequality=" in script and "junit=" in script and "--source-root" in script
    reports = job["artifacts"]["reports"]
    assert reports["codequality"].endswith("gl-code-quality-report.json") and reports["junit"].endswith("junit.xml")
    assert job["artifacts"]["when"] == "always"


# --- Jenkins -----------------------------------------------------------------------------------------


def jenkins_schema() -> Any:
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(JENKINS_XSD)))


def test_junit_passes_the_jenkins_schema_and_groups_by_rule(example: dict[str, str], tmp_path: Path) -> None:
    from lxml import etree

    schema = jenkins_schema()
    doc = etree.fromstring(example["junit"].encode())
    assert schema.validate(doc), schema.error_log
    assert doc.get("skipped") is None
    for case in doc.iter("testcase"):
        package, _, cls = case.get("classname").rpartition(".")  # as Jenkins splits it
        assert package == "policy-gate" and cls and "." not in cls
    # The error verdict too.
    out = tmp_path / "junit.xml"
    res = run_gate(["evaluate", str(tmp_path / "missing.sarif"), *T, "--output", f"junit={out}"])
    assert res.exit_code == 3
    assert schema.validate(etree.parse(str(out))), schema.error_log


def test_the_old_junit_failed_the_jenkins_schema() -> None:
    """What the issue saw: `skipped` on <testsuites>. Kept as the proof that the schema catches it."""
    from lxml import etree

    old = b'<testsuites name="policy-gate" tests="1" failures="0" errors="0" skipped="1"><testsuite name="x" tests="1"/></testsuites>'
    assert not jenkins_schema().validate(etree.fromstring(old))


def test_jenkinsfile_runs_the_gate_and_records_junit() -> None:
    text = (REPO / "ci" / "jenkins" / "Jenkinsfile").read_text()
    assert text.lstrip().startswith("//") and "pipeline {" in text
    assert "gate run" in text and "junit=" in text and "junit testResults:" in text
    assert "CHANGE_TARGET" in text and "--policy-ref" in text
    assert text.count("{") == text.count("}")


# --- attestation ---------------------------------------------------------------------------------------


def vsa(out: dict[str, str]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(out["vsa"])
    return loaded


def test_vsa_subject_is_the_released_artifact(tmp_path: Path) -> None:
    digest = "ab" * 32
    code, out, _ = render_example(tmp_path, "--subject", f"registry.example/app@sha256:{digest}")
    st = vsa(out)
    assert st["subject"] == [{"name": "registry.example/app", "digest": {"sha256": digest}}]
    ext = next(v for k, v in st["predicate"].items() if k.startswith("https://"))
    assert ext["subjectKind"] == "artifacts"
    (tmp_path / "b").mkdir()
    code, out, _ = render_example(tmp_path / "b")
    ext = next(v for k, v in vsa(out)["predicate"].items() if k.startswith("https://"))
    assert ext["subjectKind"] == "scanner-reports"  # without --subject: the reports, flagged as such


def test_a_malformed_subject_is_a_usage_error(tmp_path: Path) -> None:
    res = run_gate(["evaluate", str(EXAMPLE / "reports"), "--subject", "app@sha256:xyz", *T])
    assert res.exit_code == 2 and "gate: error:" in res.stderr and "NAME@sha256:HEX" in res.stderr


@pytest.mark.slow
def test_vsa_reads_gitlab_and_jenkins_variables_not_github_com(tmp_path: Path) -> None:
    sha = "c" * 40
    env = {
        "CI_PROJECT_URL": "https://gitlab.example.org/group/app",
        "CI_COMMIT_SHA": sha,
        "CI_JOB_URL": "https://gitlab.example.org/group/app/-/jobs/42",
        "GITHUB_REPOSITORY": "",
        "GITHUB_RUN_ID": "",
    }
    _, out, _ = render_example(tmp_path, env=env)
    p = vsa(out)["predicate"]
    assert p["resourceUri"] == f"git+https://gitlab.example.org/group/app@{sha}"
    assert p["verifier"]["id"] == "https://gitlab.example.org/group/app/-/jobs/42"
    # Jenkins: a GIT_URL with credentials never reaches the attestation.
    env = {
        "GIT_URL": "https://user:token@git.example.org/app.git",
        "GIT_COMMIT": sha,
        "BUILD_URL": "https://ci.example.org/job/app/7/",
        "GITHUB_REPOSITORY": "",
        "GITHUB_RUN_ID": "",
        "CI_PROJECT_URL": "",
        "CI_JOB_URL": "",
    }
    (tmp_path / "j").mkdir()
    _, out, _ = render_example(tmp_path / "j", env=env)
    p = vsa(out)["predicate"]
    assert p["resourceUri"] == f"git+https://git.example.org/app.git@{sha}"
    assert "token" not in out["vsa"] and p["verifier"]["id"] == "https://ci.example.org/job/app/7/"


# --- report-only ------------------------------------------------------------------------------------------


def test_fail_on_never_exits_0_and_every_output_says_what_would_have_closed(tmp_path: Path) -> None:
    code, out, err = render_example(tmp_path, "--fail-on", "never")
    assert code == 0, err
    verdict = json.loads(out["json"])
    assert verdict["decision"] == "fail" and verdict["exit_code"] == 0
    assert verdict["report_only"] == {"would_exit_code": 10}
    note = "report-only: would have failed with exit 10"
    for name in ("console", "markdown", "github", "junit", "gitlab-codequality"):
        assert note in out[name], name
    assert stated(out)["gitlab-codequality"]["totals"] == stated(out)["json"]["totals"]  # the note is no result
    run = json.loads(out["sarif"])["runs"][0]
    assert any(note in n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"])
    ext = next(v for k, v in vsa(out)["predicate"].items() if k.startswith("https://"))
    assert ext["reportOnly"] == {"would_exit_code": 10} and vsa(out)["predicate"]["verificationResult"] == "FAILED"
    import jsonschema_rs

    jsonschema_rs.validate(json.loads((REPO / "gate" / "schemas" / "verdict.schema.json").read_text()), verdict)


@pytest.mark.slow
def test_fail_on_never_from_the_environment_and_errors_keep_their_codes(tmp_path: Path) -> None:
    res = run_gate(["evaluate", str(EXAMPLE / "reports"), "--stage", "prod", *T], env={"GATE_FAIL_ON": "never"})
    assert res.exit_code == 0 and "would have failed with exit 10" in res.stdout
    res = run_gate(["evaluate", str(tmp_path / "missing.sarif"), "--fail-on", "never", *T])
    assert res.exit_code == 3  # an input error never passes, report-only or not
    bad = tmp_path / "bad.sarif"
    bad.write_text("{not json")
    res = run_gate(["evaluate", str(bad), "--fail-on", "never", *T])
    assert res.exit_code == 3


# --- terminal ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [80, 200])
def test_the_table_fits_the_terminal(example: dict[str, str], width: int) -> None:
    verdict = json.loads(example["json"])
    formatter = ConsoleFormatter(OutputOptions(width=width))
    formatter.interactive = True
    text = strip_ansi(formatter.render(verdict, None))
    assert max(len(line) for line in text.splitlines()) <= width
    assert "rule" in text and "scanner" in text  # both severities, labelled


def test_no_color_and_quiet(example: dict[str, str]) -> None:
    verdict = json.loads(example["json"])
    colour = ConsoleFormatter(OutputOptions(width=120, color=True))
    colour.interactive = True
    assert "\x1b[" in colour.render(verdict, None)
    plain = ConsoleFormatter(OutputOptions(width=120, color=False))
    plain.interactive = True
    assert "\x1b[" not in plain.render(verdict, None)
    quiet = ConsoleFormatter(OutputOptions(quiet=True))
    assert quiet.render(verdict, None).splitlines() == [quiet.render(verdict, None).splitlines()[0]]
    assert quiet.render(verdict, None).startswith("gate CLOSED: ")


def test_no_color_from_the_environment_and_quiet_from_the_cli() -> None:
    res = run_gate(["evaluate", str(EXAMPLE / "reports"), "--stage", "prod", "--quiet", *T], env={"NO_COLOR": "1"})
    assert res.exit_code == 10
    assert res.stdout.splitlines() == [res.stdout.splitlines()[0]] and "violation(s)" in res.stdout
    assert "\x1b[" not in res.stdout


def test_multi_line_errors_keep_their_lines_under_one_prefix(tmp_path: Path) -> None:
    policy = tmp_path / "policy"
    shutil.copytree(DATA / "core" / "policy", policy)
    (policy / "broken.rego").write_text("package gate.broken\n\nimport rego.v1\n\ndeny contains x if {\n")
    res = run_gate(["evaluate", str(DATA / "core" / "high.sarif"), "--policy", str(policy), *T])
    assert res.exit_code == 4
    assert "\\n" not in res.stderr  # no literal backslash-n
    err_lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert err_lines[0].startswith("gate: error")
    assert all(not ln.startswith(("Error:", "gate: ERROR")) for ln in err_lines)


def test_usage_errors_use_the_same_prefix() -> None:
    res = run_gate(["evaluate", "--fail-on", "sometimes"])
    assert res.exit_code == 2
    assert "gate: error:" in res.stderr and "\nError:" not in "\n" + res.stderr


# --- pre-commit ------------------------------------------------------------------------------------------


def test_pre_commit_hook_parses_and_names_a_real_command() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert isinstance(hooks, list) and len(hooks) == 1
    hook = hooks[0]
    assert {"id", "name", "entry", "language"} <= set(hook)
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    program, command = hook["entry"].split()[:2]
    assert program == "gate"
    from click.testing import CliRunner

    from gate.cli import cli

    res = CliRunner().invoke(cli, [command, *hook["args"], "--help"])
    assert res.exit_code == 0, res.output
    # Every option the hook passes exists on that command.
    cmd = cli.get_command(None, command)  # type: ignore[arg-type]
    assert cmd is not None
    known = {o for p in cmd.params for o in getattr(p, "opts", [])}
    assert {a for a in hook["args"] if a.startswith("--")} <= known


def test_manifest_lines_in_requirements_and_pyproject(tmp_path: Path) -> None:
    """A dependency result is placed at the line that declares the package (PEP 503 names)."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "app"\ndependencies = [\n  "Flask[async]>=2.0",\n  "PyYAML==5.3",\n]\n\n'
        '[tool.poetry.dependencies]\npython = "^3.10"\nrequests = "^2.19"\n'
    )
    tree = SourceTree(str(tmp_path), str(tmp_path))
    assert tree.manifest_line("flask") == ("pyproject.toml", 4)
    assert tree.manifest_line("pyyaml") == ("pyproject.toml", 5)
    assert tree.manifest_line("requests") == ("pyproject.toml", 10)
    assert tree.manifest_line("python") is None and tree.manifest_line("app") is None
    (tmp_path / "requirements.txt").write_text("# pinned\nflask==0.12.2  # web\nzope.interface>=5\n")
    tree = SourceTree(str(tmp_path), str(tmp_path))
    assert tree.manifest_line("Flask") == ("requirements.txt", 2)  # requirements.txt comes first
    assert tree.manifest_line("zope-interface") == ("requirements.txt", 3)


# --- the fast line hash against a step-by-step port of the action's loop ---------------------------

MASK = (1 << 64) - 1
FIRST_MOD = pow(37, 100, 1 << 64)


def _code_units(text: str) -> Iterator[int]:
    """UTF-16 code units, as JavaScript's charCodeAt gives them."""
    for ch in text:
        cp = ord(ch)
        if cp > 0xFFFF:
            cp -= 0x10000
            yield 0xD800 + (cp >> 10)
            yield 0xDC00 + (cp & 0x3FF)
        else:
            yield cp


def reference_line_hashes(text: str) -> dict[int, str]:
    """A character-by-character port of codeql-action's `hash` (src/fingerprints.ts), to check the fast one."""
    window = [0] * 100
    line_numbers = [-1] * 100
    out: dict[int, str] = {}
    counts: dict[str, int] = {}
    state = {"hash": 0, "index": 0, "line": 0, "line_start": True, "prev_cr": False}

    def output() -> None:
        value = format(state["hash"], "x")
        counts[value] = counts.get(value, 0) + 1
        out[line_numbers[state["index"]]] = f"{value}:{counts[value]}"
        line_numbers[state["index"]] = -1

    def update(current: int) -> None:
        i = state["index"]
        begin = window[i]
        window[i] = current
        state["hash"] = (37 * state["hash"] + current - FIRST_MOD * begin) & MASK
        state["index"] = (i + 1) % 100

    def process(current: int) -> None:
        if current in (0x20, 0x09) or (state["prev_cr"] and current == 0x0A):
            state["prev_cr"] = False
            return
        if current == 0x0D:
            current = 0x0A
            state["prev_cr"] = True
        else:
            state["prev_cr"] = False
        if line_numbers[state["index"]] != -1:
            output()
        if state["line_start"]:
            state["line_start"] = False
            state["line"] += 1
            line_numbers[state["index"]] = state["line"]
        if current == 0x0A:
            state["line_start"] = True
        update(current)

    for unit in _code_units(text):
        process(unit)
    process(65535)
    for _ in range(100):
        if line_numbers[state["index"]] != -1:
            output()
        update(0)
    return out


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", " ", "\t", "\r", "\n", "\u00e9", "\U0001f600", "x" * 30]), max_size=200).map("".join))
def test_fast_line_hashes_equal_the_step_by_step_port(text: str) -> None:
    assert line_hashes(text) == reference_line_hashes(text)


def test_two_results_that_would_share_a_fingerprint_are_told_apart() -> None:
    """A rule citing the same finding in two violations (two messages) made two SARIF results with one fingerprint."""
    finding = {"f1": {"location": {"path": "a.py", "start_line": 3}, "severity": "high"}}
    entry = {"rule": "R1", "msg": "a.py:3 one", "severity": "high", "evidence": {"findings": ["f1"]}}
    verdict = {"violations": [entry, {**entry, "msg": "a.py:3 two"}], "warnings": [], "findings": finding}
    fps = unique_fingerprints(results(verdict))
    assert len(fps) == 2 and fps[1] == fps[0] + ":2"
    again = unique_fingerprints(results(verdict))
    assert again == fps  # deterministic


def test_fail_on_never_from_gate_toml(tmp_path: Path) -> None:
    config = tmp_path / "gate.toml"
    config.write_text('[gate]\nfail-on = "never"\nstage = "prod"\n')
    res = run_gate(["evaluate", str(EXAMPLE / "reports"), "--config", str(config), *T])
    assert res.exit_code == 0 and "report-only: would have failed with exit 10" in res.stdout
