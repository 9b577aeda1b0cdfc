"""Schedules and their IDs: the codec round-trips, IDs are shell-safe and checksummed, every
malformed ID raises InvalidScheduleId saying what is wrong, and decoding is bounded."""

from __future__ import annotations

import base64
import binascii
import re
import string
import tracemalloc
import zlib
from collections.abc import Callable, Iterator

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from interleave._core._ops import Operation
from interleave._core._schedule import (
    DEFAULT_OPTIONS,
    FORMAT,
    MAX_STEPS,
    ExecutionOptions,
    Schedule,
    decode,
    encode,
)
from interleave.errors import InvalidArgument, InvalidScheduleId

SHELL_SAFE = re.compile(r"^2-[A-Za-z0-9_-]+$")
BASE64URL = string.ascii_letters + string.digits + "-_"
#: The README's lost update, as written by format 2 and by format 1 (interleave before it).
LOST_UPDATE = "2-kAQEAAEKChoaAAGm"
LOST_UPDATE_V1 = "1-AAQAAQEB"


@st.composite
def options(draw: st.DrawFn) -> ExecutionOptions:
    return ExecutionOptions(
        max_steps=draw(st.one_of(st.just(10_000), st.integers(1, 1 << 40))),
        patch_threading=draw(st.booleans()),
        patch_sqlite=draw(st.booleans()),
        trace_attributes=draw(st.booleans()),
    )


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    # Long runs of one thread are common in real schedules (and exercise the run-length and
    # deflate paths); so are large thread indices and step counts far past the recorded prefix.
    runs = draw(st.lists(st.tuples(st.integers(0, 300), st.integers(1, 40)), max_size=30))
    choices = tuple(tid for tid, count in runs for _ in range(count))
    steps = len(choices) + draw(st.integers(0, 2_000))
    # Real codes repeat (a loop runs the same operations): a short pattern, repeated.
    pattern = draw(st.one_of(st.none(), st.binary(min_size=1, max_size=12)))
    codes = None if pattern is None else (pattern * (steps // len(pattern) + 1))[:steps]
    return Schedule(choices=choices, steps=steps, codes=codes, options=draw(options()))


@given(schedules())
def test_decode_inverts_encode(schedule: Schedule) -> None:
    assert decode(encode(schedule)) == schedule


@given(schedules())
def test_ids_are_shell_safe_and_a_multiple_of_four_characters(schedule: Schedule) -> None:
    text = encode(schedule)

    assert SHELL_SAFE.match(text), text
    assert len(text[2:]) % 4 == 0
    assert schedule.id == text


def test_the_readme_lost_update_id() -> None:
    ops = [Operation(kind, ("shared", "hits")) for kind in ("read", "read", "write", "write")]

    text = encode(Schedule(choices=(0, 1), steps=4), ops)

    assert text == LOST_UPDATE
    assert decode(text) == Schedule(choices=(0, 1), steps=4, codes=bytes([10, 10, 26, 26]))


def test_codes_come_from_the_operations_kind_and_resource() -> None:
    reads = [Operation("read", ("shared", "a"))] * 3
    other_resource = [Operation("read", ("shared", "b"))] * 3
    writes = [Operation("write", ("shared", "a"))] * 3
    ids = {encode(Schedule(choices=(), steps=3), ops) for ops in (reads, other_resource, writes)}

    assert len(ids) == 3
    assert decode(ids.pop()).codes is not None


def test_options_are_recorded_and_defaults_cost_nothing() -> None:
    plain = Schedule(choices=(0, 1), steps=4)
    traced = Schedule(
        choices=(0, 1), steps=4, options=ExecutionOptions(trace_attributes=True, max_steps=50_000)
    )

    assert decode(encode(plain)).options == DEFAULT_OPTIONS
    assert decode(encode(traced)).options == ExecutionOptions(
        trace_attributes=True, max_steps=50_000
    )
    assert len(encode(plain)) < len(encode(traced))


def test_long_repetitive_schedule_is_compressed_and_short() -> None:
    schedule = Schedule(choices=(0, 1) * 500, steps=1000, codes=bytes([0x0A, 0x1A]) * 500)
    text = encode(schedule)

    payload = base64.urlsafe_b64decode(text[2:])
    assert payload[0] & 0x20  # the deflate flag
    assert len(text) < 60
    assert decode(text) == schedule


def test_surrounding_whitespace_is_ignored() -> None:
    schedule = Schedule(choices=(0, 1, 1), steps=5)

    assert decode(f"  {encode(schedule)}\n") == schedule


def test_format_version_is_the_prefix() -> None:
    assert encode(Schedule(choices=(), steps=1)).startswith(f"{FORMAT}-")
    assert FORMAT == 2


# ------------------------------------------------------------------------------- format 1


def _v1_encode(schedule: Schedule) -> str:
    """The format-1 encoder of interleave before format 2 (kept here to make old IDs)."""
    body = bytearray()
    _varint(body, schedule.steps)
    choices = schedule.choices
    i = 0
    while i < len(choices):
        j = i + 1
        while j < len(choices) and choices[j] == choices[i]:
            j += 1
        _varint(body, choices[i])
        _varint(body, j - i)
        i = j
    packed = zlib.compress(bytes(body), 9)
    payload = b"\x01" + packed if len(packed) < len(body) else b"\x00" + bytes(body)
    return "1-" + base64.urlsafe_b64encode(payload).decode("ascii").rstrip("=")


def _varint(out: bytearray, value: int) -> None:
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return


@pytest.mark.parametrize(
    ("text", "choices", "steps"),
    [
        (LOST_UPDATE_V1, (0, 1), 4),
        ("1-AAQ", (), 4),
        ("1-AAgAAwEB", (0, 0, 0, 1), 8),  # the examples README's bank transfer
        ("1-AAwABgEB", (0,) * 6 + (1,), 12),
    ],
)
def test_format_1_ids_still_decode(text: str, choices: tuple[int, ...], steps: int) -> None:
    # No operation codes and no options in format 1: a replay uses the defaults.
    assert decode(text) == Schedule(choices=choices, steps=steps)


@given(
    st.lists(st.tuples(st.integers(0, 300), st.integers(1, 40)), max_size=30),
    st.integers(0, 10_000),
)
def test_every_format_1_id_of_the_old_encoder_decodes(
    runs: list[tuple[int, int]], extra: int
) -> None:
    choices = tuple(tid for tid, count in runs for _ in range(count))
    schedule = Schedule(choices=choices, steps=len(choices) + extra)

    assert decode(_v1_encode(schedule)) == schedule


# ------------------------------------------------------------------- the checksum and typos


def _edits(text: str, alphabet: str = BASE64URL + " .=+/") -> Iterator[str]:
    """Every single-character edit of ``text``: substitution, insertion, deletion and swap of
    two neighbours."""
    for i in range(len(text) + 1):
        for c in alphabet:
            yield text[:i] + c + text[i:]
    for i in range(len(text)):
        yield text[:i] + text[i + 1 :]
        for c in alphabet:
            if c != text[i]:
                yield text[:i] + c + text[i + 1 :]
        if i + 1 < len(text) and text[i] != text[i + 1]:
            yield text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def _refused_or_same(text: str, original: Schedule) -> None:
    try:
        decoded = decode(text)
    except InvalidScheduleId:
        return
    # Only a space added before or after the ID decodes, to the very same schedule.
    assert decoded == original, f"{text!r} decoded to another schedule: {decoded}"
    assert text.strip() != text


def test_every_single_character_edit_of_the_readme_id_is_refused() -> None:
    original = decode(LOST_UPDATE)
    edits = list(_edits(LOST_UPDATE))

    for text in edits:
        _refused_or_same(text, original)
    assert len(edits) > 2_500


@given(schedules(), st.data())
def test_every_single_character_edit_is_refused(schedule: Schedule, data: st.DataObject) -> None:
    text = encode(schedule)
    i = data.draw(st.integers(0, len(text) - 1), label="position")
    c = data.draw(st.sampled_from(BASE64URL + "$ "), label="character")
    kind = data.draw(st.sampled_from(["substitute", "insert", "delete", "swap"]), label="edit")
    if kind == "substitute":
        edited = text[:i] + c + text[i + 1 :]
    elif kind == "insert":
        edited = text[:i] + c + text[i:]
    elif kind == "delete":
        edited = text[:i] + text[i + 1 :]
    else:
        edited = text[:i] + text[i + 1 : i + 2] + text[i] + text[i + 2 :]
    if edited == text:
        return
    _refused_or_same(edited, schedule)


def test_a_format_2_id_read_as_format_1_is_refused() -> None:
    with pytest.raises(InvalidScheduleId, match="unknown payload flag"):
        decode("1" + LOST_UPDATE[1:])


def test_a_typo_in_a_format_1_id_went_unnoticed() -> None:
    # Why format 2 has a checksum: this format-1 typo decodes, to another schedule.
    assert decode("1-AAQAAQEC") != decode(LOST_UPDATE_V1)


# ------------------------------------------------------------------ arbitrary text, any bytes


def _decodes_or_refuses(text: str) -> None:
    try:
        schedule = decode(text)
    except InvalidScheduleId as exc:
        assert str(exc)
        return
    assert len(schedule.choices) <= schedule.steps <= MAX_STEPS
    assert schedule.codes is None or len(schedule.codes) == schedule.steps


@settings(max_examples=300)
@given(st.text())
@example("\u0661-AAQAAQEB")  # an Arabic-Indic digit one
@example("\u00b2-AAQAAQEB")
@example("01-AAQAAQEB")
@example("1" * 5_000 + "-AAQAAQEB")
@example("1-AAYAgICAgAE")
def test_arbitrary_text_decodes_or_raises_invalid_schedule_id(text: str) -> None:
    _decodes_or_refuses(text)


@settings(max_examples=300)
@given(st.binary(), st.sampled_from(["latin-1", "utf-8"]))
def test_arbitrary_bytes_as_text_decode_or_raise_invalid_schedule_id(
    raw: bytes, encoding: str
) -> None:
    _decodes_or_refuses(raw.decode(encoding, "surrogateescape"))


@settings(max_examples=300)
@given(st.sampled_from(["1-", "2-", "3-", "01-", "1", "2-A"]), st.text(BASE64URL, max_size=80))
def test_arbitrary_payloads_decode_or_raise_invalid_schedule_id(head: str, payload: str) -> None:
    _decodes_or_refuses(head + payload)


@settings(max_examples=300)
@given(st.binary(max_size=60), st.booleans())
def test_arbitrary_bytes_with_a_valid_checksum_decode_or_raise(body: bytes, deflate: bool) -> None:
    # Past the checksum: the structure itself is checked, whatever the bytes.
    _decodes_or_refuses(_v2(body, deflate=deflate, head=body[0] if body else 0x10))


# ------------------------------------------------------------------------- malformed IDs


def _v2(
    body: bytes, *, head: int = 0x10, deflate: bool = False, raw_head: int | None = None
) -> str:
    """A format-2 ID around ``body`` with a valid checksum (to reach the checks behind it).

    ``head`` gives the flag and option bits (the zero count is added), ``raw_head`` the whole
    header byte."""
    if deflate:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        body = packer.compress(body) + packer.flush()
        head |= 0x20
    zeros = -(1 + len(body) + 2) % 3
    if raw_head is None:
        raw_head = (head & 0x3F) | (zeros + 1) << 6
    data = bytes([raw_head]) + body + bytes(zeros)
    raw = data + binascii.crc_hqx(data, 0xFFFF).to_bytes(2, "big")
    return "2-" + base64.urlsafe_b64encode(raw).decode()


def _v1(payload: bytes) -> str:
    return "1-" + base64.urlsafe_b64encode(payload).decode().rstrip("=")


def _varints(*values: int) -> bytes:
    out = bytearray()
    for value in values:
        _varint(out, value)
    return bytes(out)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", "the schedule ID is empty", id="empty"),
        pytest.param("   ", "the schedule ID is empty", id="blank"),
        pytest.param("AQIDBA", "expected '<format>-<payload>'", id="no-dash"),
        pytest.param("x-AQIDBA", "expected '<format>-<payload>'", id="non-numeric-format"),
        pytest.param("\u0661-AAQAAQEB", "ASCII digits", id="arabic-indic-digit"),
        pytest.param("\u00b2-AAQAAQEB", "ASCII digits", id="superscript-digit"),
        pytest.param("01-AAQAAQEB", "leading zero", id="leading-zero"),
        pytest.param("4-AQIDBA", "newer ID format 4", id="newer-format"),
        pytest.param("9" * 5_000 + "-AQ", "newer ID format 9999...", id="huge-format"),
        pytest.param("0-AQIDBA", "unknown ID format 0", id="older-format"),
        pytest.param("2-", "nothing follows '2-'", id="empty-payload"),
        pytest.param("2-AQ+DBA", "must be base64url text", id="plus-sign"),
        pytest.param("2-AQ/DBA", "must be base64url text", id="slash"),
        pytest.param("1-AQIDBA==", "must be base64url text", id="padding"),
        pytest.param("2-AQ ID", "must be base64url text", id="inner-space"),
        pytest.param("1-A", "truncated when copied", id="v1-one-char"),
        pytest.param("1-AB", "not one interleave writes", id="v1-unused-bits-set"),
        pytest.param(LOST_UPDATE[:-1], "not a multiple of 4", id="v2-truncated"),
        pytest.param(LOST_UPDATE + "A", "not a multiple of 4", id="v2-extra-char"),
        pytest.param("2-AAAA", "too short", id="v2-too-short"),
        pytest.param(LOST_UPDATE[:5] + "B" + LOST_UPDATE[6:], "checksum", id="v2-typo"),
        pytest.param(_v2(_varints(4, 0), raw_head=0x00), "header is invalid", id="v2-head-0"),
        pytest.param(_v2(_varints(4, 0, 7), raw_head=0x90), "header is invalid", id="v2-zeros"),
        pytest.param(_v2(_varints(4, 10)), "recorded choices 10 is larger than 9", id="n>steps"),
        pytest.param(
            _v2(_varints(4, 4, 0)), "ends inside its 2 recorded choices", id="cut-choices"
        ),
        pytest.param(_v2(_varints(4, 5, 0)), "ends inside its 2 recorded choices", id="cut-wide"),
        pytest.param(
            _v2(_varints(1 << 17, (1 << 16) * 2 + 3)), "choices of threads past 256", id="wide-cap"
        ),
        pytest.param(_v2(_varints(4, 0) + b"\x0a"), "1 operation codes for 4", id="few-codes"),
        pytest.param(_v2(_varints(2, 0) + b"xx", head=0), "2 unexpected bytes", id="trailing"),
        pytest.param(_v2(_varints(2)), "recorded choices is missing", id="cut"),
        pytest.param(_v2(_varints(2), head=0x08), "max_steps is missing", id="cut-options"),
        pytest.param(_v2(_varints(2, 0), head=0x08), "max_steps is 0", id="max-steps-0"),
        pytest.param(_v2(_varints(MAX_STEPS + 1, 0)), "larger than", id="v2-too-many-steps"),
        pytest.param(_v2(b"\x85"), "ends inside its step count", id="v2-truncated-varint"),
        pytest.param(_v2(b"garbage", head=0x30), "does not decompress", id="deflate-garbage"),
        pytest.param(_v1(b"\x00"), "no step count", id="no-step-count"),
        pytest.param(_v1(b"\x07" + _varints(3)), "unknown payload flag 7", id="bad-flag"),
        pytest.param(_v1(b"\x01garbage!"), "does not decompress", id="zlib-garbage"),
        pytest.param(
            _v1(b"\x01" + zlib.compress(_varints(10, 0, 4))[:-3]),
            "does not decompress",
            id="zlib-truncated",
        ),
        pytest.param(
            _v1(b"\x01" + zlib.compress(_varints(10, 0, 4)) + b"x"),
            "unexpected bytes",
            id="zlib-trailing",
        ),
        pytest.param(_v1(b"\x00" + _varints(4, 1)), "a thread without a run length", id="odd"),
        pytest.param(_v1(b"\x00" + _varints(4, 1, 0)), "empty run", id="run-length-0"),
        pytest.param(_v1(b"\x00" + _varints(2, 1, 3)), "more choices than its 2", id="too-many"),
        pytest.param(_v1(b"\x00" + b"\x85"), "ends inside its step count", id="truncated-varint"),
        pytest.param(_v1(b"\x00" + _varints(4, 1 << 16, 1)), "thread index", id="thread-too-big"),
        pytest.param(_v1(b"\x00" + b"\xff" * 8 + b"\x01"), "too large", id="huge-number"),
    ],
)
def test_malformed_ids_raise_with_the_reason(text: str, expected: str) -> None:
    with pytest.raises(InvalidScheduleId) as info:
        decode(text)

    assert expected in str(info.value)


def test_message_quotes_the_bad_id_and_shortens_a_long_one() -> None:
    with pytest.raises(InvalidScheduleId, match=re.escape("'3-AQIDBA'")):
        decode("3-AQIDBA")
    with pytest.raises(InvalidScheduleId) as info:
        decode("2-" + "A" * 10_001)
    assert "(10,003 characters)" in str(info.value)
    assert len(str(info.value)) < 300


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
def test_truncated_ids_are_refused(schedule: Schedule, data: st.DataObject) -> None:
    text = encode(schedule)
    cut = data.draw(st.integers(0, len(text) - 1))

    with pytest.raises(InvalidScheduleId):
        decode(text[:cut])


# ----------------------------------------------------- bounded: time and memory (the "Why")


def _peak(call: Callable[[], object]) -> int:
    """Bytes allocated at the peak of ``call()`` (which must raise InvalidScheduleId)."""
    tracemalloc.start()
    try:
        with pytest.raises(InvalidScheduleId):
            call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_13_character_id_allocates_nothing_big() -> None:
    # Format 1 read it as 6 steps, then expanded a run of 2**28 choices before noticing
    # (11 s and 4 GB).
    assert _peak(lambda: decode("1-AAYAgICAgAE")) < 1_000_000


def test_an_18_character_id_is_not_a_50_million_step_schedule() -> None:
    text = _v1(b"\x00" + _varints(50_000_000, 0, 1, 1, 2, 0, 200))
    assert len(text) == 18

    with pytest.raises(InvalidScheduleId, match="step count 50,000,000 is larger than"):
        decode(text)


def test_a_format_1_id_cannot_expand_to_many_choices() -> None:
    text = _v1(b"\x00" + _varints(MAX_STEPS, 0, MAX_STEPS))

    assert _peak(lambda: decode(text)) < 10_000_000


def test_a_decompression_bomb_is_cut_at_the_cap() -> None:
    # A valid checksum around 4 MB of deflated zeros: refused, never fully inflated.
    bomb = _v2(_varints(MAX_STEPS, 0) + bytes(4 * MAX_STEPS), deflate=True)
    assert len(bomb) < 50_000

    with pytest.raises(InvalidScheduleId, match="decompresses to more than"):
        decode(bomb)
