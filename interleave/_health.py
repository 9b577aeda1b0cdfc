"""Health checks: a clean exploration that proved less than it seems says so.

Modelled on Hypothesis's health checks. At the end of an exploration that found nothing,
each check looks at what the executions did; one that fails is an
:class:`~interleave.errors.HealthCheckWarning` naming the cause and the fix (or, when the
caller asked for it, a :class:`~interleave.errors.FailedHealthCheck`). Explorations with
findings are not checked: they are not silent passes.

What the checks see comes from the instrumentation: :class:`HealthMonitor` is entered around
every execution (an execution context, like the patches) and reads the execution's schedule and
the attribute-tracing tally (``instrument._watch.Tally``) when it ends.
"""

from __future__ import annotations

import os
import sys
import warnings
from types import TracebackType
from typing import TYPE_CHECKING

from ._core._runtime import Runtime
from ._engine._settings import HealthCheck, parse_health_checks
from .errors import FailedHealthCheck, HealthCheckWarning
from .instrument._project import Project, is_interleave_file
from .instrument._watch import finished_tally, watched_for_good

if TYPE_CHECKING:
    from ._results import ExploreResult

__all__ = ["HealthCheck", "HealthMonitor", "parse_health_checks", "run_health_checks"]


class _Execution:
    """The context around one execution: on exit, adds what it saw to the monitor."""

    __slots__ = ("monitor", "rt")

    def __init__(self, monitor: HealthMonitor, rt: Runtime) -> None:
        self.monitor = monitor
        self.rt = rt

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.monitor.add(self.rt)


class HealthMonitor:
    """Collects, over the executions of one exploration, what the health checks need.

    Use it as an execution context: ``contexts=[monitor, *patches]``.
    """

    __slots__ = ("_first", "built", "executions", "traced", "untraced", "varied")

    def __init__(self) -> None:
        self.executions = 0
        self.varied = False  # two executions took different schedules
        self._first: list[int] | None = None
        self.traced: dict[type, int] = {}
        self.untraced: dict[type, str] = {}
        self.built: set[type] = set()

    def __call__(self, rt: Runtime) -> _Execution:
        return _Execution(self, rt)

    def add(self, rt: Runtime) -> None:
        """Record the execution ``rt`` has just run."""
        self.executions += 1
        if not self.varied:
            if self._first is None:
                self._first = list(rt.choices)
            elif rt.choices != self._first:
                self.varied = True
        tally = finished_tally(rt)
        if tally is None:
            return
        for cls, n in tally.traced.items():
            self.traced[cls] = self.traced.get(cls, 0) + n
        for cls, filename in tally.untraced.items():
            self.untraced.setdefault(cls, filename)
        self.built.update(tally.built)


# ------------------------------------------------------------------ the checks
def _origin(cls: type) -> type:
    """The user's class behind the watched subclass ``watch(obj)`` makes."""
    origin: type = getattr(cls, "_interleave_watch_origin", cls)
    return origin


def _class_name(cls: type) -> str:
    origin = _origin(cls)
    return f"{origin.__module__}.{origin.__qualname__}"


def _shown(filename: str) -> str:
    if filename.startswith("<"):
        return filename
    try:
        rel = os.path.relpath(filename)
    except ValueError:  # another drive (Windows)
        return filename
    return filename if rel.startswith("..") else rel


_NAME_IT = (
    "project=['package_or_path'] (command line: --project; pytest: --interleave-project or "
    "the ini key interleave_project)"
)


def _nothing_traced(monitor: HealthMonitor, project: Project) -> str:
    skipped = sorted({_shown(f) for f in monitor.untraced.values()})
    where = (
        f" Accesses made from {', '.join(skipped)} were not traced: that code is not part of "
        "the project."
        if skipped
        else ""
    )
    return (
        f"trace_attributes=True traced no attribute access in {monitor.executions:,} "
        "execution(s): it watches the classes of the project's modules and traces the accesses "
        "that project code makes to their objects, and no thread made one, so no "
        f"plain-attribute race could be seen.{where} The project here is {project.describe()}. "
        "If the shared objects' classes, or the code that touches them, live elsewhere (an "
        f"installed package), name them with {_NAME_IT}, or watch() the class; if the threads "
        "share no plain attributes, drop trace_attributes=True."
    )


def _untraced_watched(monitor: HealthMonitor) -> list[type]:
    """Watched classes whose objects took part in the scenario without one traced access."""
    traced = {_origin(c) for c in monitor.traced}
    found = {
        cls
        for cls in [*monitor.built, *monitor.untraced]
        if _origin(cls) not in traced and watched_for_good(cls)
    }
    return sorted(found, key=_class_name)


def _watched_untraced(classes: list[type], monitor: HealthMonitor, project: Project) -> str:
    names = ", ".join(dict.fromkeys(_class_name(c) for c in classes))
    skipped = sorted({_shown(monitor.untraced[c]) for c in classes if c in monitor.untraced})
    if skipped:
        cause = (
            f"their accesses were made from {', '.join(skipped)}, which is neither project code "
            "nor the watched class's own module (only accesses from those are steps; the "
            f"project here is {project.describe()}). Name that code with {_NAME_IT}."
        )
    else:
        cause = (
            "the scenario built them, but no thread read or wrote their attributes (accesses "
            "outside the threads are never steps). Share the object between the threads, or "
            "stop watching the class."
        )
    return (
        f"watched class(es) {names}: objects of them took part in the scenario, but none of "
        f"their attribute accesses was traced in {monitor.executions:,} execution(s): {cause}"
    )


#: Identical samples of a random or pct exploration that make the single-schedule check fail
#: (with even one binary choice, ten identical samples happen once in 512 seeds).
_SAMPLES = 10


def _interleaving_check(
    result: ExploreResult, monitor: HealthMonitor
) -> tuple[HealthCheck, str] | None:
    """The first of single_thread, single_step, single_schedule that applies (each later one
    follows from an earlier one, so only the cause is reported)."""
    stats = result.statistics
    name = result.scenario
    visible = (
        "Make the shared state visible to interleave: interleave.Shared/Cache/Lock and the "
        "other primitives, trace_attributes=True or watch() for plain attributes, "
        "patch_threading (on by default) for threading code, point() for anything else"
    )
    if stats.threads <= 1:
        return HealthCheck.single_thread, (
            f"every execution of {name} ran a single thread: there is nothing to interleave, "
            "so 'no findings' only says that one sequential run passed. Give the scenario two "
            "or more threads, e.g. Scenario(threads=[worker, worker])."
        )
    if stats.max_depth <= 1:
        took = "no step at all" if stats.max_depth == 0 else "at most one step"
        return HealthCheck.single_step, (
            f"the threads of {name} took {took} in each of {monitor.executions:,} "
            "execution(s): interleave saw nothing of what they share, so every interleaving "
            f"looked the same. {visible}."
        )
    # A preemption bound or a budget that cut the search is reported by the result already
    # (not exhausted); only a search that ran out of schedules after one says nothing. A
    # sampling strategy may draw the same schedule twice by chance where there was a choice:
    # only many identical samples say that there was none.
    ran_out = result.stopped_because == "exhausted"
    if not monitor.varied and (ran_out or monitor.executions >= _SAMPLES):
        return HealthCheck.single_schedule, (
            f"every execution of {name} followed the same schedule ({monitor.executions:,} "
            f"execution(s), {result.strategy}): the threads never touched a common resource "
            "in a way that makes their order matter, so there was nothing to explore. If they "
            f"share state that interleave cannot see: {visible}. If they truly share nothing, "
            "suppress this check."
        )
    return None


#: ``costly_split``: explore-phase executions per class of interleavings from which dpor's split
#: into tasks is reported as costing more than it saves (one process runs one per class).
SPLIT_COST = 2.0


def _split_check(result: ExploreResult) -> tuple[HealthCheck, str] | None:
    """dpor split into tasks, and the tasks ran many executions per class: work run ahead of
    one process's order and dropped (a wakeup subtree that grew once earlier results were
    applied, or work beyond ``max_schedules``)."""
    stats = result.statistics
    explored = stats.phase_executions.get("explore", 0)
    classes = result.schedules_run
    if stats.tasks <= 1 or not result.strategy.startswith("dpor") or classes == 0:
        return None
    if result.stopped_because in ("timeout", "interrupted"):
        # The tasks out when the run stopped were cut off with it: their work is dropped
        # whatever the split, and one process would not have saved it (it stops too).
        return None
    if explored < SPLIT_COST * classes:
        return None
    return (
        HealthCheck.costly_split,
        f"{result.scenario}: dpor split into {stats.tasks} tasks ran {explored:,} executions "
        f"for {classes:,} classes of interleavings ({explored / classes:.1f}x): the work the "
        "tasks ran ahead of one process's order was mostly dropped (races planted into "
        "branches already handed out, or max_schedules reached before it), so the split "
        "costs more than the workers save. The answer is the same either way; explore this "
        "scenario with workers=1 to save the time",
    )


def _checks(
    result: ExploreResult, monitor: HealthMonitor, project: Project, trace_attributes: bool
) -> list[tuple[HealthCheck, str]]:
    split = _split_check(result)
    if not result.ok or monitor.executions == 0:
        return [] if split is None else [split]
    found: list[tuple[HealthCheck, str]] = []
    if trace_attributes and not monitor.traced:
        found.append((HealthCheck.nothing_traced, _nothing_traced(monitor, project)))
    untraced = _untraced_watched(monitor)
    if untraced:
        message = _watched_untraced(untraced, monitor, project)
        found.append((HealthCheck.watched_class_untraced, message))
    interleaving = _interleaving_check(result, monitor)
    # Tracing that saw nothing explains a run without steps or choices: report the cause only.
    if interleaving is not None and (not found or interleaving[0] is HealthCheck.single_thread):
        found.append(interleaving)
    if split is not None:
        found.append(split)
    return found


def _user_stacklevel() -> int:
    """The ``stacklevel`` of ``warnings.warn`` called here that names the first frame outside
    interleave (the user's call of explore(), also through the pytest fixture)."""
    frame = sys._getframe(1)
    level = 1
    while frame.f_back is not None and (
        is_interleave_file(os.path.abspath(frame.f_code.co_filename))
        or frame.f_code.co_filename.startswith("<frozen")
    ):
        frame = frame.f_back
        level += 1
    return level


def run_health_checks(
    result: ExploreResult,
    monitor: HealthMonitor,
    *,
    project: Project,
    trace_attributes: bool,
    suppress: frozenset[HealthCheck],
    fail: frozenset[HealthCheck],
) -> None:
    """Warn about (or raise for) each failed health check of a finished exploration.

    Raises:
        FailedHealthCheck: a check listed in ``fail`` (and not in ``suppress``) failed; it
            carries the result.
    """
    failed: list[tuple[HealthCheck, str]] = []
    for check, text in _checks(result, monitor, project, trace_attributes):
        if check in suppress:
            continue
        message = f"{text} [health check {check!r}: suppress_health_check=[{check!r}] silences it]"
        if check in fail:
            failed.append((check, message))
        else:
            warnings.warn(HealthCheckWarning(message, check), stacklevel=_user_stacklevel())
    if failed:
        checks = tuple(check for check, _ in failed)
        text = "\n".join(message for _, message in failed)
        raise FailedHealthCheck(
            f"{result.scenario}: failed health check(s) "
            f"{', '.join(repr(c) for c in checks)} (fail_health_check):\n{text}",
            checks=checks,
            result=result,
        )
