"""Building an authority key certificate (dir-spec 3.1) as tor-gencert writes it.

tor 0.4.9.11 ``generate_certificate`` (src/tools/tor-gencert.c) writes, with no blank
lines and the public keys as PKCS#1 "RSA PUBLIC KEY" objects:

    dir-key-certificate-version 3
    [dir-address IP:PORT]
    fingerprint <HEX identity digest, no spaces>
    dir-key-published / dir-key-expires <YYYY-MM-DD HH:MM:SS>
    dir-identity-key, dir-signing-key <objects>
    dir-key-crosscert <"ID SIGNATURE": signing key's raw PKCS#1 signature of the
                       identity digest>
    dir-key-certification <"SIGNATURE": identity key's raw PKCS#1 signature of the
                           SHA-1 of everything through "dir-key-certification\\n">

The expiry is the publication time plus `months` calendar months, with the day
overflow rolled into the next month as C's mktime normalizes it (tor-gencert adds
to tm_mon of the local time; we compute in UTC, which is what it gives under TZ=UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from zwiebel.crypto.digest import sha1
from zwiebel.crypto.keys import RsaPrivate
from zwiebel.netdoc.tokenizer import DocObject, format_item, format_object
from zwiebel.netdoc.values import format_time

MAX_MONTHS = 24
"""tor-gencert refuses lifetimes above 24 months ("Lifetime (in months) was out of range")."""


def add_months(when: datetime, months: int) -> datetime:
    """`when` plus `months` calendar months, normalized the way mktime does it."""
    total = when.month - 1 + months
    year, month = when.year + total // 12, total % 12 + 1
    first = when.replace(year=year, month=month, day=1)
    return first + timedelta(days=when.day - 1)


def build_authority_cert(
    identity: RsaPrivate,
    signing: RsaPrivate,
    published: datetime,
    expires: datetime,
    dir_address: tuple[str, int] | None = None,
) -> str:
    """The certificate text, byte for byte as tor-gencert would write it for these inputs."""
    ident_pub = identity.public()
    sign_pub = signing.public()
    text = "dir-key-certificate-version 3\n"
    if dir_address is not None:
        text += f"dir-address {dir_address[0]}:{dir_address[1]}\n"
    text += format_item("fingerprint", (ident_pub.fingerprint().hex().upper(),))
    text += format_item("dir-key-published", tuple(format_time(published).split()))
    text += format_item("dir-key-expires", tuple(format_time(expires).split()))
    text += format_item("dir-identity-key", (), DocObject("RSA PUBLIC KEY", ident_pub.der()))
    text += format_item("dir-signing-key", (), DocObject("RSA PUBLIC KEY", sign_pub.der()))
    crosscert = signing.sign_raw(ident_pub.fingerprint())
    text += "dir-key-crosscert\n" + format_object("ID SIGNATURE", crosscert)
    text += "dir-key-certification\n"
    certification = identity.sign_raw(sha1(text.encode()))
    return text + format_object("SIGNATURE", certification)


def certificate_times(now: datetime, months: int) -> tuple[datetime, datetime]:
    """(published, expires) for a certificate made at `now` (whole seconds, UTC)."""
    if not 0 <= months <= MAX_MONTHS:
        raise ValueError(f"lifetime of {months} months out of range 0..{MAX_MONTHS}")
    published = now.astimezone(UTC).replace(microsecond=0)
    return published, add_months(published, months)
