"""Controller authentication: PROTOCOLINFO, AUTHCHALLENGE and SAFECOOKIE (control-spec 3.5,
3.21, 3.24), as ``src/feature/control/control_auth.c`` and ``control_cmd.c`` do it.

The methods offered are COOKIE and SAFECOOKIE when CookieAuthentication is on,
HASHEDPASSWORD when a HashedControlPassword is set, and NULL only when neither is.
SAFECOOKIE: the server hash and the expected client hash are HMAC-SHA256 under two
fixed keys of ``cookie || client nonce || server nonce``. Randomness (the server
nonce) is an argument.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from zwiebel.control.grammar import encode
from zwiebel.control.reply import ReplyLine, esc_for_log

#: AUTHENTICATION_COOKIE_LEN.
COOKIE_LEN = 32
#: SAFECOOKIE_SERVER_NONCE_LEN.
SERVER_NONCE_LEN = 32
SERVER_TO_CONTROLLER = b"Tor safe cookie authentication server-to-controller hash"
CONTROLLER_TO_SERVER = b"Tor safe cookie authentication controller-to-server hash"


@dataclass(frozen=True)
class AuthConfig:
    """What the configuration allows: the cookie (if enabled) and password hashes."""

    cookie: bytes | None = None
    cookie_path: str | None = None
    password_hashes: tuple[str, ...] = ()

    @property
    def methods(self) -> tuple[str, ...]:
        """PROTOCOLINFO's METHODS, in tor's order."""
        out: list[str] = []
        if self.cookie is not None:
            out += ["COOKIE", "SAFECOOKIE"]
        if self.password_hashes:
            out.append("HASHEDPASSWORD")
        return tuple(out) or ("NULL",)


@dataclass(frozen=True)
class Challenge:
    """An AUTHCHALLENGE answer and the client hash AUTHENTICATE must then carry."""

    server_hash: bytes
    server_nonce: bytes
    client_hash: bytes

    def reply_text(self) -> str:
        """``AUTHCHALLENGE SERVERHASH=... SERVERNONCE=...``."""
        return (f"AUTHCHALLENGE SERVERHASH={self.server_hash.hex().upper()} "
                f"SERVERNONCE={self.server_nonce.hex().upper()}")


def safecookie_challenge(cookie: bytes, client_nonce: bytes, server_nonce: bytes) -> Challenge:
    """Both SAFECOOKIE HMACs for one exchange."""
    message = cookie + client_nonce + server_nonce
    server = hmac.new(SERVER_TO_CONTROLLER, message, hashlib.sha256).digest()
    client = hmac.new(CONTROLLER_TO_SERVER, message, hashlib.sha256).digest()
    return Challenge(server, server_nonce, client)


def protocolinfo_reply(config: AuthConfig, tor_version: str) -> list[ReplyLine]:
    """The PROTOCOLINFO 1 reply lines."""
    auth = f"AUTH METHODS={','.join(config.methods)}"
    if config.cookie is not None and config.cookie_path is not None:
        auth += f" COOKIEFILE={esc_for_log(config.cookie_path)}"
    return [
        ReplyLine(250, "PROTOCOLINFO 1"),
        ReplyLine(250, auth),
        ReplyLine(250, f"VERSION Tor={esc_for_log(tor_version)}"),
        ReplyLine(250, "OK"),
    ]


def decode_secret(value: str, quoted: bool) -> bytes | None:
    """AUTHENTICATE's argument as bytes: the quoted text, or hex (None if bad hex)."""
    if quoted:
        return encode(value)
    if len(value) % 2:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def cookie_matches(config: AuthConfig, secret: bytes) -> bool:
    """True if ``secret`` is the cookie (constant-time)."""
    return config.cookie is not None and hmac.compare_digest(config.cookie, secret)
