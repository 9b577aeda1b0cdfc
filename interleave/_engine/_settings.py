"""Exploration settings, exit reasons and verdicts: what every adapter agrees on.

``ExploreSettings`` holds every option of an exploration, validated once when it is made
(bad values raise ``InvalidArgument`` naming the value and the fix), frozen, and picklable so
that it can travel to worker processes. ``explore()``, ``replay()``, the command line and the
pytest plugin each build one; none of them rediscovers the options another way.

``ExitReason`` says why an exploration ended and owns the sentence that says so; ``Verdict``
says, in one word, how much its coverage proves.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar

from .._core._schedule import ExecutionOptions
from ..errors import InvalidArgument
from ..instrument._project import project_entries

__all__ = [
    "DEFAULT_MAX_SCHEDULES",
    "DEFAULT_MAX_STEPS",
    "EXHAUSTIVE_STRATEGIES",
    "STRATEGIES",
    "ExitReason",
    "ExploreSettings",
    "HealthCheck",
    "Verdict",
    "parse_health_checks",
]

#: The strategy names ``explore()`` accepts.
STRATEGIES = ("dpor", "dfs", "random", "pct")
#: The strategies that can cover every schedule: deterministic (no seed), boundable.
EXHAUSTIVE_STRATEGIES = ("dpor", "dfs")
DEFAULT_MAX_SCHEDULES = 10_000
#: Steps one thread may take in one execution (``ExecutionOptions`` has the same default).
DEFAULT_MAX_STEPS = ExecutionOptions().max_steps


class HealthCheck(enum.Enum):
    """The health checks of an exploration; pass them to ``suppress_health_check=`` (silence)
    or ``fail_health_check=`` (raise instead of warn).

    Members:
        nothing_traced: ``trace_attributes=True`` traced no attribute access at all.
        watched_class_untraced: objects of a class watched with :func:`interleave.watch`
            took part in the scenario, but none of their attribute accesses was traced (they
            were made from code outside the project, or only outside the threads).
        single_thread: every execution ran one thread: there is nothing to interleave.
        single_step: the threads took at most one step per execution: their shared state is
            invisible to interleave.
        single_schedule: every execution followed the same schedule: the threads never
            conflicted on anything interleave can see.
        costly_split: ``dpor`` split into tasks (``workers=``, ``executor=``) ran at least
            twice as many executions as it found classes of interleavings: on this program
            the split costs more than the workers save (explore it with ``workers=1``).
            Checked with or without findings.

    Example::

        interleave.explore(
            scenario,
            suppress_health_check=[HealthCheck.single_schedule],
            fail_health_check=[HealthCheck.nothing_traced],
        )
    """

    nothing_traced = "nothing_traced"
    watched_class_untraced = "watched_class_untraced"
    single_thread = "single_thread"
    single_step = "single_step"
    single_schedule = "single_schedule"
    costly_split = "costly_split"

    def __repr__(self) -> str:
        return f"HealthCheck.{self.name}"


def parse_health_checks(option: str, value: object) -> frozenset[HealthCheck]:
    """``value`` (a :class:`HealthCheck`, its name, or an iterable of them) as a set.

    Names may use ``-`` for ``_``; ``"all"`` stands for every check.

    Raises:
        InvalidArgument: an unknown name or a value of the wrong type.
    """
    items: Iterable[object]
    if isinstance(value, HealthCheck | str):
        items = [value]
    elif isinstance(value, Iterable):
        items = value
    else:
        raise InvalidArgument(
            f"{option}={value!r} must be a list of HealthCheck members, "
            f"e.g. {option}=[HealthCheck.single_thread]"
        )
    found: set[HealthCheck] = set()
    for item in items:
        if isinstance(item, HealthCheck):
            found.add(item)
            continue
        name = item.strip().replace("-", "_") if isinstance(item, str) else ""
        if name == "all":
            found.update(HealthCheck)
        elif name in HealthCheck.__members__:
            found.add(HealthCheck[name])
        else:
            known = ", ".join(HealthCheck.__members__)
            raise InvalidArgument(
                f"{option}={value!r}: {item!r} is not a health check; the checks are: {known} "
                "(or 'all')"
            )
    return frozenset(found)


class Verdict(enum.StrEnum):
    """What an exploration's coverage shows, in one word (:attr:`ExploreResult.verdict`).

    The verdict is about coverage, not about findings (``ok`` says whether anything was found):
    it says how much a clean result proves, and whether the findings are all there are.

    - ``proved``: an exhaustive strategy (``dpor`` or ``dfs``) ran out of schedules and no
      preemption bound cut any of them (``exhausted=True``; a ``preemption_bound="iterative"``
      search that ended on a round that cut nothing counts). Every interleaving of the
      instrumented operations was covered: no finding means none can happen there.
    - ``bounded``: an exhaustive search covered every schedule *within its preemption bound*
      and the bound cut some (``stopped_because="preemption-bound"``, ``dfs`` only). Schedules
      with more preemptions were not run: evidence, not a proof.
    - ``sampled``: only some schedules ran: a seeded strategy (``random``, ``pct``), a search
      stopped by a budget (``max_schedules``, ``timeout``, ``stop_on_first``, or a thread that
      hit ``max_steps``), or ``dpor`` with a preemption bound that cut something
      (``stopped_because="preemption-bound-partial"``: a trace class may be reachable only
      through a representative with more preemptions). Evidence, not a proof.
    - ``interrupted``: the exploration was stopped by Ctrl-C (``stopped_because=
      "interrupted"``); the result holds what was found until then.

    A ``Verdict`` is a ``str``: compare it with the word or with the member.

    Example::

        result = interleave.explore(locked_counter)
        assert result.verdict == "proved" == interleave.Verdict.PROVED
        sampled = interleave.explore(locked_counter, strategy="random", max_schedules=10)
        assert sampled.verdict is interleave.Verdict.SAMPLED
    """

    PROVED = "proved"
    BOUNDED = "bounded"
    SAMPLED = "sampled"
    INTERRUPTED = "interrupted"


class ExitReason(enum.StrEnum):
    """Why an exploration ended (``ExploreResult.stopped_because``).

    A ``str``: ``result.stopped_because == "exhausted"`` works. ``text`` is the sentence the
    reports print, ``verdict`` what the end proves.
    """

    EXHAUSTED = "exhausted"
    MAX_SCHEDULES = "max_schedules"
    TIMEOUT = "timeout"
    FIRST_FINDING = "first-finding"
    PREEMPTION_BOUND = "preemption-bound"
    PREEMPTION_BOUND_PARTIAL = "preemption-bound-partial"
    STEP_LIMIT = "step-limit"
    INTERRUPTED = "interrupted"
    REPRODUCED = "reproduced"
    SCENARIOS_SAMPLED = "scenarios-sampled"  # check_linearizable tried some scenarios only

    @property
    def text(self) -> str:
        """The reason as the reports say it."""
        return _EXIT_TEXT[self]

    @property
    def verdict(self) -> Verdict:
        """What ending this way proves (see :class:`Verdict`)."""
        if self is ExitReason.EXHAUSTED:
            return Verdict.PROVED
        if self is ExitReason.PREEMPTION_BOUND:
            return Verdict.BOUNDED
        if self is ExitReason.INTERRUPTED:
            return Verdict.INTERRUPTED
        # Every other way to stop covered only some schedules: never call that a proof.
        return Verdict.SAMPLED


_EXIT_TEXT = {
    ExitReason.EXHAUSTED: "every schedule was explored",
    ExitReason.MAX_SCHEDULES: "stopped at max_schedules before covering every schedule",
    ExitReason.TIMEOUT: "stopped at the timeout before covering every schedule",
    ExitReason.FIRST_FINDING: "stopped at the first finding (stop_on_first=True)",
    ExitReason.PREEMPTION_BOUND: (
        "covered every schedule within the preemption bound, not beyond it"
    ),
    ExitReason.PREEMPTION_BOUND_PARTIAL: (
        "cut the branches that preempt beyond the bound; with dpor that does not cover every "
        "schedule within the bound either (use strategy='dfs' for a bounded proof)"
    ),
    ExitReason.STEP_LIMIT: (
        "stopped at the first step-limit finding: a thread that does not stop makes the "
        "search unbounded (fix the spin loop, or raise max_steps)"
    ),
    ExitReason.INTERRUPTED: "interrupted (Ctrl-C) before covering every schedule",
    ExitReason.SCENARIOS_SAMPLED: (
        "explored a sample of the scenarios, each exhaustively: other scenarios may fail"
    ),
    ExitReason.REPRODUCED: (
        "stopped after reproducing failures an earlier run saved (the schedule database): "
        "fix them, or explore without the database, for a full search"
    ),
}


def _int_at_least(name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{name}={value!r} must be an int (got {type(value).__name__})")
    if value < low:
        raise InvalidArgument(f"{name}={value!r} must be at least {low}")


def _seconds(name: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgument(f"{name}={value!r} must be a number of seconds or None")
    if not value > 0 or math.isnan(value):
        raise InvalidArgument(f"{name}={value!r} must be greater than 0 seconds")


def _option(
    default: Any,
    help: str,
    metavar: str | None = None,
    choices: Callable[[], tuple[str, ...]] | None = None,
    shown_default: str | None = None,
) -> Any:
    """A field of :class:`ExploreSettings` with what the command line says about it: ``help``
    (one line), ``metavar`` (the value's placeholder), ``choices`` (the values it takes, read
    when asked: the list may grow) and ``shown_default`` (what the default means, when the
    value itself, such as None, does not say)."""
    metadata = {"help": help, "metavar": metavar, "choices": choices, "default": shown_default}
    return field(default=default, metadata=metadata)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExploreSettings:
    """Every option of an exploration, validated when made (see :func:`interleave.explore`
    for what each means). ``ExploreSettings()`` alone gives the defaults.

    Frozen and picklable: it can travel to worker processes. ``replace(**changes)`` makes a
    changed copy (validated again).

    Example::

        settings = interleave.ExploreSettings(strategy="dfs", max_schedules=500)
        result = interleave.explore(lost_update, settings=settings)
        quick = settings.replace(stop_on_first=True)
    """

    max_schedules: int = _option(DEFAULT_MAX_SCHEDULES, "stop after N executions", "N")
    strategy: str = _option(
        "dpor",
        "the search: dpor and dfs are exhaustive, random and pct seeded samples",
        "S",
        choices=lambda: STRATEGIES,
    )
    seed: int | None = _option(
        None, "the seed of the random and pct strategies", "N", shown_default="0"
    )
    preemption_bound: int | str | None = _option(
        None,
        "dfs/dpor: only schedules with at most N preemptions, or 'iterative' (0, 1, 2 … "
        "until one covers everything); not a proof when it cuts something",
        "N|iterative",
    )
    depth: int = _option(3, "the bug depth pct targets (d - 1 priority change points)", "D")
    minimise: bool = _option(True, "replace each finding by its simplest schedule")
    max_steps: int = _option(
        DEFAULT_MAX_STEPS,
        "steps one thread may take in one execution before it is a step-limit finding",
        "N",
    )
    timeout: float | None = _option(None, "stop after SECONDS (the report says so)", "SECONDS")
    stop_on_first: bool = _option(False, "stop at the first execution with a finding")
    patch_threading: bool = _option(
        True, "run unmodified threading/queue/time.sleep code under the scheduler"
    )
    patch_sqlite: bool = _option(True, "make every statement of sqlite3 connections a yield point")
    trace_attributes: bool = _option(
        False, "make attribute reads and writes of the project's classes yield points"
    )
    cancellation: bool = _option(
        False, "asyncio: also explore each task being cancelled at each of its awaits"
    )
    detect_data_races: bool = _option(
        True,
        "report data races: two accesses to Shared/Counter/Cache data or traced attributes, "
        "one a write, that no synchronisation orders",
    )
    watchdog: float | None = _option(
        None,
        "seconds an execution may go without a yield point before it is stopped as blocked "
        "(0 turns it off)",
        "SECONDS",
        shown_default="INTERLEAVE_WATCHDOG, else 10",
    )
    project: tuple[str, ...] = _option(
        (),
        "packages (dotted names) or paths that are project code besides the default; "
        "replays need the same value",
        "PKG_OR_PATH",
    )
    suppress_health_check: frozenset[HealthCheck] = _option(
        frozenset(), "health checks not to run ('all' for every one)", "NAMES"
    )
    fail_health_check: frozenset[HealthCheck] = _option(
        frozenset(), "health checks that fail instead of warning ('all' for every one)", "NAMES"
    )
    workers: int = _option(
        1,
        "explore in N processes on this machine (the same answer as one: dfs and dpor split "
        "the search, random and pct their seeds)",
        "N",
    )

    #: The options that shape one execution (an ID records them; replay() accepts them).
    EXECUTION_OPTIONS: ClassVar[tuple[str, ...]] = (
        "max_steps",
        "patch_threading",
        "patch_sqlite",
        "trace_attributes",
        "cancellation",
    )
    #: The options ``replay()`` accepts: those of one execution, the data-race switch, the
    #: watchdog and the project (none of these is recorded in an ID: they do not change what
    #: the execution does).
    REPLAY_OPTIONS: ClassVar[tuple[str, ...]] = (
        *EXECUTION_OPTIONS,
        "detect_data_races",
        "watchdog",
        "project",
    )

    def __post_init__(self) -> None:
        _int_at_least("max_schedules", self.max_schedules, 1)
        _int_at_least("max_steps", self.max_steps, 1)
        _int_at_least("workers", self.workers, 1)
        if self.workers > 1 and self.preemption_bound == "iterative":
            raise InvalidArgument(
                "preemption_bound='iterative' runs one bound after another and does not split "
                "over workers: use workers=1 with it, or a fixed preemption_bound=N"
            )
        strategy = self.strategy
        if strategy not in STRATEGIES:
            choices = ", ".join(repr(s) for s in STRATEGIES)
            raise InvalidArgument(f"strategy={strategy!r} is not one of {choices}")
        seed = self.seed
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise InvalidArgument(f"seed={seed!r} must be an int or None")
        if seed is not None and strategy in EXHAUSTIVE_STRATEGIES:
            raise InvalidArgument(
                f"seed={seed!r} only applies to strategy='random' or 'pct' ({strategy} is "
                "deterministic without a seed)"
            )
        bound = self.preemption_bound
        if bound is not None:
            if strategy not in EXHAUSTIVE_STRATEGIES:
                raise InvalidArgument(
                    f"preemption_bound= applies to strategy='dfs' or 'dpor', not {strategy!r}"
                )
            if bound != "iterative" and (
                isinstance(bound, bool) or not isinstance(bound, int) or bound < 0
            ):
                raise InvalidArgument(
                    f"preemption_bound={bound!r} must be an int >= 0, 'iterative' or None"
                )
        depth = self.depth
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise InvalidArgument(f"depth={depth!r} must be an int of at least 1")
        _seconds("timeout", self.timeout)
        watchdog = self.watchdog
        if watchdog is not None and (
            isinstance(watchdog, bool)
            or not isinstance(watchdog, int | float)
            or math.isnan(watchdog)
            or watchdog < 0
        ):
            raise InvalidArgument(
                f"watchdog={watchdog!r} must be a number of seconds (0 turns the watchdog off) "
                "or None for the default"
            )
        for name in (
            "minimise",
            "stop_on_first",
            "patch_threading",
            "patch_sqlite",
            "trace_attributes",
            "cancellation",
            "detect_data_races",
        ):
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise InvalidArgument(f"{name}={value!r} must be True or False")
        object.__setattr__(self, "project", project_entries(self.project))
        for name in ("suppress_health_check", "fail_health_check"):
            object.__setattr__(self, name, parse_health_checks(name, getattr(self, name)))

    @classmethod
    def option_names(cls) -> tuple[str, ...]:
        """The names of every option, in the order of :func:`interleave.explore`."""
        return tuple(f.name for f in fields(cls))

    def replace(self, **changes: Any) -> ExploreSettings:
        """A copy with ``changes`` (validated like a new one)."""
        unknown = sorted(set(changes) - set(self.option_names()))
        if unknown:
            raise InvalidArgument(
                f"unknown exploration option(s) {', '.join(unknown)}; the options are: "
                f"{', '.join(self.option_names())}"
            )
        return replace(self, **changes)

    @property
    def execution(self) -> ExecutionOptions:
        """The options that shape each execution (a schedule ID records them)."""
        return ExecutionOptions(
            max_steps=self.max_steps,
            patch_threading=self.patch_threading,
            patch_sqlite=self.patch_sqlite,
            trace_attributes=self.trace_attributes,
            cancellation=self.cancellation,
        )
