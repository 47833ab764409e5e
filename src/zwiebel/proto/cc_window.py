"""The package side of a circuit with proposal-324 congestion control, in the shape of
`sendme.CircuitPackageWindow` so that a relay circuit uses either (tor's
`sendme_note_circuit_data_packaged`, `sendme_process_circuit_level` with a `ccontrol`).

`zwiebel.proto.congestion.CongestionControl` decides how many cells may be in flight
(cwnd - inflight) and which sent cells a SENDME will acknowledge; here the running digest
after each of those cells is kept, first in first out, and an arriving SENDME must be
version 1 with exactly the oldest one (proposal 289, as with fixed windows). A SENDME with
no digest waiting, a wrong digest or a bad version is a protocol violation.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

from zwiebel.cells.relay_ctrl import SENDME_DIGEST_LEN, Sendme
from zwiebel.proto.congestion import CongestionControl
from zwiebel.proto.sendme import SendmeVerdict, check_sendme

#: A monotonic clock in whole microseconds (tor's monotime_absolute_usec).
UsecClock = Callable[[], int]


class CongestionWindow:
    """`CircuitPackageWindow`'s interface over a `CongestionControl`."""

    __slots__ = ("cc", "_clock", "_digests", "blocked")

    def __init__(self, cc: CongestionControl, clock: UsecClock,
                 blocked: Callable[[], bool] = lambda: False) -> None:
        self.cc = cc
        self._clock = clock
        self._digests: deque[bytes] = deque()
        #: Whether the channel toward the client cannot take more now (tor's
        #: `circuit_blocked_on_p_chan`, a congestion signal for Vegas).
        self.blocked = blocked

    @property
    def window(self) -> int:
        """Cells that may be packaged now (cwnd - inflight)."""
        return self.cc.package_room()

    def can_send(self) -> bool:
        """Whether one more DATA cell may be packaged."""
        return self.cc.package_room() > 0

    def on_data_sent(self, digest: bytes) -> None:
        """Account for a sent DATA cell whose full running digest (after it) is `digest`."""
        self.on_data_sent_many((digest,))

    def on_data_sent_many(self, digests: Sequence[bytes]) -> None:
        """Account for consecutive DATA cells; keep the digests SENDMEs will carry."""
        for index in self.cc.cells_sent(len(digests), self._clock()):
            self._digests.append(digests[index][:SENDME_DIGEST_LEN])

    def on_sendme(self, msg: Sendme, accept_min_version: int = 1) -> SendmeVerdict:
        """Check a circuit-level SENDME; on OK congestion control took it in."""
        verdict = check_sendme(msg, self._digests, accept_min_version)
        if verdict is not SendmeVerdict.OK:
            return verdict
        self.cc.sendme_received(self._clock(), blocked_chan=self.blocked())
        return SendmeVerdict.OK

    def statistics(self) -> dict[str, object]:
        """A snapshot for the control port and logs."""
        return {**self.cc.statistics(), "pending_sendme_digests": len(self._digests)}
