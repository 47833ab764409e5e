"""Token-bucket arithmetic (zwiebel.proto.tokenbucket against tor's token_bucket.c)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.proto.tokenbucket import (
    STAMP_TICKS_PER_SECOND,
    TICKS_PER_STEP,
    BandwidthConfig,
    GlobalBuckets,
    RwBucket,
    is_rate_limited,
    rate_per_step,
)

MB = 1 << 20


def test_rate_per_step_matches_tor() -> None:
    # tor: (rate * 16) stamp units -> msec (*1000/953) -> /1000, at least 1.
    assert rate_per_step(MB) == MB * 16 * 1000 // 953 // 1000 == 17604
    assert rate_per_step(1) == 1
    assert rate_per_step(100) == 1


def test_starts_full_and_refills_in_whole_steps() -> None:
    bucket = RwBucket(MB, MB, now=10.0)
    assert (bucket.read, bucket.write) == (MB, MB)
    bucket.spend(MB, 100)
    assert bucket.read == 0
    step = TICKS_PER_STEP / STAMP_TICKS_PER_SECOND
    # Less than one step: nothing, and the partial step is not lost.
    assert bucket.refill(10.0 + step / 2) == (False, False)
    assert bucket.read == 0
    woke = bucket.refill(10.0 + step * 1.01)
    assert woke == (True, False)
    assert bucket.read == rate_per_step(MB)
    assert bucket.write == MB  # capped at the burst


def test_debt_is_repaid_before_reading_again() -> None:
    bucket = RwBucket(MB, MB, now=0.0)
    bucket.spend(3 * MB, 0)
    assert bucket.read == -2 * MB
    bucket.refill(2.0)
    assert bucket.read < 0
    bucket.refill(3.5)
    assert bucket.read > 0


def test_long_gap_fills_to_burst() -> None:
    bucket = RwBucket(1000, 5000, now=0.0)
    bucket.spend(4000, 4000)
    bucket.refill(1000.0)
    assert (bucket.read, bucket.write) == (5000, 5000)


def test_adjust_caps_levels() -> None:
    bucket = RwBucket(MB, MB, now=0.0)
    bucket.adjust(1000, 2000)
    assert (bucket.read, bucket.write, bucket.step_rate) == (2000, 2000, rate_per_step(1000))


def test_bad_rate_is_refused() -> None:
    with pytest.raises(ValueError):
        RwBucket(0, 10, now=0.0)


@given(st.integers(1024, 10 * MB), st.integers(1, 600))
def test_long_run_average_obeys_rate(rate: int, seconds: int) -> None:
    """Reading whenever tokens remain never exceeds burst + rate * time (plus one read)."""
    bucket = RwBucket(rate, rate, now=0.0)
    chunk = 16384
    moved = 0
    now = 0.0
    while now < seconds:
        bucket.refill(now)
        if bucket.read > 0:
            bucket.spend(chunk, 0)
            moved += chunk
        else:
            now += 0.1
    assert moved <= rate + rate * seconds * 1.0 + chunk
    assert moved >= rate * seconds * 0.97 - chunk


def test_relayed_traffic_needs_both_buckets() -> None:
    config = BandwidthConfig(rate=10 * MB, burst=10 * MB, relay_rate=MB, relay_burst=MB)
    buckets = GlobalBuckets(config, now=0.0)
    buckets.spend(True, MB, 0)
    assert not buckets.can_read(True)
    assert buckets.can_read(False)  # client traffic uses the global bucket only
    assert buckets.all.read == 9 * MB
    buckets.spend(False, 9 * MB, 0)
    assert buckets.relayed.read == 0 and buckets.all.read == 0


def test_relayed_bucket_defaults_to_global_rate() -> None:
    config = BandwidthConfig(rate=2 * MB, burst=3 * MB)
    assert config.relayed() == (2 * MB, 3 * MB)
    buckets = GlobalBuckets(config, now=0.0)
    assert buckets.relayed.burst == 3 * MB
    buckets.reconfigure(BandwidthConfig(rate=MB, burst=MB, relay_rate=1000, relay_burst=500))
    assert buckets.relayed.read == 500 and buckets.all.read == MB


def test_write_allowance() -> None:
    buckets = GlobalBuckets(BandwidthConfig(rate=MB, burst=MB, relay_rate=1000,
                                            relay_burst=1000), now=0.0)
    assert buckets.write_allowance(True) == 1000
    assert buckets.write_allowance(False) == MB
    buckets.spend(True, 0, 5000)
    assert buckets.write_allowance(True) == 0 and not buckets.can_write(True)


def test_private_peers_are_exempt_unless_counted() -> None:
    assert not is_rate_limited("127.0.0.1", count_private=False)
    assert not is_rate_limited("10.1.2.3", count_private=False)
    assert is_rate_limited("127.0.0.1", count_private=True)
    assert is_rate_limited("8.8.8.8", count_private=False)
    assert not is_rate_limited("?", count_private=False)
