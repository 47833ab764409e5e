"""v3 votes (dir-spec 3.4.1): what one authority believes about the network.

A vote is a preamble (network-status-version ... params, the voter's dir-source and
contact, shared-random commits and values), the voter's authority certificate, the
router status entries (vote_router.py), "directory-footer" and exactly one
"directory-signature <v3ident> <signing key digest>" made with the certificate's
signing key over the SHA-1 of everything through the space after
"directory-signature". That SHA-1 is the "vote-digest" a consensus names.

`parse_vote` applies the checks tor's networkstatus_parse_vote_from_string
(src/feature/dirparse/ns_parse.c) makes on the format: known-flags sorted and unique,
params sorted and unique, every "s" flag known, entries sorted by identity with unique
Ed25519 keys, the certificate and the signature naming the dir-source's identity.
`verify_vote` checks the certificate and the signature. Not checked here: the
minimum voting intervals (they depend on TestingTorNetwork; the caller checks them).

Not kept: "legacy-dir-key", "bandwidth-file-headers", "bandwidth-file-digest",
"package" and "signing-ed25519" lines (Zwiebel's authorities write none of them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from zwiebel.crypto.digest import sha1
from zwiebel.encoding import ParseError
from zwiebel.netdoc import rules, values
from zwiebel.netdoc.authcert import AuthorityCert, check_authority_cert, parse_authority_cert
from zwiebel.netdoc.consensus import DirSignature
from zwiebel.netdoc.errors import VerifyError
from zwiebel.netdoc.rules import Obj
from zwiebel.netdoc.sigs import rsa_signature_ok
from zwiebel.netdoc.tokenizer import Item, signed_span, tokenize
from zwiebel.netdoc.vote_router import VoteRouter, parse_vote_router

__all__ = [
    "SharedRandValue",
    "Vote",
    "VoteAuthority",
    "VoteBody",
    "VoteRouter",
    "parse_vote",
    "verify_vote",
]

_INT31 = 2**31 - 1

_PREAMBLE = (
    rules.start("network-status-version", 1),
    rules.once("vote-status", 1),
    rules.once("consensus-methods", 1),
    rules.once("published", 2),
    rules.once("valid-after", 2),
    rules.once("fresh-until", 2),
    rules.once("valid-until", 2),
    rules.once("voting-delay", 2),
    rules.opt("client-versions"),
    rules.opt("server-versions"),
    rules.once("known-flags"),
    rules.opt("flag-thresholds"),
    rules.opt("recommended-client-protocols"),
    rules.opt("recommended-relay-protocols"),
    rules.opt("required-client-protocols"),
    rules.opt("required-relay-protocols"),
    rules.opt("params"),
    rules.once("dir-source", 6),
    rules.opt("contact"),
    rules.opt("shared-rand-participate"),
    rules.many("shared-rand-commit", 3),
    rules.opt("shared-rand-previous-value", 2),
    rules.opt("shared-rand-current-value", 2),
)
_FOOTER = (
    rules.start("directory-footer"),
    rules.once("directory-signature", 2, Obj.REQUIRED),
)


@dataclass(frozen=True)
class VoteAuthority:
    """The voter: its "dir-source" and "contact" lines."""

    nickname: str
    identity: bytes
    """20-byte v3 identity digest."""
    hostname: str
    address: str
    dir_port: int
    or_port: int
    contact: str | None


@dataclass(frozen=True)
class SharedRandValue:
    """A "shared-rand-previous-value"/"shared-rand-current-value" line."""

    num_reveals: int
    value: bytes
    """32 bytes."""


@dataclass(frozen=True)
class VoteBody:
    """Everything an authority decides; what build_vote() serializes."""

    consensus_methods: tuple[int, ...]
    published: datetime
    valid_after: datetime
    fresh_until: datetime
    valid_until: datetime
    voting_delay: tuple[int, int]
    """(vote seconds, dist seconds)."""
    client_versions: tuple[str, ...] | None
    """None: line absent."""
    server_versions: tuple[str, ...] | None
    known_flags: tuple[str, ...]
    """Sorted."""
    flag_thresholds: str | None
    """Verbatim text after "flag-thresholds "."""
    recommended_client_protocols: str | None
    recommended_relay_protocols: str | None
    required_client_protocols: str | None
    required_relay_protocols: str | None
    params: tuple[tuple[str, int], ...]
    """The "params" line in order; () when it is "params " (empty)."""
    authority: VoteAuthority
    sr_participate: bool
    sr_commits: tuple[str, ...]
    """"shared-rand-commit" texts verbatim (after the keyword), trailing space included:
    in the reveal phase tor writes "<commit> " with an empty reveal (get_vote_line_from_commit)."""
    sr_previous: SharedRandValue | None
    sr_current: SharedRandValue | None
    routers: tuple[VoteRouter, ...]
    """In the vote's order (sorted by identity)."""


@dataclass(frozen=True)
class Vote:
    """A parsed, not yet verified, vote."""

    body: VoteBody
    cert: AuthorityCert
    signatures: tuple[DirSignature, ...]
    digest: bytes
    """SHA-1 of the signed portion: what a consensus's "vote-digest" names."""
    raw: str


def _sections(items: list[Item]) -> tuple[list[Item], list[Item], list[Item], list[Item]]:
    """(preamble, certificate, router entries, footer)."""
    kws = [it.keyword for it in items]
    if "dir-key-certificate-version" not in kws or "dir-key-certification" not in kws:
        raise ParseError("vote: no authority certificate")
    cert_start = kws.index("dir-key-certificate-version")
    cert_end = kws.index("dir-key-certification") + 1
    footer = kws.index("directory-footer") if "directory-footer" in kws else len(items)
    if not cert_start < cert_end <= footer:
        raise ParseError("vote: certificate out of place")
    return items[:cert_start], items[cert_start:cert_end], items[cert_end:footer], items[footer:]


def _blocks(items: list[Item]) -> list[list[Item]]:
    """Router entries, each starting at an "r" item."""
    if items and items[0].keyword != "r":
        raise items[0].error("expected r")
    blocks: list[list[Item]] = []
    for item in items:
        if item.keyword == "r":
            blocks.append([])
        blocks[-1].append(item)
    return blocks


def _sorted_unique(item: Item, keys: list[str], what: str) -> None:
    """tor requires known-flags and params in strictly increasing strcmp order."""
    encoded = [k.encode() for k in keys]
    if any(a >= b for a, b in zip(encoded, encoded[1:], strict=False)):
        raise item.error(f"{what} not in order or duplicated")


def _params(item: Item | None) -> tuple[tuple[str, int], ...]:
    if item is None:
        return ()
    pairs = []
    for entry in item.args:
        key, eq, value = entry.partition("=")
        if not eq or not key:
            raise item.error(f"bad element {entry[:60]!r} in params")
        pairs.append((key, values.integer(item, value, *values.INT32)))
    _sorted_unique(item, [k for k, _ in pairs], "params")
    return tuple(pairs)


def _versions(item: Item | None) -> tuple[str, ...] | None:
    if item is None:
        return None
    return tuple(v for v in item.rest.strip(" \t").split(",") if v)


def _text(item: Item | None) -> str | None:
    return item.rest.strip(" \t") if item is not None else None


def _srv(item: Item | None) -> SharedRandValue | None:
    if item is None:
        return None
    reveals = values.integer(item, item.args[0], 0, 2**64 - 1)
    return SharedRandValue(reveals, values.b64_fixed(item, item.args[1], 32))


def _authority(doc: rules.Items) -> VoteAuthority:
    ds = doc.one("dir-source")
    return VoteAuthority(
        nickname=ds.args[0],
        identity=values.hex_digest(ds, ds.args[1]),
        hostname=ds.args[2],
        address=values.ipv4(ds, ds.args[3]),
        dir_port=values.port(ds, ds.args[4]),
        or_port=values.port(ds, ds.args[5]),
        contact=_text(doc.opt("contact")),
    )


def _known_flags(doc: rules.Items) -> tuple[str, ...]:
    item = doc.one("known-flags")
    _sorted_unique(item, list(item.args), "known-flags")
    return item.args


def _methods(pre: rules.Items) -> tuple[int, ...]:
    item = pre.one("consensus-methods")
    return tuple(values.integer(item, m, 1, _INT31) for m in item.args)


def _delay(pre: rules.Items) -> tuple[int, int]:
    item = pre.one("voting-delay")
    return values.integer(item, item.args[0], 0, _INT31), values.integer(
        item, item.args[1], 0, _INT31
    )


def _routers(items: list[Item], known: frozenset[str]) -> tuple[VoteRouter, ...]:
    routers = tuple(parse_vote_router(b, known) for b in _blocks(items))
    ids = [r.identity for r in routers]
    if any(a >= b for a, b in zip(ids, ids[1:], strict=False)):
        raise ParseError("vote: entries not sorted by identity digest")
    eds = [r.ed25519_id for r in routers if r.ed25519_id is not None]
    if len(set(eds)) != len(eds):
        raise ParseError("vote: ed25519 identities not unique")
    return routers


def _body(pre: rules.Items, router_items: list[Item]) -> VoteBody:
    version = pre.one("network-status-version")
    if version.args != ("3",):
        raise version.error("unsupported network-status-version")
    if pre.one("vote-status").args[0] != "vote":
        raise pre.one("vote-status").error("not a vote")
    known = _known_flags(pre)
    return VoteBody(
        consensus_methods=_methods(pre),
        published=values.time_at(pre.one("published"), 0),
        valid_after=values.time_at(pre.one("valid-after"), 0),
        fresh_until=values.time_at(pre.one("fresh-until"), 0),
        valid_until=values.time_at(pre.one("valid-until"), 0),
        voting_delay=_delay(pre),
        client_versions=_versions(pre.opt("client-versions")),
        server_versions=_versions(pre.opt("server-versions")),
        known_flags=known,
        flag_thresholds=_text(pre.opt("flag-thresholds")),
        recommended_client_protocols=_text(pre.opt("recommended-client-protocols")),
        recommended_relay_protocols=_text(pre.opt("recommended-relay-protocols")),
        required_client_protocols=_text(pre.opt("required-client-protocols")),
        required_relay_protocols=_text(pre.opt("required-relay-protocols")),
        params=_params(pre.opt("params")),
        authority=_authority(pre),
        sr_participate=pre.opt("shared-rand-participate") is not None,
        sr_commits=tuple(i.rest for i in pre.all("shared-rand-commit")),
        sr_previous=_srv(pre.opt("shared-rand-previous-value")),
        sr_current=_srv(pre.opt("shared-rand-current-value")),
        routers=_routers(router_items, frozenset(known)),
    )


def _signature(item: Item) -> DirSignature:
    """A vote's directory-signature: [sha1] identity signing-key-digest + SIGNATURE."""
    args = item.args if len(item.args) > 2 else ("sha1", *item.args)
    assert item.obj is not None
    if item.obj.label != "SIGNATURE":
        raise item.error("expected a SIGNATURE object")
    return DirSignature(
        args[0], values.hex_digest(item, args[1]), values.hex_digest(item, args[2]), item.obj.data
    )


def parse_vote(text: str) -> Vote:
    """Parse a vote; ParseError on any format violation."""
    items = tokenize(text)
    pre_items, cert_items, router_items, foot_items = _sections(items)
    pre = rules.check(pre_items, _PREAMBLE, "vote preamble")
    cert = parse_authority_cert(text[cert_items[0].start : cert_items[-1].end])
    foot = rules.check(foot_items, _FOOTER, "vote footer")
    if foot.items[-1].keyword != "directory-signature":
        raise foot.items[-1].error("extraneous item after directory-signature")
    body = _body(pre, router_items)
    signature = _signature(foot.one("directory-signature"))
    if body.authority.identity != cert.identity:
        raise pre.one("dir-source").error("identity does not match the certificate")
    if signature.identity != cert.identity:
        raise foot.one("directory-signature").error("identity does not match the certificate")
    signed = signed_span(text, "network-status-version", "\ndirectory-signature", " ")
    return Vote(body, cert, (signature,), sha1(signed.encode()), text)


def verify_vote(vote: Vote, now: datetime) -> None:
    """Check the embedded certificate and the signature by its signing key (VerifyError)."""
    check_authority_cert(vote.cert, now)
    for sig in vote.signatures:
        if sig.algorithm != "sha1":
            raise VerifyError(f"vote: unsupported signature algorithm {sig.algorithm!r}")
        if sig.signing_key_digest != vote.cert.signing_key_digest:
            raise VerifyError("vote: signature names a signing key other than the certificate's")
        if not rsa_signature_ok(vote.cert.signing_key, sig.signature, vote.digest):
            raise VerifyError("vote: bad directory-signature")
    if not vote.signatures:
        raise VerifyError("vote: no signature")
