"""PROTOCOLINFO, AUTHCHALLENGE and AUTHENTICATE (control-spec 3.5, 3.21, 3.24) as
``src/feature/control/control_auth.c`` handles them.

A failed AUTHENTICATE is answered ``515 Authentication failed: ...`` and the
connection closed; so are bad AUTHCHALLENGE requests. With neither cookie nor
password configured any AUTHENTICATE succeeds (NULL method). After AUTHCHALLENGE only
the SAFECOOKIE client hash is accepted.
"""

from __future__ import annotations

import hmac
import logging
import os
from typing import TYPE_CHECKING

from zwiebel import TOR_COMPAT_VERSION
from zwiebel.control.args import Arguments, Syntax
from zwiebel.control.auth import (
    COOKIE_LEN,
    SERVER_NONCE_LEN,
    cookie_matches,
    decode_secret,
    protocolinfo_reply,
    safecookie_challenge,
)
from zwiebel.control.grammar import Command
from zwiebel.control.reply import ReplyLine, esc_for_log, ok, reply

if TYPE_CHECKING:
    from zwiebel.features.control.connection import ControlConnection

log = logging.getLogger("zwiebel")
AUTHENTICATE_SYNTAX = Syntax(max_args=0, keywords=True, omit_keys=True, c_quoted=False)
AUTHCHALLENGE_SYNTAX = Syntax(min_args=1, max_args=1, keywords=True, omit_keys=True,
                              c_quoted=False)
_PLAIN_HINT = (" Maybe you tried a plain text password? If so, the standard requires that "
               "you put it in double quotes.")


def protocolinfo(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    """PROTOCOLINFO [version...]."""
    conn.sent_protocolinfo = True
    bad = next((word for word in args.words if not word.isdigit()), None)
    if bad is not None:
        if not conn.authenticated:
            conn.close_after_reply()
        return reply(513, f"No such version {esc_for_log(bad)}")
    return protocolinfo_reply(conn.service.auth_config(), TOR_COMPAT_VERSION)


def authchallenge(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    """AUTHCHALLENGE SAFECOOKIE client-nonce."""
    config = conn.service.auth_config()
    error = _challenge_error(args, config.cookie is not None)
    if error is not None:
        conn.close_after_reply()
        return [error]
    nonce = decode_secret(args.pairs[0][1] or "", '"' in cmd.args)
    if nonce is None:
        conn.close_after_reply()
        return reply(513, "Invalid base16 client nonce")
    assert config.cookie is not None
    challenge = safecookie_challenge(config.cookie, nonce, os.urandom(SERVER_NONCE_LEN))
    conn.safecookie_client_hash = challenge.client_hash
    return reply(250, challenge.reply_text())


def _challenge_error(args: Arguments, cookie_enabled: bool) -> ReplyLine | None:
    if args.words[0].upper() != "SAFECOOKIE":
        return ReplyLine(513, "AUTHCHALLENGE only supports SAFECOOKIE authentication")
    if not cookie_enabled:
        return ReplyLine(515, "Cookie authentication is disabled")
    if len(args.pairs) != 1:
        return ReplyLine(512, "Wrong number of arguments for AUTHCHALLENGE")
    if args.pairs[0][0]:
        return ReplyLine(512, "AUTHCHALLENGE does not accept keyword arguments.")
    return None


def authenticate(conn: ControlConnection, cmd: Command, args: Arguments) -> list[ReplyLine]:
    """AUTHENTICATE [secret]: NULL, HASHEDPASSWORD, COOKIE or SAFECOOKIE."""
    if len(args.pairs) > 1 or (args.pairs and args.pairs[0][0]):
        conn.close_after_reply()
        text = ("Too many arguments to AUTHENTICATE." if len(args.pairs) > 1
                else "AUTHENTICATE does not accept keyword arguments.")
        return reply(512, text)
    quoted = args.quoted
    secret = decode_secret(args.pairs[0][1] or "", quoted) if args.pairs else b""
    if secret is None:
        conn.close_after_reply()
        return reply(551, "Invalid hexadecimal encoding." + _PLAIN_HINT)
    error = _check_secret(conn, secret, quoted)
    if error is not None:
        log.warning("Bad password or authentication cookie on controller.")
        conn.close_after_reply()
        return reply(515, f"Authentication failed: {error}")
    conn.authenticated = True
    conn.safecookie_client_hash = None
    log.info("Authenticated control connection.")
    return ok()


def _check_secret(conn: ControlConnection, secret: bytes, quoted: bool) -> str | None:
    """None if ``secret`` authenticates, else tor's error text."""
    if conn.safecookie_client_hash is not None:
        if len(secret) != 32:
            return "Wrong length for safe cookie response."
        if not cookie_matches_hash(conn.safecookie_client_hash, secret):
            return "Safe cookie response did not match expected value."
        return None
    config = conn.service.auth_config()
    if config.cookie is None and not config.password_hashes:
        return None
    if config.cookie is not None and len(secret) == COOKIE_LEN and cookie_matches(config,
                                                                                   secret):
        return None
    if any(conn.service.info.verify_password(secret, h) for h in config.password_hashes):
        return None
    if config.cookie is not None and config.password_hashes:
        return "Password did not match HashedControlPassword *or* authentication cookie."
    if config.cookie is not None:
        if len(secret) != COOKIE_LEN:
            return "Wrong length on authentication cookie."
        return "Authentication cookie did not match expected value."
    text = "Password did not match HashedControlPassword value from configuration"
    return text if quoted else f"{text}.{_PLAIN_HINT}"


def cookie_matches_hash(expected: bytes, given: bytes) -> bool:
    """Constant-time comparison of the SAFECOOKIE client hash."""
    return hmac.compare_digest(expected, given)
