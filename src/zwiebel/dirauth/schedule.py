"""When an authority votes, fetches, computes and publishes (dir-spec 1.4, 3.1).

tor 0.4.9.11: voting_sched_get_start_of_interval_after (networkstatus.c) aligns
intervals to midnight UTC, never crossing it; create_voting_schedule
(voting_schedule.c) takes the live consensus' interval and delays, or the
TestingV3AuthInitial* ones when there is none, halves oversized delays, and counts
back from the next interval start: vote at start - dist - vote delay, fetch missing
votes half a vote delay later, compute at start - dist delay, fetch missing
signatures half a dist delay before the start, publish at the start (dirvote_act).
A vote's own times (dirserv_generate_networkstatus_vote_obj) take valid-after from
the live consensus' interval (or the initial one) but fresh-until and valid-until
from the configured V3AuthVotingInterval and V3AuthNIntervalsValid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

DAY = 86400


def start_of_interval_after(now: datetime, interval: int, offset: int = 0) -> datetime:
    """voting_sched_get_start_of_interval_after: the next interval start after `now`."""
    ts = int(now.timestamp())
    midnight = ts - ts % DAY
    tomorrow = midnight + DAY
    nxt = midnight + ((ts - midnight) // interval + 1) * interval
    if nxt > tomorrow or nxt + interval // 2 > tomorrow:
        nxt = tomorrow
    nxt += offset
    if nxt - interval > ts:
        nxt -= interval
    return datetime.fromtimestamp(nxt, UTC)


@dataclass(frozen=True)
class LiveConsensus:
    """What the schedule needs of the live consensus."""

    valid_after: datetime
    fresh_until: datetime
    vote_seconds: int
    dist_seconds: int

    @property
    def interval(self) -> int:
        """fresh-until minus valid-after, in seconds."""
        return int((self.fresh_until - self.valid_after).total_seconds())


@dataclass(frozen=True)
class ScheduleConfig:
    """The voting options (tor.1.txt names); defaults are tor's public-network ones."""

    voting_interval: int = 3600
    """V3AuthVotingInterval."""
    vote_delay: int = 300
    dist_delay: int = 300
    n_intervals_valid: int = 3
    initial_voting_interval: int = 1800
    """TestingV3AuthInitialVotingInterval."""
    initial_vote_delay: int = 300
    initial_dist_delay: int = 300
    start_offset: int = 0
    """TestingV3AuthVotingStartOffset."""

    @classmethod
    def testing_defaults(cls) -> ScheduleConfig:
        """The values TestingTorNetwork 1 sets (testnet.inc)."""
        return cls(300, 20, 20, 3, 150, 20, 20, 0)


class Action(Enum):
    """The steps of dirvote_act, in order."""

    VOTE = "vote"
    FETCH_MISSING_VOTES = "fetch-missing-votes"
    COMPUTE_CONSENSUS = "compute-consensus"
    FETCH_MISSING_SIGNATURES = "fetch-missing-signatures"
    PUBLISH = "publish"


@dataclass(frozen=True)
class Timetable:
    """One voting round (tor: voting_schedule_t)."""

    interval: int
    voting_starts: datetime
    fetch_missing_votes: datetime
    voting_ends: datetime
    fetch_missing_signatures: datetime
    interval_starts: datetime
    """The valid-after of the consensus this round makes; when it is published."""

    def steps(self) -> tuple[tuple[Action, datetime], ...]:
        """Each action with its time, in order."""
        return ((Action.VOTE, self.voting_starts),
                (Action.FETCH_MISSING_VOTES, self.fetch_missing_votes),
                (Action.COMPUTE_CONSENSUS, self.voting_ends),
                (Action.FETCH_MISSING_SIGNATURES, self.fetch_missing_signatures),
                (Action.PUBLISH, self.interval_starts))

    def next_action(self, done: frozenset[Action]) -> tuple[Action, datetime] | None:
        """The first step not yet done (dirvote_act runs it once its time has come)."""
        for action, when in self.steps():
            if action not in done:
                return action, when
        return None


@dataclass(frozen=True)
class VoteTimes:
    """The times a vote states about itself."""

    valid_after: datetime
    fresh_until: datetime
    valid_until: datetime
    vote_delay: int
    dist_delay: int


def _s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


class VotingSchedule:
    """tor's voting schedule for given options, as pure functions of `now`."""

    def __init__(self, config: ScheduleConfig) -> None:
        self.config = config

    def timetable(self, now: datetime, live: LiveConsensus | None = None) -> Timetable:
        """create_voting_schedule: the round whose consensus starts after `now`."""
        c = self.config
        if live is not None:
            interval, vote, dist = live.interval, live.vote_seconds, live.dist_seconds
        else:
            interval, vote, dist = (c.initial_voting_interval, c.initial_vote_delay,
                                    c.initial_dist_delay)
        if vote + dist > interval // 2:
            vote = dist = interval // 4
        start = start_of_interval_after(now, interval, c.start_offset)
        return Timetable(
            interval=interval,
            voting_starts=start - _s(dist + vote),
            fetch_missing_votes=start - _s(dist + vote // 2),
            voting_ends=start - _s(dist),
            fetch_missing_signatures=start - _s(dist // 2),
            interval_starts=start,
        )

    def current_valid_after(self, now: datetime, live: LiveConsensus | None = None) -> datetime:
        """dirauth_sched_get_cur_valid_after_time."""
        table = self.timetable(now, live)
        before = table.interval_starts - _s(table.interval + 1)
        return start_of_interval_after(before, table.interval, self.config.start_offset)

    def vote_times(self, now: datetime, live: LiveConsensus | None = None) -> VoteTimes:
        """The valid-after/fresh-until/valid-until/voting-delay of a vote made at `now`."""
        c = self.config
        last = live.interval if live is not None else c.initial_voting_interval
        valid_after = start_of_interval_after(now, last, c.start_offset)
        return VoteTimes(
            valid_after=valid_after,
            fresh_until=valid_after + _s(c.voting_interval),
            valid_until=valid_after + _s(c.voting_interval * c.n_intervals_valid),
            vote_delay=c.vote_delay,
            dist_delay=c.dist_delay,
        )
