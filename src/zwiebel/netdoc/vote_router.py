"""Router status entries of a v3 vote (dir-spec 3.4.1, "r" through "m").

A vote's entry carries more than a consensus entry: every relay has a "w" line with
the advertised bandwidth (and "Measured=" from a bandwidth file), a "p" exit policy
summary, an "id ed25519" line ("none" for a relay without an Ed25519 key), a "stats"
line (wfu, tk, mtbf; tor 0.4.9 writes it, its parser ignores it) and one "m" line per
range of consensus methods with the SHA-256 of the microdescriptor those methods
produce (tor: routerstatus_format_entry with NS_V3_VOTE, src/feature/nodelist/
fmt_routerstatus.c; dirvote_format_microdesc_vote_line, src/feature/dirauth/dirvote.c).

Texts that the consensus computation copies verbatim (v, pr, p, stats) are kept as
text. "w MeasuredButAuthority=" and "GuardFraction=" (written only with a bandwidth
file or guardfraction file) are not kept, as tor's vote parser ignores the first and
Zwiebel does not compute the second.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from zwiebel.netdoc import rules, values
from zwiebel.netdoc.tokenizer import Item

_UINT32 = 2**32 - 1

_RULES = (
    rules.start("r", 8),
    rules.many("a", 1),
    rules.once("s"),
    rules.opt("v", 1),
    rules.opt("pr"),
    rules.opt("w", 1),
    rules.opt("p", 2),
    rules.many("id", 2),
    rules.opt("stats"),
    rules.many("m", 1),
)


@dataclass(frozen=True)
class VoteRouter:
    """One relay as an authority's vote describes it (an "r" block)."""

    nickname: str
    identity: bytes
    """20-byte RSA identity digest."""
    descriptor_digest: bytes
    """20-byte SHA-1 of the server descriptor's signed part."""
    published: datetime
    address: str
    or_port: int
    dir_port: int
    or_addresses: tuple[tuple[str, int], ...]
    """"a" lines; IPv6 without brackets."""
    flags: frozenset[str]
    version: str | None
    """"v" line text, e.g. "Tor 0.4.9.11"."""
    protocols: str | None
    """"pr" line text verbatim."""
    bandwidth: int | None
    """"w Bandwidth=" in kB/s."""
    measured: int | None
    """"w Measured=" in kB/s."""
    policy_summary: str | None
    """"p" line text verbatim, e.g. "reject 1-65535"."""
    ed25519_id: bytes | None
    """"id ed25519 <base64>" (32 bytes); None for "none" or no line."""
    stats: str | None
    """"stats" line text verbatim ("wfu=1.000000 tk=18 mtbf=18")."""
    microdescs: tuple[tuple[tuple[int, ...], bytes], ...]
    """"m" lines: (consensus methods, 32-byte SHA-256 of the microdescriptor)."""


def _text(item: Item | None) -> str | None:
    """The whole rest of a line, as written."""
    return item.rest.strip(" \t") if item is not None else None


def _bandwidth(item: Item | None) -> tuple[int | None, int | None]:
    """(Bandwidth, Measured) from a "w" line; other keys are ignored, as tor does."""
    if item is None:
        return None, None
    found: dict[str, int] = {}
    for entry in item.args:
        key, eq, text = entry.partition("=")
        if eq and key in ("Bandwidth", "Measured"):
            found[key] = values.integer(item, text, 0, _UINT32)
    return found.get("Bandwidth"), found.get("Measured")


def _ed25519(items: list[Item]) -> bytes | None:
    """The "id ed25519" key; "none" means the relay has none (other key types ignored)."""
    for item in items:
        if item.args[0] == "ed25519":
            return None if item.args[1] == "none" else values.b64_fixed(item, item.args[1], 32)
    return None


def _methods(item: Item, text: str) -> tuple[int, ...]:
    """ "32,33,34" -> (32, 33, 34)."""
    return tuple(values.integer(item, m, 1, 2**31 - 1) for m in text.split(","))


def _microdesc(item: Item) -> tuple[tuple[int, ...], bytes]:
    """An "m <methods> sha256=<digest>" line."""
    for entry in item.args[1:]:
        algorithm, eq, digest = entry.partition("=")
        if eq and algorithm == "sha256":
            return _methods(item, item.args[0]), values.b64_fixed(item, digest, 32)
    raise item.error("no sha256 microdescriptor digest")


def _flags(s: Item, known: frozenset[str]) -> frozenset[str]:
    """The "s" flags, each of which must be a known flag (tor: routerstatus_parse_entry)."""
    for flag in s.args:
        if flag not in known:
            raise s.error(f"flag {flag!r} not listed in known-flags")
    return frozenset(s.args)


def parse_vote_router(items: list[Item], known_flags: frozenset[str]) -> VoteRouter:
    """One entry of a vote, "r" first; ParseError on a format violation."""
    doc = rules.check(items, _RULES, "vote router status entry")
    r = doc.one("r")
    bandwidth, measured = _bandwidth(doc.opt("w"))
    return VoteRouter(
        nickname=values.nickname(r, r.args[0]),
        identity=values.b64_fixed(r, r.args[1], 20),
        descriptor_digest=values.b64_fixed(r, r.args[2], 20),
        published=values.time_at(r, 3),
        address=values.ipv4(r, r.args[5]),
        or_port=values.port(r, r.args[6]),
        dir_port=values.port(r, r.args[7]),
        or_addresses=tuple(values.addr_port(a, a.args[0]) for a in doc.all("a")),
        flags=_flags(doc.one("s"), known_flags),
        version=_text(doc.opt("v")),
        protocols=_text(doc.opt("pr")),
        bandwidth=bandwidth,
        measured=measured,
        policy_summary=_text(doc.opt("p")),
        ed25519_id=_ed25519(doc.all("id")),
        stats=_text(doc.opt("stats")),
        microdescs=tuple(_microdesc(m) for m in doc.all("m")),
    )
