"""A parallel exploration that is stopped: Ctrl-C keeps the findings so far, as one process
does, wherever the signal lands (the first task, run in this process, or while tasks are out).
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import litmus
import pytest

import interleave
import interleave._engine._parallel as parallel

BENCHMARKS = Path(litmus.__file__).resolve().parent
_increments = litmus.increments(3, 2)
_builds = itertools.count(1)
#: The build (counted in this process) at which ``interrupted_at`` raises SIGINT; 0: never.
INTERRUPT_AT = [0]


def interrupted_at() -> interleave.Scenario:
    """increments(3, 2), with a real SIGINT at the ``INTERRUPT_AT``-th build (once)."""
    if next(_builds) == INTERRUPT_AT[0]:
        INTERRUPT_AT[0] = 0
        signal.raise_signal(signal.SIGINT)
    return _increments()


@pytest.fixture(autouse=True)
def small_tasks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    global _builds
    monkeypatch.setattr(parallel, "FIRST_BUDGET", 20)
    monkeypatch.setattr(parallel, "TASK_BUDGET", 40)
    _builds = itertools.count(1)
    yield
    INTERRUPT_AT[0] = 0


@pytest.mark.parametrize(
    ("at", "where"),
    [(10, "in the first task, run in this process"), (60, "while tasks are out")],
)
@pytest.mark.parametrize("strategy", ["dpor", "dfs"])
def test_ctrl_c_keeps_the_findings_of_the_finished_tasks(
    at: int, where: str, strategy: str
) -> None:
    INTERRUPT_AT[0] = at
    # Threads share this process, so the SIGINT always reaches the coordinator's thread: the
    # builds of the first task are counted here, and those of the pool's threads after them.
    with ThreadPoolExecutor(max_workers=2) as pool, pytest.raises(interleave.Interrupted) as caught:
        interleave.explore(
            interrupted_at, executor=pool, strategy=strategy, max_schedules=10**6, database=None
        )
    result = caught.value.result
    assert result.stopped_because == "interrupted", where
    assert not result.exhausted
    # Before the fix, the findings of every task were dropped: "no findings so far".
    assert result.findings, where
    assert {f.kind for f in result.findings} <= {"lost-update", "invariant", "data-race"}
    assert "no findings so far" not in str(caught.value)
    assert "minimise" not in result.statistics.phase_executions  # (it ran after Ctrl-C)
    for finding in result.findings:
        assert finding.schedule_id in str(caught.value)
        replayed = interleave.replay(_increments, finding.schedule_id)
        assert finding.kind in {f.kind for f in replayed.findings}


def _alive(pid: int) -> bool:
    """Is ``pid`` a process that has not ended (a zombie has)?"""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_workers_end_when_the_coordinator_is_killed() -> None:
    # SIGKILL (or SIGTERM, the OOM killer) shuts nothing down: the pool's workers ignore
    # SIGINT and waited for tasks for ever, re-parented to init.
    code = (
        "import litmus, interleave\n"
        "interleave.explore(litmus.increments_3x3, workers=2, max_schedules=10**7, database=None)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BENCHMARKS), *sys.path])}
    coordinator = subprocess.Popen([sys.executable, "-c", code], env=env)
    try:
        workers: list[int] = []
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            children = Path(f"/proc/{coordinator.pid}/task/{coordinator.pid}/children")
            workers = [int(pid) for pid in children.read_text().split()]
        assert len(workers) >= 2, "the workers never started"
    finally:
        coordinator.kill()
        coordinator.wait()
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "workers outlived their coordinator"


def exits_in_workers() -> interleave.Scenario:
    """increments(3, 2), but a worker process that builds it ends at once (``os._exit``)."""
    if os.environ.get("COORDINATOR_PID", str(os.getpid())) != str(os.getpid()):
        os._exit(3)
    return _increments()


def test_a_scenario_that_kills_every_worker_is_told_apart_from_a_bug_in_interleave(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # It was an InternalError ("a bug in interleave"); the cause is the scenario's process.
    monkeypatch.setenv("COORDINATOR_PID", str(os.getpid()))
    with pytest.raises(interleave.WorkerLost) as caught:
        interleave.explore(exits_in_workers, workers=2, max_schedules=10**6, database=None)
    message = str(caught.value)
    assert "its worker died each time" in message
    assert "explore it with workers=1" in message
    assert not isinstance(caught.value, interleave.errors.InternalError)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ctrl_c_while_the_workers_start_prints_no_traceback_of_theirs() -> None:
    # A terminal's Ctrl-C reaches the whole process group: workers still importing interleave
    # printed KeyboardInterrupt tracebacks before their initializer could ignore it.
    code = (
        "import litmus, interleave\n"
        "if __name__ == '__main__':\n"
        "    interleave.explore(litmus.increments_3x3, workers=2, max_schedules=10**7,"
        " database=None)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BENCHMARKS), *sys.path])}
    coordinator = subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a shell gives a command
    )
    try:
        children = Path(f"/proc/{coordinator.pid}/task/{coordinator.pid}/children")
        deadline = time.monotonic() + 60
        while len(children.read_text().split()) < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        os.killpg(coordinator.pid, signal.SIGINT)  # the workers are still starting
        _, err = coordinator.communicate(timeout=120)
    finally:
        if coordinator.poll() is None:
            os.killpg(coordinator.pid, signal.SIGKILL)
            coordinator.wait()
    assert coordinator.returncode != 0  # Interrupted, raised out of the script
    assert err.count("Traceback") == 1, err  # the script's own Interrupted, nothing else
    assert "interleave.Interrupted" in err or "Interrupted" in err.splitlines()[-1], err
