"""Directory requests over a DirPort or any byte stream (dir-spec 6).

`fetch_over` drives a sans-I/O `DirExchange` over anything with `write`, `read` and
`close` (a TCP connection to a DirPort, or a BEGIN_DIR stream on a circuit).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from zwiebel.proto.dirhttp import DirExchange, DirResponse


class ByteStream(Protocol):
    """A bidirectional byte stream; `read` returns b"" at end of stream."""

    def write(self, data: bytes) -> None:
        """Queue bytes for sending."""

    async def read(self) -> bytes:
        """The next received bytes, or b"" once the peer closed."""

    def close(self) -> None:
        """Close the stream."""


class TcpByteStream:
    """`ByteStream` over an asyncio TCP connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def connect(cls, host: str, port: int) -> TcpByteStream:
        """Open a TCP connection."""
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    def write(self, data: bytes) -> None:
        """Queue bytes for sending."""
        self._writer.write(data)

    async def read(self) -> bytes:
        """The next received bytes, or b"" at EOF."""
        return await self._reader.read(65536)

    def close(self) -> None:
        """Close the connection."""
        self._writer.close()


async def fetch_over(stream: ByteStream, path: str, host: str = "127.0.0.1") -> DirResponse:
    """Send one GET for `path` and read the whole response."""
    exchange = DirExchange(path, host)
    try:
        stream.write(exchange.request_bytes())
        while exchange.response is None:
            exchange.receive(await stream.read())
    finally:
        stream.close()
    return exchange.response


async def fetch_dirport(host: str, port: int, path: str, timeout: float = 30.0) -> DirResponse:
    """GET `path` from a DirPort, bounded by `timeout` seconds."""
    async with asyncio.timeout(timeout):
        stream = await TcpByteStream.connect(host, port)
        return await fetch_over(stream, path, f"{host}:{port}")
