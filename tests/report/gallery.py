"""A gallery of scenarios that together produce every kind of report: each finding kind, a
clean proof, a bounded, a sampled and a stopped exploration, replays and a summary.

The README's lost update and the dining philosophers' deadlock are here as the examples a
reader sees first (``docs/`` shows their HTML report).
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import interleave

ROOT = Path(__file__).resolve().parents[2]


def lost_update() -> interleave.Scenario:
    hits = interleave.Shared("hits", 0)

    def worker() -> None:
        hits.set(hits.get() + 1)  # a read, then a write: two steps

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)


def locked_counter() -> interleave.Scenario:
    hits = interleave.Shared("hits", 0)
    lock = interleave.Lock(name="hits")

    def worker() -> None:
        with lock:
            hits.set(hits.get() + 1)

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)


def crash() -> interleave.Scenario:
    box = interleave.Shared("box", None)

    def writer() -> None:
        box.set({"ready": True})

    def reader() -> None:
        value = box.get()
        assert value is not None, "read before it was written"

    return interleave.Scenario(threads={"writer": writer, "reader": reader})


def spinner() -> interleave.Scenario:
    flag = interleave.Shared("flag", False)

    def waiter() -> None:
        while not flag.get():
            pass

    def setter() -> None:
        flag.set(True)

    return interleave.Scenario(threads={"waiter": waiter, "setter": setter})


def failing_teardown() -> interleave.Scenario:
    hits = interleave.Shared("hits", 0)

    def worker() -> None:
        hits.set(hits.get() + 1)

    def close() -> None:
        if hits.get() != 2:
            raise RuntimeError("connection left in a bad state")

    return interleave.Scenario(threads=[worker, worker], teardown=close)


def stuck_without_cycle() -> interleave.Scenario:
    ready = interleave.Event(name="ready")

    def waiter() -> None:
        ready.wait()

    return interleave.Scenario(threads={"waiter": waiter})


def three_workers() -> interleave.Scenario:
    hits = interleave.Shared("hits", 0)
    lock = interleave.Lock(name="stats")

    def worker() -> None:
        hits.set(hits.get() + 1)
        with lock:
            pass

    return interleave.Scenario(threads=[worker, worker, worker], check=lambda: hits.get() == 3)


@functools.cache
def dining_philosophers() -> Callable[[], interleave.Scenario]:
    """The example's ``naive`` factory (three philosophers, a lock-order deadlock)."""
    path = ROOT / "examples" / "dining_philosophers.py"
    spec = importlib.util.spec_from_file_location("_gallery_dining_philosophers", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    naive: Callable[[], interleave.Scenario] = module.naive
    return naive


#: (name, factory, explore() options, the finding kinds it must report).
CASES: tuple[tuple[str, Callable[[], Any], dict[str, Any], tuple[str, ...]], ...] = (
    ("lost_update", lost_update, {}, ("lost-update", "invariant", "data-race")),
    ("locked_counter", locked_counter, {}, ()),
    ("crash", crash, {}, ("exception", "data-race")),
    ("spinner", spinner, {"max_steps": 50}, ("step-limit",)),
    ("failing_teardown", failing_teardown, {}, ("lost-update", "teardown", "data-race")),
    ("stuck_without_cycle", stuck_without_cycle, {}, ("deadlock",)),
    ("three_workers", three_workers, {}, ("lost-update", "invariant", "data-race")),
    (
        "bounded",
        three_workers,
        {"preemption_bound": 0, "strategy": "dfs", "detect_data_races": False},
        (),
    ),
    ("sampled", lost_update, {"strategy": "random", "seed": 1, "max_schedules": 5}, None),
    ("budget", three_workers, {"max_schedules": 3, "minimise": False}, None),
)


@functools.cache
def results() -> dict[str, interleave.ExploreResult]:
    """Every case explored once (cached for the session), plus the dining philosophers."""
    out = {}
    for name, factory, options, kinds in CASES:
        result = interleave.explore(factory, **options)
        if kinds is not None:
            assert tuple(dict.fromkeys(f.kind for f in result.findings)) == kinds, name
        out[name] = result
    philosophers = interleave.explore(dining_philosophers())
    assert [f.kind for f in philosophers.findings] == ["deadlock"]
    out["dining_philosophers"] = philosophers
    return out


def factory_of(name: str) -> Callable[[], Any]:
    if name == "dining_philosophers":
        return dining_philosophers()
    return next(factory for case, factory, _, _ in CASES if case == name)


@functools.cache
def replays() -> dict[str, interleave.RunResult]:
    """A replay of every distinct schedule ID of every result, and of the closest passing
    schedule of the lost update (a replay without findings)."""
    out = {}
    for name, result in results().items():
        for finding in result.findings:
            key = f"{name}/{finding.schedule_id}"
            if finding.schedule_id and key not in out:
                out[key] = interleave.replay(factory_of(name), finding.schedule_id)
    passing = results()["lost_update"].closest_passing[0]
    assert passing is not None
    # Without the race detector: every schedule of the lost update races.
    out["passing"] = interleave.replay(lost_update, passing.schedule_id, detect_data_races=False)
    assert out["passing"].ok
    return out
