"""The voting schedule (zwiebel.dirauth.schedule) against tor 0.4.9.11's arithmetic.

Expected times follow voting_sched_get_start_of_interval_after (networkstatus.c) and
create_voting_schedule (voting_schedule.c) worked by hand; the 10/2/2 case is also the
real network of tests/vectors/dirauth/realnet (vote published 08:08:17 for
valid-after 08:08:20, fresh-until 08:08:30, valid-until 08:08:40).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from zwiebel.dirauth.schedule import (
    Action,
    LiveConsensus,
    ScheduleConfig,
    VotingSchedule,
    start_of_interval_after,
)


def t(hms: str, day: int = 22) -> datetime:
    h, m, s = map(int, hms.split(":"))
    return datetime(2026, 11, day, h, m, s, tzinfo=UTC)


TESTNET = ScheduleConfig(voting_interval=10, vote_delay=2, dist_delay=2, n_intervals_valid=2,
                         initial_voting_interval=10, initial_vote_delay=2,
                         initial_dist_delay=2)


def test_testing_network_10_2_2() -> None:
    table = VotingSchedule(TESTNET).timetable(t("08:08:17"))
    assert [when for _, when in table.steps()] == [
        t("08:08:16"), t("08:08:17"), t("08:08:18"), t("08:08:19"), t("08:08:20")]
    times = VotingSchedule(TESTNET).vote_times(t("08:08:17"))
    assert (times.valid_after, times.fresh_until, times.valid_until) == (
        t("08:08:20"), t("08:08:30"), t("08:08:40"))
    assert (times.vote_delay, times.dist_delay) == (2, 2)


def test_public_network_defaults() -> None:
    sched = VotingSchedule(ScheduleConfig())
    live = LiveConsensus(t("12:00:00"), t("13:00:00"), 300, 300)
    table = sched.timetable(t("12:34:56"), live)
    assert table.interval == 3600
    assert [when for _, when in table.steps()] == [
        t("12:50:00"), t("12:52:30"), t("12:55:00"), t("12:57:30"), t("13:00:00")]
    times = sched.vote_times(t("12:50:00"), live)
    assert (times.valid_after, times.fresh_until, times.valid_until) == (
        t("13:00:00"), t("14:00:00"), t("16:00:00"))
    assert sched.current_valid_after(t("12:34:56"), live) == t("12:00:00")


def test_without_consensus_uses_initial_interval() -> None:
    sched = VotingSchedule(ScheduleConfig())
    assert sched.timetable(t("12:34:56")).interval_starts == t("13:00:00")
    testing = VotingSchedule(ScheduleConfig.testing_defaults())
    table = testing.timetable(t("12:34:56"))
    assert table.interval_starts == t("12:35:00")
    assert table.voting_starts == t("12:34:20")
    assert testing.vote_times(t("12:34:20")).fresh_until == t("12:40:00")


def test_oversized_delays_are_quartered() -> None:
    cfg = ScheduleConfig(initial_voting_interval=10, initial_vote_delay=5,
                         initial_dist_delay=5)
    table = VotingSchedule(cfg).timetable(t("00:00:01"))
    assert table.voting_starts == t("00:00:06") and table.voting_ends == t("00:00:08")


def test_intervals_never_cross_midnight() -> None:
    assert start_of_interval_after(t("23:59:58"), 7) == t("00:00:00", 23)
    assert start_of_interval_after(t("21:00:01"), 5 * 3600) == t("00:00:00", 23)
    assert start_of_interval_after(t("00:00:00"), 3600) == t("01:00:00")
    assert start_of_interval_after(t("12:34:56"), 3600, 120) == t("13:02:00")
    assert start_of_interval_after(t("12:01:00"), 3600, 120) == t("12:02:00")


def test_next_action_order() -> None:
    table = VotingSchedule(TESTNET).timetable(t("08:08:17"))
    assert table.next_action(frozenset()) == (Action.VOTE, t("08:08:16"))
    done = frozenset({Action.VOTE, Action.FETCH_MISSING_VOTES})
    assert table.next_action(done) == (Action.COMPUTE_CONSENSUS, t("08:08:18"))
    assert table.next_action(frozenset(Action)) is None
    assert table.interval_starts - table.voting_starts == timedelta(seconds=4)
