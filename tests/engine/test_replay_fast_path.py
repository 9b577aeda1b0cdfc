"""The replay fast path: the runtime replays the start of an execution without the chooser.

``dfs`` and ``dpor`` run each execution from the root, replaying the previous one's choices up
to the node that moves on. When the chooser says how many steps that is (``replayable``) and
that it follows the chooser of the execution the carried observers saw (``follows``), the
runtime takes those steps itself, checking each against that execution: the same enabled
threads, the same step (thread, line, operation). What the exploration finds must not change
(the memo law in test_memo.py and the DPOR oracle run with it on); here: that it is taken, and
that a scenario that is not deterministic is still reported, where it changes, on either
strategy.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import litmus
import pytest

import interleave
from interleave._core._memo import StepMemo
from interleave._engine import _dpor, _strategies
from interleave.errors import NondeterministicScenario

STRATEGIES = ["dfs", "dpor"]


def _count_choices(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the calls of the dfs and dpor choosers' ``choose``."""
    calls = [0]
    for chooser in (_strategies._DfsChooser, _dpor._DporChooser):
        choose = chooser.choose

        def counted(self: Any, view: Any, enabled: Any, choose: Any = choose) -> Any:
            calls[0] += 1
            return choose(self, view, enabled)

        monkeypatch.setattr(chooser, "choose", counted)
    return calls


@pytest.mark.plain_python  # counts the chooser's calls by patching it
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_shared_prefix_is_replayed_without_asking_the_chooser(
    strategy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _count_choices(monkeypatch)
    result = interleave.explore(litmus.increments(3, 2), strategy=strategy, minimise=False)
    steps = result.statistics.steps
    asked = calls[0]
    # Four steps in five repeat the previous execution's (measured): most are not asked.
    assert asked < 0.5 * steps
    # Without carried observers (no memo) there is no fast path: every step is asked, and
    # the exploration is the same.
    monkeypatch.setattr(StepMemo, "of", classmethod(lambda cls, observers: None))
    calls[0] = 0
    plain = interleave.explore(litmus.increments(3, 2), strategy=strategy, minimise=False)
    assert calls[0] == plain.statistics.steps == steps
    assert plain.schedules_run == result.schedules_run
    assert [f.schedule_id for f in plain.findings] == [f.schedule_id for f in result.findings]
    assert plain.occurrences == result.occurrences


def _changes_after(runs: int, change: Callable[[interleave.Shared[int]], None]) -> Any:
    """Two threads of three steps each; from execution ``runs + 1`` on, the first thread's
    second step is ``change`` instead of a read of ``x`` (state kept across executions)."""
    made = [0]

    def scenario() -> interleave.Scenario:
        made[0] += 1
        late = made[0] > runs
        x = interleave.Shared("x", 0)

        def first() -> None:
            x.set(1)
            if late:
                change(x)
            else:
                x.get()
            x.set(2)

        def second() -> None:
            x.get()
            x.set(3)
            x.get()

        return interleave.Scenario(threads=[first, second])

    return scenario


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("runs", [2, 5])
def test_an_operation_that_changes_in_the_replayed_prefix_is_reported(
    strategy: str, runs: int
) -> None:
    scenario = _changes_after(runs, lambda x: x.set(9))  # a write where a read was
    with pytest.raises(NondeterministicScenario, match="not deterministic"):
        interleave.explore(scenario, strategy=strategy, max_schedules=1_000)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_threads_that_change_in_the_replayed_prefix_are_reported(strategy: str) -> None:
    made = [0]

    def scenario() -> interleave.Scenario:
        made[0] += 1
        x = interleave.Shared("x", 0)
        late = made[0] > 1

        def short() -> None:  # runs first (the default policy), so its steps are replayed
            x.get()
            x.set(1)
            if not late:  # from the second execution on it ends here: fewer threads enabled
                x.get()

        def writer() -> None:
            x.set(2)
            x.set(3)

        return interleave.Scenario(threads=[short, writer, writer])

    with pytest.raises(NondeterministicScenario, match="not deterministic"):
        interleave.explore(scenario, strategy=strategy, max_schedules=1_000)
