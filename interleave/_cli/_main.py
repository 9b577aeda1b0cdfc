"""``main()``: the ``interleave`` parser with every command, and what each exit status means."""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from .._core._native import compiled
from .._version import __version__
from ..errors import InterleaveError, InternalError
from ._commands import add_explore, add_replay, add_report
from ._console import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, PROG, UsageError, error, help_text
from ._demo import add_demo
from ._estimate import add_estimate

__all__ = ["COMMANDS", "build_parser", "main"]

#: One function per subcommand; each adds its parser and sets ``run``. Adding a command means
#: adding one function here.
COMMANDS: tuple[Callable[[Any], None], ...] = (
    add_explore,
    add_replay,
    add_report,
    add_estimate,
    add_demo,
)


class _Parser(argparse.ArgumentParser):
    # argparse prints the usage and exits on an error; we want one line and a return value.
    commands: tuple[str, ...] = ()

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser() -> _Parser:
    """The ``interleave`` argument parser with every subcommand of :data:`COMMANDS`."""
    parser = _Parser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description=help_text(
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
    core = "compiled core" if compiled() else "plain-Python core"
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__} ({core})")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command")
    for add in COMMANDS:
        add(sub)
    parser.commands = tuple(sub.choices)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``interleave`` command line; return the exit status.

    Args:
        argv: the arguments after the program name (default: ``sys.argv[1:]``).

    Returns:
        0 no findings (or the demo ran), 1 findings, 2 the command could not run, 130 Ctrl-C.

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
        error(str(exc))
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted (Ctrl-C)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except InternalError:
        raise
    except InterleaveError as exc:
        # Raised on purpose, with a message that says what to do: one line is enough.
        error(str(exc))
        return EXIT_USAGE
    except Exception as exc:
        # An exception from the user's module or factory (not a usage error): show where.
        traceback.print_exception(exc, file=sys.stderr)
        error(
            f"{type(exc).__name__}: {exc} (raised while loading or running the scenario; "
            "traceback above)"
        )
        return EXIT_USAGE
