"""`gate policy test`: what a Rego unit-test run means, independent of the engine that ran it.

The engine returns the results and raw line coverage (`gate.engine.interface.TestRun`); here
they become a summary, failures with their location, coverage per file and in total, and the
verdict of `--coverage-min`. The CLI only prints the lines and exits with the code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gate.engine.interface import TestResult, TestRun
from gate.errors import ExitCode
from gate.output.text import clean
from gate.policy import Module, PolicySet


def ranges(lines: Iterable[int]) -> str:
    """`3-5, 9, 12-13` from [3, 4, 5, 9, 12, 13]."""
    out: list[str] = []
    nums = sorted(set(lines))
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        out.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    return ", ".join(out)


@dataclass(frozen=True)
class Summary:
    """The figures of a run."""

    passed: int
    failed: int
    covered: int
    coverable: int

    @property
    def percent(self) -> float:
        """Total line coverage; 100 when nothing is coverable (no policy line to test)."""
        return 100.0 * self.covered / self.coverable if self.coverable else 100.0


def summarise(run: TestRun) -> Summary:
    """Counts and total coverage of a run."""
    failed = sum(1 for t in run.results if not t.passed)
    return Summary(
        passed=len(run.results) - failed,
        failed=failed,
        covered=sum(c for c, _ in run.coverage.values()),
        coverable=sum(t for _, t in run.coverage.values()),
    )


def fill_unreached(run: TestRun, policy: PolicySet, *, timeout: float) -> list[str]:
    """Count the policy modules no test reached as 0% covered; their paths.

    Coverage reports (regorus's, and OPA's) leave out files no test touched, which would make
    an untested module raise the total instead of lowering it. Their coverable lines are read
    here by touching each such package once, on an empty input, with coverage on.
    """
    from gate.engine.embedded import build, run_limited

    modules = policy.policy_modules()
    missing = [m for m in modules if run.coverage.get(m.path, (0, 0))[1] == 0]
    if not missing:
        return []
    engine = build([(m.path, m.text) for m in modules], json.dumps(policy.data_document()), "{}", coverage=True)
    packages = sorted({m.package for m in missing})

    def touch() -> str:
        for pkg in packages:
            engine.eval_query_as_json(f"data.{pkg}")
        return str(engine.get_coverage_report_as_json())

    report = json.loads(run_limited(touch, timeout))
    lines_of = {f["path"]: set(f["covered"]) | set(f["not_covered"]) for f in report.get("files", [])}
    for m in missing:
        # A module of functions only is not touched by evaluating its package: read its AST.
        lines = lines_of.get(m.path) or statement_lines(m)
        run.coverage[m.path] = (0, len(lines))
        run.uncovered[m.path] = sorted(lines)
    return [m.path for m in missing]


def statement_lines(module: Module) -> set[int]:
    """The lines of a module's rule heads and body statements (what line coverage counts)."""
    from gate.engine.embedded import build

    lines: set[int] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            stmts = node.get("stmts")
            if isinstance(stmts, list):
                lines.update(int(st["span"]["line"]) for st in stmts if isinstance(st, dict) and "span" in st)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for entry in json.loads(build([(module.path, module.text)], "{}", None).get_ast_as_json()):
        for rule in (entry.get("ast") or {}).get("rules") or []:
            for spec in rule.values():
                if isinstance(spec, dict) and isinstance(spec.get("span"), dict):
                    lines.add(int(spec["span"]["line"]))
            walk(rule)
    return lines


def _result_line(t: TestResult) -> str:
    status = "PASS" if t.passed else "FAIL"
    line = f"{status} {t.package}.{t.name} ({t.file}:{t.line})"
    if t.seconds >= 0.5:
        line += f" [{t.seconds:.2f} s]"
    return clean(line)


def report_lines(
    run: TestRun, *, coverage_min: float, verbose: bool = False, show_uncovered: bool = True, unreached: Sequence[str] = ()
) -> tuple[list[str], int]:
    """(lines to print, exit code): 0 when every test passes and coverage meets the minimum, else 10."""
    lines: list[str] = []
    for t in sorted(run.results, key=lambda r: (r.file, r.line, r.name)):
        if verbose or not t.passed:
            lines.append(_result_line(t))
            if not t.passed and t.message:
                lines.extend("    " + clean(m) for m in t.message.splitlines() if m.strip())
    failed_any = any(not t.passed for t in run.results)
    if run.prints and (verbose or failed_any):
        lines.append("output of print() in the tests:")
        lines.extend("    " + clean(p) for p in run.prints)
    s = summarise(run)
    if run.coverage:
        lines.append("coverage:")
        width = max(len(p) for p in run.coverage)
        for path in sorted(run.coverage):
            hit, coverable = run.coverage[path]
            pct = f"{100.0 * hit / coverable:5.1f}%" if coverable else "  n/a "
            text = f"  {path.ljust(width)}  {pct}  ({hit}/{coverable} lines)"
            missing = run.uncovered.get(path) or []
            if path in unreached:
                text += f"  not reached by any test: {ranges(missing)}" if show_uncovered and missing else "  not reached by any test"
            elif show_uncovered and missing:
                text += f"  not covered: {ranges(missing)}"
            lines.append(clean(text))
    lines.append(f"{s.passed} passed, {s.failed} failed; coverage {s.percent:.1f}% ({s.covered}/{s.coverable} lines)")
    code = int(ExitCode.OPEN)
    if not run.results:
        lines.append("gate: no test_* rule found in *_test.rego files")
        code = int(ExitCode.DENY)
    elif s.failed:
        code = int(ExitCode.DENY)
    elif s.percent < coverage_min:
        lines.append(f"gate: coverage {s.percent:.1f}% is below --coverage-min {coverage_min:g}%")
        code = int(ExitCode.DENY)
    return lines, code


def run_policy_tests(
    root: str | None,
    *,
    engine: str = "embedded",
    timeout: float = 120.0,
    coverage_min: float = 0.0,
    verbose: bool = False,
    show_uncovered: bool = True,
) -> tuple[list[str], int]:
    """`gate policy test`: run the Rego unit tests of the policy folder at `root` (None:
    `gate.sources.policy_root`) on `engine`; (lines to print, exit code) as `report_lines` says.

    When every test passes, the modules no test reached are counted as 0% covered
    (`fill_unreached`). Raises PolicyError when a module does not compile.
    """
    from gate.engine.registry import get_engine
    from gate.sources import load_policy_path, policy_root

    policy = load_policy_path(policy_root(root), include_tests=True)
    run = get_engine(engine).run_tests(policy, timeout=timeout)
    unreached = fill_unreached(run, policy, timeout=timeout) if run.results and all(t.passed for t in run.results) else []
    return report_lines(run, coverage_min=coverage_min, verbose=verbose, show_uncovered=show_uncovered, unreached=unreached)
