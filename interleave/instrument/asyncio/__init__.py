"""asyncio under the scheduler: tasks as simulated threads, and scheduled asyncio primitives.

See :mod:`._tasks` for how a task runs, :mod:`._patch` for what is swapped during an execution
and :mod:`._execution` for what each execution adds.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from ..._core._runtime import Runtime
from ._cancel import Canceller, cancellers
from ._execution import AsyncioExecution
from ._patch import exploration_scope, is_patched
from ._run import AsyncMain
from ._tasks import Task

__all__ = [
    "AsyncMain",
    "Canceller",
    "Task",
    "cancellers",
    "exploration_scope",
    "is_patched",
    "patch_asyncio",
]


def patch_asyncio(rt: Runtime) -> AbstractContextManager[None]:
    """Run ``asyncio`` code of one execution's tasks under ``rt`` (see :mod:`._patch`)."""
    return AsyncioExecution(rt)
