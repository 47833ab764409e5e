"""Exit policies: parsing, matching, building, summarising (dir-spec 2.1.3, 3.4.1; tor.1).

Implements the "accept"/"reject"/"accept6"/"reject6" items of router descriptors
(dir-spec section 2.1.3), the ExitPolicy torrc syntax (tor manual: `*`, `*4`, `*6`,
`private`, masks as bits or dotted quads, port ranges), the consensus/microdescriptor
port summaries "p"/"p6" (dir-spec 3.4.1, 3.3), and the effective policy a relay
publishes. Behaviour follows tor 0.4.9.11: src/core/or/policies.c,
src/feature/dirparse/policy_parse.c, `tor_addr_parse_mask_ports` and
`parse_port_range` in src/lib/net/address.c.

Design notes: a rule keeps the address as written ("1.2.3.4/8" stays so when encoded);
`*` in a torrc and `private` are expanded at parse time, as tor does. Summaries are
computed with tor's counting rule: an accept counts only if it covers every address,
a reject of one of tor's private networks is ignored, and a port is summarised as
rejected once more than 2^25 IPv4 addresses (two /8s) or 2^48 IPv6 /64s are rejected.
Not here: reading interface addresses (the caller passes them in).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from zwiebel.netdoc.policy_rule import (
    PRIVATE_NETWORKS,
    V4_ANY,
    V6_ANY,
    Address,
    PolicyParseError,
    PolicyRule,
    Verdict,
    as_address,
    is_internal,
    masked_equal,
    port_text,
)
from zwiebel.netdoc.policy_summary import (
    MAX_EXITPOLICY_SUMMARY_LEN,
    PolicySummary,
    summarize_rules,
)

DEFAULT_EXIT_POLICY = (
    "reject *:25,reject *:119,reject *:135-139,reject *:445,"
    "reject *:563,reject *:1214,reject *:4661-4666,"
    "reject *:6346-6429,reject *:6699,reject *:6881-6999,accept *:*"
)
"""policies.c DEFAULT_EXIT_POLICY."""

_REDUCED_PORTS = (
    "20-23,43,53,79-81,88,110,143,194,220,389,443,464,465,531,543-544,554,563,587,636,"
    "706,749,873,902-904,981,989-995,1194,1220,1293,1500,1533,1677,1723,1755,1863,"
    "2082-2083,2086-2087,2095-2096,2102-2104,3128,3389,3690,4321,4643,5050,5190,"
    "5222-5223,5228,5900,6660-6669,6679,6697,8000,8008,8074,8080,8082,8087-8088,"
    "8232-8233,8332-8333,8443,8888,9418,9999,10000,11371,18080-18081,18089,19294,"
    "19638,50002,64738"
)
REDUCED_EXIT_POLICY = ",".join(f"accept *:{p}" for p in _REDUCED_PORTS.split(",")) + ",reject *:*"
"""policies.c REDUCED_EXIT_POLICY (ReducedExitPolicy 1)."""

_KEYWORDS = {"accept": (True, False), "accept6": (True, True)}
_KEYWORDS |= {"reject": (False, False), "reject6": (False, True)}
_LONG_RE = re.compile(r"\s*[+-]?\d+", re.ASCII)
_MAX_ADDRESS_LENGTH = 48 + 2 + 17 + 12 + 1


def _parse_long(text: str, low: int, high: int, *, whole: bool) -> tuple[int, str]:
    """tor_parse_long: leading decimal, in [low, high]; returns (value, rest)."""
    m = _LONG_RE.match(text)
    if m is None or not low <= int(m.group()) <= high or (whole and m.end() != len(text)):
        raise PolicyParseError(f"Malformed port {text!r} on address range; rejecting.")
    return int(m.group()), text[m.end() :]


def parse_port_range(text: str | None) -> tuple[int, int]:
    """parse_port_range: absent, empty or "*" means 1-65535; "N" or "N-M" otherwise."""
    if text is None or text in ("", "*"):
        return 1, 65535
    low, rest = _parse_long(text, 1, 65535, whole=False)
    high = low
    if rest:
        if rest[0] != "-":
            raise PolicyParseError(f"Malformed port {text!r} on address range; rejecting.")
        high, _ = _parse_long(rest[1:], 1, 65535, whole=False)
    if low > high:
        raise PolicyParseError("Insane port range on address policy; rejecting.")
    return low, high


def _split_pattern(text: str) -> tuple[str, str | None, str | None]:
    """Break "addr/mask:ports" into its parts the way tor_addr_parse_mask_ports does."""
    if len(text) > _MAX_ADDRESS_LENGTH:
        raise PolicyParseError(f"Impossibly long IP {text!r}; rejecting")
    rbracket = -1
    if text.startswith("["):
        rbracket = text.find("]")
        if rbracket < 0:
            raise PolicyParseError("No closing IPv6 bracket in address pattern; rejecting.")
    slash = text.find("/", max(rbracket, 0))
    colon = text.find(":", slash if slash >= 0 else max(rbracket, 0))
    end = min(i for i in (slash, colon, len(text)) if i >= 0)
    address = text[1:rbracket] if rbracket >= 0 else text[:end]
    mask = text[slash + 1 : colon if colon >= 0 else len(text)] if slash >= 0 else None
    ports = text[colon + 1 :] if colon >= 0 else None
    return address, mask, ports


_IPV4_RE = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})", re.ASCII)


def parse_ipv4(text: str) -> IPv4Address | None:
    """tor_inet_aton: four decimal octets without leading zeros, nothing after."""
    m = _IPV4_RE.fullmatch(text)
    if m is None or any(len(o) > 1 and o[0] == "0" for o in m.groups()):
        return None
    if any(int(o) > 255 for o in m.groups()):
        return None
    return IPv4Address(".".join(m.groups()))


def parse_ipv6(text: str) -> IPv6Address | None:
    """tor_inet_pton(AF_INET6), approximated with `ipaddress` (no zone ids)."""
    if not text or not all(c in "0123456789abcdefABCDEF:." for c in text):
        return None
    try:
        return IPv6Address(text)
    except ValueError:
        return None


def _parse_address(text: str, extended_star: bool, v6_star: bool) -> tuple[list[Address], bool]:
    """The address part: a list (two for a torrc "*") and whether it was a wildcard."""
    if text == "*":
        if not extended_star:
            return [V4_ANY], True
        return ([V6_ANY] if v6_star else [V4_ANY, V6_ANY]), True
    if extended_star and text in ("*4", "*6"):
        return [V4_ANY if text == "*4" else V6_ANY], True
    addr = parse_ipv6(text) if ":" in text else parse_ipv4(text)
    if addr is None:
        raise PolicyParseError(f"Malformed IP {text!r} in address pattern; rejecting.")
    return [addr], False


def _parse_mask(mask: str | None, addr: Address, wildcard: bool) -> int:
    if mask is None:
        return 0 if wildcard else addr.max_prefixlen
    if mask == "" or re.fullmatch(r"\s*[+-]?\d+", mask, re.ASCII):
        bits = int(mask) if mask else 0
        if not 0 <= bits <= 128 or (addr.version == 4 and bits > 32):
            raise PolicyParseError(f"Bad number of mask bits ({bits}) on address range.")
    else:
        dotted = parse_ipv4(mask)
        value = int(dotted) if dotted is not None else -1
        inverted = ~value & 0xFFFFFFFF
        if dotted is None or inverted & (inverted + 1):
            raise PolicyParseError(f"Malformed mask on address range {mask!r}; rejecting.")
        bits = 32 - inverted.bit_length()
    if isinstance(addr, IPv6Address) and addr.ipv4_mapped is not None:
        if 32 < bits < 96:
            raise PolicyParseError(f"Bad mask bits {bits} for V4-mapped V6 address; rejecting.")
        bits = 96 + bits % 32
    if wildcard:
        raise PolicyParseError("Found bit prefix with wildcard address; rejecting")
    return bits


def _expand_private(accept: bool, low: int, high: int) -> list[PolicyRule]:
    return [PolicyRule(accept, a, bits, low, high) for a, bits in PRIVATE_NETWORKS]


def parse_policy_item(text: str, *, descriptor: bool = False) -> list[PolicyRule]:
    """Parse one "accept|reject[6] PATTERN" item into rules, expanding `private` and `*`.

    `descriptor=True` applies router-descriptor rules (router_add_exit_policy): "*" is
    IPv4 only, "*4"/"*6" are not allowed, and the keyword must match the family.
    A torrc "accept6"/"reject6" with an IPv4 address is skipped (returns []), as tor does.
    """
    words = text.split()
    if len(words) != 2 or words[0] not in _KEYWORDS:
        raise PolicyParseError(f"Expected 'accept' or 'reject' item, got {text!r}")
    accept, six = _KEYWORDS[words[0]]
    arg = words[1]
    if arg.startswith("private"):
        rest = arg[len("private") :].lstrip()
        if not rest.startswith(":"):
            raise PolicyParseError(f"Malformed private policy item {text!r}")
        return _expand_private(accept, *parse_port_range(rest[1:]))
    address_text, mask, ports = _split_pattern(arg)
    addrs, wildcard = _parse_address(address_text, not descriptor, six)
    bits = _parse_mask(mask, addrs[0], wildcard)
    low, high = parse_port_range(ports)
    family_ok = all((a.version == 6) == six for a in addrs)
    if six and not family_ok:
        if descriptor:
            raise PolicyParseError(f"IPv4 address with {words[0]} in exit policy: {text!r}")
        return []
    if descriptor and not family_ok:
        raise PolicyParseError(f"IPv6 address with {words[0]} in descriptor: {text!r}")
    return [PolicyRule(accept, a, bits, low, high) for a in addrs]


def parse_config_policy(values: Iterable[str]) -> list[PolicyRule]:
    """Parse ExitPolicy option values (comma-separated items, blanks ignored)."""
    rules: list[PolicyRule] = []
    for value in values:
        for item in value.split(","):
            if item.strip():
                rules += parse_policy_item(item.strip())
    return rules


def _walk_probable(
    rules: Iterable[PolicyRule], applies: Callable[[PolicyRule], bool | None]
) -> Verdict:
    """Shared walk of compare_unknown_tor_addr_to_addr_policy and ..._noport.

    `applies(rule)` is None when the rule cannot match, True when it certainly
    matches and False when it might.
    """
    maybe_accept = maybe_reject = False
    for rule in rules:
        certain = applies(rule)
        if certain is None:
            continue
        if certain:
            if rule.accept:
                return Verdict.PROBABLY_ACCEPTED if maybe_reject else Verdict.ACCEPTED
            return Verdict.PROBABLY_REJECTED if maybe_accept else Verdict.REJECTED
        maybe_accept |= rule.accept
        maybe_reject |= not rule.accept
    return Verdict.PROBABLY_ACCEPTED if maybe_reject else Verdict.ACCEPTED


def _port_certainty(rule: PolicyRule, port: int) -> bool | None:
    """For an unknown address: None if the port is outside, True if every address."""
    return None if not rule.min_port <= port <= rule.max_port else rule.maskbits == 0


@dataclass(frozen=True)
class ExitPolicy:
    """An ordered exit policy; the first matching rule wins, no match means accept."""

    rules: tuple[PolicyRule, ...]

    @classmethod
    def from_config(cls, values: Iterable[str]) -> ExitPolicy:
        """Parse torrc ExitPolicy values as written (no defaults added)."""
        return cls(tuple(parse_config_policy(values)))

    @classmethod
    def from_descriptor_lines(cls, lines: Iterable[str]) -> ExitPolicy:
        """Parse a descriptor's accept/reject lines (dir-spec 2.1.3), expanding private."""
        return cls(tuple(r for line in lines for r in parse_policy_item(line, descriptor=True)))

    def allows(self, address: Address | str | None, port: int | None) -> Verdict:
        """compare_tor_addr_to_addr_policy; None (or 0.0.0.0/::, port 0) means unknown.

        With an unknown address a client learns whether the exit *might* take the
        port (tor's "probably accepted"); with an unknown port, whether it might
        take the address.
        """
        addr = as_address(address)
        known_port = port or 0
        if addr is None and not known_port:
            return Verdict.REJECTED
        if addr is None:
            return _walk_probable(self.rules, lambda r: _port_certainty(r, known_port))
        if not known_port:
            return _walk_probable(
                self.rules, lambda r: r.all_ports if r.covers_address(addr) else None
            )
        for rule in self.rules:
            if rule.covers_address(addr) and rule.min_port <= known_port <= rule.max_port:
                return Verdict.ACCEPTED if rule.accept else Verdict.REJECTED
        return Verdict.ACCEPTED

    def is_reject_star(self, family: int, default_reject: bool = True) -> bool:
        """policy_is_reject_star: true when nothing of `family` (4 or 6) can be accepted."""
        for rule in self.rules:
            if rule.address.version != family:
                continue
            if rule.accept:
                return False
            if rule.all_ports and rule.maskbits == 0:
                return True
        return default_reject

    def is_general_exit(self, dir_allow_private: bool = False) -> bool:
        """exit_policy_is_general_exit: some public /8 is open on both 80 and 443."""
        return all(_general_exit_port(self.rules, p, dir_allow_private) for p in (80, 443))

    def to_descriptor_lines(self) -> list[str]:
        """router_dump_exit_policy_to_string(ipv4 only): what goes in a descriptor."""
        if not self.rules or (self.is_reject_star(4) and self.is_reject_star(6)):
            return ["reject *:*"]
        return [r.to_line() for r in self.rules if r.address.version == 4]

    def summarize(self, family: int = 4) -> PolicySummary:
        """policy_summarize: the "p" (family 4) or "p6"/ipv6-policy (6) summary."""
        return summarize_rules(self.rules, family)


def _general_exit_port(rules: Sequence[PolicyRule], port: int, allow_private: bool) -> bool:
    rejected = [False] * 256
    for rule in rules:
        if rule.address.version != 4 or not rule.min_port <= port <= rule.max_port:
            continue
        first = (int(rule.address) >> 24) & (0xFF << max(0, 8 - rule.maskbits)) & 0xFF
        last = first | (0xFF >> min(8, rule.maskbits)) if rule.maskbits < 8 else first
        for net in range(first, last + 1):
            if rejected[net] or (not allow_private and is_internal(IPv4Address(net << 24))):
                continue
            if rule.accept and rule.maskbits <= 8:
                return True
            if not rule.accept:
                rejected[net] = True
    return False


__all__ = [
    "DEFAULT_EXIT_POLICY",
    "MAX_EXITPOLICY_SUMMARY_LEN",
    "PRIVATE_NETWORKS",
    "REDUCED_EXIT_POLICY",
    "Address",
    "ExitPolicy",
    "PolicyParseError",
    "PolicyRule",
    "PolicySummary",
    "Verdict",
    "is_internal",
    "masked_equal",
    "parse_config_policy",
    "parse_policy_item",
    "parse_port_range",
    "port_text",
    "summarize_rules",
]
