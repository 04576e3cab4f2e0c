"""Worker processes: when forking is safe, and how many CPUs there are to fork for.

Two places fork workers: `gate.parallel` (reading large reports) and the embedded engine
(evaluating packages). The rule is written once here: Linux only (macOS forbids fork after some
system libraries ran), and only while one thread runs (another may hold a lock a forked child
would wait on forever).
"""

from __future__ import annotations

import os
import signal
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


PR_SET_PDEATHSIG = 1
"""prctl(2): the signal a process gets when the thread that forked it ends (linux/prctl.h)."""


def die_with_parent(parent: int) -> None:
    """In a forked child: be killed (SIGKILL) when the parent ends, and end now if it has already.

    A child otherwise outlives a parent killed by SIGKILL (the out-of-memory killer, a runner
    cancelling the job) until its next write to the parent's pipe: a worker evaluating the
    SAST package at 10^5 findings would go on for seconds. Linux only (prctl); elsewhere, or
    where ctypes cannot reach the C library, nothing changes. `parent` is the parent's pid,
    read before forking: checked after the call, it closes the window in which the parent
    died between the fork and the prctl (the child would then belong to another process).
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux's C library
        return
    if os.getppid() != parent:
        os._exit(1)
