"""Directory authority keys (zwiebel.dirauth.keys), checked against tor-gencert and tor.

Vectors and proofs:
- tests/vectors/dirauth/realnet2/keys-authN: signing keys and certificates of three real
  tor 0.4.9.11 authorities (made by tor-gencert); they load.
- /usr/bin/tor-gencert run here with --create-identity-key (passphrase via
  --passphrase-fd): its files load (the encrypted identity key is left out).
- /usr/bin/tor (0.4.9.11) started here as a lone v3 authority (TestingTorNetwork,
  127.0.0.1 ports 27010/27011) on keys we wrote: it serves our certificate on
  /tor/keys/authority and a vote that verifies with our signing key.
Without tor or tor-gencert those tests are skipped.
"""

from __future__ import annotations

import shutil
import stat
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from zwiebel.crypto.keys import RsaPrivate
from zwiebel.dirauth.keys import (
    CERT_FILE,
    IDENTITY_FILE,
    SIGNING_FILE,
    AuthorityKeyError,
    AuthorityKeys,
    generate_authority_keys,
    load_authority_keys,
    write_authority_keys,
)
from zwiebel.netdoc.authcert import check_authority_cert, parse_authority_cert
from zwiebel.netdoc.vote import parse_vote, verify_vote

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
TOR = shutil.which("tor") or ("/usr/sbin/tor" if Path("/usr/sbin/tor").exists() else None)
GENCERT = shutil.which("tor-gencert")
REALNET2 = Path(__file__).parents[2] / "vectors" / "dirauth" / "realnet2"
OR_PORT, DIR_PORT = 27010, 27011


@pytest.fixture(scope="module")
def made() -> tuple[RsaPrivate, RsaPrivate, str]:
    return generate_authority_keys(NOW, 12, ("127.0.0.1", DIR_PORT))


def test_generated_keys(made: tuple[RsaPrivate, RsaPrivate, str]) -> None:
    identity, signing, text = made
    cert = parse_authority_cert(text)
    check_authority_cert(cert, NOW)
    assert identity.native.key_size == 3072 and signing.native.key_size == 2048
    assert cert.identity == identity.public().fingerprint()
    assert cert.published == NOW and cert.expires == datetime(2027, 11, 22, 8, tzinfo=UTC)
    assert cert.dir_address == ("127.0.0.1", DIR_PORT)


def test_write_then_load(made: tuple[RsaPrivate, RsaPrivate, str], tmp_path: Path) -> None:
    identity, signing, text = made
    keys_dir = tmp_path / "keys"
    write_authority_keys(keys_dir, identity, signing, text)
    assert sorted(p.name for p in keys_dir.iterdir()) == [CERT_FILE, IDENTITY_FILE, SIGNING_FILE]
    for p in keys_dir.iterdir():
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert (keys_dir / SIGNING_FILE).read_bytes().startswith(b"-----BEGIN RSA PRIVATE KEY-----\n")
    assert (keys_dir / CERT_FILE).read_text() == text
    keys = load_authority_keys(keys_dir, NOW)
    assert isinstance(keys, AuthorityKeys)
    assert keys.v3ident == identity.public().fingerprint() == keys.cert.identity
    assert keys.cert_text == text
    assert keys.identity is not None and keys.identity.pem() == identity.pem()
    assert keys.signing_key.pem() == signing.pem()
    (keys_dir / IDENTITY_FILE).unlink()
    assert load_authority_keys(keys_dir, NOW).identity is None


def _expect(keys_dir: Path, now: datetime, words: str) -> None:
    with pytest.raises(AuthorityKeyError) as info:
        load_authority_keys(keys_dir, now)
    assert words in info.value.reason


def test_load_errors(made: tuple[RsaPrivate, RsaPrivate, str], tmp_path: Path) -> None:
    identity, signing, text = made
    keys_dir = tmp_path / "keys"
    _expect(keys_dir, NOW, "missing")
    write_authority_keys(keys_dir, identity, signing, text)
    _expect(keys_dir, NOW + timedelta(days=366), "expired")
    (keys_dir / CERT_FILE).write_text(
        text.replace("dir-key-published 2026", "dir-key-published 2025"))
    _expect(keys_dir, NOW, "bad dir-key-certification")
    (keys_dir / CERT_FILE).write_text("garbage\n")
    _expect(keys_dir, NOW, "unable to parse certificate")
    (keys_dir / CERT_FILE).write_text(text)
    (keys_dir / SIGNING_FILE).write_bytes(RsaPrivate.generate(1024).pem())
    _expect(keys_dir, NOW, "does not match signing key in certificate")
    (keys_dir / SIGNING_FILE).write_bytes(b"not a key")
    _expect(keys_dir, NOW, "unreadable RSA private key")
    (keys_dir / SIGNING_FILE).write_bytes(signing.pem())
    (keys_dir / IDENTITY_FILE).write_bytes(RsaPrivate.generate(1024).pem())
    _expect(keys_dir, NOW, "identity key does not match")
    (keys_dir / CERT_FILE).unlink()
    _expect(keys_dir, NOW, "missing")


@pytest.mark.parametrize("n", range(3))
def test_real_authority_keys_load(n: int) -> None:
    folder = REALNET2 / f"keys-auth{n}"
    if not folder.exists():
        pytest.skip("no realnet2 capture")
    cert = parse_authority_cert((folder / CERT_FILE).read_text())
    keys = load_authority_keys(folder, cert.published)
    assert keys.identity is None and keys.v3ident == cert.identity


@pytest.mark.skipif(GENCERT is None, reason="tor-gencert is not installed")
def test_tor_gencert_keys_load(tmp_path: Path) -> None:
    assert GENCERT is not None
    (tmp_path / "pw").write_text("a passphrase\n")
    with open(tmp_path / "pw", "rb") as pw:
        subprocess.run(
            [GENCERT, "--create-identity-key", "-m", "12", "-a", "127.0.0.1:27001",
             "--passphrase-fd", str(pw.fileno())],
            cwd=tmp_path, pass_fds=(pw.fileno(),), stdin=subprocess.DEVNULL,
            capture_output=True, timeout=120, check=True,
        )
    now = datetime.now(UTC)
    keys = load_authority_keys(tmp_path, now)
    check_authority_cert(keys.cert, now)
    assert keys.identity is None  # tor-gencert always encrypts the identity key
    assert keys.cert.dir_address == ("127.0.0.1", 27001)
    assert keys.cert.expires - keys.cert.published >= timedelta(days=365)


# ---- real tor running as an authority on our keys ----

def _torrc(data: Path, v3ident: str, fingerprint: str) -> str:
    lines = [
        "TestingTorNetwork 1", f"DataDirectory {data}", "Nickname zwiebelkeys",
        "SocksPort 0", "Address 127.0.0.1", f"ORPort 127.0.0.1:{OR_PORT}",
        f"DirPort 127.0.0.1:{DIR_PORT}", "AuthoritativeDirectory 1",
        "V3AuthoritativeDirectory 1", "ContactInfo keys@zwiebel.invalid",
        "ExitRelay 0", "ExitPolicy reject *:*", "AssumeReachable 1",
        "V3AuthVotingInterval 10", "V3AuthVoteDelay 2", "V3AuthDistDelay 2",
        "TestingV3AuthInitialVotingInterval 10", "TestingV3AuthInitialVoteDelay 2",
        "TestingV3AuthInitialDistDelay 2", "RunAsDaemon 0", f"Log notice file {data}/tor.log",
        f"DirAuthority zwiebelkeys orport={OR_PORT} v3ident={v3ident} "
        f"127.0.0.1:{DIR_PORT} {fingerprint}",
    ]
    return "\n".join(lines) + "\n"


def _fetch(path: str) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{DIR_PORT}{path}", timeout=5) as resp:
            body: bytes = resp.read()
            return body.decode()
    except OSError:
        return None


def _poll(paths: tuple[str, ...], deadline: float) -> str:
    while time.monotonic() < deadline:
        for path in paths:
            got = _fetch(path)
            if got:
                return got
        time.sleep(0.5)
    raise AssertionError(f"tor did not serve {paths} in time")


def _tor_fingerprint(data: Path, torrc: Path) -> str:
    assert TOR is not None
    subprocess.run([TOR, "-f", str(torrc), "--list-fingerprint", "--quiet"],
                   capture_output=True, timeout=120, check=True)
    return (data / "fingerprint").read_text().split()[1]


@pytest.mark.interop
@pytest.mark.skipif(TOR is None, reason="real tor is not installed")
def test_real_tor_runs_as_authority_on_our_keys(tmp_path: Path) -> None:
    assert TOR is not None
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    identity, signing, cert_text = generate_authority_keys(
        datetime.now(UTC), 12, ("127.0.0.1", DIR_PORT))
    write_authority_keys(data / "keys", identity, signing, cert_text)
    v3ident = identity.public().fingerprint().hex().upper()
    torrc = tmp_path / "torrc"
    torrc.write_text(_torrc(data, v3ident, "0" * 40))
    torrc.write_text(_torrc(data, v3ident, _tor_fingerprint(data, torrc)))
    proc = subprocess.Popen([TOR, "-f", str(torrc), "--quiet"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        assert _poll(("/tor/keys/authority",), deadline) == cert_text
        text = _poll(("/tor/status-vote/next/authority", "/tor/status-vote/current/authority"),
                     deadline)
        vote = parse_vote(text)
        verify_vote(vote, datetime.now(UTC))
        assert vote.cert.raw == cert_text
        assert vote.body.authority.identity.hex().upper() == v3ident
        assert vote.signatures[0].signing_key_digest == signing.public().fingerprint()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
