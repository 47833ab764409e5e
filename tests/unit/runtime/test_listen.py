"""runtime.listen: the same listeners, and the same accept() failure reports, on asyncio's
event loop and on uvloop."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import uvloop

from zwiebel.runtime import listen
from zwiebel.runtime.limits import AcceptGuard

LOOPS = {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


def _run(loop_name: str, main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    with asyncio.Runner(loop_factory=LOOPS[loop_name]) as runner:
        runner.run(main())


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    data = await reader.readline()
    writer.write(data.upper())
    await writer.drain()
    writer.close()


async def _ask(port: int, line: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(line)
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return answer


class _Collect(logging.Handler):
    """Keeps the zwiebel logger's warnings (whatever other tests did to propagation)."""

    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.WARNING)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class FailingSocket(socket.socket):
    """A listening socket whose first `failures` accept() calls fail with EMFILE."""

    failures = 0

    def accept(self) -> tuple[socket.socket, Any]:
        if self.failures:
            self.failures -= 1
            raise OSError(errno.EMFILE, "Too many open files")
        return super().accept()


@pytest.mark.parametrize("loop_name", sorted(LOOPS))
def test_start_server_serves_and_close_stops_accepting(loop_name: str) -> None:
    async def main() -> None:
        server = await listen.start_server(_echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        assert [await _ask(port, b"hello %d\n" % i) for i in range(3)] == \
            [b"HELLO %d\n" % i for i in range(3)]
        server.close()
        await server.wait_closed()
        assert not server.is_serving()
        with pytest.raises(OSError):
            await _ask(port, b"again\n")
    _run(loop_name, main)


@pytest.mark.parametrize("loop_name", sorted(LOOPS))
def test_out_of_descriptors_is_reported_and_the_listener_resumes(
        loop_name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The AcceptGuard (the daemon's exception handler) hears of EMFILE on either loop;
    the listener rests for RETRY_DELAY, then takes the waiting connection."""
    monkeypatch.setattr(listen, "RETRY_DELAY", 0.05)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        guard = AcceptGuard()
        loop.set_exception_handler(guard)
        [bound] = listen._bind("127.0.0.1", 0)
        sock = FailingSocket(bound.family, bound.type, bound.proto, bound.detach())
        sock.failures = 1
        server = listen.Listener(
            loop, [sock], lambda: asyncio.StreamReaderProtocol(asyncio.StreamReader(), _echo))
        port = sock.getsockname()[1]
        assert await _ask(port, b"patience\n") == b"PATIENCE\n"
        assert guard.refusals == 1
        server.close()

    records: list[logging.LogRecord] = []
    handler = _Collect(records)
    logger = logging.getLogger("zwiebel")
    logger.addHandler(handler)
    try:
        _run(loop_name, main)
    finally:
        logger.removeHandler(handler)
    [warning] = [r.getMessage() for r in records]
    assert warning.startswith("Failing to accept new connections on 127.0.0.1:")
    assert "Too many open files" in warning and "LimitNOFILE=" in warning


def test_bind_failure_names_the_address() -> None:
    async def main() -> None:
        first = await listen.create_server(asyncio.Protocol, "127.0.0.1", 0)
        port = first.sockets[0].getsockname()[1]
        try:
            with pytest.raises(OSError, match=f"127.0.0.1', {port}"):
                await listen.create_server(asyncio.Protocol, "127.0.0.1", port)
        finally:
            first.close()
    _run("uvloop", main)
