"""The directory server's HTTP side (proto/dirserver.py, proto/dircompress.py).

Request bytes are what tor 0.4.9.11's directory_send_command (dirclient.c) writes;
expected responses follow write_short_http_response / write_http_response_header_impl
(dircache.c) byte for byte.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import ipaddress
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.encoding import ParseError
from zwiebel.proto import dircompress
from zwiebel.proto.dircompress import (
    Compression,
    choose_compression,
    compress,
    decompress,
    parse_accept_encoding,
    supported_methods,
)
from zwiebel.proto.dirserver import (
    MAX_HEADERS_SIZE,
    DirReply,
    DirRequest,
    DirRequestParser,
    RequestRejected,
    UrlRouter,
    encode_reply,
    is_internal_address,
    is_local_address,
    rewrite_url,
)

NOW = dt.datetime(2026, 11, 22, 8, 10, 19, tzinfo=dt.UTC)
DATE = b"Date: Sun, 22 Nov 2026 08:10:19 GMT\r\n"
#: dirclient.c: a consensus fetch by a tor 0.4.9 relay built with zstd and lzma.
TOR_GET = (b"GET /tor/status-vote/current/consensus-microdesc/0232AF+14C131.z HTTP/1.0\r\n"
           b"Host: 127.0.0.1:27601\r\n"
           b"Accept-Encoding: deflate, identity, x-zstd, x-tor-lzma\r\n\r\n")
#: dirclient.c: a descriptor upload (DIR_PURPOSE_UPLOAD_DIR).
TOR_POST = (b"POST /tor/ HTTP/1.0\r\nHost: 127.0.0.1:27601\r\n"
            b"X-Desc-Gen-Reason: I just started\r\nContent-Length: 11\r\n\r\nrouter test")


def parse(data: bytes) -> DirRequest:
    request = DirRequestParser().feed(data)
    assert request is not None
    return request


def test_tor_get_with_dot_z_and_accept_encoding() -> None:
    req = parse(TOR_GET)
    assert req.method == "GET"
    assert req.path == "/tor/status-vote/current/consensus-microdesc/0232AF+14C131"
    assert req.zlib_in_url
    assert req.header("Host") == "127.0.0.1:27601"
    want = {Compression.IDENTITY, Compression.DEFLATE} | (
        {Compression.ZSTD} if dircompress.zstd is not None else set())
    assert req.compression == frozenset(want)
    assert req.best_compression() is (
        Compression.ZSTD if dircompress.zstd is not None else Compression.DEFLATE)
    assert req.best_compression(frozenset({Compression.IDENTITY, Compression.DEFLATE})) \
        is Compression.DEFLATE


def test_dot_z_without_accept_encoding_means_deflate() -> None:
    req = parse(b"GET /tor/keys/all.z HTTP/1.0\r\n\r\n")
    assert req.path == "/tor/keys/all"
    assert req.compression == frozenset({Compression.IDENTITY, Compression.DEFLATE})
    assert req.best_compression() is Compression.DEFLATE


def test_plain_get_is_identity() -> None:
    req = parse(b"GET /tor/server/authority HTTP/1.0\r\nHost: x\r\n\r\n")
    assert req.compression == frozenset({Compression.IDENTITY})
    assert not req.zlib_in_url


def test_post_with_content_length_arrives_in_pieces() -> None:
    parser = DirRequestParser()
    for i in range(len(TOR_POST) - 1):
        assert parser.feed(TOR_POST[i:i + 1]) is None
    req = parser.feed(TOR_POST[-1:])
    assert req is not None
    assert (req.method, req.path, req.body) == ("POST", "/tor/", b"router test")
    assert req.header("x-desc-gen-reason") == "I just started"


def test_post_path_keeps_dot_z() -> None:
    req = parse(b"POST /tor/post/vote.z HTTP/1.0\r\nContent-Length: 0\r\n\r\n")
    assert req.path == "/tor/post/vote.z" and not req.zlib_in_url


@pytest.mark.parametrize(("target", "path"), [
    ("/tor/micro/d/abc", "/tor/micro/d/abc"),
    ("/", "/tor/"),
    ("/robots.txt", "/tor/robots.txt"),
    ("http://1.2.3.4:9030/tor/keys/all", "/tor/keys/all"),
    ("https://host/server/authority", "/tor/server/authority"),
    ("/tor", "/tor/tor"),
])
def test_rewrite_url_like_parse_http_url(target: str, path: str) -> None:
    assert rewrite_url(target) == path


def test_http11_request_accepted() -> None:
    req = parse(b"GET /tor/keys/all HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n")
    assert req.http_version == "1.1"
    assert req.best_compression() is Compression.GZIP


def test_if_modified_since() -> None:
    req = parse(b"GET /tor/status-vote/current/consensus HTTP/1.0\r\n"
                b"If-Modified-Since: Sun, 22 Nov 2026 07:00:00 GMT\r\n\r\n")
    assert req.if_modified_since == dt.datetime(2026, 11, 22, 7, tzinfo=dt.UTC)
    bad = parse(b"GET /x HTTP/1.0\r\nIf-Modified-Since: yesterday\r\n\r\n")
    assert bad.if_modified_since is None


@pytest.mark.parametrize("data", [
    b"PUT /tor/ HTTP/1.0\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    b"hello\r\n\r\n",
])
def test_unknown_method_or_garbage_closes_without_answer(data: bytes) -> None:
    with pytest.raises(RequestRejected) as info:
        DirRequestParser().feed(data)
    assert info.value.reply is None


@pytest.mark.parametrize("data", [
    b"GET\r\n\r\n",
    b"GET /tor/ HTTP/2.0\r\n\r\n",
    b"GET /a b HTTP/1.0\r\n\r\n",
    b"POST /tor/ HTTP/1.0\r\nContent-Length: x\r\n\r\n",
])
def test_malformed_get_or_post_gets_400(data: bytes) -> None:
    with pytest.raises(RequestRejected) as info:
        DirRequestParser().feed(data)
    assert info.value.reply == DirReply.short(400, "Bad request")


def test_header_limit_like_tor() -> None:
    head = b"GET /tor/ HTTP/1.0\r\nX: " + b"a" * MAX_HEADERS_SIZE
    with pytest.raises(RequestRejected) as info:
        DirRequestParser().feed(head)
    assert info.value.reply is None
    small = DirRequestParser(max_header=100)
    assert small.feed(b"GET /tor/ HTTP/1.0\r\nX: " + b"a" * 60) is None
    with pytest.raises(RequestRejected):
        small.feed(b"a" * 60)


def test_body_limit_like_tor() -> None:
    parser = DirRequestParser(max_body=10)
    with pytest.raises(RequestRejected) as info:
        parser.feed(b"POST /tor/ HTTP/1.0\r\nContent-Length: 20\r\n\r\n" + b"x" * 20)
    assert info.value.reply is None
    ok = DirRequestParser(max_body=10).feed(
        b"POST /tor/ HTTP/1.0\r\nContent-Length: 9\r\n\r\n" + b"x" * 9)
    assert ok is not None and ok.body == b"x" * 9


@given(st.binary(max_size=300))
def test_random_bytes_raise_only_parse_error(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        DirRequestParser().feed(data)


def test_short_reply_bytes() -> None:
    assert encode_reply(DirReply.short(404, "Not found"), None, NOW) == \
        b"HTTP/1.0 404 Not found\r\n" + DATE + b"\r\n"
    assert encode_reply(DirReply.short(400, "Bad request"), None, NOW, include_date=False) == \
        b"HTTP/1.0 400 Bad request\r\n\r\n"


def test_document_reply_identity_with_length_and_expires() -> None:
    req = parse(b"GET /tor/server/authority HTTP/1.0\r\n\r\n")
    out = encode_reply(DirReply.document(b"router x\n", cache_lifetime=30 * 60), req, NOW,
                       your_address="198.51.100.7")
    assert out == (b"HTTP/1.0 200 OK\r\n" + DATE + b"Content-Type: text/plain\r\n"
                   b"X-Your-Address-Is: 198.51.100.7\r\nContent-Encoding: identity\r\n"
                   b"Content-Length: 9\r\nExpires: Sun, 22 Nov 2026 08:40:19 GMT\r\n\r\n"
                   b"router x\n")


def test_document_reply_deflate_no_length_pragma() -> None:
    req = parse(b"GET /tor/status-vote/current/consensus.z HTTP/1.0\r\n\r\n")
    body = b"network-status-version 3\n" * 50
    out = encode_reply(DirReply.document(body, cache_lifetime=0), req, NOW)
    head, payload = out.split(b"\r\n\r\n", 1)
    assert head == (b"HTTP/1.0 200 OK\r\n" + DATE.rstrip(b"\r\n") +
                    b"\r\nContent-Type: text/plain\r\nContent-Encoding: deflate\r\n"
                    b"Pragma: no-cache")
    assert zlib.decompress(payload) == body


def test_headers_only_reply_descriptor_not_new() -> None:
    out = encode_reply(DirReply.headers_only((("X-Descriptor-Not-New", "Yes"),)), None, NOW)
    assert out == b"HTTP/1.0 200 OK\r\n" + DATE + b"X-Descriptor-Not-New: Yes\r\n\r\n"


def test_explicit_compression_and_length() -> None:
    req = parse(b"GET /tor/keys/all HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n")
    reply = DirReply.document(b"abc", compression=Compression.GZIP, content_length=True)
    head, payload = encode_reply(reply, req, NOW).split(b"\r\n\r\n", 1)
    assert b"Content-Encoding: gzip" in head
    assert f"Content-Length: {len(payload)}".encode() in head
    assert gzip.decompress(payload) == b"abc"


def test_accept_encoding_names_like_tor() -> None:
    assert parse_accept_encoding("x-gzip, bogus,,  deflate ") == frozenset(
        {Compression.IDENTITY, Compression.GZIP, Compression.DEFLATE})
    assert parse_accept_encoding("DEFLATE") == frozenset({Compression.IDENTITY})
    assert parse_accept_encoding("x-tor-lzma") == frozenset(
        {Compression.IDENTITY, Compression.LZMA})
    assert choose_compression(frozenset({Compression.IDENTITY, Compression.LZMA})) \
        is Compression.IDENTITY
    assert Compression.LZMA not in supported_methods()


@pytest.mark.parametrize("method", sorted(supported_methods(), key=str))
def test_compress_roundtrip(method: Compression) -> None:
    data = b"r relay1 AAAA\n" * 1000
    assert decompress(compress(data, method), method, len(data)) == data
    with pytest.raises(ParseError):
        decompress(compress(data, method), method, len(data) - 1)


@pytest.mark.skipif(dircompress.zstd is None, reason="zstandard not installed")
def test_zstd_is_preferred_when_available() -> None:
    accepted = frozenset({Compression.IDENTITY, Compression.DEFLATE, Compression.ZSTD})
    assert choose_compression(accepted) is Compression.ZSTD
    with pytest.raises(ParseError):
        decompress(b"not zstd", Compression.ZSTD, 100)


def test_bad_deflate_raises_parse_error() -> None:
    with pytest.raises(ParseError):
        decompress(b"\x00garbage", Compression.DEFLATE, 100)
    with pytest.raises(ParseError):
        decompress(zlib.compress(b"x" * 100)[:-5], Compression.DEFLATE, 1000)


@pytest.mark.parametrize(("address", "internal"), [
    ("10.1.2.3", True), ("127.0.0.1", True), ("100.64.0.1", True), ("169.254.1.1", True),
    ("172.31.255.255", True), ("192.168.0.1", True), ("0.1.2.3", True),
    ("8.8.8.8", False), ("192.0.2.1", False), ("::1", True), ("fe80::1", True),
    ("fd00::1", True), ("::ffff:10.0.0.1", True), ("2001:db8::1", False),
])
def test_internal_addresses_like_tor(address: str, internal: bool) -> None:
    assert is_internal_address(ipaddress.ip_address(address)) is internal


def test_local_address_same_subnet() -> None:
    assert is_local_address("203.0.113.99", ["203.0.113.5"])
    assert not is_local_address("203.0.114.99", ["203.0.113.5"])
    assert not is_local_address("203.0.113.99", ["203.0.113.5"], enforce_distinct_subnets=False)
    assert is_local_address("2001:db8:1:2::5", ["2001:db8:1::1"])
    assert not is_local_address("not-an-ip", [])


def test_router_like_tor_url_table() -> None:
    router: UrlRouter[str] = UrlRouter()
    router.exact("GET", "/tor/", "frontpage")
    router.prefix("GET", "/tor/status-vote/current/", "status_vote")
    router.prefix("GET", "/tor/status-vote/current/consensus", "consensus")
    router.exact("GET", "/tor/status-vote/next/bandwidth", "bandwidth")
    router.prefix("GET", "/tor/status-vote/next/", "status_vote")
    router.exact("POST", "/tor/post/vote", "vote")
    assert router.match("GET", "/tor/") == "frontpage"
    assert router.match("GET", "/tor/status-vote/current/consensus-microdesc") == "consensus"
    assert router.match("GET", "/tor/status-vote/current/d/AB") == "status_vote"
    assert router.match("GET", "/tor/status-vote/next/bandwidth") == "bandwidth"
    assert router.match("GET", "/tor/status-vote/next/authority") == "status_vote"
    assert router.match("post", "/tor/post/vote") == "vote"
    assert router.match("GET", "/tor/post/vote") is None
    assert router.match("GET", "/tor/nothing") is None


_PATH_CHARS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEF0123456789-_+=/.", max_size=60)


@given(_PATH_CHARS, st.binary(max_size=200), st.sampled_from(["GET", "POST"]),
       st.integers(min_value=1, max_value=40))
def test_request_roundtrip_any_split(path: str, body: bytes, method: str, cut: int) -> None:
    """tor's request framing (Content-Length for a POST) parses back to what was sent,
    however the bytes are split."""
    url = "/tor/" + path
    data = f"{method} {url} HTTP/1.0\r\nHost: 127.0.0.1\r\n".encode()
    data += f"Content-Length: {len(body)}\r\n\r\n".encode() + body if method == "POST" \
        else b"\r\n"
    parser = DirRequestParser()
    request = None
    for start in range(0, len(data), cut):
        request = parser.feed(data[start:start + cut])
    assert request is not None
    assert (request.method, request.url) == (method, url)
    assert request.body == (body if method == "POST" else b"")
    dotz = method == "GET" and url.endswith(".z")
    assert request.path == (url[:-2] if dotz else url)
    assert (Compression.DEFLATE in request.compression) == dotz
