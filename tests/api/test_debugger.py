"""``replay(..., breakpoint_at=STEP)`` and ``interleave replay TARGET ID --break-at STEP``: pdb
opens in the thread of that step, just before it, driven here through stdin in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import interleave
from interleave._cli import load_file, main

COUNTER = """
import interleave


def lost_update():
    hits = interleave.Shared("hits", 0)

    def worker():
        seen = hits.get()
        bumped = seen + 1
        hits.set(bumped)
        done = True

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)


def spawned():
    hits = interleave.Shared("hits", 0)

    def child():
        hits.set(1)

    def parent():
        interleave.spawn(child).join()

    return interleave.Scenario(threads=[parent], check=lambda: False)  # an ID to replay
"""

#: worker#1 reads, worker#2 reads, worker#2 writes (step 2), worker#1 writes (step 3).
LOST_ID = "2-kAQEAAEKChoaAAGm"


@pytest.fixture
def counter(tmp_path: Path) -> Path:
    (tmp_path / "counter.py").write_text(COUNTER, encoding="utf-8")
    return tmp_path


def debug(folder: Path, commands: list[str], *argv: str) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` in ``folder`` with ``commands`` typed at the pdb prompt (``python -c``
    imports from ``folder``, as for a user: the compiled run's PYTHONSAFEPATH is dropped)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}
    return subprocess.run(
        [sys.executable, *argv],
        input="".join(f"{c}\n" for c in commands),
        capture_output=True,
        text=True,
        cwd=folder,
        env=env,
        timeout=120,
        check=False,
    )


def test_the_cli_stops_just_before_the_step_in_its_thread(counter: Path) -> None:
    done = debug(
        counter,
        ["p seen, bumped", "p hits", "n", "p hits", "c"],
        "-m",
        "interleave",
        "replay",
        "counter.py:lost_update",
        LOST_ID,
        "--breakpoint-at",
        "2",
    )
    out = done.stdout
    assert done.returncode == 1, done.stderr  # the replay went on to its findings
    assert (
        f"interleave: replay of {LOST_ID} stopped before step 2: worker#2 is about to set "
        "shared 'hits' (counter.py:11)." in out
    )
    # pdb is in worker#2's frame, on the line that performs the step, and the step has not
    # happened: worker#2 read 0 and nobody has written yet.
    assert "counter.py(11)worker()\n-> hits.set(bumped)" in out
    assert "(Pdb) (0, 1)\n(Pdb) Shared('hits', 0)\n" in out
    # 'n' runs the step (and whatever the schedule runs until worker#2's next line).
    assert "counter.py(12)worker()\n-> done = True\n(Pdb) Shared('hits', 1)" in out
    assert f"interleave: replay of lost_update with {LOST_ID}: 4 steps, findings: " in out
    assert "_runtime.py" not in out  # pdb never shows or stops in interleave's own code


def test_the_python_api_stops_there_too_and_q_stops_the_replay(counter: Path) -> None:
    code = (
        "import bdb, interleave, counter\n"
        "try:\n"
        f"    interleave.replay(counter.lost_update, {LOST_ID!r}, breakpoint_at=0)\n"
        "except bdb.BdbQuit as exc:\n"
        "    print('QUIT:', exc)\n"
    )
    done = debug(counter, ["where", "q"], "-c", code)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "stopped before step 0: worker#1 is about to get shared 'hits'" in out
    assert "counter.py(9)worker()\n-> seen = hits.get()" in out
    # 'where' shows the user's frames only: the thread's function is the bottom of the stack.
    assert "serve()" not in out and "_call_thread" not in out
    assert f"QUIT: quit in the debugger: the replay of {LOST_ID} stopped" in out


def test_stepping_past_the_thread_s_end_never_stops_in_code_interleave_calls(
    counter: Path,
) -> None:
    # After worker#2 returns, 'n' stopped in a dataclass's generated __init__ (<string>), which
    # a detector of interleave's was calling; now the next stop is the user's check().
    code = (
        "import interleave, counter\n"
        f"interleave.replay(counter.lost_update, {LOST_ID!r}, breakpoint_at=1)\n"
    )
    done = debug(counter, ["n"] * 6 + ["c"], "-c", code)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "counter.py(12)worker()->None" in out  # the thread's end was stepped past
    assert "<string>" not in out and "__init__()" not in out
    assert "counter.py(14)<lambda>()" in out  # the check, the user's next line


def test_q_in_the_cli_exits_130(counter: Path) -> None:
    done = debug(
        counter,
        ["q"],
        "-m",
        "interleave",
        "replay",
        "counter.py:lost_update",
        LOST_ID,
        "--break-at",
        "3",
    )
    assert done.returncode == 130
    assert "stopped before step 3: worker#1 is about to set shared 'hits'" in done.stdout
    assert "interleave: quit in the debugger: the replay stopped" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_step_that_is_not_in_the_schedule_is_a_usage_error(
    counter: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(counter)
    monkeypatch.setattr(sys, "path", list(sys.path))  # load_file puts the folder first
    status = main(["replay", "counter.py:lost_update", LOST_ID, "--break-at", "4"])
    _, err = capsys.readouterr()
    assert status == 2
    assert err.startswith(
        f"interleave: error: --breakpoint-at: breakpoint_at=4 is not a step of {LOST_ID}: "
        "its steps are numbered 0 to 3"
    )
    module = load_file(counter / "counter.py")
    for bad in (-1, True, "2"):
        with pytest.raises(interleave.InvalidArgument, match="is not a step of"):
            interleave.replay(module.lost_update, LOST_ID, breakpoint_at=bad)  # type: ignore[arg-type]


def test_a_step_where_a_thread_ends_has_no_line_to_stop_at(counter: Path) -> None:
    code = (
        "import interleave, counter\n"
        "[finding] = interleave.explore(counter.spawned).findings\n"
        "ops = [op.kind for op in finding.trace.ops]\n"
        "interleave.replay(counter.spawned, finding.schedule_id, "
        "breakpoint_at=ops.index('end'))\n"
    )
    done = debug(counter, [], "-c", code)
    assert done.returncode == 0, done.stderr
    assert "child#1 is about to end thread 'child#1'" in done.stdout
    assert "no line of user code runs in this step; going on" in done.stdout
    assert "(Pdb)" not in done.stdout
