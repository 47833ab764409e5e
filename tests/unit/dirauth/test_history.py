"""Reachability history: wfu, tk, mtbf and uptime (zwiebel.dirauth.history).

Expected values follow tor 0.4.9.11 rephist.c; the stats texts are the ones real tor
wrote in tests/vectors/dirauth/realnet/vote0 ("wfu=0.944444 tk=18 mtbf=17" for a relay
seen down for 1 s and up for 17 s).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from zwiebel.dirauth.history import ReachabilityHistory

T0 = datetime(2026, 11, 22, 8, 0, 0, tzinfo=UTC)
A, B = b"\xaa" * 20, b"\xbb" * 20


def s(n: float) -> timedelta:
    return timedelta(seconds=n)


def test_stats_line_like_real_vote() -> None:
    h = ReachabilityHistory()
    h.note_unreachable(A, T0)
    h.note_reachable(A, "127.0.0.1", 26020, T0 + s(1))
    assert h.stats_line(A, T0 + s(18)) == "wfu=0.944444 tk=18 mtbf=17"
    h.note_reachable(B, "127.0.0.1", 26050, T0)
    assert h.stats_line(B, T0 + s(18)) == "wfu=1.000000 tk=18 mtbf=18"
    assert h.stats_line(b"\xcc" * 20, T0) == "wfu=0.000000 tk=0 mtbf=0"


def test_runs_and_downtimes() -> None:
    h = ReachabilityHistory()
    h.note_reachable(A, "1.2.3.4", 9001, T0)
    h.note_unreachable(A, T0 + s(100))
    h.note_reachable(A, "1.2.3.4", 9001, T0 + s(150))
    now = T0 + s(250)
    assert h.mtbf(A, now) == 100.0  # (100 + 100) / 2 runs
    assert h.time_known(A, now) == 250
    assert abs(h.wfu(A, now) - 200 / 250) < 1e-12
    assert h.uptime(A, now) == 100
    assert h.last_reachable(A) == T0 + s(150)
    h.note_unreachable(A, now)
    assert h.uptime(A, now) == 0 and h.time_known(A, now + s(10)) == 260


def test_address_change_counts_as_downtime() -> None:
    h = ReachabilityHistory()
    h.note_reachable(A, "1.2.3.4", 9001, T0)
    h.note_reachable(A, "1.2.3.5", 9001, T0 + s(1000), address_change_penalty=240)
    now = T0 + s(1000)
    assert h.uptime(A, now) == 0
    assert h.wfu(A, now) == 760 / 1000
    assert h.mtbf(A, now) == 760 / 2


def test_pessimal_and_downrate() -> None:
    h = ReachabilityHistory()
    h.note_reachable(A, "1.2.3.4", 9001, T0)
    h.make_pessimal(A, T0 + s(500))
    assert h.wfu(A, T0 + s(500)) == 0.0 and h.mtbf(A, T0 + s(500)) == 0.0
    h.note_reachable(B, "1.2.3.4", 9002, T0)
    h.note_unreachable(B, T0 + s(1000))
    assert h.downrate(T0) == T0 + s(12 * 3600)
    nxt = h.downrate(T0 + s(25 * 3600))
    assert nxt == T0 + s(36 * 3600)
    rec = h.relays[B]
    assert rec.weighted_run_length == 902  # int(1000 * 0.95 ** 2), as tor compounds alpha
    assert abs(rec.total_run_weights - 0.95 ** 2) < 1e-12


def test_enough_stability_after_four_hours() -> None:
    h = ReachabilityHistory()
    h.note_reachable(A, "1.2.3.4", 9001, T0)
    assert not h.have_enough_stability(T0 + s(4 * 3600))
    assert h.have_enough_stability(T0 + s(4 * 3600 + 1))


def test_serialize_round_trip() -> None:
    h = ReachabilityHistory()
    h.note_reachable(A, "1.2.3.4", 9001, T0)
    h.note_unreachable(B, T0 + s(7))
    h.downrate(T0)
    again = ReachabilityHistory.load(h.serialize())
    assert again.relays == h.relays
    assert again.serialize() == h.serialize()
    now = T0 + s(99)
    assert again.stats_line(A, now) == h.stats_line(A, now)
