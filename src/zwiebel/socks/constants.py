"""SOCKS numbers and tor's stream-END-reason to SOCKS reply mapping.

Sources: RFC 1928 (SOCKS5), RFC 1929 (username/password), socks-extensions.txt
(RESOLVE 0xF0, RESOLVE_PTR 0xF1, extended error codes 0xF0-0xF7), tor-spec.txt
section 6.3 (END reasons) and tor 0.4.9.11 `stream_end_reason_to_socks5_response`
in src/core/or/reasons.c.
"""

from __future__ import annotations

from enum import IntEnum

from zwiebel.encoding import ParseError

SOCKS4_REPLY_VERSION = 0x00
"""SOCKS4 replies start with a zero byte (tor's reply builders)."""

SOCKS4_GRANTED = 90
"""SOCKS4 "request granted" (0x5A)."""

SOCKS4_REJECTED = 91
"""SOCKS4 "request rejected or failed" (0x5B); tor uses it for every failure."""

MAX_SOCKS_MESSAGE_LEN = 512
"""tor never looks at more than this many buffered bytes for one SOCKS4 message."""

MAX_SOCKS_ADDR_LEN = 256
"""Size of tor's address buffer: a SOCKS4a hostname must be shorter than this."""


class SocksParseError(ParseError):
    """A SOCKS message that tor would refuse; `str()` is tor's log text for it.

    `reply` is the specific answer tor sends for this error; `None` means the
    generic one for the negotiated version (see `replies.protocol_error_reply`).
    """

    def __init__(self, message: str, reply: bytes | None = None) -> None:
        super().__init__(message)
        self.reply = reply


class Command(IntEnum):
    """SOCKS command byte (RFC 1928 section 4, socks-extensions.txt section 2)."""

    CONNECT = 0x01
    """Open a stream to the target."""
    BIND = 0x02
    """RFC 1928 BIND: parsed, never supported by tor."""
    UDP_ASSOCIATE = 0x03
    """RFC 1928 UDP ASSOCIATE: parsed, never supported by tor."""
    RESOLVE = 0xF0
    """Tor extension: resolve a hostname through the Tor network."""
    RESOLVE_PTR = 0xF1
    """Tor extension: reverse-resolve an IP address through the Tor network."""


class AuthMethod(IntEnum):
    """SOCKS5 authentication method numbers (RFC 1928 section 3)."""

    NO_AUTH = 0x00
    """No authentication."""
    USERNAME_PASSWORD = 0x02
    """RFC 1929 username/password; tor uses the pair only for stream isolation."""
    NO_ACCEPTABLE = 0xFF
    """Server answer when no offered method is acceptable."""


class Socks5Reply(IntEnum):
    """SOCKS5 REP field (RFC 1928 section 6, socks-extensions.txt section 3)."""

    SUCCEEDED = 0x00
    """Request granted."""
    GENERAL_ERROR = 0x01
    """General SOCKS server failure."""
    NOT_ALLOWED = 0x02
    """Connection not allowed by ruleset."""
    NET_UNREACHABLE = 0x03
    """Network unreachable."""
    HOST_UNREACHABLE = 0x04
    """Host unreachable."""
    CONNECTION_REFUSED = 0x05
    """Connection refused."""
    TTL_EXPIRED = 0x06
    """TTL expired."""
    COMMAND_NOT_SUPPORTED = 0x07
    """Command not supported."""
    ADDRESS_TYPE_NOT_SUPPORTED = 0x08
    """Address type not supported."""
    HS_NOT_FOUND = 0xF0
    """Extended error: onion service descriptor not found."""
    HS_IS_INVALID = 0xF1
    """Extended error: onion service descriptor is invalid."""
    HS_INTRO_FAILED = 0xF2
    """Extended error: onion service introduction failed."""
    HS_REND_FAILED = 0xF3
    """Extended error: onion service rendezvous failed."""
    HS_MISSING_CLIENT_AUTH = 0xF4
    """Extended error: onion service client authorization missing."""
    HS_BAD_CLIENT_AUTH = 0xF5
    """Extended error: onion service client authorization wrong."""
    HS_BAD_ADDRESS = 0xF6
    """Extended error: malformed onion address."""
    HS_INTRO_TIMEDOUT = 0xF7
    """Extended error: onion service introduction timed out."""


class EndReason(IntEnum):
    """RELAY_END reasons (tor-spec section 6.3) and tor's internal ones (or.h)."""

    MISC = 1
    RESOLVEFAILED = 2
    CONNECTREFUSED = 3
    EXITPOLICY = 4
    DESTROY = 5
    DONE = 6
    TIMEOUT = 7
    NOROUTE = 8
    HIBERNATING = 9
    INTERNAL = 10
    RESOURCELIMIT = 11
    CONNRESET = 12
    TORPROTOCOL = 13
    NOTDIRECTORY = 14
    CANT_ATTACH = 257
    NET_UNREACHABLE = 258
    SOCKSPROTOCOL = 259
    CANT_FETCH_ORIG_DEST = 260
    INVALID_NATD_DEST = 261
    PRIVATE_ADDR = 262
    HTTPPROTOCOL = 263
    ENTRYPOLICY = 264


END_REASON_MASK = 511
"""tor masks off its flag bits (remote, already-sent, ...) before mapping."""

_SOCKS5_FOR_END_REASON: dict[int, Socks5Reply] = {
    0: Socks5Reply.SUCCEEDED,
    EndReason.MISC: Socks5Reply.GENERAL_ERROR,
    EndReason.RESOLVEFAILED: Socks5Reply.HOST_UNREACHABLE,
    EndReason.CONNECTREFUSED: Socks5Reply.CONNECTION_REFUSED,
    EndReason.ENTRYPOLICY: Socks5Reply.NOT_ALLOWED,
    EndReason.EXITPOLICY: Socks5Reply.NOT_ALLOWED,
    EndReason.DESTROY: Socks5Reply.GENERAL_ERROR,
    # "DONE" before CONNECTED means the far end closed before the stream opened.
    EndReason.DONE: Socks5Reply.CONNECTION_REFUSED,
    EndReason.TIMEOUT: Socks5Reply.TTL_EXPIRED,
    EndReason.NOROUTE: Socks5Reply.HOST_UNREACHABLE,
    EndReason.RESOURCELIMIT: Socks5Reply.GENERAL_ERROR,
    EndReason.HIBERNATING: Socks5Reply.GENERAL_ERROR,
    EndReason.INTERNAL: Socks5Reply.GENERAL_ERROR,
    EndReason.CONNRESET: Socks5Reply.CONNECTION_REFUSED,
    EndReason.TORPROTOCOL: Socks5Reply.GENERAL_ERROR,
    EndReason.CANT_ATTACH: Socks5Reply.GENERAL_ERROR,
    EndReason.NET_UNREACHABLE: Socks5Reply.NET_UNREACHABLE,
    EndReason.SOCKSPROTOCOL: Socks5Reply.GENERAL_ERROR,
    EndReason.HTTPPROTOCOL: Socks5Reply.GENERAL_ERROR,
    EndReason.PRIVATE_ADDR: Socks5Reply.GENERAL_ERROR,
}


def socks5_reply_for_end_reason(reason: int) -> Socks5Reply:
    """Map an END reason to a SOCKS5 reply code as tor's reasons.c does.

    Reasons tor does not list (NOTDIRECTORY among them) fall to GENERAL_ERROR.
    """
    return _SOCKS5_FOR_END_REASON.get(reason & END_REASON_MASK, Socks5Reply.GENERAL_ERROR)


def socks4_reply_for_end_reason(reason: int) -> int:
    """SOCKS4 has one failure code: 90 only when tor's SOCKS5 mapping is success."""
    if socks5_reply_for_end_reason(reason) is Socks5Reply.SUCCEEDED:
        return SOCKS4_GRANTED
    return SOCKS4_REJECTED
