"""One relay as a client sees it: `RelayInfo` (path-spec 2.2, dir-spec 3.4.1, 3.3).

A `RelayInfo` merges what the consensus says about a relay (flags, weight, addresses,
protocols) with what its microdescriptor or server descriptor says (ntor key, family,
exit policy).  It is the only relay type path selection and the guard code read, so
they never depend on the document parsers.

Family and subnet rules follow tor's ``nodes_in_same_family`` (nodelist.c): two relays
are one family if *each* lists the other ("$HEX" or nickname, case-insensitive), and
with EnforceDistinctSubnets they conflict if their IPv4 addresses share a /16 or their
IPv6 addresses share a /32 (``router_addrs_in_same_network``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class VerdictLike(Protocol):
    """`zwiebel.netdoc.policy.Verdict`: ``allowed`` is true for (probably) accepted."""

    @property
    def allowed(self) -> bool:
        """Whether the verdict is ACCEPTED or PROBABLY_ACCEPTED."""
        ...


@runtime_checkable
class AddressPolicy(Protocol):
    """A full exit policy (server descriptor), e.g. `zwiebel.netdoc.policy.ExitPolicy`.

    ``allows(None, port)`` answers "might support" (path-spec 2.2.1): PROBABLY_ACCEPTED
    when some accepting rule for that port comes before every rule rejecting all
    addresses on it; tor's connection_ap_can_use_exit refuses REJECTED and
    PROBABLY_REJECTED, i.e. it needs ``.allowed``.
    """

    def allows(self, address: str | None, port: int) -> VerdictLike:
        """The verdict for a stream to ``address:port``."""
        ...


@runtime_checkable
class PortPolicy(Protocol):
    """A port-only policy summary (microdesc "p"/consensus "p" line), e.g. `PolicySummary`."""

    def allows_port(self, port: int) -> bool:
        """Whether the summary accepts ``port`` for most addresses."""
        ...


ExitPolicyLike = AddressPolicy | PortPolicy

#: Protocol version needed of every hop: "Relay=2" is ntor (tor-spec 5.1.4; 0.4.9 TAP removal).
MIN_RELAY_PROTOCOL = 2


@dataclass(frozen=True)
class RelayInfo:
    """Everything path selection needs to know about one relay.

    ``bandwidth`` is the consensus "w Bandwidth=" value (kilobytes/s).  ``family`` holds
    the declared entries as published ("$HEX", "$HEX=nick", "$HEX~nick" or a nickname).
    ``exit_policy`` is the full policy when a server descriptor is known, else the
    summary; ``None`` means "rejects everything" (no descriptor, no summary).
    ``policy_rejects_all`` is precomputed by whoever builds the relay (tor's
    ``policy_is_reject_star``), since asking a policy about every port is slow.
    """

    nickname: str
    rsa_identity: bytes
    ed25519_identity: bytes | None
    address: str
    or_port: int
    ipv6_addresses: tuple[tuple[str, int], ...] = ()
    flags: frozenset[str] = frozenset()
    bandwidth: int = 0
    ntor_onion_key: bytes | None = None
    family: frozenset[str] = frozenset()
    exit_policy: ExitPolicyLike | None = None
    policy_rejects_all: bool = True
    protocols: Mapping[str, frozenset[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.rsa_identity) != 20:
            raise ValueError("rsa_identity must be 20 bytes")
        if self.ed25519_identity is not None and len(self.ed25519_identity) != 32:
            raise ValueError("ed25519_identity must be 32 bytes")
        if self.ntor_onion_key is not None and len(self.ntor_onion_key) != 32:
            raise ValueError("ntor_onion_key must be 32 bytes")

    @property
    def fingerprint(self) -> str:
        """Upper-case hex RSA identity, as in "$FINGERPRINT" and the state file."""
        return self.rsa_identity.hex().upper()

    def has_flag(self, flag: str) -> bool:
        """Whether the consensus gave this relay ``flag`` (e.g. "Guard")."""
        return flag in self.flags

    def supports(self, protocol: str, version: int) -> bool:
        """Whether the relay advertises ``protocol=version`` on its "pr" line."""
        return version in self.protocols.get(protocol, frozenset())

    def is_usable(self) -> bool:
        """Running, Valid, with an ntor key and Relay>=2 (tor's router_can_choose_node)."""
        return (
            "Running" in self.flags
            and "Valid" in self.flags
            and self.ntor_onion_key is not None
            and any(v >= MIN_RELAY_PROTOCOL for v in self.protocols.get("Relay", ()))
        )

    def is_exit_flagged(self) -> bool:
        """Exit flag without BadExit: the "E" class of dir-spec 3.8.3 as tor counts it."""
        return "Exit" in self.flags and "BadExit" not in self.flags

    def is_possible_guard(self) -> bool:
        """tor's node_is_possible_guard: Guard, Stable, Fast, Valid and V2Dir."""
        return {"Guard", "Stable", "Fast", "Valid", "V2Dir"} <= self.flags

    def exit_allows(self, address: str | None, port: int) -> bool:
        """Whether this relay accepts (or, address unknown, might accept) ``address:port``."""
        policy = self.exit_policy
        if policy is None or self.policy_rejects_all:
            return False
        if isinstance(policy, AddressPolicy):
            return policy.allows(address, port).allowed
        return policy.allows_port(port)

    def lists_in_family(self, other: RelayInfo) -> bool:
        """Whether this relay's declared family names ``other`` (one direction only)."""
        return any(_family_entry_names(entry, other) for entry in self.family)


def _family_entry_names(entry: str, relay: RelayInfo) -> bool:
    """tor's node_nickname_matches / hex_digest_nickname_matches for one family entry."""
    if not entry.startswith("$"):
        return entry.lower() == relay.nickname.lower()
    hexpart, sep, nick = entry[1:41], entry[41:42], entry[42:]
    if hexpart.upper() != relay.fingerprint:
        return False
    if sep == "":
        return True
    return sep in "=~" and nick.lower() == relay.nickname.lower()


def in_same_family(a: RelayInfo, b: RelayInfo) -> bool:
    """Mutual declared family: ``a`` lists ``b`` and ``b`` lists ``a`` (path-spec 2.2)."""
    return a.lists_in_family(b) and b.lists_in_family(a)


def in_same_network(a: RelayInfo, b: RelayInfo) -> bool:
    """Same IPv4 /16 or same IPv6 /32 (tor's router_addrs_in_same_network)."""
    if _prefix(a.address, 16) is not None and _prefix(a.address, 16) == _prefix(b.address, 16):
        return True
    v6a = {_prefix(addr, 32) for addr, _ in a.ipv6_addresses} - {None}
    v6b = {_prefix(addr, 32) for addr, _ in b.ipv6_addresses} - {None}
    return bool(v6a & v6b)


def _prefix(address: str, bits: int) -> tuple[int, int] | None:
    """(version, network number) of ``address`` truncated to ``bits``; None if unparsable
    or unspecified (tor ignores null addresses here)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if ip.is_unspecified:
        return None
    if (ip.version == 4) != (bits == 16):
        return None
    return ip.version, int(ip) >> (ip.max_prefixlen - bits)
