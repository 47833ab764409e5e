"""The exit: streams of circuits that end here (tor-spec 6.2-6.4; tor's connection_exit.c,
dns.c, connection_edge.c).

* BEGIN: resolve the host with the system resolver (``loop.getaddrinfo``) if it is a
  name, check the exit policy against the address and port (a reject is END EXITPOLICY
  with that address and a TTL), connect, and answer CONNECTED with the address and TTL.
  Failures map to END reasons as tor's `errno_to_stream_end_reason` does:
  RESOLVEFAILED, CONNECTREFUSED, NOROUTE, TIMEOUT, CONNRESET, else MISC.
* DATA both ways; bytes from the server are packaged as the circuit and stream SENDME
  windows allow (reading pauses while they are closed); EOF from the server is END DONE
  once its bytes are out; END from the client closes the TCP connection.
* RESOLVE: RESOLVED with every IPv4/IPv6 address (or the name, for in-addr.arpa /
  ip6.arpa reverse lookups), or an error answer.
* BEGIN_DIR: CONNECTED at once, then the HTTP request is read and answered from the
  directory cache callback (`DirCache`: path -> document, None for 404); paths ending in
  ".z" are answered deflate-compressed, as tor does. Without a cache: END NOTDIRECTORY.

Reads from and writes to the destination draw on the process's token buckets, as every
connection does in tor (`exit_shaping`). Optimistic data (DATA before CONNECTED) is kept
and written once connected. TTLs: tor
clips DNS TTLs; Zwiebel reports `DNS_TTL` (300 s) for every answer.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import socket
import zlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, cast

from zwiebel.cells.relay import RELAY_DATA_MAX
from zwiebel.cells.relay_message import RelayMessage
from zwiebel.cells.relay_msgs import (
    BeginFlags,
    Connected,
    End,
    EndReason,
    IPAddress,
    Resolved,
    ResolvedAnswer,
)
from zwiebel.features.relay.exit_shaping import ReadGate, exit_shaper
from zwiebel.features.relay.stream_table import StreamTable
from zwiebel.netdoc.policy import ExitPolicy, Verdict
from zwiebel.proto.relay_streams import (
    BeginDirRequested,
    BeginRequested,
    ResolveRequested,
    StreamData,
    StreamEnded,
    StreamEvent,
    StreamWindowOpened,
)
from zwiebel.runtime.clock import monotonic
from zwiebel.runtime.ratelimit import Shaper

log = logging.getLogger("zwiebel")

#: TTL put in CONNECTED, END EXITPOLICY and RESOLVED.
DNS_TTL = 300
CONNECT_TIMEOUT = 20.0
#: Bytes buffered from the server before reading pauses.
READ_HIGH_WATER = 64 * 1024
#: Largest HTTP request head accepted on a directory stream.
MAX_DIR_REQUEST = 8192

#: The directory cache: URL path -> document bytes, or None (404).
DirCache = Callable[[str], Awaitable[bytes | None]]



class CircuitHandle(Protocol):
    """What the exit needs of a circuit (`circuits.CircuitHandle` is the real one)."""

    @property
    def gid(self) -> int:
        """The circuit's global id."""

    @property
    def closed(self) -> bool:
        """True once the circuit is gone."""

    def send(self, msg: RelayMessage, stream_id: int) -> None:
        """Originate a relay message toward the client."""

    def data_room(self, stream_id: int) -> int:
        """How many DATA cells the SENDME windows allow now."""

    def send_data_run(self, stream_id: int, chunks: Sequence[bytes]) -> None:
        """Originate one DATA cell per chunk (at most `data_room` of them)."""

    def forget_stream(self, stream_id: int) -> None:
        """Drop a stream that was answered without END."""


_ERRNO_REASONS = {
    errno.ECONNREFUSED: EndReason.CONNECTREFUSED, errno.ECONNRESET: EndReason.CONNRESET,
    errno.ENETUNREACH: EndReason.NOROUTE, errno.EHOSTUNREACH: EndReason.NOROUTE,
    errno.ETIMEDOUT: EndReason.TIMEOUT,
}


def _nothing() -> None:
    """The default `_Edge.on_done`."""


class _Edge:
    """Bytes waiting to go to the client as DATA cells, and the END after them."""

    def __init__(self, circuit: CircuitHandle, stream_id: int) -> None:
        self.circuit = circuit
        self.stream_id = stream_id
        self.outbuf = bytearray()
        self.eof = False
        self.done = False
        self.opened_at = monotonic()
        self.bytes_read = 0
        self.bytes_written = 0
        self.on_done: Callable[[], None] = _nothing

    def pump(self) -> None:
        """Package as many DATA cells as the windows allow, in one call (498-byte chunks,
        as tor packages them); END DONE after EOF."""
        outbuf = self.outbuf
        room = self.circuit.data_room(self.stream_id) if outbuf and not self.done else 0
        if room:
            size = min(len(outbuf), room * RELAY_DATA_MAX)
            data = bytes(outbuf[:size])
            del outbuf[:size]
            self.circuit.send_data_run(self.stream_id, [
                data[start:start + RELAY_DATA_MAX] for start in range(0, size, RELAY_DATA_MAX)])
        if self.eof and not self.outbuf and not self.done:
            self.finish(EndReason.DONE)
        self.after_pump()

    def after_pump(self) -> None:
        """Hook: flow control toward the source."""

    def finish(self, reason: EndReason) -> None:
        """Send END (once), leave the stream table and release resources."""
        if not self.done:
            self.done = True
            if not self.circuit.closed:
                self.circuit.send(End(reason), self.stream_id)
        self.on_done()
        self.release()

    def release(self) -> None:
        """Hook: close the source."""

    def from_client(self, data: bytes) -> None:
        """DATA from the client."""


class ExitStream(_Edge, asyncio.Protocol):
    """A TCP connection to the destination for one BEGIN."""

    def __init__(self, circuit: CircuitHandle, stream_id: int) -> None:
        super().__init__(circuit, stream_id)
        self.transport: asyncio.Transport | None = None
        self.gate: ReadGate | None = None
        self.shaper: Shaper | None = None
        self.pending = bytearray()

    @property
    def paused(self) -> bool:
        """True while the destination socket is not read."""
        return self.gate is not None and self.gate.paused

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Join the token buckets and write any optimistic data."""
        self.transport = cast(asyncio.Transport, transport)  # also uvloop's, not a subclass
        self.gate = ReadGate(self.transport)
        self.shaper = exit_shaper(self.gate)
        if self.pending:
            self._write(bytes(self.pending))
            self.pending.clear()

    def data_received(self, data: bytes) -> None:
        """Bytes from the server for the client (they take read tokens)."""
        self.bytes_read += len(data)
        if self.shaper is not None:
            self.shaper.note_read(len(data))
        self.outbuf += data
        self.pump()

    def eof_received(self) -> bool:
        """The server finished sending."""
        self.eof = True
        self.pump()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """The server side closed."""
        self.transport = None
        if exc is not None and not self.done:
            self.outbuf.clear()
            self.finish(_errno_reason(exc, EndReason.CONNRESET))
        else:
            self.eof = True
            self.pump()

    def after_pump(self) -> None:
        """Pause reading while too much waits for a SENDME."""
        gate = self.gate
        if self.transport is None or gate is None:
            return
        if len(self.outbuf) > READ_HIGH_WATER and not gate.window_full:
            gate.set_window_full(True)
        elif gate.window_full and len(self.outbuf) <= READ_HIGH_WATER // 2:
            gate.set_window_full(False)

    def from_client(self, data: bytes) -> None:
        """Write to the server (buffered while connecting)."""
        if self.transport is None:
            self.pending += data
        else:
            self._write(data)

    def _write(self, data: bytes) -> None:
        assert self.transport is not None
        self.bytes_written += len(data)
        if self.shaper is not None:
            self.shaper.write(data)
        else:
            self.transport.write(data)

    def release(self) -> None:
        """Close the TCP connection, after what waits for write tokens."""
        if self.transport is not None:
            if self.shaper is not None:
                self.shaper.drain()
            self.transport.close()


class DirStream(_Edge):
    """A BEGIN_DIR stream: one HTTP/1.0 request answered from the directory cache."""

    def __init__(self, circuit: CircuitHandle, stream_id: int, cache: DirCache,
                 spawn: Callable[[Awaitable[None]], None]) -> None:
        super().__init__(circuit, stream_id)
        self.cache = cache
        self.spawn = spawn
        self.request = bytearray()
        self.answered = False

    def from_client(self, data: bytes) -> None:
        """Collect the request head; answer once it is complete."""
        if self.answered or self.done:
            return
        self.bytes_read += len(data)
        self.request += data
        if b"\r\n\r\n" in self.request:
            self.answered = True
            head = bytes(self.request).split(b"\r\n", 1)[0].decode("latin-1")
            self.spawn(self._answer(head))
        elif len(self.request) > MAX_DIR_REQUEST:
            self.finish(EndReason.TORPROTOCOL)

    async def _answer(self, request_line: str) -> None:
        parts = request_line.split()
        if len(parts) < 2 or parts[0] != "GET":
            self.outbuf += b"HTTP/1.0 400 Bad request\r\n\r\n"
        else:
            self.outbuf += await self._response(parts[1])
        self.bytes_written = len(self.outbuf)
        self.eof = True
        self.pump()

    async def _response(self, path: str) -> bytes:
        compress = path.endswith(".z")
        body = await self.cache(path[:-2] if compress else path)
        if body is None:
            return b"HTTP/1.0 404 Not found\r\n\r\n"
        encoding = "deflate" if compress else "identity"
        payload = zlib.compress(body) if compress else body
        head = (f"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                f"Content-Encoding: {encoding}\r\n\r\n")
        return head.encode() + payload


class ExitHandler:
    """The `EdgeHandler` of a relay: exit connections, resolves and directory streams."""

    def __init__(self, policy: Callable[[], ExitPolicy], dir_cache: DirCache | None = None,
                 connect_timeout: float = CONNECT_TIMEOUT) -> None:
        self.policy = policy
        self.dir_cache = dir_cache
        self.connect_timeout = connect_timeout
        self.streams: StreamTable[_Edge] = StreamTable()
        self._tasks: set[asyncio.Task[None]] = set()
        self.counts = {"begin": 0, "exitpolicy": 0, "connected": 0, "resolve": 0, "dir": 0}

    def on_stream_event(self, circuit: CircuitHandle, event: StreamEvent) -> None:
        """Dispatch one stream event from a circuit."""
        if isinstance(event, BeginRequested):
            self.counts["begin"] += 1
            stream = ExitStream(circuit, event.stream_id)
            self._register(circuit, event.stream_id, stream)
            self._spawn(self._begin(stream, event))
        elif isinstance(event, BeginDirRequested):
            self._begin_dir(circuit, event.stream_id)
        elif isinstance(event, ResolveRequested):
            self.counts["resolve"] += 1
            self._spawn(self._resolve(circuit, event))
        elif isinstance(event, StreamData):
            edge = self.streams.get(circuit.gid, event.stream_id)
            if edge is not None:
                edge.from_client(event.data)
        elif isinstance(event, StreamEnded):
            edge = self.streams.pop(circuit.gid, event.stream_id)
            if edge is not None:
                edge.done = True
                edge.release()
        elif isinstance(event, StreamWindowOpened):
            self._window_opened(circuit, event.stream_id)

    def _register(self, circuit: CircuitHandle, stream_id: int, edge: _Edge) -> None:
        gid = circuit.gid
        self.streams.add(gid, stream_id, edge)
        edge.on_done = lambda: self._forget(gid, stream_id, edge)

    def _forget(self, gid: int, stream_id: int, edge: _Edge) -> None:
        if self.streams.get(gid, stream_id) is edge:
            self.streams.pop(gid, stream_id)

    def on_circuit_closed(self, circuit: CircuitHandle) -> None:
        """Close every stream of the circuit without END."""
        for edge in self.streams.pop_circuit(circuit.gid):
            edge.done = True
            edge.release()

    def _window_opened(self, circuit: CircuitHandle, stream_id: int) -> None:
        if stream_id:
            edge = self.streams.get(circuit.gid, stream_id)
            targets = [edge] if edge is not None else []
        else:
            targets = self.streams.of_circuit(circuit.gid)
        for edge in targets:
            edge.pump()
        self._reap(circuit)

    def _reap(self, circuit: CircuitHandle) -> None:
        for edge in [e for e in self.streams.of_circuit(circuit.gid) if e.done]:
            self.streams.pop(circuit.gid, edge.stream_id)

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- BEGIN ----------------------------------------------------------------------
    async def _begin(self, stream: ExitStream, req: BeginRequested) -> None:
        circ = stream.circuit
        try:
            address = await self._lookup(req.address, req.flags)
        except OSError:
            self._end(stream, End(EndReason.RESOLVEFAILED))
            return
        if self.policy().allows(address, req.port) is not Verdict.ACCEPTED:
            self.counts["exitpolicy"] += 1
            log.info("Exit policy rejects %s:%d (circuit %d)", address, req.port, circ.gid)
            self._end(stream, End(EndReason.EXITPOLICY, address, DNS_TTL))
            return
        reason = await self._connect(stream, address, req.port)
        if stream.done or circ.closed:
            stream.release()
            return
        if reason is not None:
            self._end(stream, End(reason))
            return
        self.counts["connected"] += 1
        circ.send(_connected(address), req.stream_id)
        stream.pump()

    async def _connect(self, stream: ExitStream, address: IPAddress, port: int
                       ) -> EndReason | None:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                await loop.create_connection(lambda: stream, str(address), port)
        except TimeoutError:
            return EndReason.TIMEOUT
        except OSError as exc:
            return _errno_reason(exc, EndReason.MISC)
        log.info("Exit connection to port %d established (circuit %d).", port,
                 stream.circuit.gid)
        return None

    async def _lookup(self, host: str, flags: int) -> IPAddress:
        try:
            return ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            pass
        family = socket.AF_INET6 if flags & BeginFlags.IPV4_NOT_OK else socket.AF_UNSPEC
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, None, family=family, type=socket.SOCK_STREAM)
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        v4 = [a for a in addresses if a.version == 4]
        v6 = [a for a in addresses if a.version == 6]
        prefer_v6 = flags & BeginFlags.IPV6_PREFERRED and flags & BeginFlags.IPV6_OK
        ordered = (v6 + v4) if prefer_v6 else (v4 + v6 if flags & BeginFlags.IPV6_OK else v4)
        if not ordered:
            raise OSError("no usable address")
        return ordered[0]

    def _end(self, stream: _Edge, msg: End) -> None:
        stream.done = True
        self.streams.pop(stream.circuit.gid, stream.stream_id)
        if not stream.circuit.closed:
            stream.circuit.send(msg, stream.stream_id)
        stream.release()

    # -- BEGIN_DIR and RESOLVE -----------------------------------------------------------
    def _begin_dir(self, circuit: CircuitHandle, stream_id: int) -> None:
        self.counts["dir"] += 1
        if self.dir_cache is None:
            circuit.send(End(EndReason.NOTDIRECTORY), stream_id)
            return
        self._register(circuit, stream_id,
                       DirStream(circuit, stream_id, self.dir_cache, self._spawn))
        circuit.send(Connected(), stream_id)

    async def _resolve(self, circuit: CircuitHandle, req: ResolveRequested) -> None:
        answers = await _resolve_answers(req.hostname)
        circuit.forget_stream(req.stream_id)
        if not circuit.closed:
            circuit.send(Resolved(tuple(answers)), req.stream_id)


async def _resolve_answers(hostname: str) -> list[ResolvedAnswer]:
    loop = asyncio.get_running_loop()
    try:
        reverse = _reverse_address(hostname)
        if reverse is not None:
            name, _ = await loop.getnameinfo((str(reverse), 0), socket.NI_NAMEREQD)
            return [ResolvedAnswer.of_hostname(name, DNS_TTL)]
        infos = await loop.getaddrinfo(hostname, None, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:
        transient = isinstance(exc, socket.gaierror) and exc.errno == socket.EAI_AGAIN
        return [ResolvedAnswer.of_error(transient)]
    seen = dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos)
    return [ResolvedAnswer.of_address(a, DNS_TTL) for a in seen]


def _reverse_address(name: str) -> IPAddress | None:
    labels = name.lower().rstrip(".").split(".")
    if labels[-2:] == ["in-addr", "arpa"] and len(labels) == 6:
        return ipaddress.IPv4Address(".".join(reversed(labels[:4])))
    if labels[-2:] == ["ip6", "arpa"] and len(labels) == 34:
        nibbles = "".join(reversed(labels[:32]))
        return ipaddress.IPv6Address(int(nibbles, 16))
    return None


def _connected(address: IPAddress) -> Connected:
    if address == ipaddress.IPv4Address(0):
        return Connected()
    return Connected(address, DNS_TTL)


def _errno_reason(exc: BaseException, default: EndReason) -> EndReason:
    if isinstance(exc, ConnectionRefusedError):
        return EndReason.CONNECTREFUSED
    code = getattr(exc, "errno", None)
    return _ERRNO_REASONS.get(code, default) if isinstance(code, int) else default
