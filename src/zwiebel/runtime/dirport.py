"""A DirPort: directory requests over plain TCP (dir-spec 6; tor's dircache.c).

Each connection carries one request: the server reads it (bounded by a timeout and by
tor's size limits), awaits the feature's handler, writes the answer and closes, as tor
does. Requests tor would drop silently (oversized, unknown method, not HTTP) are closed
without an answer; a malformed GET/POST gets "400 Bad request".

`DirSession` is the part shared with BEGIN_DIR: bytes in (`feed`), the response bytes out
(`respond`). The relay's BEGIN_DIR stream feeds it what arrives in DATA cells and sends
what `respond` returns before END, so both transports serve one handler.

Limits: `DirPortLimits.request_timeout` for the request to arrive (tor's
TestingDirConnectionMaxStall-style stall limit, 60 s here), `write_timeout` for the
answer to drain, `max_connections` at once (more are closed at accept). Compressing a
large body runs in a worker thread so the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from zwiebel.proto.dirserver import (
    MAX_DIR_UL_SIZE,
    MAX_HEADERS_SIZE,
    DirReply,
    DirRequest,
    DirRequestParser,
    PeerInfo,
    RequestRejected,
    encode_reply,
    is_local_address,
)
from zwiebel.runtime.clock import utcnow
from zwiebel.runtime.listen import Listener, start_server

log = logging.getLogger("zwiebel")

#: What a directory feature provides: a request and its peer in, the answer out.
DirHandler = Callable[[DirRequest, PeerInfo], Awaitable[DirReply]]
#: Bodies at least this long are compressed in a worker thread.
THREAD_COMPRESS_MIN = 64 * 1024


@dataclass(frozen=True)
class DirPortLimits:
    """Bounds on one directory connection and on the listener."""

    request_timeout: float = 60.0
    write_timeout: float = 300.0
    max_connections: int = 256
    max_header: int = MAX_HEADERS_SIZE
    max_body: int = MAX_DIR_UL_SIZE


@dataclass(frozen=True)
class ReplyContext:
    """What the answer's headers depend on besides the request.

    `own_addresses` decide which peers are "local" (no X-Your-Address-Is);
    `now` is the clock for Date and Expires.
    """

    own_addresses: Callable[[], Sequence[str]] = lambda: ()
    enforce_distinct_subnets: bool = True
    now: Callable[[], dt.datetime] = utcnow


class DirSession:
    """One request and its answer, transport-free: used by the DirPort and BEGIN_DIR."""

    def __init__(self, handler: DirHandler, peer: PeerInfo,
                 limits: DirPortLimits = DirPortLimits(),
                 context: ReplyContext = ReplyContext()) -> None:
        self._handler = handler
        self._peer = peer
        self._context = context
        self._parser = DirRequestParser(limits.max_header, limits.max_body)
        self._request: DirRequest | None = None
        self._rejected: RequestRejected | None = None

    @property
    def ready(self) -> bool:
        """True once `respond` can be called (request complete or rejected)."""
        return self._request is not None or self._rejected is not None

    def feed(self, data: bytes) -> bool:
        """Add request bytes; True when the session is `ready`."""
        if self.ready:
            return True
        try:
            self._request = self._parser.feed(data)
        except RequestRejected as exc:
            self._rejected = exc
            log.info("directory request from %s refused: %s", self._peer.address, exc)
        return self.ready

    async def respond(self) -> bytes:
        """The response bytes (b"": close without answering, as tor does)."""
        if self._rejected is not None:
            reply = self._rejected.reply
            return b"" if reply is None else self._encode_now(reply, None)
        request = self._request
        if request is None:
            return b""
        try:
            reply = await self._handler(request, self._peer)
        except Exception:
            log.exception("directory handler failed for %s %s", request.method, request.path)
            return b""
        if reply.body is not None and len(reply.body) >= THREAD_COMPRESS_MIN:
            return await asyncio.to_thread(self._encode_now, reply, request)
        return self._encode_now(reply, request)

    def _encode_now(self, reply: DirReply, request: DirRequest | None) -> bytes:
        ctx = self._context
        local = is_local_address(self._peer.address, ctx.own_addresses(),
                                 ctx.enforce_distinct_subnets)
        return encode_reply(reply, request, ctx.now(),
                            your_address=None if local else self._peer.address)


class DirPortServer:
    """Listens on a DirPort and serves each connection's one request with `handler`."""

    def __init__(self, handler: DirHandler, limits: DirPortLimits = DirPortLimits(),
                 context: ReplyContext = ReplyContext()) -> None:
        self._handler = handler
        self._limits = limits
        self._context = context
        self._servers: list[Listener] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.counts = {"accepted": 0, "refused_busy": 0, "answered": 0, "dropped": 0,
                       "timeouts": 0}

    async def listen(self, host: str, port: int) -> tuple[str, int]:
        """Start listening; the bound (address, port) (port 0 picks a free one)."""
        server = await start_server(self._on_connection, host, port)
        self._servers.append(server)
        sockname = server.sockets[0].getsockname()
        return str(sockname[0]), int(sockname[1])

    async def close(self) -> None:
        """Stop listening and end the connections in progress."""
        for server in self._servers:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        for server in self._servers:
            await server.wait_closed()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._servers.clear()

    def statistics(self) -> dict[str, int]:
        """Counters for the control port and tests."""
        return {**self.counts, "open": len(self._tasks)}

    async def _on_connection(self, reader: asyncio.StreamReader,
                             writer: asyncio.StreamWriter) -> None:
        if len(self._tasks) >= self._limits.max_connections:
            self.counts["refused_busy"] += 1
            writer.close()
            return
        self.counts["accepted"] += 1
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            # close() ends the connection; asyncio's stream callback of Python 3.11
            # would log a cancelled connection task as an error.
            pass
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peername = writer.get_extra_info("peername") or ("", 0)
        session = DirSession(self._handler, PeerInfo(str(peername[0]), int(peername[1])),
                             self._limits, self._context)
        try:
            await asyncio.wait_for(_read_request(reader, session),
                                   self._limits.request_timeout)
        except (TimeoutError, ConnectionError):
            self.counts["timeouts"] += 1
            return
        if not session.ready:
            self.counts["dropped"] += 1
            return
        answer = await session.respond()
        if not answer:
            self.counts["dropped"] += 1
            return
        writer.write(answer)
        try:
            await asyncio.wait_for(writer.drain(), self._limits.write_timeout)
        except (TimeoutError, ConnectionError):
            self.counts["timeouts"] += 1
            return
        self.counts["answered"] += 1


async def _read_request(reader: asyncio.StreamReader, session: DirSession) -> None:
    """Feed `session` until its request is complete or the peer stops sending."""
    while not session.ready:
        data = await reader.read(65536)
        if not data:
            return
        session.feed(data)
