"""Attribute tracing: ``explore(trace_attributes=True)``, ``watch(cls)`` and ``watch(obj)``."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from programs import counter

import interleave
from interleave.instrument._watch import is_watched, unwatch, watch


def _line_of(text: str) -> int:
    source = Path(counter.__file__).read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(source, 1) if text in line)


def _kinds(result: interleave.ExploreResult) -> set[str]:
    return {f.kind for f in result.findings}


def _counter(counter_type: type) -> interleave.Scenario:
    hits = counter_type()
    return interleave.Scenario(
        threads=[lambda: counter.hammer(hits)], check=lambda: hits.count == 2
    )


# ------------------------------------------------------------------ trace_attributes=True
def test_count_increment_race_is_invisible_without_tracing() -> None:
    # Plain attribute accesses are no yield points: the race is invisible, and the health
    # check says that the exploration saw nothing to interleave.
    with pytest.warns(interleave.HealthCheckWarning, match="followed the same schedule"):
        result = interleave.explore(lambda: _counter(counter.HitCounter))
    assert result.ok


def test_count_increment_race_is_found_with_tracing_and_replays() -> None:
    result = interleave.explore(lambda: _counter(counter.HitCounter), trace_attributes=True)
    assert _kinds(result) == {"lost-update", "invariant", "data-race"}
    lost = next(f for f in result.findings if isinstance(f, interleave.LostUpdate))
    assert lost.resource == ("attr", "HitCounter#1.count")
    assert f"counter.py:{_line_of('self.count += 1  # the bug')}" in lost.message
    run = interleave.replay(
        lambda: _counter(counter.HitCounter), lost.schedule_id, trace_attributes=True
    )
    assert "lost-update" in {f.kind for f in run.findings}
    # The hooks are gone after the exploration.
    assert not is_watched(counter.HitCounter)
    assert "__getattribute__" not in vars(counter.HitCounter)


def test_locked_count_increment_is_clean_with_tracing() -> None:
    result = interleave.explore(lambda: _counter(counter.LockedHitCounter), trace_attributes=True)
    assert result.ok and result.exhausted, result.report()


def test_tracing_does_not_count_reads_of_methods() -> None:
    def scenario() -> interleave.Scenario:
        hits = counter.HitCounter()
        return interleave.Scenario(threads=[hits.hit])

    result = interleave.explore(
        scenario,
        trace_attributes=True,
        strategy="dfs",
        suppress_health_check=[interleave.HealthCheck.single_thread],
    )
    assert result.statistics.steps == 2  # the read and the write of .count, not .hit


# ------------------------------------------------------------------ watch()
class Plain:
    def __init__(self) -> None:
        self.value = 0

    def bump(self) -> None:
        self.value = self.value + 1


def _bumps(obj: Plain) -> interleave.Scenario:
    return interleave.Scenario(threads=[obj.bump, obj.bump], check=lambda: obj.value == 2)


def test_watch_an_instance_only_watches_that_object() -> None:
    watched_objects: list[Plain] = []

    def scenario() -> interleave.Scenario:
        obj = watch(Plain())
        watched_objects.append(obj)
        return _bumps(obj)

    result = interleave.explore(scenario)
    assert _kinds(result) == {"lost-update", "invariant", "data-race"}
    assert isinstance(watched_objects[0], Plain) and type(watched_objects[0]).__name__ == "Plain"
    assert is_watched(watched_objects[0]) and not is_watched(Plain())
    # Other instances are not watched: no step, and the health check says so.
    with pytest.warns(interleave.HealthCheckWarning, match="no step at all"):
        assert interleave.explore(lambda: _bumps(Plain())).ok
    unwatch(watched_objects[0])
    assert type(watched_objects[0]) is Plain


def test_watch_a_class_as_decorator() -> None:
    @watch
    class Box:
        def __init__(self) -> None:
            self.items: dict[str, int] = {}
            self.n = 0

    try:

        def scenario() -> interleave.Scenario:
            box = Box()

            def add() -> None:
                box.n += 1

            return interleave.Scenario(threads=[add, add], check=lambda: box.n == 2)

        result = interleave.explore(scenario)
        assert "lost-update" in _kinds(result)
        # Outside an exploration the class works as before.
        box = Box()
        box.n += 5
        assert box.n == 5
    finally:
        unwatch(Box)
    assert not is_watched(Box)


def test_watch_items_of_a_dict_subclass() -> None:
    @watch
    class Registry(dict[str, int]):
        pass

    try:

        def scenario() -> interleave.Scenario:
            reg = Registry(hits=0)

            def hit() -> None:
                reg["hits"] = reg["hits"] + 1

            return interleave.Scenario(threads=[hit, hit], check=lambda: reg["hits"] == 2)

        result = interleave.explore(scenario)
        lost = next(f for f in result.findings if isinstance(f, interleave.LostUpdate))
        assert lost.resource == ("item", "Registry#1['hits']")
    finally:
        unwatch(Registry)


def test_watched_subclass_of_watched_class_announces_once() -> None:
    @watch
    class Base:
        def __init__(self) -> None:
            self.x = 0

    @watch
    class Child(Base):
        pass

    try:

        def scenario() -> interleave.Scenario:
            child = Child()

            def read() -> None:
                assert child.x == 0

            return interleave.Scenario(threads=[read])

        one_thread = [interleave.HealthCheck.single_thread]
        result = interleave.explore(scenario, strategy="dfs", suppress_health_check=one_thread)
        assert result.statistics.steps == 1
    finally:
        unwatch(Child)
        unwatch(Base)


def test_watch_rejects_builtin_objects_with_advice() -> None:
    with pytest.raises(interleave.InvalidArgument, match="built-in type"):
        watch({})
    with pytest.raises(interleave.InvalidArgument, match=r"interleave\.Shared"):
        watch(dict)


def test_threading_is_still_patched_with_tracing() -> None:
    def scenario() -> interleave.Scenario:
        lock = threading.Lock()
        return interleave.Scenario(threads=[lambda: lock.acquire()])

    # No attribute is touched: the health check says that tracing saw nothing.
    with pytest.warns(interleave.HealthCheckWarning, match="traced no attribute access"):
        result = interleave.explore(
            scenario,
            trace_attributes=True,
            suppress_health_check=[interleave.HealthCheck.single_thread],
        )
    assert result.ok
