"""Lost-update detection: read, another thread's write, then a write based on the stale read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from .._core._findings import Finding, LostUpdate
from .._core._memo import MISSING, Rewindable
from .._core._ops import Kind, Location, Operation, Resource, describe_resource

if TYPE_CHECKING:
    from .._core._threads import SimThread
    from .._core._views import ExecutionView

__all__ = ["LostUpdateDetector"]

_READ: Final = Kind.READ
_WRITE: Final = Kind.WRITE
_UPDATE: Final = Kind.UPDATE


class LostUpdateDetector(Rewindable):
    """Thread T read R, another thread wrote R after that read, then T wrote R (no re-read).

    Atomic ``update`` operations count as writes by others but never as T's stale write, so
    atomic counters and correctly locked read-modify-writes are never reported. A write to a
    resource prefix (``cache.clear()`` writes ``("cache", name)``) counts as a write of every
    key under it.
    """

    __slots__ = ("_last_write", "_lost", "_reads")

    def __init__(self) -> None:
        super().__init__()
        # Per (thread, resource): the step (and line) of the thread's latest read not yet
        # written back.
        self._reads: dict[tuple[int, Resource], tuple[int, Location | None]] = {}
        # Per resource: (step, thread, line) of its latest write.
        self._last_write: dict[Resource, tuple[int, int, Location | None]] = {}
        # (resource, read, other thread's write, stale write) steps and the finding's
        # signature (their lines), reported at the end. The signature is made when the lost
        # update is found, once: carried across executions (see _core/_memo.py), the entry
        # is reported at the end of every execution that repeats its steps.
        self._lost: list[tuple[Resource, int, int, int, tuple[object, ...]]] = []

    def on_step(self, index: int, thread: SimThread, op: Operation) -> None:
        # Called at every step: the kinds are module constants (reading ``Kind.READ`` off the
        # enum class costs more than the rest of this hook), and a write with no read
        # outstanding anywhere skips the lookup of its read. Every change is logged with the
        # old value first (see Rewindable).
        undo = self._undo
        self._marks.append(len(undo))
        kind = op.kind
        if kind == _READ:
            reads = self._reads
            key = (thread.tid, op.resource)
            undo.append((reads, key, reads.get(key, MISSING)))
            reads[key] = (index, thread.location)
        elif kind in (_WRITE, _UPDATE):
            resource = op.resource
            reads = self._reads
            read = reads.pop(key := (thread.tid, resource), None) if reads else None
            if read is not None:
                undo.append((reads, key, read))
                if kind == _WRITE:
                    other = self._other_write_after(resource, read[0], thread.tid)
                    if other is not None:
                        lost = self._lost
                        undo.append((lost, len(lost), MISSING))
                        signature = (
                            "lost-update",
                            resource,
                            str(read[1]),
                            str(other[2]),
                            str(thread.location),
                        )
                        lost.append((resource, read[0], other[0], index, signature))
            last = self._last_write
            undo.append((last, resource, last.get(resource, MISSING)))
            last[resource] = (index, thread.tid, thread.location)

    def _other_write_after(
        self, resource: Resource, read: int, tid: int
    ) -> tuple[int, int, Location | None] | None:
        """The latest write (step, thread, line) of ``resource`` (or of a prefix of it: a
        whole-cache clear) by another thread after step ``read``, if any."""
        best: tuple[int, int, Location | None] | None = None
        last = self._last_write
        # Look at the resource and each prefix of it longer than its kind: ("cache", "c", 1),
        # then ("cache", "c"); a bare kind ("cache",) names no object.
        for k in range(len(resource), 1, -1):
            entry = last.get(resource if k == len(resource) else resource[:k])
            if (
                entry is not None
                and entry[0] > read
                and entry[1] != tid
                and (best is None or entry[0] > best[0])
            ):
                best = entry
        return best

    def on_finish(self, execution: ExecutionView) -> list[Finding]:
        if not self._lost:
            return []  # the common case, at the end of every execution
        findings: list[Finding] = []
        seen: set[tuple[object, ...]] = set()
        names = [t.name for t in execution.threads]
        choices, locs = execution.choices, execution.locations
        known = execution.known

        def at(step: int) -> str:
            loc = locs[step]
            return f"step {step}" + (f" ({loc})" if loc is not None else "")

        # Findings are made at the end, when the names of the threads are known; one per
        # distinct (resource, read, other write, stale write) lines.
        for resource, read, other, write, signature in self._lost:
            if signature in seen:
                continue
            seen.add(signature)
            kept = known.get((LostUpdate.kind, *signature)) if known else None
            if kept is not None:
                findings.append(kept)  # the explorer only counts it (ExecutionView.known)
                continue
            loser, winner = names[choices[read]], names[choices[other]]
            what = describe_resource(resource)
            findings.append(
                LostUpdate(
                    message=(
                        f"{loser} read {what} at {at(read)}, {winner} wrote it at {at(other)}, "
                        f"then {loser} wrote it at {at(write)} without reading it again: "
                        f"{winner}'s update is lost"
                    ),
                    threads=(loser, winner),
                    steps=(read, other, write),
                    resource=resource,
                    read_step=read,
                    other_write_step=other,
                    write_step=write,
                    signature=signature,
                )
            )
        return findings
