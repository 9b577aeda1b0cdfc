"""Schedules and their IDs.

A schedule is the thread chosen at every step of one execution. Its ID is short text that is
safe to paste into a shell::

    1-AQIDBA
    ^ ^^^^^^
    | base64url payload (no padding): flag byte, then varints
    format version (of the ID format, not of the library)

Payload after the flag byte (0 = raw, 1 = zlib-compressed rest):
``steps`` (total steps of the execution, a guard against divergence), then run-length pairs
``thread, count`` for the recorded *prefix* of choices. After the prefix the runtime follows the
default policy (keep running the current thread, else the lowest-numbered runnable one), so
trailing choices that the default policy would make anyway are not stored.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from dataclasses import dataclass

from ..errors import InvalidScheduleId

__all__ = ["FORMAT", "Schedule", "decode", "encode"]

#: The current ID format. Bump it when the encoding or the meaning of a choice changes.
FORMAT = 1
_MAX_THREADS = 1 << 16
_MAX_STEPS = 1 << 40


@dataclass(frozen=True, slots=True)
class Schedule:
    """The recorded choices of one execution.

    Attributes:
        choices: the thread index chosen at each of the first ``len(choices)`` steps.
        steps: the total number of steps of the execution (``>= len(choices)``).
    """

    choices: tuple[int, ...]
    steps: int

    @property
    def id(self) -> str:
        """The schedule ID text."""
        return encode(self)


def _varint(out: bytearray, value: int) -> None:
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return


def encode(schedule: Schedule) -> str:
    """Encode a schedule as ``"<format>-<base64url>"``."""
    body = bytearray()
    _varint(body, schedule.steps)
    choices = schedule.choices
    i, n = 0, len(choices)
    while i < n:
        tid = choices[i]
        j = i + 1
        while j < n and choices[j] == tid:
            j += 1
        _varint(body, tid)
        _varint(body, j - i)
        i = j
    packed = zlib.compress(bytes(body), 9)
    payload = b"\x01" + packed if len(packed) + 1 < len(body) + 1 else b"\x00" + bytes(body)
    text = base64.urlsafe_b64encode(payload).decode("ascii").rstrip("=")
    return f"{FORMAT}-{text}"


def decode(schedule_id: str) -> Schedule:
    """Decode and validate a schedule ID.

    Raises:
        InvalidScheduleId: the text is not a schedule ID; the message says what is wrong.
    """
    if not isinstance(schedule_id, str):
        raise InvalidScheduleId(
            f"a schedule ID is text such as '1-AQIDBA', not {type(schedule_id).__name__}"
        )
    text = schedule_id.strip()
    if not text:
        raise InvalidScheduleId(
            "the schedule ID is empty: pass the whole ID from the report, such as '1-AQIDBA'"
        )
    head, sep, payload_text = text.partition("-")
    if not sep or not head.isdigit():
        raise InvalidScheduleId(
            f"{schedule_id!r} is not a schedule ID: expected '<format>-<payload>' such as "
            "'1-AQIDBA' (copy the whole ID from the report)"
        )
    version = int(head)
    if version != FORMAT:
        newer = "a newer" if version > FORMAT else "an unknown"
        raise InvalidScheduleId(
            f"schedule ID {schedule_id!r} uses {newer} ID format {version}; this interleave "
            f"reads format {FORMAT} (upgrade interleave to replay it)"
        )
    if not payload_text or any(c not in _B64 for c in payload_text):
        raise InvalidScheduleId(
            f"schedule ID {schedule_id!r} is damaged: the part after '{head}-' must be "
            "base64url text (letters, digits, '-' and '_')"
        )
    try:
        raw = base64.urlsafe_b64decode(payload_text + "=" * (-len(payload_text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidScheduleId(
            f"schedule ID {schedule_id!r} is damaged (truncated when copied?): {exc}"
        ) from None
    if not raw:
        raise InvalidScheduleId(f"schedule ID {schedule_id!r} is empty after the format")
    flag, body = raw[0], raw[1:]
    if flag == 1:
        try:
            body = zlib.decompress(body)
        except zlib.error:
            raise InvalidScheduleId(
                f"schedule ID {schedule_id!r} is damaged: its compressed payload does not "
                "decompress (truncated when copied?)"
            ) from None
    elif flag != 0:
        raise InvalidScheduleId(
            f"schedule ID {schedule_id!r} is damaged: unknown payload flag {flag}"
        )
    values = _read_varints(body, schedule_id)
    if not values:
        raise InvalidScheduleId(f"schedule ID {schedule_id!r} is damaged: no step count")
    steps, pairs = values[0], values[1:]
    if len(pairs) % 2:
        raise InvalidScheduleId(
            f"schedule ID {schedule_id!r} is damaged: a thread without a run length "
            "(truncated when copied?)"
        )
    choices: list[int] = []
    for k in range(0, len(pairs), 2):
        tid, count = pairs[k], pairs[k + 1]
        if count == 0:
            raise InvalidScheduleId(f"schedule ID {schedule_id!r} is damaged: empty run")
        if tid >= _MAX_THREADS:
            raise InvalidScheduleId(
                f"schedule ID {schedule_id!r} is damaged: thread index {tid} is out of range"
            )
        choices.extend([tid] * count)
        if len(choices) > steps:
            raise InvalidScheduleId(
                f"schedule ID {schedule_id!r} is damaged: it records more choices than its "
                f"{steps} steps"
            )
    return Schedule(choices=tuple(choices), steps=steps)


_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _read_varints(data: bytes, schedule_id: str) -> list[int]:
    values: list[int] = []
    value = shift = 0
    for byte in data:
        value |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            if shift > 42:
                raise InvalidScheduleId(
                    f"schedule ID {schedule_id!r} is damaged: a number is too large"
                )
        else:
            if value > _MAX_STEPS:
                raise InvalidScheduleId(
                    f"schedule ID {schedule_id!r} is damaged: a number is too large"
                )
            values.append(value)
            value = shift = 0
    if shift:
        raise InvalidScheduleId(
            f"schedule ID {schedule_id!r} is damaged: it ends inside a number "
            "(truncated when copied?)"
        )
    return values
