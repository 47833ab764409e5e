"""Picking one router's descriptor, address, microdescriptor (dir-spec 3.8).

tor's compute_routerstatus_consensus (src/feature/dirauth/dirvote.c): the entries
for one identity are sorted (compare_vote_rs: descriptor digest ascending, then
published newest first, nickname, IPv4 address, ports) and the largest group of
identical entries wins; a tie goes to the group published later, and otherwise to
the group sorted first. Among the winning group's entries, the IPv6 ORport and the
microdescriptor digest for the consensus method are each the most common value
(a tie goes to the one sorted last).
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from zwiebel.dirauth.consensus.tally import most_frequent
from zwiebel.netdoc.vote import VoteRouter

_Ordered = TypeVar("_Ordered", int, bytes)


def _cmp(a: _Ordered, b: _Ordered) -> int:
    return (a > b) - (a < b)


def _ipv4(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def compare_entries(a: VoteRouter, b: VoteRouter) -> int:
    """compare_vote_rs: 0 when both describe the same descriptor the same way."""
    return (
        _cmp(a.identity, b.identity)
        or _cmp(a.descriptor_digest, b.descriptor_digest)
        or _cmp(int(b.published.timestamp()), int(a.published.timestamp()))
        or _cmp(b.nickname.encode(), a.nickname.encode())
        or _cmp(_ipv4(a.address), _ipv4(b.address))
        or _cmp(b.or_port, a.or_port)
        or _cmp(b.dir_port, a.dir_port)
    )


@dataclass(frozen=True)
class Winner:
    """The chosen entry and what its group agrees on."""

    status: VoteRouter
    ordered: tuple[VoteRouter, ...]
    """All entries for the router in compare_entries order (tor sorts them in place)."""
    ipv6_orport: tuple[bytes, int] | None
    """(16-byte address, port)."""
    microdesc: bytes | None


def _published(rs: VoteRouter) -> int:
    return int(rs.published.timestamp())


def _most_common_entry(ordered: Sequence[VoteRouter]) -> VoteRouter:
    """The largest group; ties to the later-published group, then the first sorted."""
    most: VoteRouter | None = None
    most_n, most_published = 0, 0
    index = 0
    while index < len(ordered):
        end = index + 1
        while end < len(ordered) and compare_entries(ordered[index], ordered[end]) == 0:
            end += 1
        cur, cur_n = ordered[index], end - index
        if cur_n > most_n or (cur_n == most_n and _published(cur) > most_published):
            most, most_n, most_published = cur, cur_n, _published(cur)
        index = end
    assert most is not None
    return most


def ipv6_orport(rs: VoteRouter) -> tuple[bytes, int] | None:
    """The first IPv6 "a" address with a port (tor: find_single_ipv6_orport)."""
    for address, port in rs.or_addresses:
        if ":" in address:
            return (ipaddress.IPv6Address(address).packed, port) if port else None
    return None


def _best_orport(group: Sequence[VoteRouter]) -> tuple[bytes, int] | None:
    found = [ap for ap in (ipv6_orport(rs) for rs in group) if ap is not None]
    found.sort(key=lambda ap: (ap[0], -ap[1]))
    return most_frequent(found)


def microdesc_digest(rs: VoteRouter, method: int) -> bytes | None:
    """The digest of the last "m" line listing `method` (tor keeps them in reverse)."""
    for methods, digest in reversed(rs.microdescs):
        if method in methods:
            return digest
    return None


def _best_microdesc(group: Sequence[VoteRouter], method: int) -> bytes | None:
    found = sorted(d for d in (microdesc_digest(rs, method) for rs in group) if d is not None)
    return most_frequent(found)


def choose_entry(entries: Sequence[VoteRouter], method: int) -> Winner:
    """compute_routerstatus_consensus over the entries listing one router."""
    ordered = sorted(entries, key=functools.cmp_to_key(compare_entries))
    most = _most_common_entry(ordered)
    group = [rs for rs in ordered if compare_entries(most, rs) == 0]
    return Winner(most, tuple(ordered), _best_orport(group), _best_microdesc(group, method))
