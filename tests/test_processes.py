"""Forked children die with the gate (`gate.processes.die_with_parent`).

Written first as the failure it prevents: a gate killed by SIGKILL (the out-of-memory killer, a
cancelled CI job) left its reading child, or its evaluation worker, running on until its next
write to the dead parent's pipe (seconds at 10^5 findings: a worker evaluating the SAST package
takes five). Each test starts a real gate process whose child blocks, kills the parent with
SIGKILL, and requires the child gone within a few seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")

REPO = Path(__file__).resolve().parents[1]

READER = """
import os, sys, time
from gate import parallel

def item(i):
    if i == 1:  # the child's share: report the pid, then block
        with open(sys.argv[1], "w") as fh:
            fh.write(str(os.getpid()))
        time.sleep(120)
    return i

parallel.ordered_map(item, 2, [[0], [1]], expected=int, allowed={}, name=str)
time.sleep(120)
"""

WORKER = """
import os, sys, time
from gate.engine import embedded

class Blocking:  # a stand-in for the regorus engine: the process handling is what is tested
    def eval_query_as_json(self, query):
        with open(sys.argv[1], "w") as fh:
            fh.write(str(os.getpid()))
        time.sleep(120)

embedded._evaluate_forked(Blocking(), [("gate.x", "{}")], 300.0, 1, orphan_guard=True)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ", 1)[1][:1] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def _child_outlives_parent(code: str, tmp_path: Path) -> bool:
    marker = tmp_path / "child.pid"
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), str(marker)], cwd=REPO)  # noqa: S603 - fixed argv
    try:
        deadline = time.monotonic() + 30
        while not (marker.exists() and marker.read_text()):
            assert parent.poll() is None, "the gate process ended before its child started"
            assert time.monotonic() < deadline, "the child never started"
            time.sleep(0.05)
        child = int(marker.read_text())
        assert child != parent.pid and _alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 5
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        outlived = _alive(child)
        if outlived:
            os.kill(child, signal.SIGKILL)
        return outlived
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_a_reading_child_dies_with_the_gate(tmp_path: Path) -> None:
    assert not _child_outlives_parent(READER, tmp_path)


def test_an_evaluation_worker_dies_with_the_gate(tmp_path: Path) -> None:
    assert not _child_outlives_parent(WORKER, tmp_path)
