"""Tor streams as asyncio byte streams (tor-spec 6.2-6.4).

A `Stream` belongs to one `Circuit`. Incoming DATA is queued for `read` (a deque and an
event, not an asyncio.Queue: one append per cell, and `read` joins what arrived); `write`
appends to a send buffer that a pump task packages into DATA cells as fast as the
stream and circuit SENDME windows and the channel's write buffer allow. `drain`
waits until the buffer has gone out, which gives callers backpressure.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from zwiebel.cells.relay import RELAY_DATA_MAX
from zwiebel.cells.relay_message import RelayMessage
from zwiebel.cells.relay_msgs import Connected, Data, End, EndReason, Resolved

if TYPE_CHECKING:
    from zwiebel.runtime.circuit import Circuit

#: At most this many received bytes are joined into one `read` result.
READ_BATCH = 1024 * 1024
#: Stream SENDMEs are sent once fewer than this many cells wait for the reader.
CONSUMED_CELLS = 10
#: The send buffer size above which `drain` blocks the writer.
HIGH_WATER = 256 * 1024


class StreamClosed(Exception):
    """The stream ended; `reason` is the END reason (tor-spec 6.3)."""

    def __init__(self, reason: int, message: str = "") -> None:
        super().__init__(message or f"stream closed: {_reason_name(reason)}")
        self.reason = reason


def _reason_name(reason: int) -> str:
    try:
        return EndReason(reason).name
    except ValueError:
        return str(reason)


class Stream:
    """One stream on a circuit: BEGIN/BEGIN_DIR/RESOLVE, then DATA until END."""

    def __init__(self, circuit: Circuit, stream_id: int, hop: int = -1) -> None:
        self.circuit = circuit
        self.stream_id = stream_id
        #: The hop the stream ends at (0-based; -1: the last), ATTACHSTREAM HOP=.
        self.hop = hop
        self.opened: asyncio.Future[RelayMessage] = asyncio.get_running_loop().create_future()
        self.end_reason: int | None = None
        self.bytes_read = 0
        self.bytes_written = 0
        #: Called once with the END reason when the stream ends (for STREAM events).
        self.on_end: Callable[[int], None] | None = None
        self._incoming: deque[bytes] = deque()
        self._readable = asyncio.Event()
        self._sendbuf = bytearray()
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self._empty = asyncio.Event()
        self._empty.set()
        self._pump: asyncio.Task[None] | None = None

    # -- events from the circuit ---------------------------------------------
    def on_message(self, msg: RelayMessage) -> None:
        """A relay message for this stream arrived."""
        if isinstance(msg, Data):
            self.on_data([msg.data])
        elif isinstance(msg, (Connected, Resolved)):
            if not self.opened.done():
                self.opened.set_result(msg)
        elif isinstance(msg, End):
            self.on_closed(int(msg.reason), msg)

    def on_data(self, chunks: list[bytes]) -> None:
        """DATA bodies for this stream arrived, in order."""
        self.bytes_read += sum(map(len, chunks))
        self._incoming.extend(chunks)
        self._readable.set()

    def on_window(self) -> None:
        """A SENDME opened a window: let the pump continue."""
        self._wake.set()

    def on_closed(self, reason: int, msg: RelayMessage | None = None) -> None:
        """The stream or its circuit ended."""
        if self.end_reason is not None:
            return
        self.end_reason = reason
        if self.on_end is not None:
            self.on_end(reason)
        if not self.opened.done():
            if isinstance(msg, End):
                self.opened.set_result(msg)
            else:
                self.opened.set_exception(StreamClosed(reason))
        self._readable.set()
        self._wake.set()
        self._room.set()
        self._empty.set()

    # -- the ByteStream interface ----------------------------------------------
    async def read(self) -> bytes:
        """The next received bytes; b"" once the stream ended."""
        incoming = self._incoming
        while not incoming:
            if self.end_reason is not None:
                return b""
            self._readable.clear()
            await self._readable.wait()
        chunks = []
        size = 0
        while incoming and size < READ_BATCH:
            chunk = incoming.popleft()
            chunks.append(chunk)
            size += len(chunk)
        if len(incoming) < CONSUMED_CELLS:
            self.circuit.stream_consumed(self)
        return b"".join(chunks)

    def write(self, data: bytes) -> None:
        """Queue bytes to send as DATA cells."""
        if self.end_reason is not None:
            raise StreamClosed(self.end_reason)
        self._sendbuf += data
        self._empty.clear()
        if len(self._sendbuf) > HIGH_WATER:
            self._room.clear()
        self._wake.set()
        if self._pump is None:
            self._pump = asyncio.get_running_loop().create_task(self._run_pump())

    async def drain(self) -> None:
        """Wait while more than HIGH_WATER bytes are waiting to be sent."""
        await self._room.wait()

    async def flush(self) -> None:
        """Wait until every queued byte has been packaged."""
        await self._empty.wait()

    def close(self, reason: int = EndReason.DONE) -> None:
        """Send END (after queued data) and forget the stream."""
        if self.end_reason is not None:
            return
        if self._sendbuf:
            asyncio.get_running_loop().create_task(self._close_after_flush(reason))
            return
        self.circuit.end_stream(self, reason)

    async def _close_after_flush(self, reason: int) -> None:
        await self.flush()
        if self.end_reason is None:
            self.circuit.end_stream(self, reason)

    async def _run_pump(self) -> None:
        while self.end_reason is None:
            if not self._sendbuf:
                self._empty.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            if not self.circuit.can_send_data(self):
                self._wake.clear()
                await self._wake.wait()
                continue
            await self.circuit.channel_writable()
            chunk = bytes(self._sendbuf[:RELAY_DATA_MAX])
            del self._sendbuf[:RELAY_DATA_MAX]
            self.bytes_written += len(chunk)
            self.circuit.send_data(self, chunk)
            if len(self._sendbuf) <= HIGH_WATER:
                self._room.set()
