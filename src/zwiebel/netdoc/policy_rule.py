"""One exit policy rule and its verdicts (dir-spec 2.1.3; tor's `addr_policy_t` in
src/core/or/policies.c): the parts `zwiebel.netdoc.policy` and
`zwiebel.netdoc.policy_summary` share."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from ipaddress import IPv4Address, IPv6Address, ip_address

from zwiebel.encoding import ParseError

Address = IPv4Address | IPv6Address


class PolicyParseError(ParseError):
    """A malformed policy item or summary."""


class Verdict(Enum):
    """Result of checking an address and port against a policy (addr_policy_result_t)."""

    ACCEPTED = "accepted"
    PROBABLY_ACCEPTED = "probably-accepted"
    PROBABLY_REJECTED = "probably-rejected"
    REJECTED = "rejected"

    @property
    def allowed(self) -> bool:
        """True for ACCEPTED and PROBABLY_ACCEPTED."""
        return self in (Verdict.ACCEPTED, Verdict.PROBABLY_ACCEPTED)


#: The addresses of `*` rules.
V4_ANY = IPv4Address(0)
V6_ANY = IPv6Address(0)


@dataclass(frozen=True)
class PolicyRule:
    """One addr_policy_t: action, address with mask bits, port range."""

    accept: bool
    address: Address
    maskbits: int
    min_port: int = 1
    max_port: int = 65535

    @property
    def all_ports(self) -> bool:
        """True when the rule covers ports 1-65535."""
        return self.min_port <= 1 and self.max_port >= 65535

    def covers_address(self, address: Address) -> bool:
        """tor_addr_compare_masked(..., CMP_EXACT) == 0: same family, same prefix."""
        return masked_equal(self.address, address, self.maskbits)

    def to_line(self, for_descriptor: bool = True) -> str:
        """policy_write_item: the descriptor form ("accept6 [::]/8:*") or torrc form."""
        v6 = self.address.version == 6
        keyword = ("accept" if self.accept else "reject") + ("6" if v6 and for_descriptor else "")
        if self.maskbits == 0:
            where = "*" if for_descriptor else ("*6" if v6 else "*4")
        else:
            where = f"[{self.address.compressed}]" if v6 else str(self.address)
            if self.maskbits < (128 if v6 else 32):
                where += f"/{self.maskbits}"
        return f"{keyword} {where}:{port_text(self.min_port, self.max_port, star=True)}"


def port_text(low: int, high: int, *, star: bool = False) -> str:
    """A port range as policies write it: "80", "80-443", or "*" for all (`star`)."""
    if star and low <= 1 and high == 65535:
        return "*"
    return str(low) if low == high else f"{low}-{high}"


def masked_equal(a: Address, b: Address, bits: int) -> bool:
    """True when `a` and `b` are of one family and agree in their first `bits` bits."""
    if a.version != b.version:
        return False
    shift = a.max_prefixlen - bits
    return (int(a) >> shift) == (int(b) >> shift)


def is_internal(addr: Address) -> bool:
    """tor_addr_is_internal(addr, 0)."""
    if isinstance(addr, IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if isinstance(addr, IPv4Address):
        nets = ((0x0A, 8), (0, 8), (0x7F, 8), (0x191, 10), (0xA9FE, 16), (0xAC1, 12), (0xC0A8, 16))
        return any(int(addr) >> (32 - bits) == prefix for prefix, bits in nets)
    top = int(addr) >> 96
    return top >> 25 == 0x7E or top >> 22 in (0x3FA, 0x3FB) or int(addr) >> 1 == 0


PRIVATE_NETWORKS: tuple[tuple[Address, int], ...] = (
    (IPv4Address("0.0.0.0"), 8),
    (IPv4Address("169.254.0.0"), 16),
    (IPv4Address("127.0.0.0"), 8),
    (IPv4Address("192.168.0.0"), 16),
    (IPv4Address("10.0.0.0"), 8),
    (IPv4Address("172.16.0.0"), 12),
    (IPv6Address("::"), 8),
    (IPv6Address("fc00::"), 7),
    (IPv6Address("fe80::"), 10),
    (IPv6Address("fec0::"), 10),
    (IPv6Address("ff00::"), 8),
    (IPv6Address("::"), 127),
)
"""tor's `private_nets`, in order: what "private" expands to."""


def as_address(address: Address | str | None) -> Address | None:
    """An address, or None for unknown: None, a hostname, 0.0.0.0 or ::."""
    if isinstance(address, str):
        try:
            address = ip_address(address.strip("[]"))
        except ValueError:
            return None
    return None if address is None or int(address) == 0 else address
