"""The benchmark's own modules (bench/), loaded by the tests that check them or use its generator."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from tests.conftest import REPO


def load_bench(name: str) -> ModuleType:
    """`bench/<name>.py` as a module (bench/ is not a package: its folder is on the path while it loads)."""
    spec = importlib.util.spec_from_file_location(f"gate_bench_{name}", REPO / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(REPO / "bench"))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(REPO / "bench"))
    return module
