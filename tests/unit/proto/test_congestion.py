"""Proposal 324 congestion control with TOR_VEGAS, checked against tor 0.4.9.11's C.

Expected numbers are worked out by hand from congestion_control_common.c and
congestion_control_vegas.c (the arithmetic is in the comments), plus tor's own vectors
from src/test/test_congestion_control.c.  Default parameters, sendme_inc 31, exit path:
cwnd_init = cwnd_min = 124, alpha 186, beta 248, gamma 186, delta 310, sscap 600,
cc_ss_max 5000, cwnd_inc 1, cwnd_inc_rate 31, cwnd_inc_pct_ss 100, cc_ewma_ss 2.
"""

from __future__ import annotations

from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zwiebel.proto.congestion import (
    CC_PARAM_BOUNDS,
    CcParams,
    CcPath,
    CcSharedState,
    CongestionControl,
    cc_enabled,
    is_monotime_clock_reliable,
)
from zwiebel.proto.sendme import FlowControlViolation

INT32_MAX = 2147483647

# name: (default, min, max) as in tor's #defines and networkstatus_get_param calls.
TOR_PARAMS = {
    "cc_alg": (2, 0, 3),
    "cc_sendme_inc": (31, 1, 254),
    "cc_cwnd_init": (124, 31, 10000),
    "cc_cwnd_min": (124, 31, 1000),
    "cc_cwnd_max": (INT32_MAX, 500, INT32_MAX),
    "cc_cwnd_inc": (1, 1, 1000),
    "cc_cwnd_inc_rate": (31, 1, 250),
    "cc_cwnd_inc_pct_ss": (100, 1, 500),
    "cc_bwe_min": (5, 2, 20),
    "cc_ewma_cwnd_pct": (50, 1, 255),
    "cc_ewma_max": (10, 2, INT32_MAX),
    "cc_ewma_ss": (2, 2, INT32_MAX),
    "cc_rtt_reset_pct": (100, 0, 100),
    "cc_ss_max": (5000, 500, INT32_MAX),
    "cc_cwnd_full_gap": (4, 0, 32767),
    "cc_cwnd_full_minpct": (25, 0, 100),
    "cc_cwnd_full_per_cwnd": (1, 0, 1),
    "cc_vegas_alpha_exit": (186, 0, 1000),
    "cc_vegas_beta_exit": (248, 0, 1000),
    "cc_vegas_gamma_exit": (186, 0, 1000),
    "cc_vegas_delta_exit": (310, 0, INT32_MAX),
    "cc_sscap_exit": (600, 100, INT32_MAX),
    "cc_vegas_alpha_onion": (186, 0, 1000),
    "cc_vegas_beta_onion": (372, 0, 1000),
    "cc_vegas_gamma_onion": (248, 0, 1000),
    "cc_vegas_delta_onion": (434, 0, INT32_MAX),
    "cc_sscap_onion": (475, 100, INT32_MAX),
    "cc_vegas_alpha_sbws": (93, 0, 1000),
    "cc_vegas_beta_sbws": (155, 0, 1000),
    "cc_vegas_gamma_sbws": (124, 0, 1000),
    "cc_vegas_delta_sbws": (248, 0, INT32_MAX),
    "cc_sscap_sbws": (400, 100, INT32_MAX),
}


def _cc(params: CcParams | None = None, sendme_inc: int = 31) -> CongestionControl:
    return CongestionControl(params or CcParams(), sendme_inc, shared=CcSharedState())


class _Bulk:
    """A bulk upload: the window is refilled whenever a SENDME arrives; `ack(rtt)`
    delivers the SENDME for the oldest marked cell `rtt` usec after it was sent."""

    def __init__(self, cc: CongestionControl) -> None:
        self.cc = cc
        self.sent: deque[int] = deque()
        self.fill(0)

    def fill(self, now: int) -> None:
        marks = self.cc.cells_sent(self.cc.package_room(), now)
        self.sent.extend([now] * len(marks))

    def ack(self, rtt: int, *, blocked: bool = False, chan_cells: int = 0) -> None:
        now = self.sent.popleft() + rtt
        self.cc.sendme_received(now, blocked_chan=blocked, chan_cells=chan_cells)
        self.fill(now)


# -- parameters ---------------------------------------------------------------------


def test_parameter_table_is_tors() -> None:
    assert TOR_PARAMS == CC_PARAM_BOUNDS
    defaults = CcParams()
    for name, (default, _, _) in TOR_PARAMS.items():
        assert getattr(defaults, name) == default, name
    assert CcParams.from_consensus({}) == defaults


@pytest.mark.parametrize(
    ("params", "name", "expected"),
    [
        ({"cc_cwnd_min": 5}, "cc_cwnd_min", 31),
        ({"cc_cwnd_min": 5000}, "cc_cwnd_min", 1000),
        ({"cc_cwnd_max": 1}, "cc_cwnd_max", 500),
        ({"cc_sendme_inc": 0}, "cc_sendme_inc", 1),
        ({"cc_sendme_inc": 300}, "cc_sendme_inc", 254),
        ({"cc_cwnd_init": 20000}, "cc_cwnd_init", 10000),
        ({"cc_vegas_gamma_exit": -4}, "cc_vegas_gamma_exit", 0),
        ({"cc_vegas_alpha_exit": 1001}, "cc_vegas_alpha_exit", 1000),
        ({"cc_rtt_reset_pct": 101}, "cc_rtt_reset_pct", 100),
        ({"cc_cwnd_full_per_cwnd": 7}, "cc_cwnd_full_per_cwnd", 1),
        ({"cc_ss_max": 800}, "cc_ss_max", 800),
        # Not an int32: tor_parse_long fails, the default stays.
        ({"cc_cwnd_inc": 2**31}, "cc_cwnd_inc", 1),
        # Westwood (1) and NOLA (3) are unsupported and replaced by Vegas.
        ({"cc_alg": 0}, "cc_alg", 0),
        ({"cc_alg": 1}, "cc_alg", 2),
        ({"cc_alg": 3}, "cc_alg", 2),
        ({"cc_alg": 9}, "cc_alg", 2),
        ({"cc_alg": -1}, "cc_alg", 0),
    ],
)
def test_from_consensus_clamps(params: dict[str, int], name: str, expected: int) -> None:
    assert getattr(CcParams.from_consensus(params), name) == expected


def test_out_of_range_params_rejected() -> None:
    with pytest.raises(ValueError):
        CcParams(cc_cwnd_min=30)


@pytest.mark.parametrize(
    ("params", "enabled"), [({}, True), ({"cc_alg": 0}, False), ({"cc_alg": 1}, True),
                            ({"cc_alg": 2}, True), ({"cc_alg": -5}, False)]
)
def test_cc_enabled(params: dict[str, int], enabled: bool) -> None:
    assert cc_enabled(params) is enabled


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (CcPath.EXIT, (186, 248, 186, 310, 600)),
        (CcPath.ONION, (186, 372, 248, 434, 475)),
        (CcPath.SBWS, (93, 155, 124, 248, 400)),
    ],
)
def test_path_thresholds(path: CcPath, expected: tuple[int, ...]) -> None:
    v = CongestionControl(CcParams(), 31, path, shared=CcSharedState()).vegas
    assert (v.alpha, v.beta, v.gamma, v.delta, v.ss_cwnd_cap) == expected


def test_narrow_c_fields() -> None:
    # vegas_params.delta is a uint16_t: 65536 + 300 -> 300; n_ewma_max a uint8_t: 257 -> 1.
    cc = _cc(CcParams(cc_vegas_delta_exit=65836, cc_ewma_max=257))
    assert cc.vegas.delta == 300
    assert cc.n_ewma_max == 1


def test_bad_sendme_inc() -> None:
    with pytest.raises(ValueError):
        _cc(sendme_inc=0)


# -- sending ------------------------------------------------------------------------


def test_initial_state() -> None:
    cc = _cc()
    assert (cc.cwnd, cc.inflight, cc.in_slow_start, cc.package_room()) == (124, 0, True, 124)
    assert cc.next_cc_event == 1  # CWND_UPDATE_RATE is 1 in slow start
    assert cc.statistics() == {
        "cwnd": 124, "inflight": 0, "sendme_inc": 31, "in_slow_start": True,
        "min_rtt_usec": 0, "ewma_rtt_usec": 0, "max_rtt_usec": 0, "bdp": 0,
        "queue_use": 124, "cwnd_full": False, "blocked_chan": False, "next_cc_event": 1,
        "next_cwnd_event": 0, "pending_sendmes": 0, "package_room": 124,
    }  # fmt: skip


def test_cell_sent_marks_every_31st_cell() -> None:
    cc = _cc()
    marked = [n for n in range(1, 201) if cc.cell_sent(1000 + n)]
    assert marked == [31, 62, 93, 124, 155, 186]  # 1-based: inflight before = 30, 61, ...
    assert cc.inflight == 200
    assert list(cc._timestamps) == [1031, 1062, 1093, 1124, 1155, 1186]
    assert cc.package_room() == 0  # inflight 200 > cwnd 124


def test_cell_sent_with_sendme_inc_1_skips_only_the_first_cell() -> None:
    cc = _cc(sendme_inc=1)
    assert [cc.cell_sent(0) for _ in range(4)] == [False, True, True, True]
    cc2 = _cc(sendme_inc=1)
    assert cc2.cells_sent(4, 0) == [1, 2, 3]


def test_cells_sent_indexes() -> None:
    cc = _cc()
    assert cc.cells_sent(124, 5) == [30, 61, 92, 123]
    assert cc.cells_sent(0, 5) == []
    cc.sendme_received(100)  # inflight 124 -> 93
    assert cc.cells_sent(40, 6) == [30]  # inflight before: 123 -> (123 + 1) % 31 == 0
    assert cc.inflight == 133


def test_package_room() -> None:
    cc = _cc()
    cc.cells_sent(100, 0)
    assert cc.package_room() == 24
    cc.cells_sent(24, 0)
    assert cc.package_room() == 0
    cc.cwnd = 100  # cwnd just reduced below inflight
    assert cc.package_room() == 0


_ops = st.lists(st.one_of(st.integers(0, 300), st.just(-1)), max_size=40)


@settings(max_examples=200, deadline=None)
@given(sendme_inc=st.integers(1, 255), ops=_ops)
def test_cells_sent_equals_repeated_cell_sent(sendme_inc: int, ops: list[int]) -> None:
    one, many = _cc(sendme_inc=sendme_inc), _cc(sendme_inc=sendme_inc)
    now = 0
    for op in ops:
        now += 1000
        if op < 0:  # a SENDME, if one is due
            if not one._timestamps:
                continue
            one.sendme_received(now)
            many.sendme_received(now)
        else:
            singles = [i for i in range(op) if one.cell_sent(now)]
            assert many.cells_sent(op, now) == singles
        assert one.statistics() == many.statistics()
        assert one._timestamps == many._timestamps


# -- SENDMEs ------------------------------------------------------------------------


def test_sendme_without_timestamp_is_a_violation() -> None:
    cc = _cc()
    with pytest.raises(FlowControlViolation):
        cc.sendme_received(1)
    cc.cells_sent(30, 0)  # 30 cells: none is acknowledged by a SENDME yet
    with pytest.raises(FlowControlViolation):
        cc.sendme_received(1)
    assert (cc.cwnd, cc.inflight, cc.next_cc_event) == (124, 30, 1)


def test_slow_start_growth_with_constant_rtt() -> None:
    # Every RTT is 100 ms, so ewma = min = 100000 and bdp = cwnd*100000//100000 = cwnd:
    # queue_use 0 < gamma; inflight + 4*31 >= cwnd keeps cwnd full; each SENDME adds
    # rfc3742_ss_inc = (100*31 + 50)//100 = 31 while cwnd <= sscap 600; above the cap
    # (31*600 + cwnd)//(2*cwnd): 620 -> 19220//1240 = 15, 635 -> 19235//1270 = 15,
    # 650 -> 19250//1300 = 14.
    cc = _cc()
    bulk = _Bulk(cc)
    cwnds = []
    for _ in range(19):
        bulk.ack(100_000)
        cwnds.append(cc.cwnd)
    assert cwnds == [124 + 31 * k for k in range(1, 17)] + [635, 650, 664]
    assert (cc.ewma_rtt_usec, cc.min_rtt_usec, cc.bdp, cc.in_slow_start) == (
        100_000, 100_000, 650, True)  # fmt: skip


def test_first_sendme_in_detail() -> None:
    cc = _cc()
    assert cc.cells_sent(124, 0) == [30, 61, 92, 123]
    cc.sendme_received(100_000)
    # rtt 100000; ewma (no previous) 100000; min 100000; bdp 124*100000//100000 = 124;
    # cwnd 124 + 31 = 155; next_cwnd_event = SENDME_PER_CWND = (155 + 15)//31 = 5, which
    # equals SENDME_PER_CWND, so cwnd_full is reset; next_cc_event = 1; inflight 93.
    s = cc.statistics()
    assert (s["cwnd"], s["inflight"], s["bdp"], s["cwnd_full"]) == (155, 93, 124, False)
    assert (s["next_cwnd_event"], s["next_cc_event"], s["pending_sendmes"]) == (5, 1, 3)


@pytest.mark.parametrize(("per_cwnd", "full"), [(1, [False, True, True]), (0, [False] * 3)])
def test_cwnd_full_reset(per_cwnd: int, full: list[bool]) -> None:
    # cc_cwnd_full_per_cwnd=1: cwnd_full is cleared when next_cwnd_event was just reset to
    # SENDME_PER_CWND (first SENDME: 5 == (155 + 15)//31); then 4 != 6 and 3 != 7.
    # 0: cleared whenever next_cc_event == CWND_UPDATE_RATE, i.e. after every SENDME in
    # slow start; it is re-evaluated before use, so cwnd grows the same.
    cc = _cc(CcParams(cc_cwnd_full_per_cwnd=per_cwnd))
    bulk = _Bulk(cc)
    seen = []
    for _ in range(3):
        bulk.ack(100_000)
        seen.append(cc.cwnd_full)
    assert (seen, cc.cwnd) == (full, 217)


def test_slow_start_ewma_and_gamma_exit() -> None:
    cc = _cc()
    bulk = _Bulk(cc)
    for _ in range(3):
        bulk.ack(100_000)  # cwnd 155, 186, 217 (see above)
    # RTT 1.1 s: ewma N=2 = (2*1100000 + 100000)//3 = 766666;
    # bdp = 217*100000//766666 = 28; queue_use = 217 - 28 = 189 >= gamma 186:
    # cwnd = bdp + gamma = 28 + 186 = 214 and slow start ends.
    bulk.ack(1_100_000)
    assert (cc.ewma_rtt_usec, cc.min_rtt_usec, cc.max_rtt_usec) == (766666, 100_000, 1_100_000)
    assert (cc.bdp, cc.cwnd, cc.in_slow_start) == (28, 214, False)
    # CWND_UPDATE_RATE = (214 + 31*31//2)//(31*31) = 694//961 = 0: update on every SENDME.
    assert cc.next_cc_event == 0
    # Steady state, RTT 100 ms: N = max(min(0*50//100, 10), 2) = 2;
    # ewma = (2*100000 + 766666)//3 = 322222; bdp = 214*100000//322222 = 66;
    # queue_use 148 < alpha 186 and cwnd full (inflight 214 + 124 >= 214): cwnd 215.
    bulk.ack(100_000)
    assert (cc.ewma_rtt_usec, cc.bdp, cc.cwnd) == (322222, 66, 215)


@pytest.mark.parametrize(
    ("rtt", "bdp", "cwnd", "slow_start"),
    [
        # ewma = (2*900000 + 100000)//3 = 633333; bdp = 21700000//633333 = 34;
        # queue_use 183 < 186: still slow start, cwnd 217 + 31 = 248.
        (900_000, 34, 248, True),
        # ewma = (2*1000000 + 100000)//3 = 700000; bdp = 21700000//700000 = 31;
        # queue_use 186 is not below gamma: cwnd = 31 + 186 = 217, slow start over.
        (1_000_000, 31, 217, False),
    ],
)
def test_slow_start_gamma_edge(rtt: int, bdp: int, cwnd: int, slow_start: bool) -> None:
    cc = _cc()
    bulk = _Bulk(cc)
    for _ in range(3):
        bulk.ack(100_000)
    bulk.ack(rtt)
    assert (cc.bdp, cc.cwnd, cc.in_slow_start) == (bdp, cwnd, slow_start)


def _steady_387(params: CcParams | None = None) -> tuple[CongestionControl, _Bulk]:
    """Nine 100 ms SENDMEs (cwnd 124 + 9*31 = 403), then RTT 250 ms:
    ewma = (2*250000 + 100000)//3 = 200000; bdp = 403*100000//200000 = 201;
    queue_use 202 >= gamma: cwnd = 201 + 186 = 387, steady state, inflight 372."""
    cc = _cc(params)
    bulk = _Bulk(cc)
    for _ in range(9):
        bulk.ack(100_000)
    assert cc.cwnd == 403
    bulk.ack(250_000)
    assert (cc.ewma_rtt_usec, cc.bdp, cc.cwnd, cc.in_slow_start) == (200_000, 201, 387, False)
    assert cc.inflight == 387  # refilled
    return cc, bulk


@pytest.mark.parametrize(
    ("rtt", "ewma", "bdp", "cwnd"),
    [
        # ewma = (2*rtt + 200000)//3, bdp = 387*100000//ewma, queue_use = 387 - bdp.
        # 100000 -> 133333, bdp 290, queue 97 < alpha 186, cwnd full: +1.
        (100_000, 133_333, 290, 388),
        # 250000 -> 233333, bdp 165, queue 222 in [alpha, beta]: unchanged.
        (250_000, 233_333, 165, 387),
        # 400000 -> 333333, bdp 116, queue 271 > beta 248: -1.
        (400_000, 333_333, 116, 386),
        # 1000000 -> 733333, bdp 52, queue 335 > delta 310: cwnd = 52 + 310 - 1.
        (1_000_000, 733_333, 52, 361),
    ],
)
def test_steady_state(rtt: int, ewma: int, bdp: int, cwnd: int) -> None:
    cc, bulk = _steady_387()
    bulk.ack(rtt)
    assert (cc.ewma_rtt_usec, cc.min_rtt_usec, cc.bdp, cc.cwnd) == (ewma, 100_000, bdp, cwnd)
    assert cc.inflight == cwnd  # refilled after the ack (387 - 31 + room)


def test_blocked_channel_is_a_congestion_signal() -> None:
    cc, bulk = _steady_387()
    # Same RTT as the alpha case (queue_use 97) but the channel is blocked: -1.
    bulk.ack(100_000, blocked=True)
    assert (cc.cwnd, cc.blocked_chan) == (386, True)
    # Unblocked: again an event at once. ewma = (2*100000 + 133333)//3 = 111111,
    # bdp = 386*100000//111111 = 347, queue_use 39 < alpha, full: +1.
    bulk.ack(100_000)
    assert (cc.cwnd, cc.blocked_chan, cc.ewma_rtt_usec, cc.bdp) == (387, False, 111_111, 347)


def test_cwnd_updates_once_per_update_rate_unless_blocking_changes() -> None:
    cc, bulk = _steady_387(CcParams(cc_cwnd_inc_rate=1))
    # CWND_UPDATE_RATE = (387 + 1*31//2)//(1*31) = 402//31 = 12 SENDMEs per update.
    assert cc.next_cc_event == 12
    # N = max(min(12*50//100, 10), 2) = 6: ewma = (2*100000 + 5*200000)//7 = 171428;
    # bdp = 38700000//171428 = 225, queue_use 162 < alpha, but no event yet: cwnd 387.
    bulk.ack(100_000)
    assert (cc.next_cc_event, cc.ewma_rtt_usec, cc.bdp, cc.cwnd) == (11, 171_428, 225, 387)
    # Blocking is an event at once: ewma = (200000 + 5*171428)//7 = 151020,
    # bdp = 38700000//151020 = 256, blocked: 387 - 1; next event (386 + 15)//31 = 12.
    bulk.ack(100_000, blocked=True)
    assert (cc.next_cc_event, cc.ewma_rtt_usec, cc.bdp, cc.cwnd) == (12, 151_020, 256, 386)
    # So is unblocking: ewma = (200000 + 5*151020)//7 = 136442,
    # bdp = 38600000//136442 = 282, queue_use 104 < alpha and full: 387.
    bulk.ack(100_000)
    assert (cc.next_cc_event, cc.ewma_rtt_usec, cc.bdp, cc.cwnd) == (12, 136_442, 282, 387)
    bulk.ack(100_000)
    assert (cc.next_cc_event, cc.cwnd) == (11, 387)


def test_blocked_channel_ends_slow_start() -> None:
    cc = _cc()
    bulk = _Bulk(cc)
    bulk.ack(100_000)  # cwnd 155, bdp 124
    # Blocked: cwnd = bdp + gamma; bdp = 155*100000//100000 = 155 -> 341.
    bulk.ack(100_000, blocked=True)
    assert (cc.cwnd, cc.in_slow_start, cc.blocked_chan) == (341, False, True)


@pytest.mark.parametrize("ss_max", [500, 527])
def test_cc_ss_max_ends_slow_start(ss_max: int) -> None:
    cc = _cc(CcParams(cc_ss_max=ss_max))
    bulk = _Bulk(cc)
    for _ in range(12):
        bulk.ack(100_000)
    assert (cc.cwnd, cc.in_slow_start) == (496, True)
    bulk.ack(100_000)  # 496 + 31 = 527 >= ss_max: cwnd = ss_max, slow start over
    assert (cc.cwnd, cc.in_slow_start) == (ss_max, False)


def test_cwnd_max_clamps_without_ending_slow_start() -> None:
    cc = _cc(CcParams(cc_cwnd_max=500))
    bulk = _Bulk(cc)
    for _ in range(14):
        bulk.ack(100_000)
        assert cc.cwnd <= 500
    assert (cc.cwnd, cc.in_slow_start) == (500, True)


def test_cwnd_min_floor_and_min_rtt_reset() -> None:
    cc, bulk = _steady_387(CcParams(cc_vegas_delta_exit=0))
    # ewma 733333, bdp 52, queue 335 > delta 0: cwnd = 52 + 0 - 1 = 51 -> cwnd_min 124.
    bulk.ack(1_000_000)
    assert (cc.cwnd, cc.min_rtt_usec) == (124, 100_000)
    # cwnd == cwnd_min out of slow start: ewma = (2*1000000 + 733333)//3 = 911111 and
    # min RTT = percent_max_mix(911111, 100000, 100) = 911111.
    bulk.ack(1_000_000)
    assert (cc.ewma_rtt_usec, cc.min_rtt_usec) == (911_111, 911_111)
    assert cc.shared.num_rtt_reset == 1
    # bdp = 124, queue 0 < alpha, full: 125.
    assert (cc.bdp, cc.cwnd) == (124, 125)


_rtts = st.lists(
    st.tuples(st.integers(0, 3_000_000), st.booleans(), st.integers(0, 600)), max_size=120
)


@settings(max_examples=150, deadline=None)
@given(rtts=_rtts, cwnd_max=st.sampled_from([500, 800, INT32_MAX]))
def test_cwnd_stays_within_bounds(rtts: list[tuple[int, bool, int]], cwnd_max: int) -> None:
    cc = _cc(CcParams(cc_cwnd_max=cwnd_max))
    bulk = _Bulk(cc)
    for rtt, blocked, chan_cells in rtts:
        bulk.ack(rtt, blocked=blocked, chan_cells=chan_cells)
        assert 124 <= cc.cwnd <= cwnd_max
        assert cc.inflight >= 0
        assert 0 < cc.min_rtt_usec <= cc.max_rtt_usec or cc.ewma_rtt_usec == 0


# -- clock heuristics -----------------------------------------------------------------


def test_clock_stall_keeps_cwnd() -> None:
    cc = _cc()
    bulk = _Bulk(cc)
    bulk.ack(100_000)  # cwnd 155, inflight 155 after refill
    bulk.ack(0)  # 0 delta: no RTT, no BDP, no cwnd change; only inflight -= 31
    assert (cc.cwnd, cc.ewma_rtt_usec, cc.in_slow_start) == (155, 100_000, True)
    assert cc.inflight == 155  # 124 after the ack, refilled to 155
    assert cc.shared.clock_broken and cc.shared.num_clock_stalls == 1
    assert not is_monotime_clock_reliable(cc.shared)
    # The counters were decremented and are not reset on this path.
    assert (cc.next_cc_event, cc.next_cwnd_event) == (0, 4)
    bulk.ack(100_000)  # grows again; the cached verdict stays in slow start
    assert cc.cwnd == 186 and cc.shared.clock_broken


def test_backwards_clock_counts_as_stall() -> None:
    cc = _cc()
    cc.cells_sent(124, 1000)
    cc.sendme_received(10)
    assert (cc.cwnd, cc.ewma_rtt_usec, cc.shared.num_clock_stalls) == (124, 0, 1)


def test_clock_stalled_for_whole_circuit() -> None:
    cc = _cc()
    cc.cells_sent(124, 0)
    cc.sendme_received(0)  # no EWMA yet: bdp = cwnd; unblocked -> no update
    assert (cc.bdp, cc.cwnd, cc.inflight) == (124, 124, 93)
    # Blocked with 200 cells queued >= cwnd: bdp = cwnd_min 124, and the blocked signal
    # runs Vegas: slow start ends with cwnd = bdp + gamma = 124 + 186.
    cc.sendme_received(0, blocked_chan=True, chan_cells=200)
    assert (cc.bdp, cc.cwnd, cc.in_slow_start, cc.blocked_chan) == (124, 310, False, True)


@pytest.mark.parametrize(
    ("chan_cells", "bdp"),
    [(0, 300), (50, 250), (200, 124), (299, 124), (300, 124), (1000, 124)],
)
def test_clock_stalled_blocked_subtracts_queue(chan_cells: int, bdp: int) -> None:
    # bdp = cwnd_min if chan_cells >= cwnd else max(cwnd - chan_cells, cwnd_min).
    cc = _cc(CcParams(cc_cwnd_init=300))
    cc.cells_sent(300, 0)
    cc.sendme_received(0, blocked_chan=True, chan_cells=chan_cells)
    assert (cc.bdp, cc.cwnd) == (bdp, bdp + 186)


def test_clock_jump_ignored_in_steady_state() -> None:
    cc, bulk = _steady_387()
    stalls = cc.shared.num_clock_stalls
    # 200000 * 5000 = 1e9 < 1_000_000_001: a jump; the sample is dropped.
    bulk.ack(1_000_000_001)
    assert (cc.ewma_rtt_usec, cc.cwnd) == (200_000, 387)
    assert cc.shared.num_clock_stalls == stalls + 1


# tor's test_congestion_control_clock: (old, new, in slow start, cached out, result out).
TOR_CLOCK_VECTORS = [
    (0, 1, 1, 0, 0), (0, 0, 1, 1, 1), (1, 1, 1, 1, 0), (1, 4999, 0, 0, 0),
    (4999, 1, 0, 0, 0), (5001, 1, 0, 0, 0), (5001, 0, 0, 1, 1), (5001, 1, 0, 1, 1),
    (5001, 1, 1, 1, 0), (0, 5001, 0, 1, 0), (1, 5001, 1, 1, 0), (1, 1, 0, 0, 0),
    (5001, 1, 0, 0, 0), (1, 5001, 0, 0, 1), (0, 5001, 0, 0, 0), (5001, 1, 1, 0, 0),
    (1, 1, 0, 0, 0),
]  # fmt: skip


def test_tor_clock_vectors() -> None:
    cc = _cc()
    for old, new, ss, cached, result in TOR_CLOCK_VECTORS:
        cc.in_slow_start = bool(ss)
        cc.ewma_rtt_usec = old * 1000
        assert cc.stalled_or_jumped(old, new) is bool(result)
        assert cc.shared.clock_broken is bool(cached)


# tor's test_congestion_control_rtt: (sent, got SENDME, cwnd, slow start, rtt, ewma, min).
TOR_RTT_VECTORS = [
    (100000, 200000, 124, 1, 100000, 100000, 100000),
    (200000, 300000, 124, 1, 100000, 100000, 100000),
    (350000, 500000, 124, 1, 150000, 133333, 100000),
    (500000, 550000, 124, 1, 50000, 77777, 77777),
    (600000, 700000, 124, 1, 100000, 92592, 77777),
    (700000, 750000, 124, 1, 50000, 64197, 64197),
    (750000, 875000, 124, 0, 125000, 104732, 104732),
    (875000, 900000, 124, 0, 25000, 51577, 104732),
    (900000, 950000, 200, 0, 50000, 50525, 50525),
]


def test_tor_rtt_vectors() -> None:
    cc = _cc()
    cc._timestamps.extend(v[0] for v in TOR_RTT_VECTORS)
    for _, got, cwnd, ss, rtt, ewma, min_rtt in TOR_RTT_VECTORS:
        cc.cwnd, cc.in_slow_start = cwnd, bool(ss)
        assert cc.update_rtt(got) == rtt
        assert (cc.ewma_rtt_usec, cc.min_rtt_usec) == (ewma, min_rtt)


# tor's test_congestion_control_vegas_cwnd: (sent, got SENDME, blocked, inflight in,
# ewma, min rtt, cwnd, slow start, cwnd full, blocked_chan) after each SENDME.
TOR_VEGAS_VECTORS = {
    "rtt": [
        (100000, 200000, 0, 124, 100000, 100000, 155, 1, 0, 0),
        (200000, 300000, 0, 155, 100000, 100000, 186, 1, 1, 0),
        (350000, 500000, 0, 186, 133333, 100000, 217, 1, 1, 0),
        (500000, 550000, 0, 217, 77777, 77777, 248, 1, 1, 0),
        (600000, 700000, 0, 248, 92592, 77777, 279, 1, 1, 0),
        (700000, 750000, 0, 279, 64197, 64197, 310, 1, 0, 0),
        (750000, 875000, 0, 310, 104732, 64197, 341, 1, 1, 0),
        (875000, 900000, 0, 341, 51577, 51577, 372, 1, 1, 0),
        (900000, 950000, 0, 279, 50525, 50525, 403, 1, 1, 0),
        (950000, 1000000, 0, 279, 50175, 50175, 434, 1, 1, 0),
        (1000000, 1050000, 0, 279, 50058, 50058, 465, 1, 1, 0),
        (1050000, 1100000, 0, 279, 50019, 50019, 496, 1, 1, 0),
        (1100000, 1150000, 0, 279, 50006, 50006, 527, 1, 1, 0),
        (1150000, 1200000, 0, 279, 50002, 50002, 558, 1, 1, 0),
        (1200000, 1250000, 0, 550, 50000, 50000, 589, 1, 1, 0),
        (1250000, 1300000, 0, 550, 50000, 50000, 620, 1, 0, 0),
        (1300000, 1350000, 0, 550, 50000, 50000, 635, 1, 1, 0),
        (1350000, 1400000, 0, 550, 50000, 50000, 650, 1, 1, 0),
        (1400000, 1450000, 0, 150, 50000, 50000, 650, 1, 0, 0),
        (1450000, 1500000, 0, 150, 50000, 50000, 650, 1, 0, 0),
        (1500000, 1550000, 0, 550, 50000, 50000, 664, 1, 1, 0),
        (1500000, 1600000, 0, 550, 83333, 50000, 584, 0, 1, 0),
        (1600000, 1650000, 0, 550, 61111, 50000, 585, 0, 1, 0),
        (1650000, 1700000, 0, 550, 53703, 50000, 586, 0, 1, 0),
        (1700000, 1750000, 0, 100, 51234, 50000, 586, 0, 0, 0),
        (1750000, 1900000, 0, 100, 117078, 50000, 559, 0, 0, 0),
        (1900000, 2000000, 0, 100, 105692, 50000, 558, 0, 0, 0),
        (2000000, 2075000, 0, 500, 85230, 50000, 558, 0, 1, 0),
        (2075000, 2125000, 1, 500, 61743, 50000, 557, 0, 1, 1),
        (2125000, 2150000, 0, 500, 37247, 37247, 558, 0, 1, 0),
        (2150000, 2350000, 0, 500, 145749, 37247, 451, 0, 1, 0),
    ],
    "blocked": [
        (100000, 200000, 0, 124, 100000, 100000, 155, 1, 0, 0),
        (200000, 300000, 0, 155, 100000, 100000, 186, 1, 1, 0),
        (350000, 500000, 0, 186, 133333, 100000, 217, 1, 1, 0),
        (500000, 550000, 1, 217, 77777, 77777, 403, 0, 1, 1),
        (600000, 700000, 0, 248, 92592, 77777, 404, 0, 1, 0),
        (700000, 750000, 1, 404, 64197, 64197, 403, 0, 0, 1),
        (750000, 875000, 0, 403, 104732, 64197, 404, 0, 1, 0),
    ],
    "upload1": [
        (18258527, 19002938, 0, 83, 744411, 744411, 155, 1, 0, 0),
        (18258580, 19254257, 0, 52, 911921, 744411, 186, 1, 1, 0),
        (20003224, 20645298, 0, 164, 732023, 732023, 217, 1, 1, 0),
        (20003367, 21021444, 0, 133, 922725, 732023, 248, 1, 1, 0),
        (20003845, 21265508, 0, 102, 1148683, 732023, 279, 1, 1, 0),
        (20003975, 21429157, 0, 71, 1333015, 732023, 310, 1, 0, 0),
        (20004309, 21707677, 0, 40, 1579917, 732023, 310, 1, 0, 0),
    ],
    "upload2": [
        (358297091, 358854163, 0, 83, 557072, 557072, 155, 1, 0, 0),
        (358297649, 359123845, 0, 52, 736488, 557072, 186, 1, 1, 0),
        (359492879, 359995330, 0, 186, 580463, 557072, 217, 1, 1, 0),
        (359493043, 360489243, 0, 217, 857621, 557072, 248, 1, 1, 0),
        (359493232, 360489673, 0, 248, 950167, 557072, 279, 1, 1, 0),
        (359493795, 360489971, 0, 279, 980839, 557072, 310, 1, 0, 0),
        (359493918, 360490248, 0, 310, 991166, 557072, 341, 1, 1, 0),
        (359494029, 360716465, 0, 341, 1145346, 557072, 372, 1, 1, 0),
        (359996888, 360948867, 0, 372, 1016434, 557072, 403, 1, 1, 0),
        (359996979, 360949330, 0, 403, 973712, 557072, 434, 1, 1, 0),
        (360489528, 361113615, 0, 434, 740628, 557072, 465, 1, 1, 0),
        (360489656, 361281604, 0, 465, 774841, 557072, 496, 1, 1, 0),
        (360489837, 361500461, 0, 496, 932029, 557072, 482, 0, 1, 0),
        (360489963, 361500631, 0, 482, 984455, 557072, 482, 0, 1, 0),
        (360490117, 361842481, 0, 482, 1229727, 557072, 481, 0, 1, 0),
    ],
}


@pytest.mark.parametrize("name", sorted(TOR_VEGAS_VECTORS))
def test_tor_vegas_vectors(name: str) -> None:
    vectors = TOR_VEGAS_VECTORS[name]
    cc = _cc()
    cc._timestamps.extend(v[0] for v in vectors)
    for _, got, blocked, inflight, ewma, min_rtt, cwnd, ss, full, chan in vectors:
        cc.inflight = inflight
        cc.sendme_received(got, blocked_chan=bool(blocked))
        if blocked:
            assert cc.next_cc_event == cc.update_rate()
        assert (cc.ewma_rtt_usec, cc.min_rtt_usec, cc.cwnd) == (ewma, min_rtt, cwnd)
        assert (cc.in_slow_start, cc.cwnd_full, cc.blocked_chan) == (ss, full, chan)
