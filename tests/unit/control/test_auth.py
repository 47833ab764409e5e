"""SAFECOOKIE and PROTOCOLINFO, checked against bytes from real tor 0.4.9.11.

Vector source: /usr/bin/tor 0.4.9.11 run here with ``ControlPort 127.0.0.1:21905``,
``CookieAuthentication 1``, ``DisableNetwork 1``; we sent ``PROTOCOLINFO 1`` and
``AUTHCHALLENGE SAFECOOKIE 000102...1F`` and read DataDirectory/control_auth_cookie.
"""

from __future__ import annotations

from zwiebel.control.auth import (
    AuthConfig,
    cookie_matches,
    decode_secret,
    protocolinfo_reply,
    safecookie_challenge,
)
from zwiebel.control.reply import format_reply

COOKIE = bytes.fromhex("9CF1C0A45B8624013B75EE04F469E418E2888A24922517B6E7026EFBBA9D0443")
CLIENT_NONCE = bytes(range(32))
SERVER_NONCE = bytes.fromhex(
    "62591FD9C6F1030FD3BF042BD8338B8253BECC79D6E9D67FCEFF40CA2481EE86")
TOR_CHALLENGE_REPLY = (
    b"250 AUTHCHALLENGE SERVERHASH=D5C8B23D2B1DBC91C6DD608DA4184FBB24585D299A260BD148F2E9"
    b"3768D814F3 SERVERNONCE=62591FD9C6F1030FD3BF042BD8338B8253BECC79D6E9D67FCEFF40CA2481EE86"
    b"\r\n")
TOR_PROTOCOLINFO = (
    b'250-PROTOCOLINFO 1\r\n250-AUTH METHODS=COOKIE,SAFECOOKIE '
    b'COOKIEFILE="/tmp/zt/d/control_auth_cookie"\r\n250-VERSION Tor="0.4.9.11"\r\n250 OK\r\n')


def test_safecookie_server_hash_matches_real_tor() -> None:
    challenge = safecookie_challenge(COOKIE, CLIENT_NONCE, SERVER_NONCE)
    assert f"250 {challenge.reply_text()}\r\n".encode() == TOR_CHALLENGE_REPLY
    assert len(challenge.client_hash) == 32
    assert challenge.client_hash != challenge.server_hash


def test_protocolinfo_matches_real_tor() -> None:
    config = AuthConfig(COOKIE, "/tmp/zt/d/control_auth_cookie")
    assert format_reply(protocolinfo_reply(config, "0.4.9.11")) == TOR_PROTOCOLINFO


def test_methods() -> None:
    assert AuthConfig().methods == ("NULL",)
    assert AuthConfig(password_hashes=("16:00",)).methods == ("HASHEDPASSWORD",)
    both = AuthConfig(COOKIE, "/c", ("16:00",))
    assert both.methods == ("COOKIE", "SAFECOOKIE", "HASHEDPASSWORD")


def test_secrets() -> None:
    assert decode_secret("0a0B", False) == b"\n\x0b"
    assert decode_secret("abc", False) is None
    assert decode_secret("zz", False) is None
    assert decode_secret("pass word", True) == b"pass word"
    assert cookie_matches(AuthConfig(COOKIE), COOKIE)
    assert not cookie_matches(AuthConfig(COOKIE), bytes(32))
    assert not cookie_matches(AuthConfig(), COOKIE)
