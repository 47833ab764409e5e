"""The exit's open edges, by circuit and stream id.

An edge leaves the table as soon as it is finished (its END went out or the client's
END came in), so a long-lived directory circuit that carries thousands of BEGIN_DIR
streams holds only the ones still open; closing a circuit touches only its own edges.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

E = TypeVar("E")


class StreamTable(Generic[E]):
    """Edges keyed by (circuit gid, stream id), indexed by circuit."""

    def __init__(self) -> None:
        self._edges: dict[tuple[int, int], E] = {}
        self._by_circuit: dict[int, set[int]] = {}

    def __len__(self) -> int:
        return len(self._edges)

    def add(self, gid: int, stream_id: int, edge: E) -> None:
        """Register an open edge."""
        self._edges[(gid, stream_id)] = edge
        self._by_circuit.setdefault(gid, set()).add(stream_id)

    def get(self, gid: int, stream_id: int) -> E | None:
        """The edge, if it is still open."""
        return self._edges.get((gid, stream_id))

    def pop(self, gid: int, stream_id: int) -> E | None:
        """Remove and return the edge (None if it was gone)."""
        edge = self._edges.pop((gid, stream_id), None)
        ids = self._by_circuit.get(gid)
        if ids is not None:
            ids.discard(stream_id)
            if not ids:
                del self._by_circuit[gid]
        return edge

    def of_circuit(self, gid: int) -> list[E]:
        """The circuit's open edges."""
        return [self._edges[(gid, sid)] for sid in sorted(self._by_circuit.get(gid, ()))]

    def pop_circuit(self, gid: int) -> list[E]:
        """Remove and return the circuit's open edges."""
        ids = self._by_circuit.pop(gid, set())
        return [e for e in (self._edges.pop((gid, sid), None) for sid in sorted(ids))
                if e is not None]

    def items(self) -> Iterator[tuple[tuple[int, int], E]]:
        """(gid, stream id) and edge of every open edge."""
        return iter(list(self._edges.items()))
