"""The exit's answers to BEGIN, RESOLVE and BEGIN_DIR, on loopback, with a recording circuit."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import zlib
from collections.abc import Sequence

import pytest

from zwiebel.cells.relay_flow import Xoff, Xon
from zwiebel.cells.relay_message import RelayMessage
from zwiebel.cells.relay_msgs import Connected, Data, End, EndReason, Resolved
from zwiebel.features.relay.edges import Edge, UploadFlow, XonRate
from zwiebel.features.relay.exit import DNS_TTL, ExitHandler
from zwiebel.netdoc.policy import ExitPolicy
from zwiebel.proto.relay_streams import (
    BeginDirRequested,
    BeginRequested,
    ResolveRequested,
    StreamData,
)

LOCAL = ipaddress.IPv4Address("127.0.0.1")


class Recorder:
    """Stands in for `CircuitHandle`: records what the exit sends to the client."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, RelayMessage]] = []
        self.gid = 7
        self.closed = False
        self.flow_control = False
        self.xoff_limit = 500 * 488

    def xon_rate(self, stream_id: int) -> int:
        return 0

    def send(self, msg: RelayMessage, stream_id: int) -> None:
        self.sent.append((stream_id, msg))

    def data_room(self, stream_id: int) -> int:
        return 1000

    def send_data_run(self, stream_id: int, chunks: Sequence[bytes]) -> None:
        self.sent.extend((stream_id, Data(chunk)) for chunk in chunks)

    def forget_stream(self, stream_id: int) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _settle(rec: Recorder, count: int) -> None:
    for _ in range(200):
        if len(rec.sent) >= count:
            return
        await asyncio.sleep(0.01)


def _exit(*rules: str) -> ExitHandler:
    return ExitHandler(lambda: ExitPolicy.from_config(list(rules)))


def test_policy_reject_is_end_exitpolicy_with_address_and_ttl() -> None:
    async def run() -> None:
        rec = Recorder()
        _exit("reject *:*").on_stream_event(rec, BeginRequested(1, "127.0.0.1", 80, 0))
        await _settle(rec, 1)
        assert rec.sent == [(1, End(EndReason.EXITPOLICY, LOCAL, DNS_TTL))]
    asyncio.run(run())


def test_refused_connection_is_end_connectrefused() -> None:
    async def run() -> None:
        rec = Recorder()
        port = _free_port()
        _exit("accept *:*").on_stream_event(rec, BeginRequested(1, "127.0.0.1", port, 0))
        await _settle(rec, 1)
        assert rec.sent == [(1, End(EndReason.CONNECTREFUSED))]
    asyncio.run(run())


def test_connect_echo_and_done() -> None:
    async def run() -> None:
        async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(await reader.readexactly(5))
            await writer.drain()
            writer.close()
        server = await asyncio.start_server(echo, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        rec = Recorder()
        exit_ = _exit("accept 127.0.0.1:*")
        exit_.on_stream_event(rec, BeginRequested(3, "127.0.0.1", port, 0))
        exit_.on_stream_event(rec, StreamData(3, b"hello"))
        await _settle(rec, 3)
        assert rec.sent == [(3, Connected(LOCAL, DNS_TTL)), (3, Data(b"hello")),
                            (3, End(EndReason.DONE))]
        server.close()
    asyncio.run(run())


def test_resolve_localhost() -> None:
    async def run() -> None:
        rec = Recorder()
        _exit().on_stream_event(rec, ResolveRequested(4, "localhost"))
        await _settle(rec, 1)
        [(sid, msg)] = rec.sent
        assert sid == 4 and isinstance(msg, Resolved)
        assert LOCAL in [a.address for a in msg.answers]
    asyncio.run(run())


def test_begin_dir_answers_from_cache_compressed() -> None:
    async def cache(path: str) -> bytes | None:
        return b"document" if path == "/tor/x" else None

    async def run() -> None:
        rec = Recorder()
        exit_ = ExitHandler(lambda: ExitPolicy.from_config(["reject *:*"]), cache)
        exit_.on_stream_event(rec, BeginDirRequested(5))
        exit_.on_stream_event(rec, StreamData(5, b"GET /tor/x.z HTTP/1.0\r\n\r\n"))
        await _settle(rec, 3)
        assert rec.sent[0] == (5, Connected())
        body = b"".join(m.data for _, m in rec.sent if isinstance(m, Data))
        head, _, payload = body.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.0 200") and zlib.decompress(payload) == b"document"
        assert rec.sent[-1] == (5, End(EndReason.DONE))
    asyncio.run(run())


def test_begin_dir_without_cache_is_notdirectory() -> None:
    rec = Recorder()
    _exit().on_stream_event(rec, BeginDirRequested(6))
    assert rec.sent == [(6, End(EndReason.NOTDIRECTORY))]


class _Windowed(Recorder):
    """A recorder whose package windows allow `room` more DATA cells."""

    def __init__(self, room: int) -> None:
        super().__init__()
        self.room = room
        self.runs: list[int] = []

    def data_room(self, stream_id: int) -> int:
        return self.room

    def send_data_run(self, stream_id: int, chunks: Sequence[bytes]) -> None:
        assert len(chunks) <= self.room
        self.room -= len(chunks)
        self.runs.append(len(chunks))
        super().send_data_run(stream_id, chunks)


def test_pump_packages_what_the_windows_allow_in_one_call() -> None:
    """498-byte chunks in order, one call per pump, the rest kept until a SENDME."""
    data = bytes(range(256)) * 8
    circuit = _Windowed(room=3)
    edge = Edge(circuit, 5)
    edge.outbuf += data
    edge.eof = True
    edge.pump()
    assert circuit.runs == [3] and bytes(edge.outbuf) == data[3 * 498:]
    circuit.room = 100
    edge.pump()
    assert circuit.runs == [3, 2]
    assert [msg for _, msg in circuit.sent] == [
        Data(data[i:i + 498]) for i in range(0, len(data), 498)] + [End(EndReason.DONE)]


def test_upload_flow_xoff_after_the_grace_period_and_xon_when_drained(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """tor's flow_control_decide_xoff/_xon at an exit: over the limit for more than 5 ms
    when DATA arrives -> XOFF (once); the buffer empty -> XON with the drain rate in kB/s."""
    now = [100.0]
    monkeypatch.setattr("zwiebel.features.relay.edges.monotonic", lambda: now[0])
    rec = Recorder()
    flow = UploadFlow(rec, 3)
    flow.over_limit()  # without congestion control: the stream's windows do the job
    now[0] += 0.01
    flow.data_buffered(300_000)
    assert rec.sent == []
    rec.flow_control = True
    flow.data_buffered(300_000)
    flow.over_limit()
    now[0] += 0.004
    flow.data_buffered(300_000)
    assert rec.sent == []  # still in the grace period
    now[0] += 0.002
    flow.data_buffered(250_000)
    flow.data_buffered(260_000)
    assert rec.sent == [(3, Xoff())]
    now[0] += 0.5
    flow.drained()
    assert rec.sent == [(3, Xoff()), (3, Xon(500))]  # 250,000 bytes in 500 ms
    flow.drained()
    assert len(rec.sent) == 2


def test_xon_rate_limits_packaging(monkeypatch: pytest.MonkeyPatch) -> None:
    """An XON's advised rate becomes a bucket of that rate and burst (tor's
    token_bucket_rw_adjust): a burst's worth goes at once, the rest as it refills, and
    the stream is pumped again at the next refill interval."""
    now = [50.0]
    monkeypatch.setattr("zwiebel.features.relay.edges.monotonic", lambda: now[0])
    woken: list[float] = []

    async def run() -> None:
        rate = XonRate(lambda: woken.append(now[0]))
        assert rate.allow(100_000) == 100_000  # no XON rate yet: no limit
        rate.set(20_000)
        assert rate.allow(50_000) == 20_000
        assert rate.allow(10_000) == 0
        now[0] += 0.5
        # half a second: 476 of tor's coarse ticks (953/s), 29 whole 16-tick steps of
        # 335 bytes each (20,000 bytes/s per step, rounded down as tor does)
        assert rate.allow(50_000) == 29 * 335
        await asyncio.sleep(0.15)
        assert woken == [50.5]
        rate.set(0)
        assert rate.allow(70_000) == 70_000

    asyncio.run(run())
