"""zwiebel.socks: the SocksPort protocol (SOCKS4, SOCKS4a, SOCKS5) without I/O.

What it does: `SocksServerConnection` takes the bytes a SOCKS client sends and
returns events (`NeedMoreData`, `Request`, `SocksError`, `StreamData`) plus the bytes
to send back (method selection, RFC 1929 reply, errors, and the final reply the
caller asks for with `send_connect_reply` / `send_resolved`). `replies` builds every
reply tor sends, `constants` maps tor's stream END reasons to SOCKS codes.

Specs: RFC 1928, RFC 1929, socks-extensions.txt (RESOLVE 0xF0, RESOLVE_PTR 0xF1,
extended errors), tor-spec.txt section 6.3; behaviour checked against tor 0.4.9.11
(src/core/proto/proto_socks.c, src/core/or/connection_edge.c, src/core/or/reasons.c).

Design notes:
- State machine as a table: (state, first byte of the message) -> handler.
- Malformed input raises `SocksParseError` (a `zwiebel.encoding.ParseError`) inside
  the machine only; `receive_data` turns it into a `SocksError` event with tor's reply
  and closes. Nothing is raised to the caller for bad input.
- SafeSocks/TestSocks texts are returned as data (`Request.warnings`, `notices`,
  `client_status`) with `Request.unsafe`; logging and rate limiting belong to callers.
- Addresses shown in log texts are "[scrubbed]" unless `safe_logging` is off.

Deliberately not here: the SOCKS client side (tor's Socks4Proxy/Socks5Proxy options),
HTTP CONNECT (HTTPTunnelPort), address mapping, SOCKS5 BIND and UDP ASSOCIATE
(answered with "command not supported" as tor does), Arti RPC extended parameters
beyond rejecting unknown "<torS0X>" usernames as tor does.
"""

from zwiebel.socks.constants import (
    AuthMethod,
    Command,
    EndReason,
    Socks5Reply,
    SocksParseError,
    socks4_reply_for_end_reason,
    socks5_reply_for_end_reason,
)
from zwiebel.socks.events import (
    Event,
    NeedMoreData,
    NoAuth,
    Request,
    Socks4UserId,
    SocksError,
    StreamData,
    UsernamePassword,
)
from zwiebel.socks.server import SocksOptions, SocksServerConnection
from zwiebel.socks.states import State

__all__ = [
    "AuthMethod",
    "Command",
    "EndReason",
    "Event",
    "NeedMoreData",
    "NoAuth",
    "Request",
    "Socks4UserId",
    "Socks5Reply",
    "SocksError",
    "SocksOptions",
    "SocksParseError",
    "SocksServerConnection",
    "State",
    "StreamData",
    "UsernamePassword",
    "socks4_reply_for_end_reason",
    "socks5_reply_for_end_reason",
]
