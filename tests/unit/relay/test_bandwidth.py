"""Observed bandwidth (zwiebel.features.relay.bandwidth against tor's bwhist.c) and the
asyncio shaper of zwiebel.runtime.ratelimit over a fake transport."""

from __future__ import annotations

import asyncio

from zwiebel.features.relay.bandwidth import (
    PERIOD_SECONDS,
    BandwidthArray,
    BandwidthHistory,
)
from zwiebel.proto.tokenbucket import BandwidthConfig
from zwiebel.runtime.ratelimit import QUEUE_HIGH, BandwidthLimiter

T0 = 1_800_000_000


def test_ten_second_rolling_maximum() -> None:
    array = BandwidthArray(T0)
    for second in range(30):
        array.add(T0 + second, 1000 if second < 20 else 0)
    array.add(T0 + 31, 0)
    assert array.max_total == 10_000
    array.add(T0 - 5, 10**9)  # the past is ignored
    assert array.max_total == 10_000


def test_burst_shorter_than_window() -> None:
    array = BandwidthArray(T0)
    array.add(T0, 50_000)
    array.add(T0 + 20, 0)
    assert array.max_total == 50_000


def test_observed_is_min_of_read_and_write_over_ten() -> None:
    history = BandwidthHistory(T0, min_observation=0)
    for second in range(15):
        history.note(T0 + second, 2000, 1000)
    history.note(T0 + 15, 0, 0)
    assert history.observed() == 1000


def test_current_day_needs_min_observation_time() -> None:
    history = BandwidthHistory(T0)
    for second in range(15):
        history.note(T0 + second, 1000, 1000)
    history.note(T0 + 15, 0, 0)
    assert history.observed() == 0
    history.note(T0 + PERIOD_SECONDS + 1, 0, 0)  # the day is committed
    assert history.observed() == 1000


def test_long_gap_starts_over() -> None:
    history = BandwidthHistory(T0, min_observation=0)
    history.note(T0, 10_000, 10_000)
    history.note(T0 + 10 * PERIOD_SECONDS, 0, 0)
    assert history.observed() == 0


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.reading = True

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += data

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def is_closing(self) -> bool:
        return False


def test_shaper_pauses_reading_and_queues_writes() -> None:
    async def run() -> None:
        now = [0.0]
        config = BandwidthConfig(rate=10_000, burst=10_000, count_private=True,
                                 refill_interval=0.01)
        limiter = BandwidthLimiter(config, clock=lambda: now[0])
        transport = FakeTransport()
        pressure: list[bool] = []
        shaper = limiter.shaper(transport, "127.0.0.1", True, pressure.append)
        assert shaper is not None
        shaper.note_read(12_000)
        assert not transport.reading
        shaper.write(b"x" * 15_000)
        shaper.write(b"y" * (QUEUE_HIGH + 1))
        assert len(transport.written) == 15_000 and pressure == [True]
        now[0] = 1.0
        await asyncio.sleep(0.05)
        assert transport.reading
        assert 15_000 < len(transport.written) <= 15_000 + 10_000
        assert limiter.read_total == 12_000 and limiter.written_total == len(transport.written)
        limiter.close()

    asyncio.run(run())


def test_private_peer_not_shaped() -> None:
    async def run() -> None:
        limiter = BandwidthLimiter(BandwidthConfig(rate=1000, burst=1000))
        assert limiter.shaper(FakeTransport(), "127.0.0.1", True) is None
        assert limiter.shaper(FakeTransport(), "8.8.8.8", False) is not None

    asyncio.run(run())
