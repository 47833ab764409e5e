"""The buffered randomness and the event-loop choice (runtime.clock, runtime.eventloop)."""

from __future__ import annotations

import asyncio

import pytest
import uvloop

from zwiebel.runtime import clock
from zwiebel.runtime.eventloop import loop_factory


def test_rng_hands_out_each_pooled_byte_once() -> None:
    pool = clock._Pool()
    pieces = [pool.take(n) for n in (1, 100, 491, 4096) * 40]
    assert [len(p) for p in pieces] == [1, 100, 491, 4096] * 40
    joined = b"".join(pieces)
    # Across 64 KiB refills, no 32-byte piece of what was handed out repeats.
    windows = [joined[i:i + 32] for i in range(0, len(joined) - 31, 32)]
    assert len(windows) > 5000 and len(set(windows)) == len(windows)


def test_rng_large_requests_bypass_the_pool() -> None:
    pool = clock._Pool()
    assert len(pool.take(clock._Pool.SIZE)) == clock._Pool.SIZE
    assert pool._buf == b""
    assert len(clock.rng(32)) == 32 and clock.rng(32) != clock.rng(32)


def test_event_loop_is_uvloop_unless_asked_for_asyncio(monkeypatch: pytest.MonkeyPatch) -> None:
    factory = loop_factory()
    assert factory is uvloop.new_event_loop
    loop = factory()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()
    monkeypatch.setenv("ZWIEBEL_EVENT_LOOP", "asyncio")
    assert loop_factory() is None
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        assert not isinstance(runner.get_loop(), uvloop.Loop)
