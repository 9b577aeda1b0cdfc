"""What surrounds every execution of an exploration, in this process or in a worker: the
detectors, the watchdog's limit, the project and the patches, in the order they nest."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence

from ._core import _watchdog
from ._core._observer import Observer
from ._core._schedule import ExecutionOptions
from ._health import HealthMonitor
from .detectors._data_race import DataRaceDetector
from .detectors._deadlock import DeadlockDetector
from .detectors._lost_update import LostUpdateDetector
from .errors import InvalidArgument
from .instrument._patches import ExecutionPatch, enabled_patches
from .instrument._project import Project, bind_project

__all__ = [
    "contexts",
    "detectors",
    "detectors_for",
    "detectors_without_races",
    "exploration_scope",
    "patches",
    "watchdog_limit",
]


def detectors() -> Sequence[Observer]:
    """Fresh detectors for one execution: lost updates, deadlocks and data races (last: an
    execution's lost update or deadlock is reported before the races that go with it)."""
    return (LostUpdateDetector(), DeadlockDetector(), DataRaceDetector())


def detectors_without_races() -> Sequence[Observer]:
    """Fresh detectors for one execution, data races left out (``detect_data_races=False``)."""
    return (LostUpdateDetector(), DeadlockDetector())


def detectors_for(detect_data_races: bool) -> Callable[[], Sequence[Observer]]:
    """The detector factory an exploration with ``detect_data_races`` uses."""
    return detectors if detect_data_races else detectors_without_races


def patches(
    project: Project, patch_threading: bool, patch_sqlite: bool, trace_attributes: bool
) -> list[ExecutionPatch]:
    """The per-execution contexts: the project first (the patches ask it), then the patches
    the switches turn on."""
    return [
        bind_project(project),
        *enabled_patches(
            {
                "patch_threading": patch_threading,
                "patch_sqlite": patch_sqlite,
                "trace_attributes": trace_attributes,
            }
        ),
    ]


def watchdog_limit(watchdog: object) -> float | None:
    """The watchdog's limit for a run: ambient (None), off (0) or a limit in seconds."""
    if watchdog is None:
        return _watchdog.ambient_limit()
    if watchdog == 0 and not isinstance(watchdog, bool):
        return None
    if isinstance(watchdog, bool) or not isinstance(watchdog, int | float) or not watchdog > 0:
        raise InvalidArgument(
            f"watchdog={watchdog!r} must be a number of seconds (0 turns the watchdog off) "
            "or None for the default"
        )
    return float(watchdog)


def contexts(
    watch: _watchdog.Guard | None,
    project: Project,
    options: ExecutionOptions,
    monitor: HealthMonitor | None = None,
) -> list[ExecutionPatch]:
    """Every execution's contexts: the watchdog first (it watches the patches' work too), the
    project (the patches ask it), the health monitor, then the patches the options turn on."""
    first, *enabled = patches(
        project, options.patch_threading, options.patch_sqlite, options.trace_attributes
    )
    return [
        *([] if watch is None else [watch]),
        first,
        *([] if monitor is None else [monitor]),
        *enabled,
    ]


@contextlib.contextmanager
def exploration_scope(patch_threading: bool) -> Iterator[None]:
    """Keep the module-wide swaps (asyncio's always, threading's when on) installed across
    the executions of one exploration: each execution then only counts itself in and out
    instead of setting and restoring every patched attribute (about 80 per execution)."""
    # Imported here: the patches pull in asyncio and threading machinery this module's
    # importers (the pytest plugin's collection) do not otherwise need.
    from .instrument import asyncio as asyncio_patch
    from .instrument import threading as threading_patch

    with contextlib.ExitStack() as scope:
        scope.enter_context(asyncio_patch.exploration_scope())
        if patch_threading:
            scope.enter_context(threading_patch.exploration_scope())
        yield
