"""interleave: make concurrency bugs reproducible.

Run each logical thread of a scenario as a cooperatively scheduled greenlet, make every access
to shared state a yield point, and explore the interleavings systematically. Every failure comes
back with a schedule ID that replays it exactly.

Example::

    import interleave

    def lost_update():
        hits = interleave.Shared("hits", 0)
        def worker():
            hits.set(hits.get() + 1)
        return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)

    result = interleave.explore(lost_update)
    print(result.report())
"""

import contextlib

from ._api import explore as explore
from ._api import replay as replay
from ._contrast import ClosestPass as ClosestPass
from ._core._findings import CallRecord as CallRecord
from ._core._findings import DataRace as DataRace
from ._core._findings import Deadlock as Deadlock
from ._core._findings import Finding as Finding
from ._core._findings import InvariantViolation as InvariantViolation
from ._core._findings import LostUpdate as LostUpdate
from ._core._findings import NotLinearizable as NotLinearizable
from ._core._findings import StepLimit as StepLimit
from ._core._findings import TeardownFailed as TeardownFailed
from ._core._findings import ThreadCrashed as ThreadCrashed
from ._core._ops import Operation as Operation
from ._core._trace import Step as Step
from ._core._trace import Trace as Trace
from ._engine._database import DirectoryDatabase as DirectoryDatabase
from ._engine._database import InMemoryDatabase as InMemoryDatabase
from ._engine._database import ScheduleDatabase as ScheduleDatabase
from ._engine._estimate import Estimate as Estimate
from ._engine._exploration import Statistics as Statistics
from ._engine._settings import ExitReason as ExitReason
from ._engine._settings import ExploreSettings as ExploreSettings
from ._engine._settings import HealthCheck as HealthCheck
from ._estimating import estimate as estimate
from ._linearizability._api import LinearizabilityResult as LinearizabilityResult
from ._linearizability._api import check_linearizable as check_linearizable
from ._linearizability._api import replay_linearizable as replay_linearizable
from ._progress import Progress as Progress
from ._report import summary_report as summary_report
from ._results import ExploreResult as ExploreResult
from ._results import Interrupted as Interrupted
from ._results import RunResult as RunResult
from ._results import Verdict as Verdict
from ._scenario import Scenario as Scenario
from ._version import __version__ as __version__
from .errors import BlockedOutsideScheduler as BlockedOutsideScheduler
from .errors import EventLoopBlocked as EventLoopBlocked
from .errors import FailedHealthCheck as FailedHealthCheck
from .errors import FindingsError as FindingsError
from .errors import HealthCheckWarning as HealthCheckWarning
from .errors import InterleaveError as InterleaveError
from .errors import InvalidArgument as InvalidArgument
from .errors import InvalidScheduleId as InvalidScheduleId
from .errors import NondeterministicScenario as NondeterministicScenario
from .errors import ScenarioError as ScenarioError
from .errors import ScheduleDivergence as ScheduleDivergence
from .errors import WorkerLost as WorkerLost
from .instrument import BoundedSemaphore as BoundedSemaphore
from .instrument import Cache as Cache
from .instrument import Condition as Condition
from .instrument import Counter as Counter
from .instrument import Event as Event
from .instrument import Lock as Lock
from .instrument import RLock as RLock
from .instrument import Semaphore as Semaphore
from .instrument import Shared as Shared
from .instrument import ThreadHandle as ThreadHandle
from .instrument import point as point
from .instrument import spawn as spawn
from .instrument import unwatch as unwatch
from .instrument import watch as watch

__all__ = [
    "BlockedOutsideScheduler",
    "BoundedSemaphore",
    "Cache",
    "CallRecord",
    "ClosestPass",
    "Condition",
    "Counter",
    "DataRace",
    "Deadlock",
    "DirectoryDatabase",
    "Estimate",
    "Event",
    "EventLoopBlocked",
    "ExitReason",
    "ExploreResult",
    "ExploreSettings",
    "FailedHealthCheck",
    "Finding",
    "FindingsError",
    "HealthCheck",
    "HealthCheckWarning",
    "InMemoryDatabase",
    "InterleaveError",
    "Interrupted",
    "InvalidArgument",
    "InvalidScheduleId",
    "InvariantViolation",
    "LinearizabilityResult",
    "Lock",
    "LostUpdate",
    "NondeterministicScenario",
    "NotLinearizable",
    "Operation",
    "Progress",
    "RLock",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "ScheduleDatabase",
    "ScheduleDivergence",
    "Semaphore",
    "Shared",
    "Statistics",
    "Step",
    "StepLimit",
    "TeardownFailed",
    "ThreadCrashed",
    "ThreadHandle",
    "Trace",
    "Verdict",
    "WorkerLost",
    "__version__",
    "check_linearizable",
    "estimate",
    "explore",
    "point",
    "replay",
    "replay_linearizable",
    "spawn",
    "summary_report",
    "unwatch",
    "watch",
]


def _fixup_module_metadata() -> None:
    # Public objects report their public module in reprs and tracebacks (as Trio does).
    for name in __all__:
        obj = globals()[name]
        if getattr(obj, "__module__", "").startswith("interleave."):
            with contextlib.suppress(AttributeError, TypeError):
                obj.__module__ = "interleave"


_fixup_module_metadata()
del _fixup_module_metadata
