"""Edge streams at the last hop of a circuit (tor-spec 6.2-6.4, 7.4), sans I/O.

The circuit core (`relay_circuit`) hands every recognized stream message here. This
module keeps one entry per stream ID with its kind (exit connection, directory stream,
pending RESOLVE) and its stream-level SENDME windows, and turns the client's messages into
events for the runtime: open this connection, serve this directory stream, resolve this
name, deliver these bytes, the client ended the stream.

Rules from tor 0.4.9 (`connection_edge.c`, `relay.c`):

* BEGIN or BEGIN_DIR on stream 0, or for a stream ID already in use, is dropped;
* BEGIN on a circuit whose previous channel is a *client* channel (the first hop of the
  client's circuit) is answered with END TORPROTOCOL: "Don't let clients use us as a
  single-hop proxy". BEGIN_DIR is allowed there;
* a BEGIN whose address does not parse gets END TORPROTOCOL;
* DATA for an unknown stream is dropped; DATA beyond the stream deliver window is a
  protocol violation of the whole circuit;
* stream SENDMEs are sent as soon as the deliver window allows (the runtime's transport
  buffers the bytes; tor waits for its outbuf to drain).

On a circuit with congestion control (`flow_control`, proposal 324 section 4) streams have
no windows: a stream SENDME from the client closes the circuit ("Congestion control got
stream sendme"), and the client's XOFF stops packaging on the stream until its XON, which
also advises a rate (`congestion_control_flow.c`). XON and XOFF on a circuit without
congestion control, for an unknown stream, or a second XOFF, are ignored as tor does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from zwiebel.cells.relay_ctrl import Sendme
from zwiebel.cells.relay_flow import Xoff, Xon
from zwiebel.cells.relay_message import RelayMessage
from zwiebel.cells.relay_msgs import Begin, BeginDir, Data, End, EndReason, Resolve
from zwiebel.netdoc.params import consensus_param
from zwiebel.proto.sendme import (
    FlowControlViolation,
    SendmeVerdict,
    StreamDeliverWindow,
    StreamPackageWindow,
)

#: tor's RELAY_PAYLOAD_SIZE_MIN: cc_xoff_exit counts in these.
_XOFF_UNIT = 488
#: XOFF is sent once the buffer toward the destination has stayed over the limit this
#: long (tor's XOFF_GRACE_PERIOD_USEC, in seconds).
XOFF_GRACE = 0.005


def xoff_exit_limit(params: Mapping[str, int]) -> int:
    """Bytes buffered toward a destination above which an exit sends XOFF (consensus
    cc_xoff_exit, default 500, 1..10000, times 488 bytes; tor's
    `flow_control_new_consensus_params`)."""
    return consensus_param(params, "cc_xoff_exit", 500, 1, 10000) * _XOFF_UNIT


#: tor's limit on an XON rate (bytes per second); above it, or 0, means no limit.
_INT32_MAX = 2**31 - 1
#: A stream's room under flow control without XOFF: the circuit's window decides.
_UNLIMITED = 2**31


class StreamKind(Enum):
    """What a stream at this hop is for."""

    EXIT = "exit"
    DIR = "dir"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class BeginRequested:
    """The client asks us to connect to address:port (hostname or IP literal)."""

    stream_id: int
    address: str
    port: int
    flags: int


@dataclass(frozen=True)
class BeginDirRequested:
    """The client opened a directory stream (an HTTP request follows as DATA)."""

    stream_id: int


@dataclass(frozen=True)
class ResolveRequested:
    """The client asks us to resolve `hostname` (or reverse-resolve an in-addr.arpa name)."""

    stream_id: int
    hostname: str


@dataclass(frozen=True)
class StreamData:
    """Bytes from the client for stream `stream_id`."""

    stream_id: int
    data: bytes


@dataclass(frozen=True)
class StreamEnded:
    """The client closed stream `stream_id` with END `reason`."""

    stream_id: int
    reason: int


@dataclass(frozen=True)
class StreamWindowOpened:
    """A SENDME or an XON made room: stream 0 means the circuit's package window."""

    stream_id: int


StreamEvent = (BeginRequested | BeginDirRequested | ResolveRequested | StreamData
               | StreamEnded | StreamWindowOpened)


@dataclass
class EdgeStream:
    """One stream's kind and windows."""

    kind: StreamKind
    package: StreamPackageWindow = field(default_factory=StreamPackageWindow)
    deliver: StreamDeliverWindow = field(default_factory=StreamDeliverWindow)
    bytes_in: int = 0
    bytes_out: int = 0
    #: Flow control: an XOFF holds packaging until the next XON; the XON's advised rate
    #: in bytes per second (0: none).
    xoff_received: bool = False
    xon_rate: int = 0


class StreamViolation(Exception):
    """The client broke the stream protocol in a way that closes the circuit."""


class StreamTable:
    """The streams of one circuit at its edge, and the replies they need.

    `handle` returns (events, replies): replies are (stream ID, message) pairs the
    circuit must originate toward the client.
    """

    def __init__(self, client_channel: bool, flow_control: bool = False) -> None:
        self.client_channel = client_channel
        self.flow_control = flow_control
        self.streams: dict[int, EdgeStream] = {}

    def __len__(self) -> int:
        return len(self.streams)

    def handle(self, stream_id: int, msg: RelayMessage
               ) -> tuple[list[StreamEvent], list[tuple[int, RelayMessage]]]:
        """Process one recognized stream message (stream_id != 0)."""
        if isinstance(msg, Data):
            return self._on_data(stream_id, msg), []
        if isinstance(msg, (Begin, BeginDir, Resolve)):
            return self._on_open(stream_id, msg)
        if isinstance(msg, End):
            if self.streams.pop(stream_id, None) is None:
                return [], []
            return [StreamEnded(stream_id, int(msg.reason))], []
        if isinstance(msg, Sendme):
            return self._on_sendme(stream_id), []
        if isinstance(msg, (Xoff, Xon)):
            return self._on_flow(stream_id, msg), []
        return [], []

    def _on_sendme(self, stream_id: int) -> list[StreamEvent]:
        stream = self.streams.get(stream_id)
        if stream is None:
            return []
        if self.flow_control:
            raise StreamViolation(f"stream {stream_id} SENDME on a circuit with congestion "
                                  "control")
        if stream.package.on_sendme() is not SendmeVerdict.OK:
            raise StreamViolation(f"stream {stream_id} SENDME overflows its window")
        return [StreamWindowOpened(stream_id)]

    def _on_flow(self, stream_id: int, msg: Xoff | Xon) -> list[StreamEvent]:
        """tor's circuit_process_stream_xoff / _xon at an exit."""
        stream = self.streams.get(stream_id)
        if stream is None or not self.flow_control:
            return []
        if isinstance(msg, Xoff):
            stream.xoff_received = True
            return []
        rate = msg.kbps_ewma * 1000
        stream.xon_rate = rate if 0 < rate <= _INT32_MAX else 0
        stream.xoff_received = False
        return [StreamWindowOpened(stream_id)]

    def _on_open(self, stream_id: int, msg: Begin | BeginDir | Resolve
                 ) -> tuple[list[StreamEvent], list[tuple[int, RelayMessage]]]:
        if stream_id in self.streams:
            return [], []
        if isinstance(msg, BeginDir):
            self.streams[stream_id] = EdgeStream(StreamKind.DIR)
            return [BeginDirRequested(stream_id)], []
        if isinstance(msg, Resolve):
            self.streams[stream_id] = EdgeStream(StreamKind.RESOLVE)
            return [ResolveRequested(stream_id, msg.hostname)], []
        if self.client_channel:
            return [], [(stream_id, End(EndReason.TORPROTOCOL))]
        self.streams[stream_id] = EdgeStream(StreamKind.EXIT)
        return [BeginRequested(stream_id, msg.address.lower(), msg.port, msg.flags)], []

    def _on_data(self, stream_id: int, msg: Data) -> list[StreamEvent]:
        stream = self.streams.get(stream_id)
        if stream is None or stream.kind is StreamKind.RESOLVE:
            return []
        if not self.flow_control:
            try:
                stream.deliver.on_data_received()
            except FlowControlViolation as exc:
                raise StreamViolation(str(exc)) from exc
        stream.bytes_in += len(msg.data)
        return [StreamData(stream_id, msg.data)]

    def sendmes_due(self, stream_id: int) -> int:
        """Stream-level SENDMEs to send now for `stream_id`."""
        stream = self.streams.get(stream_id)
        if stream is None or self.flow_control:
            return 0
        return stream.deliver.sendmes_due()

    def room(self, stream_id: int) -> int:
        """DATA cells the stream may package now: its package window, or with flow
        control none after an XOFF and no stream limit otherwise."""
        stream = self.streams.get(stream_id)
        if stream is None:
            return 0
        if self.flow_control:
            return 0 if stream.xoff_received else _UNLIMITED
        return stream.package.window

    def can_send(self, stream_id: int) -> bool:
        """True if the stream may package one more DATA cell."""
        return self.room(stream_id) > 0

    def on_sent(self, stream_id: int, n: int, cells: int = 1) -> None:
        """Account for `cells` DATA cells of `n` bytes in all we sent on the stream."""
        stream = self.streams[stream_id]
        if not self.flow_control:
            stream.package.on_data_sent(cells)
        stream.bytes_out += n

    def forget(self, stream_id: int) -> None:
        """Drop a stream we ended or that failed."""
        self.streams.pop(stream_id, None)
