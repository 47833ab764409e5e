"""Connection statistics for the control port's ``conn/*`` and ``info/relay/*`` keys.

Zwiebel's registry behind proposal 172's connection information (see
:mod:`zwiebel.control.conninfo` for the format and the scrubbing rules).

Two ways in:

* **Sources** (pull): a callable returning a :class:`ConnSample` for every live
  connection of one kind. The OR connections of the relay, the exit and directory
  streams and the client's channels already keep their byte counters, so the control
  side reads them when asked instead of being told about every byte.
* **Records** (push): :meth:`ConnTracker.open` returns a sample the caller updates
  (``read``/``written``) and hands back to :meth:`ConnTracker.close`; used for
  connections nothing else lists, such as SOCKS application connections.

Each sample has a ``key`` stable for the connection's life (``("or", 7)``); the tracker
turns keys into CONN_IDs from one counter, so ids are unique across kinds even where the
underlying objects number themselves separately. ``or_key`` names the OR connection a
stream's circuit uses and becomes OR_ID.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from zwiebel.control.conninfo import ConnInfo, Usage

#: Returns the samples of every live connection of one kind.
Source = Callable[[], Iterable["ConnSample"]]


@dataclass
class ConnSample:
    """One connection's current state; pushed records are updated in place."""

    key: Hashable
    usage: Usage
    inbound: bool
    address: str
    port: int
    opened_at: float
    local_port: int = 0
    in_tor: bool = False
    established: bool = True
    circ_ids: tuple[int, ...] = ()
    or_key: Hashable | None = None
    read: int = 0
    written: int = 0


class ConnTracker:
    """Live connections from every source and record, with process-wide CONN_IDs."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._sources: list[Source] = []
        self._records: dict[Hashable, ConnSample] = {}
        self._ids: dict[Hashable, int] = {}
        self._next_id = itertools.count(1)
        self._record_keys = itertools.count(1)

    def add_source(self, source: Source) -> None:
        """Read ``source`` on every snapshot."""
        self._sources.append(source)

    def open(self, usage: Usage, inbound: bool, address: str, port: int, *,
             local_port: int = 0, in_tor: bool = False, circ_ids: tuple[int, ...] = (),
             or_key: Hashable | None = None) -> ConnSample:
        """Start reporting a connection nothing else lists; update its counters."""
        sample = ConnSample(("record", next(self._record_keys)), usage, inbound, address,
                            port, self._clock(), local_port, in_tor, True, circ_ids, or_key)
        self._records[sample.key] = sample
        return sample

    def close(self, sample: ConnSample) -> None:
        """Stop reporting a connection from :meth:`open`."""
        self._records.pop(sample.key, None)

    def samples(self) -> list[ConnSample]:
        """Every live connection, sources first, then records."""
        out = [s for source in self._sources for s in source()]
        return out + list(self._records.values())

    def snapshot(self) -> list[ConnInfo]:
        """Every live connection with its CONN_ID and OR_ID, as the control port shows it."""
        samples = self.samples()
        live = {s.key for s in samples}
        self._ids = {k: v for k, v in self._ids.items() if k in live}
        for sample in samples:
            self._conn_id(sample.key)
        now = self._clock()
        return [self._info(s, now) for s in samples]

    def _conn_id(self, key: Hashable) -> int:
        if key not in self._ids:
            self._ids[key] = next(self._next_id)
        return self._ids[key]

    def _info(self, s: ConnSample, now: float) -> ConnInfo:
        or_id = self._ids.get(s.or_key, 0) if s.or_key is not None else 0
        return ConnInfo(
            conn_id=self._ids[s.key], circ_ids=s.circ_ids, or_id=or_id, address=s.address,
            port=s.port, local_port=s.local_port, inbound=s.inbound,
            established=s.established, usage=s.usage, in_tor=s.in_tor, read=s.read,
            written=s.written, uptime=max(0, int(now - s.opened_at)))
