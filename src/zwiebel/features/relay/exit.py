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
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable

from zwiebel.cells.relay_msgs import (
    BeginFlags,
    Connected,
    End,
    EndReason,
    IPAddress,
    Resolved,
    ResolvedAnswer,
)
from zwiebel.features.relay.edges import (
    CircuitHandle,
    DirCache,
    DirStream,
    Edge,
    ExitStream,
    errno_reason,
)
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

log = logging.getLogger("zwiebel")

#: TTL put in CONNECTED, END EXITPOLICY and RESOLVED.
DNS_TTL = 300
CONNECT_TIMEOUT = 20.0






class ExitHandler:
    """The `EdgeHandler` of a relay: exit connections, resolves and directory streams."""

    def __init__(self, policy: Callable[[], ExitPolicy], dir_cache: DirCache | None = None,
                 connect_timeout: float = CONNECT_TIMEOUT) -> None:
        self.policy = policy
        self.dir_cache = dir_cache
        self.connect_timeout = connect_timeout
        self.streams: StreamTable[Edge] = StreamTable()
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

    def _register(self, circuit: CircuitHandle, stream_id: int, edge: Edge) -> None:
        gid = circuit.gid
        self.streams.add(gid, stream_id, edge)
        edge.on_done = lambda: self._forget(gid, stream_id, edge)

    def _forget(self, gid: int, stream_id: int, edge: Edge) -> None:
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
            if edge is not None and circuit.flow_control:
                edge.rate.set(circuit.xon_rate(stream_id))
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
            return errno_reason(exc, EndReason.MISC)
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

    def _end(self, stream: Edge, msg: End) -> None:
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
