"""The exit's table of open edges: finished streams leave it at once, so a directory
circuit carrying many BEGIN_DIR requests holds nothing for the answered ones."""

from __future__ import annotations

import asyncio

from tests.unit.relay.test_relay_circuit_exit import Recorder
from zwiebel.cells.relay_msgs import Data, End
from zwiebel.features.relay.exit import ExitHandler
from zwiebel.features.relay.stream_table import StreamTable
from zwiebel.netdoc.policy import ExitPolicy
from zwiebel.proto.relay_streams import BeginDirRequested, StreamData


def test_table_indexes_by_circuit() -> None:
    table: StreamTable[str] = StreamTable()
    table.add(1, 5, "a")
    table.add(1, 6, "b")
    table.add(2, 5, "c")
    assert table.of_circuit(1) == ["a", "b"] and len(table) == 3
    assert table.pop(1, 5) == "a" and table.pop(1, 5) is None
    assert table.pop_circuit(1) == ["b"] and table.of_circuit(1) == []
    assert [k for k, _ in table.items()] == [(2, 5)]


def test_answered_directory_streams_leave_the_table() -> None:
    async def cache(path: str) -> bytes | None:
        return b"doc:" + path.encode()

    async def run() -> None:
        handler = ExitHandler(lambda: ExitPolicy(()), dir_cache=cache)
        rec = Recorder()
        for sid in range(1, 201):
            handler.on_stream_event(rec, BeginDirRequested(sid))
            request = b"GET /tor/keys/all HTTP/1.0\r\n\r\n"
            handler.on_stream_event(rec, StreamData(sid, request))
        for _ in range(100):
            if sum(isinstance(m, End) for _, m in rec.sent) == 200:
                break
            await asyncio.sleep(0.01)
        ends = [sid for sid, m in rec.sent if isinstance(m, End)]
        assert sorted(ends) == list(range(1, 201))
        assert b"doc:/tor/keys/all" in b"".join(m.data for _, m in rec.sent
                                                 if isinstance(m, Data))
        assert len(handler.streams) == 0

    asyncio.run(run())
