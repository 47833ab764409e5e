"""Server-to-client SOCKS replies, byte for byte as tor 0.4.9.11 writes them.

Sources: `connection_ap_handshake_socks_reply` and
`connection_ap_handshake_socks_resolved` in src/core/or/connection_edge.c,
`socks_request_set_socks5_error` and the method/auth replies in
src/core/proto/proto_socks.c, socks-extensions.txt section 2 (RESOLVE replies).

Notes on what tor actually sends:
- CONNECT replies carry an all-zero bound address and port. SOCKS5 uses ATYP 1 when
  the *client's* connection is IPv4 and ATYP 4 otherwise; callers may pass a bound
  address to send instead, which tor never does.
- A SOCKS5 RESOLVE failure is `05 04` followed by eight zero bytes (ATYP 0).
- SOCKS4 has one failure code (91) for every error.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from zwiebel.socks.constants import (
    SOCKS4_GRANTED,
    SOCKS4_REJECTED,
    SOCKS4_REPLY_VERSION,
    EndReason,
    Socks5Reply,
    socks4_reply_for_end_reason,
    socks5_reply_for_end_reason,
)

ResolvedAnswer = IPv4Address | IPv6Address | str
"""An answer to RESOLVE (an address) or RESOLVE_PTR (a hostname)."""

HTTP_NOT_A_PROXY_PAGE = (
    b"HTTP/1.0 501 Tor is not an HTTP Proxy\r\n"
    b"Content-Type: text/html; charset=iso-8859-1\r\n\r\n"
    b"<html>\n"
    b"<head>\n"
    b"<title>This is a SOCKS Proxy, Not An HTTP Proxy</title>\n"
    b"</head>\n"
    b"<body>\n"
    b"<h1>This is a SOCKS proxy, not an HTTP proxy.</h1>\n"
    b"<p>\n"
    b"It appears you have configured your web browser to use this Tor port as\n"
    b"an HTTP proxy.\n"
    b"</p>\n"
    b"<p>\n"
    b"This is not correct: This port is configured as a SOCKS proxy, not\n"
    b"an HTTP proxy. If you need an HTTP proxy tunnel, use the HTTPTunnelPort\n"
    b"configuration option in place of, or in addition to, SOCKSPort.\n"
    b"Please configure your client accordingly.\n"
    b"</p>\n"
    b"<p>\n"
    b'See <a href="https://www.torproject.org/documentation.html">'
    b"https://www.torproject.org/documentation.html</a> for more "
    b"information.\n"
    b"</p>\n"
    b"</body>\n"
    b"</html>\n"
    b"\x00"
)
"""What tor answers when a SOCKS port receives G, H, P or C as the first byte.
tor sends the C string's terminating NUL too (replylen = strlen + 1)."""


def method_selection(method: int) -> bytes:
    """SOCKS5 method selection reply: VER=5, METHOD (0xFF: none acceptable)."""
    return bytes((5, method))


def userpass_success() -> bytes:
    """RFC 1929 reply: VER=1, STATUS=0. tor never refuses credentials."""
    return b"\x01\x00"


def _bound_bytes(bound: IPv4Address | IPv6Address | None, ipv6: bool) -> tuple[int, bytes]:
    if bound is None:
        return (4, bytes(16)) if ipv6 else (1, bytes(4))
    return (1 if bound.version == 4 else 4), bound.packed


def socks5_reply(
    code: int,
    *,
    ipv6: bool = False,
    bound: IPv4Address | IPv6Address | None = None,
    bound_port: int = 0,
) -> bytes:
    """VER=5, REP, RSV=0, ATYP, BND.ADDR, BND.PORT (RFC 1928 section 6)."""
    atyp, addr = _bound_bytes(bound, ipv6)
    return bytes((5, code, 0, atyp)) + addr + bound_port.to_bytes(2, "big")


def socks4_reply(code: int, *, ip: IPv4Address | None = None, port: int = 0) -> bytes:
    """VN=0, CD, DSTPORT, DSTIP: tor leaves port and address zero."""
    addr = ip.packed if ip is not None else bytes(4)
    return bytes((SOCKS4_REPLY_VERSION, code)) + port.to_bytes(2, "big") + addr


def connect_reply(
    version: int,
    end_reason: int = 0,
    *,
    ipv6_client: bool = False,
    bound: IPv4Address | IPv6Address | None = None,
    bound_port: int = 0,
) -> bytes:
    """Reply to CONNECT: success for end_reason 0, else the reason mapped as tor maps it."""
    if version == 4:
        v4 = bound if isinstance(bound, IPv4Address) else None
        return socks4_reply(socks4_reply_for_end_reason(end_reason), ip=v4, port=bound_port)
    code = socks5_reply_for_end_reason(end_reason)
    return socks5_reply(code, ipv6=ipv6_client, bound=bound, bound_port=bound_port)


def resolved_reply(version: int, answer: ResolvedAnswer | None) -> bytes:
    """Reply to RESOLVE/RESOLVE_PTR; `None` (or an unusable answer) is the error reply."""
    if version == 4:
        if isinstance(answer, IPv4Address):
            return socks4_reply(SOCKS4_GRANTED, ip=answer)
        return socks4_reply(SOCKS4_REJECTED)
    if isinstance(answer, IPv4Address | IPv6Address):
        return socks5_reply(Socks5Reply.SUCCEEDED, bound=answer)
    if isinstance(answer, str):
        name = answer.encode("ascii", "replace")
        if len(name) < 256:
            return bytes((5, Socks5Reply.SUCCEEDED, 0, 3, len(name))) + name + b"\x00\x00"
    return bytes((5, Socks5Reply.HOST_UNREACHABLE)) + bytes(8)


def protocol_error_reply(version: int, *, ipv6_client: bool = False) -> bytes:
    """What tor sends after a SOCKS protocol error it had no specific reply for.

    Version 0 means no SOCKS version was negotiated yet: tor then sends nothing.
    """
    if version == 0:
        return b""
    return connect_reply(version, EndReason.SOCKSPROTOCOL, ipv6_client=ipv6_client)


__all__ = [
    "HTTP_NOT_A_PROXY_PAGE",
    "ResolvedAnswer",
    "connect_reply",
    "method_selection",
    "protocol_error_reply",
    "resolved_reply",
    "socks4_reply",
    "socks5_reply",
    "userpass_success",
]
