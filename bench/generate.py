"""Generate realistic scanner reports and SBOMs for the performance benchmark.

    python bench/generate.py [--out DIR] [--sizes 1k,10k,100k] [--shapes base,heavy] [--seed N]

For each size N (findings in all) it writes, under `DIR/<size>/`:

- `codeql.sarif`: 40 % of N, a CodeQL-style SARIF 2.1.0 log: ~200 rules carrying
  `security-severity`, CWE tags and help text, results spread over N/25 files with regions,
  `partialFingerprints`, `ruleIndex`, artifact indexes and the occasional `codeFlows`;
- `bandit.json`: 25 % of N, bandit 1.9 JSON (`code` snippets, `issue_cwe`, metrics per file);
- `semgrep.json`: 25 % of N, semgrep 1.x JSON (`extra.metadata.cwe`, `lines`, `fingerprint`);
  a tenth of its results sit a line from a bandit result of the same CWE, as the two tools do
  on real code, so the gate's cross-tool duplicate links are exercised;
- `sbom.cdx.json`: a CycloneDX 1.6 SBOM of 500 (1k), 1,600 (10k) or 5,000 (100k) components
  (purls, hashes, licences by id or expression, a dependency graph) whose `vulnerabilities`
  (ratings, CWEs, advisories, fixed versions in `recommendation`) give the last 10 % of N.

The violation-heavy shape (`heavy`, issue 20) writes `DIR/heavy-<size>/`: N SARIF results in
four CodeQL-style logs (`codeql-{1..4}.sarif`, one per language pack, 250 rules each, over N/20
files) whose rules' `security-severity` is drawn so that about 31 % of the results become
violations and 32 % warnings under the shipped pack (the rest low or note), and a CycloneDX SBOM
of 500 / 1,600 / 5,000 components with a few vulnerabilities (1 % of N).

Every file is deterministic for a seed. `--small` writes `small/bandit.json`: one report of ten
findings, the start-up case. Shapes follow the real reports in the shared corpus and tests/data;
paths under `tests/` are sprinkled in, as real projects have them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import tempfile
from pathlib import Path
from typing import Any

SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000}
SHAPES = ("base", "heavy")
COMPONENTS = {"1k": 500, "10k": 1_600, "100k": 5_000}
DEFAULT_OUT = Path(tempfile.gettempdir()) / "gate-bench"

CWES = [78, 79, 89, 22, 94, 502, 327, 328, 798, 295, 611, 918, 352, 400, 20, 200, 377, 703, 259, 330]
WORDS = (
    "user input request query param value data path file name token session cookie header body "
    "payload template render command shell process socket buffer config secret password key cache"
).split()
LICENSES = ["MIT", "Apache-2.0", "BSD-3-Clause", "BSD-2-Clause", "ISC", "MPL-2.0", "LGPL-3.0-only", "GPL-3.0-only", "PSF-2.0"]
BANDIT_TESTS = [
    ("B101", "assert_used", 703, "LOW", "Use of assert detected. The enclosed code will be removed when compiling to optimised byte code."),
    ("B105", "hardcoded_password_string", 259, "LOW", "Possible hardcoded password: '{w}'"),
    ("B108", "hardcoded_tmp_directory", 377, "MEDIUM", "Probable insecure usage of temp file/directory."),
    ("B301", "blacklist", 502, "MEDIUM", "Pickle and modules that wrap it can be unsafe when used to deserialize untrusted data."),
    ("B303", "blacklist", 327, "MEDIUM", "Use of insecure MD2, MD4, MD5, or SHA1 hash function."),
    ("B311", "blacklist", 330, "LOW", "Standard pseudo-random generators are not suitable for security/cryptographic purposes."),
    ("B404", "blacklist", 78, "LOW", "Consider possible security implications associated with the subprocess module."),
    ("B501", "request_with_no_cert_validation", 295, "HIGH", "Call to requests with verify=False disabling SSL certificate checks."),
    ("B602", "subprocess_popen_with_shell_equals_true", 78, "HIGH", "subprocess call with shell=True identified, security issue."),
    ("B608", "hardcoded_sql_expressions", 89, "MEDIUM", "Possible SQL injection vector through string-based query construction."),
]
SEMGREP_RULES = [
    ("python.lang.security.audit.subprocess-shell-true.subprocess-shell-true", 78, "ERROR"),
    ("python.django.security.injection.sql.sql-injection-using-raw", 89, "ERROR"),
    ("python.flask.security.xss.audit.direct-use-of-jinja2", 79, "WARNING"),
    ("python.lang.security.deserialization.pickle.avoid-pickle", 502, "WARNING"),
    ("python.lang.security.insecure-hash-algorithms.insecure-hash-algorithm-md5", 327, "WARNING"),
    ("python.requests.security.disabled-cert-validation.disabled-cert-validation", 295, "ERROR"),
    ("python.lang.security.audit.formatted-sql-query.formatted-sql-query", 89, "WARNING"),
    ("python.lang.security.audit.eval-detected.eval-detected", 94, "WARNING"),
    ("python.lang.security.audit.logging.logger-credential-leak", 532, "INFO"),
    ("python.flask.security.audit.debug-enabled.debug-enabled", 489, "WARNING"),
]


def _files(rng: random.Random, n: int) -> list[str]:
    dirs = [
        "src/app",
        "src/app/api",
        "src/app/models",
        "src/app/views",
        "src/lib",
        "src/lib/util",
        "services/worker",
        "tests",
        "tests/unit",
    ]
    out = []
    for i in range(n):
        d = dirs[rng.randrange(len(dirs))]
        stem = "_".join(rng.sample(WORDS, 2))
        out.append(f"{d}/{'test_' if d.startswith('tests') else ''}{stem}_{i}.py")
    return out


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def _snippet(rng: random.Random, line: int) -> str:
    return "".join(f"{line + k} {rng.choice(WORDS)} = {rng.choice(WORDS)}({rng.choice(WORDS)})\n" for k in (-1, 0, 1))


# --------------------------------------------------------------------------------------------


def _heavy_score(rng: random.Random) -> float:
    """A `security-severity` for the violation-heavy shape: 49 % high or critical (about a third
    of those are in test code or linked duplicates and only warn), 14 % medium, the rest low."""
    band = rng.random()
    if band < 0.49:
        return round(rng.uniform(7.0, 10.0), 1)
    if band < 0.63:
        return round(rng.uniform(4.0, 6.9), 1)
    return round(rng.uniform(0.5, 3.9), 1)


def sarif(
    rng: random.Random, count: int, files: list[str], *, rule_count: int = 200, heavy: bool = False, prefix: str = "py"
) -> dict[str, Any]:
    """A CodeQL-style SARIF log with many rules, `count` results over `files`."""
    rules = []
    for i in range(rule_count):
        cwe = CWES[i % len(CWES)]
        score = _heavy_score(rng) if heavy else round(rng.uniform(1.0, 10.0), 1)
        rid = f"{prefix}/{rng.choice(WORDS)}-{rng.choice(WORDS)}-{i}"
        rules.append(
            {
                "id": rid,
                "name": rid,
                "shortDescription": {"text": _sentence(rng, 5).capitalize()},
                "fullDescription": {"text": _sentence(rng, 18).capitalize() + "."},
                "defaultConfiguration": {"enabled": True, "level": rng.choice(["error", "warning", "note"])},
                "help": {
                    "text": "# " + _sentence(rng, 4) + "\n" + _sentence(rng, 60),
                    "markdown": "# " + _sentence(rng, 4) + "\n\n" + _sentence(rng, 60),
                },
                "properties": {
                    "tags": ["security", f"external/cwe/cwe-{cwe:03d}", "correctness"][: rng.randint(2, 3)],
                    "kind": "path-problem" if i % 3 == 0 else "problem",
                    "precision": rng.choice(["high", "medium", "very-high", "low"]),
                    "security-severity": str(score),
                    "problem.severity": "error",
                },
            }
        )
    artifacts = [{"location": {"uri": f, "uriBaseId": "%SRCROOT%", "index": i}} for i, f in enumerate(files)]
    results = []
    for j in range(count):
        ri = rng.randrange(len(rules))
        fi = rng.randrange(len(files))
        line = rng.randint(1, 2000)
        result: dict[str, Any] = {
            "ruleId": rules[ri]["id"],
            "ruleIndex": ri,
            "rule": {"id": rules[ri]["id"], "index": ri},
            "message": {
                "text": f"This {rng.choice(WORDS)} depends on a [user-provided value](1) that reaches {rng.choice(WORDS)} {j % 97}."
            },
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": files[fi], "uriBaseId": "%SRCROOT%", "index": fi},
                        "region": {"startLine": line, "startColumn": rng.randint(1, 40), "endColumn": rng.randint(41, 120)},
                    }
                }
            ],
            "partialFingerprints": {
                "primaryLocationLineHash": f"{rng.getrandbits(64):016x}:1",
                "primaryLocationStartColumnFingerprint": "4",
            },
        }
        if j % 10 == 0:
            result["relatedLocations"] = [
                {
                    "id": 1,
                    "physicalLocation": {
                        "artifactLocation": {"uri": files[fi], "index": fi},
                        "region": {"startLine": max(1, line - 7), "startColumn": 5, "endColumn": 30},
                    },
                    "message": {"text": "user-provided value"},
                }
            ]
            result["codeFlows"] = [
                {
                    "threadFlows": [
                        {
                            "locations": [
                                {
                                    "location": {
                                        "physicalLocation": {
                                            "artifactLocation": {"uri": files[fi], "index": fi},
                                            "region": {"startLine": max(1, line - k)},
                                        },
                                        "message": {"text": rng.choice(WORDS)},
                                    }
                                }
                                for k in (7, 3, 0)
                            ]
                        }
                    ]
                }
            ]
        results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {"name": "CodeQL", "organization": "GitHub", "semanticVersion": "2.20.4", "version": "2.20.4", "rules": rules}
                },
                "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": []}],
                "artifacts": artifacts,
                "results": results,
                "columnKind": "unicodeCodePoints",
                "properties": {"semmle.formatSpecifier": "sarifv2.1.0"},
            }
        ],
    }


def bandit(rng: random.Random, count: int, files: list[str]) -> tuple[dict[str, Any], list[tuple[str, int, int]]]:
    """bandit JSON with `count` results; also (file, line, cwe) of each, for semgrep's near-duplicates."""
    results: list[dict[str, Any]] = []
    spots = []
    for _ in range(count):
        test_id, test_name, cwe, sev, text = BANDIT_TESTS[rng.randrange(len(BANDIT_TESTS))]
        f = files[rng.randrange(len(files))]
        line = rng.randint(2, 1500)
        spots.append((f, line, cwe))
        results.append(
            {
                "code": _snippet(rng, line),
                "col_offset": rng.randint(0, 12),
                "end_col_offset": rng.randint(13, 80),
                "filename": f"./{f}",
                "issue_confidence": rng.choice(["HIGH", "MEDIUM", "LOW"]),
                "issue_cwe": {"id": cwe, "link": f"https://cwe.mitre.org/data/definitions/{cwe}.html"},
                "issue_severity": sev,
                "issue_text": text.format(w=rng.choice(WORDS)),
                "line_number": line,
                "line_range": [line],
                "more_info": f"https://bandit.readthedocs.io/en/1.9.4/plugins/{test_id.lower()}_{test_name}.html",
                "test_id": test_id,
                "test_name": test_name,
            }
        )
    per_file: dict[str, dict[str, float]] = {}
    for r in results:
        m = per_file.setdefault(
            r["filename"],
            {
                k: 0
                for k in (
                    "CONFIDENCE.HIGH",
                    "CONFIDENCE.LOW",
                    "CONFIDENCE.MEDIUM",
                    "CONFIDENCE.UNDEFINED",
                    "SEVERITY.HIGH",
                    "SEVERITY.LOW",
                    "SEVERITY.MEDIUM",
                    "SEVERITY.UNDEFINED",
                )
            },
        )
        m["CONFIDENCE." + r["issue_confidence"]] += 1
        m["SEVERITY." + r["issue_severity"]] += 1
    metrics: dict[str, Any] = {f: {**m, "loc": 1500, "nosec": 0, "skipped_tests": 0} for f, m in sorted(per_file.items())}
    totals: dict[str, Any] = {"loc": 1500 * len(per_file), "nosec": 0, "skipped_tests": 0}
    for m in per_file.values():
        for k, v in m.items():
            totals[k] = totals.get(k, 0) + v
    metrics["_totals"] = totals
    return {"errors": [], "generated_at": "2026-05-01T10:00:00Z", "metrics": metrics, "results": results}, spots


def semgrep(rng: random.Random, count: int, files: list[str], spots: list[tuple[str, int, int]]) -> dict[str, Any]:
    """semgrep JSON with `count` results; every tenth a line from a bandit result of the same CWE."""
    by_cwe: dict[int, list[tuple[str, int]]] = {}
    for f, line, cwe in spots:
        by_cwe.setdefault(cwe, []).append((f, line))
    results = []
    for j in range(count):
        rule, cwe, sev = SEMGREP_RULES[rng.randrange(len(SEMGREP_RULES))]
        if j % 10 == 0 and by_cwe.get(cwe):
            f, line = rng.choice(by_cwe[cwe])
            line += rng.choice((-1, 0, 1, 2))
        else:
            f, line = files[rng.randrange(len(files))], rng.randint(1, 1500)
        col = rng.randint(1, 20)
        results.append(
            {
                "check_id": rule,
                "path": f,
                "start": {"line": line, "col": col, "offset": line * 40 + col},
                "end": {"line": line + rng.choice((0, 0, 1)), "col": col + 30, "offset": line * 40 + col + 30},
                "extra": {
                    "message": f"Detected {rng.choice(WORDS)} flowing into {rng.choice(WORDS)}: {_sentence(rng, 10)}.",
                    "metadata": {
                        "category": "security",
                        "subcategory": ["vuln"],
                        "confidence": rng.choice(["HIGH", "MEDIUM", "LOW"]),
                        "likelihood": "MEDIUM",
                        "impact": "HIGH",
                        "cwe": [f"CWE-{cwe}: {_sentence(rng, 6).title()}"],
                        "owasp": ["A03:2021 - Injection"],
                        "references": [f"https://owasp.org/Top10/A03_2021-Injection/#{j % 7}"],
                        "source": f"https://semgrep.dev/r/{rule}",
                    },
                    "severity": sev,
                    "fingerprint": hashlib.sha256(f"{rule}{f}{j}".encode()).hexdigest() + "_0",
                    "lines": f"    {rng.choice(WORDS)} = {rng.choice(WORDS)}({rng.choice(WORDS)}, shell=True)",
                    "validation_state": "NO_VALIDATOR",
                    "engine_kind": "OSS",
                },
            }
        )
    return {
        "version": "1.185.0",
        "results": results,
        "errors": [],
        "paths": {"scanned": sorted(set(files))},
        "engine_requested": "OSS",
        "skipped_rules": [],
        "interfile_languages_used": [],
    }


def cyclonedx(rng: random.Random, components: int, vuln_findings: int) -> dict[str, Any]:
    """A CycloneDX 1.6 SBOM: `components` packages, vulnerabilities affecting `vuln_findings` of them in all."""
    comps: list[dict[str, Any]] = []
    for i in range(components):
        name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{i}"
        version = f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}"
        purl = f"pkg:pypi/{name}@{version}"
        lic = rng.choice(LICENSES)
        comps.append(
            {
                "type": "library",
                "bom-ref": purl,
                "name": name,
                "version": version,
                "scope": "required" if i % 9 else "optional",
                "hashes": [{"alg": "SHA-256", "content": hashlib.sha256(purl.encode()).hexdigest()}],
                "licenses": [{"expression": f"{lic} OR MIT"}] if i % 13 == 0 else [{"license": {"id": lic}}],
                "purl": purl,
                "externalReferences": [{"type": "distribution", "url": f"https://files.example.org/{name}-{version}.tar.gz"}],
            }
        )
    deps: list[dict[str, Any]] = [{"ref": "app", "dependsOn": [c["bom-ref"] for c in comps[: min(40, len(comps))]]}]
    for i, c in enumerate(comps):
        kids = [comps[k]["bom-ref"] for k in range(i + 1, min(i + 4, len(comps)))] if i % 2 == 0 else []
        deps.append({"ref": c["bom-ref"], "dependsOn": kids})
    vulns = []
    made = 0
    n = 0
    while made < vuln_findings:
        affects = rng.sample(range(components), k=min(components, 1 if n % 4 else 3, vuln_findings - made))
        made += len(affects)
        score = round(rng.uniform(2.0, 9.9), 1)
        year = 2018 + n % 8
        vulns.append(
            {
                "bom-ref": f"vuln-{n}",
                "id": f"CVE-{year}-{10000 + n}",
                "source": {"name": "NVD", "url": f"https://nvd.nist.gov/vuln/detail/CVE-{year}-{10000 + n}"},
                "references": [{"id": f"GHSA-{n % 10}{'abcd'[n % 4]}x{n % 7}-q{n % 5}r{n % 3}-mm{n % 9}w", "source": {"name": "GitHub"}}],
                "ratings": [
                    {
                        "source": {"name": "NVD"},
                        "score": score,
                        "severity": "critical" if score >= 9 else "high" if score >= 7 else "medium" if score >= 4 else "low",
                        "method": "CVSSv31",
                        "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                    }
                ],
                "cwes": [CWES[n % len(CWES)]],
                "description": _sentence(rng, 25).capitalize() + ".",
                "recommendation": f"Upgrade to {rng.randint(1, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 20)}" if n % 5 else "",
                "published": f"{year}-0{1 + n % 9}-1{n % 9}T00:00:00Z",
                "affects": [{"ref": comps[k]["bom-ref"]} for k in affects],
            }
        )
        n += 1
    return {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
        "version": 1,
        "metadata": {
            "timestamp": "2026-05-01T10:00:00Z",
            "tools": {"components": [{"type": "application", "group": "CycloneDX", "name": "cyclonedx-py", "version": "7.5.0"}]},
            "component": {
                "type": "application",
                "bom-ref": "app",
                "name": "shop-api",
                "version": "2.1.0",
                "purl": "pkg:pypi/shop-api@2.1.0",
            },
        },
        "components": comps,
        "dependencies": deps,
        "vulnerabilities": vulns,
    }


# --------------------------------------------------------------------------------------------


def generate(out: Path, size: str, seed: int = 7) -> list[Path]:
    """Write the four reports of one size (1k, 10k, 100k) under `out/size`; return their paths."""
    return generate_set(out / size, SIZES[size], COMPONENTS[size], seed=f"{seed}:{size}")


def generate_set(folder: Path, n: int, components: int, seed: int | str = 7) -> list[Path]:
    """Write the four reports for `n` findings in all and an SBOM of `components` into `folder`."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    folder.mkdir(parents=True, exist_ok=True)
    files = _files(rng, max(20, n // 25))
    n_sarif, n_bandit, n_semgrep = n * 40 // 100, n * 25 // 100, n * 25 // 100
    n_vuln = n - n_sarif - n_bandit - n_semgrep
    bandit_doc, spots = bandit(rng, n_bandit, files)
    docs = {
        "codeql.sarif": sarif(rng, n_sarif, files),
        "bandit.json": bandit_doc,
        "semgrep.json": semgrep(rng, n_semgrep, files, spots),
        "sbom.cdx.json": cyclonedx(rng, components, n_vuln),
    }
    paths = []
    for name, doc in docs.items():
        p = folder / name
        p.write_text(json.dumps(doc, indent=1), encoding="utf-8")
        paths.append(p)
    return paths


def generate_heavy(out: Path, size: str, seed: int = 7) -> list[Path]:
    """The violation-heavy shape of one size under `out/heavy-<size>`; return its paths."""
    return generate_heavy_set(out / f"heavy-{size}", SIZES[size], COMPONENTS[size], seed=f"{seed}:heavy:{size}")


def generate_heavy_set(folder: Path, n: int, components: int, seed: int | str = 7) -> list[Path]:
    """The violation-heavy shape: `n` SARIF results in four logs and an SBOM of `components`, in `folder`."""
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    folder.mkdir(parents=True, exist_ok=True)
    files = _files(rng, max(20, n // 20))
    docs: dict[str, Any] = {}
    for k, lang in enumerate(("py", "js", "java", "go"), start=1):
        docs[f"codeql-{k}.sarif"] = sarif(rng, n // 4, files, rule_count=250, heavy=True, prefix=lang)
    docs["sbom.cdx.json"] = cyclonedx(rng, components, n // 100)
    paths = []
    for name, doc in docs.items():
        p = folder / name
        p.write_text(json.dumps(doc, indent=1), encoding="utf-8")
        paths.append(p)
    return paths


def inputs_for(out: Path, shape: str, size: str, seed: int = 7) -> Path:
    """The folder of one shape and size, generated when missing."""
    folder = out / (size if shape == "base" else f"{shape}-{size}")
    expected = 4 if shape == "base" else 5
    if not folder.is_dir() or len(list(folder.iterdir())) < expected:
        (generate if shape == "base" else generate_heavy)(out, size, seed)
    return folder


def generate_small(out: Path, seed: int = 7) -> Path:
    """One bandit report of ten findings: the start-up case."""
    rng = random.Random(f"{seed}:small")  # noqa: S311 - test data, not secrets
    folder = out / "small"
    folder.mkdir(parents=True, exist_ok=True)
    doc, _ = bandit(rng, 10, _files(rng, 4))
    p = folder / "bandit.json"
    p.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return p


def main(argv: list[str] | None = None) -> None:
    """Command line: write the inputs and list them."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    ap.add_argument("--sizes", default=",".join(SIZES), help="comma-separated sizes among " + ", ".join(SIZES))
    ap.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated shapes among " + ", ".join(SHAPES))
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    print(generate_small(args.out, args.seed))
    shapes = [s.strip() for s in args.shapes.split(",") if s.strip()]
    for shape in shapes:
        if shape not in SHAPES:
            ap.error(f"unknown shape {shape!r} (choose from {', '.join(SHAPES)})")
    for size in [s.strip() for s in args.sizes.split(",") if s.strip()]:
        if size not in SIZES:
            ap.error(f"unknown size {size!r} (choose from {', '.join(SIZES)})")
        for shape in shapes:
            for p in (generate if shape == "base" else generate_heavy)(args.out, size, args.seed):
                print(f"{p}\t{p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
