"""OR connection output (runtime.orconn): cells queued in one event-loop iteration leave in
one TLS write, byte for byte the cells `encode_cell` makes, in order."""

from __future__ import annotations

import asyncio
import os
from types import SimpleNamespace
from typing import cast

from tests.unit.relay.conftest import make_relay
from zwiebel.cells.framing import PAYLOAD_LEN, CellDecoder, encode_cell
from zwiebel.cells.framing import ChannelCommand as C
from zwiebel.runtime.cellqueue import FLUSH_AT
from zwiebel.runtime.orconn import CellHandler, OrConnection, OrIdentity
from zwiebel.runtime.tls import TlsEngine, relay_client_context, relay_server_context


class FakeTransport:
    """Records writes."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


def _tls_pair() -> tuple[TlsEngine, TlsEngine]:
    relay = make_relay()
    server = TlsEngine(relay_server_context(relay.tls_cert, relay.tls_key), server=True)
    client = TlsEngine(relay_client_context(), server=False)
    client.start()
    for _ in range(6):
        server.feed(client.pending_output())
        client.feed(server.pending_output())
    assert client.handshake_done and server.handshake_done
    return client, server


def _connection(engine: TlsEngine, transport: FakeTransport) -> OrConnection:
    conn = OrConnection(cast(OrIdentity, None), cast(CellHandler, SimpleNamespace()))
    conn._tls = engine
    conn._transport = cast(asyncio.Transport, transport)
    conn._decoder = CellDecoder(5)
    conn.link_version = 5
    return conn


def test_cells_of_one_iteration_leave_in_one_write() -> None:
    client, server = _tls_pair()
    transport = FakeTransport()
    bodies = [os.urandom(PAYLOAD_LEN) for _ in range(40)]

    async def run() -> None:
        conn = _connection(client, transport)
        for index, body in enumerate(bodies[:30]):
            conn.send_cell(index + 1, C.RELAY, body)
        conn.send_cell(99, C.DESTROY, b"\x03")
        conn.send_cell_run(7, C.RELAY, b"".join(bodies[30:]))
        assert transport.writes == []
        await asyncio.sleep(0)
        assert len(transport.writes) == 1
        conn.send_cell(8, C.RELAY_EARLY, bodies[0])
        conn.close()
        assert len(transport.writes) == 2 and transport.closed
        conn.send_cell(9, C.RELAY, bodies[1])
        await asyncio.sleep(0)
        assert len(transport.writes) == 2

    asyncio.run(run())
    expected = b"".join(encode_cell(i + 1, C.RELAY, b, 5) for i, b in enumerate(bodies[:30]))
    expected += encode_cell(99, C.DESTROY, b"\x03", 5)
    expected += b"".join(encode_cell(7, C.RELAY, b, 5) for b in bodies[30:])
    expected += encode_cell(8, C.RELAY_EARLY, bodies[0], 5)
    assert server.feed(b"".join(transport.writes)) == expected


def test_a_big_queue_leaves_before_the_iteration_ends() -> None:
    """Once FLUSH_AT bytes wait, they are written at once: the next hop starts on a big
    relayed read while the rest of it is still being processed."""
    client, server = _tls_pair()
    transport = FakeTransport()
    per_write = FLUSH_AT // (PAYLOAD_LEN + 5) + 1
    bodies = [os.urandom(PAYLOAD_LEN) for _ in range(2 * per_write + 3)]

    async def run() -> None:
        conn = _connection(client, transport)
        for index, body in enumerate(bodies):
            conn.send_cell(index + 1, C.RELAY, body)
            assert len(transport.writes) == (index + 1) // per_write
        await asyncio.sleep(0)
        assert len(transport.writes) == 3
        await asyncio.sleep(0)
        assert len(transport.writes) == 3

    asyncio.run(run())
    plain = b"".join(server.feed(write) for write in transport.writes)
    assert plain == b"".join(encode_cell(i + 1, C.RELAY, b, 5) for i, b in enumerate(bodies))
