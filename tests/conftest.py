"""Shared test configuration (keep it small).

Hypothesis runs derandomized: every run of the suite draws the same examples, so a failure is
reproducible and the suite is deterministic. Set ``HYPOTHESIS_PROFILE=explore`` to search with
fresh random examples instead.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("deterministic", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("explore", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deterministic"))
