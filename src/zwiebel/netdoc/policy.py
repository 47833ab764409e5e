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
from enum import Enum
from ipaddress import IPv4Address, IPv6Address, ip_address
from itertools import groupby

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


_V4_ANY = IPv4Address(0)
_V6_ANY = IPv6Address(0)


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
        return f"{keyword} {where}:{_port_text(self.min_port, self.max_port, star=True)}"


def _port_text(low: int, high: int, *, star: bool = False) -> str:
    if star and low <= 1 and high == 65535:
        return "*"
    return str(low) if low == high else f"{low}-{high}"


def masked_equal(a: Address, b: Address, bits: int) -> bool:
    if a.version != b.version:
        return False
    shift = a.max_prefixlen - bits
    return (int(a) >> shift) == (int(b) >> shift)


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
            return [_V4_ANY], True
        return ([_V6_ANY] if v6_star else [_V4_ANY, _V6_ANY]), True
    if extended_star and text in ("*4", "*6"):
        return [_V4_ANY if text == "*4" else _V6_ANY], True
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


def _as_address(address: Address | str | None) -> Address | None:
    """An address, or None for unknown: None, a hostname, 0.0.0.0 or ::."""
    if isinstance(address, str):
        try:
            address = ip_address(address.strip("[]"))
        except ValueError:
            return None
    return None if address is None or int(address) == 0 else address


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
        addr = _as_address(address)
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


def is_internal(addr: Address) -> bool:
    """tor_addr_is_internal(addr, 0)."""
    if isinstance(addr, IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if isinstance(addr, IPv4Address):
        nets = ((0x0A, 8), (0, 8), (0x7F, 8), (0x191, 10), (0xA9FE, 16), (0xAC1, 12), (0xC0A8, 16))
        return any(int(addr) >> (32 - bits) == prefix for prefix, bits in nets)
    top = int(addr) >> 96
    return top >> 25 == 0x7E or top >> 22 in (0x3FA, 0x3FB) or int(addr) >> 1 == 0


# -- summaries (dir-spec 3.4.1 "p", 3.3 microdescriptor "p"/"p6") ------------------

_REJECT_CUTOFF = {4: 1 << 25, 6: 1 << 48}
_COUNT_SCALE = {4: 0, 6: 64}
_U64_MAX = (1 << 64) - 1
MAX_EXITPOLICY_SUMMARY_LEN = 1000


def _summary_weight(rule: PolicyRule) -> int:
    """How many addresses (IPv6: /64s) a reject removes; 0 when tor ignores it."""
    if (rule.address, rule.maskbits) in PRIVATE_NETWORKS:
        return 0
    free_bits = rule.address.max_prefixlen - _COUNT_SCALE[rule.address.version] - rule.maskbits
    if free_bits < 0:
        return 0
    return _U64_MAX if free_bits >= 64 else 1 << free_bits


def _port_states(rules: Iterable[PolicyRule], family: int) -> list[tuple[int, int, bool]]:
    """policy_summary_*: split 1-65535 at rule edges, then count per piece."""
    edges = {1, 65536}
    mine = [r for r in rules if r.address.version == family]
    for r in mine:
        edges |= {r.min_port, r.max_port + 1}
    points = sorted(edges)
    pieces = [[low, high - 1, 0, False] for low, high in zip(points, points[1:], strict=False)]
    for r in mine:
        for piece in pieces:
            if not (r.min_port <= piece[0] and piece[1] <= r.max_port):
                continue
            if r.accept and r.maskbits == 0 and piece[2] <= _REJECT_CUTOFF[family]:
                piece[3] = True
            elif not r.accept:
                piece[2] = min(_U64_MAX, piece[2] + _summary_weight(r))
    return [(int(p[0]), int(p[1]), bool(p[3])) for p in pieces]


def summarize_rules(rules: Iterable[PolicyRule], family: int = 4) -> PolicySummary:
    """policy_summarize: the shorter of the accept and reject port lists."""
    accepts: list[tuple[int, int]] = []
    rejects: list[tuple[int, int]] = []
    for accepted, group in groupby(_port_states(rules, family), key=lambda p: p[2]):
        pieces = list(group)
        (accepts if accepted else rejects).append((pieces[0][0], pieces[-1][1]))
    if not accepts:
        return PolicySummary(False, ((1, 65535),))
    if not rejects:
        return PolicySummary(True, ((1, 65535),))
    acc, rej = _ranges_text(accepts), _ranges_text(rejects)
    room = MAX_EXITPOLICY_SUMMARY_LEN - len("accept") - 1
    if len(rej) > room and len(acc) > room:
        return PolicySummary.parse("accept " + acc[: acc.rfind(",", 0, room + 1)])
    if len(rej) < len(acc):
        return PolicySummary(False, tuple(rejects))
    return PolicySummary(True, tuple(accepts))


def _ranges_text(ranges: Iterable[tuple[int, int]]) -> str:
    return ",".join(_port_text(low, high) for low, high in ranges)


_SUMMARY_PORT_RE = re.compile(r"[ \t\n\v\f\r]*\+?(\d+)", re.ASCII)


@dataclass(frozen=True)
class PolicySummary:
    """A short_policy_t: "accept|reject" and port ranges (consensus "p", md "p"/"p6")."""

    accept: bool
    ranges: tuple[tuple[int, int], ...]

    @classmethod
    def parse(cls, text: str) -> PolicySummary:
        """parse_short_policy, including its skipping of unrecognised entries."""
        if text.startswith("accept "):
            accept = True
        elif text.startswith("reject "):
            accept = False
        else:
            raise PolicyParseError("Unrecognized policy summary keyword")
        ranges = _parse_summary_ranges(text[len("accept ") :])
        if not ranges:
            raise PolicyParseError(f"Found no port-range entries in summary {text!r}")
        return cls(accept, tuple(ranges))

    def encode(self) -> str:
        """write_short_policy."""
        return ("accept " if self.accept else "reject ") + _ranges_text(self.ranges)

    __str__ = encode

    def allows_port(self, port: int) -> bool:
        """Whether an exit with this summary would probably accept `port`."""
        listed = any(low <= port <= high for low, high in self.ranges)
        return listed == self.accept

    def verdict(
        self, port: int, address: Address | str | None = None, reject_internal: bool = True
    ) -> Verdict:
        """compare_tor_addr_to_short_policy: never better than PROBABLY_ACCEPTED.

        `reject_internal` is ClientRejectInternalAddresses.
        """
        addr = _as_address(address)
        if addr is not None and reject_internal and (is_internal(addr) or addr.is_loopback):
            return Verdict.REJECTED
        return Verdict.PROBABLY_ACCEPTED if self.allows_port(port) else Verdict.REJECTED

    @property
    def is_reject_star(self) -> bool:
        """short_policy_is_reject_star: exactly "reject 1-65535"."""
        return not self.accept and self.ranges == ((1, 65535),)


def _parse_summary_ranges(body: str) -> list[tuple[int, int]]:
    ranges: list[tuple[int, int]] = []
    pos = 0
    while pos < len(body):
        if len(ranges) == MAX_EXITPOLICY_SUMMARY_LEN:
            raise PolicyParseError("Impossibly long policy summary")
        m = _SUMMARY_PORT_RE.match(body, pos)
        if m is None or not 1 <= int(m.group(1)) <= 65535:
            if body[pos] not in "0123456789":
                comma = body.find(",", pos)
                if comma < 0:
                    break
                pos = comma + 1
                continue
            raise PolicyParseError(f"Found bad entry in policy summary {body!r}")
        low, high, pos = int(m.group(1)), int(m.group(1)), m.end()
        if body[pos : pos + 1] == "-":
            m = _SUMMARY_PORT_RE.match(body, pos + 1)
            if m is None or not low <= int(m.group(1)) <= 65535:
                raise PolicyParseError(f"Found bad entry in policy summary {body!r}")
            high, pos = int(m.group(1)), m.end()
        if body[pos : pos + 1] not in (",", ""):
            raise PolicyParseError(f"Found bad entry in policy summary {body!r}")
        pos += 1
        ranges.append((low, high))
    return ranges
