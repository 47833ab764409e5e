"""Directory uploads: one HTTP POST to a DirPort (dir-spec 6.2 "POST /tor/").

A relay publishes its descriptor (followed by its extra-info) with ``POST /tor/``;
the authority answers and closes the connection: 200 when accepted (with
``X-Descriptor-Not-New: Yes`` when it already had it), 400 with the reason in the
status line when it refuses. A relay also says why it made the descriptor
(``X-Desc-Gen-Reason``, dirclient.c). h11 does the framing, as for GETs (proto/dirhttp.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import h11

from zwiebel.encoding import ParseError
from zwiebel.runtime.dirfetch import ByteStream, TcpByteStream

MAX_RESPONSE = 1024 * 1024


@dataclass(frozen=True)
class PostResponse:
    """The authority's answer: status, reason phrase, headers (lower-case names), body."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes


def post_request(path: str, host: str, body: bytes,
                 extra_headers: Sequence[tuple[str, str]] = ()
                 ) -> tuple[h11.Connection, bytes]:
    """An h11 client connection and the bytes of one POST with `body`."""
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=64 * 1024)
    headers = [("Host", host), ("Content-Length", str(len(body))), ("Connection", "close"),
               *extra_headers]
    data = conn.send(h11.Request(method="POST", target=path, headers=headers)) or b""
    data += conn.send(h11.Data(data=body)) or b""
    data += conn.send(h11.EndOfMessage()) or b""
    return conn, data


def _events(conn: h11.Connection, head: list[h11.Response], body: bytearray) -> bool:
    """Drain h11 events; True once the response is complete."""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA or event is h11.PAUSED:
            return False
        if isinstance(event, h11.Response):
            head.append(event)
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > MAX_RESPONSE:
                raise ParseError("directory response too large")
        elif isinstance(event, h11.EndOfMessage):
            return True
        elif isinstance(event, h11.ConnectionClosed):
            raise ParseError("directory connection closed before the response ended")


async def post_over(stream: ByteStream, path: str, body: bytes, host: str = "127.0.0.1",
                    extra_headers: Sequence[tuple[str, str]] = ()) -> PostResponse:
    """Send one POST over `stream` and read the whole response."""
    conn, request = post_request(path, host, body, extra_headers)
    head: list[h11.Response] = []
    received = bytearray()
    try:
        stream.write(request)
        done = False
        while not done:
            conn.receive_data(await stream.read())
            done = _events(conn, head, received)
    except h11.RemoteProtocolError as exc:
        raise ParseError(f"bad HTTP from directory server: {exc}") from exc
    finally:
        stream.close()
    response = head[0]
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in response.headers}
    return PostResponse(response.status_code, response.reason.decode("latin-1"), headers,
                        bytes(received))


async def post_dirport(host: str, port: int, path: str, body: bytes, timeout: float = 30.0,
                       extra_headers: Sequence[tuple[str, str]] = ()) -> PostResponse:
    """POST `body` to `path` on a DirPort, bounded by `timeout` seconds."""
    async with asyncio.timeout(timeout):
        stream = await TcpByteStream.connect(host, port)
        return await post_over(stream, path, body, f"{host}:{port}", extra_headers)
