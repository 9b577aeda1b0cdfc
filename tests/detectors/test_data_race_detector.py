"""The data-race detector: unordered conflicting accesses are found, whatever the values; every
synchronisation edge (lock, event, start/join, semaphore, queue, condition) orders them."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

import pytest

import interleave
from interleave import DataRace, ExploreResult


def _explore(factory: Callable[[], object], **options: object) -> ExploreResult:
    # A correctly synchronised program often has one schedule class only (DPOR): that is
    # the point here, not a health problem.
    options.setdefault("suppress_health_check", ["single_schedule"])
    result = interleave.explore(factory, **options)  # type: ignore[arg-type]
    assert result.exhausted, result.report()
    return result


def _races(result: ExploreResult) -> list[DataRace]:
    return [f for f in result.findings if isinstance(f, DataRace)]


def _line(marker: str) -> int:
    with open(__file__, encoding="utf-8") as f:
        for number, text in enumerate(f, 1):
            if text.rstrip().endswith(f"# {marker}"):
                return number
    raise AssertionError(marker)


def _lines(race: DataRace) -> set[int]:
    assert race.first_location is not None and race.second_location is not None
    return {race.first_location.lineno, race.second_location.lineno}


# ---------------------------------------------------------------- traced attributes


class Tally:
    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def add(self) -> None:
        self.count += 1  # UNLOCKED_ADD

    def add_locked(self) -> None:
        with self.lock:
            self.count += 1

    def peek(self) -> int:
        return self.count  # PEEK


def unlocked_add_and_peek() -> interleave.Scenario:
    tally = Tally()
    # check() passes in every schedule: only one thread writes, yet the read is unordered.
    return interleave.Scenario(threads=[tally.add, tally.peek], check=lambda: tally.count == 1)


def locked_adds() -> interleave.Scenario:
    tally = Tally()
    return interleave.Scenario(
        threads=[tally.add_locked, tally.add_locked], check=lambda: tally.count == 2
    )


def test_unlocked_increment_races_with_a_read_even_when_check_passes() -> None:
    result = _explore(unlocked_add_and_peek, trace_attributes=True)
    assert [f.kind for f in result.findings] == ["data-race"]
    race = _races(result)[0]
    assert _lines(race) == {_line("UNLOCKED_ADD"), _line("PEEK")}
    assert race.resource == ("attr", "Tally#1.count")
    assert {race.first_access, race.second_access} == {"read", "write"}
    assert set(race.threads) == {"add#1", "peek#1"}
    assert str(race.first_location) in race.message and str(race.second_location) in race.message


def test_the_locked_increment_has_no_race() -> None:
    result = _explore(locked_adds, trace_attributes=True)
    assert result.ok, result.report()


def test_unlocked_increment_reports_the_lost_update_first_then_the_race() -> None:
    def both_add() -> interleave.Scenario:
        tally = Tally()
        return interleave.Scenario(threads=[tally.add, tally.add])

    result = _explore(both_add, trace_attributes=True)
    assert [f.kind for f in result.findings] == ["lost-update", "data-race"]
    assert _lines(_races(result)[0]) == {_line("UNLOCKED_ADD")}


# ---------------------------------------------------------------- locks


def test_read_then_write_under_two_different_locks_races() -> None:
    def scenario() -> list[Callable[[], None]]:
        value = interleave.Shared("value", 0)
        a, b = interleave.Lock(name="a"), interleave.Lock(name="b")

        def reader() -> None:
            with a:
                value.get()  # READ_UNDER_A

        def writer() -> None:
            with b:
                value.set(1)  # WRITE_UNDER_B

        return [reader, writer]

    result = _explore(scenario)
    assert [f.kind for f in result.findings] == ["data-race"]
    assert _lines(_races(result)[0]) == {_line("READ_UNDER_A"), _line("WRITE_UNDER_B")}


def test_one_lock_orders_the_read_and_the_write() -> None:
    def scenario() -> list[Callable[[], None]]:
        value = interleave.Shared("value", 0)
        lock = interleave.Lock(name="a")

        def reader() -> None:
            with lock:
                value.get()

        def writer() -> None:
            with lock:
                value.set(1)

        return [reader, writer]

    assert _explore(scenario).ok


def test_a_failed_try_acquire_orders_nothing() -> None:
    def scenario() -> list[Callable[[], None]]:
        value = interleave.Shared("value", 0)
        # Racy on purpose: tells the prober the holder has taken the lock again, without
        # ordering anything.
        again = interleave.Shared("again", False, racy=True)
        lock = interleave.Lock(name="a")

        def holder() -> None:
            with lock:
                value.set(1)  # HELD_WRITE
            lock.acquire()  # and keeps it
            again.set(True)

        def prober() -> None:
            # The lock was released after the write, but the try-acquire that finds it held
            # again learns nothing from that release: the read is unordered with the write.
            if again.get() and not lock.acquire(blocking=False):
                value.get()  # PROBED_READ

        return [holder, prober]

    result = _explore(scenario)
    assert [f.kind for f in result.findings] == ["data-race"]
    assert _lines(_races(result)[0]) == {_line("HELD_WRITE"), _line("PROBED_READ")}


# ---------------------------------------------------------------- events, start/join


def test_publication_through_an_event_is_not_a_race() -> None:
    def scenario() -> list[Callable[[], None]]:
        data = interleave.Shared("data", None)
        ready = interleave.Event(name="ready")

        def producer() -> None:
            data.set("payload")
            ready.set()

        def consumer() -> None:
            ready.wait()
            assert data.get() == "payload"

        return [producer, consumer]

    assert _explore(scenario).ok


def test_a_write_after_the_event_is_set_races() -> None:
    def scenario() -> list[Callable[[], None]]:
        data = interleave.Shared("data", None)
        ready = interleave.Event(name="ready")

        def producer() -> None:
            ready.set()
            data.set("late")  # LATE_WRITE

        def consumer() -> None:
            ready.wait()
            data.get()  # EVENT_READ

        return [producer, consumer]

    result = _explore(scenario)
    assert [f.kind for f in result.findings] == ["data-race"]
    assert _lines(_races(result)[0]) == {_line("LATE_WRITE"), _line("EVENT_READ")}


def test_spawn_and_join_order_the_parent_and_the_child() -> None:
    def scenario() -> list[Callable[[], None]]:
        data = interleave.Shared("data", 0)

        def child() -> None:
            data.set(data.get() + 1)

        def parent() -> None:
            data.set(1)  # before the start: ordered before the child
            handle = interleave.spawn(child)
            handle.join()
            data.get()  # after the join: ordered after the child

        return [parent]

    assert _explore(scenario).ok


def test_threading_start_and_join_order_too_but_not_without_the_join() -> None:
    def scenario(join: bool) -> Callable[[], list[Callable[[], None]]]:
        def factory() -> list[Callable[[], None]]:
            data = interleave.Shared("data", 0)

            def child() -> None:
                data.set(2)  # CHILD_WRITE

            def parent() -> None:
                data.set(1)
                worker = threading.Thread(target=child)
                worker.start()
                if join:
                    worker.join()
                data.get()  # PARENT_READ

            return [parent]

        return factory

    assert _explore(scenario(True)).ok
    result = _explore(scenario(False))
    assert [f.kind for f in result.findings] == ["data-race"]
    assert _lines(_races(result)[0]) == {_line("CHILD_WRITE"), _line("PARENT_READ")}


# ---------------------------------------------------------------- semaphore, queue, condition


def test_a_semaphore_release_orders_the_acquire_after_it() -> None:
    def scenario() -> list[Callable[[], None]]:
        data = interleave.Shared("data", 0)
        items = interleave.Semaphore(0, name="items")

        def producer() -> None:
            data.set(1)
            items.release()

        def consumer() -> None:
            items.acquire()
            data.get()

        return [producer, consumer]

    assert _explore(scenario).ok


def test_a_queue_put_orders_the_get_that_takes_it() -> None:
    def scenario() -> list[Callable[[], None]]:
        data = interleave.Shared("data", 0)
        box: queue.Queue[int] = queue.Queue()

        def producer() -> None:
            data.set(1)
            box.put(1)

        def consumer() -> None:
            box.get()
            data.get()

        return [producer, consumer]

    assert _explore(scenario).ok


def test_a_condition_notify_orders_the_waiter_it_wakes() -> None:
    def scenario() -> list[Callable[[], None]]:
        data = interleave.Shared("data", 0)
        ready = interleave.Shared("ready", False)
        cond = interleave.Condition(name="cond")

        def producer() -> None:
            data.set(1)
            with cond:
                ready.set(True)
                cond.notify()

        def consumer() -> None:
            with cond:
                while not ready.get():
                    cond.wait()
            data.get()

        return [producer, consumer]

    assert _explore(scenario).ok


def test_an_atomic_counter_is_never_a_race_but_its_plain_get_set_is() -> None:
    def scenario() -> list[Callable[[], None]]:
        hits = interleave.Counter("hits")
        return [hits.add, hits.add]

    assert _explore(scenario).ok

    def plain() -> list[Callable[[], None]]:
        hits = interleave.Counter("hits")
        return [lambda: hits.set(hits.get() + 1), hits.add, hits.get]

    kinds = [f.kind for f in _explore(plain).findings]
    assert "data-race" in kinds


def test_an_atomic_update_publishes_like_an_atomic() -> None:
    def scenario() -> list[Callable[[], None]]:
        data = interleave.Shared("data", 0)
        flag = interleave.Shared("flag", 0)

        def producer() -> None:
            data.set(1)
            flag.update(lambda v: v + 1)

        def consumer() -> None:
            if flag.update(lambda v: v) == 1:
                data.get()

        return [producer, consumer]

    assert _explore(scenario).ok


def test_a_cache_clear_races_with_a_key() -> None:
    def scenario() -> list[Callable[[], None]]:
        users = interleave.Cache[int, str]("users")
        return [lambda: users.set(1, "ann"), users.clear]

    result = _explore(scenario)
    assert [f.kind for f in result.findings] == ["data-race"]
    assert {_races(result)[0].resource} <= {("cache", "users", 1), ("cache", "users")}


def test_two_keys_of_a_cache_do_not_race() -> None:
    def scenario() -> list[Callable[[], None]]:
        users = interleave.Cache[int, str]("users")
        return [lambda: users.set(1, "ann"), lambda: users.set(2, "bob")]

    assert _explore(scenario).ok


# ---------------------------------------------------------------- exemptions, switch, replay


def _racy_flag(racy: bool) -> Callable[[], list[Callable[[], None]]]:
    def scenario() -> list[Callable[[], None]]:
        seen = interleave.Shared("seen", 0, racy=racy)
        return [lambda: seen.set(1), seen.get]

    return scenario


def test_racy_true_exempts_a_variable() -> None:
    assert [f.kind for f in _explore(_racy_flag(False)).findings] == ["data-race"]
    assert _explore(_racy_flag(True)).ok


def test_variables_of_one_name_keep_their_own_flag_and_kind() -> None:
    # The operations of a variable are shared by name (made once, not per execution): the
    # racy flag and the kind of variable must still be each variable's own.
    assert _explore(_racy_flag(True)).ok
    assert [f.kind for f in _explore(_racy_flag(False)).findings] == ["data-race"]
    assert _explore(_racy_flag(True)).ok
    shared, counter = interleave.Shared("seen", 0), interleave.Counter("seen")
    assert shared._read.resource == ("shared", "seen")
    assert counter._read.resource == ("counter", "seen")
    assert counter._add.label == "add" and shared._update.label == "update"


def test_racy_must_be_a_bool() -> None:
    with pytest.raises(interleave.InvalidArgument, match="racy='yes'"):
        interleave.Shared("seen", 0, racy="yes")  # type: ignore[arg-type]
    with pytest.raises(interleave.InvalidArgument, match="racy=1"):
        interleave.Counter("seen", racy=1)  # type: ignore[arg-type]


def test_the_switch_turns_the_detector_off() -> None:
    result = _explore(_racy_flag(False), detect_data_races=False)
    assert result.ok
    assert result.settings.detect_data_races is False
    settings = interleave.ExploreSettings(detect_data_races=False)
    assert _explore(_racy_flag(False), settings=settings).ok
    with pytest.raises(interleave.InvalidArgument, match="detect_data_races=1"):
        interleave.ExploreSettings(detect_data_races=1)  # type: ignore[arg-type]


def test_a_race_replays_from_its_schedule_id() -> None:
    result = _explore(unlocked_add_and_peek, trace_attributes=True)
    race = _races(result)[0]
    run = interleave.replay(unlocked_add_and_peek, race.schedule_id)
    again = [f for f in run.findings if isinstance(f, DataRace)]
    assert [f.origin for f in again] == [race.origin]
    assert (again[0].first_step, again[0].second_step) == (race.first_step, race.second_step)
    quiet = interleave.replay(unlocked_add_and_peek, race.schedule_id, detect_data_races=False)
    assert quiet.ok


def test_the_report_marks_both_accesses() -> None:
    result = _explore(unlocked_add_and_peek, trace_attributes=True)
    text = result.report()
    assert "<- DATA RACE" in text
    race = _races(result)[0]
    assert f"<- {race.first_access}" in text


def test_one_finding_per_pair_of_lines() -> None:
    def scenario() -> list[Callable[[], None]]:
        value = interleave.Shared("value", 0)

        def writer() -> None:
            for _ in range(3):
                value.set(1)

        return [writer, writer]

    result = _explore(scenario)
    assert [f.kind for f in result.findings] == ["data-race"]
