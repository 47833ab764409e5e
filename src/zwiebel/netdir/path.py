"""Choosing the relays of a three-hop circuit (path-spec 2.2, 2.2.1; tor circuitbuild.c).

Order as path-spec 2.2 says: exit first, then the entry, then the middle; every hop is
checked against the ones already chosen with `PathRestrictions.conflicts`.

Exit choice follows tor's ``choose_good_exit_server_general``: any usable relay that is
not BadExit, not excluded, in ExitNodes when set, whose policy does not reject
everything, and which accepts the target (``address:port`` when the address is known;
"might support" the port when it is not, path-spec 2.2.1).  tor does not require the
Exit flag: Exit-flagged relays are preferred only through the bandwidth weights
(Wee/Wed against Wem/Weg).  Fast is required ("need capacity"), Stable too for the
long-lived ports; if no relay at all passes with those flags they are dropped, as tor
does.

Differences from tor, on purpose:
- With no target port we choose among all relays that accept some port; tor would prefer
  relays handling its *predicted* ports, which the circuit manager does not track here.
- When no exit supports the target we raise `NoPathError` instead of picking a "doomed"
  exit at random.
- For an internal circuit the last hop is chosen like a middle hop (tor:
  WEIGHT_FOR_MID for internal circuits), without policy checks.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence

from zwiebel.netdir.netdir import NetDir
from zwiebel.netdir.relay import RelayInfo
from zwiebel.netdir.restrict import PathRestrictions
from zwiebel.netdir.weights import Position, Rng, choose_weighted

#: tor.1 LongLivedPorts default; streams to them need Stable circuits (path-spec 2.2).
LONG_LIVED_PORTS = frozenset({21, 22, 706, 1863, 5050, 5190, 5222, 5223, 6523, 6667, 6697, 8300})


class NoPathError(Exception):
    """No relay satisfies the constraints for some position."""


class Purpose(enum.Enum):
    """What the circuit is for, as far as choosing its last hop goes."""

    EXIT = "exit"
    INTERNAL = "internal"


def choose_path(
    netdir: NetDir,
    purpose: Purpose,
    target_port: int | None,
    guard: RelayInfo | None,
    rng: Rng,
    exclusions: PathRestrictions,
    *,
    target_address: str | None = None,
) -> tuple[RelayInfo, RelayInfo, RelayInfo]:
    """Choose (entry, middle, last hop) for a three-hop circuit.

    ``guard`` is the entry the guard manager picked, or None to pick a Guard-flagged
    relay for this circuit alone (UseEntryGuards 0).
    """
    need_stable = target_port in LONG_LIVED_PORTS
    chosen: list[RelayInfo] = [guard] if guard is not None else []
    if purpose is Purpose.EXIT:
        last = choose_exit(
            netdir, exclusions, rng, target_port, target_address, chosen, need_stable
        )
    else:
        last = choose_middle(netdir, exclusions, rng, chosen, need_stable)
    entry = guard if guard is not None else choose_entry(netdir, exclusions, rng, [last])
    middle = choose_middle(netdir, exclusions, rng, [entry, last], need_stable)
    return entry, middle, last


def choose_exit(
    netdir: NetDir,
    exclusions: PathRestrictions,
    rng: Rng,
    target_port: int | None = None,
    target_address: str | None = None,
    chosen: Sequence[RelayInfo] = (),
    need_stable: bool = False,
) -> RelayInfo:
    """An exit for ``target_address:target_port`` weighted for the exit position."""

    def eligible(relay: RelayInfo) -> bool:
        return (
            relay.is_usable()
            and "BadExit" not in relay.flags
            and not relay.policy_rejects_all
            and relay.exit_policy is not None
            and exclusions.allowed_as_exit(relay)
            and not exclusions.conflicts_with_any(relay, chosen)
        )

    candidates = _with_flag_fallback(netdir, eligible, need_stable)
    if target_port is not None:
        candidates = [r for r in candidates if r.exit_allows(target_address, target_port)]
    if not candidates:
        raise NoPathError(f"no exit supports port {target_port}")
    return _pick(netdir, candidates, Position.EXIT, rng)


def choose_middle(
    netdir: NetDir,
    exclusions: PathRestrictions,
    rng: Rng,
    chosen: Sequence[RelayInfo],
    need_stable: bool = False,
) -> RelayInfo:
    """A middle hop: usable, in MiddleNodes if set, no conflict with ``chosen``."""

    def eligible(relay: RelayInfo) -> bool:
        return (
            relay.is_usable()
            and exclusions.allowed_as_middle(relay)
            and not exclusions.conflicts_with_any(relay, chosen)
        )

    candidates = _with_flag_fallback(netdir, eligible, need_stable)
    if not candidates:
        raise NoPathError("no usable middle relay")
    return _pick(netdir, candidates, Position.MIDDLE, rng)


def choose_entry(
    netdir: NetDir,
    exclusions: PathRestrictions,
    rng: Rng,
    chosen: Sequence[RelayInfo],
) -> RelayInfo:
    """A per-circuit entry (UseEntryGuards 0): Guard-flagged, weighted for the guard
    position, in EntryNodes if set (tor's choose_good_entry_server with CRN_NEED_GUARD)."""

    def eligible(relay: RelayInfo) -> bool:
        return (
            relay.is_usable()
            and relay.has_flag("Guard")
            and exclusions.allowed_as_entry(relay)
            and not exclusions.conflicts_with_any(relay, chosen)
        )

    candidates = _with_flag_fallback(netdir, eligible, False)
    if not candidates:
        raise NoPathError("no usable entry relay")
    return _pick(netdir, candidates, Position.GUARD, rng)


def _with_flag_fallback(
    netdir: NetDir, eligible: Callable[[RelayInfo], bool], need_stable: bool
) -> list[RelayInfo]:
    """Eligible relays with Fast (and Stable if asked); without them if none has them."""
    base = [r for r in netdir.relays if eligible(r)]
    wanted = {"Fast", "Stable"} if need_stable else {"Fast"}
    strict = [r for r in base if wanted <= r.flags]
    return strict or base


def _pick(netdir: NetDir, candidates: Sequence[RelayInfo], pos: Position, rng: Rng) -> RelayInfo:
    return choose_weighted(candidates, [netdir.weight(r, pos) for r in candidates], rng)
