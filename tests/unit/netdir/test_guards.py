"""Guard selection (guard-spec 4): sampling, primary guards, confirmation, retries,
listing changes, persistence through state-file records."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from tests.unit.netdir.support import HashRng, fp, ident, num, relay
from zwiebel.netdir import (
    CircState,
    Guard,
    GuardContext,
    GuardParams,
    GuardSelection,
    NameSet,
    NetDir,
    PathRestrictions,
    Reachable,
    RelayInfo,
    retry_delay,
)
from zwiebel.state import format_guard_line, parse_guard_line

NOW = datetime(2026, 11, 22, 12, 0, 0, tzinfo=UTC)
RULES = PathRestrictions()


def _reachability(guard: Guard) -> Reachable:
    return guard.reachable  # a call, so mypy does not keep an earlier narrowing


def _pick(
    gs: GuardSelection, ctx: GuardContext, avoid: Sequence[RelayInfo] = ()
) -> tuple[Guard, CircState]:
    chosen = gs.select(ctx, avoid)
    assert chosen is not None
    return chosen


def _netdir(n: int = 100, bw: int = 1000) -> NetDir:
    guards = [relay(i, flags={"Guard"}, bw=bw) for i in range(1, n + 1)]
    return NetDir(guards + [relay(200), relay(201, flags={"Exit"})])


def _ready(
    netdir: NetDir | None = None, seed: bytes = b"g", params: GuardParams | None = None
) -> GuardSelection:
    gs = GuardSelection(params or GuardParams())
    gs.update(GuardContext(netdir or _netdir(), RULES, NOW, HashRng(seed)))
    return gs


def test_sample_fills_to_min_filtered_and_picks_primaries_in_order() -> None:
    netdir = _netdir()
    gs = _ready(netdir)
    assert len(gs.sampled) == 20  # max(min(100 * 20%, 60), 20)
    assert len({g.identity for g in gs.sampled}) == 20
    assert gs.primary == gs.sampled[:3]
    assert all(g.is_primary == (i < 3) for i, g in enumerate(gs.sampled))
    for g in gs.sampled:
        rec = g.record
        assert rec.listed and rec.selection == "default" and rec.sampled_by == "0.4.9.11"
        assert rec.sampled_on is not None
        assert NOW - timedelta(days=12) <= rec.sampled_on <= NOW  # backdated < lifetime/10
        assert netdir.by_rsa_id(g.identity) is not None


def test_sample_only_possible_guards_and_bounded_by_max() -> None:
    netdir = NetDir([relay(i, flags={"Guard"}) for i in range(1, 6)] + [relay(50)])
    gs = _ready(netdir)
    # five possible guards: the sample takes all of them, never the non-guard
    assert sorted(num(g.identity) for g in gs.sampled) == [1, 2, 3, 4, 5]
    big = _netdir(400)
    excluded = NameSet(frozenset(f"relay{i}" for i in range(1, 401) if i % 8))
    gs = GuardSelection()
    gs.update(GuardContext(big, PathRestrictions(exclude_nodes=excluded), NOW, HashRng()))
    # only 1 in 8 passes the filter: the sample grows, but guard-max-sample-size (60)
    # caps it below 20% of 400 (80)
    assert len(gs.sampled) == 60


def test_sampling_is_bandwidth_weighted() -> None:
    relays = [relay(1, flags={"Guard"}, bw=10_000)]
    relays += [relay(i, flags={"Guard"}, bw=10) for i in range(2, 200)]
    netdir = NetDir(relays)
    firsts = Counter(num(_ready(netdir, seed=bytes([s])).sampled[0].identity) for s in range(40))
    # relay 1 holds 10000 / (10000 + 1980) of the guard weight: ~83%
    assert firsts[1] >= 25


def test_select_first_primary_then_fail_over_and_retry() -> None:
    netdir = _netdir()
    gs = _ready(netdir)
    rng = HashRng(b"sel")
    first, second = gs.primary[0], gs.primary[1]
    guard, state = _pick(gs, GuardContext(netdir, RULES, NOW, rng))
    assert guard is first and state is CircState.USABLE_ON_COMPLETION
    assert first.last_tried == NOW
    gs.note_failure(first, NOW)
    assert first.reachable is Reachable.NO and first.failing_since == NOW
    later = NOW + timedelta(minutes=5)
    guard, state = _pick(gs, GuardContext(netdir, RULES, later, rng))
    assert guard is second and state is CircState.USABLE_ON_COMPLETION
    # primary retry after 10 minutes from the last attempt (guard-spec 4.7)
    gs.select(GuardContext(netdir, RULES, NOW + timedelta(minutes=9), rng))
    assert first.reachable is Reachable.NO
    guard, _ = _pick(gs, GuardContext(netdir, RULES, NOW + timedelta(minutes=10), rng))
    assert guard is first and _reachability(first) is Reachable.MAYBE


def test_success_confirms_and_completes() -> None:
    netdir = _netdir()
    gs = _ready(netdir)
    rng = HashRng(b"ok")
    guard, state = _pick(gs, GuardContext(netdir, RULES, NOW, rng))
    assert guard is not None and state is not None
    new_state = gs.note_success(guard, state, GuardContext(netdir, RULES, NOW, rng))
    assert new_state is CircState.COMPLETE
    assert guard.reachable is Reachable.YES and guard.record.confirmed_idx == 0
    assert guard.record.confirmed_on is not None
    assert NOW - timedelta(days=12) <= guard.record.confirmed_on <= NOW
    assert gs.confirmed() == [guard] and gs.primary[0] is guard


def test_all_primaries_down_uses_next_filtered_guard_pending() -> None:
    netdir = _netdir()
    gs = _ready(netdir)
    rng = HashRng(b"down")
    for g in gs.primary:
        gs.note_failure(g, NOW)
    guard, state = _pick(gs, GuardContext(netdir, RULES, NOW, rng))
    assert guard is gs.sampled[3] and state is CircState.USABLE_IF_NO_BETTER_GUARD
    assert guard.is_pending
    # a second circuit does not reuse the pending guard
    other, _ = _pick(gs, GuardContext(netdir, RULES, NOW, rng))
    assert other is gs.sampled[4]
    # success: it is confirmed, becomes primary (confirmed first), and the circuit completes
    assert (
        gs.note_success(guard, state, GuardContext(netdir, RULES, NOW, rng)) is CircState.COMPLETE
    )
    assert guard.is_primary and guard in gs.primary


def test_confirmed_non_primary_is_tried_before_unconfirmed() -> None:
    netdir = _netdir()
    gs = _ready(netdir, params=GuardParams(n_primary_guards=1))
    rng = HashRng(b"conf")
    target = gs.sampled[5]
    target.record = replace(target.record, confirmed_idx=0, confirmed_on=NOW)
    gs.update_primary(GuardContext(netdir, RULES, NOW, rng))
    assert gs.primary == [target]
    gs.note_failure(target, NOW)
    second = gs.sampled[7]
    second.record = replace(second.record, confirmed_idx=1, confirmed_on=NOW)
    guard, state = _pick(gs, GuardContext(netdir, RULES, NOW, rng))
    assert guard is second and state is CircState.USABLE_IF_NO_BETTER_GUARD


def test_nonprimary_success_waits_for_better_guard() -> None:
    netdir = _netdir()
    gs = _ready(netdir, params=GuardParams(n_primary_guards=1))
    rng = HashRng(b"wait")
    confirmed = gs.sampled[0]
    confirmed.record = replace(confirmed.record, confirmed_idx=0, confirmed_on=NOW)
    gs.update_primary(GuardContext(netdir, RULES, NOW, rng))
    gs.note_failure(confirmed, NOW)
    guard, state = _pick(gs, GuardContext(netdir, RULES, NOW, rng))
    assert guard is gs.sampled[1] and state is CircState.USABLE_IF_NO_BETTER_GUARD
    assert gs.note_success(guard, state, GuardContext(netdir, RULES, NOW, rng)) is (
        CircState.WAITING_FOR_BETTER_GUARD
    )
    # first time on the internet: primaries get another chance
    assert confirmed.reachable is Reachable.MAYBE


def test_num_entry_guards_chooses_among_first_primaries() -> None:
    netdir = _netdir()
    gs = _ready(netdir, params=GuardParams(n_primary_guards_to_use=2))
    rng = HashRng(b"two")
    picks = Counter(id(_pick(gs, GuardContext(netdir, RULES, NOW, rng))[0]) for _ in range(200))
    assert set(picks) == {id(gs.primary[0]), id(gs.primary[1])}


def test_params_from_netdir_and_torrc() -> None:
    netdir = NetDir([], {"guard-n-primary-guards": 5, "guard-min-filtered-sample-size": 0})
    params = GuardParams.from_netdir(netdir)
    assert params.n_primary_guards == 5 and params.min_filtered_sample_size == 1
    assert GuardParams.from_netdir(netdir, num_primary_guards=2).n_primary_guards == 2
    assert GuardParams.from_netdir(netdir, num_entry_guards=4).n_primary_guards_to_use == 4


def test_retry_schedule_table() -> None:
    h = timedelta(hours=1)
    assert retry_delay(timedelta(0), True) == timedelta(minutes=10)
    assert retry_delay(6 * h, False) == h
    assert retry_delay(6 * h + timedelta(seconds=1), True) == timedelta(minutes=90)
    assert retry_delay(timedelta(days=4, seconds=1), False) == 18 * h
    assert retry_delay(timedelta(days=7), True) == 4 * h
    assert retry_delay(timedelta(days=30), True) == 9 * h
    assert retry_delay(timedelta(days=30), False) == 36 * h


def test_avoid_conflicting_primary() -> None:
    netdir = _netdir()
    gs = _ready(netdir)
    first = netdir.by_rsa_id(gs.primary[0].identity)
    assert first is not None
    exit_relay = relay(250, flags={"Exit"}, address=first.address)  # same /16
    guard, _ = gs.select(GuardContext(netdir, RULES, NOW, HashRng()), avoid=[exit_relay]) or (
        None,
        None,
    )
    assert guard is gs.primary[1]


def test_excluded_primary_is_replaced() -> None:
    netdir = _netdir()
    gs = _ready(netdir)
    old = list(gs.primary)
    first = netdir.by_rsa_id(old[0].identity)
    assert first is not None
    nick = first.nickname
    rules = PathRestrictions(exclude_nodes=NameSet(frozenset({nick})))
    gs.update(GuardContext(netdir, rules, NOW, HashRng(b"x")))
    assert old[0] not in gs.primary and gs.primary[:2] == old[1:]
    assert _pick(gs, GuardContext(netdir, rules, NOW, HashRng()))[0] is old[1]


def test_unlisted_guard_marked_then_pruned() -> None:
    netdir = _netdir()
    gs = _ready(netdir)
    gone = gs.sampled[0]
    smaller = NetDir([r for r in netdir.relays if r.rsa_identity != gone.identity])
    gs.update(GuardContext(smaller, RULES, NOW, HashRng(b"u")))
    assert not gone.record.listed and gone.record.unlisted_since is not None
    assert NOW - timedelta(days=4) <= gone.record.unlisted_since <= NOW
    assert gone not in gs.primary
    gs.update(GuardContext(smaller, RULES, NOW + timedelta(days=15), HashRng(b"u")))
    assert gone in gs.sampled  # unlisted_since is backdated by at most 4 days
    gs.update(GuardContext(smaller, RULES, NOW + timedelta(days=25), HashRng(b"u")))
    assert gone not in gs.sampled
    # back in the consensus before removal: listed again
    gs2 = _ready(netdir)
    g2 = gs2.sampled[0]
    gs2.update(GuardContext(smaller, RULES, NOW, HashRng()))
    gs2.update(GuardContext(netdir, RULES, NOW, HashRng()))
    assert g2.record.listed and g2.record.unlisted_since is None


def test_old_unconfirmed_and_confirmed_guards_expire() -> None:
    netdir = _netdir()
    gs = _ready(netdir)
    confirmed = gs.sampled[1]
    confirmed.record = replace(confirmed.record, confirmed_idx=0, confirmed_on=NOW)
    gs.update(GuardContext(netdir, RULES, NOW + timedelta(days=59), HashRng()))
    assert confirmed in gs.sampled
    gs.update(GuardContext(netdir, RULES, NOW + timedelta(days=61), HashRng()))
    assert confirmed not in gs.sampled
    gs3 = _ready(netdir)
    gs3.update(GuardContext(netdir, RULES, NOW + timedelta(days=121), HashRng(b"later")))
    # every guard sampled at NOW was never confirmed and is now over 120 days old: all
    # were replaced by fresh samples
    assert all(g.record.sampled_on and g.record.sampled_on > NOW for g in gs3.sampled)


def test_records_round_trip_through_guard_lines() -> None:
    netdir = _netdir()
    gs = _ready(netdir)
    rng = HashRng(b"persist")
    for g in (gs.sampled[2], gs.sampled[0]):  # confirm out of sample order
        gs.note_success(g, CircState.USABLE_ON_COMPLETION, GuardContext(netdir, RULES, NOW, rng))
    lines = [format_guard_line(r, r.sampled_idx or 0) for r in gs.records()]
    assert lines[0].startswith(f"in=default rsa_id={fp(num(gs.sampled[0].identity))[1:]} ")
    restored = GuardSelection()
    restored.load_records([parse_guard_line(line) for line in reversed(lines)], NOW)
    assert [g.identity for g in restored.sampled] == [g.identity for g in gs.sampled]
    assert [g.record for g in restored.sampled] == gs.records()
    assert [g.record.confirmed_idx for g in restored.confirmed()] == [1, 0]
    restored.update(GuardContext(netdir, RULES, NOW, rng))
    # confirmed guards are primary first; primaries are kept in sample order
    assert restored.primary == restored.sampled[:3]


def test_load_records_densifies_confirmed_and_skips_other_selections() -> None:
    gs = _ready()
    recs = gs.records()
    recs[3] = replace(recs[3], confirmed_idx=7, confirmed_on=NOW)
    recs[9] = replace(recs[9], confirmed_idx=4, confirmed_on=NOW)
    recs.append(replace(recs[0], selection="bridges", rsa_identity=ident(999)))
    restored = GuardSelection()
    restored.load_records(recs, NOW)
    assert len(restored.sampled) == 20
    assert [(g.identity, g.record.confirmed_idx) for g in restored.confirmed()] == [
        (recs[3].rsa_identity, 1),
        (recs[9].rsa_identity, 0),
    ]
