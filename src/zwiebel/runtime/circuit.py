"""Client circuits driven by asyncio (tor-spec 5, 6).

`Circuit` owns a sans-I/O `ClientCircuit` and the channel it runs on: cells from the
channel go into the core, cells the core queues go out on the channel, and the core's
events complete build steps and feed streams.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable
from dataclasses import dataclass

from zwiebel.cells.circuit import CELL_PAYLOAD_LEN, DestroyReason
from zwiebel.cells.linkspec import LinkSpecEd25519Id, LinkSpecIPv4, LinkSpecLegacyId
from zwiebel.cells.relay import RELAY_DATA_MAX
from zwiebel.cells.relay_message import RelayMessage
from zwiebel.cells.relay_msgs import (
    Begin,
    BeginDir,
    Connected,
    End,
    EndReason,
    Resolve,
    Resolved,
)
from zwiebel.netdir.relay import RelayInfo
from zwiebel.proto.circuit import (
    CircuitDestroyed,
    CircuitEvent,
    CircuitFailed,
    CircuitTruncated,
    ClientCircuit,
    DataReceived,
    HopAdded,
    StreamMessage,
    WindowOpened,
)
from zwiebel.runtime.channel import Channel
from zwiebel.runtime.clock import monotonic, rng, utcnow
from zwiebel.runtime.stream import Stream, StreamClosed

log = logging.getLogger("zwiebel")


class CircuitError(Exception):
    """A circuit could not be built or was torn down."""


@dataclass
class CircuitTraffic:
    """Counters as tor keeps them for CIRC_BW (control-spec 4.1.25): every cell counts
    CELL_PAYLOAD_LEN bytes; DATA bytes are *delivered*, the rest of their cells'
    relay payload is *overhead*."""

    read: int = 0
    written: int = 0
    delivered_read: int = 0
    overhead_read: int = 0
    delivered_written: int = 0
    overhead_written: int = 0

    def data_read(self, size: int, cells: int = 1) -> None:
        """``cells`` DATA cells with ``size`` bytes in all arrived."""
        self.delivered_read += size
        self.overhead_read += RELAY_DATA_MAX * cells - size

    def data_written(self, size: int) -> None:
        """A DATA cell with ``size`` bytes was packaged."""
        self.delivered_written += size
        self.overhead_written += RELAY_DATA_MAX - size


class Circuit:
    """One client circuit on one channel."""

    def __init__(self, channel: Channel, global_id: int) -> None:
        self.channel = channel
        self.global_id = global_id
        self.core = ClientCircuit(rng)
        self.circ_id = channel.allocate_circuit(self._on_cells, self._on_channel_closed)
        self.path: list[RelayInfo] = []
        self.created_at = monotonic()
        self.time_created = utcnow()
        #: Called once with the reason when the circuit is torn down (for CIRC events).
        self.on_teardown: Callable[[str], None] | None = None
        self.dirty_since: float | None = None
        self.isolation: object | None = None
        self.closed_reason: str | None = None
        #: GENERAL or CONTROLLER (SETCIRCUITPURPOSE); only GENERAL takes automatic streams.
        self.purpose = "GENERAL"
        #: Cell bytes read and written, and the DATA bytes among them (for CIRC_BW).
        self.traffic = CircuitTraffic()
        self._hop_waiter: asyncio.Future[int] | None = None
        self._streams: dict[int, Stream] = {}
        self._resolves: dict[int, asyncio.Future[Resolved | End]] = {}

    # -- building -----------------------------------------------------------------
    async def create(self, first: RelayInfo | None, timeout: float) -> None:
        """Create the first hop: ntor when its onion key is known, else CREATE_FAST."""
        if first is not None and first.ntor_onion_key is not None:
            self.core.create_ntor(first.rsa_identity, first.ntor_onion_key)
        else:
            self.core.create_fast()
        await self._await_hop(timeout)
        if first is not None:
            self.path.append(first)

    async def extend(self, relay: RelayInfo, timeout: float) -> None:
        """Extend to `relay` with EXTEND2 and ntor."""
        if relay.ntor_onion_key is None:
            raise CircuitError(f"no ntor onion key for ${relay.fingerprint}")
        specs: list[LinkSpecIPv4 | LinkSpecLegacyId | LinkSpecEd25519Id] = [
            LinkSpecIPv4(ipaddress.IPv4Address(relay.address), relay.or_port),
            LinkSpecLegacyId(relay.rsa_identity),
        ]
        if relay.ed25519_identity is not None:
            specs.append(LinkSpecEd25519Id(relay.ed25519_identity))
        self.core.extend_ntor(tuple(specs), relay.rsa_identity, relay.ntor_onion_key)
        await self._await_hop(timeout)
        self.path.append(relay)

    async def _await_hop(self, timeout: float) -> None:
        self._hop_waiter = asyncio.get_running_loop().create_future()
        self._flush()
        try:
            async with asyncio.timeout(timeout):
                await self._hop_waiter
        except TimeoutError:
            self.close("circuit build timed out")
            raise CircuitError("circuit build timed out") from None
        finally:
            self._hop_waiter = None

    def mark_open(self) -> None:
        """All hops are built."""
        self.core.mark_open()

    @property
    def is_open(self) -> bool:
        """True until the circuit is destroyed."""
        return self.closed_reason is None

    # -- streams --------------------------------------------------------------------
    async def open_stream(self, address: str, port: int, timeout: float,
                          hop: int = -1) -> Stream:
        """BEGIN to address:port at ``hop`` (0-based; default the last); returns once
        CONNECTED arrives."""
        return await self._begin(Begin(address, port), hop, timeout)

    async def open_dir_stream(self, timeout: float) -> Stream:
        """BEGIN_DIR to the last hop's directory cache (tor-spec 6.2)."""
        return await self._begin(BeginDir(), -1, timeout)

    async def _begin(self, msg: RelayMessage, hop: int, timeout: float) -> Stream:
        stream_id = self.core.new_stream_id()
        stream = Stream(self, stream_id, hop)
        self._streams[stream_id] = stream
        self.core.send_message(msg, stream_id, hop)
        self._flush()
        if self.dirty_since is None:
            self.dirty_since = monotonic()
        try:
            async with asyncio.timeout(timeout):
                reply = await stream.opened
        except TimeoutError:
            self.end_stream(stream, EndReason.TIMEOUT)
            raise StreamClosed(EndReason.TIMEOUT, "timed out waiting for CONNECTED") from None
        if isinstance(reply, End):
            self._forget(stream_id)
            raise StreamClosed(int(reply.reason))
        assert isinstance(reply, Connected)
        return stream

    async def resolve(self, hostname: str, timeout: float) -> Resolved:
        """RELAY_RESOLVE at the exit (tor-spec 6.4)."""
        stream_id = self.core.new_stream_id()
        fut: asyncio.Future[Resolved | End] = asyncio.get_running_loop().create_future()
        self._resolves[stream_id] = fut
        self.core.send_message(Resolve(hostname), stream_id)
        self._flush()
        try:
            async with asyncio.timeout(timeout):
                reply = await fut
        finally:
            self._resolves.pop(stream_id, None)
            self.core.forget_stream(stream_id)
        if isinstance(reply, End):
            raise StreamClosed(int(reply.reason))
        return reply

    def end_stream(self, stream: Stream, reason: int) -> None:
        """Send END for `stream` and forget it."""
        if self.is_open and stream.stream_id in self._streams:
            self.core.send_message(End(EndReason(reason)), stream.stream_id, stream.hop)
            self._flush()
        self._forget(stream.stream_id)
        stream.on_closed(reason)

    def _forget(self, stream_id: int) -> None:
        self._streams.pop(stream_id, None)
        self.core.forget_stream(stream_id)

    def can_send_data(self, stream: Stream) -> bool:
        """True if the SENDME windows allow one more DATA cell on `stream`."""
        return self.is_open and self.core.can_send_data(stream.stream_id, stream.hop)

    def send_data(self, stream: Stream, data: bytes) -> None:
        """Package one DATA cell."""
        self.core.send_data(stream.stream_id, data, stream.hop)
        self.traffic.data_written(len(data))
        self._flush()

    def stream_consumed(self, stream: Stream) -> None:
        """The reader took buffered data: send the stream SENDMEs now due."""
        if self.is_open:
            self.core.stream_consumed(stream.stream_id, stream.hop)
            self._flush()

    async def channel_writable(self) -> None:
        """Wait while the channel's write buffer is full."""
        await self.channel.writable.wait()

    @property
    def stream_count(self) -> int:
        """Open streams on this circuit."""
        return len(self._streams)

    # -- teardown -----------------------------------------------------------------
    def close(self, reason: str = "closed") -> None:
        """Send DESTROY and tear everything down."""
        if self.closed_reason is not None:
            return
        if self.channel.is_open():
            self.core.destroy()
            self._flush()
        self._teardown(reason)

    def _teardown(self, reason: str) -> None:
        if self.closed_reason is not None:
            return
        self.closed_reason = reason
        if self.on_teardown is not None:
            self.on_teardown(reason)
        self.channel.release_circuit(self.circ_id)
        if self._hop_waiter is not None and not self._hop_waiter.done():
            self._hop_waiter.set_exception(CircuitError(reason))
        streams, self._streams = self._streams, {}
        for stream in streams.values():
            stream.on_closed(EndReason.DESTROY)
        for fut in self._resolves.values():
            if not fut.done():
                fut.set_exception(StreamClosed(EndReason.DESTROY))

    def _on_channel_closed(self, reason: str) -> None:
        self._teardown(f"channel closed: {reason}")

    # -- cells in ---------------------------------------------------------------------
    def _flush(self) -> None:
        for command, payload in self.core.cells_to_send():
            if self.channel.is_open():
                self.channel.send_cell(self.circ_id, command, payload)
                self.traffic.written += CELL_PAYLOAD_LEN

    def _on_cells(self, cells: list[tuple[int, bytes]]) -> None:
        self.traffic.read += CELL_PAYLOAD_LEN * len(cells)
        events = self.core.handle_cells(cells)
        self._flush()
        for event in events:
            self._on_event(event)

    def _on_event(self, event: CircuitEvent) -> None:
        if type(event) is DataReceived:
            self._on_stream_data(event)
        elif isinstance(event, StreamMessage):
            self._on_stream_message(event)
        elif isinstance(event, WindowOpened):
            targets = self._streams.values() if event.stream_id == 0 else [
                s for s in (self._streams.get(event.stream_id),) if s is not None]
            for stream in targets:
                stream.on_window()
        elif isinstance(event, HopAdded):
            if self._hop_waiter is not None and not self._hop_waiter.done():
                self._hop_waiter.set_result(event.hop)
        elif isinstance(event, CircuitDestroyed):
            self._teardown(f"destroyed by peer: {_destroy_name(event.reason)}")
        elif isinstance(event, CircuitTruncated):
            self.close(f"truncated: {_destroy_name(event.reason)}")
        elif isinstance(event, CircuitFailed):
            log.warning("Circuit %d: protocol violation: %s", self.global_id, event.reason)
            self.close(f"protocol violation: {event.reason}")

    def _on_stream_data(self, event: DataReceived) -> None:
        self.traffic.data_read(sum(map(len, event.chunks)), event.cells)
        stream = self._streams.get(event.stream_id)
        if stream is not None:
            stream.on_data(event.chunks)

    def _on_stream_message(self, event: StreamMessage) -> None:
        fut = self._resolves.get(event.stream_id)
        if fut is not None and isinstance(event.message, (Resolved, End)):
            if not fut.done():
                fut.set_result(event.message)
            return
        stream = self._streams.get(event.stream_id)
        if stream is None:
            return
        if isinstance(event.message, End):
            self._forget(event.stream_id)
        stream.on_message(event.message)


def _destroy_name(reason: int) -> str:
    try:
        return DestroyReason(reason).name
    except ValueError:
        return str(reason)
