"""Worker processes: when forking is safe, and how many CPUs there are to fork for.

Two places fork workers: `gate.parallel` (reading large reports) and the embedded engine
(evaluating packages). The rule is written once here: Linux only (macOS forbids fork after some
system libraries ran), and only while one thread runs (another may hold a lock a forked child
would wait on forever).
"""

from __future__ import annotations

import os
import sys
import threading


def fork_safe() -> bool:
    """Forking is safe here: Linux, `os.fork` exists, one thread only."""
    return sys.platform.startswith("linux") and threading.active_count() == 1 and hasattr(os, "fork")


def cpu_count() -> int:
    """The CPUs this process may run on (its affinity, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - Linux has it
        return max(1, os.cpu_count() or 1)
