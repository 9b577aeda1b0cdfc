"""Every rendering of results: text reports, step tables, replay lines, summaries, plain data.

Results (``interleave._results``) are flat, frozen data; this package turns them into text for
people and into JSON-ready values for machines. It is the only place that imports tabulate
(lazily), and it imports the results module only for type checking or inside functions, so
the two never import each other when loaded.

Modules: ``_text`` (the report of an exploration, a replay, a finding), ``_trace`` (the
interleaving diagram and the lock-wait cycle), ``_replay`` (:class:`ReplayContext` and the
replay lines), ``_summary`` (one table across explorations), ``_data`` (``to_dict()``,
``schema.json`` and JUnit properties), ``_html`` and ``_svg`` (the self-contained HTML
report), ``_mermaid`` (a finding as a sequence diagram), ``_common`` (tables and wrapping).
"""

from __future__ import annotations

from ._data import (
    SCHEMA_VERSION,
    explore_dict,
    finding_dict,
    junit_properties,
    run_dict,
    schema,
    summary_dict,
    to_json,
)
from ._html import to_html
from ._mermaid import to_mermaid
from ._replay import ReplayContext, render_replay_lines
from ._summary import FORMATS, summary_report
from ._text import render_explore, render_finding, render_run
from ._trace import MAX_ROWS, render_trace, render_wait_cycle

__all__ = [
    "FORMATS",
    "MAX_ROWS",
    "SCHEMA_VERSION",
    "ReplayContext",
    "explore_dict",
    "finding_dict",
    "junit_properties",
    "render_explore",
    "render_finding",
    "render_replay_lines",
    "render_run",
    "render_trace",
    "render_wait_cycle",
    "run_dict",
    "schema",
    "summary_dict",
    "summary_report",
    "to_html",
    "to_json",
    "to_mermaid",
]
