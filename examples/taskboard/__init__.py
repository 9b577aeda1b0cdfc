"""taskboard: a small task tracker with planted concurrency bugs, and their fixes.

The flagship example of interleave. It has the shape of the applications whose concurrency is
usually tested with stress tests (N real threads, repeat, grep the errors): a
:class:`DatabaseManager` on SQLite (clients, epics, tasks, cascade deletes, an archive), a
:class:`DurationCalculator` and a :class:`DurationFormatter` with caches, a
:class:`SessionStore`, a :class:`LogWriter` with rotation, a :class:`ConnectionPool` with a
:class:`ReportService`, and an :class:`ActivityCounter`.

Every component takes ``variant="buggy"`` or ``variant="fixed"`` (default: the environment
variable ``TASKBOARD_VARIANT``, else ``buggy``). ``taskboard.scenarios`` has one scenario per
test of the stress suite, each in both variants; ``tests/concurrency/test_taskboard_suite.py``
explores them all. See ``examples/taskboard/README.md`` and ``docs/from-stress-tests.md``.

Example::

    import interleave
    from taskboard import scenarios

    result = interleave.explore(scenarios.task_updates_buggy)
    print(result.report())           # the lost update of the epic's points, step by step
"""

from .database import DatabaseManager as DatabaseManager
from .database import TaskboardError as TaskboardError
from .durations import DurationCalculator as DurationCalculator
from .durations import DurationFormatter as DurationFormatter
from .durations import DurationResult as DurationResult
from .logs import LogWriter as LogWriter
from .pool import ConnectionPool as ConnectionPool
from .pool import PoolExhausted as PoolExhausted
from .pool import ReportService as ReportService
from .sessions import SessionStore as SessionStore
from .stats import ActivityCounter as ActivityCounter
from .variant import ENV_VAR as ENV_VAR
from .variant import resolve as resolve_variant

__all__ = [
    "ENV_VAR",
    "ActivityCounter",
    "ConnectionPool",
    "DatabaseManager",
    "DurationCalculator",
    "DurationFormatter",
    "DurationResult",
    "LogWriter",
    "PoolExhausted",
    "ReportService",
    "SessionStore",
    "TaskboardError",
    "resolve_variant",
]
