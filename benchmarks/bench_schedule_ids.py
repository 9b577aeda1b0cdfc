"""Schedule IDs: decoding any text is safe and bounded, and how long IDs are.

1. **Fuzz.** 100,000 arbitrary strings decoded as schedule IDs, in families: random Unicode
   text, random bytes read as text, random base64url payloads behind real and bogus format
   prefixes, every kind of single-character edit and truncation of valid IDs, and the
   hand-made IDs that used to take seconds and gigabytes. Per family: how many strings decoded,
   how many raised ``InvalidScheduleId``, how many raised anything else (must be 0), how many
   single-character edits of a format-2 ID decoded to a *different* schedule (must be 0), the
   worst decode time and the worst peak allocation (``tracemalloc``; limits 10 ms and 10 MB).
   The slowest strings are timed again (best of 5) so that one preemption of this shared
   machine does not count as a slow decode. A last family is made by hand to sit at every cap
   behind a valid checksum (deflate bombs, a million steps, the longest prefix): the checksum
   guards against typos, not against an attacker, so those IDs show what the caps bound (they
   must stay under 10 MB; they take a few milliseconds more than 10 at worst).
2. **Lengths.** Format-2 IDs beside what format 1 (interleave before format 2: no checksum, no
   options, no operation codes) wrote for the same schedule: the README's lost update, the
   bank-transfer example, a 200-step schedule and long step-limit executions.

Counts are deterministic (the strings come from a seeded generator); times are not.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import platform
import random
import string
import sys
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tabulate import tabulate

import interleave
from interleave._core._schedule import Schedule, decode, encode
from interleave.errors import InvalidScheduleId

#: Strings fuzzed in full mode (quick mode: QUICK_STRINGS).
STRINGS = 100_000
QUICK_STRINGS = 2_000
#: The limits the issue sets for any decode.
MAX_SECONDS = 0.010
MAX_BYTES = 10_000_000
#: The family made by hand to reach the caps behind a valid checksum.
CRAFTED = "crafted to the caps"
#: The slowest strings timed again, best of REPEAT.
RETIME = 30
REPEAT = 5

BASE64URL = string.ascii_letters + string.digits + "-_"
# Characters that look like digits, dashes or spaces but are not ASCII, plus ASCII noise.
TRICKY = (
    "\u0661\u0662\u0663\u00b2\u00b3\u00b9\uff10\uff11\uff12"  # digits of other scripts
    "\u2212\u2013\u2014\u2010"  # minus, dashes, hyphen
    " \t\n\u00a0\u2009\u200b\ufeff"  # spaces
    "=+/.$%\\\"'`\u00e9\u4e2d\U0001f600\x00\x7f"
)


# ---------------------------------------------------------------------------- the strings


def _lost_update() -> interleave.Scenario:
    hits = interleave.Shared("hits", 0)

    def worker() -> None:
        hits.set(hits.get() + 1)

    return interleave.Scenario(threads=[worker, worker], check=lambda: hits.get() == 2)


def _locked_increments(rounds: int) -> Callable[[], interleave.Scenario]:
    """Two threads, ``rounds`` locked increments each: 4 steps per increment."""

    def scenario() -> interleave.Scenario:
        total = interleave.Shared("total", 0)
        lock = interleave.Lock(name="total")

        def worker() -> None:
            for _ in range(rounds):
                with lock:
                    total.set(total.get() + 1)

        # A check that always fails: every execution is a finding, with an ID.
        return interleave.Scenario(threads=[worker, worker], check=lambda: False)

    return scenario


def _spinner() -> interleave.Scenario:
    flag = interleave.Shared("flag", False)

    def spin() -> None:
        while not flag.get():
            pass

    def setter() -> None:
        interleave.point("think")
        flag.set(True)

    return interleave.Scenario(threads={"spinner": spin, "setter": setter})


def _bank_transfer() -> Callable[[], object]:
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "examples"))
    try:
        import bank_transfer  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(root / "examples"))
    return bank_transfer.unlocked  # type: ignore[no-any-return]


def _first_id(factory: Callable[[], object], **options: object) -> str:
    result = interleave.explore(factory, **options)  # type: ignore[arg-type]
    if not result.findings:
        raise RuntimeError(f"{factory} should have a finding")
    return result.findings[0].schedule_id


def sample_ids(quick: bool = False) -> list[tuple[str, str]]:
    """(what, ID) of real findings, short to long (quick: without the longest)."""
    ids = [
        ("README lost update", _first_id(_lost_update)),
        ("bank transfer example", _first_id(_bank_transfer())),
        (
            "200 steps, non-preemptive",
            _first_id(_locked_increments(25), max_schedules=1, minimise=False),
        ),
        (
            "200 steps, random (seed 1)",
            _first_id(
                _locked_increments(25),
                strategy="random",
                seed=1,
                max_schedules=1,
                minimise=False,
            ),
        ),
        ("2,001-step spin (max_steps=2,000)", _first_id(_spinner, max_steps=2_000)),
    ]
    if not quick:
        ids.append(("50,001-step spin (max_steps=50,000)", _first_id(_spinner, max_steps=50_000)))
    return ids


def _v1_encode(schedule: Schedule) -> str:
    """What interleave wrote before format 2, for the same schedule."""
    body = bytearray()
    for value in (schedule.steps, *_runs(schedule.choices)):
        while True:
            byte = value & 0x7F
            value >>= 7
            body.append(byte | 0x80 if value else byte)
            if not value:
                break
    packed = zlib.compress(bytes(body), 9)
    payload = b"\x01" + packed if len(packed) < len(body) else b"\x00" + bytes(body)
    return "1-" + base64.urlsafe_b64encode(payload).decode("ascii").rstrip("=")


def _runs(choices: tuple[int, ...]) -> Iterator[int]:
    i = 0
    while i < len(choices):
        j = i + 1
        while j < len(choices) and choices[j] == choices[i]:
            j += 1
        yield choices[i]
        yield j - i
        i = j


def _v2(body: bytes, head: int = 0x30) -> str:
    """A format-2 ID with a valid checksum around ``body`` (crafted inputs)."""
    zeros = -(1 + len(body) + 2) % 3
    data = bytes([(head & 0x3F) | (zeros + 1) << 6]) + body + bytes(zeros)
    raw = data + binascii.crc_hqx(data, 0xFFFF).to_bytes(2, "big")
    return "2-" + base64.urlsafe_b64encode(raw).decode()


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def _varints(*values: int) -> bytes:
    out = bytearray()
    for value in values:
        while True:
            byte = value & 0x7F
            value >>= 7
            out.append(byte | 0x80 if value else byte)
            if not value:
                break
    return bytes(out)


def known_bad() -> list[str]:
    """The IDs issue 10 quotes, and others of their kind."""
    return [
        "1-AAYAgICAgAE",  # 11 s and 4 GB before format 2
        _v1_encode(Schedule(choices=(0, 1, 1, 0), steps=50_000_000)),  # 50 million steps
        "01-AAQAAQEB",
        "\u0661-AAQAAQEB",  # an Arabic-Indic digit one
        "\u00b2-AAQAAQEB",
        "9" * 5_000 + "-AAQAAQEB",
        "2-" + "A" * 1_000_000,
        "1-" + "_" * 100_001,
    ]


def crafted() -> list[str]:
    """IDs made by hand to reach every cap, around which the checksum is computed: deflate
    bombs, the most steps, choices and wide thread indices, the longest format-1 payloads."""
    steps = 1 << 20
    choices = 1 << 18
    return [
        _v2(_deflate(_varints(steps, 0) + bytes(8 << 20))),  # inflates past the cap
        _v2(_deflate(_varints(steps, 0) + bytes(steps))),  # a million codes
        _v2(_deflate(_varints(steps, 2 * choices) + bytes(choices) + bytes(steps))),
        _v2(_deflate(_varints(steps, 2 * (1 << 16) + 1) + b"\x01\x01" * (1 << 16))),
        _v2(_deflate(_varints(steps, 2 * (1 << 16) + 1) + bytes(2 << 16) + bytes(steps))),
        "1-" + base64.urlsafe_b64encode(b"\x01" + zlib.compress(bytes(5_000_000))).decode(),
        "1-"
        + base64.urlsafe_b64encode(
            b"\x01" + zlib.compress(_varints(1 << 20) + _varints(0, 1, 1, 1) * 1_000)
        ).decode(),
        "1-"
        + base64.urlsafe_b64encode(b"\x00" + _varints(1 << 20) + _varints(0, 1, 1, 1) * 20_000)
        .decode()
        .rstrip("="),
    ]


def _edits(text: str, rng: random.Random, count: int) -> Iterator[str]:
    alphabet = BASE64URL + TRICKY
    for _ in range(count):
        kind = rng.randrange(5)
        i = rng.randrange(len(text))
        c = rng.choice(alphabet)
        if kind == 0:
            yield text[:i] + c + text[i + 1 :]
        elif kind == 1:
            yield text[:i] + c + text[i:]
        elif kind == 2:
            yield text[:i] + text[i + 1 :]
        elif kind == 3:
            yield text[:i] + text[i + 1 : i + 2] + text[i] + text[i + 2 :]
        else:
            yield text[:i]


def families(total: int, seeds: list[str]) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """The fuzzed strings by family (deterministic), and the valid IDs whose edits are in
    them (``seeds`` and random ones)."""
    rng = random.Random(20_240_610)
    per = total // 5

    def text() -> str:
        pool = rng.choice([BASE64URL, TRICKY, BASE64URL + TRICKY, string.printable])
        return "".join(rng.choice(pool) for _ in range(rng.randrange(0, 40)))

    def raw() -> str:
        data = rng.randbytes(rng.randrange(0, 40))
        return data.decode(rng.choice(["latin-1", "utf-8"]), "surrogateescape")

    prefixes = ["1-", "2-", "3-", "0-", "01-", "\u0661-", "", "2", "-"]

    def payload(longest: int = 64) -> str:
        size = rng.choice([rng.randrange(0, 12), rng.randrange(0, longest)])
        return rng.choice(prefixes) + "".join(rng.choice(BASE64URL) for _ in range(size))

    random_ids = []
    for _ in range(20):
        steps = rng.randrange(1, 300)
        choices = tuple(rng.randrange(3) for _ in range(rng.randrange(0, steps)))
        codes = bytes(rng.choice([0x0A, 0x1A, 0x3F, 0x4F]) for _ in range(steps))
        random_ids.append(encode(Schedule(choices=choices, steps=steps, codes=codes)))
    valid = [*seeds, *random_ids]
    edits = [e for sid in valid for e in _edits(sid, rng, per // len(valid) + 1)][:per]
    return [
        ("random text", [text() for _ in range(per)]),
        ("random bytes as text", [raw() for _ in range(per)]),
        ("base64url payloads", [payload() for _ in range(per)]),
        ("edits of valid IDs", edits),
        ("long random payloads", [payload(2_000) for _ in range(total - 4 * per)]),
    ], valid


# ---------------------------------------------------------------------------- measuring


@dataclass
class Row:
    family: str
    strings: int = 0
    decoded: int = 0
    invalid: int = 0
    other: int = 0
    wrong: int = 0
    worst_seconds: float = 0.0
    worst_bytes: int = 0
    worst_string: str = ""


def _time(text: str) -> float:
    start = time.perf_counter()
    with contextlib.suppress(InvalidScheduleId):
        decode(text)
    return time.perf_counter() - start


def fuzz(total: int, seeds: list[str]) -> list[Row]:
    """Decode every string; count outcomes; find the slowest and the most allocating."""
    fuzzed, valid = families(total, seeds)
    originals = {sid: decode(sid) for sid in valid}
    rows = []
    extra = [("issue 10's IDs", known_bad()), (CRAFTED, crafted())]
    for family, texts in [*fuzzed, *extra]:
        row = Row(family, strings=len(texts))
        timed: list[tuple[float, str]] = []
        for text in texts:
            start = time.perf_counter()
            try:
                schedule = decode(text)
            except InvalidScheduleId:
                row.invalid += 1
            except Exception as exc:  # what must never happen
                row.other += 1
                print(f"  {type(exc).__name__} for {text[:60]!r}: {exc}")
            else:
                row.decoded += 1
                # A mutation of a format-2 ID must never decode to another schedule.
                for sid, original in originals.items():
                    if (
                        sid.startswith("2-")
                        and abs(len(text.strip()) - len(sid)) <= 1
                        and _one_edit_apart(text.strip(), sid)
                        and schedule != original
                    ):
                        row.wrong += 1
            timed.append((time.perf_counter() - start, text))
        timed.sort(key=lambda pair: pair[0], reverse=True)
        for _, text in timed[:RETIME]:
            best = min(_time(text) for _ in range(REPEAT))
            if best > row.worst_seconds:
                row.worst_seconds, row.worst_string = best, text
        # Allocation in a second pass: tracemalloc slows every allocation down.
        tracemalloc.start()
        try:
            row.worst_bytes = max(_peak(text) for text in texts)
        finally:
            tracemalloc.stop()
        rows.append(row)
    return rows


def _one_edit_apart(a: str, b: str) -> bool:
    if a == b:
        return True
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


def _peak(text: str) -> int:
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    with contextlib.suppress(Exception):
        decode(text)
    return tracemalloc.get_traced_memory()[1] - base


def lengths(ids: list[tuple[str, str]]) -> list[list[str]]:
    """One row per sample ID: steps, choices recorded, format-1 and format-2 lengths."""
    rows = []
    for what, sid in ids:
        schedule = decode(sid)
        rows.append(
            [
                what,
                f"{schedule.steps:,}",
                f"{len(schedule.choices):,}",
                f"{len(_v1_encode(schedule)):,}",
                f"{len(sid):,}",
                sid if len(sid) <= 40 else sid[:37] + "...",
            ]
        )
    return rows


def main(quick: bool = False) -> None:
    """Fuzz the decoder and print both tables."""
    total = QUICK_STRINGS if quick else STRINGS
    mode = "quick (a smoke test, not a measurement)" if quick else "full"
    print(
        f"bench_schedule_ids: {total:,} arbitrary strings decoded as schedule IDs "
        f"(limits: {MAX_SECONDS * 1e3:.0f} ms, {MAX_BYTES / 1e6:.0f} MB), and ID lengths"
    )
    print(f"python {platform.python_version()}, interleave {interleave.__version__}; {mode}")
    ids = sample_ids(quick)
    rows = fuzz(total, [sid for _, sid in ids])
    table = [
        [
            r.family,
            f"{r.strings:,}",
            f"{r.decoded:,}",
            f"{r.invalid:,}",
            f"{r.other:,}",
            f"{r.wrong:,}",
            f"{r.worst_seconds * 1e3:.3f}",
            f"{r.worst_bytes / 1e3:,.0f}",
            repr(r.worst_string[:24]) + ("..." if len(r.worst_string) > 24 else ""),
        ]
        for r in rows
    ]
    fuzzed = [r for r in rows if r.family != CRAFTED]
    total_row = Row(
        "all but crafted",
        strings=sum(r.strings for r in fuzzed),
        decoded=sum(r.decoded for r in fuzzed),
        invalid=sum(r.invalid for r in fuzzed),
        other=sum(r.other for r in rows),
        wrong=sum(r.wrong for r in rows),
        worst_seconds=max(r.worst_seconds for r in fuzzed),
        worst_bytes=max(r.worst_bytes for r in fuzzed),
        worst_string=max(fuzzed, key=lambda r: r.worst_seconds).worst_string,
    )
    table.append(
        [
            total_row.family,
            f"{total_row.strings:,}",
            f"{total_row.decoded:,}",
            f"{total_row.invalid:,}",
            f"{total_row.other:,}",
            f"{total_row.wrong:,}",
            f"{total_row.worst_seconds * 1e3:.3f}",
            f"{total_row.worst_bytes / 1e3:,.0f}",
            "",
        ]
    )
    headers = [
        "family",
        "strings",
        "decoded",
        "InvalidScheduleId",
        "other exceptions",
        "edit -> other schedule",
        "worst ms",
        "worst peak KB",
        "slowest string",
    ]
    print(tabulate(table, headers=headers, disable_numparse=True))
    print()
    print("ID lengths (characters), format 1 (no checksum, options or codes) against format 2")
    print(
        tabulate(
            lengths(ids),
            headers=["schedule", "steps", "choices", "format 1", "format 2", "format-2 ID"],
            disable_numparse=True,
        )
    )
    if total_row.other or total_row.wrong:
        raise RuntimeError(
            f"{total_row.other} exception(s) other than InvalidScheduleId and "
            f"{total_row.wrong} edit(s) decoded to another schedule: both must be 0"
        )
    most = max(r.worst_bytes for r in rows)  # crafted IDs too
    if most > MAX_BYTES:
        raise RuntimeError(f"a decode allocated {most:,} bytes at its peak")
    if not quick and total_row.worst_seconds > MAX_SECONDS:
        raise RuntimeError(
            f"decoding {total_row.worst_string[:40]!r} took "
            f"{total_row.worst_seconds * 1e3:.1f} ms (best of {REPEAT})"
        )


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
