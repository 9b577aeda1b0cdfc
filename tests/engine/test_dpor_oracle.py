"""An independent oracle for DPOR: generated programs, explored with dfs, classified by hand.

For each generated program (hypothesis) the test

1. explores it with ``dfs`` (every interleaving) and with ``dpor``;
2. records, per execution, what every thread *observed* (values read, whether an attempt got
   the lock, whether a wait timed out, what a queue handed out, ...), the final state, and
   the execution's Mazurkiewicz trace class, computed here by :func:`canonical` from the
   dependency table in ``docs/strategies.md`` (not from the engine's ``dependent()`` or
   footprints: only the operation kinds and resources the trace records);
3. asserts that dpor reaches every observation, final state, finding and trace class that dfs
   reaches, and that it runs exactly one execution per class: an execution of a class seen
   before must be one the engine itself counted as sleep-set blocked.

``make test`` runs a fast subset; ``INTERLEAVE_ORACLE_EXAMPLES=5000`` (or ``python
benchmarks/bench_dpor_oracle.py``) runs the long mode.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

import interleave
import interleave.sqlite
from interleave._core import _context

# ------------------------------------------------------------------------------ the table
# The dependency table of docs/strategies.md, written again here from the documentation:
# for each operation kind (as recorded in the trace, after it ran), what it reads or writes.
_NOTHING = frozenset({"yield", "reenter", "release-nested"})
_READS = frozenset(
    {"read", "acquire-failed", "wait", "wait-timeout", "join", "join-timeout", "wake"}
)


def accesses(kind: str, resource: tuple[object, ...], cond_locks: dict[str, str]) -> list[Any]:
    """(resource, writes?) pairs of one executed operation, by the documented table."""
    if kind in _NOTHING or not resource:
        return []
    if kind == "spawn":
        return [(("threads",), True)]  # every start numbers a new thread
    if kind == "wait" and resource[0] == "condition":
        # A condition wait's first step joins the waiters and frees the condition's lock.
        return [(resource, True), (("lock", cond_locks[str(resource[1])]), True)]
    return [(resource, kind not in _READS)]


def _overlap(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def canonical(
    choices: Sequence[int],
    ops: Sequence[Any],
    nthreads: int,
    cond_locks: dict[str, str],
) -> tuple[object, ...]:
    """The execution's trace class: its lexicographically least equivalent interleaving.

    Two steps are ordered when they are of the same thread, when one starts the other's
    thread, or when their accesses conflict (a common resource or a prefix of it, one of them
    writing). Repeatedly taking the lowest-numbered thread whose next step has all its
    predecessors taken gives one representative per class.
    """
    n = len(choices)
    acc = [accesses(op.kind, op.resource, cond_locks) for op in ops]
    # Thread creation: the k-th spawn creates the next thread after the initial ones.
    first_step: dict[int, int] = {}
    for k, t in enumerate(choices):
        first_step.setdefault(t, k)
    spawns = [k for k in range(n) if ops[k].kind == "spawn"]
    initial = nthreads - len(spawns)
    creator = {initial + j: k for j, k in enumerate(spawns)}
    preds: list[set[int]] = [set() for _ in range(n)]
    for k in range(n):
        t = choices[k]
        if first_step[t] == k and t in creator:
            preds[k].add(creator[t])
        for j in range(k):
            if choices[j] == t:
                preds[k].add(j)
                continue
            if any((wa or wb) and _overlap(ra, rb) for ra, wa in acc[j] for rb, wb in acc[k]):
                preds[k].add(j)
    taken: set[int] = set()
    order: list[object] = []
    while len(taken) < n:
        ready = [k for k in range(n) if k not in taken and preds[k] <= taken]
        k = min(ready, key=lambda m: (choices[m], m))
        taken.add(k)
        op = ops[k]
        order.append((choices[k], op.kind, op.resource, op.label))
    return tuple(order)


# ------------------------------------------------------------------------------ programs
# A program is a list of threads; a thread is a list of actions; some actions have a body.
Action = tuple[Any, ...]

_SIMPLE = st.one_of(
    st.tuples(st.just("attr-read"), st.sampled_from("ab")),
    st.tuples(st.just("attr-write"), st.sampled_from("ab")),
    st.tuples(st.just("attr-incr"), st.sampled_from("ab")),
    st.tuples(st.just("read"), st.sampled_from("xy")),
    st.tuples(st.just("write"), st.sampled_from("xy")),
    st.tuples(st.just("incr"), st.sampled_from("xy")),
    st.tuples(st.just("update"), st.sampled_from("xy")),
    st.tuples(st.just("counter")),
    st.tuples(st.just("cache-get"), st.sampled_from((1, 2))),
    st.tuples(st.just("cache-set"), st.sampled_from((1, 2))),
    st.tuples(st.just("cache-clear")),
    st.tuples(st.just("point")),
    # A one-item resource (a whole kind) is a prefix of every resource of its kind.
    st.tuples(st.just("point-kind"), st.sampled_from(("read", "write"))),
    st.tuples(st.just("point-item"), st.sampled_from((1, 2)), st.sampled_from(("read", "write"))),
)
_BODY = st.lists(
    st.one_of(
        _SIMPLE,
        st.tuples(st.just("lock"), st.sampled_from("ab"), st.just(())),  # nested, empty
    ),
    max_size=2,
)
_SYNC = st.one_of(
    st.tuples(st.just("lock"), st.sampled_from("ab"), _BODY),
    st.tuples(st.just("try"), st.sampled_from("ab"), _BODY),
    st.tuples(st.just("timed"), st.sampled_from("ab"), _BODY),
    st.tuples(st.just("locked"), st.sampled_from("ab")),
    st.tuples(st.just("rlock"), st.booleans(), _BODY),
    st.tuples(st.just("sem"), st.sampled_from(("block", "try", "timed")), _BODY),
    st.tuples(st.just("cond-wait"), st.booleans()),
    st.tuples(st.just("cond-notify"), st.booleans()),
    st.tuples(st.just("event"), st.sampled_from(("set", "clear", "is_set", "wait", "timed"))),
    st.tuples(st.just("spawn"), _BODY),
    st.tuples(st.just("join"), st.booleans()),
    st.tuples(st.just("is-alive")),
    st.tuples(st.just("put")),
    st.tuples(st.just("get"), st.sampled_from(("block", "timed", "nowait"))),
    st.tuples(st.just("barrier")),
)
_ACTION = st.one_of(_SIMPLE, _SYNC)
_SQL = st.one_of(
    st.tuples(st.just("sql-read")),
    st.tuples(st.just("sql-incr")),
    st.tuples(st.just("sql-tx")),
)
_TABLE = interleave.sqlite.template(
    "CREATE TABLE t(id INTEGER PRIMARY KEY, v INT); INSERT INTO t VALUES (1, 0);",
    name="oracle.db",
)

# Rough yield points of each action, to keep dfs exhaustible.
_COST = {
    "incr": 2,
    "attr-incr": 2,
    "lock": 2,
    "try": 2,
    "timed": 2,
    "rlock": 4,
    "sem": 2,
    "cond-wait": 5,
    "cond-notify": 3,
    "spawn": 3,  # the spawn, the child's end step, and the join it usually meets
    "put": 4,
    "get": 4,
    "barrier": 4,
    "sql-read": 2,
    "sql-incr": 4,
    "sql-tx": 5,
}


def _cost(actions: Sequence[Action]) -> int:
    total = 0
    for action in actions:
        total += _COST.get(action[0], 1)
        body = action[-1] if action[0] in ("lock", "try", "timed", "rlock", "sem", "spawn") else ()
        total += _cost(body)
    return total


_PROGRAM = st.lists(st.lists(_ACTION, min_size=1, max_size=3), min_size=2, max_size=3).filter(
    lambda threads: sum(_cost(t) for t in threads) <= 11
)
# SQLite programs: statements on one database (a fresh copy of a template per execution),
# with a few other steps around them.
_SQL_PROGRAM = st.lists(
    st.lists(st.one_of(_SQL, _SIMPLE), min_size=1, max_size=2), min_size=2, max_size=2
).filter(
    lambda threads: (
        any(a[0].startswith("sql") for t in threads for a in t)
        and sum(_cost(t) for t in threads) <= 12
    )
)


class Box:
    """A plain class: its attributes are shared state under ``trace_attributes=True``."""

    def __init__(self) -> None:
        self.a = 0
        self.b = 0


def _uses(plan: Sequence[Sequence[Action]], prefix: str) -> bool:
    def walk(actions: Sequence[Action]) -> bool:
        for action in actions:
            if str(action[0]).startswith(prefix):
                return True
            body = action[-1] if isinstance(action[-1], list | tuple) else ()
            if body and isinstance(body[0], tuple) and walk(body):
                return True
        return False

    return any(walk(t) for t in plan)


@dataclass
class _Run:
    """What one exploration of a program saw."""

    outcomes: set[tuple[object, ...]] = field(default_factory=set)
    classes: list[tuple[object, ...]] = field(default_factory=list)


def _scenario(plan: Sequence[Sequence[Action]], run: _Run) -> Callable[[], interleave.Scenario]:
    def factory() -> interleave.Scenario:
        x, y = interleave.Shared("x", 0), interleave.Shared("y", 0)
        values = {"x": x, "y": y}
        counter = interleave.Counter("c")
        cache: interleave.Cache[int, int] = interleave.Cache("k")
        locks = {name: interleave.Lock(name=name) for name in "ab"}
        rlock = interleave.RLock(name="r")
        sem = interleave.Semaphore(2 if len(plan) > 2 else 1, name="s")
        # The condition shares lock a with the plain lock actions: its wait frees that lock.
        cond = interleave.Condition(locks["a"], name="cv")
        event = interleave.Event(name="e")
        q: queue.Queue[int] = queue.Queue(maxsize=1)  # scheduled: threading is patched
        barrier = threading.Barrier(2)
        cond_locks = {"cv": "a", **_queue_conditions(q), **_barrier_conditions(barrier)}
        logs: dict[str, list[object]] = {}
        box = Box()
        uses_sql = any(a[0].startswith("sql") for t in plan for a in t)
        path = _TABLE.path() if uses_sql else ""
        connections: dict[str, sqlite3.Connection] = {}

        def sql(name: str) -> sqlite3.Connection:
            conn = connections.get(name)
            if conn is None:
                conn = connections[name] = interleave.sqlite.connect(path)
            return conn

        def body(name: str, actions: Sequence[Action], log: list[object]) -> None:
            children: list[Any] = []
            for n, action in enumerate(actions):
                kind = action[0]
                if kind == "attr-read":
                    log.append(getattr(box, action[1]))
                elif kind == "attr-write":
                    setattr(box, action[1], f"{name}.{n}")
                elif kind == "attr-incr":
                    seen_attr = getattr(box, action[1])
                    log.append(seen_attr)
                    setattr(box, action[1], (seen_attr, name))
                elif kind == "read":
                    log.append(values[action[1]].get())
                elif kind == "write":
                    values[action[1]].set(f"{name}.{n}")
                elif kind == "incr":
                    v = values[action[1]]
                    seen = v.get()
                    log.append(seen)
                    v.set((seen, name))
                elif kind == "update":
                    log.append(values[action[1]].update(lambda v, name=name: (v, name)))
                elif kind == "counter":
                    log.append(counter.add())
                elif kind == "cache-get":
                    log.append(cache.get(action[1]))
                elif kind == "cache-set":
                    cache.set(action[1], n)
                elif kind == "cache-clear":
                    cache.clear()
                elif kind == "point":
                    interleave.point("p")
                elif kind == "point-kind":
                    interleave.point("all", resource=("history",), access=action[1])
                elif kind == "point-item":
                    interleave.point("one", resource=("history", action[1]), access=action[2])
                elif kind == "lock":
                    with locks[action[1]]:
                        log.append(("in", action[1]))
                        body(name, action[2], log)
                elif kind in ("try", "timed"):
                    lock = locks[action[1]]
                    got = lock.acquire(blocking=False) if kind == "try" else lock.acquire(timeout=1)
                    log.append((kind, got))
                    if got:
                        body(name, action[2], log)
                        lock.release()
                elif kind == "locked":
                    log.append(locks[action[1]].locked())
                elif kind == "rlock":
                    with rlock:
                        if action[1]:
                            with rlock:
                                body(name, action[2], log)
                        else:
                            body(name, action[2], log)
                elif kind == "sem":
                    mode = action[1]
                    got = (
                        sem.acquire()
                        if mode == "block"
                        else sem.acquire(blocking=False)
                        if mode == "try"
                        else sem.acquire(timeout=1)
                    )
                    log.append(("sem", got))
                    if got:
                        body(name, action[2], log)
                        sem.release()
                elif kind == "cond-wait":
                    with cond:
                        log.append(("woke", cond.wait(timeout=1 if action[1] else None)))
                elif kind == "cond-notify":
                    with cond:
                        if action[1]:
                            cond.notify_all()
                        else:
                            cond.notify()
                elif kind == "event":
                    what = action[1]
                    if what == "set":
                        event.set()
                    elif what == "clear":
                        event.clear()
                    elif what == "is_set":
                        log.append(event.is_set())
                    else:
                        log.append(("ev", event.wait(timeout=1 if what == "timed" else None)))
                elif kind == "spawn":
                    child = f"{name}.{n}"
                    child_log = logs[child] = []
                    children.append(interleave.spawn(body, child, action[1], child_log, name=child))
                elif kind == "join":
                    if children:
                        children[-1].join(timeout=1 if action[1] else None)
                        log.append(("alive", children[-1].is_alive()))
                elif kind == "is-alive":
                    if children:
                        log.append(children[-1].is_alive())
                elif kind == "put":
                    try:
                        q.put(n, timeout=1)
                        log.append("put")
                    except queue.Full:
                        log.append("full")
                elif kind == "get":
                    mode = action[1]
                    try:
                        item = (
                            q.get()
                            if mode == "block"
                            else q.get(timeout=1)
                            if mode == "timed"
                            else q.get_nowait()
                        )
                        log.append(("got", item))
                    except queue.Empty:
                        log.append("empty")
                elif kind == "sql-read":
                    log.append(sql(name).execute("SELECT v FROM t WHERE id = 1").fetchone())
                elif kind in ("sql-incr", "sql-tx"):
                    conn = sql(name)
                    try:
                        if kind == "sql-tx":
                            conn.execute("BEGIN IMMEDIATE")
                        (v,) = conn.execute("SELECT v FROM t WHERE id = 1").fetchone()
                        log.append(v)
                        conn.execute("UPDATE t SET v = ? WHERE id = 1", (v + 1,))
                        conn.commit()
                    except sqlite3.OperationalError as exc:
                        log.append(str(exc))
                        conn.rollback()
                elif kind == "barrier":
                    try:
                        log.append(("barrier", barrier.wait(timeout=1)))
                    except threading.BrokenBarrierError:
                        log.append("broken")
                else:  # pragma: no cover - the generator makes only the kinds above
                    raise AssertionError(kind)

        def thread(name: str, actions: Sequence[Action]) -> Callable[[], None]:
            log = logs[name] = []

            def run() -> None:
                try:
                    body(name, actions, log)
                finally:
                    conn = connections.pop(name, None)
                    if conn is not None:
                        conn.close()

            return run

        threads = {f"t{i}": thread(f"t{i}", actions) for i, actions in enumerate(plan)}

        def teardown() -> None:
            rt = _context.building()
            assert rt is not None
            state = (
                box.__dict__.copy().items().__repr__(),
                x._value,
                y._value,
                counter._value,
                tuple(sorted(cache._data.items())),
                tuple(q.queue),
                event._flag,
            )
            if uses_sql:
                with contextlib.closing(sqlite3.connect(path)) as conn:
                    state += (tuple(conn.execute("SELECT v FROM t").fetchall()),)
            observed = tuple(sorted((name, tuple(log)) for name, log in logs.items()))
            run.outcomes.add((observed, state))
            run.classes.append(canonical(rt.choices, rt.ops, len(rt.threads), cond_locks))

        return interleave.Scenario(threads=threads, teardown=teardown)

    return factory


def _queue_conditions(q: queue.Queue[int]) -> dict[str, str]:
    return {
        c.name: c._lock.name  # type: ignore[attr-defined]
        for c in (q.not_empty, q.not_full, q.all_tasks_done)
    }


def _barrier_conditions(barrier: threading.Barrier) -> dict[str, str]:
    cond = barrier._cond  # type: ignore[attr-defined]
    return {cond.name: cond._lock.name}


def _findings(result: interleave.ExploreResult) -> set[tuple[object, ...]]:
    return {(f.kind, *f.signature) for f in result.findings}


class TooBig(Exception):
    """The program has too many interleavings for dfs to enumerate within the budget."""


def explore_options(plan: Sequence[Sequence[Action]], max_schedules: int) -> dict[str, Any]:
    """The ``explore()`` options a generated program is explored with (here and in the other
    oracles that use these programs)."""
    # Generated programs may well be trivial (one thread's steps independent of the other's):
    # that is a valid input here, so the health checks that flag it are off. Attributes are
    # traced only when the program uses them (tracing costs a little).
    return {
        "max_schedules": max_schedules,
        "minimise": False,
        "watchdog": 0,
        "suppress_health_check": "all",
        "trace_attributes": _uses(plan, "attr"),
    }


def check_program(plan: Sequence[Sequence[Action]]) -> dict[str, int]:
    """Explore ``plan`` both ways and assert the oracle's laws; return the counts."""
    dfs_run, dpor_run = _Run(), _Run()
    options = explore_options(plan, 40_000)
    dfs = interleave.explore(_scenario(plan, dfs_run), strategy="dfs", **options)
    if not dfs.exhausted:
        # Too big for the oracle (it needs every interleaving): not a program to judge by.
        raise TooBig(f"dfs did not finish within {dfs.schedules_run:,} executions")
    dpor = interleave.explore(_scenario(plan, dpor_run), strategy="dpor", **options)
    assert dpor.exhausted
    # (a) dpor reaches everything dfs reaches.
    missing = dfs_run.outcomes - dpor_run.outcomes
    assert not missing, f"dpor missed {len(missing)} observation(s), e.g. {min(map(repr, missing))}"
    assert _findings(dpor) == _findings(dfs)
    classes = set(dfs_run.classes)
    dpor_classes = set(dpor_run.classes)
    assert dpor_classes == classes, (
        f"dpor covered {len(dpor_classes & classes)} of {len(classes)} trace classes"
    )
    # (b) one execution per class; the only surplus is the executions dpor itself counted as
    # sleep-set blocked (equivalent to an explored one, finished with the default policy).
    executions = dpor.statistics.executions
    assert executions == len(dpor_run.classes)
    assert dpor.schedules_run == len(classes), (
        f"{dpor.schedules_run} dpor executions for {len(classes)} trace classes"
    )
    assert executions - len(classes) == dpor.statistics.pruned
    return {
        "dfs": dfs.schedules_run,
        "classes": len(classes),
        "dpor": executions,
        "blocked": dpor.statistics.pruned,
    }


@settings(
    max_examples=int(os.environ.get("INTERLEAVE_ORACLE_EXAMPLES", "80")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(_PROGRAM)
def test_dpor_reaches_every_outcome_and_class_of_dfs_once(plan: list[list[Action]]) -> None:
    _check_or_reject(plan)


def _check_or_reject(plan: Sequence[Sequence[Action]]) -> None:
    try:
        check_program(plan)
    except TooBig:
        reject()


@settings(
    max_examples=int(os.environ.get("INTERLEAVE_ORACLE_SQL_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(_SQL_PROGRAM)
def test_dpor_reaches_every_outcome_and_class_of_dfs_once_with_sqlite(
    plan: list[list[Action]],
) -> None:
    _check_or_reject(plan)


# --- the canonicaliser itself --------------------------------------------------------------


@dataclass
class _Op:
    kind: str
    resource: tuple[object, ...]
    label: str | None = None


def test_canonical_form_swaps_independent_steps_only() -> None:
    rx, wx, ry = _Op("read", ("shared", "x")), _Op("write", ("shared", "x")), _Op("read", ("y",))
    # Independent steps of two threads: both orders are one class.
    assert canonical([0, 1], [rx, ry], 2, {}) == canonical([1, 0], [ry, rx], 2, {})
    # A read and a write of x: two classes.
    assert canonical([0, 1], [rx, wx], 2, {}) != canonical([1, 0], [wx, rx], 2, {})
    # Reads commute; a whole cache conflicts with its keys.
    assert canonical([0, 1], [rx, rx], 2, {}) == canonical([1, 0], [rx, rx], 2, {})
    clear, key = _Op("write", ("cache", "k")), _Op("read", ("cache", "k", 1))
    assert canonical([0, 1], [clear, key], 2, {}) != canonical([1, 0], [key, clear], 2, {})


def test_canonical_form_knows_what_lock_outcomes_touch() -> None:
    took, busy = _Op("acquire", ("lock", "a")), _Op("acquire-failed", ("lock", "a"))
    locked, reenter = _Op("read", ("lock", "a")), _Op("reenter", ("lock", "a"))
    # A failed attempt only read the lock: it commutes with another read of it.
    assert canonical([0, 1], [busy, locked], 2, {}) == canonical([1, 0], [locked, busy], 2, {})
    assert canonical([0, 1], [busy, took], 2, {}) != canonical([1, 0], [took, busy], 2, {})
    # A re-entry touches nothing another thread can see.
    assert canonical([0, 1], [reenter, took], 2, {}) == canonical([1, 0], [took, reenter], 2, {})
    # A condition wait frees the condition's lock.
    wait = _Op("wait", ("condition", "cv"))
    m = _Op("read", ("lock", "m"))
    one = canonical([0, 1], [wait, m], 2, {"cv": "m"})
    assert one != canonical([1, 0], [m, wait], 2, {"cv": "m"})


# --- the programs of the issue, each in a test ----------------------------------------------


@pytest.mark.parametrize(
    "plan",
    [
        # abba after an independent step
        [[("lock", "a", [("lock", "b", ())])], [("read", "x"), ("lock", "b", [("lock", "a", ())])]],
        # try-acquire against a holder
        [[("try", "a", [])], [("lock", "a", [])]],
        # timed acquire against a holder
        [[("timed", "a", [("read", "x")])], [("lock", "a", [("write", "x")])]],
        # RLock re-entry against a plain acquire
        [[("rlock", True, [("read", "x")])], [("rlock", False, [("write", "x")])]],
        # a semaphore with two permits (three threads make it 2)
        [[("sem", "block", [("read", "x")])], [("sem", "block", [])], [("write", "x")]],
        # a timed condition wait against a reader of its lock
        [[("cond-wait", True)], [("locked", "a")]],
        [[("cond-wait", True)], [("locked", "a"), ("cond-notify", False)]],
        # a semaphore acquired after an independent step: the hand-off needs the give
        [[("sem", "block", [])], [("read", "y"), ("sem", "block", [("write", "x")])]],
        # two threads taking a lock then another
        [[("lock", "a", []), ("lock", "b", [])], [("lock", "a", []), ("lock", "b", [])]],
        # a timed join racing with the child and a reader
        [[("spawn", [("read", "x")]), ("join", True), ("update", "x")], [("read", "x")]],
        # queue hand-over with a timed get
        [[("put",), ("put",)], [("get", "timed"), ("get", "nowait")]],
        # events: wait against set and clear
        [[("event", "wait")], [("event", "set"), ("event", "clear")], [("event", "timed")]],
        # a barrier of two
        [[("barrier",), ("read", "x")], [("write", "x"), ("barrier",)]],
        # a whole kind (a one-item resource) against one item of it
        [[("point-kind", "read")], [("point-item", 1, "write")]],
        # plain attributes: self.a += 1 in two threads, one under a lock
        [[("attr-incr", "a")], [("lock", "a", [("attr-incr", "a")]), ("attr-read", "b")]],
        # a clear of a clear flag against a wait left blocked after another step (found by
        # the long oracle: dpor plants the wait before the clear, which cannot enable it, and
        # runs one sleep-set-blocked execution; sound, one execution more than optimal)
        [[("event", "clear"), ("is-alive",)], [("cache-get", 2), ("event", "wait"), ("spawn", [])]],
    ],
    ids=[
        "abba-after-a-step",
        "try-vs-holder",
        "timed-vs-holder",
        "rlock-reentry",
        "semaphore",
        "wait-vs-locked",
        "condition-wait",
        "semaphore-after-a-step",
        "lock-then-lock",
        "timed-join",
        "queue",
        "event",
        "barrier",
        "whole-kind",
        "attributes",
        "clear-then-blocked-wait",
    ],
)
def test_textbook_programs(plan: list[list[Action]]) -> None:
    check_program(plan)
