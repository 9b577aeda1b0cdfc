"""What the command line shows: output, one-line errors and warnings, the progress display.

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
from collections.abc import Iterator, MutableMapping
from typing import Any, TextIO

from tqdm import tqdm

from .. import _progress
from .._progress import Progress

__all__ = [
    "EXIT_FINDINGS",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "PROG",
    "PROGRESS_MODES",
    "Display",
    "ProgressBar",
    "ProgressLines",
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


class ProgressBar:
    """Draws an exploration's :class:`~interleave.Progress` as a bar on a terminal: count /
    total (marked ``~`` when estimated), percentage, rate and time left.

    tqdm draws it: it fits the bar to the terminal's width (and follows a resize), rewrites
    the line in place and erases it at the end. The numbers are the exploration's own (its
    elapsed time, its rate without the estimate's probes), not tqdm's clock.

    Example::

        bar = ProgressBar(sys.stderr)
        interleave.explore(scenario, progress=bar)
        bar.clear()
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.bar: _Bar | None = None

    def __call__(self, progress: Progress) -> None:
        if self.bar is None:
            self.bar = _Bar(progress, self.stream)
        else:
            self.bar.show(progress)

    def clear(self) -> None:
        """Erase the bar (if one was drawn)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class _Bar(tqdm):  # type: ignore[type-arg]
    """tqdm, fed the exploration's numbers rather than counting by itself."""

    def __init__(self, progress: Progress, stream: TextIO) -> None:
        self.progress = progress  # (before tqdm's first drawing, which reads format_dict)
        super().__init__(
            file=stream,
            total=progress.total,
            bar_format=self._format(progress),
            unit=" executions",
            unit_scale=True,
            # A terminal that reports no width (a pty made without a size) would get an
            # empty bar from tqdm: give it the widest line we print instead.
            dynamic_ncols=_reports_width(stream),
            ncols=None if _reports_width(stream) else MAX_WIDTH,
            nrows=None if _reports_width(stream) else 24,
            leave=False,
            mininterval=0,
            postfix=self._findings(progress),
        )

    @staticmethod
    def _format(progress: Progress) -> str:
        if progress.total is None:
            return "{n_fmt} executions [{elapsed}, {rate_fmt}{postfix}]"
        mark, label = ("~", " (estimated total)") if progress.estimated else ("", "")
        return (
            "{percentage:3.0f}%|{bar}| {n_fmt}/"
            + mark
            + "{total_fmt}"
            + label
            + " [{elapsed}<{remaining}, {rate_fmt}{postfix}]"
        )

    @staticmethod
    def _findings(progress: Progress) -> str:
        found = progress.findings
        return f"{found} finding{'' if found == 1 else 's'}"

    def show(self, progress: Progress) -> None:
        self.progress = progress
        self.n = progress.executions
        self.total = progress.total
        self.bar_format = self._format(progress)
        self.set_postfix_str(self._findings(progress), refresh=False)
        self.refresh()

    @property
    def format_dict(self) -> MutableMapping[str, Any]:
        shown = super().format_dict
        progress = self.progress
        shown.update(
            n=progress.executions,
            total=progress.total,
            elapsed=progress.elapsed,
            rate=progress.rate,
        )
        return shown


def _reports_width(stream: TextIO) -> bool:
    try:
        return os.get_terminal_size(stream.fileno()).columns > 0
    except (AttributeError, OSError, ValueError):  # not a real file (a test's fake terminal)
        return True


class ProgressLines(_progress.ProgressLines):
    """``interleave: explored ...`` on stderr every few seconds (when it is not a terminal)."""

    def clear(self) -> None:
        """Nothing to erase: the lines stay in the log."""


#: The ``--progress`` choices: a bar on a terminal and lines otherwise, or either, or none.
PROGRESS_MODES = ("auto", "bar", "lines", "off")
#: Seconds between two progress lines (outside a terminal).
LINE_INTERVAL = 5.0

Display = ProgressBar | ProgressLines


@contextlib.contextmanager
def progress(mode: str = "auto") -> Iterator[Display | None]:
    """What shows an exploration's progress on stderr while the block runs (see
    :data:`PROGRESS_MODES`); the bar is erased at the end."""
    stream = sys.stderr
    if mode == "off":
        yield None
        return
    if mode == "lines" or (mode == "auto" and not stream.isatty()):
        yield ProgressLines(stream, interval=LINE_INTERVAL, prefix=f"{PROG}: ")
        return
    bar = ProgressBar(stream)
    try:
        yield bar
    finally:
        bar.clear()
