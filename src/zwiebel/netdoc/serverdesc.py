"""Server descriptors (dir-spec 2.1.1): what a relay says about itself.

`parse_server_descriptors` reads one or more concatenated descriptors (as
/tor/server/all serves them, optionally with "@" annotations as tor caches them)
and checks the format and the key bindings that need no signature check (the
fingerprint line and master-key-ed25519 must match the keys). Signatures are
checked separately by `verify_server_descriptor` (serverdesc_verify.py).

The rule table follows tor 0.4.9 (routerdesc_token_table in
src/feature/dirparse/routerparse.c): the Ed25519 items are required,
"onion-key" (TAP) is optional together with its cross-certificate.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from zwiebel.crypto.digest import sha1
from zwiebel.crypto.keys import RsaPublic
from zwiebel.encoding import ParseError
from zwiebel.netdoc import rules, values
from zwiebel.netdoc.edcert import CERT_TYPE_ID_SIGNING, Ed25519Cert, parse_ed25519_cert
from zwiebel.netdoc.policy import ExitPolicy, PolicySummary
from zwiebel.netdoc.rules import Obj
from zwiebel.netdoc.tokenizer import Item, signed_span, tokenize

_RULES = (
    rules.start("router", 5),
    rules.once("bandwidth", 3),
    rules.once("published", 2),
    rules.opt("fingerprint", 10),
    rules.once("signing-key", obj=Obj.REQUIRED),
    rules.opt("onion-key", obj=Obj.REQUIRED),
    rules.opt("onion-key-crosscert", obj=Obj.REQUIRED),
    rules.once("ntor-onion-key", 1),
    rules.once("ntor-onion-key-crosscert", 1, Obj.REQUIRED),
    rules.once("identity-ed25519", obj=Obj.REQUIRED),
    rules.once("master-key-ed25519", 1),
    rules.once("proto"),
    rules.opt("platform"),
    rules.opt("contact"),
    rules.opt("uptime", 1),
    rules.opt("hibernating", 1),
    rules.opt("family"),
    rules.many("family-cert", obj=Obj.REQUIRED),
    rules.many("or-address", 1),
    rules.opt("extra-info-digest", 1),
    rules.opt("hidden-service-dir"),
    rules.opt("caches-extra-info"),
    rules.opt("tunnelled-dir-server"),
    rules.opt("ipv6-policy", 2),
    rules.many("accept", 1),
    rules.many("reject", 1),
    rules.many("accept6", 1),
    rules.many("reject6", 1),
    rules.once("router-sig-ed25519", 1),
    rules.end("router-signature", obj=Obj.REQUIRED),
)
_POLICY_KEYWORDS = ("accept", "reject", "accept6", "reject6")


@dataclass(frozen=True)
class ServerDescriptor:
    """A parsed (format-checked, not signature-checked) server descriptor."""

    nickname: str
    identity: bytes
    """SHA-1 of the RSA identity key ("signing-key"), 20 bytes."""
    address: str
    or_port: int
    dir_port: int
    or_addresses: tuple[tuple[str, int], ...]
    ntor_onion_key: bytes
    ed25519_id: bytes | None
    """The Ed25519 master identity key."""
    family: frozenset[str]
    exit_policy: ExitPolicy
    exit_policy_lines: tuple[str, ...]
    """The accept/reject lines in order, as written ("accept *:80")."""
    ipv6_policy: PolicySummary | None
    platform: str | None
    protocols: Mapping[str, frozenset[int]]
    bandwidth: tuple[int, int, int]
    """(average, burst, observed) in bytes per second."""
    published: datetime
    digest: bytes
    """SHA-1 of the signed portion: what an ns consensus "r" line names."""
    raw: str
    signing_key: RsaPublic
    """The RSA identity key (keyword "signing-key")."""
    onion_key_tap: bytes | None
    identity_cert: Ed25519Cert
    """The "identity-ed25519" certificate (type 4, raw bytes in `.raw`)."""
    ntor_crosscert: Ed25519Cert
    ntor_crosscert_sign_bit: int
    onion_key_crosscert: bytes | None
    router_sig_ed25519: bytes
    router_signature: bytes
    ed25519_signed: bytes
    """The text router-sig-ed25519 covers (before the prefix and hashing)."""
    contact: str | None
    uptime: int | None
    hibernating: bool
    extra_info_digest: bytes | None
    caches_extra_info: bool
    tunnelled_dir_server: bool
    hidden_service_dir: bool
    family_certs: tuple[bytes, ...]


def _identity_cert(doc: rules.Items) -> Ed25519Cert:
    """identity-ed25519: a type-4 certificate carrying its signing (master) key."""
    item = doc.one("identity-ed25519")
    assert item.obj is not None
    if item.obj.label != "ED25519 CERT":
        raise item.error("expected an ED25519 CERT object")
    cert = parse_ed25519_cert(item.obj.data)
    if cert.cert_type != CERT_TYPE_ID_SIGNING or cert.signing_key is None:
        raise item.error("not a signing-key certificate with its master key")
    master = doc.one("master-key-ed25519")
    if values.b64_fixed(master, master.args[0], 32) != cert.signing_key:
        raise master.error("does not match the identity-ed25519 certificate")
    return cert


def _ntor_crosscert(doc: rules.Items) -> tuple[Ed25519Cert, int]:
    item = doc.one("ntor-onion-key-crosscert")
    assert item.obj is not None
    if item.obj.label != "ED25519 CERT" or item.args[0] not in ("0", "1"):
        raise item.error("bad ntor-onion-key-crosscert")
    return parse_ed25519_cert(item.obj.data), int(item.args[0])


def _positions(items: list[Item]) -> None:
    """tor: identity-ed25519 right after "router"; router-sig-ed25519 second to last."""
    body = [i for i in items if not i.keyword.startswith("@")]
    if body[1].keyword != "identity-ed25519":
        raise body[1].error("identity-ed25519 must follow the router line")
    if body[-2].keyword != "router-sig-ed25519":
        raise body[-2].error("router-sig-ed25519 must precede router-signature")


def _object(item: Item | None, label: str) -> bytes | None:
    if item is None:
        return None
    assert item.obj is not None
    if item.obj.label != label:
        raise item.error(f"expected a {label} object")
    return item.obj.data


def _fingerprint(doc: rules.Items, key: RsaPublic) -> None:
    item = doc.opt("fingerprint")
    if item is not None and values.hex_digest(item, "".join(item.args)) != key.fingerprint():
        raise item.error("does not match signing-key")


def _rest(item: Item | None) -> str | None:
    return item.rest.strip(" \t") if item is not None else None


def _build(items: list[Item], raw: str) -> ServerDescriptor:
    """Read every field of one descriptor."""
    doc = rules.check(items, _RULES, "server descriptor", annotations=True)
    _positions(items)
    router, bw = doc.one("router"), doc.one("bandwidth")
    key = RsaPublic.from_der(_object(doc.one("signing-key"), "RSA PUBLIC KEY") or b"")
    if key.bits != 1024:
        raise doc.one("signing-key").error("identity key must be 1024 bits")
    _fingerprint(doc, key)
    cert = _identity_cert(doc)
    ntor_cc, sign_bit = _ntor_crosscert(doc)
    tap = _object(doc.opt("onion-key"), "RSA PUBLIC KEY")
    tap_cc = _object(doc.opt("onion-key-crosscert"), "CROSSCERT")
    if (tap is None) != (tap_cc is None):
        raise doc.one("router").error("onion-key and onion-key-crosscert come together")
    policy = tuple(" ".join((i.keyword, *i.args)) for i in items if i.keyword in _POLICY_KEYWORDS)
    family, proto, uptime = doc.opt("family"), doc.one("proto"), doc.opt("uptime")
    extra, hib, ipv6 = doc.opt("extra-info-digest"), doc.opt("hibernating"), doc.opt("ipv6-policy")
    ntor = doc.one("ntor-onion-key")
    return ServerDescriptor(
        nickname=values.nickname(router, router.args[0]),
        identity=key.fingerprint(),
        address=values.ipv4(router, router.args[1]),
        or_port=values.port(router, router.args[2]),
        dir_port=values.port(router, router.args[4]),
        or_addresses=tuple(values.addr_port(a, a.args[0]) for a in doc.all("or-address")),
        ntor_onion_key=values.b64_fixed(ntor, ntor.args[0], 32),
        ed25519_id=cert.signing_key,
        family=frozenset(family.args) if family else frozenset(),
        exit_policy=ExitPolicy.from_descriptor_lines(policy),
        exit_policy_lines=policy,
        ipv6_policy=PolicySummary.parse(ipv6.rest.strip(" \t")) if ipv6 else None,
        platform=_rest(doc.opt("platform")),
        protocols=MappingProxyType(dict(values.protocols(proto, proto.args))),
        bandwidth=(
            values.integer(bw, bw.args[0], 0, 2**31 - 1),
            values.integer(bw, bw.args[1], 0, 2**31 - 1),
            values.integer(bw, bw.args[2], 0, 2**31 - 1),
        ),
        published=values.time_at(doc.one("published"), 0),
        digest=sha1(signed_span(raw, "router ", "\nrouter-signature", "\n").encode()),
        raw=raw,
        signing_key=key,
        onion_key_tap=tap,
        identity_cert=cert,
        ntor_crosscert=ntor_cc,
        ntor_crosscert_sign_bit=sign_bit,
        onion_key_crosscert=tap_cc,
        router_sig_ed25519=values.b64_fixed(
            doc.one("router-sig-ed25519"), doc.one("router-sig-ed25519").args[0], 64
        ),
        router_signature=_object(doc.one("router-signature"), "SIGNATURE") or b"",
        ed25519_signed=signed_span(raw, "router ", "\nrouter-sig-ed25519", " ").encode(),
        contact=_rest(doc.opt("contact")),
        uptime=values.integer(uptime, uptime.args[0], 0, 2**63 - 1) if uptime else None,
        hibernating=hib is not None and hib.args[0] == "1",
        extra_info_digest=values.hex_digest(extra, extra.args[0]) if extra else None,
        caches_extra_info=doc.opt("caches-extra-info") is not None,
        tunnelled_dir_server=doc.opt("tunnelled-dir-server") is not None,
        hidden_service_dir=doc.opt("hidden-service-dir") is not None,
        family_certs=tuple(_object(i, "FAMILY CERT") or b"" for i in doc.all("family-cert")),
    )


def _group(items: list[Item]) -> list[list[Item]]:
    """Items grouped per descriptor; annotations attach to the router line after them."""
    groups: list[list[Item]] = [[]]
    for item in items:
        starts = item.keyword.startswith("@") or item.keyword == "router"
        if starts and any(not i.keyword.startswith("@") for i in groups[-1]):
            groups.append([])
        groups[-1].append(item)
    return [g for g in groups if g]


def parse_server_descriptors(text: str) -> list[ServerDescriptor]:
    """Parse one or more concatenated server descriptors."""
    out = []
    for group in _group(tokenize(text)):
        body = [i for i in group if not i.keyword.startswith("@")]
        if not body:
            raise group[-1].error("annotations without a descriptor")
        out.append(_build(group, text[body[0].start : group[-1].end]))
    return out


def parse_server_descriptor(text: str) -> ServerDescriptor:
    """Parse exactly one server descriptor."""
    descs = parse_server_descriptors(text)
    if len(descs) != 1:
        raise ParseError(f"expected one server descriptor, got {len(descs)}")
    return descs[0]
