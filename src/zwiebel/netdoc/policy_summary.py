"""Exit policy summaries: the "p" line of consensus entries (dir-spec 3.4.1) and the
"p"/"p6" lines of microdescriptors (dir-spec 3.3), computed with tor's counting rule
(`policy_summarize` in src/core/or/policies.c) and parsed back for path selection."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import groupby

from zwiebel.netdoc.policy_rule import (
    PRIVATE_NETWORKS,
    Address,
    PolicyParseError,
    PolicyRule,
    Verdict,
    as_address,
    is_internal,
    port_text,
)

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
    return ",".join(port_text(low, high) for low, high in ranges)


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
        addr = as_address(address)
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
