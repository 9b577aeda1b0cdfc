"""The deadlock detector: lock-wait cycles, stuck runs without a cycle, and no false alarms."""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx

import interleave
from interleave import Deadlock, ExploreResult


def _explore(factory: Callable[[], object], strategy: str = "dfs") -> ExploreResult:
    result = interleave.explore(factory, strategy=strategy)
    assert result.exhausted, result.report()
    return result


def _deadlock(result: ExploreResult) -> Deadlock:
    found = [f for f in result.findings if isinstance(f, Deadlock)]
    assert len(found) == 1, result.report()
    assert [f.kind for f in result.findings] == ["deadlock"], result.report()
    return found[0]


def _line(marker: str) -> int:
    with open(__file__, encoding="utf-8") as f:
        for number, text in enumerate(f, 1):
            if text.rstrip().endswith(f"# {marker}"):
                return number
    raise AssertionError(marker)


def abba() -> interleave.Scenario:
    first = interleave.Lock(name="first")
    second = interleave.Lock(name="second")

    def left() -> None:
        with first:  # LEFT_TAKES_FIRST
            second.acquire()  # LEFT_WANTS_SECOND
            second.release()

    def right() -> None:
        right_takes_second = second.acquire()  # RIGHT_TAKES_SECOND
        with first:  # RIGHT_WANTS_FIRST
            pass
        if right_takes_second:
            second.release()

    return interleave.Scenario(threads={"left": left, "right": right})


def test_abba_is_a_cycle_naming_both_threads_and_both_locks() -> None:
    deadlock = _deadlock(_explore(abba))
    assert deadlock.cycle == ("left", "lock 'second'", "right", "lock 'first'")
    assert deadlock.threads == ("left", "right")
    assert deadlock.message.startswith("lock-order deadlock: ")
    for name in ("left", "right", "lock 'first'", "lock 'second'"):
        assert name in deadlock.message


def test_abba_graph_is_a_networkx_digraph_with_the_cycle() -> None:
    deadlock = _deadlock(_explore(abba))
    graph = deadlock.graph
    assert isinstance(graph, nx.DiGraph)
    edges = nx.find_cycle(graph)
    labels = {graph.nodes[u]["label"] for u, _v in edges}
    assert labels == {"left", "right", "lock 'first'", "lock 'second'"}
    assert graph.edges[("thread", "left"), ("resource", "lock 'second'")] == {
        "relation": "waits for"
    }
    assert graph.edges[("resource", "lock 'second'"), ("thread", "right")]["relation"] == (
        "held by"
    )


def test_abba_holds_show_the_step_and_line_where_each_lock_was_taken() -> None:
    deadlock = _deadlock(_explore(abba))
    trace = deadlock.trace
    assert trace is not None
    holds = {h.thread: h for w in deadlock.waits for h in w.holders}
    assert set(holds) == {"left", "right"}
    assert holds["left"].resource == "lock 'first'"
    assert holds["right"].resource == "lock 'second'"
    for thread, marker in (("left", "LEFT_TAKES_FIRST"), ("right", "RIGHT_TAKES_SECOND")):
        hold = holds[thread]
        assert hold.location is not None
        assert hold.location.lineno == _line(marker)
        assert hold.location.filename == __file__
        assert hold.step is not None
        step = trace.step(hold.step)
        assert (step.thread_name, step.op.kind) == (thread, "acquire")
    waits = {w.thread: w for w in deadlock.waits}
    assert waits["left"].location is not None
    assert waits["left"].location.lineno == _line("LEFT_WANTS_SECOND")
    assert waits["right"].location is not None
    assert waits["right"].location.lineno == _line("RIGHT_WANTS_FIRST")
    assert waits["left"].resource == ("lock", "second")


def test_abba_report_shows_the_cycle_the_locks_and_a_replay_line() -> None:
    result = _explore(abba)
    deadlock = _deadlock(result)
    text = result.report()
    assert "lock-wait cycle" in text
    assert "lock 'first'" in text
    assert "lock 'second'" in text
    assert (
        "left --waits for--> lock 'second' --held by--> right --waits for--> lock 'first' "
        "--held by--> left"
    ) in text
    assert f"interleave.replay(abba, {deadlock.schedule_id!r})" in text


def test_abba_replays_to_the_same_deadlock() -> None:
    deadlock = _deadlock(_explore(abba))
    run = interleave.replay(abba, deadlock.schedule_id)
    [again] = run.findings
    assert isinstance(again, Deadlock)
    assert again.cycle == deadlock.cycle
    assert "lock-wait cycle" in run.report()


def test_ordered_locks_are_exhaustively_clean() -> None:
    def ordered() -> interleave.Scenario:
        first = interleave.Lock(name="first")
        second = interleave.Lock(name="second")

        def worker() -> None:
            with first, second:
                interleave.point("work")

        return interleave.Scenario(threads=[worker, worker, worker])

    result = _explore(ordered)
    assert result.ok, result.report()


def test_dining_philosophers_cycle_has_every_philosopher() -> None:
    n = 3

    def dinner() -> interleave.Scenario:
        forks = [interleave.Lock(name=f"fork-{i}") for i in range(n)]

        def philosopher(i: int) -> Callable[[], None]:
            def eat() -> None:
                with forks[i], forks[(i + 1) % n]:
                    pass

            return eat

        return interleave.Scenario(threads={f"p{i}": philosopher(i) for i in range(n)})

    deadlock = _deadlock(_explore(dinner))
    assert deadlock.threads == ("p0", "p1", "p2")
    assert deadlock.cycle[::2] == ("p0", "p1", "p2")
    assert deadlock.cycle[1::2] == ("lock 'fork-1'", "lock 'fork-2'", "lock 'fork-0'")


def test_cycle_starts_at_a_thread_when_an_earlier_thread_waits_into_it() -> None:
    # 'watcher' (created first) waits for a lock that is part of the left/right cycle, so a
    # search from it enters the cycle at a resource node.
    def scenario() -> interleave.Scenario:
        first = interleave.Lock(name="first")
        second = interleave.Lock(name="second")
        go = interleave.Event(name="go")

        def watcher() -> None:
            go.wait()
            with first:
                pass

        def left() -> None:
            with first:
                go.set()
                with second:
                    pass

        def right() -> None:
            with second, first:
                pass

        return interleave.Scenario(threads={"watcher": watcher, "left": left, "right": right})

    result = interleave.explore(scenario, strategy="dfs")
    cycles = {f.cycle for f in result.findings if isinstance(f, Deadlock) and f.cycle}
    assert cycles == {("left", "lock 'second'", "right", "lock 'first'")}
    for finding in result.findings:
        if isinstance(finding, Deadlock) and finding.cycle:
            assert finding.threads == ("left", "right")


def test_stuck_on_an_event_nobody_sets_is_a_deadlock_without_a_cycle() -> None:
    def scenario() -> interleave.Scenario:
        never = interleave.Event(name="never")
        return interleave.Scenario(threads={"waiter": never.wait})

    result = _explore(scenario)
    deadlock = _deadlock(result)
    assert deadlock.cycle == ()
    assert deadlock.threads == ("waiter",)
    assert deadlock.message == (
        "no thread can run (stuck without a lock cycle): waiter waits for event 'never'"
        + deadlock.message.split("event 'never'", 1)[1]
    )
    assert deadlock.message.endswith(", which no thread will provide")
    assert "blocked threads (no cycle)" in result.report()


def test_stuck_on_a_semaphore_of_zero_is_a_deadlock_without_a_cycle() -> None:
    def scenario() -> interleave.Scenario:
        sem = interleave.Semaphore(0, name="permits")

        def worker() -> None:
            with sem:
                pass

        return interleave.Scenario(threads=[worker, worker])

    deadlock = _deadlock(_explore(scenario))
    assert deadlock.cycle == ()
    assert deadlock.threads == ("worker#1", "worker#2")
    assert {w.waits_for for w in deadlock.waits} == {"semaphore 'permits'"}
    assert all(w.holders == () for w in deadlock.waits)


def test_semaphore_holders_are_named_when_a_permit_is_kept() -> None:
    def scenario() -> interleave.Scenario:
        sem = interleave.Semaphore(1, name="pool")
        return interleave.Scenario(threads={"keeper": sem.acquire, "waiter": sem.acquire})

    deadlock = _deadlock(_explore(scenario))
    [wait] = deadlock.waits
    assert [h.thread for h in wait.holders] == ["keeper" if wait.thread == "waiter" else "waiter"]
    assert deadlock.cycle == ()


def test_no_deadlock_is_reported_for_a_clean_handoff() -> None:
    def scenario() -> interleave.Scenario:
        lock = interleave.Lock(name="L")
        ready = interleave.Event(name="ready")

        def first() -> None:
            with lock:
                ready.set()

        def second() -> None:
            ready.wait()
            with lock:
                pass

        return interleave.Scenario(threads=[first, second])

    result = _explore(scenario)
    assert result.ok, result.report()


def test_a_cycle_through_semaphore_permits_is_a_resource_deadlock() -> None:
    def pool_exhaustion() -> interleave.Scenario:
        pool = interleave.Semaphore(1, name="pool")
        lock = interleave.Lock(name="cache")

        def report() -> None:
            with pool, lock:
                pass

        def refresh() -> None:
            with lock, pool:
                pass

        return interleave.Scenario(threads={"report": report, "refresh": refresh})

    deadlock = next(f for f in interleave.explore(pool_exhaustion).findings if f.kind == "deadlock")
    assert deadlock.message.startswith("resource deadlock: ")
    assert "semaphore 'pool'" in deadlock.message and "lock 'cache'" in deadlock.message


# ------------------------------------------------------- deadlocks found through explore()


def _only_deadlock(factory: Callable[[], object]) -> interleave.Deadlock:
    result = interleave.explore(factory)
    assert [f.kind for f in result.findings] == ["deadlock"], result.report()
    finding = result.findings[0]
    assert isinstance(finding, interleave.Deadlock)
    return finding


def test_event_nobody_sets_is_a_deadlock_without_cycle_listing_the_thread() -> None:
    def scenario() -> interleave.Scenario:
        ready = interleave.Event(name="ready")

        def waiter() -> None:
            ready.wait()

        return interleave.Scenario(threads={"waiter": waiter})

    finding = _only_deadlock(scenario)

    assert finding.cycle == ()
    assert finding.threads == ("waiter",)
    assert [w.thread for w in finding.waits] == ["waiter"]
    assert finding.waits[0].resource == ("event", "ready")
    assert "stuck without a lock cycle" in finding.message
    assert "waiter waits for event 'ready'" in finding.message
    assert "which no thread will provide" in finding.message


def test_join_on_a_blocked_thread_is_a_deadlock() -> None:
    def scenario() -> interleave.Scenario:
        never = interleave.Event(name="never")

        def child() -> None:
            never.wait()

        def parent() -> None:
            interleave.spawn(child).join()

        return interleave.Scenario(threads={"parent": parent})

    finding = _only_deadlock(scenario)

    assert finding.cycle == ()
    assert set(finding.threads) == {"parent", "child#1"}
    assert "parent waits for thread 'child#1' to finish" in finding.message
    assert "held by child#1" in finding.message
    assert finding.trace is not None
    assert finding.trace.outcomes == ("blocked", "blocked")


def test_semaphore_without_permits_is_a_deadlock() -> None:
    def scenario() -> interleave.Scenario:
        permits = interleave.Semaphore(0, name="permits")

        def worker() -> None:
            permits.acquire()

        return interleave.Scenario(threads={"worker": worker})

    finding = _only_deadlock(scenario)

    assert finding.threads == ("worker",)
    assert "waits for semaphore 'permits'" in finding.message


def dining_philosophers() -> interleave.Scenario:
    forks = [interleave.Lock(name=f"fork-{i}") for i in range(3)]

    def philosopher(i: int) -> Callable[[], None]:
        def eat() -> None:
            with forks[i], forks[(i + 1) % 3]:
                pass

        return eat

    return interleave.Scenario(threads={f"phil-{i}": philosopher(i) for i in range(3)})


def test_dining_philosophers_deadlock_has_a_cycle_naming_every_thread() -> None:
    finding = _only_deadlock(dining_philosophers)

    assert finding.cycle[::2] == ("phil-0", "phil-1", "phil-2")
    assert set(finding.cycle[1::2]) == {"lock 'fork-0'", "lock 'fork-1'", "lock 'fork-2'"}
    assert set(finding.threads) == {"phil-0", "phil-1", "phil-2"}
    assert finding.message.startswith("lock-order deadlock:")
    graph = finding.graph
    assert isinstance(graph, nx.DiGraph)
    cycle_nodes = {node for edge in nx.find_cycle(graph) for node in edge}
    assert {("thread", f"phil-{i}") for i in range(3)} <= cycle_nodes
    assert {("resource", f"lock 'fork-{i}'") for i in range(3)} <= cycle_nodes
    for i in range(3):
        fork = ("resource", f"lock 'fork-{(i + 1) % 3}'")
        assert graph.has_edge(("thread", f"phil-{i}"), fork)
    assert "lock-wait cycle:" in interleave.explore(dining_philosophers).report()
