"""Sources for the connection registry (:mod:`zwiebel.managers.conntrack`): the relay's
OR connections, its exit and directory streams, and the client's channels.

Each source reads counters the objects keep anyway (``bytes_read``/``bytes_written``
on OR connections, channels and exit edges) when a controller asks, so nothing is
reported per byte. Keys: ``("or", n)`` for the relay's OR connections (n is the
``OrConnection.conn_id``), ``("chan", n)`` for the client's channels
(``Channel.conn_id``), ``("edge", circuit, stream)`` for exit and directory streams.
Circuit ids are the relay's global circuit numbers (the ``id`` of
``RelayCircuits.statistics()``), also used by CIRC_ID.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Protocol, cast

from zwiebel.control.conninfo import Usage
from zwiebel.features.relay.circuits import RelayCircuits
from zwiebel.features.relay.edges import DirStream, ExitStream
from zwiebel.features.relay.exit import ExitHandler
from zwiebel.managers.channels import ChannelManager
from zwiebel.managers.conntrack import ConnSample
from zwiebel.runtime.orconn import OrConnection


class RelayParts(Protocol):
    """What the relay feature exposes: its circuits and its exit (None until started)."""

    circuits: RelayCircuits | None
    exit: ExitHandler | None


class EdgeLike(Protocol):
    """The counters every exit-side stream keeps."""

    opened_at: float
    bytes_read: int
    bytes_written: int


class CircuitMap:
    """Which circuits use which OR connection, from one ``statistics()`` snapshot."""

    def __init__(self, circuits: RelayCircuits) -> None:
        self.by_conn: dict[int, list[int]] = {}
        self.prev_conn: dict[int, int] = {}
        entries = cast(list[dict[str, int | None]], circuits.statistics()["circuits"])
        for stats in entries:
            gid, prev, nxt = stats["id"], stats["prev_conn"], stats["next_conn"]
            assert gid is not None and prev is not None
            self.prev_conn[gid] = prev
            self.by_conn.setdefault(prev, []).append(gid)
            if nxt is not None:
                self.by_conn.setdefault(nxt, []).append(gid)


def relay_samples(parts: RelayParts, now: float) -> Iterator[ConnSample]:
    """The relay's OR connections, then its exit and directory streams."""
    circuits = parts.circuits
    if circuits is None:
        return
    cmap = CircuitMap(circuits)
    for conn in list(circuits.connections.values()):
        yield or_sample(conn, cmap, now)
    if parts.exit is not None:
        for (gid, stream_id), edge in list(parts.exit.streams.items()):
            if not edge.done:
                yield edge_sample(edge, gid, stream_id, cmap.prev_conn.get(gid))


def or_sample(conn: OrConnection, cmap: CircuitMap, now: float) -> ConnSample:
    """An OR connection: inside Tor unless an unauthenticated client connected to us."""
    return ConnSample(
        key=("or", conn.conn_id), usage=Usage.RELAY, inbound=not conn.outbound,
        address=conn.peer_host, port=conn.peer_port,
        opened_at=conn.opened_at if conn.opened_at is not None else now,
        local_port=conn.local_port, in_tor=conn.outbound or not conn.is_client,
        established=conn.is_open(), circ_ids=tuple(sorted(cmap.by_conn.get(conn.conn_id, ()))),
        or_key=("or", conn.conn_id), read=conn.bytes_read, written=conn.bytes_written)


def edge_sample(edge: EdgeLike, gid: int, stream_id: int, or_conn: int | None) -> ConnSample:
    """An exit connection (outbound, outside Tor) or a BEGIN_DIR stream (inside)."""
    or_key = ("or", or_conn) if or_conn is not None else None
    if isinstance(edge, DirStream):
        return ConnSample(("edge", gid, stream_id), Usage.DIRECTORY, True, "0", 0,
                          edge.opened_at, in_tor=True, circ_ids=(gid,), or_key=or_key,
                          read=edge.bytes_read, written=edge.bytes_written)
    transport = edge.transport if isinstance(edge, ExitStream) else None
    peer, local = _endpoints(transport)
    return ConnSample(("edge", gid, stream_id), Usage.EXIT, False, peer[0], peer[1],
                      edge.opened_at, local_port=local, in_tor=False,
                      established=transport is not None, circ_ids=(gid,), or_key=or_key,
                      read=edge.bytes_read, written=edge.bytes_written)


def _endpoints(transport: asyncio.Transport | None) -> tuple[tuple[str, int], int]:
    if transport is None:
        return ("0", 0), 0
    peer = transport.get_extra_info("peername") or ("0", 0)
    local = transport.get_extra_info("sockname") or ("0", 0)
    return (str(peer[0]), int(peer[1])), int(local[1])


def channel_samples(channels: ChannelManager) -> Iterator[ConnSample]:
    """The client's own channels to relays: outbound, client usage, inside Tor."""
    for channel in channels.channels():
        yield ConnSample(
            key=("chan", channel.conn_id), usage=Usage.CLIENT, inbound=False,
            address=channel.host, port=channel.port, opened_at=channel.opened_at,
            local_port=channel.local_port, in_tor=True, established=channel.is_open(),
            or_key=("chan", channel.conn_id), read=channel.bytes_read,
            written=channel.bytes_written)
