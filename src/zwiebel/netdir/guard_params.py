"""Guard algorithm parameters and the retry schedule (guard-spec 2, 4.x; tor entrynodes.h).

Each value is a consensus parameter with tor's default and bounds; NumPrimaryGuards and
NumEntryGuards from torrc win over the consensus when set (non-zero), as in tor's
``get_n_primary_guards`` / ``get_n_primary_guards_to_use``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from zwiebel.netdir.netdir import NetDir

_INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class GuardParams:
    """The guard-spec parameters (names are the consensus parameter names)."""

    min_filtered_sample_size: int = 20  # guard-min-filtered-sample-size
    max_sample_size: int = 60  # guard-max-sample-size
    max_sample_threshold_percent: int = 20  # guard-max-sample-threshold-percent
    n_primary_guards: int = 3  # guard-n-primary-guards / NumPrimaryGuards
    n_primary_guards_to_use: int = 1  # guard-n-primary-guards-to-use / NumEntryGuards
    lifetime: timedelta = timedelta(days=120)  # guard-lifetime-days
    confirmed_min_lifetime: timedelta = timedelta(days=60)  # guard-confirmed-min-lifetime-days
    remove_unlisted_after: timedelta = timedelta(days=20)  # guard-remove-unlisted-guards-after-days
    internet_likely_down: timedelta = timedelta(minutes=10)  # guard-internet-likely-down-interval

    @classmethod
    def from_netdir(
        cls, netdir: NetDir, num_primary_guards: int = 0, num_entry_guards: int = 0
    ) -> GuardParams:
        """Read the parameters from ``netdir``; torrc NumPrimaryGuards/NumEntryGuards win."""
        p = netdir.param
        primary = num_primary_guards or p("guard-n-primary-guards", 3, 1, _INT32_MAX)
        to_use = num_entry_guards or p("guard-n-primary-guards-to-use", 1, 1, _INT32_MAX)
        return cls(
            min_filtered_sample_size=p("guard-min-filtered-sample-size", 20, 1, _INT32_MAX),
            max_sample_size=p("guard-max-sample-size", 60, 1, _INT32_MAX),
            max_sample_threshold_percent=p("guard-max-sample-threshold-percent", 20, 1, 100),
            n_primary_guards=primary,
            n_primary_guards_to_use=to_use,
            lifetime=timedelta(days=p("guard-lifetime-days", 120, 1, 3650)),
            confirmed_min_lifetime=timedelta(
                days=p("guard-confirmed-min-lifetime-days", 60, 1, 3650)
            ),
            remove_unlisted_after=timedelta(
                days=p("guard-remove-unlisted-guards-after-days", 20, 1, 365 * 10)
            ),
            internet_likely_down=timedelta(
                seconds=p("guard-internet-likely-down-interval", 600, 1, _INT32_MAX)
            ),
        )

    def max_sample(self, n_guards: int) -> int:
        """Largest sample for ``n_guards`` possible guards (tor's get_max_sample_size)."""
        by_percent = n_guards * self.max_sample_threshold_percent // 100
        return max(min(by_percent, self.max_sample_size), self.min_filtered_sample_size)


#: (failing for at most, retry delay if primary, retry delay otherwise), guard-spec 4.7
#: as tor's get_retry_schedule has it.
_RETRY_SCHEDULE = (
    (timedelta(hours=6), timedelta(minutes=10), timedelta(hours=1)),
    (timedelta(days=4), timedelta(minutes=90), timedelta(hours=4)),
    (timedelta(days=7), timedelta(hours=4), timedelta(hours=18)),
)
_RETRY_LAST = (timedelta(hours=9), timedelta(hours=36))


def retry_delay(failing_for: timedelta, is_primary: bool) -> timedelta:
    """How long after the last attempt an unreachable guard becomes "maybe" again."""
    failing_for = max(failing_for, timedelta(0))
    for limit, primary, other in _RETRY_SCHEDULE:
        if failing_for <= limit:
            return primary if is_primary else other
    return _RETRY_LAST[0] if is_primary else _RETRY_LAST[1]


def lifetime_slop_seconds(params: GuardParams) -> int:
    """tor backdates sampled_on/confirmed_on by up to GUARD_LIFETIME/10 (randomize_time)."""
    return int(params.lifetime.total_seconds()) // 10


def unlisted_slop_seconds(params: GuardParams) -> int:
    """tor backdates unlisted_since by up to a fifth of the removal delay."""
    return int(params.remove_unlisted_after.total_seconds()) // 5
