"""Choosing the buggy or the fixed variant of the taskboard, without editing code.

Every component (``DatabaseManager``, ``DurationCalculator``, ``DurationFormatter``,
``SessionStore``, ``LogWriter``, ``ConnectionPool``, ``ActivityCounter``, ``ReportService``) takes
``variant="buggy"`` or ``variant="fixed"``. Left out, the variant comes from the environment
variable ``TASKBOARD_VARIANT`` (``buggy`` or ``fixed``), and is ``buggy`` when that is unset: the
application ships with its planted bugs, and the test suite shows them.

Example::

    from taskboard import DatabaseManager
    db = DatabaseManager("board.db", variant="fixed")   # or TASKBOARD_VARIANT=fixed
"""

from __future__ import annotations

import os
from typing import Final, Literal

__all__ = ["BUGGY", "ENV_VAR", "FIXED", "VARIANTS", "Variant", "resolve"]

Variant = Literal["buggy", "fixed"]
BUGGY: Final = "buggy"
FIXED: Final = "fixed"
VARIANTS: Final = (BUGGY, FIXED)
#: The environment variable read when a component is built without ``variant=``.
ENV_VAR: Final = "TASKBOARD_VARIANT"


def resolve(variant: str | None) -> Variant:
    """The variant to use: ``variant`` if given, else ``$TASKBOARD_VARIANT``, else ``"buggy"``.

    Raises:
        ValueError: the value is neither ``"buggy"`` nor ``"fixed"`` (the message names where
            it came from).

    Example::

        assert resolve("fixed") == "fixed"
    """
    origin = "variant="
    if variant is None:
        variant = os.environ.get(ENV_VAR, "").strip().lower() or BUGGY
        origin = f"${ENV_VAR}="
    if variant == BUGGY:
        return BUGGY
    if variant == FIXED:
        return FIXED
    raise ValueError(f"{origin}{variant!r} must be 'buggy' or 'fixed'")
