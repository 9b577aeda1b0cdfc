"""The lost-update detector finds the textbook bug and raises no false alarm on fixed versions."""

from __future__ import annotations

from collections.abc import Callable

import interleave
from interleave import ExploreResult, LostUpdate


def _explore(
    factory: Callable[[], object], strategy: str = "dfs", **options: object
) -> ExploreResult:
    # The lost-update detector alone: these programs race too (test_data_race_detector.py).
    options.setdefault("detect_data_races", False)
    result = interleave.explore(factory, strategy=strategy, **options)  # type: ignore[arg-type]
    assert result.exhausted, result.report()
    return result


def _lost_updates(result: ExploreResult) -> list[LostUpdate]:
    return [f for f in result.findings if isinstance(f, LostUpdate)]


def textbook() -> interleave.Scenario:
    hits = interleave.Shared("hits", 0)

    def worker() -> None:
        value = hits.get()  # READ_LINE
        hits.set(value + 1)  # WRITE_LINE

    return interleave.Scenario(threads={"alice": worker, "bob": worker})


def _line(marker: str) -> int:
    with open(__file__, encoding="utf-8") as f:
        for number, text in enumerate(f, 1):
            if text.rstrip().endswith(f"# {marker}"):
                return number
    raise AssertionError(marker)


def test_textbook_lost_update_is_found_with_its_three_steps() -> None:
    result = _explore(textbook)
    assert [f.kind for f in result.findings] == ["lost-update"]
    finding = _lost_updates(result)[0]
    assert finding.resource == ("shared", "hits")
    assert finding.threads == ("alice", "bob")
    assert finding.steps == (finding.read_step, finding.other_write_step, finding.write_step)
    assert finding.read_step < finding.other_write_step < finding.write_step
    trace = finding.trace
    assert trace is not None
    read, other, write = (trace.step(i) for i in finding.steps)
    assert (read.thread_name, read.op.kind) == ("alice", "read")
    assert (other.thread_name, other.op.kind) == ("bob", "write")
    assert (write.thread_name, write.op.kind) == ("alice", "write")
    assert read.location is not None and read.location.lineno == _line("READ_LINE")
    assert write.location is not None and write.location.lineno == _line("WRITE_LINE")
    assert finding.message.startswith(f"alice read shared 'hits' at step {finding.read_step} (")
    assert f"bob wrote it at step {finding.other_write_step} (" in finding.message
    assert f"then alice wrote it at step {finding.write_step} (" in finding.message
    assert finding.message.endswith("without reading it again: bob's update is lost")


def test_textbook_lost_update_replays_to_the_same_finding() -> None:
    finding = _lost_updates(_explore(textbook))[0]
    run = interleave.replay(textbook, finding.schedule_id, detect_data_races=False)
    assert [f.message for f in run.findings] == [finding.message]


def test_report_marks_the_three_steps() -> None:
    result = _explore(textbook)
    finding = _lost_updates(result)[0]
    lines = result.report().splitlines()

    def row(step: int) -> str:
        return next(line for line in lines if line.startswith(f"{step} "))

    assert row(finding.read_step).endswith("<- read")
    assert row(finding.other_write_step).endswith("<- writes after that read")
    assert row(finding.write_step).endswith("<- LOST UPDATE: overwrites it")
    # (Explored without data races: the line replays without them too.)
    line = f"interleave.replay(textbook, {finding.schedule_id!r}, detect_data_races=False)"
    assert line in result.report()


def _clean(factory: Callable[[], object], **options: object) -> None:
    result = _explore(factory, **options)
    assert result.ok, result.report()


def test_no_finding_for_atomic_shared_update() -> None:
    def scenario() -> interleave.Scenario:
        hits = interleave.Shared("hits", 0)

        def worker() -> None:
            hits.update(lambda v: v + 1)

        return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)

    _clean(scenario)


def test_no_finding_for_atomic_counter_add_mixed_with_reads() -> None:
    def scenario() -> interleave.Scenario:
        hits = interleave.Counter("hits")

        def worker() -> None:
            hits.get()
            hits.add()

        return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)

    _clean(scenario)


def test_no_finding_for_a_correctly_locked_read_modify_write() -> None:
    def scenario() -> interleave.Scenario:
        hits = interleave.Shared("hits", 0)
        lock = interleave.Lock(name="hits-lock")

        def worker() -> None:
            with lock:
                hits.set(hits.get() + 1)

        return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)

    _clean(scenario)


def test_no_finding_for_a_thread_that_rereads_before_writing() -> None:
    def scenario() -> interleave.Scenario:
        hits = interleave.Shared("hits", 0)

        def writer() -> None:
            hits.set(10)

        def rereader() -> None:
            hits.get()
            interleave.point("think")
            hits.set(hits.get() + 1)

        return interleave.Scenario(threads=[writer, rereader])

    result = _explore(scenario)
    # The re-read is itself a stale read when the writer runs between it and the set: only
    # that placement (writer between the second get and the set) is a lost update.
    for finding in _lost_updates(result):
        trace = finding.trace
        assert trace is not None
        second_read = max(
            i
            for i in range(finding.write_step)
            if trace.step(i).thread_name == "rereader#1" and trace.step(i).op.kind == "read"
        )
        assert finding.read_step == second_read


def test_no_finding_when_the_stale_read_is_followed_by_a_fresh_read() -> None:
    def scenario() -> interleave.Scenario:
        hits = interleave.Shared("hits", 0)
        wrote = interleave.Event(name="wrote")

        def writer() -> None:
            hits.set(10)
            wrote.set()

        def rereader() -> None:
            hits.get()
            wrote.wait()
            hits.set(hits.get() + 1)

        return interleave.Scenario(threads=[writer, rereader], check=lambda: hits.get() == 11)

    _clean(scenario)


def test_no_finding_for_two_threads_on_different_shared_names() -> None:
    def scenario() -> interleave.Scenario:
        a = interleave.Shared("a", 0)
        b = interleave.Shared("b", 0)
        return interleave.Scenario(threads=[lambda: a.set(a.get() + 1), lambda: b.set(b.get() + 1)])

    _clean(scenario)


def test_no_finding_when_cache_keys_differ() -> None:
    def scenario() -> interleave.Scenario:
        cache: interleave.Cache[str, int] = interleave.Cache("c")

        def bump(key: str) -> Callable[[], None]:
            return lambda: cache.set(key, cache.get(key, 0) + 1)

        return interleave.Scenario(threads=[bump("x"), bump("y")])

    _clean(scenario)


def test_cache_same_key_get_then_set_is_a_lost_update() -> None:
    def scenario() -> interleave.Scenario:
        cache: interleave.Cache[str, int] = interleave.Cache("c")

        def bump() -> None:
            cache.set("x", cache.get("x", 0) + 1)

        return interleave.Scenario(threads=[bump, bump])

    findings = _lost_updates(_explore(scenario))
    assert [f.resource for f in findings] == [("cache", "c", "x")]


def test_cache_clear_between_get_and_set_is_a_lost_update() -> None:
    def scenario() -> interleave.Scenario:
        cache: interleave.Cache[str, int] = interleave.Cache("c")

        def bump() -> None:
            cache.set("x", cache.get("x", 0) + 1)

        return interleave.Scenario(threads={"bump": bump, "wipe": cache.clear})

    findings = _lost_updates(_explore(scenario))
    assert len(findings) == 1
    finding = findings[0]
    assert finding.resource == ("cache", "c", "x")
    assert finding.threads == ("bump", "wipe")
    trace = finding.trace
    assert trace is not None
    assert trace.step(finding.other_write_step).op.label == "clear"
    assert "wipe wrote it at step" in finding.message


def test_cache_clear_by_the_same_thread_is_not_a_lost_update() -> None:
    def scenario() -> interleave.Scenario:
        cache: interleave.Cache[str, int] = interleave.Cache("c")

        def bump_and_reset() -> None:
            value = cache.get("x", 0)
            cache.clear()
            cache.set("x", value + 1)

        return interleave.Scenario(threads=[bump_and_reset])

    _clean(scenario, suppress_health_check=[interleave.HealthCheck.single_thread])


def test_counter_get_then_set_is_a_lost_update() -> None:
    def scenario() -> interleave.Scenario:
        visits = interleave.Counter("visits")

        def worker() -> None:
            visits.set(visits.get() + 1)

        return interleave.Scenario(threads=[worker, worker])

    findings = _lost_updates(_explore(scenario))
    assert [f.resource for f in findings] == [("counter", "visits")]


def test_an_atomic_update_by_another_thread_can_be_the_lost_one() -> None:
    def scenario() -> interleave.Scenario:
        hits = interleave.Shared("hits", 0)

        def racy() -> None:
            hits.set(hits.get() + 1)

        def atomic() -> None:
            hits.update(lambda v: v + 1)

        return interleave.Scenario(threads={"racy": racy, "atomic": atomic})

    findings = _lost_updates(_explore(scenario))
    assert len(findings) == 1
    assert findings[0].threads == ("racy", "atomic")
    trace = findings[0].trace
    assert trace is not None
    assert trace.step(findings[0].other_write_step).op.kind == "update"


def test_hand_placed_points_with_a_resource_are_tracked() -> None:
    def scenario() -> interleave.Scenario:
        def worker() -> None:
            interleave.point("load", resource="row", access="read")
            interleave.point("store", resource="row", access="write")

        return interleave.Scenario(threads=[worker, worker])

    findings = _lost_updates(_explore(scenario))
    assert [f.resource for f in findings] == [("point", "row")]
