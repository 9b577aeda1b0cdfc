"""What the command line shows: output, one-line errors and warnings, the progress line.

Everything the commands print goes through here: reports and JSON to stdout (a closed pipe, as
in ``| head``, is not an error), errors and warnings to stderr as one line each, prefixed with
the program's name. On a terminal the ``error:``/``warning:`` labels are coloured (not with
``NO_COLOR`` set, nor with ``TERM=dumb``), and text is wrapped to the terminal's width (100
columns at most); in a pipe or a log, nothing is coloured and every line is as printed.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import textwrap
from collections.abc import Iterator
from typing import Any, TextIO

__all__ = [
    "EXIT_FINDINGS",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "PROG",
    "ProgressLine",
    "UsageError",
    "emit",
    "emit_json",
    "error",
    "help_text",
    "progress",
    "warning",
    "wrap",
]

PROG = "interleave"

#: Exit status: no findings / findings / the command could not run / Ctrl-C (128 + SIGINT).
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

#: The widest a wrapped paragraph gets, on any terminal.
MAX_WIDTH = 100

_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;33m"}
_RESET = "\033[0m"


class UsageError(Exception):
    """A problem with the command line or its TARGET; printed as one line, exit status 2."""


def is_colour(stream: TextIO) -> bool:
    """Colour ``stream``? Only a terminal, and not when ``NO_COLOR`` or ``TERM=dumb`` say no."""
    if "NO_COLOR" in os.environ or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def width() -> int:
    """The width paragraphs are wrapped to: the terminal's, at most :data:`MAX_WIDTH`."""
    return min(MAX_WIDTH, shutil.get_terminal_size((MAX_WIDTH, 24)).columns)


def help_text(paragraph: str) -> str:
    """A help paragraph wrapped to 79 columns (RawDescriptionHelpFormatter keeps newlines)."""
    return textwrap.fill(" ".join(paragraph.split()), 79)


def wrap(paragraph: str) -> str:
    """``paragraph`` wrapped to the console's width (words and paths are never split)."""
    return textwrap.fill(paragraph, width(), break_on_hyphens=False, break_long_words=False)


def emit(text: str) -> None:
    """Print ``text`` to stdout; a closed pipe (``| head``) is not an error."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        # Point stdout at devnull so the flush at interpreter exit does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def emit_json(data: Any) -> None:
    """Print ``data`` as JSON (what ``--format json`` prints: one document)."""
    emit(json.dumps(data, indent=2, ensure_ascii=False))


def _labelled(label: str, message: str) -> str:
    stream = sys.stderr
    shown = f"{_COLOURS[label]}{label}:{_RESET}" if is_colour(stream) else f"{label}:"
    return f"{PROG}: {shown} {message}"


def error(message: str) -> None:
    """``interleave: error: <message>`` on stderr."""
    print(_labelled("error", message), file=sys.stderr, flush=True)


def warning(message: str) -> None:
    """``interleave: warning: <message>`` on stderr."""
    print(_labelled("warning", message), file=sys.stderr, flush=True)


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
def progress() -> Iterator[ProgressLine | None]:
    """A progress line on stderr while the block runs, when stderr is a terminal."""
    stream = sys.stderr
    if not stream.isatty():
        yield None
        return
    line = ProgressLine(stream)
    try:
        yield line
    finally:
        line.clear()
