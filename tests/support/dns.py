"""A tiny authoritative DNS server on 127.0.0.1 (RFC 1035 4.1) for exit RESOLVE tests.

The test network's exits use it as their only nameserver, so a name resolved through
Tor gets exactly the address this server gives. It answers A queries for its names
and NXDOMAIN for everything else; queries are handled in a daemon thread.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
import threading
from collections.abc import Mapping
from types import TracebackType

TTL = 300


def _read_name(packet: bytes, pos: int) -> tuple[str, int]:
    labels = []
    while packet[pos]:
        length = packet[pos]
        labels.append(packet[pos + 1 : pos + 1 + length].decode("ascii", "replace"))
        pos += 1 + length
    return ".".join(labels).lower(), pos + 1


def answer(query: bytes, names: Mapping[str, str]) -> bytes:
    """The response to one query packet."""
    ident, _flags, qdcount = struct.unpack("!HHH", query[:6])
    name, end = _read_name(query, 12)
    qtype, _qclass = struct.unpack("!HH", query[end : end + 4])
    question = query[12 : end + 4]
    address = names.get(name)
    if address is None or qtype != 1:
        rcode = 3 if address is None else 0
        return struct.pack("!HHHHHH", ident, 0x8400 | rcode, 1, 0, 0, 0) + question
    record = struct.pack("!HHHIH", 0xC00C, 1, 1, TTL, 4) + ipaddress.IPv4Address(address).packed
    return struct.pack("!HHHHHH", ident, 0x8400, 1, 1, 0, 0) + question + record


class DnsServer:
    """Answers A queries for `names` (lower-case name -> IPv4 address) on UDP 127.0.0.1:port."""

    def __init__(self, port: int, names: Mapping[str, str]) -> None:
        self.port = port
        self.names = {k.lower(): v for k, v in names.items()}
        self.queries: list[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._thread = threading.Thread(target=self._serve, name="test-dns", daemon=True)
        self._running = False

    def start(self) -> None:
        """Bind and serve in a thread."""
        self._sock.bind(("127.0.0.1", self.port))
        self._sock.settimeout(0.2)
        self._running = True
        self._thread.start()

    def _serve(self) -> None:
        while self._running:
            try:
                query, peer = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                self.queries.append(_read_name(query, 12)[0])
                self._sock.sendto(answer(query, self.names), peer)
            except (IndexError, struct.error):
                continue

    def stop(self) -> None:
        """Stop serving."""
        self._running = False
        self._thread.join(timeout=5)
        self._sock.close()

    def __enter__(self) -> DnsServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
