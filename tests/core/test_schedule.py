"""Schedules and their IDs: the codec round-trips, IDs are shell-safe, bad IDs say what is wrong."""

from __future__ import annotations

import base64
import re
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from interleave._core._schedule import FORMAT, Schedule, decode, encode
from interleave.errors import InvalidArgument, InvalidScheduleId

SHELL_SAFE = re.compile(r"^1-[A-Za-z0-9_-]+$")


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    # Long runs of one thread are common in real schedules (and exercise the run-length and
    # zlib paths); so are large thread indices and step counts far past the recorded prefix.
    runs = draw(
        st.lists(
            st.tuples(st.integers(0, 300), st.integers(1, 40)),
            max_size=30,
        )
    )
    choices = tuple(tid for tid, count in runs for _ in range(count))
    steps = len(choices) + draw(st.integers(0, 10_000))
    return Schedule(choices=choices, steps=steps)


@given(schedules())
def test_decode_inverts_encode(schedule: Schedule) -> None:
    assert decode(encode(schedule)) == schedule


@given(schedules())
def test_ids_are_shell_safe(schedule: Schedule) -> None:
    text = encode(schedule)

    assert SHELL_SAFE.match(text), text
    assert schedule.id == text


@given(
    st.lists(st.integers(0, 3), max_size=200).map(tuple),
    st.integers(0, 50),
)
def test_small_thread_choices_round_trip(choices: tuple[int, ...], extra: int) -> None:
    schedule = Schedule(choices=choices, steps=len(choices) + extra)

    assert decode(encode(schedule)) == schedule


def test_empty_schedule_round_trips() -> None:
    schedule = Schedule(choices=(), steps=0)

    assert decode(encode(schedule)) == schedule


def test_long_repetitive_schedule_is_compressed_and_short() -> None:
    schedule = Schedule(choices=(0, 1) * 500, steps=1000)
    text = encode(schedule)

    payload = base64.urlsafe_b64decode(text[2:] + "=" * (-len(text[2:]) % 4))
    assert payload[0] == 1  # the zlib flag
    assert len(text) < 100
    assert decode(text) == schedule


def test_surrounding_whitespace_is_ignored() -> None:
    schedule = Schedule(choices=(0, 1, 1), steps=5)

    assert decode(f"  {encode(schedule)}\n") == schedule


def test_format_version_is_the_prefix() -> None:
    assert encode(Schedule(choices=(), steps=1)).startswith(f"{FORMAT}-")


# ---------------------------------------------------------------------------- malformed IDs


def _id(payload: bytes) -> str:
    return "1-" + base64.urlsafe_b64encode(payload).decode().rstrip("=")


def _varints(*values: int) -> bytes:
    out = bytearray()
    for value in values:
        while True:
            byte = value & 0x7F
            value >>= 7
            if value:
                out.append(byte | 0x80)
            else:
                out.append(byte)
                break
    return bytes(out)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", "the schedule ID is empty", id="empty"),
        pytest.param("   ", "the schedule ID is empty", id="blank"),
        pytest.param("AQIDBA", "expected '<format>-<payload>'", id="no-dash"),
        pytest.param("x-AQIDBA", "expected '<format>-<payload>'", id="non-numeric-format"),
        pytest.param("2-AQIDBA", "newer ID format 2", id="newer-format"),
        pytest.param("0-AQIDBA", "unknown ID format 0", id="older-format"),
        pytest.param("1-", "must be base64url text", id="empty-payload"),
        pytest.param("1-AQ+DBA", "must be base64url text", id="plus-sign"),
        pytest.param("1-AQ/DBA", "must be base64url text", id="slash"),
        pytest.param("1-AQIDBA==", "must be base64url text", id="padding"),
        pytest.param("1-AQ ID", "must be base64url text", id="inner-space"),
        pytest.param("1-A", "truncated when copied", id="one-char"),
        pytest.param(_id(b"\x00"), "no step count", id="no-step-count"),
        pytest.param(_id(b"\x07" + _varints(3)), "unknown payload flag 7", id="bad-flag"),
        pytest.param(_id(b"\x01garbage!"), "does not decompress", id="zlib-garbage"),
        pytest.param(
            _id(b"\x01" + zlib.compress(_varints(10, 0, 4))[:-3]),
            "does not decompress",
            id="zlib-truncated",
        ),
        pytest.param(_id(b"\x00" + _varints(4, 1)), "a thread without a run length", id="odd"),
        pytest.param(_id(b"\x00" + _varints(4, 1, 0)), "empty run", id="run-length-0"),
        pytest.param(
            _id(b"\x00" + _varints(2, 1, 3)), "more choices than its 2 steps", id="too-many"
        ),
        pytest.param(_id(b"\x00" + b"\x85"), "ends inside a number", id="truncated-varint"),
        pytest.param(
            _id(b"\x00" + _varints(4, 1 << 16, 1)), "thread index 65536", id="thread-too-big"
        ),
        pytest.param(_id(b"\x00" + b"\xff" * 8 + b"\x01"), "too large", id="huge-number"),
    ],
)
def test_malformed_ids_raise_with_the_reason(text: str, expected: str) -> None:
    with pytest.raises(InvalidScheduleId) as info:
        decode(text)

    assert expected in str(info.value)


def test_message_quotes_the_bad_id() -> None:
    with pytest.raises(InvalidScheduleId, match=re.escape("'2-AQIDBA'")):
        decode("2-AQIDBA")


def test_newer_format_message_says_to_upgrade() -> None:
    with pytest.raises(InvalidScheduleId, match="upgrade interleave"):
        decode("7-AQIDBA")


@pytest.mark.parametrize("value", [None, 12, b"1-AQIDBA"])
def test_non_text_id_is_rejected(value: object) -> None:
    with pytest.raises(InvalidScheduleId, match=type(value).__name__):
        decode(value)  # type: ignore[arg-type]


def test_invalid_schedule_id_is_an_invalid_argument_and_value_error() -> None:
    assert issubclass(InvalidScheduleId, InvalidArgument)
    assert issubclass(InvalidScheduleId, ValueError)


@given(schedules(), st.data())
def test_truncated_ids_never_decode_silently_to_something_longer(
    schedule: Schedule, data: st.DataObject
) -> None:
    # A copy-paste that lost characters either fails loudly or decodes to a schedule that the
    # replay's step-count guard can tell apart: it never crashes with a non-library error.
    text = encode(schedule)
    cut = data.draw(st.integers(2, len(text) - 1)) if len(text) > 3 else 2
    try:
        decoded = decode(text[:cut])
    except InvalidScheduleId:
        return
    assert len(decoded.choices) <= decoded.steps
