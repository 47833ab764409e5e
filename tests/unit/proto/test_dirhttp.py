"""Directory HTTP exchange against responses shaped like tor's."""

import zlib

import pytest

from zwiebel.encoding import ParseError
from zwiebel.proto.dirhttp import DirExchange


def test_request_is_http10_get_with_accept_encoding() -> None:
    ex = DirExchange("/tor/status-vote/current/consensus")
    req = ex.request_bytes()
    assert req.startswith(b"GET /tor/status-vote/current/consensus HTTP/1.1\r\n")
    assert b"accept-encoding: deflate, identity\r\n" in req.lower()


def test_tor_style_response_until_close_with_deflate() -> None:
    """tor answers HTTP/1.0 without Content-Length and closes (dirserv/directory.c)."""
    ex = DirExchange("/tor/keys/all")
    ex.request_bytes()
    body = b"dir-key-certificate-version 3\n" * 100
    head = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: deflate\r\n\r\n"
    data = head + zlib.compress(body)
    for i in range(0, len(data), 7):
        ex.receive(data[i : i + 7])
    assert not ex.finished
    ex.receive(b"")
    assert ex.response is not None
    assert ex.response.status == 200
    assert ex.response.body == body


def test_404_is_reported_not_raised() -> None:
    ex = DirExchange("/tor/status-vote/current/consensus")
    ex.request_bytes()
    ex.receive(b"HTTP/1.0 404 Consensus not signed yet\r\nContent-Length: 0\r\n\r\n")
    assert ex.response is not None
    assert (ex.response.status, ex.response.reason) == (404, "Consensus not signed yet")


def test_garbage_is_parse_error() -> None:
    ex = DirExchange("/x")
    ex.request_bytes()
    with pytest.raises(ParseError):
        ex.receive(b"\x00\x01garbage\r\n\r\n")
