#!/usr/bin/env python3
"""Size and typing figures of the code base, for ARCHITECTURE.md and the issue's "must show".

    python bench/code_metrics.py [ROOT] [--top N] [--json]

ROOT (default: this checkout) holds gate/, scanners/, sbom/. Measured from the AST, nothing is
imported or run:

- `Any` in gate/: every use of the name `Any` (`Any`, `typing.Any`) in the code and annotations
  of gate/ (import lines not counted);
- `dict[str, Any]`-like: `dict`/`Mapping`/`MutableMapping` subscripted with `Any` as the value;
- the largest modules (lines) and functions or methods (lines from `def` to the last line of the
  body, decorators excluded) of gate, scanners and sbom (the semgrep rule pack's test files
  excepted).

To compare with an older commit without a second work tree:
`git archive REV | tar -x -C /tmp/before && python bench/code_metrics.py /tmp/before`.
"""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path

PACKAGES = ("gate", "scanners", "sbom")


def source_files(root: Path) -> list[Path]:
    """The Python modules of the three packages, sorted."""
    files = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if path.relative_to(root).parts[:2] != ("scanners", "rules"):
                files.append(path)
    return files


def _is_any(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "Any") or (isinstance(node, ast.Attribute) and node.attr == "Any")


def measure(root: Path, top: int = 5) -> dict[str, object]:
    """The figures, as a JSON-ready mapping."""
    any_count = 0
    any_maps = 0
    modules: list[tuple[int, str]] = []
    functions: list[tuple[int, str]] = []
    for path in source_files(root):
        rel = str(path.relative_to(root))
        text = path.read_text(encoding="utf-8")
        modules.append((len(text.splitlines()), rel))
        tree = ast.parse(text, filename=rel)
        in_gate = rel.startswith("gate/")
        for node in ast.walk(tree):
            if in_gate and _is_any(node):
                any_count += 1
            if in_gate and isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple) and len(node.slice.elts) == 2:
                base = node.value
                name = base.id if isinstance(base, ast.Name) else base.attr if isinstance(base, ast.Attribute) else ""
                if name in ("dict", "Dict", "Mapping", "MutableMapping") and _is_any(node.slice.elts[1]):
                    any_maps += 1
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno is not None:
                functions.append((node.end_lineno - node.lineno + 1, f"{rel}:{node.lineno} {node.name}"))
        if in_gate:
            # Strings are not Names, so annotations written as strings would be missed: count them too.
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and "Any" in node.value and len(node.value) < 200:
                    try:
                        sub = ast.parse(node.value, mode="eval")
                    except SyntaxError:
                        continue
                    any_count += sum(1 for n in ast.walk(sub) if _is_any(n))
    modules.sort(reverse=True)
    functions.sort(reverse=True)
    return {
        "root": str(root),
        "any_in_gate": any_count,
        "any_valued_mappings_in_gate": any_maps,
        "modules": len(modules),
        "lines": sum(n for n, _ in modules),
        "largest_modules": [{"lines": n, "module": m} for n, m in modules[:top]],
        "largest_functions": [{"lines": n, "function": f} for n, f in functions[:top]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", nargs="?", default=str(Path(__file__).resolve().parents[1]))
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="Print JSON instead of a Markdown summary.")
    args = parser.parse_args()
    figures = measure(Path(args.root), args.top)
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"`Any` in gate/: {figures['any_in_gate']} ({figures['any_valued_mappings_in_gate']} `dict`/`Mapping[..., Any]`)")
    print(f"{figures['modules']} modules, {figures['lines']} lines")
    print("\n| largest modules | lines |\n|---|---|")
    for row in figures["largest_modules"]:  # type: ignore[attr-defined]
        print(f"| {row['module']} | {row['lines']} |")
    print("\n| largest functions | lines |\n|---|---|")
    for row in figures["largest_functions"]:  # type: ignore[attr-defined]
        print(f"| {row['function']} | {row['lines']} |")


if __name__ == "__main__":
    main()
