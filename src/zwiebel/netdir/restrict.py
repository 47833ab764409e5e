"""User restrictions on paths (path-spec 2.2, 2.2.2; tor.1 ExcludeNodes..StrictNodes).

`PathRestrictions` carries the torrc node sets as `RouterSetLike` objects (the config
package parses torrc RouterSets; anything with ``matches(relay) -> bool`` will do) plus
EnforceDistinctSubnets.  `conflicts` is the pairwise rule of path-spec 2.2: same relay,
mutual family, same /16 (IPv4) or /32 (IPv6).

StrictNodes only changes what happens when ExcludeNodes leaves nothing for a directory
fetch or a reachability test (tor.1: "StrictNodes does not apply to ExcludeExitNodes,
ExitNodes, MiddleNodes, or EntryNodes"); for the circuits built here ExcludeNodes is
always honoured, and the flag is only carried for the callers that make those fetches.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol

from zwiebel.netdir.relay import RelayInfo, in_same_family, in_same_network


class RouterSetLike(Protocol):
    """A torrc RouterSet (fingerprints, nicknames, addresses, country codes)."""

    def matches(self, relay: RelayInfo) -> bool:
        """Whether ``relay`` is in the set."""
        ...


@dataclass(frozen=True)
class NameSet:
    """A minimal RouterSet: "$HEX"/"HEX" fingerprints and nicknames (case-insensitive)."""

    names: frozenset[str] = frozenset()

    def matches(self, relay: RelayInfo) -> bool:
        """Whether the relay's fingerprint or nickname is listed."""
        fingerprint = relay.fingerprint
        for name in self.names:
            key = name[1:] if name.startswith("$") else name
            if key.upper()[:40] == fingerprint or key.lower() == relay.nickname.lower():
                return True
        return False


@dataclass(frozen=True)
class PathRestrictions:
    """The torrc options that shape paths; ``None`` means "option not set"."""

    exclude_nodes: RouterSetLike | None = None
    exclude_exit_nodes: RouterSetLike | None = None
    exit_nodes: RouterSetLike | None = None
    entry_nodes: RouterSetLike | None = None
    middle_nodes: RouterSetLike | None = None
    strict_nodes: bool = False
    enforce_distinct_subnets: bool = True
    extra_excluded: frozenset[bytes] = field(default_factory=frozenset)

    def excluded(self, relay: RelayInfo) -> bool:
        """ExcludeNodes, or an RSA identity the caller excluded for this circuit."""
        if relay.rsa_identity in self.extra_excluded:
            return True
        return self.exclude_nodes is not None and self.exclude_nodes.matches(relay)

    def allowed_as_exit(self, relay: RelayInfo) -> bool:
        """Not excluded, not in ExcludeExitNodes, and in ExitNodes when that is set."""
        if self.excluded(relay) or _in(self.exclude_exit_nodes, relay):
            return False
        return self.exit_nodes is None or self.exit_nodes.matches(relay)

    def allowed_as_entry(self, relay: RelayInfo) -> bool:
        """Not excluded, and in EntryNodes when that is set."""
        if self.excluded(relay):
            return False
        return self.entry_nodes is None or self.entry_nodes.matches(relay)

    def allowed_as_middle(self, relay: RelayInfo) -> bool:
        """Not excluded, and in MiddleNodes when that is set."""
        if self.excluded(relay):
            return False
        return self.middle_nodes is None or self.middle_nodes.matches(relay)

    def conflicts(self, a: RelayInfo, b: RelayInfo) -> bool:
        """Whether ``a`` and ``b`` may not share a circuit (path-spec 2.2)."""
        if a.rsa_identity == b.rsa_identity:
            return True
        if a.ed25519_identity is not None and a.ed25519_identity == b.ed25519_identity:
            return True
        if self.enforce_distinct_subnets and in_same_network(a, b):
            return True
        return in_same_family(a, b)

    def conflicts_with_any(self, relay: RelayInfo, chosen: Collection[RelayInfo]) -> bool:
        """Whether ``relay`` conflicts with any relay already in the path."""
        return any(self.conflicts(relay, other) for other in chosen)


def _in(routerset: RouterSetLike | None, relay: RelayInfo) -> bool:
    return routerset is not None and routerset.matches(relay)
