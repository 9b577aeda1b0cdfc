"""ExploreSettings, ExitReason, the schedule database and results as data."""

from __future__ import annotations

import json
import multiprocessing
import pickle
from pathlib import Path

import pytest
from textbook import lost_update

import interleave
from interleave import DirectoryDatabase, ExitReason, ExploreSettings, InMemoryDatabase
from interleave.errors import InternalError, InvalidArgument


def fixed_update() -> interleave.Scenario:
    hits = interleave.Shared("hits", 0)

    def worker() -> None:
        hits.update(lambda v: v + 1)

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)


# --------------------------------------------------------------------------------- settings


def test_settings_alone_are_the_defaults_of_explore() -> None:
    settings = ExploreSettings()
    assert settings.strategy == "dpor"
    assert settings.max_schedules == 10_000 and settings.max_steps == 10_000
    assert settings.option_names()[:3] == ("max_schedules", "strategy", "seed")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_schedules": 0}, "max_schedules=0 must be at least 1"),
        ({"strategy": "bfs"}, "strategy='bfs' is not one of"),
        ({"seed": 3}, "only applies to strategy='random' or 'pct'"),
        ({"strategy": "random", "preemption_bound": 1}, "applies to strategy='dfs' or 'dpor'"),
        ({"timeout": 0}, "timeout=0 must be greater than 0 seconds"),
        ({"watchdog": -1}, "watchdog=-1 must be a number of seconds"),
        ({"minimise": "yes"}, "minimise='yes' must be True or False"),
        ({"suppress_health_check": ["nope"]}, "'nope' is not a health check"),
        ({"project": [3]}, "must be package names or paths"),
    ],
)
def test_settings_are_validated_when_made(options: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        ExploreSettings(**options)  # type: ignore[arg-type]


def test_settings_are_frozen_picklable_and_replaced_with_validation() -> None:
    settings = ExploreSettings(strategy="dfs", suppress_health_check=["single_thread"])
    assert pickle.loads(pickle.dumps(settings)) == settings
    with pytest.raises(AttributeError):
        settings.strategy = "dpor"  # type: ignore[misc]
    assert settings.replace(max_schedules=5).max_schedules == 5
    with pytest.raises(InvalidArgument, match="max_schedules=-1"):
        settings.replace(max_schedules=-1)
    with pytest.raises(InvalidArgument, match="unknown exploration option"):
        settings.replace(max_schedule=5)


def test_explore_takes_settings_and_keywords_override_them() -> None:
    settings = ExploreSettings(strategy="dfs", minimise=False)
    result = interleave.explore(lost_update, settings=settings)
    assert result.strategy == "dfs" and result.settings == settings
    assert result.schedules_run == 6  # every interleaving of two read-write pairs
    bounded = interleave.explore(lost_update, settings=settings, max_schedules=2)
    assert bounded.settings.max_schedules == 2 and bounded.settings.strategy == "dfs"
    assert bounded.stopped_because == "max_schedules"
    with pytest.raises(InvalidArgument, match=r"must be an interleave\.ExploreSettings"):
        interleave.explore(lost_update, settings={"strategy": "dfs"})  # type: ignore[arg-type]


# ------------------------------------------------------------------------------ exit reasons


def test_exit_reasons_are_strings_with_their_own_words_and_verdicts() -> None:
    assert ExitReason.EXHAUSTED == "exhausted"
    assert ExitReason.EXHAUSTED.verdict == "proved"
    assert ExitReason.PREEMPTION_BOUND.verdict == "bounded"
    assert ExitReason.PREEMPTION_BOUND_PARTIAL.verdict == "sampled"
    assert ExitReason.INTERRUPTED.verdict == "interrupted"
    assert all(reason.text for reason in ExitReason)
    result = interleave.explore(fixed_update)
    assert result.stopped_because is ExitReason.EXHAUSTED
    assert result.stopped_text == "every schedule was explored"


# ---------------------------------------------------------------------------------- phases


def test_phases_are_counted_on_their_own() -> None:
    result = interleave.explore(lost_update)
    stats = result.statistics
    assert set(stats.phase_executions) == {"explore", "minimise"}
    assert stats.phase_executions["explore"] == result.schedules_run
    assert stats.executions == sum(stats.phase_executions.values())
    assert set(stats.phases) == set(stats.phase_executions)


# -------------------------------------------------------------------------------- database


@pytest.mark.parametrize("kind", ["memory", "directory"])
def test_a_saved_failure_is_reproduced_first_without_exploring(kind: str, tmp_path: Path) -> None:
    db = InMemoryDatabase() if kind == "memory" else DirectoryDatabase(tmp_path / "db")
    first = interleave.explore(lost_update, database=db)
    assert not first.ok
    saved = db.fetch(first.target or "")
    assert saved == sorted({f.schedule_id for f in first.findings})

    again = interleave.explore(lost_update, database=db)
    assert again.stopped_because == "reproduced" and again.verdict == "sampled"
    assert [f.origin for f in again.findings] == [f.origin for f in first.findings]
    assert again.schedules_run == 0
    assert again.statistics.phase_executions == {"reuse": len(saved)}
    assert "earlier run saved" in again.report()
    # It said "schedules run 0" and "(0 schedules/s)", as if nothing had run.
    replayed = f"0 (and {len(saved)} saved schedule(s) replayed first)"
    assert replayed in again.report() and replayed in again.to_html()
    assert "schedules/s" not in again.report()


def test_a_fixed_or_stale_saved_schedule_is_deleted(tmp_path: Path) -> None:
    db = DirectoryDatabase(tmp_path)
    key = "the-key"
    first = interleave.explore(lost_update, database=db, database_key=key)
    db.save(key, "2-not-an-id")
    assert len(db.fetch(key)) == len({f.schedule_id for f in first.findings}) + 1
    # The same key, now the fixed scenario: the saved failure no longer fails.
    fixed = interleave.explore(fixed_update, database=db, database_key=key)
    assert fixed.ok and fixed.exhausted and fixed.verdict == "proved"
    assert db.fetch(key) == []


def race(*, fixed: bool) -> interleave.Scenario:
    # The reader must see the write; the fixed check accepts both orders of the same steps
    # (the flag races on purpose: the check judges the order).
    flag = interleave.Shared("flag", False, racy=True)
    seen: list[bool] = []

    def writer() -> None:
        flag.set(True)

    def reader() -> None:
        seen.append(flag.get())

    check = (lambda: len(seen) == 1) if fixed else (lambda: seen == [True])
    return interleave.Scenario(threads=[writer, reader], check=check, name="race")


def test_the_result_says_what_became_of_each_saved_schedule() -> None:
    db, key = InMemoryDatabase(), "race"
    first = interleave.explore(lambda: race(fixed=False), database=db, database_key=key)
    [failing] = db.fetch(key)
    assert first.reused == ()
    db.save(key, "2-zz-not-an-id")

    again = interleave.explore(lambda: race(fixed=False), database=db, database_key=key)
    # Its Scenario's name, as the exploration that saved it (it was the factory's: <lambda>).
    assert again.scenario == first.scenario == "race"
    assert [(r.schedule_id, r.outcome) for r in again.reused] == [
        (failing, "reproduced"),
        ("2-zz-not-an-id", "stale"),
    ]
    assert db.fetch(key) == [failing]

    fixed = interleave.explore(lambda: race(fixed=True), database=db, database_key=key)
    assert [(r.schedule_id, r.outcome) for r in fixed.reused] == [(failing, "fixed")]
    assert fixed.ok and fixed.verdict == "proved"
    assert db.fetch(key) == []


def test_a_database_must_be_a_schedule_database() -> None:
    with pytest.raises(InvalidArgument, match=r"must be an interleave\.ScheduleDatabase"):
        interleave.explore(lost_update, database="db")  # type: ignore[arg-type]


def _save_many(path: str, worker: int) -> None:
    db = DirectoryDatabase(path)
    for n in range(25):
        db.save("shared-key", f"2-id-{worker}-{n}")


def test_concurrent_writers_lose_no_entry(tmp_path: Path) -> None:
    # Four processes save 25 IDs each under one key at once: every one is kept (a shared
    # record read, changed and written back by each would lose most of them).
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_save_many, args=(str(tmp_path), w)) for w in range(4)]
    for p in processes:
        p.start()
    for p in processes:
        p.join(60)
        assert p.exitcode == 0
    assert len(DirectoryDatabase(tmp_path).fetch("shared-key")) == 100


def test_database_entries_round_trip_and_delete() -> None:
    db = InMemoryDatabase()
    db.save("k", "b")
    db.save("k", "a")
    db.save("k", "a")
    assert db.fetch("k") == ["a", "b"] and db.fetch("other") == []
    db.delete("k", "a")
    db.delete("k", "missing")
    assert db.fetch("k") == ["b"]


# ---------------------------------------------------------------------------- results as data


def test_results_are_plain_data_that_json_can_dump() -> None:
    result = interleave.explore(lost_update)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["schema_version"] == 1
    assert data["verdict"] == "proved" and data["stopped_because"] == "exhausted"
    assert [f["kind"] for f in data["findings"]] == ["lost-update", "invariant", "data-race"]
    first = data["findings"][0]
    assert first["schedule_id"] == result.findings[0].schedule_id
    assert {"thread", "operation", "resource", "location"} <= set(first["steps"][0])
    assert data["settings"]["strategy"] == "dpor"
    run = interleave.replay(lost_update, result.findings[0].schedule_id)
    replayed = json.loads(json.dumps(run.to_dict()))
    assert replayed["kind"] == "replay" and replayed["findings"][0]["kind"] == "lost-update"


# --------------------------------------------------------------------------- internal errors


def test_a_bug_in_the_engine_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from interleave._engine import _dpor

    def broken(self: object, outcome: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(_dpor.DporStrategy, "record", broken)
    with pytest.raises(InternalError, match="please report it") as caught:
        interleave.explore(lost_update)
    assert isinstance(caught.value.__cause__, ZeroDivisionError)
