"""One OR connection of a relay, either direction, once TCP is up (tor-spec 2-4).

TLS runs in a pyOpenSSL `TlsEngine` over memory BIOs (the stdlib has no RFC 5705 exporter,
which AUTHENTICATE needs on both ends); the link handshake belongs to the subclasses in
`zwiebel.runtime.orport`. Once open, cells go to a `CellHandler` (the relay's circuit
table) synchronously, in order, all the cells of one read in one `cells_received` call.

Each connection keeps what the control port shows: a global id, direction, peer address,
verified identities, bytes read and written (on the wire), when it opened, and the
circuit IDs the handler registered on it (`statistics()`).

Reads and writes draw on the process's bandwidth buckets (`zwiebel.runtime.ratelimit`)
as relayed traffic.

Hot path: every complete cell of a read is handed over in one pass (`CellDecoder`), and
`send_cell` only appends the cell to the connection's output queue
(`zwiebel.runtime.cellqueue`: written once per loop iteration, or at once when 64 KiB
wait). Handshake bytes and `close` flush at once, keeping everything in order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import struct
from dataclasses import dataclass, field
from typing import Protocol, cast

from zwiebel.cells.framing import (
    MIN_WIDE_CIRCID_VERSION,
    PAYLOAD_LEN,
    CellDecoder,
    RawCell,
    encode_cell,
)
from zwiebel.cells.link import Certs, NetAddress
from zwiebel.crypto.keys import Ed25519Private, RsaPrivate
from zwiebel.encoding import ParseError, b16
from zwiebel.proto.channel_certs import ProtocolViolation
from zwiebel.proto.relay_linkcerts import RelayLinkIdentity
from zwiebel.runtime.cellqueue import CellQueue
from zwiebel.runtime.clock import monotonic, rng, utcnow
from zwiebel.runtime.ratelimit import FlowControlled, Shaper, shaper_for
from zwiebel.runtime.tls import (
    TlsEngine,
    TlsError,
    relay_client_context,
    relay_server_context,
)

log = logging.getLogger("zwiebel")

#: Lifetime of our link (type 5) and AUTHENTICATE (type 6) certificates.
LINK_CERT_LIFETIME = dt.timedelta(days=2)
_conn_ids = itertools.count(1)
#: CircID (4 bytes, link versions 4 and later) and command of a fixed-size cell.
_WIDE_HEADER = struct.Struct(">IB")
#: The same with the 2-byte circuit IDs of link versions before 4.
_NARROW_HEADER = struct.Struct(">HB")


class CellHandler(Protocol):
    """Who receives a relay's channel events (the circuit table)."""

    def channel_opened(self, conn: OrConnection) -> None:
        """The link handshake finished."""

    def cell_received(self, conn: OrConnection, circ_id: int, command: int,
                      payload: bytes) -> None:
        """A cell arrived on an open channel (during the link handshake)."""

    def cells_received(self, conn: OrConnection, cells: list[RawCell]) -> None:
        """Every complete cell of one read on an open channel, in order."""

    def channel_closed(self, conn: OrConnection, reason: str) -> None:
        """The channel is gone (only called for channels that opened)."""


@dataclass
class OrIdentity:
    """Our link keys, TLS certificate and addresses, with the CERTS cells made from them."""

    link: RelayLinkIdentity
    tls_key: RsaPrivate
    tls_cert: bytes
    addresses: tuple[NetAddress, ...] = ()
    _auth_key: Ed25519Private = field(default_factory=lambda: Ed25519Private(rng(32)))

    def __post_init__(self) -> None:
        self.server_context = relay_server_context(self.tls_cert, self.tls_key)
        self.client_context = relay_client_context()
        self._made = utcnow()
        expires = self._made + LINK_CERT_LIFETIME
        self.responder_certs: Certs = self.link.responder_certs(self.tls_cert, expires)
        self.auth = self.link.initiator_auth(self._auth_key, expires)

    @property
    def rsa_id(self) -> bytes:
        """Our RSA identity digest (fingerprint)."""
        return self.link.rsa_identity.public().fingerprint()


class OrConnection(FlowControlled, CellQueue):
    """One TLS connection between this relay and a peer (client or relay)."""

    outbound = False

    def __init__(self, identity: OrIdentity, handler: CellHandler) -> None:
        self.identity = identity
        self.handler = handler
        self.conn_id = next(_conn_ids)
        self.peer_host = "?"
        self.peer_port = 0
        self.local_port = 0
        self.peer_rsa_id: bytes | None = None
        self.peer_ed25519_id: bytes | None = None
        self.is_client = True
        self.link_version = 0
        self.opened_at: float | None = None
        self.bytes_read = 0
        self.bytes_written = 0
        self.circ_ids: set[int] = set()
        self.writable = asyncio.Event()
        self.writable.set()
        self.ready: asyncio.Future[OrConnection] = asyncio.get_running_loop().create_future()
        self.closed_reason: str | None = None
        self._transport: asyncio.Transport | None = None
        self._tls: TlsEngine | None = None
        self._decoder: CellDecoder | None = None
        self._shaper: Shaper | None = None
        self._init_queue()

    # -- asyncio.Protocol ---------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Remember the peer and start TLS."""
        self._transport = cast(asyncio.Transport, transport)  # also uvloop's, not a subclass
        peer = transport.get_extra_info("peername") or ("?", 0)
        self.peer_host, self.peer_port = str(peer[0]), int(peer[1])
        self.local_port = int((transport.get_extra_info("sockname") or ("?", 0))[1])
        self._shaper = shaper_for(self._transport, self.peer_host, True, self.bandwidth_pressure)
        ctx = self.identity.client_context if self.outbound else self.identity.server_context
        self._tls = TlsEngine(ctx, server=not self.outbound)
        if self.outbound:
            self._tls.start()
            self._flush_tls()

    def data_received(self, data: bytes) -> None:
        """TLS-decrypt, then feed the handshake or split cells."""
        self.bytes_read += len(data)
        if self._shaper is not None:
            self._shaper.note_read(len(data))
        assert self._tls is not None
        try:
            was_done = self._tls.handshake_done
            plain = self._tls.feed(data)
            self._flush_tls()
            if self._tls.handshake_done and not was_done:
                self._tls_ready()
            if plain:
                self._plaintext(plain)
            if self._tls.closed:
                self.close("peer closed TLS")
        except (TlsError, ProtocolViolation, ParseError) as exc:
            self._fail(f"{self.describe()}: {exc}")

    def connection_lost(self, exc: Exception | None) -> None:
        """The TCP connection is gone."""
        self._closed(f"connection lost: {exc}" if exc else "connection closed")

    # -- handshake hooks (subclasses) ---------------------------------------------
    def _tls_ready(self) -> None:
        """The TLS handshake finished."""

    def _handshake_bytes(self, data: bytes) -> None:
        raise NotImplementedError

    def _plaintext(self, data: bytes) -> None:
        if self._decoder is None:
            self._handshake_bytes(data)
            return
        cells = self._decoder.feed(data)
        if cells:
            self.handler.cells_received(self, cells)

    def _opened(self, decoder: CellDecoder, link_version: int) -> None:
        self._decoder = decoder
        self.link_version = link_version
        self.opened_at = monotonic()
        if not self.ready.done():
            self.ready.set_result(self)
        self.handler.channel_opened(self)
        cells = decoder.feed(b"")
        if cells:
            self.handler.cells_received(self, cells)

    # -- sending --------------------------------------------------------------------
    def is_open(self) -> bool:
        """True while cells can be sent."""
        return self._decoder is not None and self.closed_reason is None

    def send_cell(self, circ_id: int, command: int, payload: bytes) -> None:
        """Queue one cell for this loop iteration's write; dropped once the channel is closed."""
        if self.closed_reason is not None:
            return
        if len(payload) == PAYLOAD_LEN and self.link_version >= 4 and command < 128 \
                and command != 7:
            self._outbuf += _WIDE_HEADER.pack(circ_id, command)
            self._outbuf += payload
        else:
            self._outbuf += encode_cell(circ_id, command, payload, self.link_version)
        self._queued()

    def send_cell_run(self, circ_id: int, command: int, bodies: bytes) -> None:
        """Queue consecutive fixed-size cells of one circuit: `bodies` is their 509-byte
        payloads joined."""
        if self.closed_reason is not None:
            return
        wide = self.link_version >= MIN_WIDE_CIRCID_VERSION
        header = (_WIDE_HEADER if wide else _NARROW_HEADER).pack(circ_id, command)
        view = memoryview(bodies)
        self._outbuf += header
        self._outbuf += header.join(view[start:start + PAYLOAD_LEN]
                                    for start in range(0, len(bodies), PAYLOAD_LEN))
        self._queued()

    def allocate_circ_id(self) -> int:
        """A free circuit ID: the initiator of the channel sets the high bit (tor-spec 5.1.1)."""
        high = 0x80000000 if self.outbound else 0
        while True:
            circ_id = (int.from_bytes(rng(4), "big") & 0x7FFFFFFF) | high
            if circ_id and circ_id not in self.circ_ids:
                self.circ_ids.add(circ_id)
                return circ_id

    def _write_plain(self, data: bytes) -> None:
        """Encrypt and write now, after any cells still queued."""
        self._outbuf += data
        self._flush_cells()

    def _flush_cells(self) -> None:
        """Everything queued goes through TLS in one piece and to the transport."""
        if self._tls is None or not self._outbuf or self.closed_reason is not None:
            self._outbuf.clear()
            return
        data, self._outbuf = self._outbuf, bytearray()
        try:
            self._tls.send(data)
        except TlsError as exc:
            self._fail(str(exc))
            return
        self._flush_tls()

    def _flush_tls(self) -> None:
        assert self._tls is not None
        out = self._tls.pending_output()
        if out and self._transport is not None and not self._transport.is_closing():
            self.bytes_written += len(out)
            if self._shaper is not None:
                self._shaper.write(out)
            else:
                self._transport.write(out)

    # -- closing ----------------------------------------------------------------------
    def close(self, reason: str = "closed by us") -> None:
        """Close the connection, after writing the cells already queued."""
        if self._transport is not None:
            if self.closed_reason is None and not self._transport.is_closing():
                self._flush_cells()
            self._transport.close()
        self._closed(reason)

    def _fail(self, reason: str) -> None:
        log.info("OR connection %d failed: %s", self.conn_id, reason)
        self.close(reason)

    def _closed(self, reason: str) -> None:
        if self.closed_reason is not None:
            return
        self.closed_reason = reason
        self.writable.set()
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(reason))
            return
        self.handler.channel_closed(self, reason)

    def describe(self) -> str:
        """`$FINGERPRINT at host:port` (or `client at host:port`) for logs."""
        who = f"${b16(self.peer_rsa_id)}" if self.peer_rsa_id else "client"
        return f"{who} at {self.peer_host}:{self.peer_port}"

    def statistics(self) -> dict[str, object]:
        """A snapshot for the control port (GETINFO orconn-status and the like)."""
        return {
            "id": self.conn_id, "direction": "outbound" if self.outbound else "inbound",
            "peer": f"{self.peer_host}:{self.peer_port}",
            "peer_fingerprint": b16(self.peer_rsa_id) if self.peer_rsa_id else None,
            "client": self.is_client, "link_version": self.link_version,
            "bytes_read": self.bytes_read, "bytes_written": self.bytes_written,
            "uptime": 0.0 if self.opened_at is None else monotonic() - self.opened_at,
            "circuits": sorted(self.circ_ids), "open": self.is_open(),
        }
