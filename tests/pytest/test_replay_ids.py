"""``--interleave-replay=ID`` with the IDs of issue 10: a malformed ID is a clear test failure
(it used to be a test error with a bare ValueError traceback, or to be replayed as format 1),
and a format-1 ID of an older interleave still replays."""

from __future__ import annotations

import pytest

TEST_MODULE = """
import interleave


def lost_update():
    hits = interleave.Shared("hits", 0)

    def worker():
        hits.set(hits.get() + 1)

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)


def test_hits(interleavings):
    interleavings.explore(lost_update)
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\nfilterwarnings = error\naddopts = -p no:hypothesispytest\n")
    pytester.makepyfile(test_scn=TEST_MODULE)
    return pytester


@pytest.mark.parametrize(
    ("schedule_id", "expected"),
    [
        pytest.param("\u0661-AAQAAQEB", "ASCII digits", id="arabic-indic-digit"),
        pytest.param("\u00b2-AAQAAQEB", "ASCII digits", id="superscript-digit"),
        pytest.param("01-AAQAAQEB", "leading zero", id="leading-zero"),
        pytest.param("9" * 5_000 + "-AAQAAQEB", "newer ID format 9999...", id="huge-format"),
        pytest.param("1-AAYAgICAgAE", "more choices than its 6 steps", id="13-characters"),
        pytest.param("2-kAQEAAEKChoaAAGn", "checksum does not match", id="typo"),
    ],
)
def test_a_malformed_id_is_a_clear_failure(
    project: pytest.Pytester, schedule_id: str, expected: str
) -> None:
    result = project.runpytest_inprocess(f"--interleave-replay={schedule_id}")

    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    result.stdout.fnmatch_lines(["interleave: --interleave-replay got an invalid schedule ID: *"])
    assert expected in out
    assert "Traceback" not in out
    assert "ValueError" not in out


def test_a_format_1_id_still_replays(project: pytest.Pytester) -> None:
    result = project.runpytest_inprocess("--interleave-replay=1-AAQAAQEB")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*interleave: replay of lost_update with 1-AAQAAQEB: 4 steps, findings: 1 lost-update*"]
    )
