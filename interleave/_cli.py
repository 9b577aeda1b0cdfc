"""The ``interleave`` command line: ``explore``, ``replay``, ``report`` and ``demo``.

A thin adapter over the public API (layer 7): it parses options, loads the scenario factory
named by a TARGET (``FILE.py:factory`` or ``module:factory``), calls :func:`interleave.explore`
or :func:`interleave.replay` and prints their reports.

Exit status: 0 when there are no findings (and for ``demo`` whenever it ran), 1 when there are
findings (or, with ``--require-proof``, when an exploration's verdict is not ``proved``,
or when a health check named by ``--fail-health-check`` failed), 2 when the command
could not run (a usage error, a bad TARGET, a bad schedule ID, a replay that diverges,
or a scenario factory that raised), 130 when Ctrl-C stopped it (``explore`` and ``report``
first print what was found until then, with the schedule IDs). Usage errors are one line on
stderr, ``interleave: error: <what is wrong and how to fix it>``, without a traceback.

Each subcommand is one ``_add_<name>(subparsers)`` function listed in ``_COMMANDS``: adding a
command means adding one function there.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import importlib.util
import inspect
import os
import sys
import textwrap
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn, TextIO

from . import _api
from ._core._schedule import decode
from ._report import ReplayContext, render_explore
from ._results import ExploreResult, Interrupted
from ._version import __version__
from .errors import (
    FailedHealthCheck,
    HealthCheckWarning,
    InterleaveError,
    InternalError,
    InvalidArgument,
    InvalidScheduleId,
    ScheduleDivergence,
)

__all__ = ["main"]

PROG = "interleave"

#: Exit status: no findings / findings / the command could not run / Ctrl-C (128 + SIGINT).
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

#: The files ``interleave demo`` looks for in ``./examples``.
EXAMPLE_FILES = ("bank_transfer.py", "dining_philosophers.py")

_TARGET_HELP = (
    "the scenario factory: FILE.py:factory (a path) or module:factory (a dotted module "
    "importable from the current directory)"
)


def _text(paragraph: str) -> str:
    """A help paragraph wrapped to 79 columns (RawDescriptionHelpFormatter keeps newlines)."""
    return textwrap.fill(" ".join(paragraph.split()), 79)


def _wrap(paragraph: str) -> str:
    return textwrap.fill(paragraph, 100, break_on_hyphens=False)


def _emit(text: str) -> None:
    """Print ``text`` to stdout; a closed pipe (``| head``) is not an error."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # Point stdout at devnull so the flush at interpreter exit does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


class UsageError(Exception):
    """A problem with the command line or its TARGET; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    # argparse prints the usage and exits on an error; we want one line and a return value.
    commands: tuple[str, ...] = ()

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


# --------------------------------------------------------------------------------------------
# Loading a TARGET


def _is_file_target(module_part: str) -> bool:
    return module_part.endswith(".py") or "/" in module_part or os.sep in module_part


def _split_target(target: str) -> tuple[str, str]:
    module_part, colon, attr = target.rpartition(":")
    if not colon or not module_part or not attr:
        hint = (
            f"; name the factory after a colon, e.g. {target}:my_scenario"
            if target.endswith(".py") or (colon and not attr)
            else ""
        )
        raise UsageError(
            f"TARGET {target!r} must be FILE.py:factory or module:factory, "
            f"e.g. examples/bank_transfer.py:unlocked{hint}"
        )
    return module_part, attr


def _module_name_for(path: Path) -> str:
    # A private name, so a file called random.py or test.py never replaces a real module.
    stem = "".join(c if c.isalnum() else "_" for c in path.stem)
    return f"_interleave_target_{stem}"


def load_file(path: Path) -> ModuleType:
    """Import ``path`` as a module (its directory first on ``sys.path``, as ``python FILE``
    would) and return it.

    Raises:
        UsageError: the file does not exist or is not a Python file.
    """
    if not path.is_file():
        where = "" if path.is_absolute() else f" (relative to {Path.cwd()})"
        raise UsageError(
            f"file {str(path)!r} does not exist{where}; give the path of the .py file "
            "that defines the scenario factory"
        )
    resolved = path.resolve()
    folder = str(resolved.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = _module_name_for(resolved)
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot import {str(path)!r}: it is not a Python source file (.py)")
    module = importlib.util.module_from_spec(spec)
    # Registered so that dataclasses, pickling and typing can find the module by name.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _import_module(dotted: str) -> ModuleType:
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError as exc:
        # Only the module named in TARGET (or a parent package) missing is a usage error; a
        # missing import inside the user's module is their bug and keeps its traceback.
        if exc.name is not None and (dotted == exc.name or dotted.startswith(exc.name + ".")):
            raise UsageError(
                f"no module named {dotted!r} importable from {cwd}; give a path such as "
                f"{dotted.replace('.', '/')}.py:factory, or run interleave from the directory "
                "that contains the module"
            ) from None
        raise


def _factories(module: ModuleType) -> list[str]:
    return sorted(
        name
        for name, value in vars(module).items()
        if inspect.isfunction(value)
        and not name.startswith("_")
        and getattr(value, "__module__", None) == module.__name__
    )


def load_target(target: str) -> Callable[[], object]:
    """The scenario factory named by ``target`` (``FILE.py:factory`` or ``module:factory``).

    Raises:
        UsageError: the target is malformed, the file or module or attribute is missing, or
            the attribute is not callable. Exceptions raised while the user's module is
            imported propagate unchanged.
    """
    module_part, attr = _split_target(target)
    if _is_file_target(module_part):
        module = load_file(Path(module_part))
    else:
        module = _import_module(module_part)
    value: Any = module
    for part in attr.split("."):
        try:
            value = getattr(value, part)
        except AttributeError:
            known = ", ".join(_factories(module)) or "none"
            raise UsageError(
                f"{module_part!r} has no attribute {attr!r}; its functions are: {known}"
            ) from None
    if isinstance(value, _api.Scenario):
        raise UsageError(
            f"{target!r} is a Scenario, not a scenario factory: TARGET must name the function "
            "that builds fresh state and returns the Scenario (each execution calls it again)"
        )
    if not callable(value):
        raise UsageError(
            f"{target!r} is a {type(value).__name__}, not a scenario factory: TARGET must name "
            "a function that builds fresh state and returns interleave.Scenario"
        )
    return value  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------
# Progress on a terminal


class ProgressLine:
    """Renders explore()'s ``progress`` calls as one line that rewrites itself.

    Example::

        line = ProgressLine(sys.stderr)
        interleave.explore(scenario, progress=line)
        line.clear()
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.width = 0

    def __call__(self, schedules: int, findings: int, seconds: float) -> None:
        plural = "" if findings == 1 else "s"
        text = f"  explored {schedules:,} schedules, {findings:,} finding{plural}, {seconds:.1f} s"
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = max(self.width, len(text))

    def clear(self) -> None:
        """Erase the line (if one was drawn) and put the cursor back at its start."""
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


@contextlib.contextmanager
def _progress() -> Iterator[ProgressLine | None]:
    stream = sys.stderr
    if not stream.isatty():
        yield None
        return
    line = ProgressLine(stream)
    try:
        yield line
    finally:
        line.clear()


# --------------------------------------------------------------------------------------------
# explore


def _defaults() -> dict[str, object]:
    return {
        name: p.default
        for name, p in inspect.signature(_api.explore).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def _add_explore(sub: Any) -> None:
    parser = sub.add_parser(
        "explore",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="explore the interleavings of a scenario and report the findings",
        description=_text(
            "Explore the interleavings of a scenario factory and print the report. Each "
            "finding comes with a schedule ID that 'interleave replay' replays exactly."
        ),
        epilog=(
            "examples:\n"
            "  interleave explore examples/bank_transfer.py:unlocked\n"
            "  interleave explore myapp.tests.races:lost_update --max-schedules 100000\n"
            "  interleave explore races.py:cache_fill --strategy random --seed 7 "
            "--timeout 30\n"
            "  interleave explore races.py:cache_fill --require-proof\n\n"
            "exit status: 0 no findings, 1 findings (or, with --require-proof, a verdict other\n"
            "than proved, or a failed --fail-health-check), 2 usage error, 130 interrupted\n"
            "(Ctrl-C: the findings so far are printed first)"
        ),
    )
    parser.add_argument("target", metavar="TARGET", help=_TARGET_HELP)
    _add_search_options(parser)
    parser.set_defaults(run=_run_explore)


def _add_project_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--project",
        action="append",
        metavar="PKG_OR_PATH",
        help=(
            "a package (dotted name) or path that is project code besides the default (the "
            "scenario's own package and everything outside the standard library and "
            "site-packages); repeat it for several. Replays need the same value"
        ),
    )


def _add_search_options(parser: argparse.ArgumentParser) -> None:
    """The options of explore() that ``explore`` and ``report`` share."""
    defaults = _defaults()
    parser.add_argument(
        "--max-schedules",
        type=int,
        metavar="N",
        help=f"stop after N executions (default: {defaults.get('max_schedules')})",
    )
    parser.add_argument(
        "--strategy",
        metavar="S",
        help=(f"one of: {', '.join(_api.STRATEGIES)} (default: {defaults.get('strategy')})"),
    )
    parser.add_argument(
        "--seed", type=int, metavar="N", help="the seed of the random strategies (default: 0)"
    )
    parser.add_argument(
        "--max-steps",
        type=int,
        metavar="N",
        help=(
            "steps one thread may take in one execution before it is reported as a "
            f"step-limit finding (default: {defaults.get('max_steps')})"
        ),
    )
    parser.add_argument(
        "--timeout", type=float, metavar="SECONDS", help="stop after SECONDS (default: none)"
    )
    parser.add_argument(
        "--stop-on-first", action="store_true", help="stop at the first execution with a finding"
    )
    parser.add_argument(
        "--require-proof",
        action="store_true",
        help=(
            "exit 1 unless every schedule was explored (verdict 'proved'), even without "
            "findings: a sampled or cut-short run is not a proof"
        ),
    )
    _add_project_option(parser)
    checks = ", ".join(_health_check_names())
    parser.add_argument(
        "--suppress-health-check",
        action="append",
        metavar="NAMES",
        help=f"do not run these health checks (comma-separated, repeatable; 'all'): {checks}",
    )
    parser.add_argument(
        "--fail-health-check",
        action="append",
        metavar="NAMES",
        help="make these health checks errors (exit status 1) instead of warnings ('all')",
    )


def _health_check_names() -> list[str]:
    from ._health import HealthCheck

    return list(HealthCheck.__members__)


#: explore() keyword -> command-line flag, to point error messages at the flag.
_FLAGS = {
    "max_schedules": "--max-schedules",
    "strategy": "--strategy",
    "seed": "--seed",
    "max_steps": "--max-steps",
    "timeout": "--timeout",
    "project": "--project",
    "suppress_health_check": "--suppress-health-check",
    "fail_health_check": "--fail-health-check",
}
#: Options given as lists of comma-separated names.
_NAME_LISTS = ("suppress_health_check", "fail_health_check")


def _explore_options(args: argparse.Namespace) -> dict[str, Any]:
    # Only what was given: explore()'s own defaults apply to the rest.
    options: dict[str, Any] = {
        name: getattr(args, name) for name in _FLAGS if getattr(args, name) is not None
    }
    for name in _NAME_LISTS:
        if name in options:
            options[name] = [n for given in options[name] for n in given.split(",") if n.strip()]
    if args.stop_on_first:
        options["stop_on_first"] = True
    return options


def _explore_warning_lines(
    factory: Callable[[], object], options: dict[str, Any], line: ProgressLine | None
) -> tuple[ExploreResult, FailedHealthCheck | None, bool]:
    """explore() with its health-check warnings printed as ``interleave: warning:`` lines on
    stderr (other warnings are shown as usual); a failed health check is returned, and
    whether Ctrl-C stopped it (the result then holds what was found until then)."""
    failed = None
    interrupted = False
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", HealthCheckWarning)
        try:
            result = _api.explore(factory, progress=line, **options)
        except InvalidArgument as exc:
            raise _option_error(exc) from None
        except FailedHealthCheck as exc:
            result, failed = exc.result, exc
        except Interrupted as stop:
            result, interrupted = stop.result, True
    if line is not None:
        line.clear()
    for warning in caught:
        if issubclass(warning.category, HealthCheckWarning):
            print(f"{PROG}: warning: {warning.message}", file=sys.stderr)
        else:
            warnings.showwarning(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return result, failed, interrupted


def _option_error(exc: InvalidArgument) -> UsageError:
    message = str(exc)
    for name, flag in _FLAGS.items():
        if message.startswith((f"{name}=", f"{name} ")):
            return UsageError(f"{flag}: {message}")
    return UsageError(message)


def _run_explore(args: argparse.Namespace) -> int:
    factory = load_target(args.target)
    options = _explore_options(args)
    interrupted = False
    with _progress() as line:
        result, failed, interrupted = _explore_warning_lines(factory, options, line)
    # The replay lines should name the target exactly as it was typed here.
    _emit(render_explore(result, ReplayContext.of(result, target=args.target)))
    if interrupted:
        return _interrupted(len(result.findings))
    if failed is not None:
        print(f"{PROG}: error: {failed}", file=sys.stderr)
        return EXIT_FINDINGS
    unproved = _unproved([result]) if args.require_proof else False
    return EXIT_OK if result.ok and not unproved else EXIT_FINDINGS


#: For --require-proof: how each verdict that is not ``proved`` becomes one, in flags.
_HOW_TO_PROVE = {
    "bounded": "explore without a preemption bound",
    "sampled": (
        "use --strategy dpor (or dfs) without --stop-on-first, and raise --max-schedules "
        "(or --timeout) until the report says 'exhausted'"
    ),
    "interrupted": "let the exploration run to its end",
}


def _unproved(results: Sequence[Any]) -> bool:
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


def _add_replay(sub: Any) -> None:
    parser = sub.add_parser(
        "replay",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="replay one schedule ID exactly and print its step-by-step trace",
        description=_text(
            "Run a scenario once, exactly as recorded in a schedule ID printed by 'interleave "
            "explore' (or by explore() in Python), and print the execution and its findings. "
            "The ID records the options that shaped the execution (max_steps, "
            "trace_attributes, the patches): the replay uses them."
        ),
        epilog=(
            "examples:\n"
            "  interleave replay examples/bank_transfer.py:unlocked 2-kAgIAAAAAQ8BHwEMERwRACXX\n"
            "  interleave replay myapp.tests.races:lost_update 2-kAQEAAEKChoaAAGm\n\n"
            "exit status: 0 no findings, 1 findings, 2 usage error, bad ID or a replay that "
            "diverges"
        ),
    )
    parser.add_argument("target", metavar="TARGET", help=_TARGET_HELP)
    parser.add_argument(
        "schedule_id", metavar="ID", help="a schedule ID such as 2-kAQEAAEKChoaAAGm"
    )
    parser.add_argument(
        "--max-steps",
        type=int,
        metavar="N",
        help="replay under another per-thread step limit (default: the one the ID recorded)",
    )
    _add_project_option(parser)
    parser.set_defaults(run=_run_replay)


def _run_replay(args: argparse.Namespace) -> int:
    try:
        # A bad ID is a usage error, found before the user's module is imported.
        decode(args.schedule_id)
    except InvalidScheduleId as exc:
        raise UsageError(str(exc)) from None
    factory = load_target(args.target)
    options: dict[str, Any] = {}
    if args.max_steps is not None:
        options["max_steps"] = args.max_steps
    if args.project is not None:
        options["project"] = args.project
    try:
        run = _api.replay(factory, args.schedule_id, **options)
    except InvalidArgument as exc:
        raise _option_error(exc) from None
    except ScheduleDivergence as exc:
        raise UsageError(f"cannot replay {args.schedule_id}: {exc}") from None
    _emit(run.report())
    return EXIT_OK if run.ok else EXIT_FINDINGS


# --------------------------------------------------------------------------------------------
# report


def _add_report(sub: Any) -> None:
    parser = sub.add_parser(
        "report",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="explore several scenarios and print one summary table",
        description=_text(
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
            '>> "$GITHUB_STEP_SUMMARY"\n\n'
            "exit status: 0 no findings, 1 findings (or, with --require-proof, a verdict other\n"
            "than proved), 2 usage error"
        ),
    )
    parser.add_argument(
        "targets",
        nargs="+",
        metavar="TARGET",
        help=_TARGET_HELP + "; or a module or FILE.py alone: every factory of its DEMO list",
    )
    parser.add_argument(
        "--format",
        choices=("text", "markdown"),
        default="text",
        help="text (an aligned table, the default) or markdown (for pull requests and CI)",
    )
    _add_search_options(parser)
    parser.set_defaults(run=_run_report)


def _report_factories(target: str) -> list[tuple[str, Callable[[], object]]]:
    """(replay target, factory) for one TARGET of ``report``."""
    if ":" in target:
        return [(target, load_target(target))]
    module = load_file(Path(target)) if _is_file_target(target) else _import_module(target)
    demo = getattr(module, "DEMO", None)
    if not isinstance(demo, list | tuple) or not demo or not all(callable(f) for f in demo):
        known = ", ".join(_factories(module)) or "none"
        raise UsageError(
            f"{target!r} names no factory and has no DEMO list of factories; write "
            f"{target}:factory (its functions are: {known}) or add DEMO = [factory, ...] to it"
        )
    return [(f"{target}:{getattr(f, '__name__', 'scenario')}", f) for f in demo]


def _run_report(args: argparse.Namespace) -> int:
    from ._report import summary_report

    factories = [pair for target in args.targets for pair in _report_factories(target)]
    options = _explore_options(args)
    results = []
    failures = []
    interrupted = False
    for target, factory in factories:
        with _progress() as line:
            result, failed, interrupted = _explore_warning_lines(factory, options, line)
        results.append(dataclasses.replace(result, target=target))
        if failed is not None:
            failures.append(failed)
        if interrupted:
            break  # the table shows what ran, the interrupted row last
    _emit(summary_report(results, format=args.format))
    if interrupted:
        return _interrupted(sum(len(r.findings) for r in results))
    for failed in failures:
        print(f"{PROG}: error: {failed}", file=sys.stderr)
    unproved = _unproved(results) if args.require_proof else False
    ok = all(r.ok for r in results) and not failures and not unproved
    return EXIT_OK if ok else EXIT_FINDINGS


# --------------------------------------------------------------------------------------------
# demo


def _add_demo(sub: Any) -> None:
    parser = sub.add_parser(
        "demo",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="explore the bundled examples: a lost update, a deadlock and their fixes",
        description=_text(
            "Explore the bundled examples (bank transfers with a lost update, dining "
            "philosophers with a deadlock) and their fixed variants, and print the reports. "
            "The examples come from --dir, else ./examples when it holds them, else the copy "
            "installed with interleave."
        ),
        epilog=(
            "examples:\n"
            "  interleave demo\n"
            "  interleave demo --dir path/to/examples\n\n"
            "exit status: 0 when the demo ran (finding the bugs is the point), 2 when the "
            "examples cannot be found"
        ),
    )
    parser.add_argument(
        "--dir",
        type=Path,
        metavar="DIR",
        help="run the examples in DIR: every .py file in it with a DEMO list of factories",
    )
    parser.set_defaults(run=_run_demo)


def _has_examples(folder: Path) -> bool:
    return all((folder / name).is_file() for name in EXAMPLE_FILES)


@contextlib.contextmanager
def _examples_dir(given: Path | None) -> Iterator[Path]:
    if given is not None:
        if not given.is_dir():
            raise UsageError(
                f"--dir {str(given)!r} is not a directory; give the folder that holds the "
                "example .py files"
            )
        yield given
        return
    local = Path("examples")
    if _has_examples(local):
        yield local
        return
    import importlib.resources

    bundled = importlib.resources.files("interleave") / "_examples"
    if bundled.is_dir():
        with importlib.resources.as_file(bundled) as folder:
            yield folder
        return
    # An editable install (a source checkout) carries the examples beside the package.
    checkout = Path(__file__).resolve().parent.parent / "examples"
    if _has_examples(checkout):
        yield checkout
        return
    raise UsageError(
        "cannot find the examples: no ./examples with "
        f"{' and '.join(EXAMPLE_FILES)} and no copy installed with interleave; "
        "pass --dir path/to/examples"
    )


def _display_path(path: Path) -> str:
    """``path`` relative to the current directory when it is below it (for replay lines)."""
    resolved = path.resolve()
    with contextlib.suppress(ValueError):
        return str(resolved.relative_to(Path.cwd().resolve()))
    return str(resolved)


def _demo_entries(folder: Path) -> list[tuple[Path, list[Callable[[], object]]]]:
    entries = []
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        module = load_file(path)
        demo = getattr(module, "DEMO", None)
        if demo is None:
            continue
        if not isinstance(demo, list | tuple) or not all(callable(f) for f in demo):
            raise UsageError(
                f"{_display_path(path)}: DEMO must be a list of scenario factories, "
                f"not {demo!r:.60}"
            )
        entries.append((path, list(demo)))
    if not entries:
        raise UsageError(
            f"no example in {str(folder)!r} has a DEMO list; each example module lists the "
            "factories to run, e.g. DEMO = [unlocked, locked]"
        )
    return entries


def _taskboard_demo(folder: Path) -> Any:
    """``taskboard/demo.py`` of the examples folder, imported under a dotted name that its
    replay lines can use (``examples.taskboard.scenarios:...`` from the repository root,
    ``interleave._examples.taskboard...`` for the installed copy); None when there is none."""
    if not (folder / "taskboard" / "demo.py").is_file():
        return None
    resolved = folder.resolve()
    names = []
    with contextlib.suppress(ValueError):
        parts = resolved.relative_to(Path.cwd().resolve()).parts
        if parts and all(part.isidentifier() for part in parts):
            names.append(".".join(parts) + ".taskboard.demo")
    with contextlib.suppress(ValueError):
        if not resolved.relative_to(Path(__file__).resolve().parent / "_examples").parts:
            names.append("interleave._examples.taskboard.demo")
    cwd = os.getcwd()
    if names and cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    for name in names:
        with contextlib.suppress(ImportError):
            return importlib.import_module(name)
    if str(resolved) not in sys.path:
        sys.path.insert(0, str(resolved))
    return importlib.import_module("taskboard.demo")


def _first_line(factory: object) -> str:
    doc = inspect.getdoc(factory) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _run_demo(args: argparse.Namespace) -> int:
    found: list[str] = []
    clean: list[str] = []
    with _examples_dir(args.dir) as folder:
        entries = _demo_entries(folder)
        files = ", ".join(path.name for path, _ in entries)
        _emit(
            f"interleave demo: the examples in {_display_path(folder)} ({files})\n"
            + _wrap(
                "Each example has a buggy variant and fixed ones. Finding the bugs is the "
                "point: the buggy variants report findings, each with a schedule ID that "
                "replays it; the fixed variants come out clean with every interleaving "
                "explored (exhausted)."
            )
        )
        for path, factories in entries:
            for factory in factories:
                attr = getattr(factory, "__name__", "scenario")
                name = f"{path.stem}.{attr}"
                with _progress() as line:
                    result = _api.explore(factory, progress=line)
                result = dataclasses.replace(result, target=f"{_display_path(path)}:{attr}")
                about = _first_line(factory)
                if result.ok:
                    coverage = "exhausted" if result.exhausted else "NOT exhausted"
                    _emit(
                        f"\n{name}: no findings, {coverage} ({result.schedules_run:,} schedules)"
                        + (f"\n  {about}" if about else "")
                    )
                    clean.append(name)
                else:
                    kinds = ", ".join(dict.fromkeys(f.kind for f in result.findings))
                    title = f"{name}: {kinds}"
                    _emit(
                        f"\n{title}\n{'#' * len(title)}"
                        + (f"\n{about}" if about else "")
                        + f"\n\n{result.report()}"
                    )
                    found.append(name)
        taskboard = _taskboard_demo(folder)
        if taskboard is not None:
            results = taskboard.run_demo()
            _emit("\n" + taskboard.render_demo(results))
            for result in results:
                (found if result.findings else clean).append(f"taskboard.{result.scenario}")
    _emit(
        "\n"
        + _wrap(
            f"demo done: {len(found)} variant(s) with findings ({', '.join(found) or 'none'}), "
            f"{len(clean)} without ({', '.join(clean) or 'none'}). The findings are the demo "
            "working, not a failure (exit status 0). Paste a 'shell:' line above to replay "
            "one step by step."
        )
    )
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# main

#: One function per subcommand; each adds its parser and sets ``run``.
_COMMANDS: tuple[Callable[[Any], None], ...] = (
    _add_explore,
    _add_replay,
    _add_report,
    _add_demo,
)


def build_parser() -> _Parser:
    """The ``interleave`` argument parser with every subcommand of ``_COMMANDS``."""
    parser = _Parser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=_text(
            "interleave makes concurrency bugs reproducible: it runs the threads of a "
            "scenario under a deterministic scheduler, explores their interleavings and "
            "prints every finding with a schedule ID that replays it exactly."
        ),
        epilog=(
            "examples:\n"
            "  interleave demo\n"
            "  interleave explore examples/bank_transfer.py:unlocked\n"
            "  interleave replay examples/bank_transfer.py:unlocked 2-kAgIAAAAAQ8BHwEMERwRACXX\n\n"
            "exit status: 0 no findings, 1 findings, 2 the command could not run\n"
            "'interleave COMMAND --help' shows the options of a command."
        ),
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    for add in _COMMANDS:
        add(sub)
    parser.commands = tuple(sub.choices)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``interleave`` command line; return the exit status.

    Args:
        argv: the arguments after the program name (default: ``sys.argv[1:]``).

    Returns:
        0 no findings (or the demo ran), 1 findings, 2 the command could not run.

    Example::

        from interleave._cli import main
        status = main(["explore", "examples/bank_transfer.py:locked"])
    """
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help and --version
            return exc.code if isinstance(exc.code, int) else EXIT_OK
        if args.command is None:
            commands = ", ".join(parser.commands)
            raise UsageError(f"name a command: {commands} (see '{PROG} --help')")
        status: int = args.run(args)
        return status
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted (Ctrl-C)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except InternalError:
        raise
    except InterleaveError as exc:
        # Raised on purpose, with a message that says what to do: one line is enough.
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:
        # An exception from the user's module or factory (not a usage error): show where.
        traceback.print_exception(exc, file=sys.stderr)
        print(
            f"{PROG}: error: {type(exc).__name__}: {exc} (raised while loading or running "
            "the scenario; traceback above)",
            file=sys.stderr,
        )
        return EXIT_USAGE
