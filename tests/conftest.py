"""Shared test configuration (keep it small).

Hypothesis runs derandomized: every run of the suite draws the same examples, so a failure is
reproducible and the suite is deterministic. Set ``HYPOTHESIS_PROFILE=explore`` to search with
fresh random examples instead.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))


def pytest_report_header() -> str:
    """Which core the suite runs against (``make test`` runs part of it against both)."""
    from interleave._core._native import compiled

    core = "compiled (mypyc)" if compiled() else "plain Python"
    if os.environ.get("INTERLEAVE_EXPECT_COMPILED") == "1" and not compiled():
        # The compiled run must not pass by testing the plain-Python modules instead.
        raise RuntimeError(
            "INTERLEAVE_EXPECT_COMPILED=1 but interleave's core is plain Python here: put the "
            "compiled build first on PYTHONPATH (make pytest-compiled does)"
        )
    return f"interleave core: {core} ({__import__('interleave').__file__})"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip the ``plain_python`` tests against the compiled core (they run in the plain run)."""
    from interleave._core._native import compiled

    if not compiled():
        return
    skip = pytest.mark.skip(reason="reaches into the core as only plain Python allows")
    for item in items:
        if item.get_closest_marker("plain_python") is not None:
            item.add_marker(skip)
