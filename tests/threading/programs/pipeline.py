"""Producer/consumer on ``queue.Queue``: the consumer forgets ``task_done()`` for the stop
sentinel, so the producer's ``queue.join()`` never returns."""

from __future__ import annotations

import queue
import threading

STOP = None


def consumer(q: queue.Queue[object], out: list[object], *, fixed: bool) -> None:
    while True:
        item = q.get()
        if item is STOP:
            if fixed:
                q.task_done()
            return  # the bug: no task_done() for the sentinel
        out.append(item)
        q.task_done()


def produce(items: list[object], *, fixed: bool) -> list[object]:
    """Feed ``items`` to a consumer thread through a bounded queue and wait for them."""
    q: queue.Queue[object] = queue.Queue(maxsize=1)
    out: list[object] = []
    worker = threading.Thread(target=consumer, args=(q, out), kwargs={"fixed": fixed})
    worker.start()
    for item in items:
        q.put(item)
    q.put(STOP)
    q.join()  # waits until every item, the sentinel included, was marked done
    worker.join()
    return out
