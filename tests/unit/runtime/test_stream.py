"""Stream reads: batching of received DATA and stream SENDMEs only after consumption."""

from __future__ import annotations

import asyncio
from typing import Any

from zwiebel.cells.relay_msgs import Data, End, EndReason
from zwiebel.runtime.stream import READ_BATCH, Stream


class FakeCircuit:
    """Counts how often the stream reported that its reader consumed data."""

    def __init__(self) -> None:
        self.consumed = 0

    def stream_consumed(self, stream: Stream) -> None:
        self.consumed += 1


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_read_joins_queued_cells_then_reports_consumption() -> None:
    async def scenario() -> tuple[bytes, int, bytes]:
        circuit = FakeCircuit()
        stream = Stream(circuit, 1)  # type: ignore[arg-type]
        for i in range(3):
            stream.on_message(Data(bytes([i]) * 498))
        data = await stream.read()
        stream.on_message(End(EndReason.DONE))
        return data, circuit.consumed, await stream.read()

    data, consumed, eof = _run(scenario())
    assert data == b"\x00" * 498 + b"\x01" * 498 + b"\x02" * 498
    assert consumed == 1
    assert eof == b""


def test_read_batch_is_bounded_and_eof_comes_last() -> None:
    async def scenario() -> list[int]:
        stream = Stream(FakeCircuit(), 1)  # type: ignore[arg-type]
        cells = READ_BATCH // 498 + 10
        for _ in range(cells):
            stream.on_message(Data(b"x" * 498))
        stream.on_message(End(EndReason.DONE))
        sizes = []
        while chunk := await stream.read():
            sizes.append(len(chunk))
        return sizes

    sizes = _run(scenario())
    assert sizes[0] >= READ_BATCH and sizes[0] < READ_BATCH + 498
    assert sum(sizes) == (READ_BATCH // 498 + 10) * 498
