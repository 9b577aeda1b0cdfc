"""Operation codes (the per-step fingerprint of an ID): fixed for format 2, the same in every
process and on every machine, blind to memory addresses and module names."""

from __future__ import annotations

import enum
import json
import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

from interleave._core._fingerprint import KINDS, describe_code, op_code, op_codes
from interleave._core._ops import Operation

RESOURCES: list[tuple[object, ...]] = [
    ("shared", "hits"),
    ("lock", "lock#1"),
    ("cache", "users", 42),
    ("cache", "users", "alice"),
    ("cache", "users", ("a", 1, 2.5, None, True, b"x")),
    ("attr", "HitCounter#1.count"),
    ("sqlite", "app.db", "accounts", 1),
    ("thread", "worker#2"),
    (),
]


def test_codes_are_fixed_for_format_2() -> None:
    # Changing any of these changes what format-2 IDs mean: bump the ID format instead.
    assert KINDS[:5] == ("read", "write", "update", "acquire", "release")
    assert len(KINDS) == 12
    assert [op_code(Operation(kind, ("shared", "hits"))) for kind in KINDS[:3]] == [
        0x0A,
        0x1A,
        0x2A,
    ]
    assert op_codes([Operation("acquire", ("lock", "lock#1"))]) == bytes([0x31])


CODES = """
import json
from interleave._core._fingerprint import op_code
from interleave._core._ops import Operation
resources = {resources}
print(json.dumps([op_code(Operation(kind, tuple(r))) for r in resources for kind in ("read", "x")]))
"""


def test_codes_are_the_same_under_every_pythonhashseed() -> None:
    resources = [list(r) for r in RESOURCES]
    here = [op_code(Operation(kind, r)) for r in RESOURCES for kind in ("read", "x")]
    script = CODES.format(resources=repr(resources))
    for seed in ("0", "1", "12345"):
        done = subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        assert json.loads(done.stdout) == here


class Key:
    """A user object as a cache key: its default repr holds an address."""


@dataclass(frozen=True)
class Point:
    x: int


class Color(enum.Enum):
    RED = 1
    BLUE = 2


def test_user_objects_count_by_their_type_only() -> None:
    assert op_code(Operation("read", ("cache", "c", Key()))) == op_code(
        Operation("read", ("cache", "c", Key()))
    )
    assert op_code(Operation("read", ("cache", "c", Point(1)))) == op_code(
        Operation("read", ("cache", "c", Point(2)))
    )


def test_enum_members_count_by_name() -> None:
    red, blue = (op_code(Operation("read", ("cache", "c", c))) for c in (Color.RED, Color.BLUE))
    assert red == op_code(Operation("read", ("cache", "c", Color.RED)))
    assert {red, blue} <= set(range(256))


@pytest.mark.parametrize(
    "other",
    [
        "Box#1[<_interleave_target_hits.Key object at 0x7f3a1b2c3d4e>]",
        "Box#1[<test_hits.Key object at 0x55d1e2f3a4b5>]",
        "Box#1[<Key object at 0xdeadbeef12>]",
    ],
)
def test_addresses_and_module_names_are_left_out_of_strings(other: str) -> None:
    # An ``item`` resource embeds the key's repr: one scenario file is __main__ in a script,
    # a private module under the CLI and a test module under pytest.
    script = Operation("read", ("item", "Box#1[<__main__.Key object at 0x7f0000000000>]"))

    assert op_code(script) == op_code(Operation("read", ("item", other)))


def test_an_unhashable_part_of_a_resource_is_no_error() -> None:
    op = Operation("write", ("cache", "c", ["a", "list"]))

    assert op_code(op) >> 4 == 1


def test_other_kinds_have_codes_of_their_own() -> None:
    code = op_code(Operation("timed-out", ("lock", "L")))

    assert code >> 4 >= 12
    assert describe_code(code) == "an operation of a kind interleave has no name for"


def test_describe_code_names_the_kind_and_whether_the_resource_differs() -> None:
    read_hits = op_code(Operation("read", ("shared", "hits")))

    assert describe_code(read_hits) == "a read"
    assert describe_code(0x3A) == "an acquire"
    assert describe_code(read_hits, Operation("read", ("shared", "x"))) == (
        "a read on another resource"
    )
    assert describe_code(read_hits, Operation("write", ("shared", "hits"))) == "a read"
