"""Router status entries of a consensus: the "r" line and what follows it (dir-spec 3.4.1).

Both flavors share the format except for the "r" line (the ns flavor carries the
server descriptor digest, the microdesc flavor does not) and the "m" line (the
microdesc flavor's SHA-256 microdescriptor digest, dir-spec 3.9.2). In a
microdesc-flavored consensus the "p" line is absent (it lives in the microdescriptor).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Literal

from zwiebel.netdoc import rules, values
from zwiebel.netdoc.policy import PolicySummary
from zwiebel.netdoc.tokenizer import Item

Flavor = Literal["ns", "microdesc"]

_UINT32 = 2**32 - 1


@dataclass(frozen=True)
class RouterStatus:
    """One relay as a consensus lists it."""

    nickname: str
    identity: bytes
    """20-byte RSA identity digest."""
    descriptor_digest: bytes | None
    """ns flavor: SHA-1 of the server descriptor's signed portion; None for microdesc."""
    published: datetime
    address: str
    or_port: int
    dir_port: int
    or_addresses: tuple[tuple[str, int], ...]
    """Extra addresses from "a" lines; IPv6 without brackets."""
    flags: frozenset[str]
    version: str | None
    """The "v" line, e.g. "Tor 0.4.9.11"."""
    protocols: Mapping[str, frozenset[int]]
    bandwidth: int
    """"w Bandwidth=" in kilobytes per second (0 when absent)."""
    unmeasured: bool
    policy_summary: PolicySummary | None
    """The "p" line (ns flavor)."""
    microdesc_digest: bytes | None
    """The "m" line (microdesc flavor): SHA-256 of the microdescriptor."""
    measured: int | None = None
    """"w Measured=" (present in votes only; kept for completeness)."""
    ed25519_id: bytes | None = field(default=None)
    """"id ed25519" (votes only)."""


def _rules(flavor: Flavor) -> tuple[rules.Rule, ...]:
    """Items of one entry (tor: rtrstatus_token_table, src/feature/dirparse/ns_parse.c)."""
    m_rule = rules.once("m", 1) if flavor == "microdesc" else rules.many("m", 1)
    return (
        rules.start("r", 8 if flavor == "ns" else 7),
        rules.many("a", 1),
        rules.once("s"),
        rules.opt("v", 1),
        rules.opt("pr"),
        rules.opt("w", 1),
        rules.opt("p", 2),
        rules.opt("id", 2),
        m_rule,
    )


def _bandwidth(item: Item | None) -> tuple[int, int | None, bool]:
    """(Bandwidth, Measured, Unmeasured) from a "w" line."""
    if item is None:
        return 0, None, False
    found: dict[str, int] = {}
    for entry in item.args:
        key, eq, text = entry.partition("=")
        if eq and key in ("Bandwidth", "Measured", "Unmeasured"):
            found[key] = values.integer(item, text, 0, _UINT32)
    return found.get("Bandwidth", 0), found.get("Measured"), found.get("Unmeasured", 0) == 1


def _ed25519_id(item: Item | None) -> bytes | None:
    """The "id ed25519 <key>" line of votes ("none" when the relay has no key)."""
    if item is None or item.args[0] != "ed25519" or item.args[1] == "none":
        return None
    return values.b64_fixed(item, item.args[1], 32)


def _microdesc_digest(flavor: Flavor, item: Item | None) -> bytes | None:
    """The "m" digest (only meaningful in the microdesc flavor)."""
    if flavor != "microdesc" or item is None:
        return None
    return values.b64_fixed(item, item.args[0], 32)


def parse_router_status(items: list[Item], flavor: Flavor) -> RouterStatus:
    """Build one RouterStatus from the items of its entry ("r" first)."""
    doc = rules.check(items, _rules(flavor), "router status entry")
    r = doc.one("r")
    digest = values.b64_fixed(r, r.args[2], 20) if flavor == "ns" else None
    rest = r.args[3:] if flavor == "ns" else r.args[2:]
    bandwidth, measured, unmeasured = _bandwidth(doc.opt("w"))
    v, pr, p = doc.opt("v"), doc.opt("pr"), doc.opt("p")
    return RouterStatus(
        nickname=values.nickname(r, r.args[0]),
        identity=values.b64_fixed(r, r.args[1], 20),
        descriptor_digest=digest,
        published=values.time_at(r, 3 if flavor == "ns" else 2),
        address=values.ipv4(r, rest[2]),
        or_port=values.port(r, rest[3]),
        dir_port=values.port(r, rest[4]),
        or_addresses=tuple(values.addr_port(a, a.args[0]) for a in doc.all("a")),
        flags=frozenset(doc.one("s").args),
        version=v.rest.strip(" \t") if v else None,
        protocols=MappingProxyType(dict(values.protocols(pr, pr.args))) if pr else _EMPTY,
        bandwidth=bandwidth,
        unmeasured=unmeasured,
        policy_summary=PolicySummary.parse(p.rest.strip(" \t")) if p else None,
        microdesc_digest=_microdesc_digest(flavor, doc.opt("m")),
        measured=measured,
        ed25519_id=_ed25519_id(doc.opt("id")),
    )


_EMPTY: Mapping[str, frozenset[int]] = MappingProxyType({})
