"""docs/pytest.md cannot rot: its python blocks, pasted into one test file, behave as it says.

The guide's blocks form one test module (``test_hits.py`` in the guide); it is run with
``pytester`` and its outcomes and the output lines the guide quotes are checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "pytest.md"
_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def blocks(lang: str) -> list[str]:
    return [code for kind, code in _BLOCK.findall(GUIDE.read_text()) if kind == lang]


def test_guide_blocks_behave_as_documented(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nfilterwarnings = error\naddopts = -p no:hypothesispytest\n")
    pytester.makepyfile(test_hits="\n\n".join(blocks("python")))
    result = pytester.runpytest_inprocess("-rA")
    outcomes = {
        "test_hits": "failed",
        "test_locked_hits": "passed",
        "test_locked_hits_on_a_budget": "passed",
        "test_the_known_bad_order": "passed",
    }
    for name, outcome in outcomes.items():
        result.stdout.fnmatch_lines([f"{outcome.upper()} test_hits.py::{name}*"])
    result.assert_outcomes(failed=1, passed=3)
    out = result.stdout.str()
    # Every line the guide quotes from this run (first two text blocks), except elisions
    # and machine-dependent ones, appears in the output.
    quoted = [
        line.rstrip()
        for block in blocks("text")[:2]
        for line in block.splitlines()
        if line.strip() not in ("...", "") and "elapsed" not in line
    ]
    assert quoted
    missing = [line for line in quoted if line not in out]
    assert not missing, missing
