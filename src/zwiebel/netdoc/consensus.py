"""Consensus documents, ns and microdesc flavors (dir-spec 3.4.1, 3.9).

A consensus is four sections: the preamble (network-status-version ... params),
the authority section (one dir-source/contact/vote-digest block per voter), the
router status entries (routerstatus.py) and the footer (directory-footer,
bandwidth-weights, directory-signature...). `parse_consensus` checks the format and
computes the digests the signatures cover; `verify_consensus`
(consensus_verify.py) checks the signatures against authority certificates.

The signed portion runs "through the _space_ after directory-signature, not the
newline" (dir-spec 3.4.1), from the start of "network-status-version"
(tor: router_get_networkstatus_v3_signed_boundaries, src/feature/dirparse/ns_parse.c).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from zwiebel.crypto.digest import sha1, sha256
from zwiebel.encoding import ParseError
from zwiebel.netdoc import rules, values
from zwiebel.netdoc.routerstatus import Flavor, RouterStatus, parse_router_status
from zwiebel.netdoc.rules import Obj
from zwiebel.netdoc.tokenizer import Item, signed_span, tokenize

__all__ = [
    "AuthorityEntry",
    "Consensus",
    "DirSignature",
    "Flavor",
    "RouterStatus",
    "parse_consensus",
]

_PREAMBLE = (
    rules.start("network-status-version", 1),
    rules.once("vote-status", 1),
    rules.once("consensus-method", 1),
    rules.once("valid-after", 2),
    rules.once("fresh-until", 2),
    rules.once("valid-until", 2),
    rules.once("voting-delay", 2),
    rules.opt("client-versions"),
    rules.opt("server-versions"),
    rules.once("known-flags"),
    rules.opt("recommended-client-protocols"),
    rules.opt("recommended-relay-protocols"),
    rules.opt("required-client-protocols"),
    rules.opt("required-relay-protocols"),
    rules.opt("params"),
    rules.opt("shared-rand-previous-value", 2),
    rules.opt("shared-rand-current-value", 2),
)
_AUTHORITY = (
    rules.start("dir-source", 6),
    rules.opt("contact"),
    rules.opt("vote-digest", 1),
)
_FOOTER = (
    rules.opt("directory-footer"),
    rules.opt("bandwidth-weights"),
    rules.some("directory-signature", 2, Obj.REQUIRED),
)


@dataclass(frozen=True)
class AuthorityEntry:
    """One voter of the consensus (a "dir-source" block)."""

    nickname: str
    identity: bytes
    """v3 identity digest (20 bytes)."""
    hostname: str
    address: str
    dir_port: int
    or_port: int
    contact: str | None
    vote_digest: bytes | None


@dataclass(frozen=True)
class DirSignature:
    """One "directory-signature" item."""

    algorithm: str
    """"sha1" (the default when none is given) or "sha256"; others are kept but unusable."""
    identity: bytes
    signing_key_digest: bytes
    signature: bytes


@dataclass(frozen=True)
class Consensus:
    """A parsed, not yet verified, consensus."""

    flavor: Flavor
    consensus_method: int
    valid_after: datetime
    fresh_until: datetime
    valid_until: datetime
    voting_delay: tuple[int, int]
    client_versions: tuple[str, ...]
    server_versions: tuple[str, ...]
    known_flags: frozenset[str]
    recommended_client_protocols: Mapping[str, frozenset[int]]
    recommended_relay_protocols: Mapping[str, frozenset[int]]
    required_client_protocols: Mapping[str, frozenset[int]]
    required_relay_protocols: Mapping[str, frozenset[int]]
    params: Mapping[str, int]
    shared_rand_previous: tuple[int, bytes] | None
    """(number of reveals, 32-byte value) of the previous shared random value."""
    shared_rand_current: tuple[int, bytes] | None
    authorities: tuple[AuthorityEntry, ...]
    routers: tuple[RouterStatus, ...]
    bandwidth_weights: Mapping[str, int]
    signatures: tuple[DirSignature, ...]
    signed_digests: Mapping[str, bytes]
    """{"sha1": ..., "sha256": ...} of the signed portion."""
    raw: str


def _split(items: list[Item], keyword: str) -> list[list[Item]]:
    """Cut a run of items into blocks, each starting at `keyword`."""
    blocks: list[list[Item]] = []
    for item in items:
        if item.keyword == keyword or not blocks:
            blocks.append([])
        blocks[-1].append(item)
    return blocks


def _sections(items: list[Item]) -> tuple[list[Item], list[Item], list[Item], list[Item]]:
    """(preamble, authority section, router entries, footer), cut at the first keyword of each."""

    def first(*keywords: str) -> int:
        return next((i for i, it in enumerate(items) if it.keyword in keywords), len(items))

    footer = first("directory-footer", "directory-signature")
    routers = min(first("r"), footer)
    auths = min(first("dir-source"), routers)
    return items[:auths], items[auths:routers], items[routers:footer], items[footer:]


def _flavor(item: Item) -> Flavor:
    """The flavor named on the network-status-version line."""
    if item.args[0] != "3":
        raise item.error("unsupported network-status-version")
    name = item.args[1] if len(item.args) > 1 else "ns"
    if name not in ("ns", "microdesc"):
        raise item.error(f"unknown consensus flavor {name!r}")
    return "ns" if name == "ns" else "microdesc"


def _authority(block: list[Item]) -> AuthorityEntry:
    """One dir-source block."""
    doc = rules.check(block, _AUTHORITY, "dir-source block")
    ds = doc.one("dir-source")
    contact, vote = doc.opt("contact"), doc.opt("vote-digest")
    return AuthorityEntry(
        nickname=ds.args[0],
        identity=values.hex_digest(ds, ds.args[1]),
        hostname=ds.args[2],
        address=values.ipv4(ds, ds.args[3]),
        dir_port=values.port(ds, ds.args[4]),
        or_port=values.port(ds, ds.args[5]),
        contact=contact.rest.strip(" \t") if contact else None,
        vote_digest=values.hex_digest(vote, vote.args[0]) if vote else None,
    )


def _signature(item: Item) -> DirSignature:
    """A directory-signature item: [algorithm] identity signing-key-digest + object."""
    algorithm, ident, skd = item.args[:3] if len(item.args) > 2 else ("sha1", *item.args[:2])
    assert item.obj is not None
    if item.obj.label != "SIGNATURE":
        raise item.error("expected a SIGNATURE object")
    return DirSignature(
        algorithm, values.hex_digest(item, ident), values.hex_digest(item, skd), item.obj.data
    )


def _protos(doc: rules.Items, keyword: str) -> Mapping[str, frozenset[int]]:
    item = doc.opt(keyword)
    return MappingProxyType(dict(values.protocols(item, item.args) if item else {}))


def _shared_rand(item: Item | None) -> tuple[int, bytes] | None:
    """A "shared-rand-*-value NumReveals Value" line."""
    if item is None:
        return None
    reveals = values.integer(item, item.args[0], 0, 2**31 - 1)
    return reveals, values.b64_fixed(item, item.args[1], 32)


def _words(item: Item | None) -> tuple[str, ...]:
    """Comma-separated list on a versions line."""
    if item is None:
        return ()
    return tuple(v for v in item.rest.strip(" \t").split(",") if v)


def _footer(items: list[Item]) -> rules.Items:
    """Footer rules; "directory-footer", if present, comes first."""
    doc = rules.check(items, _FOOTER, "consensus footer")
    foot = doc.opt("directory-footer")
    if foot is not None and items[0] is not foot:
        raise foot.error("must begin the footer")
    return doc


def parse_consensus(text: str) -> Consensus:
    """Parse a consensus of either flavor; ParseError on any format violation."""
    items = tokenize(text)
    pre_items, auth_items, rs_items, foot_items = _sections(items)
    pre = rules.check(pre_items, _PREAMBLE, "consensus preamble")
    flavor = _flavor(pre.one("network-status-version"))
    if pre.one("vote-status").args[0] != "consensus":
        raise pre.one("vote-status").error("not a consensus")
    if not auth_items:
        raise ParseError("consensus lists no dir-source")
    foot = _footer(foot_items)
    signed = signed_span(text, "network-status-version", "\ndirectory-signature", " ").encode()
    delay = pre.one("voting-delay")
    bw = foot.opt("bandwidth-weights")
    params = pre.opt("params")
    return Consensus(
        flavor=flavor,
        consensus_method=values.integer(
            pre.one("consensus-method"), pre.one("consensus-method").args[0], 1, 2**31 - 1
        ),
        valid_after=values.time_at(pre.one("valid-after"), 0),
        fresh_until=values.time_at(pre.one("fresh-until"), 0),
        valid_until=values.time_at(pre.one("valid-until"), 0),
        voting_delay=(
            values.integer(delay, delay.args[0], 0, 2**31 - 1),
            values.integer(delay, delay.args[1], 0, 2**31 - 1),
        ),
        client_versions=_words(pre.opt("client-versions")),
        server_versions=_words(pre.opt("server-versions")),
        known_flags=frozenset(pre.one("known-flags").args),
        recommended_client_protocols=_protos(pre, "recommended-client-protocols"),
        recommended_relay_protocols=_protos(pre, "recommended-relay-protocols"),
        required_client_protocols=_protos(pre, "required-client-protocols"),
        required_relay_protocols=_protos(pre, "required-relay-protocols"),
        params=MappingProxyType(dict(values.int_pairs(params, params.args) if params else {})),
        shared_rand_previous=_shared_rand(pre.opt("shared-rand-previous-value")),
        shared_rand_current=_shared_rand(pre.opt("shared-rand-current-value")),
        authorities=tuple(_authority(b) for b in _split(auth_items, "dir-source")),
        routers=tuple(parse_router_status(b, flavor) for b in _split(rs_items, "r")),
        bandwidth_weights=MappingProxyType(dict(values.int_pairs(bw, bw.args) if bw else {})),
        signatures=tuple(_signature(s) for s in foot.all("directory-signature")),
        signed_digests=MappingProxyType({"sha1": sha1(signed), "sha256": sha256(signed)}),
        raw=text,
    )
