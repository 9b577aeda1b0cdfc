"""Strategies: which schedules to run, in which order, and when the space is covered.

A strategy hands the explorer one chooser per execution (:meth:`Strategy.next_chooser`) and
learns from each finished execution (:meth:`Strategy.record`). Exhaustive strategies return
``None`` from ``next_chooser`` when every schedule they must cover has run; sampling strategies
never do.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import ClassVar

from .._core._runtime import Chooser, RunOutcome, Runtime
from .._core._threads import SimThread
from ..errors import NondeterministicScenario

__all__ = ["DfsStrategy", "RandomStrategy", "Strategy"]


class Strategy:
    """Base class of exploration strategies."""

    #: Does running out of schedules prove the whole space was covered?
    complete: ClassVar[bool] = False
    name: ClassVar[str] = "strategy"

    def next_chooser(self) -> Chooser | None:
        raise NotImplementedError

    def record(self, runtime: Runtime, outcome: RunOutcome) -> None:
        """Learn from a finished execution (backtracking, DPOR bookkeeping …)."""

    def is_redundant(self) -> bool:
        """Was the last execution equivalent to an earlier one (pruned by reduction)?"""
        return False

    def describe(self) -> str:
        return self.name


class _Node:
    """One scheduling decision on the current DFS path.

    ``options`` are the thread indices to try here, in order (the default policy's pick first,
    so the first execution is the non-preemptive one and few-preemption schedules come early);
    ``pos`` is the option being explored now; ``enabled`` is kept to notice nondeterminism.
    """

    __slots__ = ("enabled", "options", "pos")

    def __init__(self, options: list[int], enabled: tuple[int, ...]) -> None:
        self.options = options
        self.pos = 0
        self.enabled = enabled


class DfsStrategy(Strategy):
    """Exhaustive depth-first search over every interleaving of the yield points.

    The exploration tree is kept as the path of the current execution: a stack of
    :class:`_Node`, one per step. After each execution the deepest node with an untried
    option advances and everything below it is dropped::

        step 0   [A*, B]        * = option being explored
        step 1   [A*, B]
        step 2   [B*]           <- exhausted nodes are popped,
                                   then the deepest open node moves on to its next option
    """

    complete = True
    name = "dfs"

    def __init__(self) -> None:
        self.stack: list[_Node] = []
        self._started = False
        self.exhausted = False

    def next_chooser(self) -> Chooser | None:
        if self._started and not self.stack:
            self.exhausted = True
            return None
        self._started = True
        return _DfsChooser(self.stack)

    def record(self, runtime: Runtime, outcome: RunOutcome) -> None:
        stack = self.stack
        # A step-limited execution ends early: nodes past its end were never reached.
        del stack[len(runtime.choices) :]
        while stack:
            node = stack[-1]
            if node.pos + 1 < len(node.options):
                node.pos += 1
                return
            stack.pop()


class _DfsChooser:
    __slots__ = ("stack",)

    def __init__(self, stack: list[_Node]) -> None:
        self.stack = stack

    def choose(self, runtime: Runtime, enabled: list[SimThread]) -> SimThread:
        depth = len(runtime.choices)
        stack = self.stack
        if depth < len(stack):
            node = stack[depth]
            if len(node.enabled) != len(enabled) or any(
                t.tid != e for t, e in zip(enabled, node.enabled, strict=True)
            ):
                raise _nondeterminism(runtime, depth, node.enabled, enabled)
            tid = node.options[node.pos]
            for thread in enabled:
                if thread.tid == tid:
                    return thread
            raise AssertionError("unreachable: option not enabled")
        first = runtime.default_choice(enabled)
        options = [first.tid]
        options.extend(t.tid for t in enabled if t is not first)
        stack.append(_Node(options, tuple(t.tid for t in enabled)))
        return first


def _nondeterminism(
    runtime: Runtime, depth: int, recorded: tuple[int, ...], enabled: list[SimThread]
) -> NondeterministicScenario:
    names = runtime.threads

    def show(tids: Sequence[int]) -> str:
        return ", ".join(repr(names[t].name) if t < len(names) else f"#{t}" for t in tids) or (
            "none"
        )

    return NondeterministicScenario(
        f"the scenario is not deterministic: at step {depth}, after the same schedule prefix, "
        f"an earlier execution could run [{show(recorded)}] but this one can run "
        f"[{show([t.tid for t in enabled])}]. Each execution must build fresh state in the "
        "factory and must not depend on time, randomness, hash order or state left over "
        "from earlier executions (module-level caches, files, databases)"
    )


class RandomStrategy(Strategy):
    """Uniformly random choice at every step, from one seeded ``random.Random``."""

    name = "random"

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)

    def next_chooser(self) -> Chooser | None:
        return _RandomChooser(self.rng)

    def describe(self) -> str:
        return f"random (seed={self.seed})"


class _RandomChooser:
    __slots__ = ("rng",)

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def choose(self, runtime: Runtime, enabled: list[SimThread]) -> SimThread:
        if len(enabled) == 1:
            return enabled[0]
        return enabled[self.rng.randrange(len(enabled))]
