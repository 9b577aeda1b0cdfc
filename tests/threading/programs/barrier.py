"""Workers meet at a ``threading.Barrier`` sized for every worker, but a worker with no work
returns early without reaching it, so the others wait forever."""

from __future__ import annotations

import threading


def run_phases(chunks: list[list[int]], *, fixed: bool) -> int:
    """Sum each chunk in its own thread; after the barrier, the leader adds the partials."""
    partial = [0] * len(chunks)
    total = [0]
    barrier = threading.Barrier(len(chunks))

    def worker(i: int) -> None:
        if not chunks[i] and not fixed:
            return  # the bug: leaves without meeting the others at the barrier
        partial[i] = sum(chunks[i])
        if barrier.wait() == 0:
            total[0] = sum(partial)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(chunks))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return total[0]
