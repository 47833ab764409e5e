"""Observed bandwidth for the descriptor (tor feature/stats/bwhist.c).

tor adds the bytes it reads and writes on rate-limited connections to one slot per
second, keeps the sum over the last `ROLLING_SECONDS` (10) seconds, and remembers the
largest such sum in each `PERIOD_SECONDS` (one day) period for `NUM_PERIODS` (5) days
(``add_obs``, ``advance_obs``, ``commit_max``).  The observed bandwidth is the smaller of
the read and write maxima, divided by 10 (``bwhist_bandwidth_assess``); the running
period's maximum counts only once it has been observed for longer than
TestingMinTimeToReportBandwidth (one day; 0 on test networks; ``find_largest_max``).

Sans-I/O: ``now`` is POSIX seconds.  Not here: the BWHistory* state-file keys and the
extra-info read-history/write-history lines.
"""

from __future__ import annotations

ROLLING_SECONDS = 10
PERIOD_SECONDS = 24 * 60 * 60
NUM_PERIODS = 5


class BandwidthArray:
    """One direction's history (tor's bw_array_t, without the per-period totals)."""

    def __init__(self, now: int) -> None:
        self._reset(now)

    def _reset(self, now: int) -> None:
        self.obs = [0] * ROLLING_SECONDS
        self.cur_idx = 0
        self.cur_time = now
        self.total_obs = 0
        self.max_total = 0
        self.next_period = now + PERIOD_SECONDS
        self.maxima: list[int] = []

    def add(self, when: int, n: int) -> None:
        """Count ``n`` bytes at second ``when`` (earlier seconds are ignored)."""
        if when < self.cur_time:
            return
        if when - self.cur_time > PERIOD_SECONDS * NUM_PERIODS:
            self._reset(when)  # everything remembered is stale after so long
        while when > self.cur_time:
            self._advance()
        self.obs[self.cur_idx] += n

    def _advance(self) -> None:
        total = self.total_obs + self.obs[self.cur_idx]
        self.max_total = max(self.max_total, total)
        nxt = (self.cur_idx + 1) % ROLLING_SECONDS
        self.total_obs = total - self.obs[nxt]
        self.obs[nxt] = 0
        self.cur_idx = nxt
        self.cur_time += 1
        if self.cur_time >= self.next_period:
            self.maxima = (self.maxima + [self.max_total])[-NUM_PERIODS:]
            self.max_total = 0
            self.next_period += PERIOD_SECONDS

    def largest_max(self, min_observation: int) -> int:
        """find_largest_max: the largest 10-second sum worth reporting."""
        period_start = self.next_period - PERIOD_SECONDS
        current = self.max_total if self.cur_time > period_start + min_observation else 0
        return max([current, *self.maxima])


class BandwidthHistory:
    """Read and write histories and the observed bandwidth made from them."""

    def __init__(self, now: int, min_observation: int = PERIOD_SECONDS) -> None:
        self.read = BandwidthArray(now)
        self.written = BandwidthArray(now)
        self.min_observation = min_observation

    def note(self, now: int, n_read: int, n_written: int) -> None:
        """Bytes moved at second ``now`` (bwhist_note_bytes_read/written)."""
        self.read.add(now, n_read)
        self.written.add(now, n_written)

    def observed(self) -> int:
        """Bytes per second for the descriptor's bandwidth line (bwhist_bandwidth_assess)."""
        r = self.read.largest_max(self.min_observation)
        w = self.written.largest_max(self.min_observation)
        return min(r, w) // ROLLING_SECONDS
