"""The pytest plugin of interleave (entry point ``pytest11``): options, marker and summary.

pytest loads this module in every session, including the many that never explore anything, so
it is a top-level module (as Hypothesis's ``_hypothesis_pytestplugin`` is) and imports nothing
of interleave: loading it loads neither greenlet, sqlite3, networkx nor tabulate. The
``interleavings`` fixture imports the adapter (``interleave._pytest_plugin``) the first time a
test asks for it; that adapter builds an ``ExploreSettings`` and calls the engine.

What this module does:

- the command-line options and ini keys of the session settings, parsed (not validated: the
  adapter validates them with the rest, when a test explores);
- the ``interleave`` marker;
- the ``interleave`` section of each test report and the terminal summary (a verdict per
  exploration, what was replayed first, what was interrupted).

Under pytest-xdist the tests run in worker processes and only the controller has the terminal,
so nothing the summary needs is kept in a process: the fixture records events on the test item,
each test report carries them (``report.interleave_events``: plain dicts, which xdist sends to
the controller like the rest of the report), and the process that receives every report (the
controller, or the only process without xdist) prints the summary. Failing schedules are kept
by the engine in a schedule database in pytest's cache directory, one file per entry, so every
worker writes its own entries and none is lost.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from interleave._pytest_plugin import Interleavings

__all__ = ["SessionState", "Setting"]

#: The attribute of a test report that carries the interleave events of that test phase.
EVENTS_ATTR = "interleave_events"

_MARKER_LINE = (
    "interleave(max_schedules=..., strategy=..., seed=..., max_steps=..., timeout=..., "
    "stop_on_first=..., require_proof=...): defaults for this test's interleavings.explore() "
    "calls (see the interleave pytest guide)"
)
#: Why an exploration stopped, in the words of the summary lines.
STOP_WORDS = {
    "max_schedules": "stopped at max_schedules",
    "timeout": "stopped at the timeout",
    "first-finding": "stopped at the first finding",
}
#: The verdicts, in the order the summary counts them (``interleave.Verdict``'s order).
_VERDICTS = ("proved", "bounded", "sampled", "interrupted")

#: List-valued settings of explore() (and replay(), for ``project``) the session may set.
_LIST_SETTINGS = {
    "project": (
        "packages or paths that are project code besides the default (explore's project=); "
        "relative paths start at the rootdir (ini) or the invocation directory (option)"
    ),
    "suppress_health_check": "health checks not to run (explore's suppress_health_check=)",
    "fail_health_check": "health checks that fail the test (explore's fail_health_check=)",
}


# --- session state ---------------------------------------------------------------------------


@dataclass
class Setting:
    """One setting of a test and where it came from (for the messages about bad values)."""

    value: Any
    origin: str


@dataclass
class SessionState:
    """What the fixture needs from the session (in every process, xdist workers included)."""

    session_settings: dict[str, Setting] = field(default_factory=dict)
    replay_id: str | None = None
    #: Reports of explorations Ctrl-C stopped in this process (pytest makes no test report
    #: for an interrupted phase, so they cannot travel as the other events do).
    interrupted: list[str] = field(default_factory=list)

    @staticmethod
    def section(node: pytest.Item, line: str) -> None:
        """Add ``line`` to the ``interleave`` section of ``node``'s report."""
        node.stash.setdefault(_SECTION, []).append(line)

    @staticmethod
    def record(node: pytest.Item, kind: str, **data: object) -> None:
        """An event for the terminal summary (see ``_Summary``), carried by the report."""
        node.stash.setdefault(_EVENTS, []).append({"kind": kind, **data})


_STATE = pytest.StashKey[SessionState]()
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
        "--interleave-workers",
        dest="interleave_workers",
        metavar="N",
        default=None,
        help="default workers of explore(): explore each test's scenario in N processes "
        "(ini: interleave_workers)",
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
    parser.addini("interleave_workers", "default workers of explore()", number, default="")
    parser.addini(
        "interleave_require_proof",
        "fail a test whose exploration's verdict is not 'proved'",
        "bool",
        default=False,
    )
    for name, what in _LIST_SETTINGS.items():
        parser.addini(f"interleave_{name}", what, "args", default=[])
    parser.addini(
        "interleave_progress_interval",
        "seconds between the progress lines of a long exploration in the terminal (0: none)",
        default="5",
    )


def _int_ini_type() -> Any:
    # pytest >= 9.2 checks the value types of native TOML tables ([tool.pytest]); a union lets
    # `interleave_max_schedules = 500` through there, while ini files still give a string that
    # _parse_int() checks with a clear message. Older versions hand every value over as text.
    version = tuple(int(part) for part in pytest.__version__.split(".")[:2] if part.isdigit())
    return int | str if version >= (9, 2) else "string"


#: The whole-number settings: (the least value, an example), checked when the session starts
#: (a bad value is one usage error, not a failure in every test).
_INT_SETTINGS: dict[str, tuple[int | None, str]] = {
    "max_schedules": (1, "1000"),
    "seed": (None, "0"),
    "workers": (1, "2"),
}


def _parse_int(raw: object, origin: str, name: str) -> int:
    least, example = _INT_SETTINGS[name]
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise pytest.UsageError(
            f"interleave: {origin}={raw!r} must be a whole number, such as {example}"
        ) from None
    if least is not None and value < least:
        raise pytest.UsageError(
            f"interleave: {origin}={raw!r} must be at least {least}, such as {example}"
        )
    return value


def progress_interval(config: pytest.Config) -> float:
    """The ini ``interleave_progress_interval``: seconds between progress lines (0: none)."""
    raw = config.getini("interleave_progress_interval")
    try:
        interval = float(str(raw).strip())
    except ValueError:
        interval = math.nan
    if not interval >= 0:  # (also NaN)
        raise pytest.UsageError(
            f"interleave: ini interleave_progress_interval={raw!r} must be a number of "
            "seconds, 0 or more, such as 5 (0: no progress lines)"
        )
    return interval


def _session_settings(config: pytest.Config) -> dict[str, Setting]:
    progress_interval(config)  # (checked when the session starts: one usage error)
    settings: dict[str, Setting] = {}
    for name in ("max_schedules", "strategy", "seed", "workers"):
        option = "--interleave-" + name.replace("_", "-")
        raw: object = config.getoption("interleave_" + name)
        origin = option
        if raw is None:
            raw = config.getini("interleave_" + name)
            origin = f"ini interleave_{name}"
            if raw in ("", None):
                continue
        value: object = _parse_int(raw, origin, name) if name in _INT_SETTINGS else str(raw).strip()
        settings[name] = Setting(value, origin)
    if config.getoption("interleave_require_proof"):
        settings["require_proof"] = Setting(True, "--interleave-require-proof")
    elif config.getini("interleave_require_proof"):
        settings["require_proof"] = Setting(True, "ini interleave_require_proof")
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
        settings[name] = Setting(items, origin)
    return settings


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER_LINE)
    replay_id = config.getoption("interleave_replay", None)
    if replay_id is not None and not str(replay_id).strip():
        raise pytest.UsageError(
            "interleave: --interleave-replay needs a schedule ID, e.g. "
            "--interleave-replay=2-kAQEAAEKChoaAAGm (copy it from a failure report)"
        )
    config.stash[_STATE] = SessionState(
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


@pytest.fixture
def interleavings(request: pytest.FixtureRequest) -> Interleavings:
    """Explore scenarios from a test: ``interleavings.explore(scenario)`` fails the test with
    the full report when an interleaving goes wrong (see ``interleave._pytest_plugin``).

    Example::

        def test_hits(interleavings):
            interleavings.explore(lost_update)
    """
    __tracebackhide__ = True
    from interleave._pytest_plugin import Interleavings  # the first test that explores

    return Interleavings(request, request.config.stash[_STATE])


# --- the terminal summary ---------------------------------------------------------------------


class _Summary:
    """The terminal summary, in the process that sees every report: the controller under
    pytest-xdist (which receives the workers' reports), the only process otherwise."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.explorations: list[dict[str, Any]] = []
        self.replays = 0
        self.cached_replays = 0
        self.notes: list[str] = []

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
            tally = [(v, sum(1 for e in ran if e["verdict"] == v)) for v in _VERDICTS]
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
        parts.append(STOP_WORDS.get(event["stopped"], event["stopped"]))
    if event["findings"]:
        parts.append(f"{event['findings']} finding(s)")
    return f"{event['nodeid']} ({', '.join(parts)})"
