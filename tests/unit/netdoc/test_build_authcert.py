"""Authority key certificates built by zwiebel.netdoc.build.authcert.

Vector source: /usr/bin/tor-gencert (tor 0.4.9.11) run here in a temporary folder
with ``-i <our identity key> -s <new signing key> -m 5 -a 127.0.0.1:27002`` under
TZ=UTC; rebuilding from the same keys and times must give its bytes exactly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from zwiebel.crypto.keys import RsaPrivate
from zwiebel.netdoc.authcert import check_authority_cert, parse_authority_cert
from zwiebel.netdoc.build.authcert import add_months, build_authority_cert, certificate_times

GENCERT = shutil.which("tor-gencert")
NOW = datetime(2026, 11, 22, 8, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def identity() -> RsaPrivate:
    return RsaPrivate.generate(3072)


@pytest.fixture(scope="module")
def signing() -> RsaPrivate:
    return RsaPrivate.generate(2048)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (datetime(2026, 11, 22, 8, 7, 57), 12, datetime(2027, 11, 22, 8, 7, 57)),
        (datetime(2027, 1, 31, 0, 0, 0), 1, datetime(2027, 3, 3, 0, 0, 0)),
        (datetime(2028, 1, 31, 0, 0, 0), 1, datetime(2028, 3, 2, 0, 0, 0)),
        (datetime(2026, 12, 15, 1, 2, 3), 24, datetime(2028, 12, 15, 1, 2, 3)),
        (datetime(2026, 5, 1), 0, datetime(2026, 5, 1)),
    ],
)
def test_add_months_normalizes_like_mktime(
    start: datetime, months: int, expected: datetime
) -> None:
    assert add_months(start.replace(tzinfo=UTC), months) == expected.replace(tzinfo=UTC)


def test_certificate_times_range() -> None:
    published, expires = certificate_times(NOW.replace(microsecond=123), 12)
    assert published == NOW and expires == datetime(2027, 11, 22, 8, 0, tzinfo=UTC)
    with pytest.raises(ValueError):
        certificate_times(NOW, 25)


def test_built_cert_parses_and_verifies(identity: RsaPrivate, signing: RsaPrivate) -> None:
    text = build_authority_cert(identity, signing, NOW, add_months(NOW, 3), ("10.0.0.1", 80))
    cert = parse_authority_cert(text)
    check_authority_cert(cert, NOW)
    assert cert.identity == identity.public().fingerprint()
    assert cert.signing_key_digest == signing.public().fingerprint()
    assert cert.dir_address == ("10.0.0.1", 80)
    assert cert.expires == datetime(2027, 2, 22, 8, 0, tzinfo=UTC)
    assert text.splitlines()[:3] == [
        "dir-key-certificate-version 3",
        "dir-address 10.0.0.1:80",
        f"fingerprint {cert.identity.hex().upper()}",
    ]
    assert "-----BEGIN ID SIGNATURE-----" in text and text.endswith("-----END SIGNATURE-----\n")


def test_without_address(identity: RsaPrivate, signing: RsaPrivate) -> None:
    text = build_authority_cert(identity, signing, NOW, add_months(NOW, 1))
    assert text.splitlines()[1].startswith("fingerprint ")
    assert parse_authority_cert(text).dir_address is None


@pytest.mark.skipif(GENCERT is None, reason="tor-gencert is not installed")
def test_same_bytes_as_tor_gencert(identity: RsaPrivate, tmp_path: Path) -> None:
    assert GENCERT is not None
    (tmp_path / "id").write_bytes(identity.pem())
    subprocess.run(
        [GENCERT, "-i", "id", "-s", "sk", "-c", "cert", "-m", "5", "-a", "127.0.0.1:27002"],
        cwd=tmp_path, env={**os.environ, "TZ": "UTC"}, stdin=subprocess.DEVNULL,
        capture_output=True, timeout=120, check=True,
    )
    real = (tmp_path / "cert").read_text()
    cert = parse_authority_cert(real)
    sk = RsaPrivate.from_pem((tmp_path / "sk").read_bytes())
    assert add_months(cert.published, 5) == cert.expires
    assert build_authority_cert(
        identity, sk, cert.published, cert.expires, ("127.0.0.1", 27002)
    ) == real
