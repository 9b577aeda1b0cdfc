"""Ctrl-C during an exploration (issue 10, Build item 7): a real SIGINT, sent to this process.

The KeyboardInterrupt is never swallowed: ``explore()`` raises it as :class:`interleave.Interrupted`
with the findings found so far; a SIGINT that arrives while interleave's own code runs (an
sqlite3 callback, cleanup) is held back until the next step, so nothing is left behind; the
command line prints the findings so far and exits with 130. The benchmark
``benchmarks/bench_sigint.py`` sends SIGINT at random moments, hundreds of times.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import itertools
import os
import pickle
import signal
import sqlite3
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import MethodType
from typing import Any

import pytest

import interleave
import interleave.sqlite
from interleave._cli import main
from interleave._core import _interrupts
from interleave.instrument.sqlite import _analysis as _sqlite

ROOT = Path(__file__).resolve().parents[2]


def sigint() -> None:
    """A real SIGINT to this thread (the main one): its handler runs before this returns."""
    signal.raise_signal(signal.SIGINT)


def as_if_sigint_interrupted(frame: object) -> None:
    """Run the installed SIGINT handler as if the signal had interrupted ``frame``."""
    handler = signal.getsignal(signal.SIGINT)
    assert callable(handler)
    handler(signal.SIGINT, frame)


class _FrameOfOurs:
    """Stands for a frame of interleave's own code, where the compiled core has none."""

    class _Code:
        co_filename = str(Path(interleave.__file__).parent / "_core" / "_greenlets.py")

    f_code = _Code()
    f_back = None


def lost_update(at: int, interrupt: Callable[[], None], where: str = "check"):
    """The lost update; ``interrupt()`` runs in the ``at``-th execution, in ``where``."""
    executions = itertools.count(1)

    def scenario() -> interleave.Scenario:
        n = next(executions)
        hits = interleave.Shared("hits", 0)
        interrupted: list[int] = []

        def worker() -> None:
            if n == at and where == "thread" and not interrupted:
                interrupted.append(n)
                interrupt()
            hits.set(hits.get() + 1)

        def check() -> bool:
            if n == at and where == "check":
                interrupt()
            return hits.get() == 2

        return interleave.Scenario(threads=[worker, worker], check=check, name="lost_update")

    return scenario


@pytest.fixture(autouse=True)
def default_handler_before_and_after() -> Iterator[None]:
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    yield
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_raises_interrupted_with_the_findings_so_far() -> None:
    scenario = lost_update(at=3, interrupt=sigint)
    with pytest.raises(interleave.Interrupted) as caught:
        interleave.explore(scenario)
    stop = caught.value
    assert isinstance(stop, KeyboardInterrupt)
    assert not isinstance(stop, Exception)  # `except Exception` in user code cannot catch it
    result = stop.result
    assert result.stopped_because == "interrupted"
    assert not result.exhausted
    # The third execution was interrupted in check() and is dropped; the second found the bug.
    assert result.schedules_run == 2
    assert [f.kind for f in result.findings] == ["lost-update", "invariant", "data-race"]
    for finding in result.findings:
        assert finding.schedule_id in str(stop)
        replayed = interleave.replay(lost_update(at=0, interrupt=sigint), finding.schedule_id)
        assert finding.kind in {f.kind for f in replayed.findings}
    report = result.report()
    assert "NOT exhausted: interrupted (Ctrl-C) before covering every schedule" in report
    assert result.findings[0].schedule_id in report


@pytest.mark.parametrize("other_thread", [False, True], ids=["alone", "with another thread"])
def test_a_sigint_while_the_guard_puts_the_handler_back_comes_with_the_result(
    monkeypatch: pytest.MonkeyPatch, other_thread: bool
) -> None:
    # The SIGINT lands while the guard swaps the default handler back in, after the last
    # execution: it reached the default handler, and explore() raised a bare KeyboardInterrupt
    # without its result (bench_sigint saw it once in a few hundred runs). With another thread
    # running, the kernel gives that thread the signal the main thread blocks, and Python runs
    # the handler in the main thread all the same: the mask alone did not keep it out (the
    # compiled suite failed so when a pool's threads were still alive).
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait, daemon=True)
    if other_thread:
        helper.start()
    swap = signal.signal
    sent: list[int] = []

    def signal_during_the_swap(signum: int, handler: Any) -> Any:
        if signum == signal.SIGINT and handler is signal.default_int_handler and not sent:
            sent.append(signum)
            if other_thread:  # (as the kernel does with a process's signal the main blocks)
                assert helper.ident is not None
                signal.pthread_kill(helper.ident, signal.SIGINT)
                # The main thread runs the handler once the other one has taken the signal.
                ours = signal.getsignal(signal.SIGINT)  # (the guard's bound _handle)
                assert isinstance(ours, MethodType)
                guard = ours.__self__
                assert isinstance(guard, _interrupts.InterruptGuard)
                deadline = time.monotonic() + 10
                while not guard.signalled and time.monotonic() < deadline:
                    time.sleep(0.001)
            else:
                os.kill(os.getpid(), signal.SIGINT)
        return swap(signum, handler)

    monkeypatch.setattr(signal, "signal", signal_during_the_swap)
    try:
        interleave.explore(lost_update(at=0, interrupt=sigint))
    except interleave.Interrupted as caught:
        assert caught.result.findings, "the result came with the interrupt"
    except KeyboardInterrupt:  # (not let through: pytest would stop the whole session)
        pytest.fail("a bare KeyboardInterrupt, without the exploration's result")
    else:
        pytest.fail("the SIGINT was lost")
    finally:
        stop.set()
    assert sent and signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("where", ["factory", "teardown"])
def test_a_sigint_in_the_factory_or_the_teardown_waits_for_the_cleanup(
    tmp_path: Path, where: str
) -> None:
    # Setup that makes what the teardown removes is not cut short between the two: the
    # interrupt waits until the factory returned (and the teardown ran) or the teardown ended.
    made: list[Path] = []

    def scenario() -> interleave.Scenario:
        folder = Path(tempfile.mkdtemp(dir=tmp_path))
        made.append(folder)
        if where == "factory" and len(made) == 2:
            sigint()
        hits = interleave.Shared("hits", 0)

        def teardown() -> None:
            if where == "teardown" and len(made) == 2:
                sigint()
            folder.rmdir()

        return interleave.Scenario(
            threads=[lambda: hits.set(hits.get() + 1)] * 2, teardown=teardown
        )

    with pytest.raises(interleave.Interrupted):
        interleave.explore(scenario)
    assert len(made) >= 2
    assert not any(folder.exists() for folder in made), "a folder was left behind"


def test_interrupted_pickles_with_its_result() -> None:
    with pytest.raises(interleave.Interrupted) as caught:
        interleave.explore(lost_update(at=3, interrupt=sigint))
    copy = pickle.loads(pickle.dumps(caught.value))
    assert isinstance(copy, interleave.Interrupted)
    assert copy.result.findings == caught.value.result.findings
    assert str(copy) == str(caught.value)


def test_ctrl_c_before_any_finding_says_so() -> None:
    with pytest.raises(interleave.Interrupted, match="no findings so far") as caught:
        interleave.explore(lost_update(at=1, interrupt=sigint))
    assert caught.value.result.findings == ()
    assert caught.value.result.schedules_run == 0


def test_a_sigint_in_interleaves_own_code_waits_for_the_end_of_the_execution() -> None:
    # As if the signal had interrupted interleave's _run_check (the frame that calls check()):
    # nothing is raised there; the execution finishes and is dropped, and explore() raises.
    scenario = lost_update(at=3, interrupt=lambda: as_if_sigint_interrupted(sys._getframe(2)))
    with pytest.raises(interleave.Interrupted) as caught:
        interleave.explore(scenario)
    assert caught.value.result.schedules_run == 2
    assert caught.value.result.stopped_because == "interrupted"


def test_a_held_back_sigint_is_raised_at_the_next_step() -> None:
    ran_on: list[int] = []
    signalled: list[int] = []
    executions = itertools.count(1)

    def scenario() -> interleave.Scenario:
        n = next(executions)
        hits = interleave.Shared("hits", 0)

        def worker() -> None:
            if n == 2 and not signalled:
                # As if the signal had interrupted interleave's code that runs this thread
                # (the greenlet pool's serve(): compiled, it has no frame to pass).
                as_if_sigint_interrupted(sys._getframe(0).f_back or _FrameOfOurs())
                signalled.append(n)  # still running: the interrupt was held back
            hits.get()
            ran_on.append(n)  # not in execution 2: its next step raised the interrupt
            hits.set(1)

        return interleave.Scenario(threads=[worker, worker])

    with pytest.raises(interleave.Interrupted) as caught:
        interleave.explore(scenario, strategy="dfs")
    assert signalled == [2]
    assert 2 not in ran_on
    assert caught.value.result.schedules_run == 1


def test_a_swallowed_ctrl_c_still_stops_the_exploration() -> None:
    swallowed: list[BaseException] = []

    def swallow() -> None:
        try:
            sigint()
        except BaseException as exc:  # the scenario's bug, not interleave's
            swallowed.append(exc)

    with pytest.raises(interleave.Interrupted) as caught:
        interleave.explore(lost_update(at=3, interrupt=swallow, where="thread"))
    assert len(swallowed) == 1 and isinstance(swallowed[0], KeyboardInterrupt)
    assert caught.value.result.schedules_run == 2


def test_a_second_sigint_while_one_is_held_back_is_raised_at_once() -> None:
    raised: list[BaseException] = []

    def twice() -> None:
        interleave_frame = sys._getframe(2)  # _run_check, which calls check()
        as_if_sigint_interrupted(interleave_frame)  # held back
        try:
            as_if_sigint_interrupted(interleave_frame)  # Ctrl-C again: the way out
        except KeyboardInterrupt as exc:
            raised.append(exc)
            raise

    with pytest.raises(interleave.Interrupted) as caught:
        interleave.explore(lost_update(at=2, interrupt=twice))
    assert len(raised) == 1
    assert caught.value.result.schedules_run == 1


def test_a_sigint_held_back_after_the_last_check_still_stops_the_exploration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The result is built, and the exploration's scopes undone, while the guard still holds
    # SIGINT back; a Ctrl-C that lands there must not be dropped when the guard is left.
    from interleave import _api

    build = _api.ExploreResult

    def built_as_sigint_arrives(**fields: object) -> interleave.ExploreResult:
        as_if_sigint_interrupted(sys._getframe(1))  # interleave's run_exploration: held back
        return build(**fields)  # type: ignore[arg-type]

    monkeypatch.setattr(_api, "ExploreResult", built_as_sigint_arrives)
    with pytest.raises(interleave.Interrupted) as caught:
        interleave.explore(lost_update(at=0, interrupt=sigint), strategy="dfs")
    result = caught.value.result
    assert result.stopped_because == "interrupted"
    assert not result.exhausted
    assert [f.kind for f in result.findings] == ["lost-update", "invariant", "data-race"]


def test_off_the_main_thread_no_handler_is_installed() -> None:
    # Signals reach the main thread only: an exploration elsewhere leaves SIGINT alone.
    seen: list[object] = []
    results: list[interleave.ExploreResult] = []

    def scenario() -> interleave.Scenario:
        seen.append(signal.getsignal(signal.SIGINT))
        return lost_update(at=0, interrupt=sigint)()

    worker = threading.Thread(target=lambda: results.append(interleave.explore(scenario)))
    worker.start()
    worker.join()
    assert seen and all(handler is signal.default_int_handler for handler in seen)
    assert results[0].exhausted


BANK = interleave.sqlite.template(
    "CREATE TABLE accounts(id INTEGER PRIMARY KEY, balance INT);"
    "INSERT INTO accounts VALUES (1, 100);",
    name="bank.db",
)


def ours_on_disk() -> set[str]:
    roots = {tempfile.gettempdir(), "/dev/shm"}
    pattern = f"interleave-sqlite-{os.getpid()}-*"
    return {p for root in roots for p in glob.glob(os.path.join(root, pattern))}


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def sqlite_withdrawals(at: int, ping: Callable[[], None]) -> Callable[[], interleave.Scenario]:
    """Read-then-update on a template copy; the statement calls the application's SQL function
    ``ping()``, which runs ``ping`` in the ``at``-th execution."""
    executions = itertools.count(1)

    def scenario() -> interleave.Scenario:
        n = next(executions)
        path = BANK.path()

        def function() -> int:
            if n == at:
                ping()
            return 0

        def withdraw() -> None:
            with contextlib.closing(sqlite3.connect(path)) as conn:
                conn.create_function("ping", 0, function)
                (balance,) = conn.execute(
                    "SELECT balance + ping() FROM accounts WHERE id = 1"
                ).fetchone()
                conn.execute("UPDATE accounts SET balance = ? WHERE id = 1", (balance - 10,))
                conn.commit()

        return interleave.Scenario(threads=[withdraw, withdraw])

    return scenario


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc/self/fd")
@pytest.mark.parametrize("at", [1, 2, 4])
def test_ctrl_c_inside_an_sqlite_callback_is_not_swallowed_and_nothing_is_left(at: int) -> None:
    # sqlite3 swallows an exception raised in an application's SQL function (the statement
    # fails: "user-defined function raised exception"). The SIGINT is held back until the
    # statement is done, then raised at the next step: no invented exception finding.
    original = (sqlite3.connect, threading.Lock)
    files, fds = ours_on_disk(), open_fds()
    with pytest.raises(interleave.Interrupted) as caught:
        interleave.explore(sqlite_withdrawals(at, sigint), strategy="dfs")
    result = caught.value.result
    assert result.schedules_run == at - 1
    assert {f.kind for f in result.findings} <= {"lost-update"}, result.report()
    assert "raised exception" not in result.report()
    assert (sqlite3.connect, threading.Lock) == original
    assert ours_on_disk() == files
    assert open_fds() == fds


def test_an_exception_raised_inside_interleaves_authorizer_comes_back_as_itself() -> None:
    class Interrupting(list):  # type: ignore[type-arg]
        def append(self, item: object) -> None:
            raise KeyboardInterrupt

    calls: list[tuple[object, ...]] = []

    def theirs(*args: object) -> int:
        calls.append(args)
        return sqlite3.SQLITE_OK

    with contextlib.closing(sqlite3.connect(":memory:")) as conn:
        conn.execute("CREATE TABLE t(x)")
        # Not sqlite3's "not authorized" DatabaseError: the KeyboardInterrupt itself.
        with pytest.raises(KeyboardInterrupt):
            _sqlite._explain(conn, "SELECT x FROM t", (), theirs, log=Interrupting())
        conn.execute("SELECT x FROM t").fetchall()  # the application's authorizer is back
    assert calls


def function_in(filename: str) -> Callable[[Callable[[], object] | None], object]:
    """``f(then)``, compiled as if it lived in ``filename``: it calls ``then`` or returns its
    own frame."""
    source = "import sys\ndef f(then):\n    return then() if then else sys._getframe()\n"
    namespace: dict[str, object] = {}
    exec(compile(source, filename, "exec"), namespace)
    return namespace["f"]  # type: ignore[return-value]


def test_is_held_back_decides_by_the_innermost_frame_that_is_not_a_library() -> None:
    ours = function_in(os.path.join(os.path.dirname(interleave.__file__), "_core", "_x.py"))
    library = function_in(os.path.join(os.path.dirname(contextlib.__file__), "x.py"))
    user = function_in(str(ROOT / "app" / "x.py"))
    generated = function_in("<string>")
    held = _interrupts.is_held_back
    # functools.partial calls without a Python frame of its own: the stacks are exactly these.
    assert held(ours(None))
    assert not held(user(None))
    assert held(ours(functools.partial(library, None)))  # a library called by interleave
    assert held(ours(functools.partial(generated, None)))  # a dataclass's generated __init__
    assert not held(user(functools.partial(library, None)))  # a library called by the user
    assert not held(ours(functools.partial(user, None)))  # the user's code called by interleave
    # ... unless a function marked hold_below runs further out (it calls C code that calls
    # the user's code back and swallows its exceptions).
    outer = _interrupts.hold_below(function_in(str(ROOT / "app" / "y.py")))
    assert held(outer(functools.partial(ours, functools.partial(user, None))))
    assert held(outer(functools.partial(user, None)))


@pytest.fixture
def racy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "racy.py"
    path.write_text(
        textwrap.dedent(
            """
            import itertools, signal
            import interleave

            executions = itertools.count(1)

            def lost_update():
                n = next(executions)
                hits = interleave.Shared("hits", 0)

                def worker():
                    hits.set(hits.get() + 1)

                def check():
                    if n == 3:
                        signal.raise_signal(signal.SIGINT)
                    return hits.get() == 2

                return interleave.Scenario(threads=[worker, worker], check=check)

            DEMO = [lost_update]
            """
        )
    )
    return path


def test_the_cli_prints_the_findings_so_far_and_exits_130(
    racy_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["explore", "racy.py:lost_update"]) == 130
    out, err = capsys.readouterr()
    assert "interrupted (Ctrl-C) before covering every schedule" in out
    assert "lost-update" in out and "interleave replay racy.py:lost_update 2-" in out
    assert err.strip().endswith(
        "interleave: interrupted (Ctrl-C): the 3 finding(s) above were found before it"
    )


def test_cli_report_prints_the_table_so_far_and_exits_130(
    racy_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "racy.py"]) == 130
    out, err = capsys.readouterr()
    assert "NO (interrupted)" in out
    assert "interleave: interrupted (Ctrl-C)" in err
