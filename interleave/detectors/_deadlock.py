"""Deadlock detection: the lock-wait graph of a stuck execution (networkx lives here only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._core._findings import Deadlock, Finding, Hold, WaitInfo
from .._core._observer import Observer

if TYPE_CHECKING:
    from .._core._threads import SimThread
    from .._core._views import ExecutionView

__all__ = ["DeadlockDetector", "build_wait_graph"]

#: Resources taken and released like locks (database locks included): a cycle through only
#: these is a lock-order deadlock.
_LOCK_KINDS = frozenset({"lock", "rlock", "sqlite"})


def build_wait_graph(waits: list[WaitInfo]) -> Any:
    """The lock-wait graph: thread -> resource it waits for -> thread holding it.

    Nodes are ``("thread", name)`` and ``("resource", description)`` tuples (so a thread and a
    resource with the same text never merge); each carries a ``label`` attribute.
    """
    import networkx as nx

    graph: nx.DiGraph[tuple[str, str]] = nx.DiGraph()
    for info in waits:
        t_node = ("thread", info.thread)
        r_node = ("resource", info.waits_for)
        graph.add_node(t_node, label=info.thread, kind="thread")
        graph.add_node(r_node, label=info.waits_for, kind="resource")
        graph.add_edge(t_node, r_node, relation="waits for")
        for hold in info.holders:
            h_node = ("thread", hold.thread)
            graph.add_node(h_node, label=hold.thread, kind="thread")
            graph.add_edge(r_node, h_node, relation="held by", step=hold.step)
    return graph


def _cycle(graph: Any) -> tuple[str, ...]:
    import networkx as nx

    # Start the search from the lowest thread in creation order (the graph keeps insertion
    # order), so the reported cycle is the same in every run.
    for node in list(graph.nodes):
        if node[0] != "thread":
            continue
        try:
            edges = nx.find_cycle(graph, source=node)
        except nx.NetworkXNoCycle:
            continue
        # A search that enters the cycle from outside (a thread waiting for a lock that is
        # part of it) may start it at a resource node; the cycle alternates thread, resource,
        # so rotate it to start at its earliest thread (callers read threads at even places).
        nodes = [u for u, _v in edges]
        order = {n: k for k, n in enumerate(graph.nodes)}
        start = min(
            (k for k, n in enumerate(nodes) if n[0] == "thread"), key=lambda k: order[nodes[k]]
        )
        return tuple(graph.nodes[u]["label"] for u in nodes[start:] + nodes[:start])
    return ()


class DeadlockDetector(Observer):
    """Reports a stuck execution: the cycle in the lock-wait graph, or every blocked thread."""

    def on_stuck(self, execution: ExecutionView, blocked: list[SimThread]) -> list[Finding]:
        # Where each blocked thread issued its blocking operation: the last step it was
        # chosen for is the step before it blocked; its pending location is the call site.
        waits: list[WaitInfo] = []
        for thread in blocked:
            wait = thread.wait
            if wait is None:
                continue
            waits.append(
                WaitInfo(
                    thread=thread.name,
                    waits_for=wait.describe(),
                    resource=wait.resource,
                    holders=tuple(wait.holders()),
                    location=thread.location,
                )
            )
        graph = build_wait_graph(waits)
        cycle = _cycle(graph)
        holds: dict[str, list[Hold]] = {}
        for info in waits:
            for hold in info.holders:
                holds.setdefault(hold.thread, []).append(hold)
        involved = tuple(name for name in cycle[::2]) if cycle else tuple(w.thread for w in waits)
        lines = []
        for info in waits:
            if cycle and info.thread not in involved:
                continue
            held = holds.get(info.thread, [])
            held_text = "".join(
                f"holds {h.resource}"
                + (f" (taken at step {h.step}" if h.step is not None else "")
                + (f", {h.location}" if h.location is not None else "")
                + (")" if h.step is not None else "")
                + " and "
                for h in held
                if h.step is not None or h.location is not None
            )
            where = f" at {info.location}" if info.location is not None else ""
            holders = ", ".join(sorted({h.thread for h in info.holders}))
            by = f", held by {holders}" if holders else ", which no thread will provide"
            lines.append(f"{info.thread} {held_text}waits for {info.waits_for}{where}{by}")
        if cycle:
            kinds = {w.resource[0] for w in waits if w.thread in involved and w.resource}
            # Locks taken in opposite orders are a lock-order deadlock; a cycle through
            # semaphore permits, a database lock or a join is a resource deadlock.
            what = "lock-order deadlock" if kinds <= _LOCK_KINDS else "resource deadlock"
            message = f"{what}: " + "; ".join(lines)
        else:
            message = "no thread can run (stuck without a lock cycle): " + "; ".join(lines)
        signature = (
            "deadlock",
            bool(cycle),
            tuple(
                sorted(
                    (str(w.location), w.resource[0] if w.resource else "")
                    for w in waits
                    if not cycle or w.thread in involved
                )
            ),
        )
        return [
            Deadlock(
                message=message,
                threads=involved,
                steps=(),
                cycle=cycle,
                waits=tuple(waits),
                graph=graph,
                signature=signature,
            )
        ]
