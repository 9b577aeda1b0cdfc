"""The taskboard's concurrency scenarios: one per scenario of the stress-test suite it replaces.

Each scenario exists twice, as ``<name>_buggy`` and ``<name>_fixed``: the same two threads on
fresh state, against the buggy or the fixed variant of the application. Every factory takes no
arguments, so each one is also a command-line target::

    interleave explore examples.taskboard.scenarios:epic_creation_buggy
    interleave explore examples.taskboard.scenarios:epic_creation_fixed

Each scenario is small on purpose: two threads, a handful of statements each. That is enough to
show each bug (every race here needs only two threads), and small enough that the exploration
covers *every* interleaving in well under a second, so a clean result is a proof, not a sample.

:data:`CASES` lists them with the seed test each one replaces and the finding kind the buggy
variant must produce.

Example::

    import interleave
    from taskboard.scenarios import task_updates_buggy, task_updates_fixed

    assert "lost-update" in {f.kind for f in interleave.explore(task_updates_buggy).findings}
    assert interleave.explore(task_updates_fixed).ok
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import interleave
import interleave.sqlite

from .database import ARCHIVE_SCHEMA, SCHEMA, DatabaseManager
from .durations import DurationCalculator, DurationFormatter, parse_hours
from .logs import LogWriter
from .pool import ConnectionPool, ReportService
from .sessions import SessionStore
from .stats import ActivityCounter
from .variant import BUGGY, FIXED

__all__ = ["CASES", "Case", "ScenarioError"]

#: The board every database scenario starts from: client 1, epic 1 (8 points) with tasks 1 (3
#: points) and 2 (5 points).
BOARD: Final = interleave.sqlite.template(
    SCHEMA
    + """
    INSERT INTO clients(id, name) VALUES (1, 'acme');
    INSERT INTO epics(id, client_id, title, points_value) VALUES (1, 1, 'Login', 8);
    INSERT INTO tasks(id, epic_id, title, points) VALUES (1, 1, 'form', 3), (2, 1, 'oauth', 5);
    """,
    name="taskboard.db",
)
#: The archive: epic 2 ("Billing", client 1) was archived earlier.
ARCHIVE: Final = interleave.sqlite.template(
    ARCHIVE_SCHEMA + "INSERT INTO archived_epics VALUES (2, 1, 'Billing', 13);",
    name="archive.db",
)


class ScenarioError(Exception):
    """What a scenario thread raises when it sees wrong data (as the seed's checks did)."""


# -- database: epic creation --------------------------------------------------------------


def _epic_creation(variant: str) -> interleave.Scenario:
    db = DatabaseManager(BOARD.path(), variant=variant)

    def creator(title: str) -> Callable[[], None]:
        def create() -> None:
            epic_id = db.create_epic({"title": title, "client_id": 1, "points_value": 10})
            epic = db.get_epic(epic_id)
            if epic is None or epic["title"] != title:
                found = None if epic is None else epic["title"]
                raise ScenarioError(
                    f"Data corruption detected in epic creation: created {title!r}, "
                    f"create_epic() returned id {epic_id}, which is {found!r}"
                )

        return create

    return interleave.Scenario(
        threads={"create-A": creator("Epic A"), "create-B": creator("Epic B")},
        teardown=db.close,
    )


def epic_creation_buggy() -> interleave.Scenario:
    """Two epics created at once: create_epic() returns the other thread's epic id."""
    return _epic_creation(BUGGY)


def epic_creation_fixed() -> interleave.Scenario:
    """Two epics created at once, each id from its own insert: clean."""
    return _epic_creation(FIXED)


# -- database: task updates ---------------------------------------------------------------


def _task_updates(variant: str) -> interleave.Scenario:
    db = DatabaseManager(BOARD.path(), variant=variant)

    def completer(task_id: int) -> Callable[[], None]:
        def complete() -> None:
            if not db.complete_task(task_id):
                raise ScenarioError(f"Failed to update task {task_id}")

        return complete

    def points_add_up() -> bool:
        epic = db.get_epic(1)
        done = [t["status"] for t in db.get_tasks(epic_id=1)]
        return epic is not None and epic["points_done"] == 3 + 5 and done == ["done", "done"]

    return interleave.Scenario(
        threads={"complete-1": completer(1), "complete-2": completer(2)}, check=points_add_up
    )


def task_updates_buggy() -> interleave.Scenario:
    """Two tasks of one epic completed at once: the epic's points_done loses one."""
    return _task_updates(BUGGY)


def task_updates_fixed() -> interleave.Scenario:
    """Two tasks completed at once with an atomic points update: clean."""
    return _task_updates(FIXED)


# -- database: cascade operations ---------------------------------------------------------


def _cascade_operations(variant: str) -> interleave.Scenario:
    db = DatabaseManager(BOARD.path(), variant=variant)

    def delete() -> None:
        if not db.delete_epic(1):
            raise ScenarioError("Failed to delete epic 1")
        left = db.get_tasks(epic_id=1)
        if left:
            raise ScenarioError(
                f"Cascade delete failed - tasks still exist for epic 1: {[t['id'] for t in left]}"
            )

    def add_task() -> None:
        db.create_task({"title": "late task", "epic_id": 1, "points": 2})

    return interleave.Scenario(
        threads={"delete-epic": delete, "add-task": add_task},
        check=lambda: db.orphan_tasks() == 0,
    )


def cascade_operations_buggy() -> interleave.Scenario:
    """An epic deleted while a task is added to it: the hand-made cascade leaves an orphan."""
    return _cascade_operations(BUGGY)


def cascade_operations_fixed() -> interleave.Scenario:
    """The schema's ON DELETE CASCADE with foreign keys on: clean."""
    return _cascade_operations(FIXED)


# -- database: client registration (check-then-insert) ------------------------------------


def _client_registration(variant: str) -> interleave.Scenario:
    db = DatabaseManager(BOARD.path(), variant=variant)

    def register() -> None:
        db.get_or_create_client("globex")

    return interleave.Scenario(
        threads={"register-A": register, "register-B": register},
        check=lambda: db.count_clients("globex") == 1,
    )


def client_registration_buggy() -> interleave.Scenario:
    """The same new client registered twice at once: check-then-insert creates two."""
    return _client_registration(BUGGY)


def client_registration_fixed() -> interleave.Scenario:
    """Check and insert in one BEGIN IMMEDIATE transaction: clean."""
    return _client_registration(FIXED)


# -- caches: access -------------------------------------------------------------------------


def _cache_access(variant: str) -> interleave.Scenario:
    calculator = DurationCalculator(variant=variant)
    # A cache of one entry, already holding 1.5 hours: one more entry makes it full. The same
    # race exists at any size, whenever the cache is full.
    formatter = DurationFormatter(max_entries=1, variant=variant)
    formatter.format_duration(1.5)

    def calculate(text: str) -> Callable[[], None]:
        def run() -> None:
            result = calculator.parse_duration_text(text)
            formatted = formatter.format_duration(result.total_duration_hours)
            if not formatted:
                raise ScenarioError(f"Failed to format duration: {result.total_duration_hours}")
            again = calculator.parse_duration_text(text)
            if again.total_duration_hours != result.total_duration_hours:
                raise ScenarioError(f"Cache inconsistency detected for: {text}")

        return run

    return interleave.Scenario(
        threads={"hit": calculate("1 hour 30 minutes"), "miss": calculate("1 day 2 hours")}
    )


def cache_access_buggy() -> interleave.Scenario:
    """A cached duration formatted while another fills the cache: the hit returns None."""
    return _cache_access(BUGGY)


def cache_access_fixed() -> interleave.Scenario:
    """One cache get per lookup: clean."""
    return _cache_access(FIXED)


# -- caches: invalidation -------------------------------------------------------------------


def _cache_invalidation(variant: str) -> interleave.Scenario:
    calculator = DurationCalculator(variant=variant)

    def current() -> bool:
        cached = calculator.parse_duration_text("1 day")
        return cached.total_duration_hours == parse_hours("1 day", calculator.hours_per_day)

    return interleave.Scenario(
        threads={
            "parse": lambda: calculator.parse_duration_text("1 day"),
            "switch-to-8h": lambda: calculator.set_hours_per_day(8),
        },
        check=current,
    )


def cache_invalidation_buggy() -> interleave.Scenario:
    """A parse races the switch to 8-hour days: a 24-hour result is cached after the clear."""
    return _cache_invalidation(BUGGY)


def cache_invalidation_fixed() -> interleave.Scenario:
    """Miss path and invalidation under one lock: clean."""
    return _cache_invalidation(FIXED)


# -- sessions -------------------------------------------------------------------------------


def _session_creation(variant: str) -> interleave.Scenario:
    store = SessionStore(variant=variant)

    def user(user_id: int) -> Callable[[], None]:
        def create() -> None:
            session_id = store.create_session(user_id=user_id, activity="coding")
            session = store.get_session(session_id)
            if session is None or session["user_id"] != user_id:
                owner = None if session is None else session["user_id"]
                raise ScenarioError(
                    f"Session race: user {user_id} got session {session_id}, "
                    f"which belongs to user {owner}"
                )

        return create

    return interleave.Scenario(
        threads={"user-1": user(1), "user-2": user(2)}, check=lambda: store.count() == 2
    )


def session_creation_buggy() -> interleave.Scenario:
    """Two sessions created at once get the same id; one overwrites the other."""
    return _session_creation(BUGGY)


def session_creation_fixed() -> interleave.Scenario:
    """Sequence and insert under the store's lock: clean."""
    return _session_creation(FIXED)


# -- log writing ------------------------------------------------------------------------------


def _log_writing(variant: str) -> interleave.Scenario:
    directory = tempfile.mkdtemp(prefix="taskboard-log-")
    path = os.path.join(directory, "app.log")
    with open(path, "w", encoding="utf-8") as f:
        f.write("boot\n")
    log = LogWriter(path, max_lines=2, variant=variant)
    lines = {"writer-A": "request A", "writer-B": "request B"}

    def writer(line: str) -> Callable[[], None]:
        return lambda: log.write(line)

    def nothing_lost() -> bool:
        return sorted(log.all_lines()) == sorted(["boot", *lines.values()])

    return interleave.Scenario(
        threads={name: writer(line) for name, line in lines.items()},
        check=nothing_lost,
        teardown=lambda: shutil.rmtree(directory, ignore_errors=True),
    )


def log_writing_buggy() -> interleave.Scenario:
    """A line written while the log rotates (copy, then truncate): the line is lost."""
    return _log_writing(BUGGY)


def log_writing_fixed() -> interleave.Scenario:
    """Writes and rotation under one lock: clean."""
    return _log_writing(FIXED)


# -- race condition detection (safe vs unsafe increment) -------------------------------------


def _race_condition(variant: str) -> interleave.Scenario:
    views = ActivityCounter("page_views", variant=variant)
    return interleave.Scenario(
        threads={"view-A": views.increment, "view-B": views.increment},
        check=lambda: views.value == 2,
    )


def race_condition_buggy() -> interleave.Scenario:
    """The unsafe increment: two views counted as one."""
    return _race_condition(BUGGY)


def race_condition_fixed() -> interleave.Scenario:
    """The safe increment (under a lock): clean."""
    return _race_condition(FIXED)


# -- deadlock detection (BEGIN EXCLUSIVE in opposite orders) ---------------------------------


def _deadlock(variant: str) -> interleave.Scenario:
    db = DatabaseManager(BOARD.path(), archive_path=ARCHIVE.path(), variant=variant)

    def archive() -> None:
        if not db.archive_epic(1):
            raise ScenarioError("epic 1 was not archived")

    def restore() -> None:
        if not db.restore_epic(2):
            raise ScenarioError("epic 2 was not restored")

    def both_moved() -> bool:
        return db.get_epic(1) is None and db.get_epic(2) is not None

    return interleave.Scenario(
        threads={"archive-epic-1": archive, "restore-epic-2": restore}, check=both_moved
    )


def deadlock_buggy() -> interleave.Scenario:
    """Archive (main, then archive db) races restore (archive, then main): a deadlock."""
    return _deadlock(BUGGY)


def deadlock_fixed() -> interleave.Scenario:
    """Both lock the main database first: clean."""
    return _deadlock(FIXED)


# -- resource exhaustion (connection pool) ----------------------------------------------------


def _resource_exhaustion(variant: str) -> interleave.Scenario:
    pool = ConnectionPool(BOARD.path(), size=2)
    reports = ReportService(pool, variant=variant)

    def report() -> None:
        summary = reports.epic_report(1)
        if summary["tasks"] != 2:
            raise ScenarioError(f"wrong epic report: {summary}")

    return interleave.Scenario(
        threads={"report-A": report, "report-B": report}, teardown=pool.close
    )


def resource_exhaustion_buggy() -> interleave.Scenario:
    """Two reports on a pool of two, each asking for a second connection: a deadlock."""
    return _resource_exhaustion(BUGGY)


def resource_exhaustion_fixed() -> interleave.Scenario:
    """The summary reuses the caller's connection: clean."""
    return _resource_exhaustion(FIXED)


# -- the table of cases ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Case:
    """One scenario of the suite.

    Attributes:
        name: the scenario's name (``epic_creation`` …).
        seed_test: the stress test of the seed suite it replaces.
        bug: what the buggy variant does wrong.
        kind: the finding kind the buggy variant must produce.
        buggy: the factory against the buggy variant.
        fixed: the factory against the fixed variant.
    """

    name: str
    seed_test: str
    bug: str
    kind: str
    buggy: Callable[[], interleave.Scenario]
    fixed: Callable[[], interleave.Scenario]


#: Every scenario, in the order of the seed suite (client registration is an addition).
CASES: Final = (
    Case(
        "epic_creation",
        "test_concurrent_epic_creation",
        "last_insert_rowid() read from a shared connection",
        "exception",
        epic_creation_buggy,
        epic_creation_fixed,
    ),
    Case(
        "task_updates",
        "test_concurrent_task_updates",
        "read-modify-write of the epic's points total",
        "lost-update",
        task_updates_buggy,
        task_updates_fixed,
    ),
    Case(
        "cascade_operations",
        "test_concurrent_cascade_operations",
        "manual cascade races a task insert",
        "invariant",
        cascade_operations_buggy,
        cascade_operations_fixed,
    ),
    Case(
        "client_registration",
        "(new) check-then-insert",
        "check-then-insert of a client",
        "invariant",
        client_registration_buggy,
        client_registration_fixed,
    ),
    Case(
        "cache_access",
        "test_concurrent_cache_access",
        "cache check-then-get races an eviction",
        "exception",
        cache_access_buggy,
        cache_access_fixed,
    ),
    Case(
        "cache_invalidation",
        "test_concurrent_cache_invalidation",
        "stale cache entry written after an invalidation",
        "invariant",
        cache_invalidation_buggy,
        cache_invalidation_fixed,
    ),
    Case(
        "session_creation",
        "test_concurrent_session_creation",
        "session id from a read-modify-write sequence",
        "lost-update",
        session_creation_buggy,
        session_creation_fixed,
    ),
    Case(
        "log_writing",
        "test_concurrent_log_writing",
        "copy-then-truncate rotation loses a line",
        "invariant",
        log_writing_buggy,
        log_writing_fixed,
    ),
    Case(
        "race_condition",
        "test_race_condition_detection",
        "unsafe increment (read, then write)",
        "lost-update",
        race_condition_buggy,
        race_condition_fixed,
    ),
    Case(
        "deadlock",
        "test_deadlock_detection",
        "BEGIN EXCLUSIVE on two databases in opposite orders",
        "deadlock",
        deadlock_buggy,
        deadlock_fixed,
    ),
    Case(
        "resource_exhaustion",
        "test_resource_exhaustion",
        "pool holder asks for a second connection",
        "deadlock",
        resource_exhaustion_buggy,
        resource_exhaustion_fixed,
    ),
)


def case(name: str) -> Case:
    """The case called ``name``.

    Raises:
        KeyError: no such case (the message lists them).
    """
    for c in CASES:
        if c.name == name:
            return c
    raise KeyError(f"no scenario {name!r}; the scenarios are: {', '.join(c.name for c in CASES)}")


#: What ``interleave demo`` and ``interleave report examples.taskboard.scenarios`` explore:
#: every scenario, buggy then fixed.
DEMO: Final = [factory for c in CASES for factory in (c.buggy, c.fixed)]
