"""The output queue of an OR connection: cells wait in one buffer and go through TLS
together (tor-spec 3, cells on a channel; tor's `connection_or_write_cell_to_buf` and
its outbuf flushed by the main loop).

A cell is only appended to the buffer. The buffer is written once per event-loop
iteration (scheduled with ``call_soon`` by the first cell queued), so a burst becomes a
few full TLS records and one socket write rather than one of each per 514 bytes; and at
once when `FLUSH_AT` bytes wait, so that while a big read is being relayed (an event
loop hands over up to a few MB of one socket's data before it runs the next callback)
the next hop already gets the first part of it, and the processes of a circuit work in
parallel instead of passing the burst on in one piece.
"""

from __future__ import annotations

import asyncio

#: Queued bytes that are written at once rather than at the end of the loop iteration.
FLUSH_AT = 64 * 1024


class CellQueue:
    """Mixin: `_outbuf` with its flushing rule; subclasses write in `_flush_cells`."""

    _loop: asyncio.AbstractEventLoop
    _outbuf: bytearray
    _flush_scheduled: bool

    def _init_queue(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._outbuf = bytearray()
        self._flush_scheduled = False

    def _queued(self) -> None:
        """Bytes were appended to `_outbuf`: flush now or schedule a flush."""
        if len(self._outbuf) >= FLUSH_AT:
            self._flush_cells()
        elif not self._flush_scheduled:
            self._flush_scheduled = True
            self._loop.call_soon(self._scheduled_flush)

    def _scheduled_flush(self) -> None:
        self._flush_scheduled = False
        self._flush_cells()

    def _flush_cells(self) -> None:
        """Write what `_outbuf` holds and empty it."""
        raise NotImplementedError
