"""No import cycle between the project's packages or between its modules.

The graph is built statically from the AST of every module of gate, scanners and sbom (the
semgrep rule pack's test files excepted): every `import` and `from ... import`, at module level
and inside functions alike (an import deferred to call time is still a dependency), except under
`if TYPE_CHECKING:`. A `from pkg import name` where `pkg.name` is a module depends on that module.

Packages, for the package-level graph (ARCHITECTURE.md):

- `gate.base`: the records and errors every reader shares (`gate.model`, `gate.errors`,
  `gate.purl`) and the documents package (`gate.documents`: one reading function per format,
  JSON, XML, YAML, and the schemas). A leaf: its modules import nothing else of the project.
- `gate`: the rest of gate (orchestration, policies, engines, outputs, CLI): calls the readers and
  the runners.
- `scanners`: the report readers. `sbom`: the SBOM and VEX readers.
- `scanners.run`: the scanner runners, SBOM generation included (`scanners.run.sbom`).

A cycle is reported with its modules so the fix can be found: move what both sides need (a record,
an error) down into a leaf, never import upwards.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TOP_PACKAGES = ("gate", "scanners", "sbom")
BASE_PACKAGES = ("gate.documents",)
"""Packages whose every module belongs to `gate.base`."""


def project_modules(root: Path, tops: Iterable[str] = TOP_PACKAGES) -> dict[str, tuple[Path, bool]]:
    """Every module under the top-level packages: dotted name -> (file, is a package)."""
    found: dict[str, tuple[Path, bool]] = {}
    for top in tops:
        for path in sorted((root / top).rglob("*.py")):
            rel = path.relative_to(root)
            if rel.parts[:2] == ("scanners", "rules"):
                continue  # deliberately vulnerable test files of the semgrep rule pack, never imported
            parts = list(rel.with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            found[".".join(parts)] = (path, is_package)
    return found


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imported_names(tree: ast.Module, package: str) -> Iterable[str]:
    """Dotted names each import statement reaches (both `pkg` and `pkg.name` for a from-import)."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            skip.update(id(sub) for stmt in node.body for sub in ast.walk(stmt))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)


def import_graph(root: Path, tops: Iterable[str] = TOP_PACKAGES) -> dict[str, set[str]]:
    """Module -> the project modules it imports (statically, from the AST)."""
    modules = project_modules(root, tops)

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = {resolve(n) for n in _imported_names(tree, package)}
        graph[name] = {t for t in targets if t is not None and t != name}
    return graph


def package_of(module: str) -> str:
    """The package-level node a module belongs to (see the module docstring)."""
    if module in BASE or any(module == p or module.startswith(p + ".") for p in BASE_PACKAGES):
        return "gate.base"
    if module == "scanners.run" or module.startswith("scanners.run."):
        return "scanners.run"
    return module.split(".")[0]


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan, iterative), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, list[str]]] = [(start, sorted(graph.get(start, ())))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, todo = work[-1]
            if todo:
                nxt = todo.pop(0)
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(graph.get(nxt, ()))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def package_graph(graph: Mapping[str, Iterable[str]]) -> tuple[dict[str, set[str]], dict[tuple[str, str], list[str]]]:
    """The package-level graph, and for each of its edges the module imports that make it."""
    packages: dict[str, set[str]] = {}
    why: dict[tuple[str, str], list[str]] = {}
    for module, targets in graph.items():
        for target in targets:
            a, b = package_of(module), package_of(target)
            if a != b:
                packages.setdefault(a, set()).add(b)
                why.setdefault((a, b), []).append(f"{module} -> {target}")
    return packages, why


GRAPH = import_graph(REPO)
BASE = frozenset(
    {"gate.model", "gate.errors", "gate.purl"} | {m for m in GRAPH if any(m == p or m.startswith(p + ".") for p in BASE_PACKAGES)}
)


def test_no_cycle_between_modules() -> None:
    found = cycles(GRAPH)
    detail = [[f"{m} -> {sorted(set(GRAPH[m]) & set(c))}" for m in c] for c in found]
    assert not found, f"import cycles between modules: {detail}"


def test_no_cycle_between_packages() -> None:
    packages, why = package_graph(GRAPH)
    found = cycles(packages)
    detail = {f"{a} -> {b}": why[(a, b)][:5] for c in found for a in c for b in c if (a, b) in why}
    assert not found, f"import cycles between packages {found}: {detail}"


def test_the_shared_records_and_errors_are_a_leaf() -> None:
    """Readers import `gate.model` / `gate.errors` / `gate.documents`: those import nothing that could import a reader."""
    upward = {m: sorted(GRAPH[m] - BASE) for m in BASE if GRAPH[m] - BASE}
    assert not upward, upward


def test_readers_never_import_the_orchestration_or_the_runners() -> None:
    """The readers (`scanners`, `sbom`) depend on `gate.base` only (`sbom.generate`, the moved
    runner's old name, is the one allowed re-export of `scanners.run.sbom`)."""
    wrong = {
        m: sorted(t for t in targets if package_of(t) in ("gate", "scanners.run"))
        for m, targets in GRAPH.items()
        if package_of(m) in ("scanners", "sbom") and m != "sbom.generate"
    }
    assert not {m: t for m, t in wrong.items() if t}


def test_the_checker_finds_a_cycle(tmp_path: Path) -> None:
    """The graph builder itself: a deferred import inside a function closes a cycle it must report,
    and an import under TYPE_CHECKING does not."""
    (tmp_path / "gate").mkdir()
    (tmp_path / "gate" / "__init__.py").write_text("")
    (tmp_path / "gate" / "a.py").write_text("from gate.b import thing\n")
    (tmp_path / "gate" / "b.py").write_text("def f():\n    from gate import a\n    return a\n")
    (tmp_path / "gate" / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from gate.a import x\n")
    (tmp_path / "gate" / "d.py").write_text("from .c import y\n")
    graph = import_graph(tmp_path, ("gate",))
    assert cycles(graph) == [["gate.a", "gate.b"]]
    assert graph["gate.c"] == set() and graph["gate.d"] == {"gate.c"}
    assert cycles({"x": {"y"}, "y": {"z"}, "z": {"x"}, "w": {"x"}}) == [["x", "y", "z"]]


SARIF_LAYERS = ("pointer", "facts", "classify", "rules", "reading")
"""The SARIF reader's modules by concern (`scanners/sarif/__init__.py`), lowest first."""


def test_the_sarif_reader_is_layered_by_concern() -> None:
    """Each module of `scanners.sarif` imports only the ones below it (errors and JSON paths,
    then rule metadata, classification, rules, the walk over the log); only the package's
    `__init__` (the reader) imports the walk. Without this, a helper moved back "just for now"
    would grow a second 1,200-line module."""
    modules = {f"scanners.sarif.{name}" for name in SARIF_LAYERS}
    assert {m for m in GRAPH if m.startswith("scanners.sarif.")} == modules, "a new module: add it to SARIF_LAYERS"
    for rank, name in enumerate(SARIF_LAYERS):
        allowed = {f"scanners.sarif.{lower}" for lower in SARIF_LAYERS[:rank]}
        inside = {t for t in GRAPH[f"scanners.sarif.{name}"] if t.startswith("scanners.sarif")}
        assert inside <= allowed, f"scanners.sarif.{name} imports {sorted(inside - allowed)}"
    assert not any("scanners.sarif.reading" in targets for m, targets in GRAPH.items() if m != "scanners.sarif"), (
        "only scanners.sarif imports the walk"
    )
