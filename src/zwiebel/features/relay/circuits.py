"""The relay's circuit table: cells from OR connections to `RelayCircuit`s and back.

`RelayCircuits` is the `CellHandler` of every OR connection (tor's command.c dispatch).
It answers CREATE_FAST/CREATE2 (`proto.relay_create`), keeps each circuit under its
(connection, circuit ID) on both sides, writes the cells the circuits queue, opens or
reuses channels for EXTEND2 (`ChannelPool`), and hands stream events to the edge handler
(the exit, `features.relay.exit`).

Hot path: a connection hands over all the cells of one read (`cells_received`); a run of
consecutive RELAY cells from the next hop of one circuit (the bulk of a download) is
relayed toward the client in one piece: one AES call for the run
(`RelayCircuit.relay_backward_run`) and one append to the previous connection's output
(`OrConnection.send_cell_run`). Every other cell goes through `cell_received` one by one.
At the exit, the DATA cells one pump of a stream packages are sealed with one AES call and
appended in one piece too (`CircuitHandle.send_data_run`).

Rules from tor 0.4.9 (`command.c`, `circuitbuild_relay.c`): a create cell with circuit ID
0 or an ID already in use is dropped; creates are refused with DESTROY when hibernating
(HIBERNATING) or when the circuit ID's high bit is the wrong one for the channel's
direction (PROTOCOL), and taken on channels either side opened; an
extension is only made over an authenticated (non-client) channel, reused when one to the
same identity is open; extending to ourselves, or to a private address unless
`allow_private_extend` (tor's ExtendAllowPrivateAddresses), fails with CONNECTFAILED.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Protocol

from zwiebel.cells.circuit import Destroy, DestroyReason
from zwiebel.cells.framing import MIN_WIDE_CIRCID_VERSION, ChannelCommand, RawCell
from zwiebel.encoding import b16
from zwiebel.features.relay.circuit_entry import CircuitEntry, CircuitHandle
from zwiebel.proto.cc_window import CongestionWindow
from zwiebel.proto.congestion import CcParams, CcPath, CongestionControl, cc_enabled
from zwiebel.proto.relay_circuit import (
    CircuitClosed,
    ExtendRequested,
    NextHopReleased,
    RelayCircuit,
    RelayCircuitEvent,
    Side,
)
from zwiebel.proto.relay_create import CREATE_COMMANDS, CreateRefused, OnionKeys, answer_create
from zwiebel.proto.relay_streams import StreamEvent
from zwiebel.runtime.clock import monotonic, monotonic_usec, rng
from zwiebel.runtime.orconn import OrConnection, OrIdentity
from zwiebel.runtime.orport import connect_relay

log = logging.getLogger("zwiebel")
_PREV = Side.PREV
_RELAY = int(ChannelCommand.RELAY)
_IGNORED = frozenset({ChannelCommand.PADDING, ChannelCommand.VPADDING,
                      ChannelCommand.PADDING_NEGOTIATE, ChannelCommand.NETINFO,
                      ChannelCommand.VERSIONS, ChannelCommand.AUTHORIZE})


class EdgeHandler(Protocol):
    """Who serves the streams of circuits that end here."""

    def on_stream_event(self, circuit: CircuitHandle, event: StreamEvent) -> None:
        """A BEGIN/BEGIN_DIR/RESOLVE/DATA/END/SENDME for a stream."""

    def on_circuit_closed(self, circuit: CircuitHandle) -> None:
        """Drop every stream of the circuit (no END is sent)."""


class ChannelPool:
    """Authenticated channels to other relays, by RSA identity; one connect at a time each."""

    def __init__(self, identity: OrIdentity, handler: RelayCircuits,
                 bind_address: str | None = None) -> None:
        self._identity = identity
        self._handler = handler
        self._bind = bind_address
        self._pending: dict[bytes, asyncio.Future[OrConnection]] = {}

    async def get(self, rsa_id: bytes, ed_id: bytes | None, host: str, port: int
                  ) -> OrConnection:
        """An open channel to the relay with these identities, reused when possible."""
        for conn in self._handler.connections.values():
            if (conn.is_open() and not conn.is_client and conn.peer_rsa_id == rsa_id
                    and (ed_id is None or conn.peer_ed25519_id == ed_id)):
                return conn
        pending = self._pending.get(rsa_id)
        if pending is not None:
            return await asyncio.shield(pending)
        fut: asyncio.Future[OrConnection] = asyncio.get_running_loop().create_future()
        self._pending[rsa_id] = fut
        try:
            local = (self._bind, 0) if self._bind else None
            conn = await connect_relay(host, port, self._identity, self._handler, rsa_id,
                                       ed_id, local_addr=local)
            fut.set_result(conn)
            return conn
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()
            raise
        finally:
            del self._pending[rsa_id]


class RelayCircuits:
    """All circuits through this relay; the `CellHandler` of every OR connection."""

    def __init__(self, identity: OrIdentity, onion_keys: Callable[[], OnionKeys], *,
                 edge: EdgeHandler | None = None, allow_private_extend: bool = False,
                 hibernating: Callable[[], bool] = lambda: False,
                 bind_address: str | None = None,
                 consensus_params: Callable[[], Mapping[str, int] | None] = lambda: None
                 ) -> None:
        self.identity = identity
        self.onion_keys = onion_keys
        #: The current consensus's parameters (None before there is one: tor's defaults).
        self.consensus_params = consensus_params
        self.edge = edge
        self.allow_private_extend = allow_private_extend
        self.hibernating = hibernating
        self.connections: dict[int, OrConnection] = {}
        #: Bytes read and written by connections that have closed (info/relay/*-total).
        self.closed_bytes = (0, 0)
        self.pool = ChannelPool(identity, self, bind_address)
        self._circuits: dict[tuple[int, int], CircuitEntry] = {}
        self._next_gid = 1
        self._tasks: set[asyncio.Task[None]] = set()
        self.created_total = 0
        self.refused_total = 0
        self.handshakes: dict[str, int] = {}
        #: Circuits that negotiated proposal-324 congestion control.
        self.congestion_controlled = 0

    # -- CellHandler -------------------------------------------------------------------
    def channel_opened(self, conn: OrConnection) -> None:
        """Track the connection."""
        self.connections[conn.conn_id] = conn
        log.info("OR connection %d open: %s (%s)", conn.conn_id, conn.describe(),
                 "client" if conn.is_client else "relay")

    def channel_closed(self, conn: OrConnection, reason: str) -> None:
        """Close every circuit that used the connection."""
        self.connections.pop(conn.conn_id, None)
        self.closed_bytes = (self.closed_bytes[0] + conn.bytes_read,
                             self.closed_bytes[1] + conn.bytes_written)
        for key, entry in list(self._circuits.items()):
            if key[0] == conn.conn_id:
                side = Side.PREV if entry.prev is conn else Side.NEXT
                self._after(entry, entry.circ.channel_closed(side))

    def cells_received(self, conn: OrConnection, cells: list[RawCell]) -> None:
        """Dispatch the cells of one read in order. A run of RELAY cells from the next hop
        of one circuit is relayed toward the client in one piece (one AES call, one
        append to the previous channel's output)."""
        index, count = 0, len(cells)
        while index < count:
            circ_id, command, payload = cells[index]
            if command == _RELAY:
                entry = self._circuits.get((conn.conn_id, circ_id))
                if entry is not None and entry.next is conn and entry.next_id == circ_id:
                    end = index + 1
                    while end < count and cells[end][0] == circ_id and cells[end][1] == _RELAY:
                        end += 1
                    if self._relay_back(entry, [cell[2] for cell in cells[index:end]]):
                        index = end
                        continue
            self.cell_received(conn, circ_id, command, payload)
            index += 1

    def _relay_back(self, entry: CircuitEntry, bodies: list[bytes]) -> bool:
        run = entry.circ.relay_backward_run(bodies)
        if run is None:
            return False
        entry.prev.send_cell_run(entry.prev_id, _RELAY, run)
        return True

    def cell_received(self, conn: OrConnection, circ_id: int, command: int,
                      payload: bytes) -> None:
        """Dispatch one cell."""
        if command in CREATE_COMMANDS:
            self._on_create(conn, circ_id, command, payload)
            return
        entry = self._circuits.get((conn.conn_id, circ_id))
        if entry is None:
            if command not in _IGNORED and command != ChannelCommand.DESTROY:
                log.debug("cell %d for unknown circuit %d on %s", command, circ_id,
                          conn.describe())
            return
        if entry.prev is conn and entry.prev_id == circ_id:
            self._after(entry, entry.circ.from_prev(command, payload))
        else:
            self._after(entry, entry.circ.from_next(command, payload))

    # -- creating ------------------------------------------------------------------------
    def _on_create(self, conn: OrConnection, circ_id: int, command: int, payload: bytes) -> None:
        if circ_id == 0 or (conn.conn_id, circ_id) in self._circuits:
            log.info("create cell with circuit ID %d (zero or in use) from %s; dropped",
                     circ_id, conn.describe())
            return
        refusal = self._refusal(conn, circ_id)
        try:
            if refusal is not None:
                raise refusal
            cc_params = self._cc_params()
            answer = answer_create(command, payload, self.onion_keys(), rng,
                                   cc_params.cc_sendme_inc if cc_params is not None else None)
        except CreateRefused as exc:
            self.refused_total += 1
            log.info("Refusing create cell from %s: %s", conn.describe(), exc)
            conn.send_cell(circ_id, ChannelCommand.DESTROY, Destroy(exc.reason).encode())
            return
        congestion = None
        if answer.sendme_inc is not None and cc_params is not None:
            self.congestion_controlled += 1
            congestion = CongestionWindow(
                CongestionControl(cc_params, answer.sendme_inc, CcPath.EXIT), monotonic_usec,
                blocked=lambda: not conn.writable.is_set())
        circ = RelayCircuit(answer.keys, rng, client_channel=conn.is_client,
                            congestion=congestion)
        entry = CircuitEntry(circ, self._next_gid, conn, circ_id, monotonic())
        if congestion is not None:
            log.info("Circuit %d from %s negotiated congestion control (cc_sendme_inc %d)",
                     entry.gid, conn.describe(), congestion.cc.sendme_inc)
        entry.handle = CircuitHandle(self, entry)
        self._next_gid += 1
        self.created_total += 1
        self.handshakes[answer.handshake] = self.handshakes.get(answer.handshake, 0) + 1
        self._circuits[(conn.conn_id, circ_id)] = entry
        conn.circ_ids.add(circ_id)
        conn.send_cell(circ_id, answer.command, answer.payload)

    def _cc_params(self) -> CcParams | None:
        """Congestion-control parameters if the consensus enables it (tor's
        `congestion_control_enabled`; without a consensus its defaults, which do)."""
        params = self.consensus_params() or {}
        return CcParams.from_consensus(params) if cc_enabled(params) else None

    def _refusal(self, conn: OrConnection, circ_id: int) -> CreateRefused | None:
        """tor's command_process_create_cell: a public relay takes creates on channels it
        opened too (the peer extends over the channel between the two relays, whoever
        opened it), but the circuit ID must carry the opener's high bit the other way
        round (tor-spec 5.1.1: the initiator of a channel sets it, the responder not)."""
        if self.hibernating():
            return CreateRefused(DestroyReason.HIBERNATING, "we are hibernating")
        if conn.link_version >= MIN_WIDE_CIRCID_VERSION \
                and bool(circ_id & 0x80000000) == conn.outbound:
            return CreateRefused(DestroyReason.PROTOCOL,
                                 f"create cell with unexpected circuit ID {circ_id:#x}")
        return None

    # -- events ------------------------------------------------------------------------------
    def flush(self, entry: CircuitEntry) -> None:
        """Queue the cells the circuit produced on their channels (which write them once
        per event-loop iteration, `OrConnection.send_cell`)."""
        for side, command, payload in entry.circ.cells_to_send():
            if side is _PREV:
                entry.prev.send_cell(entry.prev_id, command, payload)
            elif entry.next is not None:
                entry.next.send_cell(entry.next_id, command, payload)

    def _after(self, entry: CircuitEntry, events: list[RelayCircuitEvent]) -> None:
        self.flush(entry)
        if not events:
            return
        for event in events:
            if isinstance(event, ExtendRequested):
                self._spawn(self._extend(entry, event))
            elif isinstance(event, NextHopReleased):
                self._release_next(entry)
            elif isinstance(event, CircuitClosed):
                self._closed(entry, event)
            elif self.edge is not None and entry.handle is not None:
                self.edge.on_stream_event(entry.handle, event)

    def _closed(self, entry: CircuitEntry, event: CircuitClosed) -> None:
        log.info("Circuit %d closed (%s): %s", entry.gid, _reason(event.reason), event.message)
        self._circuits.pop((entry.prev.conn_id, entry.prev_id), None)
        entry.prev.circ_ids.discard(entry.prev_id)
        self._release_next(entry)
        if self.edge is not None and entry.handle is not None:
            self.edge.on_circuit_closed(entry.handle)

    def _release_next(self, entry: CircuitEntry) -> None:
        if entry.next is not None:
            self._circuits.pop((entry.next.conn_id, entry.next_id), None)
            entry.next.circ_ids.discard(entry.next_id)
            entry.next, entry.next_id = None, 0

    def _spawn(self, coro: Coroutine[object, object, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _extend(self, entry: CircuitEntry, req: ExtendRequested) -> None:
        target = req.ipv4 or req.ipv6
        assert target is not None
        host, port = str(target.address), target.port
        problem = self._extend_problem(entry, req, target.address)
        if problem is None:
            try:
                conn = await self.pool.get(req.rsa_id, req.ed25519_id, host, port)
            except (OSError, TimeoutError, ConnectionError) as exc:
                problem = f"could not connect to ${b16(req.rsa_id)} at {host}:{port}: {exc}"
        if problem is not None:
            self._after(entry, entry.circ.extend_failed(problem))
            return
        if entry.circ.closed or not conn.is_open():
            return
        entry.next, entry.next_id = conn, conn.allocate_circ_id()
        self._circuits[(conn.conn_id, entry.next_id)] = entry
        conn.send_cell(entry.next_id, ChannelCommand.CREATE2, req.create2_payload)

    def _extend_problem(self, entry: CircuitEntry, req: ExtendRequested,
                        address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        if req.rsa_id == self.identity.rsa_id:
            return "client asked me to extend to myself"
        if req.rsa_id == entry.prev.peer_rsa_id:
            return "client asked me to extend back to the previous hop"
        if not self.allow_private_extend and (address.is_private or address.is_loopback):
            return f"client asked me to extend to a private address {address}"
        return None

    # -- control port ---------------------------------------------------------------------
    def statistics(self) -> dict[str, object]:
        """Circuits and connections, for the control port and metrics."""
        now = monotonic()
        circuits = []
        for (conn_id, circ_id), entry in self._circuits.items():
            if entry.prev.conn_id != conn_id or entry.prev_id != circ_id:
                continue
            stats = entry.circ.statistics()
            stats.update(id=entry.gid, prev_conn=conn_id, prev_circ_id=circ_id,
                         next_conn=entry.next.conn_id if entry.next else None,
                         next_circ_id=entry.next_id or None, age=now - entry.created)
            circuits.append(stats)
        return {"circuits": circuits, "created": self.created_total,
                "refused": self.refused_total, "handshakes": dict(self.handshakes),
                "congestion_controlled": self.congestion_controlled,
                "connections": [c.statistics() for c in self.connections.values()]}

    def close_all(self, reason: DestroyReason = DestroyReason.FINISHED) -> None:
        """Destroy every circuit (shutdown) and cancel pending extensions."""
        for entry in list({id(e): e for e in self._circuits.values()}.values()):
            self._after(entry, entry.circ.destroy(reason, "relay shutting down"))
        for task in list(self._tasks):
            task.cancel()


def _reason(reason: int) -> str:
    try:
        return DestroyReason(reason).name
    except ValueError:
        return str(reason)
