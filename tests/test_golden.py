"""Golden files: every output format of the shipped example, byte for byte.

`gate evaluate examples/reports --stage prod` (the README's quick start) with a fixed `--time`,
`--no-timing` and the example vulnerability database (built once, as the quick start does, with
`gate vulndb update --source examples/vulndb`), from the repository root. Each format is
first validated against its official schema where one exists (SARIF 2.1.0 from ../shared/schemas,
JUnit against Jenkins' XSD in tests/schemas, the verdict and the input document against
gate/schemas), then compared with `tests/golden/`. The absolute path of the checkout (SARIF's
`originalUriBaseIds`) is written there as `@REPO@`, the database's folder as `@VULNDB@` and the
time it was built as `@FETCHED@`.

A change that alters an output on purpose regenerates them with one variable:

    GATE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py

and the diff of tests/golden/ is then reviewed like code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from gate.cli.evaluate import CI_VARIABLES
from tests.conftest import REPO, run_gate
from tests.test_outputs import markdown_tokens, validate_sarif
from tests.workflow_commands import commands

GOLDEN = Path(__file__).parent / "golden"
JENKINS_XSD = Path(__file__).parent / "schemas" / "jenkins-junit-10.xsd"
UPDATE = os.environ.get("GATE_UPDATE_GOLDEN") == "1"
ARGS = [
    "evaluate",
    "examples/reports",
    "--stage",
    "prod",
    "--policy",
    "policies",
    "--time",
    "2026-12-06T00:00:00Z",
    "--no-timing",
]
# Format name -> golden file suffix.
SUFFIX = {
    "console": "console.txt",
    "json": "verdict.json",
    "sarif": "sarif",
    "junit": "junit.xml",
    "markdown": "md",
    "github": "github.txt",
    "vsa": "vsa.json",
    "gitlab-codequality": "codequality.json",
    "input": "input.json",
}
# The surroundings a formatter is given must not come from the machine running the test.
CLEAN_ENV: dict[str, str | None] = {
    **dict.fromkeys(CI_VARIABLES),
    **{k: None for k in os.environ if k.startswith("GATE_") and k != "GATE_UPDATE_GOLDEN"},
    "NO_COLOR": "1",
    "COLUMNS": "100",
}


def render(folder: Path, db: Path) -> dict[str, bytes]:
    """One run of the example, every format written to a file; the bytes by format name."""
    from gate.output.registry import FORMATS

    assert set(FORMATS) == set(SUFFIX), "a new format needs a golden file: add it to SUFFIX"
    args = [*ARGS, "--vuln-db", str(db)]
    for name in FORMATS:
        args += ["--output", f"{name}={folder / name}"]
    res = run_gate(args, env=CLEAN_ENV, cwd=REPO)
    assert res.exit_code == 10, res.stderr
    return {name: (folder / name).read_bytes() for name in FORMATS}


@pytest.fixture(scope="module")
def vulndb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's vulnerability database, built from the OSV extract shipped in examples/."""
    db = tmp_path_factory.mktemp("vulndb") / "db"
    res = run_gate(["vulndb", "update", "--source", "examples/vulndb", "--db", str(db)], env=CLEAN_ENV, cwd=REPO)
    assert res.exit_code == 0, res.stderr
    return db


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, vulndb: Path) -> tuple[dict[str, bytes], dict[str, bytes]]:
    return render(tmp_path_factory.mktemp("first"), vulndb), render(tmp_path_factory.mktemp("second"), vulndb)


def test_two_runs_give_the_same_bytes_in_every_format(runs: tuple[dict[str, bytes], dict[str, bytes]]) -> None:
    """With `--time` and `--no-timing`, nothing of the run (durations, order, the clock) reaches an output."""
    first, second = runs
    differ = [name for name in first if first[name] != second[name]]
    assert not differ, f"these formats differ between two identical runs: {differ}"


def test_timing_is_kept_unless_asked(tmp_path: Path, vulndb: Path) -> None:
    """Without `--no-timing` the verdict still records where the time went (the flag only removes it)."""
    args = [a for a in ARGS if a != "--no-timing"] + ["--vuln-db", str(vulndb), "--output", f"json={tmp_path / 'v.json'}"]
    res = run_gate(args, env=CLEAN_ENV, cwd=REPO)
    assert res.exit_code == 10, res.stderr
    timing = json.loads((tmp_path / "v.json").read_text(encoding="utf-8"))["timing"]
    assert {"policy_load", "read", "prepare", "evaluate", "total"} <= set(timing)


def validate(name: str, text: str) -> None:
    """The format's official schema, or its medium's own parser where none exists."""
    if name == "sarif":
        validate_sarif(json.loads(text))
    elif name in ("json", "input"):
        schema_name = "verdict.schema.json" if name == "json" else "input.schema.json"
        schema = json.loads((REPO / "gate" / "schemas" / schema_name).read_text(encoding="utf-8"))
        jsonschema_rs.validator_for(schema, validate_formats=True).validate(json.loads(text))
    elif name == "junit":
        from lxml import etree

        xsd = etree.XMLSchema(etree.parse(str(JENKINS_XSD)))
        doc = etree.fromstring(text.encode("utf-8"))
        assert xsd.validate(doc), xsd.error_log
    elif name == "vsa":
        # in-toto Statement v1 (no JSON Schema is published): its required fields.
        statement: dict[str, Any] = json.loads(text)
        assert statement["_type"] == "https://in-toto.io/Statement/v1"
        assert statement["predicateType"].startswith("https://slsa.dev/verification_summary/")
        assert statement["subject"] and all(s["digest"] for s in statement["subject"])
    elif name == "gitlab-codequality":
        # GitLab's Code Quality report (no JSON Schema is published): the fields GitLab reads.
        for issue in json.loads(text):
            assert {"description", "check_name", "fingerprint", "severity", "location"} <= set(issue)
            assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
            assert issue["location"]["path"] and issue["location"]["lines"]["begin"] >= 1
    elif name == "markdown":
        assert any(t.type == "table_open" for t in markdown_tokens(text))
    elif name == "github":
        assert commands(text), "no workflow command"
    else:
        assert name == "console" and "\x1b" not in text, "NO_COLOR output holds escape codes"


@pytest.mark.parametrize("name", list(SUFFIX))
def test_golden_file(name: str, runs: tuple[dict[str, bytes], dict[str, bytes]], vulndb: Path) -> None:
    """The format is valid for its schema, then equal to its golden file (GATE_UPDATE_GOLDEN=1 rewrites it)."""
    text = runs[0][name].decode("utf-8")
    validate(name, text)
    fetched = json.loads((vulndb / "manifest.json").read_text(encoding="utf-8"))["fetched"]
    text = text.replace(str(vulndb), "@VULNDB@").replace(fetched, "@FETCHED@")
    text = text.replace(REPO.as_uri(), "file://@REPO@").replace(str(REPO), "@REPO@")
    path = GOLDEN / f"example-prod.{SUFFIX[name]}"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(text.encode("utf-8"))
        return
    assert path.is_file(), f"{path} is missing: GATE_UPDATE_GOLDEN=1 pytest tests/test_golden.py writes it"
    expected = path.read_bytes().decode("utf-8")
    assert text == expected, f"{name} differs from {path.name}; if on purpose, regenerate: GATE_UPDATE_GOLDEN=1 pytest {__file__}"
