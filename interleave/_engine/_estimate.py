"""How many executions will an exhaustive search run? Knuth's estimator, with learned branches.

Knuth (1975) estimates the size of a search tree with random *probes*: one walk from the root
to a leaf, choosing a branch at random at each node; with ``p_i`` the probability of the
branch taken at depth ``i``, the probe's estimate ``1 / (p_0 p_1 ... p_d)`` has as its
expectation the number of leaves. Here a probe is one execution of the scenario under a
chooser that branches as the strategy would:

* ``dfs`` explores every enabled thread at every step (within a preemption bound, only the
  last thread once the bound is reached): the tree is the full tree of interleavings.
* ``dpor`` explores one execution per Mazurkiewicz trace. With *sleep sets* over the full
  enabled set (Godefroid), every trace is reached by exactly one maximal path that is not
  sleep-set blocked: at each node the branches are the awake threads, taken in thread order;
  a child inherits as asleep the parent's sleeping threads and the awake threads ordered
  before the branch taken, as long as their next step commutes with the step taken (the same
  rule and the same footprints as ``_dpor.py``). A probe that reaches a node where every
  enabled thread sleeps contributes 0. The mean is then the number of traces: the number of
  executions dpor runs.

Plain Knuth (uniform branches) is unbiased but its spread is large on these trees (a
coefficient of variation of 2.5 on 3 threads x 3 increments). The probes therefore learn as
they go (adaptive importance sampling): each node gets an abstract key (every thread's step
count, which threads can run, and which of them sleep), and the tree *over the keys* is kept:
the key each branch led to, and an estimate of the leaves under each key (a sum over its
branches, the branches not seen yet valued as the mean of the seen ones). The next probes
take a branch with a probability proportional to the estimated leaves under it, mixed with a
uniform share so that every branch keeps a probability of at least ``FLOOR / n``. Whatever
the keys get wrong (two nodes with the same key but different subtrees) costs spread only,
never bias: each probe's weight is the inverse of the probabilities it actually used, and
those depend only on the earlier probes. Where the key does say all that matters
(straight-line threads), the proposal converges to the exact subtree sizes and the spread to
almost nothing. A tree of at most ``WALK_LIMIT`` executions is walked whole instead: exact.

Where the sleep sets block most paths (programs whose threads mostly commute: few traces under
a tree of many blocked paths), the probes are no estimate at all: nearly all count 0 and the few
that do not carry the whole mean (measured: 0 for 512 traces, 0.08x, 1.35x). There, dpor's own
exploration, which never blocks, runs instead for the rest of the budget: the exact count when
it finishes (these programs have few traces), and a lower bound when it does not (no probes
follow: they would say nothing).

Nothing here looks at the clock: the caller decides when to stop (a number of probes or a
time budget), and the choices depend on the seed and the probes so far only.
"""

from __future__ import annotations

import dataclasses
import math
import random
import time
from collections.abc import Callable, Sequence

from .._core._ops import Operation, conflict
from .._core._program import Chooser, Program, RunOutcome
from .._core._threads import SimThread
from .._core._views import StepView
from ._dpor import DporStrategy
from ._estimate_result import UNRELIABLE_BLOCKED, Estimate, duration
from ._run import ExecutionContext, run_once

__all__ = ["ESTIMATED_STRATEGIES", "Estimate", "Estimator", "duration", "estimate_program"]

#: The strategies whose number of executions can be estimated (the exhaustive ones).
ESTIMATED_STRATEGIES = ("dpor", "dfs")
#: The uniform share of every branching decision: a branch the learned values call empty is
#: still taken with probability at least FLOOR / n, so a wrong value costs spread, not bias.
#: (0.1 left the rare leaves of trees with many blocked paths too rare: an estimate of 1.9
#: for 3 traces after 800 probes; 0.3 costs the increments nothing measurable.)
FLOOR = 0.3
#: Probes run before deciding whether to walk the whole tree.
SCOUTS = 8
#: Executions spent walking the whole tree first (an exact count when it is this small).
WALK_LIMIT = 64
#: Keys learned at most: past it, new nodes are probed uniformly (memory stays bounded).
MAX_KEYS = 200_000
# The end of a probe, as the "key" a branch leads to.
_LEAF = "leaf"
_BLOCKED = "blocked"

_Key = tuple[object, ...] | str


class _Tree:
    """What the probes learned of the tree over abstract keys (see the module docs).

    ``children[key][tid]`` is the key the branch of thread ``tid`` led to (or the end of the
    probe), ``width[key]`` the number of branches, ``value[key]`` the estimated leaves under
    the key: the mean value of the branches seen, times the number of branches.
    """

    __slots__ = ("children", "value", "width")

    def __init__(self) -> None:
        self.children: dict[_Key, dict[int, _Key]] = {}
        self.width: dict[_Key, int] = {}
        self.value: dict[_Key, float] = {_LEAF: 1.0, _BLOCKED: 0.0}

    def probabilities(self, key: _Key, tids: list[int]) -> list[float] | None:
        """The branch probabilities at a node with ``key`` and branches ``tids``; None for
        uniform (nothing learned yet)."""
        kids = self.children.get(key)
        if kids is None:
            return None
        value = self.value
        found = [value.get(kids[t]) if t in kids else None for t in tids]
        known = [v for v in found if v is not None]
        if not known:
            return None
        fill = sum(known) / len(known)
        values = [fill if v is None else v for v in found]
        total = sum(values)
        if total <= 0:
            return None
        n = len(tids)
        share = 1.0 - FLOOR
        return [share * v / total + FLOOR / n for v in values]

    def _revalue(self, key: _Key) -> None:
        value = self.value
        known = [value[k] for k in self.children[key].values() if k in value]
        if known:
            value[key] = sum(known) / len(known) * self.width[key]

    def learn(self, path: list[tuple[_Key, int, list[int], float]], end: str) -> None:
        """Record which key each branch of ``path`` led to; update the values bottom-up."""
        child: _Key = end
        children = self.children
        for key, tid, tids, _ in reversed(path):
            kids = children.get(key)
            if kids is None:
                if len(children) >= MAX_KEYS:
                    child = key
                    continue
                kids = children[key] = {}
                self.width[key] = len(tids)
            kids[tid] = child
            self._revalue(key)
            child = key

    def settle(self) -> None:
        """Recompute every value from its children's, deepest keys first: what one probe
        learned deep down reaches every key above it, not only those on its own path."""
        # A branch takes at least one step: a child's key has more steps than its parent's.
        for key in sorted(self.children, key=_steps_taken, reverse=True):
            self._revalue(key)


def _steps_taken(key: _Key) -> int:
    steps = key[0]
    assert isinstance(steps, tuple)
    return sum(steps)


class _ProbeChooser:
    """One probe: branches as the strategy would, picks a branch as the tree proposes."""

    __slots__ = ("blocked", "bound", "path", "rng", "sleep", "sleep_sets", "tree", "weight")

    def __init__(
        self, tree: _Tree, rng: random.Random, *, sleep_sets: bool, bound: int | None
    ) -> None:
        self.tree = tree
        self.rng = rng
        self.sleep_sets = sleep_sets
        self.bound = bound
        self.blocked = False
        self.weight = 1.0
        self.sleep: dict[int, Operation] = {}
        # The branching nodes passed: (key, thread taken, threads that could be, probability).
        self.path: list[tuple[_Key, int, list[int], float]] = []

    def choose(self, view: StepView, enabled: list[SimThread]) -> SimThread:
        if self.blocked:
            return view.default_choice(enabled)
        sleep = self.sleep
        if self.sleep_sets:
            awake = [t for t in enabled if t.tid not in sleep] if sleep else enabled
            if not awake:
                # Sleep-set blocked: dpor does not count this path (an equivalent one is).
                self.blocked = True
                return view.default_choice(enabled)
        elif (
            self.bound is not None
            and (last := view.last) is not None
            and last in enabled
            and view.preemptions >= self.bound
        ):
            awake = [last]  # dfs within the bound: no further preemption
        else:
            awake = enabled
        if len(awake) == 1:
            index = 0
        else:
            tids = [t.tid for t in awake]
            key: _Key = (
                tuple([t.steps for t in view.threads]),
                tuple(sorted(sleep)),
                tuple([t.tid for t in enabled]),
            )
            index, chance = self.branch(key, tids)
            self.weight /= chance
            self.path.append((key, tids[index], tids, chance))
        chosen = awake[index]
        if self.sleep_sets:
            self._next_sleep(view, awake, index)
        return chosen

    def branch(self, key: _Key, tids: list[int]) -> tuple[int, float]:
        """The branch to take among ``tids`` (the awake threads), and its probability."""
        probabilities = self.tree.probabilities(key, tids)
        if probabilities is None:
            return self.rng.randrange(len(tids)), 1.0 / len(tids)
        index = _pick(probabilities, self.rng.random())
        return index, probabilities[index]

    def _next_sleep(self, view: StepView, awake: list[SimThread], index: int) -> None:
        # As _dpor.py's new node: asleep below the branch taken are the sleeping threads and
        # the branches explored before it (here: the awake threads before it) whose next step
        # commutes with the step taken. Steps are compared as they would run at this node.
        chosen = awake[index]
        resolved = view.resolved
        taken = resolved(chosen.pending, chosen).footprint  # type: ignore[arg-type]
        sleep = {q: op for q, op in self.sleep.items() if not conflict(op.footprint, taken)}
        for thread in awake[:index]:
            op = resolved(thread.pending, thread)  # type: ignore[arg-type]
            if not conflict(op.footprint, taken):
                sleep[thread.tid] = op
        self.sleep = sleep


class _WalkChooser(_ProbeChooser):
    """Takes the branches ``prefix`` lists (by position among the awake threads), then the
    first branch: one path of a depth-first walk of the whole tree."""

    __slots__ = ("prefix",)

    def __init__(self, tree: _Tree, prefix: list[int], *, sleep_sets: bool, bound: int | None):
        super().__init__(tree, random.Random(0), sleep_sets=sleep_sets, bound=bound)
        self.prefix = prefix

    def branch(self, key: _Key, tids: list[int]) -> tuple[int, float]:
        depth = len(self.path)
        return (self.prefix[depth] if depth < len(self.prefix) else 0), 1.0


def _pick(probabilities: list[float], u: float) -> int:
    total = 0.0
    for index, p in enumerate(probabilities):
        total += p
        if u < total:
            return index
    return len(probabilities) - 1


class Estimator:
    """Runs probes (through ``run``) and keeps their estimates; :meth:`result` sums them up.

    Example (inside the engine)::

        estimator = Estimator(run, "dpor", seed=0)
        while estimator.probes < 1000:
            estimator.probe()
        print(estimator.result(seconds=0.8))
    """

    def __init__(
        self,
        run: Callable[[_ProbeChooser], RunOutcome],
        strategy: str,
        *,
        seed: int,
        preemption_bound: int | None = None,
    ) -> None:
        if strategy not in ESTIMATED_STRATEGIES:
            raise ValueError(f"cannot estimate strategy {strategy!r}")
        self.run = run
        self.strategy = strategy
        self.bound = preemption_bound
        self.rng = random.Random(seed)
        self.tree = _Tree()
        self.probes = 0
        self.blocked = 0
        self.walked = 0  # executions of walk() (or of dpor's own exploration: estimate_program)
        # Welford's running mean and sum of squared deviations of the probes' estimates.
        self._mean = 0.0
        self._m2 = 0.0

    def probe(self) -> float:
        """Run one probe; return its estimate (0 when sleep-set blocked)."""
        chooser = _ProbeChooser(
            self.tree, self.rng, sleep_sets=self.strategy == "dpor", bound=self.bound
        )
        self.run(chooser)
        end = _BLOCKED if chooser.blocked else _LEAF
        self.tree.learn(chooser.path, end)
        if self.probes & (self.probes - 1) == 0 and self.probes >= 8:
            self.tree.settle()  # after 8, 16, 32 ... probes: a cost that stays small
        value = 0.0 if chooser.blocked else chooser.weight
        self.blocked += chooser.blocked
        self.probes += 1
        delta = value - self._mean
        self._mean += delta / self.probes
        self._m2 += delta * (value - self._mean)
        return value

    def walk(self, limit: int, stop: Callable[[], bool]) -> int | None:
        """Walk the whole tree depth first, in at most ``limit`` executions: the exact count,
        or None when the tree is bigger (or ``stop()`` said so first). What the walk saw
        teaches the probes' tree either way."""
        prefix: list[int] = []
        leaves = 0
        for _ in range(limit):
            chooser = _WalkChooser(
                self.tree, prefix, sleep_sets=self.strategy == "dpor", bound=self.bound
            )
            self.run(chooser)
            self.walked += 1
            self.tree.learn(chooser.path, _BLOCKED if chooser.blocked else _LEAF)
            leaves += not chooser.blocked
            # The next path: the deepest branching node with a branch not walked yet.
            taken = [tids.index(tid) for _, tid, tids, _ in chooser.path]
            while taken and taken[-1] + 1 >= len(chooser.path[len(taken) - 1][2]):
                taken.pop()
            if not taken:
                return leaves
            taken[-1] += 1
            prefix = taken
            if stop():
                return None
        return None

    def result(self, seconds: float) -> Estimate:
        """The estimate of the probes so far (``seconds``: the time they took)."""
        n = self.probes
        spread = math.sqrt(self._m2 / (n - 1) / n) if n > 1 else math.inf
        return Estimate(
            strategy=self.strategy,
            executions=self._mean,
            standard_error=spread,
            probes=n,
            blocked=self.blocked,
            seconds=seconds,
            preemption_bound=self.bound if self.strategy == "dfs" else None,
        )


def estimate_program(
    build: Callable[[], Program],
    strategy: str,
    *,
    seed: int,
    probes: int | None,
    time_budget: float | None,
    max_steps: int,
    contexts: Sequence[ExecutionContext] = (),
    preemption_bound: int | None = None,
    interrupted: Callable[[], bool] = lambda: False,
    clock: Callable[[], float] = time.perf_counter,
) -> Estimate:
    """Probe ``build`` until ``probes`` probes ran or ``time_budget`` seconds passed (at
    least one probe; whichever comes first when both are given).

    ``clock`` measures the budget: wall time by default; ``time.process_time`` gives as many
    probes however busy the machine is (the progress display's estimate, made while worker
    processes share the cores: fewer probes estimate the increments far too low). The
    ``seconds`` of the result are wall time either way.

    The probes run without detectors (a detector never steers, so the tree is the same).
    The clock only decides when to stop, never which branch a probe takes.

    Raises:
        KeyboardInterrupt: ``interrupted()`` said a SIGINT arrived during a probe.
    """

    def run(chooser: Chooser) -> RunOutcome:
        return run_once(build, chooser, observers=(), max_steps=max_steps, contexts=contexts)[1]

    estimator = Estimator(run, strategy, seed=seed, preemption_bound=preemption_bound)
    start = time.perf_counter()
    stop_at = None if time_budget is None else clock() + time_budget

    def out_of_time() -> bool:
        if interrupted():
            raise KeyboardInterrupt
        return stop_at is not None and clock() >= stop_at

    # A few probes first: a tree they find small is walked whole instead (exact, and a
    # probe's spread is at its worst on such trees: a few leaves among many blocked paths).
    # Whether the walk finishes depends on the tree only, never on the probes, so the probes
    # stay unbiased when it does not; a big tree keeps the walk's executions for probes.
    while estimator.probes < min(SCOUTS, probes or SCOUTS):
        estimator.probe()
        if out_of_time():
            break
    exact = None
    small = estimator.result(0.0).executions <= 2 * WALK_LIMIT
    sparse = strategy == "dpor" and estimator.blocked >= UNRELIABLE_BLOCKED * estimator.probes
    at_least = 0
    if sparse and not out_of_time():
        # dpor's own exploration (see the module docs), for the rest of the budget (or as
        # many executions as probes were asked for).
        traces, runs, finished = _explore_dpor(run, preemption_bound, probes, out_of_time)
        estimator.walked += runs
        exact = traces if finished else None
        at_least = 0 if finished else traces
    elif small and not out_of_time():
        exact = estimator.walk(
            WALK_LIMIT if probes is None else min(probes, WALK_LIMIT), out_of_time
        )
    if exact is not None:
        return Estimate(
            strategy=strategy,
            executions=float(exact),
            standard_error=0.0,
            probes=estimator.walked + estimator.probes,
            blocked=estimator.walked - exact,
            seconds=time.perf_counter() - start,
            preemption_bound=preemption_bound if strategy == "dfs" else None,
            exact=True,
        )
    while not at_least and (probes is None or estimator.probes < probes):
        if estimator.probes and out_of_time():
            break
        estimator.probe()
    if interrupted():
        raise KeyboardInterrupt
    found = estimator.result(time.perf_counter() - start)
    if at_least:
        # Every execution counts in the rate (the exploration's too); the interval is the
        # lower bound's (see Estimate.interval).
        found = dataclasses.replace(
            found,
            executions=float(at_least),
            standard_error=math.inf,
            probes=estimator.probes + estimator.walked,
            at_least=at_least,
        )
    return found


def _explore_dpor(
    run: Callable[[Chooser], RunOutcome],
    preemption_bound: int | None,
    limit: int | None,
    stop: Callable[[], bool],
) -> tuple[int, int, bool]:
    """Explore with dpor itself for at most ``limit`` executions, until ``stop()``: the
    traces (executions not sleep-set blocked), the executions, and whether it finished."""
    strategy = DporStrategy(preemption_bound)
    traces = runs = 0
    while (chooser := strategy.next_chooser()) is not None:
        if (limit is not None and runs >= limit) or (runs and stop()):
            return traces, runs, False
        strategy.record(run(chooser))
        runs += 1
        traces += not strategy.last_was_pruned()
    return traces, runs, True
