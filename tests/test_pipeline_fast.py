"""The pipeline's shortcuts give what the plain definitions give.

`prepare` reads the duplicate keys off the readers' findings as it builds the records (reading
them back out of 10^5 records costs more than the linking), and orders the document's findings
report by report instead of sorting them all. Both are checked here against the definitions:
duplicates by brute force over every pair, order by a plain sort.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gate import pipeline
from gate.collect import collect
from gate.pipeline import Context, WeaknessFamilies, link_duplicates, prepare
from tests.bench_support import load_bench

CONTEXT = Context(stage="default", time="2026-11-26T12:00:00Z", gate_version="test")


def brute_force_duplicates(findings: list[dict[str, Any]], window: int, families: WeaknessFamilies | None = None) -> dict[str, list[str]]:
    """Every pair judged on its own, as `link_duplicates` defines a duplicate."""
    table = families or WeaknessFamilies()

    def code(f: dict[str, Any]) -> bool:
        loc = f["location"]
        return f["package"] is None and bool(loc and loc["path"] and loc["start_line"] is not None and f["cwe"])

    def pkg_key(f: dict[str, Any]) -> tuple[str, str] | None:
        p = f["package"]
        return (str(p["name"]).lower().replace("_", "-"), str(p["version"])) if p is not None and p["name"] else None

    out: dict[str, set[str]] = {f["id"]: set() for f in findings}
    for i, a in enumerate(findings):
        for b in findings[i + 1 :]:
            same = False
            if code(a) and code(b):
                la, lb = a["location"], b["location"]
                same = (
                    la["path"] == lb["path"]
                    and abs(la["start_line"] - lb["start_line"]) <= window
                    and a["tool"].lower() != b["tool"].lower()
                    and bool(table.of(a) & table.of(b))
                )
            elif pkg_key(a) is not None and pkg_key(a) == pkg_key(b):
                ids_a = {a["rule_id"], *a["cve"], *a["aliases"]}
                ids_b = {b["rule_id"], *b["cve"], *b["aliases"]}
                same = bool(ids_a & ids_b) and (a["tool"].lower() != b["tool"].lower() or a["source"]["path"] != b["source"]["path"])
            if same:
                out[a["id"]].add(b["id"])
                out[b["id"]].add(a["id"])
    return {k: sorted(v) for k, v in out.items()}


records = st.lists(
    st.fixed_dictionaries(
        {
            "tool": st.sampled_from(["bandit", "Bandit", "semgrep", "codeql"]),
            "rule_id": st.sampled_from(["R1", "CVE-1", "GHSA-x"]),
            "cwe": st.lists(st.sampled_from(["CWE-79", "CWE-89"]), max_size=2),
            "cve": st.lists(st.sampled_from(["CVE-1", "CVE-2"]), max_size=2),
            "aliases": st.lists(st.sampled_from(["GHSA-x", "PYSEC-1"]), max_size=1),
            "location": st.none()
            | st.fixed_dictionaries({"path": st.sampled_from(["a.py", "b.py", ""]), "start_line": st.none() | st.integers(1, 12)}),
            "package": st.none()
            | st.fixed_dictionaries({"name": st.sampled_from(["Req_x", "req-x", "other", None]), "version": st.sampled_from(["1", "2"])}),
            "source": st.fixed_dictionaries({"path": st.sampled_from(["r1.json", "r2.json"])}),
        }
    ),
    max_size=14,
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(found=records, window=st.integers(0, 3))
def test_linking_with_or_without_keys_is_the_pairwise_definition(found: list[dict[str, Any]], window: int) -> None:
    for n, f in enumerate(found):
        f["id"] = f"f{n:02d}"
        f["duplicates"] = []
    expected = brute_force_duplicates(found, window)
    without = copy.deepcopy(found)
    link_duplicates(without, window)
    with_keys = copy.deepcopy(found)
    link_duplicates(with_keys, window, [pipeline.duplicate_key(f) for f in found])
    assert {f["id"]: f["duplicates"] for f in without} == expected
    assert {f["id"]: f["duplicates"] for f in with_keys} == expected


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(found=records, window=st.integers(0, 3))
def test_linking_by_weakness_family_is_the_pairwise_definition(found: list[dict[str, Any]], window: int) -> None:
    """With a family table (CWE-79 and CWE-89 one family; codeql's R1 in another, whatever its
    CWE), linking is still the pairwise definition, families compared instead of CWEs."""
    table = WeaknessFamilies.from_data(
        {"dedupe": {"families": [{"name": "web", "cwe": ["CWE-79", "CWE-89"]}, {"name": "other", "cwe": [], "rules": ["codeql:R1"]}]}}
    )
    for n, f in enumerate(found):
        f["id"] = f"f{n:02d}"
        f["duplicates"] = []
    expected = brute_force_duplicates(found, window, table)
    link_duplicates(found, window, families=table)
    assert {f["id"]: f["duplicates"] for f in found} == expected


@settings(max_examples=200, deadline=None)
@given(
    runs=st.lists(st.tuples(st.sampled_from(["b.json", "a.json", "c.json"]), st.lists(st.integers(0, 30), max_size=6)), max_size=5),
)
def test_source_order_is_a_sort_by_source_and_index(runs: list[tuple[str, list[int]]]) -> None:
    indexes: list[int] = []
    sources: list[str] = []
    for source, idx in runs:
        indexes.extend(idx)
        sources.extend([source] * len(idx))
    records = [{"n": n} for n in range(len(indexes))]
    expected = sorted(records, key=lambda r: (sources[r["n"]], indexes[r["n"]]))
    assert pipeline._in_source_order(records, indexes, sources) == expected


@pytest.mark.slow
def test_prepare_matches_the_definitions_on_generated_reports(tmp_path: Path) -> None:
    generate = load_bench("generate")
    files = [str(p) for p in generate.generate_set(tmp_path / "1k", 600, 200, seed="pipeline")]
    reports = collect(list(reversed(files)))  # given out of order on purpose
    prepared = prepare(reports, context=CONTEXT, config_data={"test_paths": ["tests/**"]})
    findings = prepared.document["findings"]
    order = [(f["source"]["path"], f["source"]["index"]) for f in findings]
    assert order == sorted(order)
    linked = {f["id"]: f["duplicates"] for f in findings}
    assert any(linked.values()), "the generated reports hold cross-tool duplicates"
    assert linked == brute_force_duplicates(findings, 2)
    # test_paths are anchored at the project root: only the top-level tests/ folder is test code.
    assert all(f["test_code"] == f["location"]["path"].startswith("tests/") for f in findings if f["location"] and f["location"]["path"])
