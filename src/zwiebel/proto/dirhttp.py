"""The directory protocol's HTTP exchange, sans I/O (dir-spec 6, "HTTP ... over BEGIN_DIR").

A directory request is one HTTP/1.0 GET; tor's directory servers answer and close the
connection. `DirExchange` builds the request bytes and is fed the response bytes until
`finished`; h11 does the HTTP framing. Bodies compressed with deflate (zlib framing, what
tor calls "deflate") or zstd are decompressed here so callers only see document text.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import h11

from zwiebel.encoding import ParseError

#: Hard limit on a directory response body (a full ns consensus of the public network
#: is ~3 MB; the limit protects memory against a hostile server).
MAX_BODY = 64 * 1024 * 1024


@dataclass(frozen=True)
class DirResponse:
    """A complete directory response with its body decoded."""

    status: int
    reason: str
    body: bytes


class DirExchange:
    """One GET request and its response."""

    def __init__(self, path: str, host: str = "127.0.0.1") -> None:
        self._conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=64 * 1024)
        self._path = path
        self._host = host
        self._status = 0
        self._reason = ""
        self._encoding = "identity"
        self._body = bytearray()
        self.response: DirResponse | None = None

    def request_bytes(self) -> bytes:
        """The request to send (identity and deflate accepted, as tor's clients do)."""
        headers = [
            ("Host", self._host),
            ("Accept-Encoding", "deflate, identity"),
            ("Connection", "close"),
        ]
        req = h11.Request(method="GET", target=self._path, headers=headers)
        return (self._conn.send(req) or b"") + (self._conn.send(h11.EndOfMessage()) or b"")

    @property
    def finished(self) -> bool:
        """True once the whole response arrived."""
        return self.response is not None

    def receive(self, data: bytes) -> None:
        """Feed response bytes; `b""` means the server closed the connection."""
        try:
            self._conn.receive_data(data)
            self._drain()
        except h11.RemoteProtocolError as exc:
            raise ParseError(f"bad HTTP from directory server: {exc}") from exc

    def _drain(self) -> None:
        while self.response is None:
            event = self._conn.next_event()
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Response):
                self._on_head(event)
            elif isinstance(event, h11.Data):
                self._body += event.data
                if len(self._body) > MAX_BODY:
                    raise ParseError("directory response too large")
            elif isinstance(event, h11.EndOfMessage):
                body = _decode_body(bytes(self._body), self._encoding)
                self.response = DirResponse(self._status, self._reason, body)
            elif isinstance(event, h11.ConnectionClosed):
                raise ParseError("directory connection closed before the response ended")

    def _on_head(self, event: h11.Response) -> None:
        self._status = event.status_code
        self._reason = event.reason.decode("latin-1")
        for name, value in event.headers:
            if name == b"content-encoding":
                self._encoding = value.decode("latin-1").strip().lower()


def _decode_body(body: bytes, encoding: str) -> bytes:
    """Undo Content-Encoding; tor labels zlib-framed data "deflate"."""
    if encoding in ("identity", ""):
        return body
    if encoding in ("deflate", "x-deflate"):
        try:
            obj = zlib.decompressobj()
            out = obj.decompress(body, MAX_BODY)
        except zlib.error as exc:
            raise ParseError("bad deflate body") from exc
        if obj.unconsumed_tail:
            raise ParseError("decompressed directory response too large")
        return out
    raise ParseError(f"unsupported Content-Encoding {encoding!r}")
