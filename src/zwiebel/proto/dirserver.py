"""The directory server's HTTP side, sans I/O (dir-spec 6; tor's dircache.c, directory.c).

A directory client sends one HTTP/1.0 request (``GET /tor/...`` or ``POST`` with a
Content-Length) and the server answers and closes. `DirRequestParser` is fed bytes and
yields one `DirRequest`; h11 does the framing. Where tor's own parser differs from plain
HTTP, tor's rules are applied on top (``directory_handle_command``):

* at most ``MAX_HEADERS_SIZE`` (50000) bytes of headers and ``MAX_DIR_UL_SIZE``
  (16 MiB - 1) of body; beyond either tor closes without answering;
* a method other than GET or POST (tor compares the first letters without case) is
  closed without an answer; a GET or POST whose request line does not parse gets
  "400 Bad request";
* the URL loses an ``http[s]://host`` prefix and gains ``/tor`` when it does not start
  with ``/tor/`` (``parse_http_url``); a GET URL ending in ".z" asks for deflate.

`encode_reply` writes the answer as ``write_http_response_header_impl`` and
``write_short_http_response`` do, byte for byte: always ``HTTP/1.0``; full answers are
``200 OK`` with Date, Content-Type, X-Your-Address-Is (only for non-local peers),
Content-Encoding, Content-Length (when known), Expires or ``Pragma: no-cache``.
h11 cannot write an HTTP/1.0 status line, so responses are formatted here.

`UrlRouter` is tor's ``url_table``: exact paths and prefixes, most specific first.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import h11

from zwiebel.encoding import ParseError
from zwiebel.proto.dircompress import (
    Compression,
    choose_compression,
    compress,
    parse_accept_encoding,
    supported_methods,
)

#: or.h MAX_HEADERS_SIZE: longest request head tor reads.
MAX_HEADERS_SIZE = 50000
#: dircache.c MAX_DIR_UL_SIZE: largest uploaded object ((1<<24)-1).
MAX_DIR_UL_SIZE = (1 << 24) - 1
_METHODS = ("GET", "POST")


class RequestRejected(ParseError):
    """The request cannot be served. `reply` is what to answer (None: close silently)."""

    def __init__(self, message: str, reply: DirReply | None) -> None:
        super().__init__(message)
        self.reply = reply


@dataclass(frozen=True)
class PeerInfo:
    """Who sent a request: address and port, and whether it came over BEGIN_DIR."""

    address: str
    port: int
    begin_dir: bool = False


@dataclass(frozen=True)
class DirRequest:
    """One parsed directory request.

    `path` is tor's rewritten URL (``/tor/...``), without the ".z" of a GET; `url` is
    the target as sent. `compression` is what the client accepts (identity always,
    deflate when the URL ended in ".z", plus its Accept-Encoding), intersected with
    what we can produce. Header names are lower-case.
    """

    method: str
    path: str
    url: str
    compression: frozenset[Compression]
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    http_version: str = "1.0"

    @property
    def zlib_in_url(self) -> bool:
        """True when the URL ended in ".z" (tor's zlib_compressed_in_url)."""
        return self.method == "GET" and self.url.endswith(".z") and len(self.url) > 2

    def header(self, name: str) -> str | None:
        """The first header called `name` (any case), as tor's http_get_header."""
        low = name.lower()
        return next((v for k, v in self.headers if k == low), None)

    def best_compression(self, allowed: frozenset[Compression] | None = None) -> Compression:
        """find_best_compression_method over the accepted methods (optionally a subset)."""
        accepted = self.compression if allowed is None else self.compression & allowed
        return choose_compression(accepted)

    @property
    def if_modified_since(self) -> dt.datetime | None:
        """The If-Modified-Since time (None if absent or malformed, as tor)."""
        text = self.header("If-Modified-Since")
        if text is None:
            return None
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class DirReply:
    """An answer. `body` None is tor's short answer (status line, Date, blank line).

    For a body: `compression` None picks the best method the request allows;
    `cache_lifetime` > 0 adds Expires, 0 adds ``Pragma: no-cache``, None neither;
    `content_length` None sends Content-Length only when the body goes uncompressed
    (tor's ``compress_method != NO_METHOD ? -1 : len``); `content_type` None (with
    `send_encoding` False) gives tor's header-only 200 such as X-Descriptor-Not-New.
    """

    status: int
    reason: str
    body: bytes | None = None
    content_type: str | None = "text/plain"
    compression: Compression | None = None
    cache_lifetime: int | None = None
    content_length: bool | None = None
    send_encoding: bool = True
    extra_headers: tuple[tuple[str, str], ...] = field(default=())

    @classmethod
    def short(cls, status: int, reason: str) -> DirReply:
        """write_short_http_response: e.g. ``DirReply.short(404, "Not found")``."""
        return cls(status, reason)

    @classmethod
    def document(cls, body: bytes, *, cache_lifetime: int | None = None,
                 compression: Compression | None = None,
                 content_length: bool | None = None,
                 content_type: str = "text/plain") -> DirReply:
        """write_http_response_header + body: a 200 OK carrying `body` (uncompressed)."""
        return cls(200, "OK", body, content_type, compression, cache_lifetime,
                   content_length)

    @classmethod
    def headers_only(cls, extra_headers: tuple[tuple[str, str], ...]) -> DirReply:
        """A 200 OK with no type, encoding or body (``X-Descriptor-Not-New: Yes``)."""
        return cls(200, "OK", b"", None, Compression.IDENTITY, None, False, False,
                   extra_headers)


def http_date(when: dt.datetime) -> str:
    """format_rfc1123_time: ``Sun, 22 Nov 2026 08:10:19 GMT``."""
    return email.utils.format_datetime(when.astimezone(dt.UTC), usegmt=True)


def encode_reply(reply: DirReply, request: DirRequest | None, now: dt.datetime, *,
                 your_address: str | None = None, include_date: bool = True) -> bytes:
    """The response bytes, as tor writes them.

    `your_address` is the peer address for ``X-Your-Address-Is`` (None for a local
    peer, see `is_local_address`); `include_date` is tor's server_mode() for short
    answers (full answers always carry Date).
    """
    if reply.body is None:
        date = f"Date: {http_date(now)}\r\n" if include_date else ""
        return f"HTTP/1.0 {reply.status} {reply.reason}\r\n{date}\r\n".encode("latin-1")
    method = reply.compression
    if method is None:
        method = request.best_compression() if request is not None else Compression.IDENTITY
    payload = compress(reply.body, method)
    head = _full_head(reply, method, len(payload), now, your_address)
    return head.encode("latin-1") + payload


def _full_head(reply: DirReply, method: Compression, length: int, now: dt.datetime,
               your_address: str | None) -> str:
    lines = [f"HTTP/1.0 {reply.status} {reply.reason}", f"Date: {http_date(now)}"]
    if reply.content_type is not None:
        lines.append(f"Content-Type: {reply.content_type}")
    if your_address is not None:
        lines.append(f"X-Your-Address-Is: {your_address}")
    if reply.send_encoding:
        lines.append(f"Content-Encoding: {method.value}")
    send_length = reply.content_length
    if send_length is None:
        send_length = method is Compression.IDENTITY
    if send_length:
        lines.append(f"Content-Length: {length}")
    if reply.cache_lifetime is not None and reply.cache_lifetime > 0:
        lines.append(f"Expires: {http_date(now + dt.timedelta(seconds=reply.cache_lifetime))}")
    elif reply.cache_lifetime == 0:
        lines.append("Pragma: no-cache")
    lines += [f"{name}: {value}" for name, value in reply.extra_headers]
    return "\r\n".join(lines) + "\r\n\r\n"


def is_local_address(address: str, own_addresses: Iterable[str] = (),
                     enforce_distinct_subnets: bool = True) -> bool:
    """is_local_to_resolve_addr: internal addresses, or our own /24 (IPv4) or /48 (IPv6).

    tor leaves ``X-Your-Address-Is`` out for such peers.
    """
    try:
        peer = ipaddress.ip_address(address)
    except ValueError:
        return False
    if is_internal_address(peer):
        return True
    if not enforce_distinct_subnets:
        return False
    bits = 24 if peer.version == 4 else 48
    for own in own_addresses:
        try:
            net = ipaddress.ip_network(f"{own}/{bits}", strict=False)
        except ValueError:
            continue
        if net.version == peer.version and peer in net:
            return True
    return False


_INTERNAL = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "0.0.0.0/8", "127.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16",
    "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10", "fec0::/10", "::/127"))


def is_internal_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """tor_addr_is_internal(addr, 0): private, loopback, link-local, CGNAT, net 0."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in net for net in _INTERNAL if net.version == address.version)


def rewrite_url(target: str) -> str:
    """parse_http_url: drop ``http[s]://host``, make sure the URL starts with /tor/."""
    for scheme in ("http://", "https://"):
        if target.startswith(scheme):
            slash = target.find("/", len(scheme))
            if slash >= 0:
                target = target[slash:]
            break
    if target.startswith("/tor/"):
        return target
    return "/tor" + ("" if target.startswith("/") else "/") + target


class DirRequestParser:
    """Reads one request from a byte stream (tor: connection_fetch_from_buf_http)."""

    def __init__(self, max_header: int = MAX_HEADERS_SIZE,
                 max_body: int = MAX_DIR_UL_SIZE) -> None:
        self._conn = h11.Connection(h11.SERVER, max_incomplete_event_size=max_header + 4)
        self._max_header = max_header
        self._max_body = max_body
        self._head: h11.Request | None = None
        self._seen = bytearray()
        self._body = bytearray()
        self.request: DirRequest | None = None

    def feed(self, data: bytes) -> DirRequest | None:
        """Add bytes; the request once complete. RequestRejected when it cannot be served.

        ``b""`` means the peer closed its side before the request was complete.
        """
        if self.request is not None:
            return self.request
        if not data:
            raise RequestRejected("connection closed before the request was complete", None)
        if self._head is None:
            self._seen += data
            self._check_head_size()
        try:
            self._conn.receive_data(data)
            self._drain()
        except h11.RemoteProtocolError as exc:
            raise self._bad_syntax(str(exc)) from exc
        return self.request

    def _check_head_size(self) -> None:
        end = self._seen.find(b"\r\n\r\n")
        if end > self._max_header or (end < 0 and len(self._seen) > self._max_header):
            raise RequestRejected("request headers too long", None)

    def _drain(self) -> None:
        while self.request is None:
            event = self._conn.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self._on_head(event)
            elif isinstance(event, h11.Data):
                self._body += event.data
                if len(self._body) >= self._max_body:
                    raise RequestRejected("request body too large", None)
            elif isinstance(event, h11.EndOfMessage):
                self.request = self._finish()
            else:
                raise RequestRejected(f"unexpected HTTP event {type(event).__name__}", None)

    def _on_head(self, event: h11.Request) -> None:
        method = event.method.decode("ascii", "replace").upper()
        if method not in _METHODS:
            raise RequestRejected(f"unknown HTTP method {method[:20]!r}", None)
        if not event.http_version.startswith(b"1."):
            raise RequestRejected("not HTTP/1.x", DirReply.short(400, "Bad request"))
        self._head = event
        self._seen = bytearray()

    def _bad_syntax(self, why: str) -> RequestRejected:
        if self._head is None and not bytes(self._seen[:4]).upper().startswith((b"GET", b"POST")):
            return RequestRejected(f"not a directory request: {why}", None)
        return RequestRejected(f"bad HTTP request: {why}", DirReply.short(400, "Bad request"))

    def _finish(self) -> DirRequest:
        head = self._head
        assert head is not None
        method = head.method.decode("ascii").upper()
        url = head.target.decode("latin-1")
        headers = tuple((k.decode("latin-1").lower(), v.decode("latin-1"))
                        for k, v in head.headers)
        path = rewrite_url(url)
        request = DirRequest(method, path, url, frozenset(), bytes(self._body), headers,
                             head.http_version.decode("ascii"))
        if request.zlib_in_url:
            path = path[:-2]
        accepted = set(parse_accept_encoding(request.header("accept-encoding") or ""))
        if request.zlib_in_url:
            accepted.add(Compression.DEFLATE)
        return DirRequest(method, path, url, frozenset(accepted) & supported_methods(),
                          request.body, headers, request.http_version)


H = TypeVar("H")


class UrlRouter(Generic[H]):
    """Handlers by method and URL: exact paths first, then the longest matching prefix.

    With tor's url_table this picks what tor's first-match order picks (tor lists each
    exact path and longer prefix before the shorter prefix that would also match).
    """

    def __init__(self) -> None:
        self._exact: dict[tuple[str, str], H] = {}
        self._prefixes: list[tuple[str, str, H]] = []

    def exact(self, method: str, path: str, handler: H) -> None:
        """Serve `path` exactly (e.g. ``"/tor/post/vote"``)."""
        self._exact[(method.upper(), path)] = handler

    def prefix(self, method: str, prefix: str, handler: H) -> None:
        """Serve every path starting with `prefix` (e.g. ``"/tor/micro/d/"``)."""
        self._prefixes.append((method.upper(), prefix, handler))
        self._prefixes.sort(key=lambda entry: -len(entry[1]))

    def match(self, method: str, path: str) -> H | None:
        """The handler for `path`, or None (tor answers 404 "Not found")."""
        method = method.upper()
        found = self._exact.get((method, path))
        if found is not None:
            return found
        for want, prefix, handler in self._prefixes:
            if want == method and path.startswith(prefix):
                return handler
        return None
