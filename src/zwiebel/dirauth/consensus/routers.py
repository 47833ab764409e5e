"""Voting on one router's status entry (dir-spec 3.8, "r" ... "p" of a consensus).

For each collated router (collate.py) tor's networkstatus_compute_consensus
(src/feature/dirauth/dirvote.c) decides:

* flags: a flag is set if more than half of the votes that know the flag set it;
  NoEdConsensus if at most half of the authorities agree on the Ed25519 key; the
  obsolete Named/Unnamed from the votes' naming maps. A router that is not Running
  or not Valid is left out. MiddleOnly clears Exit, V2Dir, Guard and HSDir and, if
  any vote knows BadExit, adds BadExit (consensus method 32+);
* version ("v"): the most common, in version order, ties to the greater;
* protocols ("pr"): the most common text, ties to the greater;
* bandwidth ("w"): the low median of Measured values if more than two votes
  measured it, else of the advertised Bandwidth values, marked Unmeasured=1 and
  capped at "maxunmeasuredbw" when more than two authorities measure at all;
* exit policy summary ("p"): the one the votes for the chosen descriptor give.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zwiebel.dirauth.consensus.choose import Winner, choose_entry
from zwiebel.dirauth.consensus.collate import Collated
from zwiebel.dirauth.consensus.tally import low_median, most_frequent
from zwiebel.dirauth.consensus.versions import sort_versions
from zwiebel.netdoc.vote import Vote, VoteRouter

CONFLICT = bytes(20)
"""Naming map value: authorities disagree on the name (tor: all-zero "conflict")."""
UNKNOWN = b"\xff" * 20
"""Naming map value: only "Unnamed" was voted (tor: all-0xff "unknown")."""
_MIDDLE_ONLY_CLEARS = ("Exit", "V2Dir", "Guard", "HSDir")


@dataclass(frozen=True)
class RouterContext:
    """What every router's vote needs from the whole set of votes."""

    flags: tuple[str, ...]
    """The consensus known-flags, sorted."""
    flag_voters: dict[str, int]
    """For each flag, how many votes know it."""
    known: tuple[frozenset[str], ...]
    """Per vote (consensus order): its known-flags."""
    total_authorities: int
    method: int
    n_measuring: int
    """Votes with at least one Measured bandwidth."""
    max_unmeasured: int
    names: dict[str, bytes]
    """Lower-cased nickname -> identity, CONFLICT or UNKNOWN."""


@dataclass(frozen=True)
class RouterOutcome:
    """A router's consensus entry before formatting."""

    winner: Winner
    nickname: str
    flags: tuple[str, ...]
    version: str | None
    protocols: str | None
    bandwidth: int | None
    unmeasured: bool
    policy_summary: str | None
    is_exit: bool
    """Exit and not BadExit: counts as an exit for bandwidth-weights."""
    is_guard: bool


def naming_map(votes: Sequence[Vote]) -> dict[str, bytes]:
    """The Named/Unnamed name map (tor keeps this logic for old votes)."""
    names: dict[str, bytes] = {}
    for vote in votes:
        for rs in vote.body.routers:
            if "Named" in rs.flags:
                key, known = rs.nickname.lower(), names.get(rs.nickname.lower())
                if known is None:
                    names[key] = rs.identity
                elif known is not CONFLICT and known != rs.identity:
                    names[key] = CONFLICT
    for vote in votes:
        for rs in vote.body.routers:
            if "Unnamed" in rs.flags:
                key, known = rs.nickname.lower(), names.get(rs.nickname.lower())
                if known is None:
                    names[key] = UNKNOWN
                elif known is not CONFLICT and known is not UNKNOWN and known == rs.identity:
                    names[key] = CONFLICT
    return names


def _nickname(listing: Sequence[VoteRouter], winner: VoteRouter) -> str:
    chosen: str | None = None
    conflict = False
    for rs in listing:
        if "Named" in rs.flags:
            conflict = conflict or (chosen is not None and chosen != rs.nickname)
            chosen = rs.nickname
    return chosen if chosen is not None and not conflict else winner.nickname


def _flag_counts(c: Collated, ctx: RouterContext) -> dict[str, int]:
    counts: dict[str, int] = {}
    for rs, known in zip(c.entries, ctx.known, strict=True):
        if rs is not None:
            for flag in rs.flags & known:
                counts[flag] = counts.get(flag, 0) + 1
    return counts


def _flags(c: Collated, ctx: RouterContext, nickname: str) -> list[str]:
    """Chosen flags in known-flags order (before the Running/Valid/MiddleOnly rules)."""
    counts = _flag_counts(c, ctx)
    mapped = ctx.names.get(nickname.lower())
    named = mapped is not None and mapped == c.identity
    chosen = []
    for flag in ctx.flags:
        if flag == "Named":
            keep = named
        elif flag == "Unnamed":
            keep = mapped is not None and not named
        elif flag == "NoEdConsensus":
            keep = sum(c.ed_consensus) <= ctx.total_authorities // 2
        else:
            keep = counts.get(flag, 0) > ctx.flag_voters[flag] // 2
        if keep:
            chosen.append(flag)
    return chosen


def _middle_only(flags: list[str], ctx: RouterContext) -> list[str]:
    flags = [f for f in flags if f not in _MIDDLE_ONLY_CLEARS]
    if "BadExit" not in flags and "BadExit" in ctx.flags:
        flags = sorted([*flags, "BadExit"], key=str.encode)
    return flags


def _bandwidth(listing: Sequence[VoteRouter], ctx: RouterContext) -> tuple[int | None, bool]:
    measured = [rs.measured for rs in listing if rs.measured is not None]
    if len(measured) > 2:
        return low_median(measured), False
    advertised = [rs.bandwidth for rs in listing if rs.bandwidth is not None]
    if not advertised:
        return None, False
    value = low_median(advertised)
    if ctx.n_measuring > 2 and value > ctx.max_unmeasured:
        value = ctx.max_unmeasured
    return value, True


def _policy_summary(winner: Winner) -> str | None:
    digest = winner.status.descriptor_digest
    same = [rs.policy_summary for rs in winner.ordered if rs.descriptor_digest == digest]
    summaries = [s for s in same if s is not None]
    if summaries and all(s == summaries[0] for s in summaries):
        return summaries[0]
    if not summaries:
        summaries = [rs.policy_summary for rs in winner.ordered if rs.policy_summary is not None]
    return most_frequent(sorted(summaries, key=str.encode))


def _version(listing: Sequence[VoteRouter]) -> str | None:
    versions = [rs.version for rs in listing if rs.version]
    return most_frequent(sort_versions(versions))


def _protocols(listing: Sequence[VoteRouter]) -> str | None:
    texts = [rs.protocols for rs in listing if rs.protocols is not None]
    return most_frequent(sorted(texts, key=str.encode))


def vote_router(c: Collated, ctx: RouterContext) -> RouterOutcome | None:
    """The router's consensus entry, or None if it is not listed (not Running/Valid)."""
    listing = [rs for rs in c.entries if rs is not None]
    if len(listing) <= ctx.total_authorities // 2:
        return None
    winner = choose_entry(listing, ctx.method)
    nickname = _nickname(listing, winner.status)
    flags = _flags(c, ctx, nickname)
    if "Running" not in flags or "Valid" not in flags:
        return None
    if "MiddleOnly" in flags:
        flags = _middle_only(flags, ctx)
    bandwidth, unmeasured = _bandwidth(listing, ctx)
    return RouterOutcome(
        winner=winner,
        nickname=nickname,
        flags=tuple(flags),
        version=_version(listing),
        protocols=_protocols(listing),
        bandwidth=bandwidth,
        unmeasured=unmeasured,
        policy_summary=_policy_summary(winner),
        is_exit="Exit" in flags and "BadExit" not in flags,
        is_guard="Guard" in flags,
    )
