"""One SocksPort: accepts SOCKS connections and joins them to Tor streams.

The SOCKS handshake is the sans-I/O `SocksServerConnection`; this module reads and
writes the socket, asks the circuit manager for a stream, answers with tor's reply
codes, then copies bytes both ways until either side ends.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Hashable

from zwiebel.cells.relay_msgs import EndReason, Resolved
from zwiebel.config.ports import SocksPortSpec
from zwiebel.control.conninfo import Usage
from zwiebel.managers.circuits import CircuitManager
from zwiebel.managers.conntrack import ConnSample, ConnTracker
from zwiebel.netdoc.policy import is_internal
from zwiebel.runtime.circuit import CircuitError
from zwiebel.runtime.listen import Listener, start_server
from zwiebel.runtime.stream import Stream, StreamClosed
from zwiebel.socks import SocksOptions, SocksServerConnection
from zwiebel.socks.constants import Command
from zwiebel.socks.events import Request, SocksError, StreamData
from zwiebel.socks.replies import ResolvedAnswer

log = logging.getLogger("zwiebel")

#: Seconds a client has to finish the SOCKS handshake.
HANDSHAKE_TIMEOUT = 120.0


class SocksListener:
    """Serves one SocksPort."""

    def __init__(self, spec: SocksPortSpec, circuits: CircuitManager, socks: SocksOptions,
                 reject_internal: bool = True) -> None:
        self.spec = spec
        self.reject_internal = reject_internal
        self._circuits = circuits
        self._socks = socks
        #: Where application connections are reported (GETINFO conn/*), if anywhere.
        self.tracker: ConnTracker | None = None
        self._server: Listener | None = None
        self.port = 0

    async def start(self) -> int:
        """Bind and listen; returns the bound port (useful with `auto`)."""
        host = self.spec.address or "127.0.0.1"
        self._server = await start_server(self._serve, host, self.spec.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.log(25, "Opened Socks listener connection (ready) on %s:%d", host, self.port)
        return self.port

    def close(self) -> None:
        """Stop accepting."""
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._handle(reader, writer)
        except (ConnectionError, OSError, TimeoutError) as exc:
            log.debug("SOCKS connection ended: %s", exc)
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = SocksServerConnection(self._socks)
        request, early = await self._handshake(conn, reader, writer)
        if request is None:
            return
        for line in request.warnings:
            log.warning("%s", line)
        if request.unsafe and self._socks.safe_socks:
            return
        peer = writer.get_extra_info("peername")
        key = self._isolation(request, peer[0] if peer else "")
        if request.command == Command.CONNECT and self._refuse_internal(request):
            conn.send_connect_reply(EndReason.MISC)
            writer.write(conn.data_to_send())
        elif request.command == Command.CONNECT:
            await self._connect(conn, request, key, early, reader, writer)
        elif request.command in (Command.RESOLVE, Command.RESOLVE_PTR):
            await self._resolve(conn, request, key, writer)

    async def _handshake(
        self, conn: SocksServerConnection, reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> tuple[Request | None, bytes]:
        request: Request | None = None
        early = bytearray()
        async with asyncio.timeout(HANDSHAKE_TIMEOUT):
            while request is None:
                data = await reader.read(4096)
                if not data:
                    return None, b""
                for event in conn.receive_data(data):
                    if isinstance(event, Request):
                        request = event
                    elif isinstance(event, StreamData):
                        early += event.data
                    elif isinstance(event, SocksError):
                        for line in event.warnings:
                            log.warning("%s", line)
                        writer.write(conn.data_to_send())
                        return None, b""
                writer.write(conn.data_to_send())
        for event in conn.receive_data(b""):
            if isinstance(event, StreamData):
                early += event.data
        return request, bytes(early)

    def _refuse_internal(self, request: Request) -> bool:
        """ClientRejectInternalAddresses (on unless TestingTorNetwork): tor refuses
        CONNECT to local names and internal addresses (connection_edge.c), judged
        after the address map (MAPADDRESS, virtual addresses) rewrote the target."""
        target = self._circuits.addressmap.rewrite(str(request.address))
        if not self.reject_internal or not is_internal_target(target):
            return False
        shown = str(request.address) if not self._socks.safe_logging else "[scrubbed]"
        log.warning("Rejecting SOCKS request for anonymous connection to private address %s.",
                    shown)
        return True

    def _isolation(self, request: Request, client: str) -> Hashable:
        spec = self.spec
        return (
            spec.port,
            request.auth if spec.isolate_socks_auth else None,
            client if spec.isolate_client_addr else None,
            str(request.address) if spec.isolate_dest_addr else None,
            request.port if spec.isolate_dest_port else None,
        )

    async def _connect(
        self, conn: SocksServerConnection, request: Request, key: Hashable, early: bytes,
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
    ) -> None:
        try:
            stream, circuit = await self._circuits.open_stream(str(request.address),
                                                               request.port, key)
        except StreamClosed as exc:
            conn.send_connect_reply(exc.reason or EndReason.MISC)
            writer.write(conn.data_to_send())
            return
        except (CircuitError, OSError, TimeoutError) as exc:
            log.info("No circuit for a stream to port %d: %s", request.port, exc)
            conn.send_connect_reply(EndReason.NOROUTE)
            writer.write(conn.data_to_send())
            return
        conn.send_connect_reply(0)
        writer.write(conn.data_to_send())
        if early:
            stream.write(early)
        track = self._track(writer, circuit.global_id, circuit.channel.conn_id)
        try:
            await _splice(stream, reader, writer, track)
        finally:
            if self.tracker is not None and track is not None:
                self.tracker.close(track)

    def _track(self, writer: asyncio.StreamWriter, circ_id: int, channel_id: int
               ) -> ConnSample | None:
        if self.tracker is None:
            return None
        peer = writer.get_extra_info("peername") or ("?", 0)
        return self.tracker.open(Usage.CLIENT, True, str(peer[0]), int(peer[1]),
                                 local_port=self.port, circ_ids=(circ_id,),
                                 or_key=("chan", channel_id))

    async def _resolve(
        self, conn: SocksServerConnection, request: Request, key: Hashable,
        writer: asyncio.StreamWriter,
    ) -> None:
        name = str(request.address)
        if request.command == Command.RESOLVE_PTR:
            name = ipaddress.ip_address(name).reverse_pointer
        try:
            reply: Resolved | None = await self._circuits.resolve(name, key)
        except (StreamClosed, CircuitError, OSError, TimeoutError) as exc:
            log.info("RESOLVE failed: %s", exc)
            reply = None
        answer = _first_answer(reply, request.command)
        conn.send_resolved(answer)
        writer.write(conn.data_to_send())


def is_internal_target(address: str) -> bool:
    """tor_addr_hostname_is_local or tor_addr_is_internal for a SOCKS target."""
    name = address.lower()
    if name in ("localhost", "local") or name.endswith(".local"):
        return True
    try:
        return is_internal(ipaddress.ip_address(name))
    except ValueError:
        return False


def _first_answer(reply: Resolved | None, command: Command) -> ResolvedAnswer | None:
    if reply is None:
        return None
    for answer in reply.answers:
        if command == Command.RESOLVE_PTR and answer.hostname is not None:
            return answer.hostname
        if command == Command.RESOLVE and answer.address is not None:
            return answer.address
    return None


async def _splice(
    stream: Stream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
    track: ConnSample | None = None,
) -> None:
    """Copy client → stream and stream → client until one side ends; count the bytes
    in ``track``."""
    upload = asyncio.create_task(_upload(stream, reader, track))
    try:
        while True:
            data = await stream.read()
            if not data:
                break
            if track is not None:
                track.written += len(data)
            writer.write(data)
            await writer.drain()
    finally:
        upload.cancel()
        stream.close()


async def _upload(stream: Stream, reader: asyncio.StreamReader,
                  track: ConnSample | None) -> None:
    while True:
        data = await reader.read(65536)
        if not data:
            return
        if track is not None:
            track.read += len(data)
        stream.write(data)
        await stream.drain()
