"""An exit stream's TCP connection under the token buckets (tor's connection.c applied to
CONN_TYPE_EXIT connections).

tor rate-limits every connection, exit connections included: ``connection_bucket_read_limit``
caps what an exit reads from the destination by the global read bucket, and writes to the
destination draw on the write bucket. Exit connections are not relayed traffic
(``connection_counts_as_relayed_traffic``), so only the BandwidthRate bucket applies to them.

The destination socket is paused for two independent reasons: the circuit's SENDME windows
are closed and too much waits to be packaged (the stream's own flow control), or the
read bucket is empty (the shaper). `ReadGate` keeps one flag per reason and reads only
while both are clear; it is the `ShapedTransport` the shaper sees.
"""

from __future__ import annotations

import asyncio

from zwiebel.runtime.ratelimit import Shaper, shaper_for


class ReadGate:
    """A transport whose reading pauses while either the windows or the buckets say so."""

    __slots__ = ("transport", "window_full", "bucket_empty", "_paused")

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.window_full = False
        self.bucket_empty = False
        self._paused = False

    def pause_reading(self) -> None:
        """The read bucket is empty (called by the shaper)."""
        self.bucket_empty = True
        self._apply()

    def resume_reading(self) -> None:
        """The read bucket has tokens again (called by the shaper)."""
        self.bucket_empty = False
        self._apply()

    def set_window_full(self, full: bool) -> None:
        """The stream's own flow control: too much (or again little enough) is waiting."""
        self.window_full = full
        self._apply()

    @property
    def paused(self) -> bool:
        """True while the socket is not being read."""
        return self._paused

    def _apply(self) -> None:
        want = self.window_full or self.bucket_empty
        if want == self._paused or self.transport.is_closing():
            return
        self._paused = want
        if want:
            self.transport.pause_reading()
        else:
            self.transport.resume_reading()

    def write(self, data: bytes) -> None:
        """Send bytes to the destination."""
        self.transport.write(data)

    def is_closing(self) -> bool:
        """True once the connection is closing."""
        return self.transport.is_closing()


def exit_shaper(gate: ReadGate) -> Shaper | None:
    """The shaper of an exit connection, or None when it is not rate limited (no
    BandwidthRate installed, or a private destination without CountPrivateBandwidth)."""
    peer = gate.transport.get_extra_info("peername") or ("", 0)
    return shaper_for(gate, str(peer[0]), relayed=False)
