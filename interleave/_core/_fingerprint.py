"""Operation codes: a one-byte fingerprint of each step, the same in every process.

A schedule ID stores one code per step so that a replay which runs other operations than the
recorded execution stops at the first step that differs, instead of silently showing another
execution. A code is 4 bits of operation kind and 4 bits of a hash of the resource::

    code = kind << 4 | crc32(canonical text of the resource) & 0xF

The hash must not change between processes or machines, so it never uses ``hash()`` (salted
per process for strings) and it reads only what is deterministic in a resource: ``str``,
``int``, ``float``, ``bool``, ``None``, ``bytes``, enum members and tuples of them. Any other
object stands for its type's qualified name: a cache key may be a user object whose repr holds
a memory address. Memory addresses and module prefixes are removed from strings too (``item``
resources embed a key's repr, and one scenario file is ``__main__`` in a script, a private
module under the CLI and a test module under pytest).

Codes are computed only when an ID is encoded (executions with findings) and while a replay
runs, never on the exploration's hot path.
"""

from __future__ import annotations

import enum
import re
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import ScheduleDivergence
from ._ops import Operation

if TYPE_CHECKING:
    from ._views import ExecutionView

__all__ = ["KINDS", "StepVerifier", "describe_code", "op_code", "op_codes"]

#: Operation kinds with a code of their own, fixed for ID format 2: codes 0..11 in this order.
#: Any other kind gets 12..15 from a hash of its name.
KINDS = (
    "read",
    "write",
    "update",
    "acquire",
    "release",
    "wait",
    "wake",
    "notify",
    "spawn",
    "join",
    "yield",
    "error",
)
_KIND_CODES = {kind: code for code, kind in enumerate(KINDS)}

# Removed from strings before hashing: " at 0x7f3a…" and bare long hex numbers (addresses),
# and the dotted module path that starts a default repr (<__main__.Key object>).
_ADDRESS = re.compile(r" at 0x[0-9A-Fa-f]+|0x[0-9A-Fa-f]{6,}")
_REPR_MODULE = re.compile(r"(?<=<)(?:[A-Za-z_]\w*\.)+|(?<=<class ')(?:[A-Za-z_]\w*\.)+")

# resource -> its 4-bit hash. Bounded: a scenario may touch any number of cache keys.
_resource_codes: dict[object, int] = {}
_CACHE_SIZE = 4096


def kind_code(kind: str) -> int:
    """The 4-bit code of an operation kind."""
    code = _KIND_CODES.get(kind)
    if code is None:
        code = len(KINDS) + (zlib.crc32(kind.encode("utf-8", "surrogatepass")) & 3)
    return code


def _clean(text: str) -> str:
    if "0x" in text:
        text = _ADDRESS.sub("", text)
    if "<" in text:
        text = _REPR_MODULE.sub("", text)
    return text


def _canonical(value: object) -> str:
    kind = type(value)
    if kind is str:
        return repr(_clean(value))  # type: ignore[arg-type]
    if kind is int or kind is bool or kind is float or kind is bytes or value is None:
        return repr(value)
    if kind is tuple:
        return "(" + ",".join([_canonical(item) for item in value]) + ")"  # type: ignore[attr-defined]
    if isinstance(value, enum.Enum):
        return f"{kind.__qualname__}.{value.name}"
    # Anything else (a user object, a subclass of a builtin): its type only.
    return kind.__qualname__


def resource_code(resource: object) -> int:
    """The 4-bit hash of a resource (see the module docs)."""
    return zlib.crc32(_canonical(resource).encode("utf-8", "surrogatepass")) & 0xF


def op_code(op: Operation) -> int:
    """The one-byte code of an operation: kind (high 4 bits) and resource hash (low 4 bits)."""
    kind = _KIND_CODES.get(op.kind)
    if kind is None:
        kind = kind_code(op.kind)
    resource = op.resource
    try:
        code = _resource_codes.get(resource)
    except TypeError:  # an unhashable part in the resource
        return kind << 4 | resource_code(resource)
    if code is None:
        if len(_resource_codes) >= _CACHE_SIZE:
            _resource_codes.clear()
        code = _resource_codes[resource] = resource_code(resource)
    return kind << 4 | code


def op_codes(ops: Sequence[Operation]) -> bytes:
    """The codes of a sequence of operations, one byte each (encoded for every execution with
    a finding, so the common case is inlined)."""
    kinds, resources = _KIND_CODES, _resource_codes
    out = bytearray()
    append = out.append
    for op in ops:
        try:
            code = kinds[op.kind] << 4 | resources[op.resource]
        except (KeyError, TypeError):  # not seen yet, another kind, or unhashable
            code = op_code(op)
        append(code)
    return bytes(out)


def describe_code(code: int, actual: Operation | None = None) -> str:
    """What the recorded code says, for a divergence message: ``a read on another resource``."""
    kind = code >> 4
    name = KINDS[kind] if kind < len(KINDS) else None
    what = (
        f"{_article(name)} {name}" if name else "an operation of a kind interleave has no name for"
    )
    if actual is not None and name == actual.kind:
        return f"{what} on another resource"
    return what


def _article(word: str) -> str:
    return "an" if word[:1] in ("a", "e", "i", "o", "u") else "a"


class StepVerifier:
    """Checks, during a replay, that every step runs the operation the ID recorded.

    The schedule chooser calls :meth:`verify` before choosing each step, for the steps
    performed since the last call: by then each of those steps' threads has run on, so the
    runtime's record of the step (``runtime.ops``) is final.
    """

    def __init__(self, codes: bytes) -> None:
        self.codes = codes
        self.done = 0

    def verify(self, runtime: ExecutionView, upto: int) -> None:
        """Compare the recorded steps ``done .. upto - 1`` with the codes; raise at the first
        one that differs."""
        ops = runtime.ops
        codes = self.codes
        end = min(upto, len(ops), len(codes))
        for index in range(self.done, end):
            op = ops[index]
            code = codes[index]
            if op_code(op) != code:
                raise ScheduleDivergence(_diverged(runtime, index, op, code))
        self.done = max(self.done, end)


def _diverged(runtime: ExecutionView, index: int, op: Operation, code: int) -> str:
    tid = runtime.choices[index]
    name = runtime.threads[tid].name if tid < len(runtime.threads) else f"thread #{tid}"
    location = runtime.locations[index] if index < len(runtime.locations) else None
    where = f" at {location}" if location is not None else ""
    kind = f" ({_article(op.kind)} {op.kind})" if op.label and op.label != op.kind else ""
    return (
        f"replay diverged at step {index}: thread {name!r} ran {op.describe()}{kind}{where}, "
        f"but the recorded execution ran {describe_code(code, op)} there. The scenario "
        "changed since the ID was recorded, or it is not deterministic: it depends on time, "
        "randomness, hash order (set or dict iteration under another PYTHONHASHSEED) or "
        "state kept between executions"
    )
