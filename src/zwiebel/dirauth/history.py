"""Relay reachability history: uptime, WFU, MTBF, time known (dir-spec 3.4.2).

What an authority remembers about each relay's reachability tests, as tor 0.4.9.11's
rephist.c (or_history_t) does: runs of reachability and downtimes, weighted so that
old runs count less (every STABILITY_INTERVAL all weights are multiplied by
STABILITY_ALPHA). From it come the vote's "stats wfu=.. tk=.. mtbf=.." line and what
the Stable and Guard flags need: MTBF (weighted mean run length), WFU (weighted
fraction of time up) and TK (weighted time known).

Times are whole seconds (tor's time_t); `now`/`when` are passed in. The service
persists `serialize()` (JSON text) and restores it with `ReachabilityHistory.load()`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

STABILITY_EPSILON = 0.0001
STABILITY_ALPHA = 0.95
STABILITY_INTERVAL = 12 * 60 * 60
ENOUGH_STABILITY_TIME = 4 * 60 * 60
"""rep_hist_have_measured_enough_stability: tracking for 4 hours."""


def _ts(when: datetime) -> int:
    return int(when.timestamp())


@dataclass
class RelayHistory:
    """One relay's record (tor: or_history_t); times are POSIX seconds, 0 for unset."""

    since: int = 0
    weighted_run_length: int = 0
    total_run_weights: float = 0.0
    start_of_run: int = 0
    start_of_downtime: int = 0
    weighted_uptime: int = 0
    total_weighted_time: int = 0
    last_reached_addr: str = ""
    last_reached_port: int = 0
    last_reachable: int = 0
    """When the last reachability test succeeded (tor keeps it in node_t)."""

    def stability(self, when: int) -> float:
        """get_stability: the weighted MTBF in seconds."""
        total, weights = self.weighted_run_length, self.total_run_weights
        if self.start_of_run:
            total += when - self.start_of_run
            weights += 1.0
        return 0.0 if weights < STABILITY_EPSILON else total / weights

    def time_known(self, when: int) -> int:
        """get_total_weighted_time."""
        if self.start_of_run:
            return self.total_weighted_time + when - self.start_of_run
        if self.start_of_downtime:
            return self.total_weighted_time + when - self.start_of_downtime
        return self.total_weighted_time

    def wfu(self, when: int) -> float:
        """get_weighted_fractional_uptime."""
        up, total = self.weighted_uptime, self.total_weighted_time
        if self.start_of_run:
            up += when - self.start_of_run
            total += when - self.start_of_run
        elif self.start_of_downtime:
            total += when - self.start_of_downtime
        return up / total if total else 0.0

    def uptime(self, when: int) -> int:
        """rep_hist_get_uptime: seconds in the current run (0 when down)."""
        if not self.start_of_run or when < self.start_of_run:
            return 0
        return when - self.start_of_run


class ReachabilityHistory:
    """Every relay's history, keyed by RSA identity digest (tor: history_map)."""

    def __init__(self) -> None:
        self.relays: dict[bytes, RelayHistory] = {}
        self.started_tracking = 0
        self.last_downrated = 0

    def _get(self, identity: bytes, when: int) -> RelayHistory:
        hist = self.relays.get(identity)
        if hist is None:
            hist = self.relays[identity] = RelayHistory(since=when)
        if not self.started_tracking:
            self.started_tracking = when
        return hist

    def note_reachable(self, identity: bytes, address: str, port: int, now: datetime,
                       address_change_penalty: int = 3600) -> None:
        """rep_hist_note_router_reachable: a reachability test to address:port succeeded.

        An address or port change while running counts as `address_change_penalty`
        seconds of downtime (tor: 3600, 240 on a testing network, or half the
        consensus' fresh + valid period when it has one).
        """
        when = _ts(now)
        hist = self._get(identity, when)
        changed = (hist.last_reached_addr and address != hist.last_reached_addr) or (
            hist.last_reached_port and port != hist.last_reached_port)
        if not hist.start_of_run:
            hist.start_of_run = when
        if hist.start_of_downtime:
            hist.total_weighted_time += when - hist.start_of_downtime
            hist.start_of_downtime = 0
        elif changed:
            self._unreachable(hist, when - address_change_penalty)
            hist.start_of_run = when
            hist.total_weighted_time += when - hist.start_of_downtime
            hist.start_of_downtime = 0
        hist.last_reached_addr, hist.last_reached_port = address, port
        hist.last_reachable = when

    def note_unreachable(self, identity: bytes, when: datetime) -> None:
        """rep_hist_note_router_unreachable: the relay counts as down from `when`."""
        at = _ts(when)
        self._unreachable(self._get(identity, at), at)

    @staticmethod
    def _unreachable(hist: RelayHistory, when: int) -> None:
        if hist.start_of_run:
            run = when - hist.start_of_run
            hist.total_run_weights += 1.0
            hist.start_of_run = 0
            if run < 0:
                hist.weighted_run_length = max(0, hist.weighted_run_length + run)
                hist.weighted_uptime = max(0, hist.weighted_uptime + run)
            else:
                hist.weighted_run_length += run
                hist.weighted_uptime += run
                hist.total_weighted_time += run
        if not hist.start_of_downtime:
            hist.start_of_downtime = when

    def make_pessimal(self, identity: bytes, now: datetime) -> None:
        """rep_hist_make_router_pessimal: down now, and never up before (Sybils)."""
        self.note_unreachable(identity, now)
        hist = self.relays[identity]
        hist.weighted_run_length = hist.weighted_uptime = 0

    def downrate(self, now: datetime) -> datetime:
        """rep_hist_downrate_old_runs: discount old runs; returns the next time to call."""
        at = _ts(now)
        if not self.last_downrated:
            self.last_downrated = at
        alpha = 1.0
        while self.last_downrated + STABILITY_INTERVAL <= at:
            self.last_downrated += STABILITY_INTERVAL
            alpha *= STABILITY_ALPHA
        if alpha != 1.0:
            for h in self.relays.values():
                h.weighted_run_length = int(h.weighted_run_length * alpha)
                h.total_run_weights *= alpha
                h.weighted_uptime = int(h.weighted_uptime * alpha)
                h.total_weighted_time = int(h.total_weighted_time * alpha)
        return datetime.fromtimestamp(self.last_downrated + STABILITY_INTERVAL, UTC)

    # --- queries (tor returns 0 for a relay it never heard of) ---

    def mtbf(self, identity: bytes, now: datetime) -> float:
        """rep_hist_get_stability."""
        hist = self.relays.get(identity)
        return hist.stability(_ts(now)) if hist else 0.0

    def wfu(self, identity: bytes, now: datetime) -> float:
        """rep_hist_get_weighted_fractional_uptime."""
        hist = self.relays.get(identity)
        return hist.wfu(_ts(now)) if hist else 0.0

    def time_known(self, identity: bytes, now: datetime) -> int:
        """rep_hist_get_weighted_time_known."""
        hist = self.relays.get(identity)
        return hist.time_known(_ts(now)) if hist else 0

    def uptime(self, identity: bytes, now: datetime) -> int:
        """rep_hist_get_uptime."""
        hist = self.relays.get(identity)
        return hist.uptime(_ts(now)) if hist else 0

    def last_reachable(self, identity: bytes) -> datetime | None:
        """When a reachability test of this relay last succeeded."""
        hist = self.relays.get(identity)
        if hist is None or not hist.last_reachable:
            return None
        return datetime.fromtimestamp(hist.last_reachable, UTC)

    def have_enough_stability(self, now: datetime) -> bool:
        """rep_hist_have_measured_enough_stability (tracking for over 4 hours)."""
        return self.started_tracking < _ts(now) - ENOUGH_STABILITY_TIME

    def stats_line(self, identity: bytes, now: datetime) -> str:
        """The vote's "stats" text: "wfu=%.6f tk=%lu mtbf=%.0f" (fmt_routerstatus.c)."""
        return (f"wfu={self.wfu(identity, now):.6f} tk={self.time_known(identity, now)} "
                f"mtbf={self.mtbf(identity, now):.0f}")

    # --- persistence ---

    def serialize(self) -> str:
        """JSON text with every relay's record (identities in hex)."""
        return json.dumps({
            "started_tracking": self.started_tracking,
            "last_downrated": self.last_downrated,
            "relays": {k.hex().upper(): asdict(v) for k, v in sorted(self.relays.items())},
        }, indent=1, sort_keys=True) + "\n"

    @classmethod
    def load(cls, text: str) -> ReachabilityHistory:
        """Read serialize()'s text back (ValueError/KeyError on a damaged file)."""
        data = json.loads(text)
        out = cls()
        out.started_tracking = int(data["started_tracking"])
        out.last_downrated = int(data["last_downrated"])
        for key, rec in data["relays"].items():
            out.relays[bytes.fromhex(key)] = RelayHistory(**rec)
        return out
