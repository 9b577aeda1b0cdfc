"""The data-race detector agrees with a brute-force happens-before computed from the trace.

Small programs are generated (reads, writes and atomic updates of two variables and a cache,
lock blocks, try-locks, an event, a semaphore, a spawned and joined child), each instruction
on its own line, and run under random schedules. For every execution the oracle below builds
happens-before as the transitive closure of its edges, step by step, with plain sets (no
vector clocks, no shortcut), lists every pair of conflicting data accesses it does not order,
and compares their pairs of lines with the detector's findings.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from types import CodeType

from hypothesis import given, settings
from hypothesis import strategies as st

import interleave
from interleave._core._ops import GIVE, READ, WRITE, Operation
from interleave._core._program import Program, RunOutcome
from interleave._core._threads import SimThread
from interleave._core._views import StepView
from interleave._engine._run import run_once
from interleave._scenario import builder
from interleave.detectors import DataRaceDetector
from interleave.detectors._data_race import DATA_KINDS, race_signature

# ---------------------------------------------------------------- the oracle

_FAILED = {"acquire-failed", "wait-timeout", "wake-timeout", "join-timeout", "error"}


def _sync(op: Operation) -> list[tuple[tuple[object, ...], bool, bool]]:
    """(object, publishes, observes) for each synchronisation object ``op`` touches."""
    if op.kind == "spawn":
        return []
    out = []
    for resource, mode in op.footprint:
        if not resource or resource[0] == "point":
            continue
        data = resource[0] in DATA_KINDS
        if data and op.kind != "update":
            continue
        out.append((resource[:2], data or mode in (WRITE, GIVE), op.kind not in _FAILED))
    return out


def _accesses(op: Operation) -> list[tuple[tuple[object, ...], bool]]:
    if op.kind == "update":
        return []
    return [
        (resource, mode == WRITE)
        for resource, mode in op.footprint
        if resource and resource[0] in DATA_KINDS and mode in (READ, WRITE)
    ]


def _related(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def oracle(outcome: RunOutcome) -> set[tuple[object, ...]]:
    trace = outcome.trace
    choices, ops, locations = trace.choices, trace.ops, trace.locations
    before: list[set[int]] = []  # before[j]: every step that happens before step j
    for j, (t, op) in enumerate(zip(choices, ops, strict=True)):
        direct = {i for i in range(j) if choices[i] == t}
        if not direct and 0 <= outcome.created_at[t] < j:
            direct.add(outcome.created_at[t])
        observed = {key for key, _, observes in _sync(op) if observes}
        for i in range(j):
            if choices[i] != t and any(
                publishes and key in observed for key, publishes, _ in _sync(ops[i])
            ):
                direct.add(i)
        closure = set(direct)
        for i in direct:
            closure |= before[i]
        before.append(closure)
    races = set()
    for j in range(len(ops)):
        for i in range(j):
            if choices[i] == choices[j] or i in before[j]:
                continue
            for ri, wi in _accesses(ops[i]):
                for rj, wj in _accesses(ops[j]):
                    if (wi or wj) and _related(ri, rj):
                        races.add(race_signature(locations[i], locations[j], ri))
    return races


# ---------------------------------------------------------------- generated programs

_SIMPLE = st.one_of(
    st.tuples(st.sampled_from(["x.get()", "x.set(1)", "y.get()", "y.set(2)"])),
    st.tuples(st.sampled_from(["x.update(inc)", "y.update(inc)"])),
    st.tuples(st.sampled_from(["c.get(1)", "c.set(1, 0)", "c.set(2, 0)", "c.clear()", "len(c)"])),
    st.tuples(st.sampled_from(["ev.set()", "ev.wait(timeout=0.1)", "ev.is_set()"])),
    st.tuples(st.sampled_from(["sem.release()", "sem.acquire(timeout=0.1)"])),
)
_BLOCK = st.tuples(
    st.sampled_from(["with la:", "with lb:", "if la.acquire(blocking=False):", "for _ in '12':"]),
    st.lists(_SIMPLE, min_size=1, max_size=3),
)
_CHILD = st.tuples(st.just("child"), st.lists(_SIMPLE, min_size=1, max_size=2))
_INSTR = st.one_of(_SIMPLE, _SIMPLE, _BLOCK, _CHILD)
_PROGRAMS = st.lists(st.lists(_INSTR, min_size=1, max_size=4), min_size=2, max_size=3)


def _source(program: list[list[tuple[object, ...]]]) -> str:
    lines = ["def inc(v):", "    return v + 1"]
    for n, body in enumerate(program):
        lines.append(f"def t{n}():")
        for k, instr in enumerate(body):
            if len(instr) == 1:
                lines.append(f"    {instr[0]}")
            elif instr[0] == "child":
                lines.append(f"    def child{k}():")
                lines.extend(f"        {inner[0]}" for inner in instr[1])  # type: ignore[attr-defined]
                lines.append(f"    h{k} = interleave.spawn(child{k})")
                lines.append(f"    h{k}.join()")
            else:
                head = str(instr[0])
                lines.append(f"    {head}")
                lines.extend(f"        {inner[0]}" for inner in instr[1])  # type: ignore[attr-defined]
                if head.startswith("if la"):
                    lines.append("        la.release()")
    return "\n".join(lines) + "\n"


def _factory(code: CodeType, threads: int) -> Callable[[], list[Callable[[], None]]]:
    def factory() -> list[Callable[[], None]]:
        env: dict[str, object] = {
            "interleave": interleave,
            "x": interleave.Shared("x", 0),
            "y": interleave.Shared("y", 0),
            "c": interleave.Cache[int, int]("c"),
            "la": interleave.Lock(name="la"),
            "lb": interleave.Lock(name="lb"),
            "ev": interleave.Event(name="ev"),
            "sem": interleave.Semaphore(1, name="sem"),
        }
        exec(code, env)
        return [env[f"t{n}"] for n in range(threads)]  # type: ignore[misc]

    return factory


class _Random:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def choose(self, view: StepView, enabled: list[SimThread]) -> SimThread:
        return self.rng.choice(enabled)


@settings(max_examples=150)
@given(program=_PROGRAMS, seed=st.integers(0, 2**16))
def test_the_detector_agrees_with_brute_force_happens_before(
    program: list[list[tuple[object, ...]]], seed: int
) -> None:
    source = _source(program)
    code = compile(source, "<generated race program>", "exec")
    build: Callable[[], Program] = builder(_factory(code, len(program)))
    for k in range(8):
        _, outcome = run_once(
            build, _Random(seed + k), observers=[DataRaceDetector()], max_steps=200
        )
        found = {f.origin[1:] for f in outcome.raw_findings if f.kind == "data-race"}
        assert found == oracle(outcome), source


def test_the_oracle_sees_a_race_and_its_absence() -> None:
    # The oracle itself can tell: an unlocked write pair races, a locked one does not.
    racy = compile("def t0():\n    x.set(1)\ndef t1():\n    x.set(1)\n", "<racy>", "exec")
    locked = compile(
        "def t0():\n    with la:\n        x.set(1)\ndef t1():\n    with la:\n        x.set(1)\n",
        "<locked>",
        "exec",
    )
    for code, expect in ((racy, 1), (locked, 0)):
        _, outcome = run_once(builder(_factory(code, 2)), _Random(0), observers=[], max_steps=200)
        assert len(oracle(outcome)) == expect
