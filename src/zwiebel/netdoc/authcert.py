"""Directory authority key certificates (dir-spec 3.1).

An authority's long-term identity key certifies a medium-term signing key; the
signing key cross-certifies the identity digest. Consensus signatures are made with
the signing key, so a client needs the certificate to check them
(`/tor/keys/all`, `/tor/keys/fp/<identity>`).

`parse_authority_certs` reads one or several concatenated certificates (checking
only the format); `check_authority_cert` verifies both signatures and the validity
window, as tor does in authority_cert_parse_from_string
(src/feature/dirparse/authcert_parse.c).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from zwiebel.crypto.digest import sha1
from zwiebel.crypto.keys import RsaPublic
from zwiebel.encoding import ParseError
from zwiebel.netdoc import rules, values
from zwiebel.netdoc.errors import VerifyError
from zwiebel.netdoc.rules import Obj
from zwiebel.netdoc.sigs import rsa_signature_ok
from zwiebel.netdoc.tokenizer import Item, signed_span, tokenize

_RULES = (
    rules.start("dir-key-certificate-version", 1),
    rules.opt("dir-address", 1),
    rules.once("fingerprint", 1),
    rules.once("dir-identity-key", obj=Obj.REQUIRED),
    rules.once("dir-key-published", 2),
    rules.once("dir-key-expires", 2),
    rules.once("dir-signing-key", obj=Obj.REQUIRED),
    rules.once("dir-key-crosscert", obj=Obj.REQUIRED),
    rules.end("dir-key-certification", obj=Obj.REQUIRED),
)


@dataclass(frozen=True)
class AuthorityCert:
    """A parsed (not yet verified) authority key certificate."""

    identity: bytes
    """v3 identity digest: SHA-1 of the identity key's PKCS#1 DER (20 bytes)."""
    signing_key_digest: bytes
    """SHA-1 of the signing key's PKCS#1 DER (20 bytes)."""
    identity_key: RsaPublic = field(compare=False)
    """Compared through `identity`."""
    signing_key: RsaPublic = field(compare=False)
    """Compared through `signing_key_digest`."""
    published: datetime
    expires: datetime
    dir_address: tuple[str, int] | None
    crosscert: bytes
    """Signature by the signing key over the identity digest."""
    certification: bytes
    """Signature by the identity key over `digest`."""
    digest: bytes
    """SHA-1 of the signed portion (start through "dir-key-certification\\n")."""
    raw: str


def _key(item: Item) -> RsaPublic:
    """The RSA public key object of an item."""
    assert item.obj is not None
    if item.obj.label != "RSA PUBLIC KEY":
        raise item.error("expected an RSA PUBLIC KEY object")
    return RsaPublic.from_der(item.obj.data)


def _signature(item: Item, labels: tuple[str, ...]) -> bytes:
    """The signature object of an item, with one of the allowed labels."""
    assert item.obj is not None
    if item.obj.label not in labels:
        raise item.error(f"unexpected object {item.obj.label!r}")
    return item.obj.data


def _build(text: str, items: list[Item]) -> AuthorityCert:
    """Apply the rules and read every field of one certificate."""
    doc = rules.check(items, _RULES, "authority certificate")
    if doc.one("dir-key-certificate-version").args[0] != "3":
        raise doc.one("dir-key-certificate-version").error("unsupported version")
    identity_key = _key(doc.one("dir-identity-key"))
    signing_key = _key(doc.one("dir-signing-key"))
    fp_item = doc.one("fingerprint")
    if values.hex_digest(fp_item, "".join(fp_item.args)) != identity_key.fingerprint():
        raise fp_item.error("does not match dir-identity-key")
    addr = doc.opt("dir-address")
    signed = signed_span(text, "dir-key-certificate-version", "\ndir-key-certification", "\n")
    return AuthorityCert(
        identity=identity_key.fingerprint(),
        signing_key_digest=signing_key.fingerprint(),
        identity_key=identity_key,
        signing_key=signing_key,
        published=values.time_at(doc.one("dir-key-published"), 0),
        expires=values.time_at(doc.one("dir-key-expires"), 0),
        dir_address=values.addr_port(addr, addr.args[0]) if addr else None,
        crosscert=_signature(doc.one("dir-key-crosscert"), ("ID SIGNATURE", "SIGNATURE")),
        certification=_signature(doc.one("dir-key-certification"), ("SIGNATURE",)),
        digest=sha1(signed.encode()),
        raw=text,
    )


def parse_authority_certs(text: str) -> list[AuthorityCert]:
    """Parse one or more concatenated certificates (as /tor/keys/all serves them)."""
    items = tokenize(text)
    if not items:
        raise ParseError("no authority certificate")
    starts = [i for i, it in enumerate(items) if it.keyword == "dir-key-certificate-version"]
    if not starts or starts[0] != 0:
        raise items[0].error("expected dir-key-certificate-version")
    certs = []
    for n, first in enumerate(starts):
        last = starts[n + 1] if n + 1 < len(starts) else len(items)
        chunk = items[first:last]
        certs.append(_build(text[chunk[0].start : chunk[-1].end], chunk))
    return certs


def parse_authority_cert(text: str) -> AuthorityCert:
    """Parse exactly one certificate."""
    certs = parse_authority_certs(text)
    if len(certs) != 1:
        raise ParseError(f"expected one authority certificate, got {len(certs)}")
    return certs[0]


def check_authority_cert(cert: AuthorityCert, now: datetime) -> None:
    """Verify the certification, the cross-certification and that `now` is before expiry.

    Raises VerifyError. tor ignores certificates whose `dir-key-expires` has passed
    (networkstatus_check_consensus_signature); a publication time in the future is
    not checked, as tor does not check it either.
    """
    if not rsa_signature_ok(cert.identity_key, cert.certification, cert.digest):
        raise VerifyError("authority certificate: bad dir-key-certification signature")
    if not rsa_signature_ok(cert.signing_key, cert.crosscert, cert.identity):
        raise VerifyError("authority certificate: bad dir-key-crosscert signature")
    if cert.expires < now:
        raise VerifyError(f"authority certificate expired at {cert.expires:%Y-%m-%d %H:%M:%S}")
