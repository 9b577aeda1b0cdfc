"""The ``interleavings`` fixture: the pytest adapter over the engine.

The plugin's entry point (``_interleave_pytestplugin``, loaded in every pytest session) imports
this module the first time a test asks for the fixture. The fixture only passes context in:

- an :class:`~interleave.ExploreSettings` built from, by precedence, the keywords of the call,
  the test's ``@pytest.mark.interleave(...)``, the command line, the ini file and the library
  defaults (the marker takes exactly the options ``ExploreSettings.option_names()`` lists, and
  ``require_proof``);
- a schedule database in pytest's cache directory (``.pytest_cache/d/interleave``, one file per
  entry: xdist workers write side by side and lose nothing), keyed by the test's node ID and
  the scenario: the engine replays the failures saved there first (its *reuse* phase), drops
  those that pass now or no longer fit, and saves the new ones;
- the test's node ID, for the replay lines of the report (a :class:`ReplayContext`).

It fails the test with the full report when an exploration has findings (or, when a proof is
required, when its verdict is not ``proved``) and records what the terminal summary needs as
events on the test report.

Example::

    import interleave

    def lost_update():
        hits = interleave.Shared("hits", 0)
        def worker():
            hits.set(hits.get() + 1)
        return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)

    @pytest.mark.interleave(max_schedules=500)
    def test_hits(interleavings):
        interleavings.explore(lost_update)  # fails with the report and a replay line
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pytest

import interleave
from _interleave_pytestplugin import STOP_WORDS, SessionState, Setting, progress_interval
from interleave._api import run_exploration
from interleave._engine._database import DirectoryDatabase, ScheduleDatabase
from interleave._engine._settings import EXHAUSTIVE_STRATEGIES, ExitReason, ExploreSettings
from interleave._progress import ProgressLines
from interleave._report import ReplayContext, render_explore, render_run
from interleave._results import HOW_TO_PROVE, ExploreResult, RunResult
from interleave.errors import (
    FailedHealthCheck,
    InvalidArgument,
    InvalidScheduleId,
    ScenarioError,
    ScheduleDivergence,
)

if TYPE_CHECKING:
    from interleave import LinearizabilityResult

__all__ = ["Interleavings"]

#: Keywords of the marker and of ``interleavings.explore()`` that are the plugin's own.
PLUGIN_KEYWORDS = ("require_proof",)
#: Where the marker and the call keywords come from, in the messages about bad values.
_CALL = "the explore() call"
_MARKER = "@pytest.mark.interleave"


class Interleavings:
    """The ``interleavings`` fixture: explore or replay scenarios from a test.

    Settings come, by precedence, from the keywords of the call, the test's
    ``@pytest.mark.interleave(...)`` marker, the command line (``--interleave-max-schedules``,
    ``--interleave-strategy``, ``--interleave-seed``, ``--interleave-require-proof``), the ini
    file (``interleave_max_schedules``, ``interleave_strategy``, ``interleave_seed``,
    ``interleave_require_proof``), then the library defaults.

    Example::

        def test_counter(interleavings):
            result = interleavings.explore(counter_scenario)
            assert result.exhausted
    """

    def __init__(self, request: pytest.FixtureRequest, state: SessionState) -> None:
        self._node = request.node
        self._config = request.config
        self._state = state
        self._marker = _marker_settings(request.node)

    def __repr__(self) -> str:
        return f"<interleavings fixture of {self.nodeid}>"

    @property
    def nodeid(self) -> str:
        """The node id of the test (as used in the replay line)."""
        return str(self._node.nodeid)

    def explore(
        self, scenario: Callable[[], object], **overrides: Any
    ) -> ExploreResult | RunResult:
        """Explore ``scenario``; fail the test with the report if anything is found.

        Before exploring, the failing schedule IDs saved for this test and scenario (by an
        earlier run) are replayed; one that still fails fails the test at once. With
        ``--interleave-replay=ID`` nothing is explored: the ID is replayed, the test fails with
        its report if it has findings, and the :class:`~interleave.RunResult` is returned.

        With ``require_proof=True`` (or the marker keyword, ``--interleave-require-proof``,
        the ini key ``interleave_require_proof``) a clean exploration whose verdict is not
        ``proved`` fails the test too, saying why and how to get a proof.

        Args:
            scenario: the scenario factory, as for :func:`interleave.explore`.
            **overrides: options of :func:`interleave.explore` (``progress`` too), and
                ``require_proof``; they win over the marker, the command line and the ini file.

        Returns:
            The :class:`~interleave.ExploreResult` when nothing was found (check
            ``exhausted``: a passing test whose exploration stopped at its budget is not a
            proof, and the report section says so), or the ``RunResult`` in replay mode.

        Example::

            def test_transfer(interleavings):
                result = interleavings.explore(transfer, max_schedules=200)
                assert result.ok
        """
        __tracebackhide__ = True
        progress = overrides.pop("progress", None)
        if progress is None:
            progress = self._terminal_progress()
        settings = self._settings(overrides)
        require_proof = settings.pop("require_proof", None)
        if require_proof is not None and not isinstance(require_proof.value, bool):
            pytest.fail(
                f"interleave: invalid setting: require_proof={require_proof.value!r} must be "
                f"True or False (from {require_proof.origin})",
                pytrace=False,
            )
        if self._state.replay_id is not None:
            # A replay explores nothing, so there is no proof to require: the printed replay
            # line must work in a session that requires proofs too.
            return self._replay_requested(scenario, self._state.replay_id, settings)
        problem = failed_check = None
        try:
            chosen = ExploreSettings(**{name: s.value for name, s in settings.items()})
            result = run_exploration(
                scenario,
                chosen,
                progress=progress,
                database=self._database(),
                database_key=f"{self.nodeid} {_scenario_key(scenario)}",
            )
        except interleave.Interrupted as stop:
            # Ctrl-C: pytest stops the session as on any KeyboardInterrupt; the findings so far
            # go to the terminal summary (with their replay lines) instead of being lost.
            self._state.interrupted.append(
                f"{self.nodeid}: interrupted (Ctrl-C) after "
                f"{stop.result.schedules_run:,} schedules, findings so far: "
                f"{_kinds(stop.result.findings)}\n"
                + render_explore(stop.result, ReplayContext.of(stop.result, node_id=self._quoted()))
            )
            raise
        except ScenarioError:
            raise
        except FailedHealthCheck as exc:
            failed_check = f"interleave: {exc}"
        except InvalidArgument as exc:
            if all(s.origin == _CALL for s in settings.values()):
                raise
            problem = str(exc)
        if failed_check is not None:
            pytest.fail(failed_check, pytrace=False)  # its message names the cause and the fix
        if problem is not None:
            # A bad value from the marker, command line or ini: say where each setting came
            # from (failing outside the except block keeps the traceback out of the output).
            origins = ", ".join(f"{k}={s.value!r} from {s.origin}" for k, s in settings.items())
            pytest.fail(
                f"interleave: invalid setting: {problem}\nsettings of this test: {origins}",
                pytrace=False,
            )
        self._junit_properties(result)
        self._saved_failures(result)
        self._record(
            "explored",
            scenario=result.scenario,
            verdict=str(result.verdict),
            schedules=result.schedules_run,
            exhausted=result.exhausted,
            stopped=str(result.stopped_because),
            findings=len(result.findings),
        )
        coverage = _coverage(result)
        self._section(
            f"explore {result.scenario}: {result.schedules_run:,} schedules run, {coverage}, "
            f"findings: {_kinds(result.findings)} ({result.strategy})"
        )
        self._node.user_properties.append(
            (
                "interleave",
                f"{result.scenario}: {result.schedules_run} schedules, {coverage}, "
                f"findings: {_kinds(result.findings)}",
            )
        )
        if result.findings:
            first = result.findings[0]
            report = render_explore(result, ReplayContext.of(result, node_id=self._quoted()))
            pytest.fail(
                f"{report}\n\nreplay the first finding ({first.kind}):\n"
                f"  {self._replay_line(first.schedule_id)}"
            )
        if require_proof is not None and require_proof.value and result.verdict != "proved":
            self._fail_unproved(result, require_proof)
        return result

    def check_linearizable(
        self,
        make: Callable[[], object],
        model: Callable[[], object],
        operations: Any,
        **overrides: Any,
    ) -> LinearizabilityResult | RunResult:
        """:func:`interleave.check_linearizable` for a test: fail it with the report when a
        history is not linearizable (or anything else is found).

        Settings merge as for :meth:`explore` (the keywords the check takes: ``max_schedules``,
        ``max_steps``, ``timeout``, the patches, ``project`` …; a session ``seed`` is for
        the seeded strategies and is not used). With ``--interleave-replay=L1-...`` the ID
        is replayed with :func:`interleave.replay_linearizable` instead. ``require_proof``
        fails a clean check whose verdict is not ``proved``.

        Example::

            def test_counter(interleavings):
                interleavings.check_linearizable(LockedCounter, CounterModel, ["increment"])
        """
        __tracebackhide__ = True
        settings = self._settings(overrides, call="check_linearizable")
        require_proof = settings.pop("require_proof", None)
        allowed = _linearizable_keywords()
        kwargs = {
            name: s.value
            for name, s in settings.items()
            if name in allowed and (name != "seed" or s.origin == _CALL)
        }
        if self._state.replay_id is not None:
            return self._replay_linearizable(make, model, self._state.replay_id, kwargs)
        failed: str | None = None
        try:
            result = interleave.check_linearizable(make, model, operations, **kwargs)
        except FailedHealthCheck as exc:
            failed = f"interleave: {exc}"
        if failed is not None:
            # Failing outside the except block keeps the internal exception out of the output.
            pytest.fail(failed, pytrace=False)
        self._record(
            "explored",
            scenario=result.scenario,
            verdict=str(result.verdict),
            schedules=result.schedules_run,
            exhausted=result.exhausted,
            stopped=result.stopped_because,
            findings=len(result.findings),
        )
        self._section(
            f"{result.scenario}: {result.scenarios_run:,} scenarios, {result.schedules_run:,} "
            f"schedules, {_coverage(result)}, findings: {_kinds(result.findings)}"
        )
        if result.findings:
            first = result.findings[0]
            context = ReplayContext(python_call=result.replay_line, node_id=self._quoted())
            report = render_explore(result, context, how_to_prove=result.how_to_prove)
            pytest.fail(
                f"{report}\n\nreplay the first finding ({first.kind}):\n"
                f"  {self._replay_line(first.schedule_id)}"
            )
        if require_proof is not None and require_proof.value is True and result.verdict != "proved":
            pytest.fail(
                f"interleave: {result.scenario}: the verdict is '{result.verdict}', not 'proved' "
                f"({result.stopped_text}), and this test requires a proof (require_proof from "
                f"{require_proof.origin}).\nFor a proof, {result.how_to_prove}.\n\n"
                f"{result.report()}",
                pytrace=False,
            )
        return result

    def _replay_linearizable(
        self,
        make: Callable[[], object],
        model: Callable[[], object],
        schedule_id: str,
        kwargs: dict[str, Any],
    ) -> RunResult:
        __tracebackhide__ = True
        self._record("replayed")
        options = {k: v for k, v in kwargs.items() if k in ("watchdog", "project")}
        problem = None
        run: RunResult | None = None
        try:
            run = interleave.replay_linearizable(make, model, schedule_id, **options)
        except (InvalidScheduleId, ScheduleDivergence) as exc:
            problem = (
                f"interleave: --interleave-replay={schedule_id} cannot be replayed by "
                f"{self.nodeid}'s check_linearizable(): {exc}"
            )
        return self._replayed(schedule_id, run, problem)

    def _replayed(self, schedule_id: str, run: RunResult | None, problem: str | None) -> RunResult:
        """Fail with ``problem`` if the ID could not run; else note the replay in the test's
        section and fail the test with its report when it has findings."""
        __tracebackhide__ = True
        if problem is not None or run is None:
            self._section(f"replay (--interleave-replay) {schedule_id}: could not run")
            pytest.fail(problem or f"interleave: {schedule_id} did not run", pytrace=False)
        self._section(
            f"replay (--interleave-replay) {run.scenario} {run.schedule_id}: "
            f"{len(run.trace)} steps, findings: {_kinds(run.findings)}; nothing was explored"
        )
        if run.findings:
            pytest.fail(
                f"interleave: replayed {schedule_id} instead of exploring "
                f"(--interleave-replay): {len(run.findings)} finding(s)\n\n{run.report()}\n\n"
                f"replay it again:\n  {self._replay_line(schedule_id)}"
            )
        return run

    def replay(self, scenario: Callable[[], object], schedule_id: str) -> RunResult:
        """Replay ``schedule_id`` once and return the :class:`~interleave.RunResult`.

        It does not fail the test when the run has findings: assert on the result. A
        malformed ID raises :class:`~interleave.errors.InvalidScheduleId`, a run that cannot
        follow the schedule :class:`~interleave.errors.ScheduleDivergence`. ``max_steps``,
        ``patch_threading`` and ``trace_attributes`` are those the ID recorded, unless the
        marker sets them.

        Example::

            def test_known_bad_order(interleavings):
                run = interleavings.replay(lost_update, "2-kAQEAAEKChoaAAGm")
                assert [f.kind for f in run.findings] == ["lost-update", "invariant"]
        """
        __tracebackhide__ = True
        run = interleave.replay(scenario, schedule_id, **_replay_options(self._settings({})))
        self._section(
            f"replay {run.scenario} {run.schedule_id}: {len(run.trace)} steps, "
            f"findings: {_kinds(run.findings)}"
        )
        return run

    # --- helpers ---

    def _settings(
        self, overrides: Mapping[str, object], call: str = "explore"
    ) -> dict[str, Setting]:
        """The settings of this call, each with its origin: session < marker < call."""
        __tracebackhide__ = True
        allowed = _keywords() if call == "explore" else _linearizable_keywords()
        unknown = sorted(set(overrides) - set(allowed))
        if unknown:
            extra = ", progress" if call == "explore" else ""
            raise InvalidArgument(
                f"interleavings.{call}() got unknown keyword(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(allowed)}{extra}"
            )
        merged = dict(self._state.session_settings)
        merged.update(self._marker)
        merged.update({k: Setting(v, _CALL) for k, v in overrides.items()})
        # A seed of the whole session (command line, ini) applies to seeded strategies only,
        # so `--interleave-seed` does not break dpor/dfs tests; a seed the marker or the call
        # gives is passed on, so a mismatch there is reported, not ignored. The library's
        # default strategy is not seeded either.
        strategy = merged["strategy"].value if "strategy" in merged else None
        session_seed = self._state.session_settings.get("seed")
        unseeded = strategy is None or strategy in EXHAUSTIVE_STRATEGIES
        if unseeded and session_seed is not None and merged["seed"] is session_seed:
            del merged["seed"]
        return merged

    def _terminal_progress(self) -> ProgressLines | None:
        """A line in the terminal (through pytest's reporter, past the output capture) at most
        every ``interleave_progress_interval`` seconds of a long exploration."""
        interval = progress_interval(self._config)
        plugins = self._config.pluginmanager
        terminal = plugins.get_plugin("terminalreporter")
        capture = plugins.get_plugin("capturemanager")
        if interval <= 0 or terminal is None:  # (xdist workers have no terminal)
            return None

        def write(line: str) -> None:
            with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
                terminal.ensure_newline()
                terminal.write_line(line)

        return ProgressLines(write, interval=interval, prefix=f"interleave: {self.nodeid}: ")

    def _database(self) -> ScheduleDatabase | None:
        """The schedule database in pytest's cache directory (none without the cache)."""
        cache = getattr(self._config, "cache", None)
        return None if cache is None else DirectoryDatabase(cache.mkdir("interleave"))

    def _saved_failures(self, result: ExploreResult) -> None:
        """Report what the engine did with the failures saved by earlier runs; fail the test
        when one still fails (the exploration stopped there)."""
        __tracebackhide__ = True
        for saved in result.reused:
            self._record("cached-replay")
            if saved.outcome == "fixed":
                self._section(
                    f"replay of cached failing schedule {saved.schedule_id}: passes now, dropped"
                )
                self._note(
                    f"cached failing schedule {saved.schedule_id} of {self.nodeid} passes now: "
                    "dropped"
                )
            elif saved.outcome == "stale":
                self._note(
                    f"dropped cached schedule {saved.schedule_id} of {self.nodeid}: it no longer "
                    "fits the scenario (it changed)"
                )
        if result.stopped_because is not ExitReason.REPRODUCED:
            return
        # The saved IDs come back sorted, not in the order the failing run found them: lead
        # with one that shows more than data races (the lost update or the broken check the
        # last failure was about), when one does.
        reproduced = [s.schedule_id for s in result.reused if s.outcome == "reproduced"]
        races_only = {
            i: all(f.kind == "data-race" for f in result.findings if f.schedule_id == i)
            for i in reproduced
        }
        first = min(reproduced, key=lambda i: (races_only[i], reproduced.index(i)))
        findings = tuple(f for f in result.findings if f.schedule_id == first) or result.findings
        trace = findings[0].trace
        assert trace is not None  # every finding of an execution carries its trace
        run = RunResult(scenario=result.scenario, schedule_id=first, trace=trace, findings=findings)
        self._section(
            f"replay of cached failing schedule {first}: still fails ({_kinds(run.findings)}); "
            "not explored"
        )
        pytest.fail(
            f"interleave: cached failing schedule {first} (from an earlier run, replayed before "
            f"exploring) still fails\n\n{render_run(run)}\n\nreplay it:\n  "
            f"{self._replay_line(first)}\n(pytest --cache-clear forgets cached schedules)"
        )

    def _junit_properties(self, result: ExploreResult) -> None:
        """What ``--junitxml`` carries for CI systems: the verdict, the executions and every
        schedule ID of the findings (one property each, per exploration)."""
        properties = self._node.user_properties
        properties.append(("interleave_verdict", str(result.verdict)))
        properties.append(("interleave_schedules_run", str(result.schedules_run)))
        ids = dict.fromkeys(f.schedule_id for f in result.findings if f.schedule_id)
        if ids:
            properties.append(("interleave_schedule_ids", " ".join(ids)))

    def _section(self, line: str) -> None:
        self._state.section(self._node, line)

    def _record(self, kind: str, **data: object) -> None:
        self._state.record(self._node, kind, **data)

    def _note(self, text: str) -> None:
        self._record("note", text=text)

    def _fail_unproved(self, result: ExploreResult, required: Setting) -> None:
        __tracebackhide__ = True
        optout = (
            "\nOr, if a sample is what this test means to run, opt it out with "
            "@pytest.mark.interleave(require_proof=False)."
            if required.origin not in (_CALL, _MARKER)
            else ""
        )
        pytest.fail(
            f"interleave: {result.scenario}: the verdict is '{result.verdict}', not 'proved' "
            f"({result.stopped_text}, after {result.schedules_run:,} schedule(s)), and this "
            f"test requires a proof (require_proof from {required.origin}).\n"
            f"For a proof, {HOW_TO_PROVE.get(result.verdict, 'explore every schedule')} "
            "(settings go in @pytest.mark.interleave(...) or the keywords of "
            f"interleavings.explore()).{optout}\n\n{result.report()}",
            pytrace=False,
        )

    def _quoted(self) -> str:
        return shlex.quote(self.nodeid)

    def _replay_line(self, schedule_id: str) -> str:
        return f"pytest {self._quoted()} --interleave-replay={schedule_id}"

    def _replay_requested(
        self, scenario: Callable[[], object], schedule_id: str, settings: dict[str, Setting]
    ) -> RunResult:
        __tracebackhide__ = True
        self._record("replayed")
        problem = None
        run: RunResult | None = None
        try:
            run = interleave.replay(scenario, schedule_id, **_replay_options(settings))
        except InvalidScheduleId as exc:
            problem = (
                f"interleave: --interleave-replay got an invalid schedule ID: {exc}\n"
                "Copy the ID from the 'schedule ID:' line of a failure report."
            )
        except ScheduleDivergence as exc:
            problem = (
                f"interleave: --interleave-replay={schedule_id} does not fit the scenario of "
                f"{self.nodeid}: {exc}\nSelect only the test that printed the ID: "
                f"pytest PATH::TEST --interleave-replay={schedule_id}"
            )
        # Failing outside the except block keeps the internal exception out of the output.
        return self._replayed(schedule_id, run, problem)


# --- small pure helpers ------------------------------------------------------------------------


def _keywords() -> tuple[str, ...]:
    """The keywords of the marker (and of the fixture's ``explore()``): every option of
    ``ExploreSettings`` and the plugin's own."""
    return tuple(sorted((*ExploreSettings.option_names(), *PLUGIN_KEYWORDS)))


def _marker_settings(node: pytest.Item) -> dict[str, Setting]:
    """The merged keywords of the ``interleave`` markers, closest first."""
    __tracebackhide__ = True
    merged: dict[str, Setting] = {}
    keywords = _keywords()
    allowed = ", ".join(keywords)
    for marker in node.iter_markers("interleave"):
        if marker.args:
            pytest.fail(
                f"{_MARKER} takes keywords only, got positional {marker.args!r}; "
                f"write e.g. @pytest.mark.interleave(max_schedules=100). Allowed: {allowed}",
                pytrace=False,
            )
        for name, value in marker.kwargs.items():
            if name not in keywords:
                pytest.fail(
                    f"{_MARKER} got an unknown keyword {name!r}; allowed: {allowed}",
                    pytrace=False,
                )
            merged.setdefault(name, Setting(value, _MARKER))
    return merged


def _replay_options(settings: Mapping[str, Setting]) -> dict[str, Any]:
    """The settings that also shape one execution (``max_steps`` …): replays use them too."""
    options = ExploreSettings.REPLAY_OPTIONS
    return {name: s.value for name, s in settings.items() if name in options}


def _linearizable_keywords() -> tuple[str, ...]:
    """The keywords of ``interleave.check_linearizable`` that settings may give (its own:
    threads, calls per thread, scenarios; and the options of ``ExploreSettings`` it takes)."""
    import inspect

    names = inspect.signature(interleave.check_linearizable).parameters
    return tuple(n for n in names if n not in ("make", "model", "operations")) + PLUGIN_KEYWORDS


def _scenario_key(scenario: object) -> str:
    module = getattr(scenario, "__module__", None) or ""
    name = getattr(scenario, "__qualname__", None) or type(scenario).__qualname__
    return f"{module}:{name}"


def _kinds(findings: tuple[Any, ...]) -> str:
    return ", ".join(f.kind for f in findings) or "none"


def _coverage(result: ExploreResult) -> str:
    if result.exhausted:
        return "exhausted"
    return f"NOT exhausted ({STOP_WORDS.get(result.stopped_because, result.stopped_because)})"
