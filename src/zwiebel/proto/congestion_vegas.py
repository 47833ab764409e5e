"""TOR_VEGAS, proposal 324 section 3.3, as tor 0.4.9.11's ``congestion_control_vegas.c``.

On every SENDME (``congestion_control_vegas_process_sendme``), after the common RTT and
BDP update of `zwiebel.proto.congestion.CongestionControl`:

- ``queue_use = cwnd - bdp`` (0 if BDP is larger) estimates the cells queued on the path.
- ``cwnd_full`` becomes true when ``inflight + cc_cwnd_full_gap * sendme_inc >= cwnd`` and
  false when ``100 * inflight < cc_cwnd_full_minpct * cwnd``; it is reset once per cwnd
  of SENDMEs (``cc_cwnd_full_per_cwnd=1``) or on every cwnd update (0).
- Slow start: below ``gamma`` queue use with an unblocked channel, a full cwnd grows by
  the RFC 3742 limited-slow-start increment (``cc_cwnd_inc_pct_ss`` percent of a
  sendme_inc while cwnd <= ``cc_sscap_*``, less above); otherwise cwnd becomes
  ``bdp + gamma`` and slow start ends.  It also ends at ``cc_ss_max`` and if the
  increment falls to the steady-state rate.
- Steady state, once every ``CWND_UPDATE_RATE`` SENDMEs (or at once when the channel
  blocks or unblocks): above ``delta`` cwnd drops to ``bdp + delta - cwnd_inc``; above
  ``beta`` or blocked it shrinks by ``cc_cwnd_inc``; a full cwnd below ``alpha`` grows
  by ``cc_cwnd_inc``; then cwnd is at least ``cc_cwnd_min``.

The arithmetic is tor's unsigned 64-bit arithmetic, including the wrap-around of the two
subtractions that could go below zero with extreme parameters (the caller's
``cc_cwnd_max`` clamp then applies).  The MetricsPort moving averages are left out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zwiebel.proto.congestion import CcParams, CongestionControl

log = logging.getLogger("zwiebel")

_U64 = 2**64
_U16 = 0xFFFF


class CcPath(Enum):
    """tor's cc_path_t: the path length the Vegas queue thresholds are chosen for.

    tor's CC_PATH_ONION_SOS uses the EXIT thresholds and CC_PATH_ONION_VG the ONION ones."""

    EXIT = 0
    ONION = 1
    SBWS = 4


#: The suffix of the consensus parameters holding each path's thresholds.
_PATH_PARAM_SUFFIX = {CcPath.EXIT: "exit", CcPath.ONION: "onion", CcPath.SBWS: "sbws"}


@dataclass(frozen=True)
class VegasParams:
    """struct vegas_params_t plus vegas.c's cached cwnd-full globals."""

    ss_cwnd_cap: int
    ss_cwnd_max: int
    alpha: int
    beta: int
    gamma: int
    delta: int
    cwnd_full_gap: int
    cwnd_full_minpct: int
    cwnd_full_per_cwnd: bool

    @classmethod
    def from_params(cls, p: CcParams, path: CcPath) -> VegasParams:
        """congestion_control_vegas_set_params: the thresholds of `path`'s length."""
        name = _PATH_PARAM_SUFFIX[path]
        alpha, beta, gamma, delta = (
            int(getattr(p, f"cc_vegas_{q}_{name}")) for q in ("alpha", "beta", "gamma", "delta")
        )
        sscap = int(getattr(p, f"cc_sscap_{name}"))
        return cls(
            ss_cwnd_cap=sscap,
            ss_cwnd_max=p.cc_ss_max,
            alpha=alpha,
            beta=beta,
            gamma=gamma,
            delta=delta & _U16,  # a uint16_t field fed from a parameter up to INT32_MAX
            cwnd_full_gap=p.cc_cwnd_full_gap,
            cwnd_full_minpct=p.cc_cwnd_full_minpct,
            cwnd_full_per_cwnd=bool(p.cc_cwnd_full_per_cwnd),
        )


def queue_use(cc: CongestionControl) -> int:
    """Cells the cwnd is above the BDP estimate; 0 if below."""
    return 0 if cc.bdp > cc.cwnd else cc.cwnd - cc.bdp


def rfc3742_ss_inc(cc: CongestionControl) -> int:
    """The RFC 3742 limited-slow-start increment for one SENDME."""
    cap = cc.vegas.ss_cwnd_cap
    if cc.cwnd <= cap:
        return (cc.cwnd_inc_pct_ss * cc.sendme_inc + 50) // 100
    return max((cc.sendme_inc * cap + cc.cwnd) // (2 * cc.cwnd), 1)


def _update_cwnd_full(cc: CongestionControl) -> None:
    v = cc.vegas
    if cc.inflight + v.cwnd_full_gap * cc.sendme_inc >= cc.cwnd:
        cc.cwnd_full = True
    elif 100 * cc.inflight < v.cwnd_full_minpct * cc.cwnd:
        cc.cwnd_full = False


def _exit_slow_start(cc: CongestionControl, why: str) -> None:
    cc.in_slow_start = False
    log.debug("cc: vegas leaves slow start (%s): cwnd %d bdp %d", why, cc.cwnd, cc.bdp)


def _slow_start(cc: CongestionControl, qu: int) -> None:
    v = cc.vegas
    if qu < v.gamma and not cc.blocked_chan:
        if cc.cwnd_full:
            inc = rfc3742_ss_inc(cc)
            cc.cwnd += inc
            if inc * cc.sendme_per_cwnd() <= cc.cwnd_inc * cc.cwnd_inc_rate:
                _exit_slow_start(cc, "increment below steady state")
    else:
        cc.cwnd = cc.bdp + v.gamma
        _exit_slow_start(cc, "blocked channel" if cc.blocked_chan else "queue above gamma")
    if cc.cwnd >= v.ss_cwnd_max:
        cc.cwnd = v.ss_cwnd_max
        _exit_slow_start(cc, "cc_ss_max")


def _steady_state(cc: CongestionControl, qu: int) -> None:
    v = cc.vegas
    if qu > v.delta:
        cc.cwnd = (cc.bdp + v.delta - cc.cwnd_inc) % _U64
    elif qu > v.beta or cc.blocked_chan:
        cc.cwnd = (cc.cwnd - cc.cwnd_inc) % _U64
    elif cc.cwnd_full and qu < v.alpha:
        cc.cwnd += cc.cwnd_inc
    cc.cwnd = max(cc.cwnd, cc.cwnd_min)
    log.debug(
        "cc: vegas cwnd %d inflight %d bdp %d queue %d min/ewma RTT %d/%d usec",
        cc.cwnd,
        cc.inflight,
        cc.bdp,
        qu,
        cc.min_rtt_usec,
        cc.ewma_rtt_usec,
    )


def process_sendme(
    cc: CongestionControl, now_usec: int, blocked_chan: bool, chan_cells: int
) -> None:
    """congestion_control_vegas_process_sendme (with a pending timestamp to pop)."""
    if cc.next_cc_event:
        cc.next_cc_event -= 1
    if cc.next_cwnd_event:
        cc.next_cwnd_event -= 1
    if not cc.update_estimates(now_usec, blocked_chan, chan_cells):
        cc.ack_inflight()
        return
    qu = queue_use(cc)
    _update_cwnd_full(cc)
    if cc.in_slow_start:
        _slow_start(cc, qu)
    elif cc.next_cc_event == 0:
        _steady_state(cc, qu)
    if cc.next_cwnd_event == 0:
        cc.next_cwnd_event = cc.sendme_per_cwnd() & _U16
    if cc.next_cc_event == 0:
        cc.next_cc_event = cc.update_rate() & _U16
    if cc.vegas.cwnd_full_per_cwnd:
        reset = cc.next_cwnd_event == cc.sendme_per_cwnd()
    else:
        reset = cc.next_cc_event == cc.update_rate()
    if reset:
        cc.cwnd_full = False
    cc.ack_inflight()
