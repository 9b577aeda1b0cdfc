"""The ``interleave`` command line: ``explore``, ``replay``, ``report``, ``estimate``, ``demo``.

A thin adapter over the engine (layer 7): it loads the scenario factory a TARGET names
(``FILE.py:factory`` or ``module:factory``), builds the :class:`~interleave.ExploreSettings` of
the flags, passes the schedule database (``.interleave/`` by default) and the TARGET in, and
prints what comes back.

Exit status: 0 when there are no findings (and for ``demo`` whenever it ran), 1 when there are
findings (or, with ``--require-proof``, when an exploration's verdict is not ``proved``,
or when a health check named by ``--fail-health-check`` failed), 2 when the command
could not run (a usage error, a bad TARGET, a bad schedule ID, a replay that diverges,
or a scenario factory that raised), 130 when Ctrl-C stopped it (``explore`` and ``report``
first print what was found until then, with the schedule IDs). Usage errors are one line on
stderr, ``interleave: error: <what is wrong and how to fix it>``, without a traceback.

Modules:

``_console``
    output, one-line errors and warnings, the progress bar (or lines), exit statuses;
``_targets``
    loading TARGETs, files, modules and DEMO lists (``benchmarks/run_all.py`` shares it);
``_options``
    the flags of every ``ExploreSettings`` option, the schedule database's flags;
``_commands``
    ``explore``, ``replay`` and ``report``;
``_estimate``
    ``estimate``;
``_demo``
    ``demo``;
``_main``
    the parser and ``main()``.
"""

from ._console import ProgressBar as ProgressBar
from ._console import UsageError as UsageError
from ._main import build_parser as build_parser
from ._main import main as main
from ._targets import load_file as load_file
from ._targets import load_target as load_target

__all__ = ["ProgressBar", "UsageError", "build_parser", "load_file", "load_target", "main"]
