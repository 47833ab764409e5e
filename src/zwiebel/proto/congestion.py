"""Proposal 324 circuit congestion control at the sending endpoint (sans-I/O).

What tor 0.4.9.11 runs on the side of a circuit that *packages* DATA cells (an exit, or
any endpoint that sends): the common bookkeeping of ``congestion_control_common.c`` and
the TOR_VEGAS algorithm of ``congestion_control_vegas.c`` (tor's default ``cc_alg=2``),
which lives in `zwiebel.proto.congestion_vegas`.

Spec: ``proposals/324-rtt-congestion-control.txt`` section 2 (RTT signal, 2.1.1 clock-jump
heuristics, 2.1.2 N_EWMA smoothing), 3.1 (BDP estimation; Vegas uses the cwnd/RTT
estimator of 3.1.2), 3.3 (TOR_VEGAS), 6.5.1 and 6.5.3 (consensus parameters).  Where the
spec and tor's C differ, this follows the C:

- `CongestionControl.cell_sent` is ``circuit_sent_cell_for_sendme`` plus
  ``congestion_control_note_cell_sent`` (``sendme.c`` / common.c): a cell's SENDME tag and
  send time are kept when ``inflight != 0 and (inflight + 1) % sendme_inc == 0`` *before*
  the cell is counted.
- `CongestionControl.sendme_received` is ``congestion_control_dispatch_cc_alg``: the Vegas
  step, which calls ``congestion_control_update_circuit_estimates`` (RTT from the oldest
  pending timestamp: ``congestion_control_update_circuit_rtt``; clock heuristics:
  ``time_delta_stalled_or_jumped``; BDP and the blocked-channel signal:
  ``congestion_control_update_circuit_bdp``), then the ``cc_cwnd_max`` clamp.
- `CongestionControl.package_room` is ``congestion_control_get_package_window``.

Integer arithmetic is tor's (floor division of unsigned values; the per-circuit copies of
parameters keep the width of their C fields, e.g. ``n_ewma_max`` is a ``uint8_t``).
Differences: a SENDME with no pending timestamp raises `FlowControlViolation` (in tor
``sendme_is_valid`` finds no pending digest first and closes the circuit), ``inflight``
never goes below 0, and a clock that runs backwards counts as a stall (0 delta).
The process-wide state tor keeps in globals (``is_monotime_clock_broken`` and the
MetricsPort counters) is a `CcSharedState`, by default the module's `CC_SHARED`.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, fields

from zwiebel.netdoc.params import consensus_param
from zwiebel.proto import congestion_vegas as vegas
from zwiebel.proto.congestion_vegas import CcPath as CcPath
from zwiebel.proto.sendme import FlowControlViolation

log = logging.getLogger("zwiebel")

INT32_MAX = 2**31 - 1
#: congestion_control_common.h TLS_RECORD_MAX_CELLS: (16 * 1024) // 514.
TLS_RECORD_MAX_CELLS = 31
#: common.c CIRCWINDOW_INIT: 4 * SENDME_INC_DFLT.
CIRCWINDOW_INIT = 4 * TLS_RECORD_MAX_CELLS
#: vegas.c OUTBUF_CELLS.
OUTBUF_CELLS = 2 * TLS_RECORD_MAX_CELLS
#: common.c DELTA_DISCREPENCY_RATIO_MAX: an RTT this many times off the EWMA is a jump.
DELTA_DISCREPANCY_RATIO_MAX = 5000
#: cc_alg_t values tor accepts (CC_ALG_WESTWOOD=1 and CC_ALG_NOLA=3 are replaced by Vegas).
CC_ALG_SENDME = 0
CC_ALG_VEGAS = 2


#: Consensus parameter -> (default, min, max), from the ``networkstatus_get_param`` calls
#: in congestion_control_common.c and congestion_control_vegas.c (tor 0.4.9.11).
CC_PARAM_BOUNDS: dict[str, tuple[int, int, int]] = {
    "cc_alg": (CC_ALG_VEGAS, 0, 3),
    "cc_sendme_inc": (TLS_RECORD_MAX_CELLS, 1, 254),
    "cc_cwnd_init": (CIRCWINDOW_INIT, TLS_RECORD_MAX_CELLS, 10000),
    "cc_cwnd_min": (CIRCWINDOW_INIT, TLS_RECORD_MAX_CELLS, 1000),
    "cc_cwnd_max": (INT32_MAX, 500, INT32_MAX),
    "cc_cwnd_inc": (1, 1, 1000),
    "cc_cwnd_inc_rate": (TLS_RECORD_MAX_CELLS, 1, 250),
    "cc_cwnd_inc_pct_ss": (100, 1, 500),
    "cc_bwe_min": (5, 2, 20),
    "cc_ewma_cwnd_pct": (50, 1, 255),
    "cc_ewma_max": (10, 2, INT32_MAX),
    "cc_ewma_ss": (2, 2, INT32_MAX),
    "cc_rtt_reset_pct": (100, 0, 100),
    "cc_ss_max": (5000, 500, INT32_MAX),
    "cc_cwnd_full_gap": (4, 0, 2**15 - 1),
    "cc_cwnd_full_minpct": (25, 0, 100),
    "cc_cwnd_full_per_cwnd": (1, 0, 1),
    "cc_vegas_alpha_exit": (3 * OUTBUF_CELLS, 0, 1000),
    "cc_vegas_beta_exit": (4 * OUTBUF_CELLS, 0, 1000),
    "cc_vegas_gamma_exit": (3 * OUTBUF_CELLS, 0, 1000),
    "cc_vegas_delta_exit": (5 * OUTBUF_CELLS, 0, INT32_MAX),
    "cc_sscap_exit": (600, 100, INT32_MAX),
    "cc_vegas_alpha_onion": (3 * OUTBUF_CELLS, 0, 1000),
    "cc_vegas_beta_onion": (6 * OUTBUF_CELLS, 0, 1000),
    "cc_vegas_gamma_onion": (4 * OUTBUF_CELLS, 0, 1000),
    "cc_vegas_delta_onion": (7 * OUTBUF_CELLS, 0, INT32_MAX),
    "cc_sscap_onion": (475, 100, INT32_MAX),
    "cc_vegas_alpha_sbws": (2 * OUTBUF_CELLS - TLS_RECORD_MAX_CELLS, 0, 1000),
    "cc_vegas_beta_sbws": (2 * OUTBUF_CELLS + TLS_RECORD_MAX_CELLS, 0, 1000),
    "cc_vegas_gamma_sbws": (2 * OUTBUF_CELLS, 0, 1000),
    "cc_vegas_delta_sbws": (4 * OUTBUF_CELLS, 0, INT32_MAX),
    "cc_sscap_sbws": (400, 100, INT32_MAX),
}


def _param(params: Mapping[str, int], name: str) -> int:
    """Parameter `name` with the default and range of `CC_PARAM_BOUNDS`."""
    return consensus_param(params, name, *CC_PARAM_BOUNDS[name])


def _consensus_alg(params: Mapping[str, int]) -> int:
    """congestion_control_new_consensus_params: an unsupported cc_alg becomes Vegas."""
    alg = _param(params, "cc_alg")
    return alg if alg in (CC_ALG_SENDME, CC_ALG_VEGAS) else CC_ALG_VEGAS


@dataclass(frozen=True)
class CcParams:
    """The congestion-control consensus parameters, one field per parameter, named as in
    the consensus, with tor's defaults (`CC_PARAM_BOUNDS` has the ranges).

    Values are those ``networkstatus_get_param`` returns; the narrower C fields some of
    them are stored in are applied per circuit by `CongestionControl`."""

    cc_alg: int = CC_ALG_VEGAS
    cc_sendme_inc: int = TLS_RECORD_MAX_CELLS
    cc_cwnd_init: int = CIRCWINDOW_INIT
    cc_cwnd_min: int = CIRCWINDOW_INIT
    cc_cwnd_max: int = INT32_MAX
    cc_cwnd_inc: int = 1
    cc_cwnd_inc_rate: int = TLS_RECORD_MAX_CELLS
    cc_cwnd_inc_pct_ss: int = 100
    cc_bwe_min: int = 5
    cc_ewma_cwnd_pct: int = 50
    cc_ewma_max: int = 10
    cc_ewma_ss: int = 2
    cc_rtt_reset_pct: int = 100
    cc_ss_max: int = 5000
    cc_cwnd_full_gap: int = 4
    cc_cwnd_full_minpct: int = 25
    cc_cwnd_full_per_cwnd: int = 1
    cc_vegas_alpha_exit: int = 3 * OUTBUF_CELLS
    cc_vegas_beta_exit: int = 4 * OUTBUF_CELLS
    cc_vegas_gamma_exit: int = 3 * OUTBUF_CELLS
    cc_vegas_delta_exit: int = 5 * OUTBUF_CELLS
    cc_sscap_exit: int = 600
    cc_vegas_alpha_onion: int = 3 * OUTBUF_CELLS
    cc_vegas_beta_onion: int = 6 * OUTBUF_CELLS
    cc_vegas_gamma_onion: int = 4 * OUTBUF_CELLS
    cc_vegas_delta_onion: int = 7 * OUTBUF_CELLS
    cc_sscap_onion: int = 475
    cc_vegas_alpha_sbws: int = 2 * OUTBUF_CELLS - TLS_RECORD_MAX_CELLS
    cc_vegas_beta_sbws: int = 2 * OUTBUF_CELLS + TLS_RECORD_MAX_CELLS
    cc_vegas_gamma_sbws: int = 2 * OUTBUF_CELLS
    cc_vegas_delta_sbws: int = 4 * OUTBUF_CELLS
    cc_sscap_sbws: int = 400

    def __post_init__(self) -> None:
        for f in fields(self):
            _, low, high = CC_PARAM_BOUNDS[f.name]
            value = getattr(self, f.name)
            if not low <= value <= high:
                raise ValueError(f"{f.name}={value} outside [{low}, {high}]")

    @classmethod
    def from_consensus(cls, params: Mapping[str, int]) -> CcParams:
        """The parameters from a consensus "params" line: a missing one takes its default,
        one out of range is clamped (``networkstatus_get_param``)."""
        values = {f.name: _param(params, f.name) for f in fields(cls)}
        values["cc_alg"] = _consensus_alg(params)
        return cls(**values)


def cc_enabled(params: Mapping[str, int]) -> bool:
    """tor's congestion_control_enabled(): the consensus cc_alg is not 0 (fixed windows).

    tor's __AlwaysCongestionControl torrc override is the caller's business."""
    return _consensus_alg(params) != CC_ALG_SENDME


class CcSharedState:
    """What tor keeps process-wide: the cached clock verdict of the clock heuristics
    (``is_monotime_clock_broken``) and the MetricsPort counters."""

    __slots__ = ("clock_broken", "num_clock_stalls", "num_rtt_reset", "circs_created")

    def __init__(self) -> None:
        self.clock_broken = False
        self.num_clock_stalls = 0
        self.num_rtt_reset = 0
        self.circs_created = 0


#: The process-wide instance every `CongestionControl` uses unless given another.
CC_SHARED = CcSharedState()


def is_monotime_clock_reliable(shared: CcSharedState = CC_SHARED) -> bool:
    """tor's is_monotime_clock_reliable(), used by stream flow control rate timing."""
    return not shared.clock_broken


def n_count_ewma(curr: int, prev: int, n: int) -> int:
    """N-count EWMA with alpha 2/(N+1); the first sample is taken as is."""
    return curr if prev == 0 else (2 * curr + (n - 1) * prev) // (n + 1)


def percent_max_mix(a: int, b: int, pct_max: int) -> int:
    """Weighted mean giving the larger of a, b the weight pct_max percent."""
    hi, lo = max(a, b), min(a, b)
    return pct_max * hi // 100 + (100 - pct_max) * lo // 100


class CongestionControl:
    """tor's congestion_control_t with the Vegas algorithm, for one circuit hop we send to."""

    def __init__(
        self,
        params: CcParams,
        sendme_inc: int,
        path: CcPath = CcPath.EXIT,
        *,
        shared: CcSharedState | None = None,
    ) -> None:
        if not 1 <= sendme_inc <= 255:
            raise ValueError(f"sendme_inc {sendme_inc} outside [1, 255]")
        self.sendme_inc = sendme_inc
        self.path = path
        self.shared = CC_SHARED if shared is None else shared
        # congestion_control_init_params: per-circuit copies.
        self.cwnd = params.cc_cwnd_init
        self.cwnd_inc_pct_ss = params.cc_cwnd_inc_pct_ss
        self.cwnd_inc = params.cc_cwnd_inc
        self.cwnd_inc_rate = params.cc_cwnd_inc_rate
        self.cwnd_min = params.cc_cwnd_min
        # Globals in tor, with the width of their C variables.
        self.cwnd_max = params.cc_cwnd_max
        self.rtt_reset_pct = params.cc_rtt_reset_pct
        self.n_ewma_cwnd_pct = params.cc_ewma_cwnd_pct & 0xFF
        self.n_ewma_max = params.cc_ewma_max & 0xFF
        self.n_ewma_ss = params.cc_ewma_ss & 0xFF
        self.vegas = vegas.VegasParams.from_params(params, path)
        self.inflight = 0
        self.ewma_rtt_usec = 0
        self.min_rtt_usec = 0
        self.max_rtt_usec = 0
        self.bdp = 0
        self.in_slow_start = True
        self.cwnd_full = False
        self.blocked_chan = False
        self.next_cwnd_event = 0
        self.next_cc_event = self.update_rate()
        self._timestamps: deque[int] = deque()
        self.shared.circs_created += 1

    # -- windows ---------------------------------------------------------------------

    def update_rate(self) -> int:
        """CWND_UPDATE_RATE: SENDMEs between cwnd updates (1 in slow start)."""
        if self.in_slow_start:
            return 1
        per_update = self.cwnd_inc_rate * self.sendme_inc
        return (self.cwnd + per_update // 2) // per_update

    def sendme_per_cwnd(self) -> int:
        """SENDME_PER_CWND: SENDMEs in a congestion window, rounded."""
        return (self.cwnd + self.sendme_inc // 2) // self.sendme_inc

    def package_room(self) -> int:
        """congestion_control_get_package_window: cells we may still send."""
        if self.inflight > self.cwnd:
            return 0
        return min(self.cwnd - self.inflight, INT32_MAX)

    # -- sending ---------------------------------------------------------------------

    def cell_sent(self, now_usec: int) -> bool:
        """Count one sent DATA cell; True if its SENDME tag must be recorded (then its
        send time is queued for the RTT of the SENDME that will acknowledge it)."""
        marked = self.inflight != 0 and (self.inflight + 1) % self.sendme_inc == 0
        self.inflight += 1
        if marked:
            self._timestamps.append(now_usec)
        return marked

    def cells_sent(self, count: int, now_usec: int) -> list[int]:
        """`cell_sent` for `count` consecutive cells at one time: the 0-based indexes of
        the cells whose tags must be recorded."""
        if count < 0:
            raise ValueError("negative cell count")
        first = -(self.inflight + 1) % self.sendme_inc
        if first == 0 and self.inflight == 0:
            first = self.sendme_inc  # the very first cell never expects a SENDME
        marked = list(range(first, count, self.sendme_inc))
        self.inflight += count
        self._timestamps.extend([now_usec] * len(marked))
        return marked

    # -- receiving a SENDME ----------------------------------------------------------

    def sendme_received(
        self, now_usec: int, *, blocked_chan: bool = False, chan_cells: int = 0
    ) -> None:
        """A circuit-level SENDME arrived (congestion_control_dispatch_cc_alg).

        `blocked_chan` is tor's ``circuit_blocked_on_p_chan`` (the channel towards the
        SENDME's sender stopped taking our cells), `chan_cells` the cells of this circuit
        queued on it (``p_chan_cells.n``; only used while no RTT could ever be measured).
        """
        if not self._timestamps:
            raise FlowControlViolation("congestion control got a SENDME but has no timestamps")
        vegas.process_sendme(self, now_usec, blocked_chan, chan_cells)
        if self.cwnd > self.cwnd_max:
            log.debug("cc: cwnd %d exceeds max %d, clamping", self.cwnd, self.cwnd_max)
            self.cwnd = self.cwnd_max

    def ack_inflight(self) -> None:
        """The acknowledged cells leave ``inflight``."""
        self.inflight = max(self.inflight - self.sendme_inc, 0)

    def update_estimates(self, now_usec: int, blocked_chan: bool, chan_cells: int) -> bool:
        """congestion_control_update_circuit_estimates: RTT, then BDP; False if neither
        could be updated (then Vegas leaves cwnd alone)."""
        rtt = self.update_rtt(now_usec)
        return self.update_bdp(rtt, blocked_chan, chan_cells)

    def update_rtt(self, now_usec: int) -> int:
        """congestion_control_update_circuit_rtt: the RTT of the oldest pending SENDME
        timestamp folded into max/EWMA/min, or 0 if the clock looks stalled or jumped."""
        rtt = max(now_usec - self._timestamps.popleft(), 0)
        if self.stalled_or_jumped(self.ewma_rtt_usec, rtt):
            self.shared.num_clock_stalls += 1
            return 0
        self.ewma_rtt_usec = n_count_ewma(rtt, self.ewma_rtt_usec, self.n_ewma_count())
        self.max_rtt_usec = max(self.max_rtt_usec, rtt)
        if self.min_rtt_usec == 0:
            self.min_rtt_usec = self.ewma_rtt_usec
        elif self.cwnd == self.cwnd_min and not self.in_slow_start:
            # Out of a wedge: an abnormally low min RTT pinned cwnd at cwnd_min.
            new_rtt = percent_max_mix(self.ewma_rtt_usec, self.min_rtt_usec, self.rtt_reset_pct)
            log.debug("cc: resetting min RTT %d -> %d usec", self.min_rtt_usec, new_rtt)
            self.min_rtt_usec = new_rtt
            self.shared.num_rtt_reset += 1
        elif self.ewma_rtt_usec < self.min_rtt_usec:
            self.min_rtt_usec = self.ewma_rtt_usec
        return rtt

    def n_ewma_count(self) -> int:
        """n_ewma_count: N for the RTT EWMA, at least 2."""
        if self.in_slow_start:
            count = self.n_ewma_ss
        else:
            count = min(self.update_rate() * self.n_ewma_cwnd_pct // 100, self.n_ewma_max)
        return max(count, 2)

    def stalled_or_jumped(self, old_delta: int, new_delta: int) -> bool:
        """time_delta_stalled_or_jumped (proposal 324 2.1.1), caching the clock verdict."""
        if new_delta == 0:
            self.shared.clock_broken = True
            return True
        # Heuristics only once out of slow start with an RTT average.
        if self.in_slow_start or not self.ewma_rtt_usec:
            return False
        if old_delta > new_delta * DELTA_DISCREPANCY_RATIO_MAX:
            log.debug("cc: sudden RTT decrease %d vs %d usec", new_delta, old_delta)
            return self.shared.clock_broken
        if new_delta > old_delta * DELTA_DISCREPANCY_RATIO_MAX:
            log.debug("cc: sudden RTT increase %d vs %d usec", new_delta, old_delta)
            return True
        self.shared.clock_broken = False
        return False

    def update_bdp(self, rtt: int, blocked: bool, chan_cells: int) -> bool:
        """congestion_control_update_circuit_bdp (the cwnd/RTT estimator) and the
        blocked-channel congestion signal; True if BDP was updated."""
        if not self.ewma_rtt_usec:
            return self._bdp_without_rtt(blocked, chan_cells)
        self.bdp = self.cwnd * self.min_rtt_usec // self.ewma_rtt_usec
        if blocked != self.blocked_chan:
            # Becoming blocked or unblocked is an immediate congestion event.
            self.blocked_chan = blocked
            self.next_cc_event = 0
        return blocked or rtt != 0

    def _bdp_without_rtt(self, blocked: bool, chan_cells: int) -> bool:
        """The clock has been stalled for the whole circuit: BDP is cwnd, less what
        waits on a blocked channel (down to cwnd_min)."""
        cwnd = self.cwnd
        if blocked:
            cwnd = self.cwnd_min if chan_cells >= cwnd else max(cwnd - chan_cells, self.cwnd_min)
        self.blocked_chan = blocked
        self.bdp = cwnd
        log.debug("cc: clock stalled for the circuit's lifetime; BDP %d", cwnd)
        return blocked

    def statistics(self) -> dict[str, int | bool]:
        """A snapshot for the control port (CIRC_BW: SS, CWND, RTT, MIN_RTT) and logs."""
        return {
            "cwnd": self.cwnd,
            "inflight": self.inflight,
            "sendme_inc": self.sendme_inc,
            "in_slow_start": self.in_slow_start,
            "min_rtt_usec": self.min_rtt_usec,
            "ewma_rtt_usec": self.ewma_rtt_usec,
            "max_rtt_usec": self.max_rtt_usec,
            "bdp": self.bdp,
            "queue_use": vegas.queue_use(self),
            "cwnd_full": self.cwnd_full,
            "blocked_chan": self.blocked_chan,
            "next_cc_event": self.next_cc_event,
            "next_cwnd_event": self.next_cwnd_event,
            "pending_sendmes": len(self._timestamps),
            "package_room": self.package_room(),
        }
