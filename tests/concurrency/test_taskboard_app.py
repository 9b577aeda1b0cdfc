"""The taskboard works as an application: outside an exploration, one thread at a time, both
variants do what their docstrings say (the bugs are concurrency bugs only)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from taskboard import (
    ActivityCounter,
    ConnectionPool,
    DatabaseManager,
    DurationCalculator,
    DurationFormatter,
    LogWriter,
    PoolExhausted,
    ReportService,
    SessionStore,
    TaskboardError,
)
from taskboard.durations import parse_hours

VARIANTS = ["buggy", "fixed"]


@pytest.fixture
def db(tmp_path: Path, request: pytest.FixtureRequest) -> DatabaseManager:
    manager = DatabaseManager(
        str(tmp_path / "board.db"),
        archive_path=str(tmp_path / "archive.db"),
        variant=request.param,
    )
    manager.create_schema()
    return manager


@pytest.mark.parametrize("db", VARIANTS, indirect=True)
def test_database_crud_cascade_and_archive(db: DatabaseManager) -> None:
    client = db.get_or_create_client("acme")
    assert db.get_or_create_client("acme") == client
    assert db.count_clients("acme") == 1
    epic = db.create_epic({"title": "Login", "client_id": client, "points_value": 8})
    assert db.get_epic(epic) == {
        "id": epic,
        "client_id": client,
        "title": "Login",
        "description": "",
        "points_value": 8,
        "points_done": 0,
    }
    first = db.create_task({"title": "form", "epic_id": epic, "points": 3})
    second = db.create_task({"title": "oauth", "epic_id": epic, "points": 5})
    assert first is not None and second is not None
    assert db.create_task({"title": "nowhere", "epic_id": 999}) is None
    assert db.update_task(first, {"tdd_phase": "green", "updated_at": "2026-01-01"})
    task = db.get_task(first)
    assert task is not None and task["tdd_phase"] == "green"
    assert db.complete_task(first) and db.complete_task(second)
    assert not db.complete_task(999)
    epic_row = db.get_epic(epic)
    assert epic_row is not None and epic_row["points_done"] == 8
    assert db.update_epic(epic, {"title": "Sign-in"})
    assert [e["title"] for e in db.list_epics(client_id=client)] == ["Sign-in"]
    assert [t["title"] for t in db.get_tasks(epic_id=epic)] == ["form", "oauth"]
    assert db.delete_task(second) and not db.delete_task(second)
    assert db.archive_epic(epic)
    assert db.get_epic(epic) is None and not db.archive_epic(epic)
    assert db.restore_epic(epic)
    assert db.get_epic(epic) is not None and not db.restore_epic(epic)
    assert db.delete_epic(epic) and not db.delete_epic(epic)
    assert db.get_tasks(epic_id=epic) == [] and db.orphan_tasks() == 0
    db.close()


@pytest.mark.parametrize("db", ["fixed"], indirect=True)
def test_updating_an_unknown_column_says_which_columns_can_be_updated(db: DatabaseManager) -> None:
    with pytest.raises(TaskboardError, match=r"cannot update tasks column.s. owner; updatable: "):
        db.update_task(1, {"owner": "ann"})
    assert not db.update_task(1, {})


def test_archive_needs_an_archive_path(tmp_path: Path) -> None:
    db = DatabaseManager(str(tmp_path / "board.db"), variant="fixed")
    db.create_schema()
    with pytest.raises(TaskboardError, match="no archive_path="):
        db.archive_epic(1)


@pytest.mark.parametrize("variant", VARIANTS)
def test_durations_parse_format_and_invalidate(variant: str) -> None:
    calc = DurationCalculator(variant=variant)
    result = calc.parse_duration_text("1 day 2 hours 30 minutes")
    assert result.total_duration_hours == 26.5
    assert calc.parse_duration_text("1 day 2 hours 30 minutes") is result  # cached
    assert calc.parse_duration_text("3 weeks 4 days").total_duration_hours == 25 * 24
    calc.set_hours_per_day(8)
    assert calc.hours_per_day == 8
    assert calc.parse_duration_text("1 day").total_duration_hours == 8
    calc.clear_cache()
    assert calc.parse_duration_text("30 minutes 45 seconds").total_duration_hours == 0.5125
    fmt = DurationFormatter(max_entries=2, variant=variant)
    assert fmt.format_duration(26.5) == "1 day 2 hours 30 minutes"
    assert fmt.format_duration(26.5) == "1 day 2 hours 30 minutes"
    assert fmt.format_duration(0.75) == "45 minutes"
    assert fmt.format_duration(1) == "1 hour"  # the cache was full: cleared, then stored
    assert fmt.format_duration(0) == "0 minutes"
    fmt.clear_cache()


def test_parse_hours_rejects_text_without_a_duration() -> None:
    assert parse_hours("2 months 1 week") == (60 + 7) * 24
    with pytest.raises(ValueError, match=r"no duration in 'soon'; write e.g. '1 day"):
        parse_hours("soon")
    with pytest.raises(ValueError, match="max_entries=0 must be at least 1"):
        DurationFormatter(max_entries=0)


@pytest.mark.parametrize("variant", VARIANTS)
def test_sessions_counter_and_log(variant: str, tmp_path: Path) -> None:
    store = SessionStore(variant=variant)
    assert store.create_session(user_id=1) == "s1"
    assert store.create_session(user_id=2, activity="review") == "s2"
    assert store.get_session("s2") == {"user_id": 2, "activity": "review"}
    assert store.count() == 2
    views = ActivityCounter("views", variant=variant)
    views.increment()
    views.increment()
    assert views.value == 2
    log = LogWriter(str(tmp_path / "app.log"), max_lines=2, variant=variant)
    for line in ("a", "b", "c"):
        log.write(line)
    assert log.all_lines() == ["a", "b", "c"]
    assert (tmp_path / "app.log.1").read_text() == "a\nb\n"
    with pytest.raises(ValueError, match="max_lines=0 must be at least 1"):
        LogWriter(str(tmp_path / "x.log"), max_lines=0)


@pytest.mark.parametrize("variant", VARIANTS)
def test_pool_and_reports(variant: str, tmp_path: Path) -> None:
    db = DatabaseManager(str(tmp_path / "board.db"), variant="fixed")
    db.create_schema()
    epic = db.create_epic({"title": "Login", "client_id": db.get_or_create_client("acme")})
    db.create_task({"title": "form", "epic_id": epic, "points": 3})
    pool = ConnectionPool(db.path, size=2)
    reports = ReportService(pool, variant=variant)
    assert reports.epic_report(epic) == {"epic_id": epic, "title": "Login", "tasks": 1, "points": 3}
    assert reports.epic_report(999) == {"epic_id": 999, "title": None, "tasks": 0, "points": 0}
    pool.close()


def test_an_exhausted_pool_with_a_timeout_says_what_to_look_for(tmp_path: Path) -> None:
    pool = ConnectionPool(str(tmp_path / "board.db"), size=1, timeout=0.01)
    with pool.connection() as conn:
        assert isinstance(conn, sqlite3.Connection)
        with (
            pytest.raises(PoolExhausted, match=r"all 1 connections .* \(does a holder ask"),
            pool.connection(),
        ):
            pass
    pool.close()
    with pytest.raises(ValueError, match="size=0 must be at least 1"):
        ConnectionPool("x.db", size=0)
