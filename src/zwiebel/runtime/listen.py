"""TCP listeners that behave the same on asyncio's event loop and on uvloop.

Zwiebel accepts connections itself instead of using ``loop.create_server``: the two
loops differ when accept() runs out of file descriptors. asyncio reports it to the
loop's exception handler and pauses the listener for a second; uvloop (libuv) accepts
and closes the waiting connections without a word. tor warns the operator ("Failing
because we have N connections already. Please read doc/TUNING"), and so must we
(`runtime.limits.AcceptGuard`, the daemon's exception handler).

So a `Listener` watches its socket with ``add_reader``, accepts up to `ACCEPTS_PER_WAKEUP`
connections per wakeup and hands each to the loop with ``connect_accepted_socket``. An
accept() that fails for want of resources goes to the exception handler with asyncio's
own context ("socket.accept() out of system resource") and pauses the listener for
`RETRY_DELAY` seconds; open connections keep being served.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Awaitable, Callable

from zwiebel.runtime.limits import RESOURCE_ERRNOS

log = logging.getLogger("zwiebel")

#: How many connections one readiness event accepts at most (asyncio uses the backlog).
ACCEPTS_PER_WAKEUP = 128
#: Seconds a listener rests after accept() ran out of resources (asyncio's value).
RETRY_DELAY = 1.0
BACKLOG = 511

ProtocolFactory = Callable[[], asyncio.BaseProtocol]
StreamCallback = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Listener:
    """One or more listening sockets (one per address `host` resolves to)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sockets: list[socket.socket],
                 factory: ProtocolFactory) -> None:
        self._loop = loop
        self._factory = factory
        self.sockets = sockets
        self._handoffs: set[asyncio.Task[object]] = set()
        self._closed = False
        for sock in sockets:
            loop.add_reader(sock.fileno(), self._accept, sock)

    def is_serving(self) -> bool:
        """True until `close`."""
        return not self._closed

    def close(self) -> None:
        """Stop accepting and close the listening sockets (accepted ones stay open)."""
        if self._closed:
            return
        self._closed = True
        for sock in self.sockets:
            self._loop.remove_reader(sock.fileno())
            sock.close()

    async def wait_closed(self) -> None:
        """Wait until the connections being handed over have been set up."""
        if self._handoffs:
            await asyncio.gather(*self._handoffs, return_exceptions=True)

    def _accept(self, sock: socket.socket) -> None:
        for _ in range(ACCEPTS_PER_WAKEUP):
            try:
                conn, _ = sock.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as exc:
                self._failed(sock, exc)
                return
            conn.setblocking(False)
            self._hand_over(conn)

    def _failed(self, sock: socket.socket, exc: OSError) -> None:
        if exc.errno not in RESOURCE_ERRNOS:
            log.warning("accept() on %s failed: %s", _name(sock), exc)
            return
        self._loop.call_exception_handler({
            "message": "socket.accept() out of system resource",
            "exception": exc, "socket": sock})
        self._loop.remove_reader(sock.fileno())
        self._loop.call_later(RETRY_DELAY, self._resume, sock)

    def _resume(self, sock: socket.socket) -> None:
        if not self._closed:
            self._loop.add_reader(sock.fileno(), self._accept, sock)

    def _hand_over(self, conn: socket.socket) -> None:
        task = self._loop.create_task(self._connect(conn))
        self._handoffs.add(task)
        task.add_done_callback(self._handoffs.discard)

    async def _connect(self, conn: socket.socket) -> object:
        try:
            return await self._loop.connect_accepted_socket(self._factory, conn)
        except OSError as exc:
            log.debug("An accepted connection failed before it was set up: %s", exc)
            conn.close()
            return None


def _name(sock: socket.socket) -> str:
    try:
        name = sock.getsockname()
    except OSError:
        return "a listener"
    return f"{name[0]}:{name[1]}"


def _bind(host: str | None, port: int) -> list[socket.socket]:
    """Listening sockets for every address of `host` (all interfaces when None)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                raise OSError(exc.errno or errno.EADDRINUSE,
                              f"error while attempting to bind on address {address!r}: "
                              f"{exc.strerror}") from None
            sock.listen(BACKLOG)
            sock.setblocking(False)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


async def create_server(factory: ProtocolFactory, host: str | None, port: int) -> Listener:
    """Listen on host:port (port 0: a free one) with `factory` making each protocol."""
    return Listener(asyncio.get_running_loop(), _bind(host, port), factory)


async def start_server(callback: StreamCallback, host: str | None, port: int) -> Listener:
    """`create_server` for stream handlers, as ``asyncio.start_server``."""
    def factory() -> asyncio.BaseProtocol:
        return asyncio.StreamReaderProtocol(asyncio.StreamReader(), callback)
    return await create_server(factory, host, port)
