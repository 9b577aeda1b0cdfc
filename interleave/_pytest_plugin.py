"""The pytest plugin: the ``interleavings`` fixture, the ``interleave`` marker and options.

A thin adapter over the public API (``interleave.explore`` / ``interleave.replay``): it merges
settings (keyword > marker > command line > ini > library default), fails a test with the full
report when an exploration has findings (or, with ``--interleave-require-proof``, when its
verdict is not ``proved``), keeps failing schedule IDs in pytest's cache and replays them first
on the next run, adds an ``interleave`` section to the test report and a verdict per exploration
to the terminal summary.

Under pytest-xdist the tests run in worker processes and only the controller has the terminal,
so nothing the summary or the cache needs is kept in a process: the fixture records events on
the test item, each test report carries them (``report.interleave_events``: plain dicts, which
xdist sends to the controller like the rest of the report), and the process that receives every
report (the controller, or the only process without xdist) builds the summary and writes the
cache once, at the end of the session.

pytest loads this module in every session (entry point ``pytest11``), so it imports nothing
heavy at import time and does nothing for tests that do not use the fixture.

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

import shlex
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from interleave import ExploreResult, LinearizabilityResult, RunResult

__all__ = ["Interleavings"]

#: Keywords of ``interleave.explore`` that ``@pytest.mark.interleave`` does not take.
_NOT_MARKER_KEYWORDS = ("scenario", "progress")
#: pytest cache key: ``{nodeid: {scenario: [schedule IDs]}}``.
CACHE_KEY = "interleave/failures"
#: The attribute of a test report that carries the interleave events of that test phase.
EVENTS_ATTR = "interleave_events"

#: Keywords of the marker and of ``interleavings.explore()`` that are the plugin's, not explore()'s.
_PLUGIN_KEYWORDS = ("require_proof",)

_MARKER_LINE = (
    "interleave(max_schedules=..., strategy=..., seed=..., max_steps=..., timeout=..., "
    "stop_on_first=..., require_proof=...): defaults for this test's interleavings.explore() "
    "calls (see the interleave pytest guide)"
)
_STOP_WORDS = {
    "max_schedules": "stopped at max_schedules",
    "timeout": "stopped at the timeout",
    "first-finding": "stopped at the first finding",
}


# --- session state ---------------------------------------------------------------------------


@dataclass
class _Setting:
    value: Any
    origin: str


@dataclass
class _SessionState:
    """What the fixture needs from the session (in every process, xdist workers included)."""

    session_settings: dict[str, _Setting] = field(default_factory=dict)
    replay_id: str | None = None
    #: Reports of explorations Ctrl-C stopped in this process (pytest makes no test report
    #: for an interrupted phase, so they cannot travel as the other events do).
    interrupted: list[str] = field(default_factory=list)


#: List-valued settings of explore() (and replay(), for ``project``) the session may set.
_LIST_SETTINGS = {
    "project": (
        "packages or paths that are project code besides the default (explore's project=); "
        "relative paths start at the rootdir (ini) or the invocation directory (option)"
    ),
    "suppress_health_check": "health checks not to run (explore's suppress_health_check=)",
    "fail_health_check": "health checks that fail the test (explore's fail_health_check=)",
}

_STATE = pytest.StashKey[_SessionState]()
_SECTION = pytest.StashKey[list[str]]()
#: Events of the current test phase, moved onto its report by pytest_runtest_makereport.
_EVENTS = pytest.StashKey[list[dict[str, Any]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("interleave", "interleave: explore thread interleavings")
    group.addoption(
        "--interleave-max-schedules",
        dest="interleave_max_schedules",
        metavar="N",
        default=None,
        help="default max_schedules of interleavings.explore() (ini: interleave_max_schedules)",
    )
    group.addoption(
        "--interleave-strategy",
        dest="interleave_strategy",
        metavar="S",
        default=None,
        help="default strategy of explore(): dpor, dfs, random, pct (ini: interleave_strategy)",
    )
    group.addoption(
        "--interleave-seed",
        dest="interleave_seed",
        metavar="N",
        default=None,
        help="default seed of the seeded strategies (random, pct) (ini: interleave_seed)",
    )
    group.addoption(
        "--interleave-require-proof",
        dest="interleave_require_proof",
        action="store_true",
        default=None,
        help="fail a test whose exploration is not a proof (verdict other than 'proved'): "
        "sampled, cut by a budget or a preemption bound (ini: interleave_require_proof)",
    )
    group.addoption(
        "--interleave-replay",
        dest="interleave_replay",
        metavar="ID",
        default=None,
        help="replay this schedule ID instead of exploring (select one test by its node id)",
    )
    for name, what in _LIST_SETTINGS.items():
        group.addoption(
            "--interleave-" + name.replace("_", "-"),
            dest="interleave_" + name,
            action="append",
            metavar="NAMES",
            default=None,
            help=f"{what}; comma-separated or repeated (ini: interleave_{name})",
        )
    number = _int_ini_type()
    parser.addini(
        "interleave_max_schedules", "default max_schedules of explore()", number, default=""
    )
    parser.addini("interleave_strategy", "default strategy of explore()", default="")
    parser.addini("interleave_seed", "default seed of the seeded strategies", number, default="")
    parser.addini(
        "interleave_require_proof",
        "fail a test whose exploration's verdict is not 'proved'",
        "bool",
        default=False,
    )
    for name, what in _LIST_SETTINGS.items():
        parser.addini(f"interleave_{name}", what, "args", default=[])


def _int_ini_type() -> Any:
    # pytest >= 9.2 checks the value types of native TOML tables ([tool.pytest]); a union lets
    # `interleave_max_schedules = 500` through there, while ini files still give a string that
    # _parse_int() checks with a clear message. Older versions hand every value over as text.
    version = tuple(int(part) for part in pytest.__version__.split(".")[:2] if part.isdigit())
    return int | str if version >= (9, 2) else "string"


def _parse_int(name: str, raw: object, origin: str) -> int:
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise pytest.UsageError(
            f"interleave: {origin}={raw!r} must be a whole number, such as 1000"
        ) from None
    return value


def _session_settings(config: pytest.Config) -> dict[str, _Setting]:
    settings: dict[str, _Setting] = {}
    for name, is_int in (("max_schedules", True), ("strategy", False), ("seed", True)):
        option = "--interleave-" + name.replace("_", "-")
        raw: object = config.getoption("interleave_" + name)
        origin = option
        if raw is None:
            raw = config.getini("interleave_" + name)
            origin = f"ini interleave_{name}"
            if raw in ("", None):
                continue
        value: object = _parse_int(name, raw, origin) if is_int else str(raw).strip()
        settings[name] = _Setting(value, origin)
    if config.getoption("interleave_require_proof"):
        settings["require_proof"] = _Setting(True, "--interleave-require-proof")
    elif config.getini("interleave_require_proof"):
        settings["require_proof"] = _Setting(True, "ini interleave_require_proof")
    for name in _LIST_SETTINGS:
        given: list[object] | None = config.getoption("interleave_" + name)
        origin, base = "--interleave-" + name.replace("_", "-"), config.invocation_params.dir
        if not given:
            given = list(config.getini("interleave_" + name) or [])
            origin, base = f"ini interleave_{name}", config.rootpath
            if not given:
                continue
        items = [p.strip() for item in given for p in str(item).split(",") if p.strip()]
        if name == "project":
            # A relative path means the same wherever pytest runs from; names stay names.
            items = [str(base / i) if (base / i).exists() else i for i in items]
        settings[name] = _Setting(items, origin)
    return settings


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER_LINE)
    replay_id = config.getoption("interleave_replay", None)
    if replay_id is not None and not str(replay_id).strip():
        raise pytest.UsageError(
            "interleave: --interleave-replay needs a schedule ID, e.g. "
            "--interleave-replay=2-kAQEAAEKChoaAAGm (copy it from a failure report)"
        )
    config.stash[_STATE] = _SessionState(
        session_settings=_session_settings(config),
        replay_id=str(replay_id).strip() if replay_id is not None else None,
    )
    if not hasattr(config, "workerinput"):  # not a pytest-xdist worker
        config.pluginmanager.register(_Summary(config), "interleave-summary")


def pytest_report_header(config: pytest.Config) -> str | None:
    state = config.stash.get(_STATE, None)
    if state is not None and state.replay_id is not None:
        return (
            f"interleave: interleavings.explore() replays {state.replay_id} instead of "
            "exploring (--interleave-replay)"
        )
    return None


# An old-style wrapper: it works with every pytest 7 and 8+ (new-style ones need pluggy 1.2).
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    lines = item.stash.get(_SECTION, None)
    if lines and call.when == "call":
        report.sections.append(("interleave", "\n".join(lines)))
    events = item.stash.get(_EVENTS, None)
    if events:
        setattr(report, EVENTS_ATTR, list(events))
        events.clear()


class _Summary:
    """The terminal summary and the cache writes, in the process that sees every report.

    That is the controller under pytest-xdist (which receives the workers' reports) and the
    only process otherwise. The cache is read by the fixture wherever the test runs, but
    written only here, once, at the end of the session (as pytest's own ``lastfailed`` is):
    one writer, so no worker can overwrite another's entries (several workers that each
    read-modify-wrote the one cache key kept 1-3 of 60 failing tests' IDs), and no write
    while a worker reads.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.explorations: list[dict[str, Any]] = []
        self.replays = 0
        self.cached_replays = 0
        self.notes: list[str] = []
        #: (nodeid, event) of the cache events, in the order they happened.
        self.cache_events: list[tuple[str, dict[str, Any]]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for event in getattr(report, EVENTS_ATTR, None) or ():
            kind = event.get("kind")
            if kind == "explored":
                self.explorations.append({**event, "nodeid": report.nodeid})
            elif kind == "replayed":
                self.replays += 1
            elif kind == "cached-replay":
                self.cached_replays += 1
            elif kind == "note":
                self.notes.append(str(event["text"]))
            elif kind in ("store", "forget"):
                self.cache_events.append((report.nodeid, event))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        cache = getattr(self.config, "cache", None)
        if cache is None or not self.cache_events:
            return
        data = cache.get(CACHE_KEY, {})
        data = data if isinstance(data, dict) else {}
        for nodeid, event in self.cache_events:
            entry = data.get(nodeid)
            if not isinstance(entry, dict):
                entry = data[nodeid] = {}
            key = event["scenario"]
            known = [i for i in entry.get(key, ()) if isinstance(i, str)]
            if event["kind"] == "store":
                entry[key] = list(dict.fromkeys([*known, *event["ids"]]))
            elif [i for i in known if i not in event["ids"]]:
                entry[key] = [i for i in known if i not in event["ids"]]
            else:
                entry.pop(key, None)
        cache.set(CACHE_KEY, {k: v for k, v in data.items() if v})

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        ran = self.explorations
        interrupted = self.config.stash[_STATE].interrupted
        if not (ran or self.replays or self.cached_replays or self.notes or interrupted):
            return
        terminalreporter.section("interleave", sep="-")
        not_exhausted = [e for e in ran if not e["exhausted"]]
        parts = []
        if ran or interrupted or not self.replays:
            # An exploration Ctrl-C stopped ran too (it has no test report to count it by).
            parts.append(f"{len(ran) + len(interrupted)} exploration(s) ran")
            parts.append(f"{len(not_exhausted)} NOT exhausted")
        if interrupted:
            parts.append(f"{len(interrupted)} interrupted (Ctrl-C)")
        if self.replays:
            replay_id = self.config.stash[_STATE].replay_id
            parts.append(f"{self.replays} replay(s) of --interleave-replay={replay_id}")
        if self.cached_replays:
            parts.append(f"{self.cached_replays} cached failing schedule(s) replayed first")
        terminalreporter.write_line("interleave: " + ", ".join(parts))
        if ran:
            from interleave import Verdict

            tally = [(v, sum(1 for e in ran if e["verdict"] == v)) for v in Verdict]
            terminalreporter.write_line(
                "  verdicts: " + ", ".join(f"{n} {v}" for v, n in tally if n)
            )
        for event in ran:
            terminalreporter.write_line(f"  {event['verdict']}: {_summary_line(event)}")
        for event in not_exhausted:
            terminalreporter.write_line(f"  NOT exhausted: {_summary_line(event)}")
        for note in self.notes:
            terminalreporter.write_line(f"  {note}")
        for text in interrupted:
            terminalreporter.write_line("")
            for line in text.splitlines():
                terminalreporter.write_line(line)


def _summary_line(event: Mapping[str, Any]) -> str:
    """``nodeid (scenario: N schedules[, why it stopped][, findings])`` of one exploration."""
    parts = [f"{event['scenario']}: {event['schedules']:,} schedules"]
    if not event["exhausted"]:
        parts.append(_STOP_WORDS.get(event["stopped"], event["stopped"]))
    if event["findings"]:
        parts.append(f"{event['findings']} finding(s)")
    return f"{event['nodeid']} ({', '.join(parts)})"


# --- the fixture ------------------------------------------------------------------------------


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

    def __init__(self, request: pytest.FixtureRequest, state: _SessionState) -> None:
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

        Before exploring, the failing schedule IDs cached for this test (from an earlier run)
        are replayed; one that still fails fails the test at once. With
        ``--interleave-replay=ID`` nothing is explored: the ID is replayed, the test fails with
        its report if it has findings, and the :class:`~interleave.RunResult` is returned.

        With ``require_proof=True`` (or the marker keyword, ``--interleave-require-proof``,
        the ini key ``interleave_require_proof``) a clean exploration whose verdict is not
        ``proved`` fails the test too, saying why and how to get a proof.

        Args:
            scenario: the scenario factory, as for :func:`interleave.explore`.
            **overrides: keywords of :func:`interleave.explore`, and ``require_proof``; they
                win over the marker, the command line and the ini file.

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
        import interleave
        from interleave._report import ReplayContext, render_explore

        settings = self._settings(overrides)
        kwargs = {name: s.value for name, s in settings.items()}
        replay_kwargs = {k: v for k, v in kwargs.items() if k in _replay_keywords()}
        require_proof = settings.pop("require_proof", None)
        kwargs.pop("require_proof", None)
        if require_proof is not None and not isinstance(require_proof.value, bool):
            pytest.fail(
                f"interleave: invalid setting: require_proof={require_proof.value!r} must be "
                f"True or False (from {require_proof.origin})",
                pytrace=False,
            )
        if self._state.replay_id is not None:
            # A replay explores nothing, so there is no proof to require: the printed replay
            # line must work in a session that requires proofs too.
            return self._replay_requested(scenario, self._state.replay_id, replay_kwargs)
        self._replay_cached(scenario, replay_kwargs)
        problem = failed_check = None
        try:
            result = interleave.explore(scenario, **kwargs)
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
        except interleave.errors.ScenarioError:
            raise
        except interleave.errors.FailedHealthCheck as exc:
            failed_check = f"interleave: {exc}"
        except interleave.errors.InvalidArgument as exc:
            if all(s.origin == "the explore() call" for s in settings.values()):
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
            ids = list(dict.fromkeys(f.schedule_id for f in result.findings if f.schedule_id))
            self._store(scenario, ids)
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
        import interleave

        settings = self._settings(overrides)
        require_proof = settings.pop("require_proof", None)
        allowed = _linearizable_keywords()
        kwargs = {
            name: s.value
            for name, s in settings.items()
            if name in allowed and (name != "seed" or s.origin == "the explore() call")
        }
        if self._state.replay_id is not None:
            return self._replay_linearizable(make, model, self._state.replay_id, kwargs)
        failed: str | None = None
        try:
            result = interleave.check_linearizable(make, model, operations, **kwargs)
        except interleave.errors.FailedHealthCheck as exc:
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
            report = result.report().replace("pytest NODEID ", f"pytest {self._quoted()} ")
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
        import interleave
        from interleave.errors import InvalidScheduleId, ScheduleDivergence

        self._record("replayed")
        options = {k: v for k, v in kwargs.items() if k in ("watchdog", "project")}
        problem = None
        try:
            run = interleave.replay_linearizable(make, model, schedule_id, **options)
        except (InvalidScheduleId, ScheduleDivergence) as exc:
            problem = (
                f"interleave: --interleave-replay={schedule_id} cannot be replayed by "
                f"{self.nodeid}'s check_linearizable(): {exc}"
            )
        if problem is not None:
            self._section(f"replay (--interleave-replay) {schedule_id}: could not run")
            pytest.fail(problem, pytrace=False)
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
        import interleave

        settings = self._settings({})
        kwargs = {k: s.value for k, s in settings.items() if k in _replay_keywords()}
        run = interleave.replay(scenario, schedule_id, **kwargs)
        self._section(
            f"replay {run.scenario} {run.schedule_id}: {len(run.trace)} steps, "
            f"findings: {_kinds(run.findings)}"
        )
        return run

    # --- helpers ---

    def _settings(self, overrides: Mapping[str, object]) -> dict[str, _Setting]:
        merged = dict(self._state.session_settings)
        merged.update(self._marker)
        merged.update({k: _Setting(v, "the explore() call") for k, v in overrides.items()})
        # A seed of the whole session (command line, ini) applies to seeded strategies only,
        # so `--interleave-seed` does not break dpor/dfs tests; a seed the marker or the call gives
        # is passed on, so a mismatch there is reported, not ignored.
        # The library's default strategy is not seeded either.
        from interleave._api import EXHAUSTIVE_STRATEGIES  # the strategies without a seed

        strategy = merged["strategy"].value if "strategy" in merged else None
        session_seed = self._state.session_settings.get("seed")
        unseeded = strategy is None or strategy in EXHAUSTIVE_STRATEGIES
        if unseeded and session_seed is not None and merged["seed"] is session_seed:
            del merged["seed"]
        return merged

    def _section(self, line: str) -> None:
        self._node.stash.setdefault(_SECTION, []).append(line)

    def _record(self, kind: str, **data: object) -> None:
        """An event for the session summary or the cache (see ``_Summary``)."""
        self._node.stash.setdefault(_EVENTS, []).append({"kind": kind, **data})

    def _fail_unproved(self, result: ExploreResult, required: _Setting) -> None:
        __tracebackhide__ = True
        from interleave._results import HOW_TO_PROVE

        optout = (
            "\nOr, if a sample is what this test means to run, opt it out with "
            "@pytest.mark.interleave(require_proof=False)."
            if required.origin not in ("the explore() call", "@pytest.mark.interleave")
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
        self, scenario: Callable[[], object], schedule_id: str, kwargs: dict[str, Any]
    ) -> RunResult:
        __tracebackhide__ = True
        import interleave
        from interleave.errors import InvalidScheduleId, ScheduleDivergence

        self._record("replayed")
        problem = None
        try:
            run = interleave.replay(scenario, schedule_id, **kwargs)
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
        if problem is not None:
            # Failing outside the except block keeps the internal exception out of the output.
            self._section(f"replay (--interleave-replay) {schedule_id}: could not run")
            pytest.fail(problem, pytrace=False)
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

    def _replay_cached(self, scenario: Callable[[], object], kwargs: dict[str, Any]) -> None:
        __tracebackhide__ = True
        import interleave
        from interleave.errors import InvalidScheduleId, ScheduleDivergence

        for schedule_id in self._cached(scenario):
            self._record("cached-replay")
            try:
                run = interleave.replay(scenario, schedule_id, **kwargs)
            except (InvalidScheduleId, ScheduleDivergence):
                self._forget(scenario, schedule_id)
                self._record(
                    "note",
                    text=f"dropped cached schedule {schedule_id} of {self.nodeid}: it no longer "
                    "fits the scenario (it changed)",
                )
                continue
            if run.findings:
                self._section(
                    f"replay of cached failing schedule {schedule_id}: still fails "
                    f"({_kinds(run.findings)}); not explored"
                )
                pytest.fail(
                    f"interleave: cached failing schedule {schedule_id} (from an earlier run, "
                    "replayed before exploring) still fails\n\n"
                    f"{run.report()}\n\nreplay it:\n  {self._replay_line(schedule_id)}\n"
                    "(pytest --cache-clear forgets cached schedules)"
                )
            self._forget(scenario, schedule_id)
            self._section(f"replay of cached failing schedule {schedule_id}: passes now, dropped")
            self._record(
                "note",
                text=f"cached failing schedule {schedule_id} of {self.nodeid} passes now: dropped",
            )

    # --- the cache: {nodeid: {scenario: [IDs]}}, read here, written by _Summary ---

    def _cached(self, scenario: Callable[[], object]) -> list[str]:
        cache = getattr(self._config, "cache", None)
        data = cache.get(CACHE_KEY, {}) if cache is not None else {}
        entry = data.get(self.nodeid, {}) if isinstance(data, dict) else {}
        ids = entry.get(_scenario_key(scenario), []) if isinstance(entry, dict) else []
        return [i for i in ids if isinstance(i, str)]

    def _store(self, scenario: Callable[[], object], ids: list[str]) -> None:
        self._record("store", scenario=_scenario_key(scenario), ids=ids)

    def _forget(self, scenario: Callable[[], object], schedule_id: str) -> None:
        self._record("forget", scenario=_scenario_key(scenario), ids=[schedule_id])


@pytest.fixture
def interleavings(request: pytest.FixtureRequest) -> Interleavings:
    """Explore scenarios from a test: ``interleavings.explore(scenario)`` fails the test with
    the full report when an interleaving goes wrong (see :class:`Interleavings`).

    Example::

        def test_hits(interleavings):
            interleavings.explore(lost_update)
    """
    __tracebackhide__ = True
    return Interleavings(request, request.config.stash[_STATE])


# --- small pure helpers ------------------------------------------------------------------------


def _marker_settings(node: pytest.Item) -> dict[str, _Setting]:
    """The merged keywords of the ``interleave`` markers, closest first."""
    __tracebackhide__ = True
    merged: dict[str, _Setting] = {}
    keywords = _marker_keywords()
    allowed = ", ".join(keywords)
    for marker in node.iter_markers("interleave"):
        if marker.args:
            pytest.fail(
                f"@pytest.mark.interleave takes keywords only, got positional {marker.args!r}; "
                f"write e.g. @pytest.mark.interleave(max_schedules=100). Allowed: {allowed}",
                pytrace=False,
            )
        for name, value in marker.kwargs.items():
            if name not in keywords:
                pytest.fail(
                    f"@pytest.mark.interleave got an unknown keyword {name!r}; allowed: {allowed}",
                    pytrace=False,
                )
            merged.setdefault(name, _Setting(value, "@pytest.mark.interleave"))
    return merged


def _marker_keywords() -> tuple[str, ...]:
    """The keywords of ``interleave.explore`` (so the marker follows the API)."""
    import inspect

    import interleave

    names = [*inspect.signature(interleave.explore).parameters, *_PLUGIN_KEYWORDS]
    return tuple(sorted(n for n in names if n not in _NOT_MARKER_KEYWORDS))


def _replay_keywords() -> tuple[str, ...]:
    """Settings that also shape one execution (``max_steps`` …), so replays use them too."""
    import inspect

    import interleave

    names = inspect.signature(interleave.replay).parameters
    return tuple(n for n in names if n not in ("scenario", "schedule_id"))


def _linearizable_keywords() -> tuple[str, ...]:
    """The keywords of ``interleave.check_linearizable`` that settings may give."""
    import inspect

    import interleave

    names = inspect.signature(interleave.check_linearizable).parameters
    return tuple(n for n in names if n not in ("make", "model", "operations"))


def _scenario_key(scenario: object) -> str:
    module = getattr(scenario, "__module__", None) or ""
    name = getattr(scenario, "__qualname__", None) or type(scenario).__qualname__
    return f"{module}:{name}"


def _kinds(findings: tuple[Any, ...]) -> str:
    return ", ".join(f.kind for f in findings) or "none"


def _coverage(result: ExploreResult) -> str:
    if result.exhausted:
        return "exhausted"
    return f"NOT exhausted ({_STOP_WORDS.get(result.stopped_because, result.stopped_because)})"
