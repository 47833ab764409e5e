"""TLS channels to relays: the asyncio side of tor-spec 2-4.

A `Channel` is an asyncio protocol over one TLS connection. During the link handshake
it feeds bytes to the sans-I/O `ChannelInitiator`; once open it splits the stream into
cells with the handshake's decoder and hands each cell, synchronously, to the circuit
that owns its circuit ID. Cells sent wait in the output queue of
`zwiebel.runtime.cellqueue` (one TLS write per loop iteration, not one per cell). Writes
go to the transport, through the bandwidth shaper of `zwiebel.runtime.ratelimit` when one
is installed (client traffic draws on the global bucket only); `writable` lets senders
wait while the transport's buffer is over its high-water mark.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable
from typing import cast

from zwiebel.cells.framing import CellDecoder, ChannelCommand, RawCell, encode_cell
from zwiebel.encoding import ParseError, b16
from zwiebel.proto.channel import (
    CellReceived,
    ChannelEstablished,
    ChannelInitiator,
    InitiatorParams,
    ProtocolViolation,
)
from zwiebel.runtime.cellqueue import CellQueue
from zwiebel.runtime.clock import monotonic, rng, utcnow
from zwiebel.runtime.ratelimit import FlowControlled, Shaper, shaper_for
from zwiebel.runtime.tls import client_context

log = logging.getLogger("zwiebel")

#: Called with the (command, payload) of a circuit's consecutive cells of one read.
CellSink = Callable[[list[tuple[int, bytes]]], None]
#: Called once when the channel closes, with a reason.
CloseSink = Callable[[str], None]

_IGNORED = frozenset(
    {ChannelCommand.PADDING, ChannelCommand.VPADDING, ChannelCommand.PADDING_NEGOTIATE,
     ChannelCommand.NETINFO, ChannelCommand.AUTHORIZE}
)


class ChannelError(Exception):
    """The channel could not be opened or was closed."""


class Channel(FlowControlled, CellQueue):
    """One open (or opening) OR connection, initiated by us."""

    def __init__(self, host: str, port: int, expected_rsa_id: bytes | None) -> None:
        self.host = host
        self.port = port
        self.expected_rsa_id = expected_rsa_id
        self.peer_rsa_id: bytes | None = None
        self.peer_ed25519_id: bytes | None = None
        self.link_version = 0
        self.ready: asyncio.Future[ChannelEstablished] = asyncio.get_running_loop().create_future()
        self.writable = asyncio.Event()
        self.writable.set()
        self.opened_at = monotonic()
        self.bytes_read = 0
        self.bytes_written = 0
        #: Set by the channel manager: the ORCONN ID and a callback run once on close.
        self.conn_id = 0
        self.local_port = 0
        self.on_close: CloseSink | None = None
        self._transport: asyncio.Transport | None = None
        self._initiator: ChannelInitiator | None = None
        self._decoder: CellDecoder | None = None
        self._circuits: dict[int, tuple[CellSink, CloseSink]] = {}
        self._closed_reason: str | None = None
        self._shaper: Shaper | None = None
        self._init_queue()

    # -- asyncio.Protocol -------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Start the link handshake: send VERSIONS."""
        self._transport = cast(asyncio.Transport, transport)  # also uvloop's, not a subclass
        self.local_port = int((transport.get_extra_info("sockname") or ("?", 0))[1])
        self._shaper = shaper_for(self._transport, self.host, False, self.bandwidth_pressure)
        ssl_obj = transport.get_extra_info("ssl_object")
        cert = ssl_obj.getpeercert(binary_form=True) if ssl_obj is not None else None
        if not cert:
            self._fail("peer presented no TLS certificate")
            return
        params = InitiatorParams(
            peer_tls_cert=cert,
            peer_address=ipaddress.ip_address(self.host),
            expected_rsa_id=self.expected_rsa_id,
        )
        self._initiator = ChannelInitiator(params)
        self._write(self._initiator.initiate())

    def data_received(self, data: bytes) -> None:
        """Feed the handshake, or split cells and dispatch them."""
        self.bytes_read += len(data)
        if self._shaper is not None:
            self._shaper.note_read(len(data))
        if self._decoder is None:
            self._handshake_data(data)
            return
        try:
            cells = self._decoder.feed(data)
        except ParseError as exc:
            self._fail(f"bad cell framing: {exc}")
            return
        self._dispatch_run(cells)

    def connection_lost(self, exc: Exception | None) -> None:
        """Tell every circuit on this channel that it is gone."""
        self._closed(f"connection lost: {exc}" if exc else "connection closed")

    # -- handshake ----------------------------------------------------------
    def _handshake_data(self, data: bytes) -> None:
        assert self._initiator is not None
        try:
            events = self._initiator.receive_data(data, utcnow())
        except (ProtocolViolation, ParseError) as exc:
            self._fail(f"link handshake with {self.describe()} failed: {exc}")
            return
        self._write(self._initiator.data_to_send())
        for event in events:
            if isinstance(event, ChannelEstablished):
                self._established(event)
            elif isinstance(event, CellReceived):
                self._dispatch(event.circ_id, event.command, event.payload)

    def _established(self, event: ChannelEstablished) -> None:
        assert self._initiator is not None
        self.peer_rsa_id = event.peer_rsa_id
        self.peer_ed25519_id = event.peer_ed25519_id
        self.link_version = event.link_version
        self._decoder = self._initiator.take_decoder()
        if not self.ready.done():
            self.ready.set_result(event)
        self._dispatch_run(self._decoder.feed(b""))

    # -- circuits -------------------------------------------------------------
    def is_open(self) -> bool:
        """True while cells can be sent."""
        return self._decoder is not None and self._closed_reason is None

    def allocate_circuit(self, on_cell: CellSink, on_close: CloseSink) -> int:
        """Reserve a fresh circuit ID (initiators set the high bit, tor-spec 5.1.1)."""
        if not self.is_open():
            raise ChannelError("channel is not open")
        while True:
            circ_id = int.from_bytes(rng(4), "big") | 0x80000000
            if circ_id not in self._circuits:
                self._circuits[circ_id] = (on_cell, on_close)
                return circ_id

    def release_circuit(self, circ_id: int) -> None:
        """Forget a circuit ID once the circuit is gone."""
        self._circuits.pop(circ_id, None)

    def send_cell(self, circ_id: int, command: int, payload: bytes) -> None:
        """Queue one cell (payload up to 509 bytes for fixed cells); the cells queued in
        one event-loop iteration go to the transport in one write."""
        if self._closed_reason is not None:
            raise ChannelError(self._closed_reason)
        self._outbuf += encode_cell(circ_id, command, payload, self.link_version)
        self._queued()

    def _flush_cells(self) -> None:
        """Write the queued cells in one piece."""
        if self._outbuf and self._closed_reason is None:
            self._write(bytes(self._outbuf))
        self._outbuf.clear()

    @property
    def circuit_count(self) -> int:
        """Circuits currently using this channel."""
        return len(self._circuits)

    def close(self, reason: str = "closed by us") -> None:
        """Close the TLS connection, after writing the cells already queued."""
        if self._transport is not None:
            self._flush_cells()
            self._transport.close()
        self._closed(reason)

    def describe(self) -> str:
        """`$FINGERPRINT~host:port` for logs."""
        fp = b16(self.expected_rsa_id or self.peer_rsa_id or b"") or "?"
        return f"${fp} at {self.host}:{self.port}"

    def _dispatch_run(self, cells: list[RawCell]) -> None:
        """Hand each circuit its consecutive cells of one read in one call."""
        index, count = 0, len(cells)
        while index < count:
            circ_id = cells[index][0]
            end = index + 1
            while end < count and cells[end][0] == circ_id:
                end += 1
            entry = self._circuits.get(circ_id)
            if entry is None:
                for _, command, payload in cells[index:end]:
                    self._dispatch(circ_id, command, payload)
            else:
                entry[0]([(cell[1], cell[2]) for cell in cells[index:end]])
            index = end

    def _dispatch(self, circ_id: int, command: int, payload: bytes) -> None:
        entry = self._circuits.get(circ_id)
        if entry is not None:
            entry[0]([(command, payload)])
        elif command not in _IGNORED and command != ChannelCommand.DESTROY:
            log.debug("cell %d for unknown circuit %08x on %s", command, circ_id, self.describe())

    def _write(self, data: bytes) -> None:
        if data and self._transport is not None:
            self.bytes_written += len(data)
            if self._shaper is not None:
                self._shaper.write(data)
            else:
                self._transport.write(data)

    def _fail(self, reason: str) -> None:
        log.warning("%s", reason)
        if not self.ready.done():
            self.ready.set_exception(ChannelError(reason))
        if self._transport is not None:
            self._transport.close()
        self._closed(reason)

    def _closed(self, reason: str) -> None:
        if self._closed_reason is not None:
            return
        self._closed_reason = reason
        if self.on_close is not None:
            self.on_close(reason)
        self.writable.set()
        if not self.ready.done():
            self.ready.set_exception(ChannelError(reason))
        circuits, self._circuits = self._circuits, {}
        for _, on_close in circuits.values():
            on_close(reason)


async def open_channel(
    host: str, port: int, expected_rsa_id: bytes | None, timeout: float = 20.0
) -> Channel:
    """Connect, run the link handshake and return the open channel."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(timeout):
        _, channel = await loop.create_connection(
            lambda: Channel(host, port, expected_rsa_id), host, port, ssl=client_context()
        )
        await channel.ready
    return channel
