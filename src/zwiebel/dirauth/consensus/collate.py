"""Which votes' entries describe the same router (dir-spec 3.8; tor: dircollate.c).

Entries are grouped first by the pair (RSA identity, Ed25519 identity): a pair
listed by more than half of the authorities becomes one router, and votes that
list the same RSA identity without any Ed25519 key join it. Those entries "reflect
the consensus" on the Ed25519 key; a router listed in the consensus with no such
entries gets the NoEdConsensus flag. RSA identities not covered that way become a
router if more than half of the authorities list them at all.

Routers come out sorted by RSA identity; each is a list with one slot per vote
(None where that vote did not list it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zwiebel.netdoc.vote import VoteRouter


@dataclass(frozen=True)
class Collated:
    """One router's entries, one slot per vote, and which of them agree on Ed25519."""

    identity: bytes
    entries: tuple[VoteRouter | None, ...]
    ed_consensus: tuple[bool, ...]
    """Per slot: the entry listed the Ed25519 key a majority of authorities agree on."""


def _by_rsa(routers: Sequence[Sequence[VoteRouter]]) -> dict[bytes, list[VoteRouter | None]]:
    table: dict[bytes, list[VoteRouter | None]] = {}
    for index, vote_routers in enumerate(routers):
        for rs in vote_routers:
            table.setdefault(rs.identity, [None] * len(routers))[index] = rs
    return table


def _by_both(
    routers: Sequence[Sequence[VoteRouter]],
) -> dict[tuple[bytes, bytes], list[VoteRouter | None]]:
    table: dict[tuple[bytes, bytes], list[VoteRouter | None]] = {}
    for index, vote_routers in enumerate(routers):
        for rs in vote_routers:
            if rs.ed25519_id is not None:
                key = (rs.identity, rs.ed25519_id)
                table.setdefault(key, [None] * len(routers))[index] = rs
    return table


def collate(routers: Sequence[Sequence[VoteRouter]], total_authorities: int) -> list[Collated]:
    """Group the votes' entries (votes in consensus order) into routers."""
    rsa = _by_rsa(routers)
    found: dict[bytes, Collated] = {}
    for (identity, _), slots in _by_both(routers).items():
        if sum(s is not None for s in slots) <= total_authorities // 2:
            continue
        agree = tuple(s is not None for s in slots)
        merged = tuple(
            s if s is not None else (o if o is not None and o.ed25519_id is None else None)
            for s, o in zip(slots, rsa[identity], strict=True)
        )
        found[identity] = Collated(identity, merged, agree)
    for identity, slots in rsa.items():
        if identity in found or sum(s is not None for s in slots) <= total_authorities // 2:
            continue
        found[identity] = Collated(identity, tuple(slots), (False,) * len(slots))
    return [found[identity] for identity in sorted(found)]
