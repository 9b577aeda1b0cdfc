"""Text helpers every renderer shares: tables (tabulate lives here only), wrapping, counts."""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeGuard

if TYPE_CHECKING:
    from .._core._findings import Finding
    from .._results import ExploreResult

__all__ = ["indent", "is_exploration", "kinds", "table", "wrap"]


def is_exploration(value: object) -> TypeGuard[ExploreResult]:
    """Is ``value`` an exploration's result (rather than a replay's, or something else)?

    Asked by its shape, not its class: the results module renders through this package, so
    this package never imports it when it runs (no import cycle, even inside a function).
    """
    return all(
        hasattr(value, name)
        for name in ("scenario", "findings", "occurrences", "schedules_run", "closest_passing")
    )


def table(rows: Sequence[Sequence[object]], headers: Sequence[str] = ()) -> str:
    """An aligned plain-text table (tabulate's ``simple`` format, cells taken as text)."""
    # Imported when first needed: ``import interleave`` must not pay for it.
    from tabulate import tabulate

    return tabulate(rows, headers=list(headers), tablefmt="simple", disable_numparse=True)


def kinds(findings: Sequence[Finding]) -> str:
    """``1 lost-update, 1 invariant`` (``none`` for no findings)."""
    if not findings:
        return "none"
    counts = Counter(f.kind for f in findings)
    return ", ".join(f"{n} {kind}" for kind, n in counts.items())


def indent(text: str, by: str = "  ") -> str:
    """``text`` with every non-empty line indented ``by``."""
    return "\n".join(by + line if line else line for line in text.splitlines())


def wrap(text: str, width: int = 100) -> str:
    """``text`` wrapped at ``width``, each of its own lines on its own."""
    # A message's own line breaks (a multi-line exception message, a SQL statement) carry
    # meaning and must survive.
    lines: list[str] = []
    for line in text.splitlines():
        lines.extend(textwrap.wrap(line, width) or [line])
    return "\n".join(lines) or text
