"""``estimate()``: how many executions an exhaustive exploration of a scenario would run.

The probes run exactly as the exploration's executions do (the same patches, watchdog and
project), through :func:`~interleave._engine._estimate.estimate_program`; this module
validates the arguments and sets that scope up.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from ._core import _interrupts, _watchdog
from ._engine._estimate import ESTIMATED_STRATEGIES, Estimate, estimate_program
from ._engine._settings import ExploreSettings
from ._execution import contexts as _contexts
from ._execution import exploration_scope
from ._execution import watchdog_limit as _watchdog_limit
from ._scenario import builder, check_factory
from .errors import InvalidArgument
from .instrument._project import scenario_project

__all__ = ["DEFAULT_TIME_BUDGET", "estimate", "validate_probes"]

#: Seconds ``estimate()`` spends probing unless told otherwise.
#: Seconds of a call of estimate() by default, counted from the call (its setup included): the
#: whole call stays under a second, with the estimate of 3 x 3 increments within about 3%.
DEFAULT_TIME_BUDGET = 0.8


def validate_probes(probes: object, time_budget: object) -> None:
    """Check ``probes`` and ``time_budget`` (InvalidArgument with the fix otherwise)."""
    if probes is not None and (isinstance(probes, bool) or not isinstance(probes, int)):
        raise InvalidArgument(f"probes={probes!r} must be a whole number of probes, or None")
    if isinstance(probes, int) and probes < 1:
        raise InvalidArgument(f"probes={probes!r} must be at least 1")
    if time_budget is not None and (
        isinstance(time_budget, bool)
        or not isinstance(time_budget, int | float)
        or not time_budget > 0
    ):
        raise InvalidArgument(
            f"time_budget={time_budget!r} must be a positive number of seconds, or None"
        )
    if probes is None and time_budget is None:
        raise InvalidArgument(
            "probes=None and time_budget=None: give a number of probes, a time budget in "
            "seconds, or both (the estimate stops at whichever comes first)"
        )


def _estimated_settings(settings: ExploreSettings, strategy: str | None) -> ExploreSettings:
    chosen = settings.strategy if strategy is None else strategy
    if chosen != settings.strategy:
        settings = settings.replace(strategy=chosen)  # (an unknown name is refused here)
    if chosen not in ESTIMATED_STRATEGIES:
        raise InvalidArgument(
            f"strategy={chosen!r} cannot be estimated: only the exhaustive strategies "
            f"({', '.join(ESTIMATED_STRATEGIES)}) have a number of executions to estimate "
            "('random' and 'pct' run max_schedules executions)"
        )
    bound = settings.preemption_bound
    if bound == "iterative" or (bound is not None and chosen == "dpor"):
        raise InvalidArgument(
            f"preemption_bound={bound!r} cannot be estimated with strategy={chosen!r}: "
            "estimate the search without a bound, or a fixed bound with strategy='dfs'"
        )
    return settings


def estimate(
    scenario: Callable[[], object],
    *,
    strategy: str | None = None,
    probes: int | None = None,
    seed: int = 0,
    time_budget: float | None = DEFAULT_TIME_BUDGET,
    settings: ExploreSettings | None = None,
) -> Estimate:
    """Estimate how many executions ``explore(scenario, strategy=...)`` runs to exhaust it.

    Random probes of the search tree (Knuth's estimator over the strategy's own branches:
    sleep sets for ``dpor``), each one execution of the scenario, with branch probabilities
    learned from the probes before it (unbiased whatever they learn; see
    ``docs/progress.md``). The result has the estimate, its standard error and what the probes
    took, and says how long the whole exploration would take at their rate.

    Args:
        scenario: the scenario factory, as for :func:`explore`.
        strategy: ``"dpor"`` (the number of Mazurkiewicz traces: what dpor runs) or
            ``"dfs"`` (every interleaving); default: the strategy of ``settings``, else dpor.
        probes: run this many probes (at most, with a ``time_budget`` too); None: as many
            as ``time_budget`` allows.
        seed: the seed of the probes' random choices: the same seed and number of probes
            give the same estimate.
        time_budget: stop probing this many seconds after the call (at least one probe
            runs); None: run exactly ``probes`` probes.
        settings: an :class:`ExploreSettings` whose execution options (patches, project,
            ``max_steps``, watchdog, a ``dfs`` preemption bound) the probes run with.

    Returns:
        An :class:`Estimate`; ``str()`` of it is the one-line report.

    Raises:
        InvalidArgument: a strategy other than dpor and dfs, a preemption bound with dpor,
            bad ``probes`` or ``time_budget``.

    Example::

        est = interleave.estimate(scenario, time_budget=0.5)
        print(est)   # about 1,830,000 dpor executions (± 2.1%, ...)
        low, high = est.interval
    """
    called = time.perf_counter()
    check_factory(scenario)
    validate_probes(probes, time_budget)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidArgument(f"seed={seed!r} must be an int")
    if settings is not None and not isinstance(settings, ExploreSettings):
        raise InvalidArgument(
            f"settings={settings!r} must be an interleave.ExploreSettings (or None)"
        )
    chosen = _estimated_settings(settings or ExploreSettings(), strategy)
    bound = chosen.preemption_bound
    assert bound is None or isinstance(bound, int)
    options = chosen.execution
    project = scenario_project(scenario, chosen.project)
    with _interrupts.guard() as interrupt, contextlib.ExitStack() as scope:
        watch = scope.enter_context(_watchdog.guard(_watchdog_limit(chosen.watchdog)))
        scope.enter_context(exploration_scope(chosen.patch_threading))
        result = estimate_program(
            builder(scenario, options),
            chosen.strategy,
            seed=seed,
            probes=probes,
            # (What the setup above took counts: the budget is the call's.)
            time_budget=(
                None
                if time_budget is None
                else max(float(time_budget) - (time.perf_counter() - called), 1e-3)
            ),
            max_steps=chosen.max_steps,
            contexts=_contexts(watch, project, options),
            preemption_bound=bound,
            interrupted=interrupt.is_signalled,
        )
    if interrupt.signalled:
        raise KeyboardInterrupt  # (one that came as the guard was left)
    return result
