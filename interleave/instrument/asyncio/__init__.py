"""asyncio under the scheduler: tasks as simulated threads, and scheduled asyncio primitives.

See :mod:`._tasks` for how a task runs, :mod:`._patch` for what is swapped during an execution.
"""

from __future__ import annotations

from ._cancel import Canceller, cancellers
from ._patch import exploration_scope, is_patched, patch_asyncio
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
