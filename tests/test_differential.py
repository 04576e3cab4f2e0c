"""All engines give the same verdict: the embedded engine (regorus), `opa eval` and a real OPA
server (loaded with a bundle made by `gate policy bundle`) decide alike and list the same
violations and warnings, on every report of ../shared/corpus that evaluates and on generated
input documents, for the shipped pack and for a test policy that exercises many builtins.

Where regorus and OPA differ, the difference is pinned in KNOWN_DIVERGENCES with a minimal
reproduction, so a policy author can avoid it and a new engine version that changes it is noticed.
"""

from __future__ import annotations

import datetime as dt
import json
import string
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import POLICIES, corpus_params, require_shared, run_gate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opa_support import TEST_POLICY, opa_binary, opa_server

from gate.bundle import build_bundle, load_bundle
from gate.collect import collect
from gate.engine.embedded import EmbeddedEngine, build
from gate.engine.interface import Engine
from gate.engine.opa import OpaEngine
from gate.engine.opa_server import OpaServerEngine
from gate.errors import GateError, InputError
from gate.pipeline import Context, prepare
from gate.policy import PolicySet
from gate.runner import stage_profile
from gate.verdict import decide, parse_time

TIME = "2026-03-01T12:00:00Z"


@dataclass
class Pack:
    """A policy pack loaded from its bundle, the three engines, and the server running it."""

    name: str
    policy: PolicySet
    engines: dict[str, Engine]


@pytest.fixture(scope="module", params=["shipped", "opadiff"])
def pack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pack]:
    """One bundle and one real OPA server per pack, for the whole module."""
    opa_binary()
    work = tmp_path_factory.mktemp(f"diff-{request.param}")
    bundle = work / f"{request.param}.tar.gz"
    if request.param == "shipped":
        res = run_gate(["policy", "bundle", str(POLICIES), "-o", str(bundle)])
        assert res.exit_code == 0, res.stdout + res.stderr
    else:
        # The test policy's data is not the shipped pack's, so it is bundled by the library
        # function the command wraps (the command also checks data against the pack's schema).
        from gate.policy import load_policy

        build_bundle(load_policy(TEST_POLICY, include_tests=False), bundle)
    policy = load_bundle(bundle)
    with opa_server(bundle, work) as server:
        yield Pack(
            name=request.param,
            policy=policy,
            engines={"embedded": EmbeddedEngine(), "opa": OpaEngine(), "opa-server": OpaServerEngine(url=server.url)},
        )


def _outcome(engine: Engine, policy: PolicySet, document: dict[str, Any]) -> dict[str, Any]:
    """What the verdict says (decision, exit code, violations, warnings), or the error's exit code."""
    stage = document["context"]["stage"]
    fail_on = str(stage_profile(policy, stage).get("fail_on") or "deny")
    try:
        raw = engine.evaluate(policy, json.dumps(document, ensure_ascii=False), timeout=60)
        decided = decide(raw, policy, stage=stage, now=parse_time(document["context"]["time"]), fail_on=fail_on)
    except GateError as exc:
        return {"decision": "error", "exit_code": int(exc.exit_code), "kind": exc.kind}
    return {"decision": decided.decision, "exit_code": decided.exit_code, "violations": decided.violations, "warnings": decided.warnings}


def _assert_same(pack: Pack, document: dict[str, Any]) -> dict[str, Any]:
    outcomes = {name: _outcome(engine, pack.policy, document) for name, engine in pack.engines.items()}
    reference = outcomes["embedded"]
    for name in ("opa", "opa-server"):
        assert outcomes[name] == reference, _explain(name, outcomes[name], reference)
    return reference


def _explain(name: str, got: dict[str, Any], want: dict[str, Any]) -> str:
    lines = [f"{name} differs from embedded: decision {got['decision']} vs {want['decision']}"]
    for key in ("violations", "warnings"):
        a = {json.dumps(v, sort_keys=True, ensure_ascii=False) for v in got.get(key, [])}
        b = {json.dumps(v, sort_keys=True, ensure_ascii=False) for v in want.get(key, [])}
        lines += [f"  {key} only in {name}: {x[:400]}" for x in sorted(a - b)[:3]]
        lines += [f"  {key} only in embedded: {x[:400]}" for x in sorted(b - a)[:3]]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Every report of the corpus


@pytest.mark.slow
@pytest.mark.parametrize("report", corpus_params())
def test_corpus_report_same_verdict_on_every_engine(report: Path | None, pack: Pack) -> None:
    if report is None:
        require_shared()
        return
    try:
        reports = collect([str(report)])
        context = Context(stage="default", time=TIME, gate_version="differential")
        document = prepare(reports, context=context, config_data=pack.policy.data).document
    except InputError as exc:
        pytest.skip(f"an input error (exit 3), not evaluated: {exc.message[:120]}")
    outcome = _assert_same(pack, document)
    assert outcome["decision"] in ("pass", "fail"), outcome


@pytest.mark.slow
def test_corpus_differential_is_not_vacuous(pack: Pack) -> None:
    """The corpus gives the policies something to say: violations from several rules."""
    require_shared()
    rules: set[str] = set()
    for name in ("semgrep/dracon-semgrep-1.73.0-vulpy.json", "bandit/celery-bandit-2020.json"):
        reports = collect([str(Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / name)])
        document = prepare(reports, context=Context(stage="default", time=TIME, gate_version="t"), config_data=pack.policy.data).document
        outcome = _assert_same(pack, document)
        rules |= {v["rule"] for v in outcome["violations"] + outcome["warnings"]}
    assert len(rules) >= 2, rules


# --------------------------------------------------------------------------------------------
# Generated input documents

_ODD = "\u00a0\u2028\u0085\x0b\t\n é😀<>&\"\\%:;,|*`$'"
TEXT = st.text(alphabet=st.sampled_from(string.ascii_letters + string.digits + " ./-_()[]{}=#@" + _ODD), max_size=40)
SEVERITIES = ["critical", "high", "medium", "low", "info", "unknown"]
KINDS = ["sast", "dependency", "secret", "iac", "license", "other"]
TOOLS = ["bandit", "semgrep", "pip-audit", "CodeQL", "Trivy", "gitleaks", "Contrast Security", "eslint"]
LICENSES = [
    "MIT",
    "Apache-2.0",
    "GPL-3.0-only",
    "LGPL-2.1-or-later",
    "AGPL-3.0-only",
    "BSD-3-Clause",
    "MIT OR GPL-2.0-only",
    "NOASSERTION",
    "Custom-Thing",
    "MIT\u00a0OR\u00a0GPL-2.0-only",
    "(Apache-2.0 WITH\x0bLLVM-exception) AND\u2028BSD-3-Clause",
]
STATES = ["not_affected", "affected", "fixed", "under_investigation", "false_positive", "resolved"]


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """A gate.input/v1 document: findings, components and scans with awkward but valid values."""
    n = draw(st.integers(0, 7))
    ids = [f"{i:02x}" + draw(st.text("0123456789abcdef", min_size=14, max_size=14)) for i in range(n)]
    findings = []
    for i, fid in enumerate(ids):
        kind = draw(st.sampled_from(KINDS))
        tool = draw(st.sampled_from(TOOLS))
        path = draw(st.one_of(st.none(), st.sampled_from(["app/main.py", "tests/test_x.py", "src/é/ü.js", "Dockerfile", "a b/c.tf"])))
        line = draw(st.one_of(st.none(), st.integers(1, 5000)))
        package = None
        if kind == "dependency":
            name = draw(st.sampled_from(["requests", "Django", "py_yaml", "lodash", "@scope/pkg"]))
            version = draw(st.sampled_from(["1.0.0", "2.31.0", "0.9", "1.0.0-rc.1", "v3"]))
            package = {
                "name": name,
                "version": version,
                "purl": f"pkg:pypi/{name.lower()}@{version}",
                "fixed_versions": draw(st.lists(st.sampled_from(["1.0.1", "2.32.0", "3.0"]), max_size=2, unique=True)),
            }
        others = [d for d in ids if d != fid]
        findings.append(
            {
                "id": fid,
                "tool": tool,
                "tool_version": draw(st.one_of(st.none(), st.sampled_from(["1.7.5", "v8.0.0", "2.19.3"]))),
                "rule_id": draw(st.sampled_from(["B602", "python.lang.security.audit.x", "CVE-2024-1234", "js/xss", "generic-api-key"])),
                "rule_name": draw(st.one_of(st.none(), TEXT)),
                "kind": kind,
                "severity": draw(st.sampled_from(SEVERITIES)),
                "confidence": draw(st.sampled_from(["high", "medium", "low", "unknown"])),
                "message": draw(TEXT),
                "location": None if path is None and line is None else {"path": path, "start_line": line, "end_line": line},
                "cwe": draw(st.lists(st.sampled_from(["CWE-78", "CWE-89", "CWE-798", "CWE-1333", "CWE-79"]), max_size=2, unique=True)),
                "cve": draw(st.lists(st.sampled_from(["CVE-2024-1234", "CVE-2023-9999"]), max_size=1)),
                "aliases": draw(st.lists(st.sampled_from(["GHSA-xxxx-yyyy-zzzz", "PYSEC-2024-1"]), max_size=1)),
                "package": package,
                "suppressed": draw(st.booleans()),
                "duplicates": draw(st.lists(st.sampled_from(others), max_size=2, unique=True)) if others else [],
                "test_code": draw(st.booleans()),
                "baseline": draw(st.sampled_from(["new", "existing", "unknown"])),
                "source": {"path": f"reports/{tool}.json", "format": "sarif", "index": i},
                "waiver": draw(
                    st.one_of(
                        st.none(), st.just({"id": fid, "reason": "accepted", "approved_by": "sec", "expires": "2026-06-01", "ticket": None})
                    )
                ),
                "vex": draw(
                    st.one_of(
                        st.none(),
                        st.builds(
                            lambda s: {"state": s, "justification": None, "detail": None, "source": "vex.json"}, st.sampled_from(STATES)
                        ),
                    )
                ),
                "help_uri": draw(st.one_of(st.none(), st.just("https://example.invalid/rule"))),
            }
        )
    for f in findings:  # duplicate links are symmetric, as the pipeline makes them
        for d in f["duplicates"]:
            other = next(g for g in findings if g["id"] == d)
            if f["id"] not in other["duplicates"]:
                other["duplicates"].append(f["id"])
    components = [
        {
            "name": name,
            "version": draw(st.one_of(st.none(), st.sampled_from(["1.0", "2.0.1"]))),
            "purl": draw(st.one_of(st.none(), st.just(f"pkg:pypi/{name}@1.0"))),
            "type": draw(st.sampled_from(["library", "application", None])),
            "licenses": draw(st.lists(st.sampled_from(LICENSES), max_size=2, unique=True)),
            "scope": draw(st.sampled_from(["required", "optional", None])),
            "direct": draw(st.one_of(st.none(), st.booleans())),
            "hashes": {},
            "source": {"path": "sbom.json", "format": "cyclonedx"},
        }
        for name in draw(st.lists(st.sampled_from(["requests", "urllib3", "gplthing", "left-pad", "numpy"]), max_size=4, unique=True))
    ]
    scans = [
        {
            "path": f"reports/{tool}.json",
            "sha256": "0" * 64,
            "format": "sarif",
            "tool": tool,
            "tool_version": "1",
            "complete": draw(st.booleans()),
            "errors": draw(st.lists(TEXT, max_size=2)),
            "findings": 0,
            "components": 0,
        }
        for tool in sorted({f["tool"] for f in findings} | set(draw(st.lists(st.sampled_from(TOOLS), max_size=2))))
    ]
    day = draw(st.integers(0, 400))
    when = (dt.datetime(2025, 12, 1, 8, 30, tzinfo=dt.timezone.utc) + dt.timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "schema": "gate.input/v1",
        "context": {
            "stage": draw(st.sampled_from(["default", "dev", "staging", "prod"])),
            "repository": "o/r",
            "ref": None,
            "commit": None,
            "pull_request": None,
            "time": when,
            "gate_version": "differential",
        },
        "findings": findings,
        "components": components,
        "scans": scans,
        "waivers": [],
    }


def _input_schema() -> Any:
    import jsonschema_rs

    from gate.documents.schema import load_schema

    return jsonschema_rs.Draft202012Validator(load_schema("input"))


INPUT_SCHEMA = _input_schema()


@pytest.mark.slow
@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=documents())
def test_generated_inputs_same_verdict_on_every_engine(pack: Pack, document: dict[str, Any]) -> None:
    errors = sorted(INPUT_SCHEMA.iter_errors(document), key=str)
    assert not errors, f"the generator made an invalid input document: {errors[0]}"
    stages = pack.policy.data.get("stages") or {}
    if document["context"]["stage"] not in stages:
        document["context"]["stage"] = "default"
    _assert_same(pack, document)


# --------------------------------------------------------------------------------------------
# Known divergences between regorus (gordon-to-regorus 0.13.0) and OPA 1.22.3


ERROR = "error"

KNOWN_DIVERGENCES: list[tuple[str, str, Any, Any]] = [
    # (what, Rego expression bound to x, regorus's value, OPA's value)
    ("\\s is Unicode-aware in regorus, ASCII in Go (use [\\t\\n\\f\\r ])", 'regex.replace("a\\u00a0b", `\\s+`, " ")', "a b", "a\u00a0b"),
    ("\\d is Unicode-aware in regorus, ASCII in Go (use [0-9])", 'regex.match(`^\\d+$`, "\\u0661\\u0662")', True, False),
    ("upper uses full case mapping in regorus", 'upper("stra\\u00dfe")', "STRASSE", "STRA\u00dfE"),
    ("lower uses full case mapping in regorus", 'lower("\\u0130")', "i\u0307", "i"),
    ("OPA computes decimals exactly; regorus in binary floating point", 'sprintf("%v", [0.1 + 0.2])', "0.30000000000000004", "0.3"),
    ("decimal sums compare differently", "sum([0.1, 0.2]) == 0.3", False, True),
    ("%d of a float", 'sprintf("%d", [3.0])', "3", "%!d(float64=3)"),
    ("width in sprintf verbs is ignored by regorus", 'sprintf("%5s|", ["a"])', "a|", "    a|"),
    ("%v of a small float", 'sprintf("%v", [1e-7])', "0.0000001", "1e-07"),
    ("json.marshal escapes <, >, & in OPA only", 'json.marshal({"a": "<&>"})', '{"a":"<&>"}', '{"a":"\\u003c\\u0026\\u003e"}'),
    (
        "time.add_date clamps the day in regorus, normalises it in Go",
        'time.add_date(time.parse_rfc3339_ns("2026-01-31T00:00:00Z"), 0, 1, 0)',
        1772236800000000000,
        1772496000000000000,
    ),
    ("semver accepts a leading v in OPA only", 'semver.is_valid("v1.2.3")', False, True),
    ("a missing sprintf argument is an error in regorus only", 'sprintf("%v %v", ["a"])', ERROR, "a %!v(MISSING)"),
    (
        "crypto.* builtins are absent from regorus",
        'crypto.sha256("abc")',
        ERROR,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    ),
    ("a local variable named like a rule of the package is refused by regorus", "[y | some y in [1, 2]; y > 1]\n\ny := 2", ERROR, [2]),
]


def _regorus_value(module: str) -> Any:
    try:
        engine = build([("p.rego", module)], "{}", "{}")
        result = json.loads(str(engine.eval_query_as_json("data.p.x")))
    except (GateError, RuntimeError):  # compile errors come as PolicyError, evaluation errors as RuntimeError
        return ERROR
    return result["result"][0]["expressions"][0]["value"] if result.get("result") else "undefined"


def _opa_value(module: str, tmp_path: Path) -> Any:
    (tmp_path / "p.rego").write_text(module, encoding="utf-8")
    done = subprocess.run(
        [opa_binary(), "eval", "--format=json", "--strict-builtin-errors", "-d", str(tmp_path / "p.rego"), "data.p.x"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    doc = json.loads(done.stdout)
    if doc.get("errors"):
        return ERROR
    return doc["result"][0]["expressions"][0]["value"] if doc.get("result") else "undefined"


@pytest.mark.slow
@pytest.mark.parametrize(("what", "expr", "regorus_value", "opa_value"), KNOWN_DIVERGENCES, ids=[d[0][:60] for d in KNOWN_DIVERGENCES])
def test_known_divergence_is_as_documented(what: str, expr: str, regorus_value: Any, opa_value: Any, tmp_path: Path) -> None:
    module = f"package p\n\nimport rego.v1\n\nx := {expr}\n"
    assert _regorus_value(module) == regorus_value, f"regorus changed: {what}"
    assert _opa_value(module, tmp_path) == opa_value, f"OPA changed: {what}"


def test_shipped_pack_avoids_the_known_divergences() -> None:
    """The constructs above do not appear in the shipped pack (a cheap lint; the differential
    tests are the real proof)."""
    risky = {
        r"`[^`]*\\[sdwb][^`]*`": "\\s, \\d, \\w or \\b in a regex",
        r"\b(upper|lower)\(": None,  # allowed: the pack lowercases ASCII identifiers
        r"\btime\.add_date\(": "time.add_date",
        r"\bsemver\.": "semver.*",
        r"\bcrypto\.": "crypto.*",
        r"\bjson\.marshal\(": "json.marshal",
        r'sprintf\("[^"]*%[0-9.]+[a-z]': "a width or precision in sprintf",
    }
    import re

    found = []
    for path in sorted(POLICIES.rglob("*.rego")):
        if path.name.endswith("_test.rego"):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0] if not line.lstrip().startswith("#") else ""
            for pattern, label in risky.items():
                if label and re.search(pattern, code):
                    found.append(f"{path.relative_to(POLICIES)}:{n}: {label}")
    assert not found, "constructs where regorus and OPA differ:\n" + "\n".join(found)
