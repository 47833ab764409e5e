"""Exit streams under the token buckets (zwiebel.features.relay.exit_shaping): the gate that
combines SENDME-window and bucket pauses, and a loopback download held to the rate."""

from __future__ import annotations

import asyncio
import time

from tests.unit.relay.test_bandwidth import FakeTransport
from tests.unit.relay.test_relay_circuit_exit import Recorder
from zwiebel.cells.relay_msgs import Data, End, EndReason
from zwiebel.features.relay.exit import ExitHandler
from zwiebel.features.relay.exit_shaping import ReadGate
from zwiebel.netdoc.policy import ExitPolicy
from zwiebel.proto.relay_streams import BeginRequested
from zwiebel.proto.tokenbucket import BandwidthConfig
from zwiebel.runtime import ratelimit
from zwiebel.runtime.ratelimit import BandwidthLimiter


def test_gate_reads_only_while_both_reasons_are_clear() -> None:
    transport = FakeTransport()
    gate = ReadGate(transport)
    gate.pause_reading()
    gate.set_window_full(True)
    assert not transport.reading and gate.paused
    gate.resume_reading()  # the bucket refilled, but the window is still closed
    assert not transport.reading
    gate.set_window_full(False)
    assert transport.reading and not gate.paused
    gate.set_window_full(True)
    gate.pause_reading()
    gate.set_window_full(False)  # the window opened, but the bucket is still empty
    assert not transport.reading


def test_exit_shaper_follows_count_private() -> None:
    async def run() -> None:
        limiter = BandwidthLimiter(BandwidthConfig(rate=1000, burst=1000))
        shaped = BandwidthLimiter(BandwidthConfig(rate=1000, burst=1000, count_private=True))
        assert limiter.shaper(ReadGate(FakeTransport()), "127.0.0.2", False) is None
        assert shaped.shaper(ReadGate(FakeTransport()), "127.0.0.2", False) is not None

    asyncio.run(run())


RATE = 200_000
TOTAL = 700_000
#: asyncio reads at most this much per recv (selector_events max_size).
MAX_READ = 256 * 1024


async def _serve(size: int) -> tuple[asyncio.Server, int]:
    async def handle(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(b"z" * size)
        await w.drain()
        w.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, int(server.sockets[0].getsockname()[1])


async def _download(rec: Recorder, timeout: float) -> float:
    start = time.monotonic()
    while not any(isinstance(m, End) for _, m in rec.sent):
        assert time.monotonic() - start < timeout, "download did not finish"
        await asyncio.sleep(0.02)
    return time.monotonic() - start


def test_exit_reads_from_the_destination_take_read_tokens() -> None:
    """A 700 kB download at 200 kB/s with a 20 kB burst: at least (700 - 20 - 256) / 200
    seconds (one read may overdraw the bucket by a whole recv), and every byte arrives."""
    async def run() -> None:
        limiter = ratelimit.install(BandwidthConfig(rate=RATE, burst=20_000,
                                                    count_private=True, refill_interval=0.05))
        assert limiter is not None
        server, port = await _serve(TOTAL)
        rec = Recorder()
        try:
            ExitHandler(lambda: ExitPolicy.from_config(["accept *:*"])).on_stream_event(
                rec, BeginRequested(1, "127.0.0.1", port, 0))
            seconds = await _download(rec, 20.0)
        finally:
            ratelimit.install(None)
            server.close()
        got = sum(len(m.data) for _, m in rec.sent if isinstance(m, Data))
        assert got == TOTAL and rec.sent[-1] == (1, End(EndReason.DONE))
        assert seconds >= (TOTAL - 20_000 - MAX_READ) / RATE
        assert limiter.read_total == TOTAL

    asyncio.run(run())


def test_drain_writes_what_waits_for_tokens() -> None:
    """An exit connection closing (END from the client) writes its queue first, as tor
    flushes a marked connection; the buckets carry the debt."""
    async def run() -> None:
        now = [0.0]
        limiter = BandwidthLimiter(BandwidthConfig(rate=10_000, burst=10_000,
                                                   count_private=True),
                                   clock=lambda: now[0])
        transport = FakeTransport()
        shaper = limiter.shaper(ReadGate(transport), "127.0.0.2", False)
        assert shaper is not None
        shaper.write(b"x" * 15_000)
        shaper.write(b"y" * 100)
        assert shaper.queued == 100 and len(transport.written) == 15_000
        shaper.drain()
        assert shaper.queued == 0 and bytes(transport.written[-100:]) == b"y" * 100
        assert limiter.buckets.all.write == 10_000 - 15_100
        limiter.close()

    asyncio.run(run())
