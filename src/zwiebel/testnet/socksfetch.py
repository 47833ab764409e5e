"""A minimal blocking SOCKS5 + HTTP/1.0 client for `zwiebel testnet` (RFC 1928, 1929).

The host name goes to the proxy unresolved (ATYP 3), as curl's --socks5-hostname does;
a username makes Tor isolate the stream on a circuit of its own.
"""

from __future__ import annotations

import hashlib
import socket
import struct
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Fetched:
    """The outcome of one download."""

    status: int
    size: int
    sha256: str
    seconds: float
    first_byte: float


def _socks5_connect(sock: socket.socket, host: str, port: int, user: str | None) -> None:
    method = b"\x02" if user else b"\x00"
    sock.sendall(b"\x05\x01" + method)
    if sock.recv(2) != b"\x05" + method:
        raise OSError("SOCKS5 method refused")
    if user:
        name = user.encode()
        sock.sendall(b"\x01" + bytes([len(name)]) + name + b"\x01x")
        if sock.recv(2)[1:] != b"\x00":
            raise OSError("SOCKS5 authentication refused")
    target = host.encode()
    sock.sendall(b"\x05\x01\x00\x03" + bytes([len(target)]) + target + struct.pack("!H", port))
    reply = sock.recv(10)
    if len(reply) < 2 or reply[1] != 0:
        code = reply[1] if len(reply) > 1 else -1
        raise OSError(f"SOCKS5 CONNECT failed with reply code {code}")


def fetch(socks_port: int, host: str, port: int, path: str, timeout: float = 120.0,
          user: str | None = None) -> Fetched:
    """GET http://host:port/path through the SOCKS5 proxy on 127.0.0.1:socks_port."""
    start = time.monotonic()
    digest = hashlib.sha256()
    with socket.create_connection(("127.0.0.1", socks_port), timeout=timeout) as sock:
        _socks5_connect(sock, host, port, user)
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n".encode())
        head = b""
        first = 0.0
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(65536)
            if not chunk:
                raise OSError("connection closed before the HTTP response")
            first = first or time.monotonic() - start
            head += chunk
        header, body = head.split(b"\r\n\r\n", 1)
        status = int(header.split(b" ", 2)[1])
        size = len(body)
        digest.update(body)
        while chunk := sock.recv(262144):
            size += len(chunk)
            digest.update(chunk)
    return Fetched(status, size, digest.hexdigest(), time.monotonic() - start, first)
