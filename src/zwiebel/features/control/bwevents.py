"""The per-second STREAM_BW, CIRC_BW and CONN_BW events (control-spec 4.1.13, 4.1.25,
4.1.23), as tor's ``control_event_stream_bandwidth_used`` and friends send them:
one line per client stream, client circuit or channel that moved bytes since the
last event. CONN_BW is sent only with TestingEnableConnBwEvent, as in tor.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import astuple

from zwiebel.control import events as fmt
from zwiebel.features.control.host import ControlHost
from zwiebel.runtime.clock import utcnow


class BandwidthEvents:
    """Remembers what was reported so that each event carries the change."""

    def __init__(self, host: ControlHost) -> None:
        self.host = host
        self._streams: dict[int, tuple[int, int]] = {}
        self._circuits: dict[int, tuple[int, ...]] = {}
        self._conns: dict[int, tuple[int, int]] = {}

    def stream_bw(self) -> Iterator[str]:
        """STREAM_BW lines for streams that moved bytes."""
        seen: dict[int, tuple[int, int]] = {}
        for record in list(self.host.circuits.stream_events.streams.values()):
            if record.stream is None:
                continue
            now = (record.stream.bytes_written, record.stream.bytes_read)
            last = self._streams.get(record.stream_id, (0, 0))
            seen[record.stream_id] = now
            if now != last:
                yield fmt.stream_bw_event(record.stream_id, now[0] - last[0],
                                          now[1] - last[1], utcnow())
        self._streams = seen

    def circ_bw(self) -> Iterator[str]:
        """CIRC_BW lines for client circuits that moved cells."""
        seen: dict[int, tuple[int, ...]] = {}
        for circuit in self.host.circuits.circuits:
            now = astuple(circuit.traffic)
            last = self._circuits.get(circuit.global_id, (0,) * len(now))
            seen[circuit.global_id] = now
            if now[:2] != last[:2]:
                delta = [a - b for a, b in zip(now, last, strict=True)]
                yield fmt.circ_bw_event(circuit.global_id, delta, utcnow())
        self._circuits = seen

    def conn_bw(self) -> Iterator[str]:
        """CONN_BW lines for channels (TYPE=OR) that moved bytes."""
        if not self.host.options.get("TestingEnableConnBwEvent"):
            return
        seen: dict[int, tuple[int, int]] = {}
        for channel in self.host.channels.channels():
            now = (channel.bytes_read, channel.bytes_written)
            last = self._conns.get(channel.conn_id, (0, 0))
            seen[channel.conn_id] = now
            if now != last:
                yield fmt.conn_bw_event(channel.conn_id, "OR", now[0] - last[0],
                                        now[1] - last[1])
        self._conns = seen
