"""Authority key certificates (dir-spec 3.1) against tor-gencert output."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.netdoc.vectors import flip, load, v3ident
from zwiebel.encoding import ParseError
from zwiebel.netdoc.authcert import (
    check_authority_cert,
    parse_authority_cert,
    parse_authority_certs,
)
from zwiebel.netdoc.errors import VerifyError


def test_parse_real_certificate() -> None:
    cert = parse_authority_cert(load("keys-all"))
    assert cert.identity == v3ident()
    assert cert.identity == cert.identity_key.fingerprint()
    assert cert.signing_key_digest == cert.signing_key.fingerprint()
    assert cert.identity_key.bits == 3072
    assert cert.signing_key.bits == 2048
    assert cert.dir_address == ("127.0.0.1", 23011)
    assert cert.expires - cert.published == timedelta(days=365)
    assert cert.raw == load("keys-all")


def test_served_certificate_equals_generated_file() -> None:
    assert load("keys-all") == load("authority-certificate")


def test_verifies_while_valid() -> None:
    cert = parse_authority_cert(load("keys-all"))
    check_authority_cert(cert, cert.published)
    with pytest.raises(VerifyError, match="expired"):
        check_authority_cert(cert, cert.expires + timedelta(seconds=1))


def test_concatenated_certificates() -> None:
    text = load("keys-all")
    certs = parse_authority_certs(text + "\n" + text)
    assert len(certs) == 2
    assert certs[0] == certs[1]
    with pytest.raises(ParseError, match="expected one"):
        parse_authority_cert(text + text)


def test_flipped_signature_fails() -> None:
    text = load("keys-all")
    bad = parse_authority_cert(flip(text, "-----END SIGNATURE-----", -10))
    with pytest.raises(VerifyError, match="dir-key-certification"):
        check_authority_cert(bad, parse_authority_cert(text).published)
    bad_cross = parse_authority_cert(flip(text, "-----END ID SIGNATURE-----", -10))
    with pytest.raises(VerifyError):
        check_authority_cert(bad_cross, parse_authority_cert(text).published)


def test_changed_signed_field_fails() -> None:
    text = load("keys-all").replace("dir-address 127.0.0.1:23011", "dir-address 127.0.0.1:23012")
    cert = parse_authority_cert(text)
    with pytest.raises(VerifyError):
        check_authority_cert(cert, cert.published)


def test_fingerprint_must_match_identity_key() -> None:
    text = load("keys-all")
    fp = v3ident().hex().upper()
    with pytest.raises(ParseError, match="fingerprint"):
        parse_authority_cert(text.replace(fp, "0" * 40))


@pytest.mark.parametrize("drop", ["dir-key-published", "fingerprint", "dir-key-expires"])
def test_missing_required_item(drop: str) -> None:
    lines = [x for x in load("keys-all").split("\n") if not x.startswith(drop + " ")]
    with pytest.raises(ParseError, match=f"missing {drop}"):
        parse_authority_cert("\n".join(lines))
