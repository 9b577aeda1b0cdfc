"""The commands ``explore``, ``replay`` and ``report``: parse, call the engine, print.

Each command is an ``add_<name>(subparsers)`` function, which adds its parser and sets its
``run``; :mod:`._main` lists them. The commands pass context in and print what comes back:
the settings (from the flags), the schedule database (``.interleave/`` unless told otherwise)
and the TARGET as typed (for the replay lines). Reports are rendered by ``_report``; with
``--format json`` the result's ``to_dict()`` is printed instead.
"""

from __future__ import annotations

import argparse
import bdb
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .. import _api, summary_report
from .._core._schedule import decode
from .._engine._settings import ExitReason, ExploreSettings
from .._report import ReplayContext, render_explore, summary_dict
from .._results import ExploreResult, Interrupted
from ..errors import (
    FailedHealthCheck,
    HealthCheckWarning,
    InvalidArgument,
    InvalidScheduleId,
    ScheduleDivergence,
)
from ._console import (
    EXIT_FINDINGS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    PROG,
    Display,
    UsageError,
    emit,
    emit_json,
    error,
    help_text,
    progress,
    warning,
)
from ._options import (
    add_database_options,
    add_format_option,
    add_progress_option,
    add_settings_flags,
    database_path,
    keep_out_of_git,
    open_database,
    option_error,
    replay_options,
    settings_from,
)
from ._targets import (
    TARGET_HELP,
    Factory,
    demo_factories,
    load_module,
    load_target,
    target_key,
)

__all__ = ["add_explore", "add_replay", "add_report", "explore_one"]

_REQUIRE_PROOF_HELP = (
    "exit 1 unless every schedule was explored (verdict 'proved'), even without findings: a "
    "sampled or cut-short run is not a proof"
)
_DATABASE_EPILOG = (
    "failing schedules are kept in .interleave/ (a directory database: --database DIR,\n"
    "--no-database) and replayed first next time: a failure that still shows is reported\n"
    "at once, without a new search"
)


# --------------------------------------------------------------------------------------------
# explore


def add_explore(sub: Any) -> None:
    parser = sub.add_parser(
        "explore",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="explore the interleavings of a scenario and report the findings",
        description=help_text(
            "Explore the interleavings of a scenario factory and print the report. Each "
            "finding comes with a schedule ID that 'interleave replay' replays exactly."
        ),
        epilog=(
            "examples:\n"
            "  interleave explore examples/bank_transfer.py:unlocked\n"
            "  interleave explore myapp.tests.races:lost_update --max-schedules 100000\n"
            "  interleave explore races.py:cache_fill --strategy random --seed 7 "
            "--timeout 30\n"
            "  interleave explore races.py:cache_fill --require-proof\n"
            "  interleave explore races.py:cache_fill --format json > result.json\n\n"
            f"{_DATABASE_EPILOG}\n\n"
            "exit status: 0 no findings, 1 findings (or, with --require-proof, a verdict other\n"
            "than proved, or a failed --fail-health-check), 2 usage error, 130 interrupted\n"
            "(Ctrl-C: the findings so far are printed first)"
        ),
    )
    parser.add_argument("target", metavar="TARGET", help=TARGET_HELP)
    parser.add_argument("--require-proof", action="store_true", help=_REQUIRE_PROOF_HELP)
    add_format_option(parser, ("text", "json"))
    add_progress_option(parser)
    add_database_options(parser)
    add_settings_flags(parser)
    parser.set_defaults(run=run_explore)


def explore_one(
    factory: Factory,
    settings: ExploreSettings,
    *,
    target: str,
    database_dir: Path | None,
    line: Display | None,
) -> tuple[ExploreResult, FailedHealthCheck | None, bool]:
    """Explore ``factory``, with its health-check warnings printed as ``interleave: warning:``
    lines on stderr (other warnings are shown as usual). Returns the result, the failed health
    check if one failed, and whether Ctrl-C stopped it (the result then holds what was found
    until then)."""
    failed = None
    interrupted = False
    made = database_dir is not None and not database_dir.exists()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", HealthCheckWarning)
        try:
            result = _api.run_exploration(
                factory,
                settings,
                progress=line,
                database=open_database(database_dir),
                database_key=target_key(target),
                target=target,
            )
        except InvalidArgument as exc:
            raise option_error(exc) from None
        except FailedHealthCheck as exc:
            result, failed = exc.result, exc
        except Interrupted as stop:
            result, interrupted = stop.result, True
        finally:
            if made and database_dir is not None:
                keep_out_of_git(database_dir)
    if line is not None:
        line.clear()
    for caught_warning in caught:
        if issubclass(caught_warning.category, HealthCheckWarning):
            warning(str(caught_warning.message))
        else:
            warnings.showwarning(
                caught_warning.message,
                caught_warning.category,
                caught_warning.filename,
                caught_warning.lineno,
            )
    return result, failed, interrupted


def run_explore(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    factory = load_target(args.target)
    database_dir = database_path(args)
    with progress(args.progress) as line:
        result, failed, interrupted = explore_one(
            factory, settings, target=args.target, database_dir=database_dir, line=line
        )
    if args.format == "json":
        emit_json(result.to_dict())
    else:
        # The replay lines name the target exactly as it was typed here (result.target).
        emit(render_explore(result, ReplayContext.of(result)))
        if result.reused:
            emit("\n" + "\n".join(_reuse_lines(result, database_dir)))
    if interrupted:
        return _interrupted(len(result.findings))
    if failed is not None:
        error(str(failed))
        return EXIT_FINDINGS
    unproved = _unproved([result]) if args.require_proof else False
    return EXIT_OK if result.ok and not unproved else EXIT_FINDINGS


#: What became of a saved failing schedule, in the words of the lines after the report.
_REUSE_WORDS = {
    "reproduced": "still fails",
    "fixed": "passes now: deleted",
    "stale": "no longer fits the scenario (it changed): deleted",
}


def _reuse_lines(result: ExploreResult, database_dir: Path | None) -> list[str]:
    """What the exploration did with the failing schedules an earlier run saved."""
    lines = [
        f"replayed first: {len(result.reused)} failing schedule(s) saved in {database_dir}/ by "
        "an earlier run"
    ]
    lines.extend(f"  {r.schedule_id}: {_REUSE_WORDS[r.outcome]}" for r in result.reused)
    if result.stopped_because is ExitReason.REPRODUCED:
        lines.append("(fix them and explore again, or pass --no-database to explore from scratch)")
    return lines


#: For --require-proof: how each verdict that is not ``proved`` becomes one, in flags.
_HOW_TO_PROVE = {
    "bounded": "explore without a preemption bound",
    "sampled": (
        "use --strategy dpor (or dfs) without --stop-on-first, and raise --max-schedules "
        "(or --timeout) until the report says 'exhausted'"
    ),
    "interrupted": "let the exploration run to its end",
}


def _unproved(results: Sequence[ExploreResult]) -> bool:
    """Print why each result is not a proof (on stderr); True when one is not."""
    unproved = [r for r in results if r.verdict != "proved"]
    for result in unproved:
        print(
            f"{PROG}: --require-proof: {result.scenario}: the verdict is '{result.verdict}', "
            f"not 'proved' ({result.stopped_text}, after {result.schedules_run:,} "
            f"schedule(s)); for a proof, {_HOW_TO_PROVE.get(str(result.verdict), '')}",
            file=sys.stderr,
        )
    return bool(unproved)


def _interrupted(findings: int) -> int:
    """Say that Ctrl-C stopped the command (after printing what was found); exit status 130."""
    found = f"the {findings} finding(s) above were found before it" if findings else "nothing found"
    print(f"{PROG}: interrupted (Ctrl-C): {found}", file=sys.stderr, flush=True)
    return EXIT_INTERRUPTED


# --------------------------------------------------------------------------------------------
# replay


def add_replay(sub: Any) -> None:
    parser = sub.add_parser(
        "replay",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="replay one schedule ID exactly and print its step-by-step trace",
        description=help_text(
            "Run a scenario once, exactly as recorded in a schedule ID printed by 'interleave "
            "explore' (or by explore() in Python), and print the execution and its findings. "
            "The ID records the options that shaped the execution (max_steps, "
            "trace_attributes, the patches): the replay uses them."
        ),
        epilog=(
            "examples:\n"
            "  interleave replay examples/bank_transfer.py:unlocked 2-kAgIAAAAAQ8BHwEMERwRACXX\n"
            "  interleave replay myapp.tests.races:lost_update 2-kAQEAAEKChoaAAGm\n"
            "  interleave replay races.py:lost_update 2-kAQEAAEKChoaAAGm --breakpoint-at 3\n\n"
            "--breakpoint-at STEP (or --break-at STEP) stops in pdb in the thread that runs\n"
            "step STEP (the numbers of the report's step column), just before it: 'c' runs\n"
            "the replay on to its end, 'n' goes to that thread's next line, 'q' stops the\n"
            "replay (exit status 130)\n\n"
            "exit status: 0 no findings, 1 findings, 2 usage error, bad ID or a replay that "
            "diverges"
        ),
    )
    parser.add_argument("target", metavar="TARGET", help=TARGET_HELP)
    parser.add_argument(
        "schedule_id", metavar="ID", help="a schedule ID such as 2-kAQEAAEKChoaAAGm"
    )
    parser.add_argument(
        "--breakpoint-at",
        "--break-at",
        dest="break_at",
        type=int,
        metavar="STEP",
        help="stop in pdb just before step STEP, in the thread that runs it (replay()'s "
        "breakpoint_at=)",
    )
    add_format_option(parser, ("text", "json"))
    add_settings_flags(parser, ExploreSettings.REPLAY_OPTIONS, replay=True)
    parser.set_defaults(run=run_replay)


def run_replay(args: argparse.Namespace) -> int:
    try:
        # A bad ID is a usage error, found before the user's module is imported.
        decode(args.schedule_id)
    except InvalidScheduleId as exc:
        raise UsageError(str(exc)) from None
    factory = load_target(args.target)
    options = replay_options(args)
    if args.break_at is not None:
        options["breakpoint_at"] = args.break_at
    try:
        run = _api.replay(factory, args.schedule_id, **options)
    except InvalidArgument as exc:
        if str(exc).startswith("breakpoint_at="):
            raise UsageError(f"--breakpoint-at: {exc}") from None
        raise option_error(exc) from None
    except ScheduleDivergence as exc:
        raise UsageError(f"cannot replay {args.schedule_id}: {exc}") from None
    except bdb.BdbQuit:
        print(f"{PROG}: quit in the debugger: the replay stopped", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    if args.format == "json":
        emit_json(run.to_dict())
    else:
        emit(run.report())
    return EXIT_OK if run.ok else EXIT_FINDINGS


# --------------------------------------------------------------------------------------------
# report


def add_report(sub: Any) -> None:
    parser = sub.add_parser(
        "report",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="explore several scenarios and print one summary table",
        description=help_text(
            "Explore each TARGET and print one table across them: scenario, threads, "
            "executions, exhausted, findings by kind, time and the replay ID of the first "
            "finding. A TARGET without ':factory' (a module or a .py file) stands for every "
            "factory in its DEMO list."
        ),
        epilog=(
            "examples:\n"
            "  interleave report examples.taskboard.scenarios\n"
            "  interleave report examples/bank_transfer.py:unlocked "
            "examples/bank_transfer.py:locked\n"
            "  interleave report examples.taskboard.scenarios --format markdown "
            '>> "$GITHUB_STEP_SUMMARY"\n'
            "  interleave report examples.taskboard.scenarios --format json > results.json\n\n"
            f"{_DATABASE_EPILOG}\n\n"
            "exit status: 0 no findings, 1 findings (or, with --require-proof, a verdict other\n"
            "than proved), 2 usage error"
        ),
    )
    parser.add_argument(
        "targets",
        nargs="+",
        metavar="TARGET",
        help=TARGET_HELP + "; or a module or FILE.py alone: every factory of its DEMO list",
    )
    parser.add_argument("--require-proof", action="store_true", help=_REQUIRE_PROOF_HELP)
    add_format_option(parser, ("text", "markdown", "json"))
    add_progress_option(parser)
    add_database_options(parser)
    add_settings_flags(parser)
    parser.set_defaults(run=run_report)


def _report_factories(target: str) -> list[tuple[str, Factory]]:
    """(replay target, factory) for one TARGET of ``report``."""
    if ":" in target:
        return [(target, load_target(target))]
    factories = demo_factories(load_module(target), target)
    return [(f"{target}:{getattr(f, '__name__', 'scenario')}", f) for f in factories]


def run_report(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    factories = [pair for target in args.targets for pair in _report_factories(target)]
    database_dir = database_path(args)
    results: list[ExploreResult] = []
    failures: list[FailedHealthCheck] = []
    interrupted = False
    for target, factory in factories:
        with progress(args.progress) as line:
            result, failed, interrupted = explore_one(
                factory, settings, target=target, database_dir=database_dir, line=line
            )
        results.append(result)
        if failed is not None:
            failures.append(failed)
        if interrupted:
            break  # the table shows what ran, the interrupted row last
    if args.format == "json":
        # The summary document (the table as data), with each exploration's own document.
        document = summary_dict(results)
        document["results"] = [result.to_dict() for result in results]
        emit_json(document)
    else:
        emit(summary_report(results, format=args.format))
        reproduced = [r for r in results if r.stopped_because is ExitReason.REPRODUCED]
        if reproduced:
            emit(
                f"\n{len(reproduced)} exploration(s) stopped at failing schedules saved in "
                f"{database_dir}/ by an earlier run (verdict sampled): fix them and run again, "
                "or pass --no-database to explore from scratch"
            )
    if interrupted:
        return _interrupted(sum(len(r.findings) for r in results))
    for failed in failures:
        error(str(failed))
    unproved = _unproved(results) if args.require_proof else False
    ok = all(r.ok for r in results) and not failures and not unproved
    return EXIT_OK if ok else EXIT_FINDINGS


#: The commands of this module, in the order ``interleave --help`` lists them with the demo.
COMMANDS: tuple[Callable[[Any], None], ...] = (add_explore, add_replay, add_report)
