"""The policy-engine family: one abstract base, one module per backend.

Every engine gets the same `PolicySet` and the same input document (as JSON text) and returns
the raw `deny` and `warn` sets of every decision package. Anything that goes wrong — a compile
error, a builtin error, a timeout, a panic, a server that answers nonsense — is raised as
`PolicyError`/`EngineError` (exit 4), never returned as an empty set.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from gate.policy import PolicySet


@dataclass
class RawDecision:
    """What the policies said, before the gate applies its own semantics."""

    deny: list[Any] = field(default_factory=list)
    warn: list[Any] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class TestResult:
    """One Rego unit test."""

    package: str
    name: str
    passed: bool
    file: str
    line: int
    message: str = ""
    seconds: float = 0.0


@dataclass
class TestRun:
    """Every unit test of a policy folder, and line coverage of the modules under test."""

    results: list[TestResult]
    coverage: dict[str, tuple[int, int]] = field(default_factory=dict)
    """file -> (covered lines, coverable lines)."""
    uncovered: dict[str, list[int]] = field(default_factory=dict)
    prints: list[str] = field(default_factory=list)


class Engine(ABC):
    """Evaluates a policy set over an input document."""

    name: ClassVar[str]

    @abstractmethod
    def version(self) -> str:
        """The engine's name and version, for the verdict."""

    @abstractmethod
    def evaluate(
        self,
        policy: PolicySet,
        input_json: str,
        *,
        timeout: float,
        meanwhile: Callable[[], object] | None = None,
        sample: str | None = None,
    ) -> RawDecision:
        """Evaluate every decision package; raise PolicyError/EngineError on any failure.

        `sample`, when given, is a small input document in the proportions of `input_json`
        (`input_sample`): an engine may time its work on it to plan the order (the embedded
        engine's probe), never to answer.

        `meanwhile`, when given, is the caller's own work that does not depend on the answer
        (the runner parses its input document back from `input_json`). An engine that waits on
        other processes calls it at most once, in this process, while they evaluate, so that it
        costs no wall time; an engine that cannot overlap it (the embedded engine also when its
        memory budget has no room for it beside its workers) does not call it, and the caller
        does the work afterwards. An exception it raises propagates (the evaluation is abandoned).
        """

    def run_tests(self, policy: PolicySet, *, timeout: float, coverage: bool = True) -> TestRun:
        """Run the `test_*` rules of the policy's `*_test.rego` modules."""
        raise NotImplementedError(f"engine {self.name} does not run policy tests")


SAMPLE_ITEMS = 1000
"""An input sample keeps about this many items of the input's largest top-level array."""

SAMPLE_FROM_CHARS = 32 << 20
"""Below this much input JSON (about 4 x 10^4 findings) the caller passes no sample: the
evaluation takes a few seconds at most and no engine plans it (the embedded engine's probe
starts here too: its PROBE_MIN_CHARS)."""


def input_sample(doc: Any) -> Any:
    """A sample of an input document for planning: every k-th item of each top-level array, one
    k for all of them, so that the longest keeps about SAMPLE_ITEMS items and the arrays keep
    their proportions (cut to SAMPLE_ITEMS items each, 5,000 components weighed as much as 10^5
    findings, and at 10^5 findings the licence package, 0.3 s, was timed slower than the SAST
    package, 5 s). A new top-level object; the arrays' items are shared with `doc`."""
    if not isinstance(doc, dict):
        return doc
    longest = max((len(v) for v in doc.values() if isinstance(v, list)), default=0)
    step = -(-longest // SAMPLE_ITEMS)
    if step <= 1:
        return dict(doc)
    return {key: value[::step] if isinstance(value, list) else value for key, value in doc.items()}
