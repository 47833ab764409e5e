"""A relay's OR connections: the ORPort listener and channels to other relays (tor-spec 2-4).

The link handshake runs in the sans-I/O machines over an `OrConnection`
(`zwiebel.runtime.orconn`): `ChannelResponder` for connections accepted on the ORPort,
`ChannelInitiator` with our AUTHENTICATE keys for connections we open to extend circuits.

Not here: connection limits and DoS defenses, link padding
negotiation (PADDING_NEGOTIATE is ignored), channel-level KIST scheduling.
"""

from __future__ import annotations

import asyncio
import ipaddress

from zwiebel.cells.link import NetAddress
from zwiebel.proto.channel import (
    CellReceived,
    ChannelEstablished,
    ChannelInitiator,
    InitiatorParams,
)
from zwiebel.proto.channel_certs import ProtocolViolation
from zwiebel.proto.channel_responder import (
    ChannelResponder,
    InitiatorOpened,
    ResponderParams,
)
from zwiebel.runtime.clock import rng, utcnow
from zwiebel.runtime.listen import Listener, create_server
from zwiebel.runtime.orconn import CellHandler, OrConnection, OrIdentity


class ResponderConnection(OrConnection):
    """A connection accepted on our ORPort."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Also prepare the responder handshake."""
        super().connection_made(transport)
        assert self._tls is not None
        ident = self.identity
        self._machine = ChannelResponder(ResponderParams(
            ident.responder_certs, ident.link.rsa_identity.public(), ident.link.master_id,
            ident.tls_cert,
            _address(self.peer_host), rng, ident.addresses, self._tls.exporter))

    def _handshake_bytes(self, data: bytes) -> None:
        events = self._machine.receive_data(data, utcnow())
        self._write_plain(self._machine.data_to_send())
        for event in events:
            if isinstance(event, InitiatorOpened):
                if event.peer is not None:
                    self.peer_rsa_id = event.peer.rsa_id_digest
                    self.peer_ed25519_id = event.peer.ed25519_identity
                    self.is_client = False
                self._opened(self._machine.take_decoder(), event.link_version)
            elif isinstance(event, CellReceived):
                self.handler.cell_received(self, event.circ_id, event.command, event.payload)


class InitiatorConnection(OrConnection):
    """A connection we open to another relay; we authenticate with AUTHENTICATE."""

    outbound = True

    def __init__(self, identity: OrIdentity, handler: CellHandler, expected_rsa_id: bytes,
                 expected_ed25519_id: bytes | None) -> None:
        super().__init__(identity, handler)
        self.expected = (expected_rsa_id, expected_ed25519_id)
        self.is_client = False
        self._machine: ChannelInitiator | None = None

    def _tls_ready(self) -> None:
        assert self._tls is not None
        cert = self._tls.peer_cert_der()
        if cert is None:
            raise ProtocolViolation("the relay presented no TLS certificate")
        self._machine = ChannelInitiator(InitiatorParams(
            peer_tls_cert=cert, peer_address=_address(self.peer_host),
            expected_rsa_id=self.expected[0], expected_ed25519_id=self.expected[1],
            auth=self.identity.auth, tls_exporter=self._tls.exporter, rng=rng,
            my_addresses=self.identity.addresses))
        self._write_plain(self._machine.initiate())

    def _handshake_bytes(self, data: bytes) -> None:
        assert self._machine is not None
        events = self._machine.receive_data(data, utcnow())
        self._write_plain(self._machine.data_to_send())
        for event in events:
            if isinstance(event, ChannelEstablished):
                self.peer_rsa_id = event.peer_rsa_id
                self.peer_ed25519_id = event.peer_ed25519_id
                self._opened(self._machine.take_decoder(), event.link_version)
            elif isinstance(event, CellReceived):
                self.handler.cell_received(self, event.circ_id, event.command, event.payload)


def _address(host: str) -> NetAddress:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return ipaddress.IPv4Address(0)


async def start_orport(host: str, port: int, identity: OrIdentity,
                       handler: CellHandler) -> Listener:
    """Listen for OR connections on host:port."""
    return await create_server(lambda: ResponderConnection(identity, handler), host, port)


async def connect_relay(host: str, port: int, identity: OrIdentity, handler: CellHandler,
                        rsa_id: bytes, ed25519_id: bytes | None = None,
                        timeout: float = 20.0, local_addr: tuple[str, int] | None = None
                        ) -> OrConnection:
    """Open an authenticated channel to the relay at host:port with these identities."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(timeout):
        transport, conn = await loop.create_connection(
            lambda: InitiatorConnection(identity, handler, rsa_id, ed25519_id), host, port,
            local_addr=local_addr)
        try:
            await conn.ready
        except BaseException:
            transport.close()
            raise
    return conn
