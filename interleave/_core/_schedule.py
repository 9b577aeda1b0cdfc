"""Schedules and their IDs.

A schedule is the thread chosen at every step of one execution. Its ID is short text, safe to
paste into a shell, that carries everything a replay needs: the choices, the options that shape
an execution, a fingerprint of each step's operation and a checksum.

Format 2 (written by this version)::

    2-kAQEAAEKChoaAAGm
    ^ ^^^^^^^^^^^^^^^^
    | base64url of the bytes B below, no padding: always a multiple of 4 characters
    format version of the ID (not of the library)

    B = HEAD BODY ZEROS CHECK
    HEAD   1 byte. Bits 7-6: the number of ZEROS + 1 (never 0: a format-2 payload is never a
           valid format-1 one). Bit 5: BODY is raw-deflate compressed. Bit 4: BODY ends with
           operation codes. Bits 3-0: options (trace_attributes on, patch_threading off,
           patch_sqlite off, max_steps recorded); an option not recorded has its default.
    BODY   varints: steps, [max_steps], 2n + w; then the n recorded choices, the thread index
           of each in one byte (w = 0) or two (w = 1, big-endian); then, with bit 4, one
           operation code per step (see _fingerprint). Deflate turns the long runs of one
           thread into a few bytes; byte-wide fields decode at C speed.
    ZEROS  0 to 2 zero bytes, so that len(B) is a multiple of 3.
    CHECK  CRC-16/CCITT of everything before it, big-endian.

    The README's lost update: 90 | 04 04 00 01 0a 0a 1a 1a | 00 | 01 a6 is HEAD (one zero,
    codes, default options), 4 steps, 2 recorded choices (threads 0 then 1), the codes of a
    read, a read, a write and a write of one resource, ZEROS and CHECK.

Why a one-character typo is always caught: a substituted character changes at most 6
consecutive bits of B and two swapped neighbours at most 12, and a CRC-16 detects every error
burst of up to 16 bits; an inserted or deleted character makes the length of the text not a
multiple of 4. A format-2 ID read as format 1 (the version digit edited) fails too: HEAD is
never a format-1 flag byte.

After the recorded prefix of choices the runtime follows the default policy (keep running the
current thread, else the lowest-numbered runnable one), so trailing choices that the default
policy would make anyway are not stored.

Format 3 is format 2 with one more varint at the start of BODY (before the step count): the
options that format 2 has no bit for (bit 0: ``cancellation`` on). It is written only when one
of them is on, so every other ID stays format 2 and older versions still read it.

Format 1 (still read, no longer written): ``1-`` and the base64url of a flag byte (0 raw, 1
zlib-compressed rest), then varints: steps, then (thread, count) runs. It has no checksum, no
options (a replay uses the defaults) and no operation codes.

Decoding is bounded before anything is allocated: the text length, the step count, the
recorded choices, every number and the decompressed size are capped, and every malformed ID
raises :class:`~interleave.errors.InvalidScheduleId` saying what is wrong. The caps are far
beyond real executions (a million steps); an execution past one still gets an ID, which is
refused when read, with a message that names the cap.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import repeat

from ..errors import InvalidScheduleId
from ._fingerprint import op_codes
from ._ops import Operation

__all__ = [
    "DEFAULT_OPTIONS",
    "FORMAT",
    "MAX_STEPS",
    "ExecutionOptions",
    "Schedule",
    "decode",
    "encode",
]

#: The ID format written. Bump it when the encoding or the meaning of a choice changes.
FORMAT = 2
#: The formats read (format 3: format 2 with extended options, see the module docs).
_FORMATS = (1, 2, 3)
_EXT_CANCELLATION = 0x1

# The caps that bound decoding, checked before anything is allocated. Together they keep a
# decode under about 10 MB whatever the text (the checksum is no defence against an ID made by
# hand), and under 10 ms for any text that is not such a deliberate construction.
#: The most steps an ID may have (an execution that long takes seconds to replay).
MAX_STEPS = 1 << 20
#: The most recorded choices (the prefix before the default policy): each costs 8 bytes once
#: decoded ...
_MAX_CHOICES = 1 << 18
#: ... and 36 when thread indices exceed 256 (each is a new int object).
_MAX_WIDE_CHOICES = 1 << 16
#: Decompressed payload caps (format 2: the choices and a code per step; format 1: the runs,
#: from IDs of an older interleave, without a checksum, and read in Python: kept small).
_MAX_BODY = 1 << 21
_MAX_V1_BODY = 1 << 12
#: The longest ID text: the longest argument Linux passes to a command (MAX_ARG_STRLEN).
_MAX_TEXT = 1 << 17
_MAX_THREADS = 1 << 16
_MAX_NUMBER = 1 << 42  # max_steps and anything else: 6 varint bytes at most
_MAX_FORMAT_DIGITS = 4

_HEAD_COMPRESSED = 0x20
_HEAD_CODES = 0x10
_OPT_TRACE_ATTRIBUTES = 0x1
_OPT_NO_PATCH_THREADING = 0x2
_OPT_NO_PATCH_SQLITE = 0x4
_OPT_MAX_STEPS = 0x8

_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_EXAMPLE = "'2-kAQEAAEKChoaAAGm'"


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecutionOptions:
    """The options of ``explore()`` that shape each execution, recorded in schedule IDs.

    The defaults are those of ID format 2 (and of ``explore()``): an option that has its
    default is not written into the ID.
    """

    max_steps: int = 10_000
    patch_threading: bool = True
    patch_sqlite: bool = True
    trace_attributes: bool = False
    #: asyncio: explore a cancellation of each task at each of its suspension points.
    cancellation: bool = False


#: The defaults of format 2 (an option equal to its default is not written).
DEFAULT_OPTIONS = ExecutionOptions()
_DEFAULTS = DEFAULT_OPTIONS


@dataclass(frozen=True, slots=True)
class Schedule:
    """The recorded choices of one execution.

    Attributes:
        choices: the thread index chosen at each of the first ``len(choices)`` steps.
        steps: the total number of steps of the execution (``>= len(choices)``).
        codes: one operation code per step (see ``_fingerprint``), or None when not recorded
            (format-1 IDs, schedules made by hand).
        options: the options the execution ran with (the defaults for format-1 IDs).
    """

    choices: tuple[int, ...]
    steps: int
    codes: bytes | None = None
    options: ExecutionOptions = field(default=_DEFAULTS)

    @property
    def id(self) -> str:
        """The schedule ID text."""
        return encode(self)


# ---------------------------------------------------------------------------------- encoding


def _varint(out: bytearray, value: int) -> None:
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return


#: Bodies shorter than this are not worth a deflate attempt (it costs more than the rest of
#: an encoding, and every execution with a finding is encoded).
_DEFLATE_FROM = 24


def _deflate(data: bytes) -> bytes:
    # Raw deflate (no zlib header or Adler-32): the CRC already guards the bytes.
    return zlib.compress(data, 9, -15)


def encode(schedule: Schedule, ops: Sequence[Operation] | None = None) -> str:
    """Encode a schedule as a format-2 ID ``"2-<base64url>"``.

    Args:
        schedule: what to encode.
        ops: the operation of every step, for the operation codes when ``schedule.codes`` is
            None (the runtime passes its trace's operations).
    """
    codes = schedule.codes
    if codes is None and ops is not None:
        codes = op_codes(ops)
    if codes is not None and len(codes) != schedule.steps:
        raise ValueError(f"{len(codes)} operation codes for a schedule of {schedule.steps} steps")
    options = schedule.options
    head = 0
    body = bytearray()
    version = FORMAT
    if options.cancellation:
        version = 3
        _varint(body, _EXT_CANCELLATION)
    _varint(body, schedule.steps)
    if options.trace_attributes:
        head |= _OPT_TRACE_ATTRIBUTES
    if not options.patch_threading:
        head |= _OPT_NO_PATCH_THREADING
    if not options.patch_sqlite:
        head |= _OPT_NO_PATCH_SQLITE
    if options.max_steps != _DEFAULTS.max_steps:
        head |= _OPT_MAX_STEPS
        _varint(body, options.max_steps)
    choices = schedule.choices
    wide = bool(choices) and max(choices) > 0xFF
    _varint(body, len(choices) << 1 | wide)
    if wide:
        body += struct.pack(f">{len(choices)}H", *choices)
    else:
        body += bytes(choices)
    if codes is not None:
        head |= _HEAD_CODES
        body += codes
    if len(body) >= _DEFLATE_FROM:
        packed = _deflate(bytes(body))
        if len(packed) < len(body):
            head |= _HEAD_COMPRESSED
            body = bytearray(packed)
    zeros = -(1 + len(body) + 2) % 3
    data = bytes([head | (zeros + 1) << 6]) + bytes(body) + bytes(zeros)
    raw = data + binascii.crc_hqx(data, 0xFFFF).to_bytes(2, "big")
    return f"{version}-" + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


# ---------------------------------------------------------------------------------- decoding


def _show(text: str) -> str:
    """The ID as quoted in messages (long ones shortened)."""
    if len(text) > 60:
        return repr(text[:40] + "...") + f" ({len(text):,} characters)"
    return repr(text)


def _damaged(text: str, why: str) -> InvalidScheduleId:
    return InvalidScheduleId(f"schedule ID {_show(text)} is damaged: {why}")


def decode(schedule_id: str) -> Schedule:
    """Decode and validate a schedule ID (format 2, or format 1 from older versions).

    Raises:
        InvalidScheduleId: the text is not a schedule ID; the message says what is wrong.
    """
    if not isinstance(schedule_id, str):
        raise InvalidScheduleId(
            f"a schedule ID is text such as {_EXAMPLE}, not {type(schedule_id).__name__}"
        )
    if len(schedule_id) > _MAX_TEXT:
        raise InvalidScheduleId(
            f"{_show(schedule_id)} is not a schedule ID: it is longer than the "
            f"{_MAX_TEXT:,} characters of the longest ID interleave reads"
        )
    text = schedule_id.strip()
    if not text:
        raise InvalidScheduleId(
            f"the schedule ID is empty: pass the whole ID from the report, such as {_EXAMPLE}"
        )
    head, sep, payload = text.partition("-")
    if not sep or not head or not (head.isascii() and head.isdigit()):
        raise InvalidScheduleId(
            f"{_show(text)} is not a schedule ID: expected '<format>-<payload>' such as "
            f"{_EXAMPLE}, the format a number in ASCII digits (copy the whole ID from the report)"
        )
    if len(head) > 1 and head[0] == "0":
        raise InvalidScheduleId(
            f"{_show(text)} is not a schedule ID: the format number {head!r} has a leading zero "
            f"(IDs start with '{FORMAT}-'; copy the whole ID from the report)"
        )
    version = int(head) if len(head) <= _MAX_FORMAT_DIGITS else None
    if version not in _FORMATS:
        shown = head if version is not None else head[:_MAX_FORMAT_DIGITS] + "..."
        newer = "a newer" if version is None or version > FORMAT else "an unknown"
        raise InvalidScheduleId(
            f"schedule ID {_show(text)} uses {newer} ID format {shown}; this interleave reads "
            f"formats {' and '.join(map(str, _FORMATS))} (upgrade interleave to replay it)"
        )
    if not payload:
        raise _damaged(text, f"nothing follows '{head}-' (truncated when copied?)")
    if _BASE64URL.fullmatch(payload) is None:
        raise InvalidScheduleId(
            f"schedule ID {_show(text)} is damaged: the part after '{head}-' must be "
            "base64url text (letters, digits, '-' and '_')"
        )
    if version == 1:
        return _decode_v1(text, payload)
    return _decode_v2(text, payload, extended=version == 3)


_URLSAFE = str.maketrans("-_", "+/")


def _b64(text: str, payload: str) -> bytes:
    """The bytes of a base64url payload (already checked to hold only its characters)."""
    try:
        raw = binascii.a2b_base64((payload + "=" * (-len(payload) % 4)).translate(_URLSAFE))
    except (binascii.Error, ValueError):
        raise _damaged(
            text,
            f"its {len(payload)} characters after the dash are not base64 (truncated when copied?)",
        ) from None
    tail = len(payload) % 4
    if tail:
        # The last character of a short group has unused low bits; the encoder leaves them 0.
        last = base64.urlsafe_b64encode(raw[-(tail - 1) :]).decode("ascii")[:tail]
        if last != payload[-tail:]:
            raise _damaged(text, "its last character is not one interleave writes (a typo?)")
    return raw


def _decode_v2(text: str, payload: str, *, extended: bool = False) -> Schedule:
    if len(payload) % 4:
        raise _damaged(
            text,
            f"it has {len(payload)} characters after the dash, not a multiple of 4 "
            "(a character missing or extra? copy the whole ID from the report)",
        )
    raw = _b64(text, payload)
    if len(raw) < 6:
        raise _damaged(text, "it is too short (truncated when copied?)")
    data = raw[:-2]
    if binascii.crc_hqx(data, 0xFFFF) != int.from_bytes(raw[-2:], "big"):
        raise _damaged(
            text, "its checksum does not match (a typo, or a character changed when copied?)"
        )
    head = data[0]
    zeros = (head >> 6) - 1
    if zeros < 0 or zeros > 2 or any(data[len(data) - zeros :]):
        raise _damaged(text, "its header is invalid")
    body = data[1 : len(data) - zeros]
    if head & _HEAD_COMPRESSED:
        body = _inflate(text, body, _MAX_BODY, raw=True)
    reader = _Reader(text, body)
    ext = reader.number("extended options", _EXT_CANCELLATION) if extended else 0
    steps = reader.number("step count", MAX_STEPS)
    options = _options(reader, head)
    if ext & _EXT_CANCELLATION:
        options = replace(options, cancellation=True)
    n2 = reader.number("number of recorded choices", 2 * min(steps, _MAX_CHOICES) + 1)
    n, wide = n2 >> 1, n2 & 1
    start, width = reader.pos, 2 if wide else 1
    if wide and n > _MAX_WIDE_CHOICES:
        raise _damaged(
            text, f"it records {n:,} choices of threads past 256, more than interleave replays"
        )
    if len(body) - start < n * width:
        raise _damaged(text, f"it ends inside its {n} recorded choices (truncated when copied?)")
    reader.pos = start + n * width
    # Both conversions run in C, allocate once and are bounded by the caps above.
    choices: tuple[int, ...] = (
        struct.unpack_from(f">{n}H", body, start)
        if wide
        else tuple(memoryview(body)[start : reader.pos])
    )
    codes: bytes | None = None
    rest = len(body) - reader.pos
    if head & _HEAD_CODES:
        if rest != steps:
            raise _damaged(text, f"it has {rest} operation codes for {steps} steps")
        codes = bytes(body[reader.pos :])
    elif rest:
        raise _damaged(text, f"{rest} unexpected bytes at the end")
    return Schedule(choices=choices, steps=steps, codes=codes, options=options)


def _options(reader: _Reader, head: int) -> ExecutionOptions:
    if head & 0x0F == 0:
        return _DEFAULTS
    max_steps = _DEFAULTS.max_steps
    if head & _OPT_MAX_STEPS:
        max_steps = reader.number("max_steps", _MAX_NUMBER)
        if max_steps < 1:
            raise _damaged(reader.text, "its max_steps is 0")
    return ExecutionOptions(
        max_steps=max_steps,
        patch_threading=not head & _OPT_NO_PATCH_THREADING,
        patch_sqlite=not head & _OPT_NO_PATCH_SQLITE,
        trace_attributes=bool(head & _OPT_TRACE_ATTRIBUTES),
    )


def _decode_v1(text: str, payload: str) -> Schedule:
    raw = _b64(text, payload)
    if not raw:
        raise InvalidScheduleId(f"schedule ID {_show(text)} is empty after the format")
    flag, body = raw[0], raw[1:]
    if flag == 1:
        body = _inflate(text, body, _MAX_V1_BODY, raw=False)
    elif flag != 0:
        raise _damaged(text, f"unknown payload flag {flag}")
    elif len(body) > _MAX_V1_BODY:
        raise _damaged(text, f"its payload is longer than {_MAX_V1_BODY:,} bytes")
    reader = _Reader(text, body)
    if not body:
        raise _damaged(text, "no step count")
    steps = reader.number("step count", MAX_STEPS)
    choices = _read_runs(reader, min(steps, _MAX_CHOICES), steps)
    return Schedule(choices=choices, steps=steps)


def _inflate(text: str, data: bytes, cap: int, *, raw: bool) -> bytes:
    unpacker = zlib.decompressobj(-15 if raw else 15)
    try:
        # max_length bounds the output before it is allocated.
        out = unpacker.decompress(data, cap + 1)
    except zlib.error:
        raise _damaged(
            text, "its compressed payload does not decompress (truncated when copied?)"
        ) from None
    if len(out) > cap:
        raise _damaged(text, f"it decompresses to more than {cap:,} bytes")
    if not unpacker.eof:
        raise _damaged(text, "its compressed payload does not decompress (truncated when copied?)")
    if unpacker.unused_data:
        raise _damaged(text, "unexpected bytes after its compressed payload")
    return out


class _Reader:
    """Reads bounded varints from a payload."""

    __slots__ = ("data", "pos", "text")

    def __init__(self, text: str, data: bytes) -> None:
        self.text = text
        self.data = data
        self.pos = 0

    def at_end(self) -> bool:
        return self.pos >= len(self.data)

    def number(self, what: str, cap: int) -> int:
        data, pos = self.data, self.pos
        value = shift = 0
        while True:
            if pos >= len(data):
                raise _damaged(
                    self.text,
                    f"it ends inside its {what} (truncated when copied?)"
                    if shift
                    else f"its {what} is missing (truncated when copied?)",
                )
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                break
            shift += 7
            if shift > 42:
                raise _damaged(self.text, f"its {what} is too large")
        if value > cap:
            raise _damaged(self.text, f"its {what} {value:,} is larger than {cap:,}")
        self.pos = pos
        return value


def _read_runs(reader: _Reader, cap: int, steps: int) -> tuple[int, ...]:
    """Format 1's ``(thread, count)`` runs, to the end of the payload: at most ``cap`` choices
    (checked before each run is allocated)."""
    text, data = reader.text, reader.data
    end = len(data)
    choices: list[int] = []
    total = 0
    pos = reader.pos
    while pos < end:
        # Most numbers are one byte: read those inline (the loop is the cost of a format-1 ID).
        tid = data[pos]
        if tid < 0x80:
            pos += 1
        else:
            reader.pos = pos
            tid = reader.number("thread index", _MAX_THREADS - 1)
            pos = reader.pos
        if pos >= end:
            raise _damaged(text, "a thread without a run length (truncated when copied?)")
        count = data[pos]
        if count < 0x80:
            pos += 1
        else:
            reader.pos = pos
            count = reader.number("run length", _MAX_NUMBER)
            pos = reader.pos
        if count == 0:
            raise _damaged(text, "empty run")
        total += count
        if total > cap:
            if total > steps:
                raise _damaged(text, f"it records more choices than its {steps} steps")
            raise _damaged(
                text, f"it records more than {cap:,} choices, more than interleave replays"
            )
        choices.extend(repeat(tid, count))
    return tuple(choices)
