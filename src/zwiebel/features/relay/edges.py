"""The two kinds of stream an exit serves (tor-spec 6.2, 6.3): `ExitStream`, a TCP
connection to the destination, and `DirStream`, a BEGIN_DIR stream answered from the
directory cache. Both package what goes to the client as DATA cells as the SENDME
windows allow (`Edge.pump`); `features.relay.exit.ExitHandler` opens and ends them.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import zlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, cast

from zwiebel.cells.relay import RELAY_DATA_MAX
from zwiebel.cells.relay_flow import Xoff, Xon
from zwiebel.cells.relay_message import RelayMessage
from zwiebel.cells.relay_msgs import End, EndReason
from zwiebel.features.relay.exit_shaping import ReadGate, exit_shaper
from zwiebel.proto.relay_streams import XOFF_GRACE
from zwiebel.proto.tokenbucket import REFILL_INTERVAL, RwBucket
from zwiebel.runtime.clock import monotonic
from zwiebel.runtime.ratelimit import Shaper

_ERRNO_REASONS = {
    errno.ECONNREFUSED: EndReason.CONNECTREFUSED, errno.ECONNRESET: EndReason.CONNRESET,
    errno.ENETUNREACH: EndReason.NOROUTE, errno.EHOSTUNREACH: EndReason.NOROUTE,
    errno.ETIMEDOUT: EndReason.TIMEOUT,
}

log = logging.getLogger("zwiebel")

#: Bytes buffered from the server before reading pauses.
READ_HIGH_WATER = 64 * 1024
#: Largest HTTP request head accepted on a directory stream.
MAX_DIR_REQUEST = 8192

#: The directory cache: URL path -> document bytes, or None (404).
DirCache = Callable[[str], Awaitable[bytes | None]]


class CircuitHandle(Protocol):
    """What the exit needs of a circuit (`circuit_entry.CircuitHandle` is the real one)."""

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

    @property
    def flow_control(self) -> bool:
        """True when the circuit's streams use XON/XOFF (congestion control)."""

    @property
    def xoff_limit(self) -> int:
        """Bytes buffered toward a destination above which XOFF is due."""

    def xon_rate(self, stream_id: int) -> int:
        """The rate the client's last XON advised for the stream (bytes/s; 0: none)."""




def _nothing() -> None:
    """The default `Edge.on_done`."""


class Edge:
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
        self.rate = XonRate(self.pump)

    def pump(self) -> None:
        """Package as many DATA cells as the windows (and an XON's advised rate) allow,
        in one call (498-byte chunks, as tor packages them); END DONE after EOF."""
        outbuf = self.outbuf
        room = self.circuit.data_room(self.stream_id) if outbuf and not self.done else 0
        size = self.rate.allow(min(len(outbuf), room * RELAY_DATA_MAX)) if room else 0
        if size:
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


class XonRate:
    """The rate a client advised in its last XON, applied to what the stream packages
    (tor adjusts the edge connection's token bucket to it, rate and burst alike, in
    `circuit_process_stream_xon`). Without an advised rate nothing is limited; when the
    bucket is empty, `wake` runs again at the next refill interval."""

    __slots__ = ("bucket", "wake", "_timer")

    def __init__(self, wake: Callable[[], None]) -> None:
        self.bucket: RwBucket | None = None
        self.wake = wake
        self._timer: asyncio.TimerHandle | None = None

    def set(self, rate: int) -> None:
        """A new advised rate in bytes per second (0: no limit)."""
        if rate <= 0:
            self.bucket = None
        elif self.bucket is None:
            self.bucket = RwBucket(rate, rate, monotonic())
        else:
            self.bucket.adjust(rate, rate)

    def allow(self, size: int) -> int:
        """How many of `size` bytes may be packaged now (they are taken)."""
        bucket = self.bucket
        if bucket is None or not size:
            return size
        bucket.refill(monotonic())
        allowed = max(0, min(size, bucket.read))
        bucket.spend(allowed, 0)
        if allowed < size and self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(REFILL_INTERVAL, self._woken)
        return allowed

    def _woken(self) -> None:
        self._timer = None
        self.wake()


class ExitStream(Edge, asyncio.Protocol):
    """A TCP connection to the destination for one BEGIN."""

    def __init__(self, circuit: CircuitHandle, stream_id: int) -> None:
        super().__init__(circuit, stream_id)
        self.transport: asyncio.Transport | None = None
        self.gate: ReadGate | None = None
        self.shaper: Shaper | None = None
        self.pending = bytearray()
        self.uploads = UploadFlow(circuit, stream_id)

    @property
    def paused(self) -> bool:
        """True while the destination socket is not read."""
        return self.gate is not None and self.gate.paused

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Join the token buckets and write any optimistic data."""
        self.transport = cast(asyncio.Transport, transport)  # also uvloop's, not a subclass
        self.gate = ReadGate(self.transport)
        self.shaper = exit_shaper(self.gate)
        if self.circuit.flow_control:
            self.transport.set_write_buffer_limits(high=self.circuit.xoff_limit, low=0)
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
            self.finish(errno_reason(exc, EndReason.CONNRESET))
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
            self.uploads.data_buffered(self.transport.get_write_buffer_size())

    def pause_writing(self) -> None:
        """More than the XOFF limit waits for the destination."""
        self.uploads.over_limit()

    def resume_writing(self) -> None:
        """Everything was written to the destination."""
        self.uploads.drained()

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


class UploadFlow:
    """XOFF and XON for what the client sends on a congestion-controlled circuit (tor's
    `flow_control_decide_xoff` / `_xon` at an exit): XOFF once the buffer toward the
    destination has stayed over the limit for the grace period, XON with the rate it
    drained at once it is empty."""

    __slots__ = ("circuit", "stream_id", "over_since", "xoff_at", "xoff_buffered",
                 "xoff_sent")

    def __init__(self, circuit: CircuitHandle, stream_id: int) -> None:
        self.circuit = circuit
        self.stream_id = stream_id
        self.over_since: float | None = None
        self.xoff_at = 0.0
        self.xoff_buffered = 0
        self.xoff_sent = False

    def over_limit(self) -> None:
        """The buffer went over the XOFF limit (on a circuit without congestion control
        the transport's own high-water mark: nothing to do, the stream has windows)."""
        if self.over_since is None and self.circuit.flow_control:
            self.over_since = monotonic()

    def data_buffered(self, buffered: int) -> None:
        """DATA from the client was queued for the destination."""
        if (self.over_since is None or self.xoff_sent or self.circuit.closed
                or monotonic() - self.over_since <= XOFF_GRACE):
            return
        self.xoff_sent = True
        self.xoff_at = monotonic()
        self.xoff_buffered = buffered
        log.info("Sending XOFF on stream %d of circuit %d: %d bytes buffered",
                 self.stream_id, self.circuit.gid, buffered)
        self.circuit.send(Xoff(), self.stream_id)

    def drained(self) -> None:
        """The buffer is empty: XON, with the drain rate in kB/s."""
        self.over_since = None
        if not self.xoff_sent or self.circuit.closed:
            return
        self.xoff_sent = False
        elapsed_ms = max(monotonic() - self.xoff_at, 1e-6) * 1000
        rate = max(1, int(self.xoff_buffered / elapsed_ms))
        log.info("Sending XON on stream %d of circuit %d: drained at %d kB/s",
                 self.stream_id, self.circuit.gid, rate)
        self.circuit.send(Xon(rate), self.stream_id)


class DirStream(Edge):
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


def errno_reason(exc: BaseException, default: EndReason) -> EndReason:
    """tor's errno_to_stream_end_reason: the END reason for a failed connection."""
    if isinstance(exc, ConnectionRefusedError):
        return EndReason.CONNECTREFUSED
    code = getattr(exc, "errno", None)
    return _ERRNO_REASONS.get(code, default) if isinstance(code, int) else default
