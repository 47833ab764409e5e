"""SOCKS server states and the (state, first byte) -> handler table.

tor 0.4.9.11 picks the parser for the next message from its first byte and from
what was negotiated so far (`handle_socks_message` in src/core/proto/proto_socks.c);
this table spells that choice out so every pair is explicit and testable. Values are
names of `SocksServerConnection` methods.
"""

from __future__ import annotations

from enum import Enum


class State(Enum):
    """Where a SOCKS server connection is."""

    START = "start"
    """Nothing received yet."""
    SOCKS5_AUTH = "socks5-auth"
    """Method 2 chosen; waiting for the RFC 1929 message."""
    SOCKS5_REQUEST = "socks5-request"
    """Method 0 chosen; waiting for the request."""
    SOCKS5_REQUEST_AUTHED = "socks5-request-authed"
    """Credentials received; waiting for the request."""
    AWAITING_REPLY = "awaiting-reply"
    """A Request event was delivered; the caller must answer it."""
    OPEN = "open"
    """CONNECT succeeded; further bytes are stream data."""
    CLOSED = "closed"
    """Error or final reply sent; further input is ignored."""


class Head(Enum):
    """What the first byte of a message says it is."""

    SOCKS4 = "socks4"
    SOCKS5 = "socks5"
    AUTH = "auth"
    HTTP = "http"
    OTHER = "other"


def classify(first: int) -> Head:
    """Classify a message by its first byte, as tor's parse_socks does."""
    return {4: Head.SOCKS4, 5: Head.SOCKS5, 1: Head.AUTH}.get(
        first, Head.HTTP if first in b"GHPC" else Head.OTHER
    )


HANDSHAKE_STATES = (
    State.START,
    State.SOCKS5_AUTH,
    State.SOCKS5_REQUEST,
    State.SOCKS5_REQUEST_AUTHED,
)
DISPATCH: dict[tuple[State, Head], str] = {}
for _state in HANDSHAKE_STATES:
    DISPATCH[(_state, Head.SOCKS4)] = "_on_socks4"
    DISPATCH[(_state, Head.HTTP)] = "_on_http"
    DISPATCH[(_state, Head.OTHER)] = "_on_unknown"
DISPATCH[(State.START, Head.SOCKS5)] = "_on_methods"
DISPATCH[(State.START, Head.AUTH)] = "_on_userpass"
DISPATCH[(State.SOCKS5_AUTH, Head.SOCKS5)] = "_on_userpass"
DISPATCH[(State.SOCKS5_AUTH, Head.AUTH)] = "_on_userpass"
DISPATCH[(State.SOCKS5_REQUEST, Head.SOCKS5)] = "_on_socks5_request"
DISPATCH[(State.SOCKS5_REQUEST, Head.AUTH)] = "_on_userpass"
DISPATCH[(State.SOCKS5_REQUEST_AUTHED, Head.SOCKS5)] = "_on_socks5_request"
DISPATCH[(State.SOCKS5_REQUEST_AUTHED, Head.AUTH)] = "_on_socks5_request"
