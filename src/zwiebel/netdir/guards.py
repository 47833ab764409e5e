"""Entry guard selection (guard-spec 4; tor 0.4.9 src/feature/client/entrynodes.c).

`GuardSelection` keeps the sets of guard-spec 4.1 over one selection ("default"):
SAMPLED_GUARDS in sample order, CONFIRMED_GUARDS (kept in sample order, as tor does since
proposal 310), PRIMARY_GUARDS, and per guard {is_reachable}, {failing_since},
{last_tried_to_connect}, {is_pending}.  FILTERED_GUARDS is computed on demand from the
current `NetDir` and `PathRestrictions`.  Time and randomness come in a `GuardContext`
built by the caller for each decision; persistence is `records`/`load_records` with
`zwiebel.state.GuardRecord` (the state file's "Guard" lines).  With UseEntryGuards 0 no
`GuardSelection` is used: `zwiebel.netdir.path.choose_entry` picks a Guard-flagged relay
per circuit, as tor's choose_good_entry_server does.

Parameters come from `GuardParams` (consensus, with NumPrimaryGuards and NumEntryGuards
overriding).  Guards newly sampled or confirmed get times backdated by up to a tenth of
the guard lifetime, and unlisted guards by up to a fifth of the removal delay, as tor's
randomize_time does.

Simplified, on purpose (each is a place where tor does more):
- One selection per object; bridges ("bridges" selection, bridge_addr) are not
  implemented (bridge_addr is kept when read from a state file).  tor's "restricted"
  selection (EntryNodes leaving few guards) is approximated: when EntryNodes is set the
  sample is drawn from guards passing the filter.  The caller chooses the name.
- The filter is: listed, not ExcludeNodes, in EntryNodes if set, and usable
  (`RelayInfo.is_usable`: Running, Valid, ntor key, Relay>=2).  tor instead checks
  descriptors only when building traffic circuits, and checks ReachableAddresses.
- Path restrictions (guard-spec 4.6 "restriction"): `select` takes relays the guard
  must not conflict with and skips primary guards that do; tor's conflux-specific
  counting of skipped guards is not done.
- Circuit guard states are returned (`CircState`), but upgrading circuits waiting for a
  better guard (guard-spec 4.9, entry_guards_upgrade_waiting_circuits) is left to the
  circuit manager.
- Path-bias counters are carried through the state file untouched, never updated.
- Pruning and listing updates happen in `update` (call it with each new live
  consensus); tor also skips them without a "reasonably live" consensus, which is the
  caller's check here.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from zwiebel.netdir.guard_params import (
    GuardParams,
    lifetime_slop_seconds,
    retry_delay,
    unlisted_slop_seconds,
)
from zwiebel.netdir.netdir import NetDir
from zwiebel.netdir.relay import RelayInfo
from zwiebel.netdir.restrict import PathRestrictions
from zwiebel.netdir.weights import Position, Rng, choose_weighted
from zwiebel.state.guard_line import GuardRecord


class Reachable(enum.Enum):
    """guard-spec {is_reachable}."""

    NO = "no"
    YES = "yes"
    MAYBE = "maybe"


class CircState(enum.Enum):
    """The guard state of a circuit (guard-spec 4.6; tor GUARD_CIRC_STATE_*)."""

    USABLE_ON_COMPLETION = 1
    USABLE_IF_NO_BETTER_GUARD = 2
    WAITING_FOR_BETTER_GUARD = 3
    COMPLETE = 4


@dataclass
class Guard:
    """One sampled guard: its persistent ``record`` and its non-persistent state."""

    record: GuardRecord
    reachable: Reachable = Reachable.MAYBE
    failing_since: datetime | None = None
    last_tried: datetime | None = None
    is_pending: bool = False
    is_primary: bool = False

    @property
    def identity(self) -> bytes:
        """The guard's RSA identity digest."""
        return self.record.rsa_identity

    @property
    def is_confirmed(self) -> bool:
        """Whether a circuit through this guard has ever succeeded."""
        return self.record.confirmed_idx is not None


@dataclass(frozen=True)
class GuardContext:
    """What one guard decision reads: the network, the torrc restrictions, the current
    time (timezone-aware) and the rng."""

    netdir: NetDir
    rules: PathRestrictions
    now: datetime
    rng: Rng


@dataclass
class GuardSelection:
    """The guard state of one selection; see the module docstring."""

    params: GuardParams = field(default_factory=GuardParams)
    name: str = "default"
    version: str = "0.4.9.11"
    sampled: list[Guard] = field(default_factory=list)
    primary: list[Guard] = field(default_factory=list)
    last_time_on_internet: datetime | None = None

    # --- the sets of guard-spec 4.1 ----------------------------------------------

    def confirmed(self) -> list[Guard]:
        """CONFIRMED_GUARDS, in sample order."""
        return [g for g in self.sampled if g.is_confirmed]

    def get(self, identity: bytes) -> Guard | None:
        """The sampled guard with this RSA identity."""
        return next((g for g in self.sampled if g.identity == identity), None)

    def is_filtered(self, guard: Guard, ctx: GuardContext) -> bool:
        """FILTERED_GUARDS membership: listed and passing the configuration filter."""
        relay = ctx.netdir.by_rsa_id(guard.identity)
        return guard.record.listed and relay is not None and _passes_filter(relay, ctx.rules)

    def is_usable_filtered(self, guard: Guard, ctx: GuardContext) -> bool:
        """USABLE_FILTERED_GUARDS: filtered and not known unreachable (after retry check)."""
        self.consider_retry(guard, ctx.now)
        return guard.reachable is not Reachable.NO and self.is_filtered(guard, ctx)

    # --- keeping the sample up to date (guard-spec 4.3, 4.4) -----------------------

    def update(self, ctx: GuardContext) -> None:
        """On a new live consensus: listed flags, pruning, sample expansion, primaries."""
        for guard in self.sampled:
            self._update_listed(guard, ctx)
        self._prune(ctx.now)
        self.expand_sample(ctx)
        self.update_primary(ctx)

    def expand_sample(self, ctx: GuardContext) -> None:
        """Add bandwidth-weighted guards until MIN_FILTERED_SAMPLE usable filtered ones
        exist, never beyond the maximum sample size (entry_guards_expand_sample)."""
        restricted = ctx.rules.entry_nodes is not None
        possible = [r for r in ctx.netdir.relays if r.is_possible_guard()]
        if restricted:
            possible = [r for r in possible if _passes_filter(r, ctx.rules)]
        sampled_ids = {g.identity for g in self.sampled}
        eligible = [r for r in possible if r.rsa_identity not in sampled_ids]
        max_sample = self.params.max_sample(len(possible))
        n_usable = sum(self.is_usable_filtered(g, ctx) for g in self.sampled)
        while n_usable < self.params.min_filtered_sample_size:
            if len(self.sampled) >= max_sample or not eligible:
                return
            weights = [ctx.netdir.weight(r, Position.GUARD) for r in eligible]
            relay = choose_weighted(eligible, weights, ctx.rng)
            eligible.remove(relay)
            guard = self._add_to_sample(relay, ctx)
            n_usable += self.is_usable_filtered(guard, ctx)

    def update_primary(self, ctx: GuardContext) -> None:
        """Recompute PRIMARY_GUARDS: confirmed filtered guards first, then still-filtered
        old primaries, then the first usable filtered guards (entry_guards_update_primary)."""
        n = self.params.n_primary_guards
        new = [g for g in self.confirmed() if self.is_filtered(g, ctx)][:n]
        for guard in self.primary:
            if len(new) < n and guard not in new and self.is_filtered(guard, ctx):
                new.append(guard)
        for guard in self.sampled:
            if len(new) >= n:
                break
            usable = self.is_usable_filtered(guard, ctx)
            if guard not in new and not guard.is_confirmed and usable:
                new.append(guard)
        order = {id(g): i for i, g in enumerate(self.sampled)}
        new.sort(key=lambda g: order[id(g)])
        for guard in self.sampled:
            guard.is_primary = any(guard is g for g in new)
        self.primary = new

    # --- choosing a guard for a circuit (guard-spec 4.6) --------------------------

    def select(
        self, ctx: GuardContext, avoid: Sequence[RelayInfo] = ()
    ) -> tuple[Guard, CircState] | None:
        """Choose the guard for a new circuit; None if no sampled guard is usable (then
        every guard is marked maybe-reachable so the next call starts over)."""
        chosen = (
            self._select_primary(ctx, avoid)
            or self._select_non_primary(ctx, avoid, confirmed=True)
            or self._select_non_primary(ctx, avoid, confirmed=False)
        )
        if chosen is None:
            self.mark_all_maybe_reachable()
        return chosen

    def _select_primary(
        self, ctx: GuardContext, avoid: Sequence[RelayInfo]
    ) -> tuple[Guard, CircState] | None:
        if not self.primary:
            self.update_primary(ctx)
        usable: list[Guard] = []
        for guard in self.primary:
            self.consider_retry(guard, ctx.now)
            if _violates(guard, ctx, avoid) or guard.reachable is Reachable.NO:
                continue
            usable.append(guard)
            if len(usable) >= self.params.n_primary_guards_to_use:
                break
        if not usable:
            return None
        guard = usable[ctx.rng(len(usable))]
        guard.last_tried = ctx.now
        return guard, CircState.USABLE_ON_COMPLETION

    def _select_non_primary(
        self, ctx: GuardContext, avoid: Sequence[RelayInfo], confirmed: bool
    ) -> tuple[Guard, CircState] | None:
        if not confirmed:
            self.expand_sample(ctx)
        for guard in self.sampled:
            if guard.is_primary or guard.is_pending or guard.is_confirmed != confirmed:
                continue
            if _violates(guard, ctx, avoid):
                continue
            if self.is_usable_filtered(guard, ctx):
                guard.is_pending = True
                guard.last_tried = ctx.now
                return guard, CircState.USABLE_IF_NO_BETTER_GUARD
        return None

    # --- outcomes (guard-spec 4.7, 4.8) --------------------------------------------

    def note_failure(self, guard: Guard, now: datetime) -> None:
        """We could not connect to or build a circuit through ``guard``."""
        if guard.last_tried is None:
            guard.last_tried = now
        guard.reachable = Reachable.NO
        guard.is_pending = False
        if guard.failing_since is None:
            guard.failing_since = now

    def note_success(self, guard: Guard, old_state: CircState, ctx: GuardContext) -> CircState:
        """A circuit through ``guard`` was built; confirm it; return the circuit's new
        guard state (entry_guards_note_guard_success)."""
        now = ctx.now
        last_on_internet = self.last_time_on_internet
        self.last_time_on_internet = now
        guard.reachable = Reachable.YES
        guard.failing_since = None
        guard.is_pending = False
        if not guard.is_confirmed:
            self._confirm(guard, ctx)
            self.update_primary(ctx)
        if old_state in (CircState.COMPLETE, CircState.USABLE_ON_COMPLETION) or guard.is_primary:
            return CircState.COMPLETE
        if last_on_internet is None or last_on_internet + self.params.internet_likely_down < now:
            self.mark_primary_maybe_reachable()
        return CircState.WAITING_FOR_BETTER_GUARD

    def consider_retry(self, guard: Guard, now: datetime) -> None:
        """Unreachable for long enough (guard-spec 4.7 schedule): back to maybe."""
        if guard.reachable is not Reachable.NO:
            return
        failing_for = now - (guard.failing_since or now)
        delay = retry_delay(failing_for, guard.is_primary)
        if guard.last_tried is None or now >= guard.last_tried + delay:
            guard.reachable = Reachable.MAYBE

    def mark_all_maybe_reachable(self) -> None:
        """Every sampled guard becomes "maybe" reachable again."""
        for guard in self.sampled:
            _mark_maybe(guard)

    def mark_primary_maybe_reachable(self) -> None:
        """Every primary guard becomes "maybe" reachable (the network came back)."""
        for guard in self.primary:
            _mark_maybe(guard)

    # --- persistence ---------------------------------------------------------------

    def records(self) -> list[GuardRecord]:
        """The sampled guards as state-file records, in sample order with dense indexes."""
        return [replace(g.record, sampled_idx=i) for i, g in enumerate(self.sampled)]

    def load_records(self, records: Iterable[GuardRecord], now: datetime) -> None:
        """Replace the sample with the records of this selection (tor drops "legacy")."""
        mine = [r for r in records if r.selection == self.name]
        big = 2**31
        ordered = sorted(mine, key=lambda r: _load_order(r, big))
        self.sampled = [Guard(_fill_missing(r, now)) for r in ordered]
        confirmed = sorted(self.confirmed(), key=lambda g: g.record.confirmed_idx or 0)
        for i, guard in enumerate(confirmed):
            guard.record = replace(guard.record, confirmed_idx=i)
        self.primary = []

    # --- helpers ---------------------------------------------------------------------

    def _add_to_sample(self, relay: RelayInfo, ctx: GuardContext) -> Guard:
        record = GuardRecord(
            selection=self.name,
            rsa_identity=relay.rsa_identity,
            nickname=relay.nickname,
            sampled_on=_randomize(ctx.now, lifetime_slop_seconds(self.params), ctx.rng),
            sampled_by=self.version,
            listed=True,
        )
        guard = Guard(record)
        self.sampled.append(guard)
        return guard

    def _confirm(self, guard: Guard, ctx: GuardContext) -> None:
        next_idx = 1 + max((g.record.confirmed_idx or 0 for g in self.confirmed()), default=-1)
        guard.record = replace(
            guard.record,
            confirmed_on=_randomize(ctx.now, lifetime_slop_seconds(self.params), ctx.rng),
            confirmed_idx=next_idx,
        )

    def _update_listed(self, guard: Guard, ctx: GuardContext) -> None:
        relay = ctx.netdir.by_rsa_id(guard.identity)
        listed = relay is not None and relay.is_possible_guard()
        if listed and not guard.record.listed:
            guard.record = replace(guard.record, listed=True, unlisted_since=None)
        elif not listed and (guard.record.listed or guard.record.unlisted_since is None):
            since = _randomize(ctx.now, unlisted_slop_seconds(self.params), ctx.rng)
            guard.record = replace(guard.record, listed=False, unlisted_since=since)

    def _prune(self, now: datetime) -> None:
        keep = [g for g in self.sampled if not _obsolete(g.record, self.params, now)]
        self.primary = [g for g in self.primary if g in keep]
        self.sampled = keep


def _passes_filter(relay: RelayInfo, rules: PathRestrictions) -> bool:
    return relay.is_usable() and rules.allowed_as_entry(relay)


def _violates(guard: Guard, ctx: GuardContext, avoid: Sequence[RelayInfo]) -> bool:
    relay = ctx.netdir.by_rsa_id(guard.identity)
    return relay is not None and ctx.rules.conflicts_with_any(relay, avoid)


def _mark_maybe(guard: Guard) -> None:
    if guard.reachable is Reachable.NO:
        guard.reachable = Reachable.MAYBE


def _randomize(now: datetime, max_backdate: int, rng: Rng) -> datetime:
    """tor's randomize_time: uniform in [now - max_backdate, now), whole seconds."""
    base = now.replace(microsecond=0)
    return base - timedelta(seconds=max_backdate) + timedelta(seconds=rng(max_backdate))


def _obsolete(record: GuardRecord, params: GuardParams, now: datetime) -> bool:
    """sampled_guards_prune_obsolete_entries' removal rule."""
    unlisted = record.unlisted_since
    if not record.listed and unlisted is not None and unlisted < now - params.remove_unlisted_after:
        return True
    if record.confirmed_on is None:
        sampled_on = record.sampled_on or now
        return sampled_on < now - params.lifetime
    return record.confirmed_on < now - params.confirmed_min_lifetime


def _load_order(record: GuardRecord, big: int) -> int:
    if record.sampled_idx is not None:
        return record.sampled_idx
    if record.confirmed_idx is not None:
        return record.confirmed_idx  # written by a tor without sampled_idx
    return big


def _fill_missing(record: GuardRecord, now: datetime) -> GuardRecord:
    """tor substitutes "now" for a missing or bad sampled_on."""
    if record.sampled_on is None:
        return replace(record, sampled_on=now.replace(microsecond=0))
    return record
