"""Fixed-window flow control with SENDMEs (tor-spec 7.3, 7.3.1, 7.4; proposals/289).

Four small windows, one per (level, side):

* `CircuitPackageWindow` (we send DATA): starts at 1000; each SENDME adds 100. After the DATA
  cell that brings the window to a multiple of 100 we remember that cell's 20-byte running
  digest; the next SENDME must be version 1 and carry exactly that digest (authenticated
  SENDME, proposal 289). A SENDME with no remembered digest, a wrong digest, an unacceptable
  version or one that would push the window over 1000 is a protocol violation.
* `CircuitDeliverWindow` (we receive DATA): starts at 1000; when it falls to 900 we send a
  SENDME (version 1, carrying the running digest right after that DATA cell) and add 100.
* `StreamPackageWindow` / `StreamDeliverWindow`: 500 and 50, SENDMEs are empty and carry a
  stream id; "edge nodes initiate RELAY_SENDME cells when both a) the window is <= 450, and
  b) there are less than ten cell payloads remaining to be flushed at that edge".

The rules follow tor 0.4.9's `sendme.c`: digests queue first-in first-out; the digest is
noted when the package window *before* the cell satisfies (window - 1) % 100 == 0. The
caller supplies digests from `zwiebel.proto.relaycrypto` and turns a violation into a
DESTROY with reason PROTOCOL.

On a circuit with proposal-324 congestion control the deliver window counts in steps of
the negotiated cc_sendme_inc; the sending side is `zwiebel.proto.cc_window`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from enum import Enum

from zwiebel.cells.relay_ctrl import SENDME_DIGEST_LEN, Sendme
from zwiebel.crypto.util import ct_eq
from zwiebel.encoding import ParseError

CIRCWINDOW_START = 1000
CIRCWINDOW_INCREMENT = 100
STREAMWINDOW_START = 500
STREAMWINDOW_INCREMENT = 50
#: The highest SENDME version we understand.
SENDME_MAX_VERSION = 1


class FlowControlViolation(ParseError):
    """The peer sent more DATA than our deliver window allows."""


class SendmeVerdict(Enum):
    """The outcome of a received SENDME; everything but OK is a protocol violation."""

    #: Valid: the package window grew.
    OK = "ok"
    #: Version above what we understand or below the accepted minimum.
    BAD_VERSION = "bad version"
    #: No remembered digest: the peer acknowledged cells we never sent.
    UNEXPECTED = "unexpected"
    #: Version 1 digest differs from the one remembered (or is not 20 bytes).
    DIGEST_MISMATCH = "digest mismatch"
    #: The window would exceed its maximum.
    WINDOW_OVERFLOW = "window overflow"

    @property
    def is_violation(self) -> bool:
        """True unless OK."""
        return self is not SendmeVerdict.OK


def check_sendme(msg: Sendme, digests: deque[bytes], accept_min_version: int = 1
                 ) -> SendmeVerdict:
    """A circuit-level SENDME against the digests of the cells it may acknowledge (oldest
    first; the one it answers is taken off): its version must be acceptable and, for
    version 1, its digest the oldest one (tor's `sendme_is_valid`)."""
    if not accept_min_version <= msg.version <= SENDME_MAX_VERSION:
        return SendmeVerdict.BAD_VERSION
    if not digests:
        return SendmeVerdict.UNEXPECTED
    expected = digests.popleft()
    if msg.version == 1 and (msg.digest is None or not ct_eq(msg.digest, expected)):
        return SendmeVerdict.DIGEST_MISMATCH
    return SendmeVerdict.OK


class CircuitPackageWindow:
    """Circuit-level package window with authenticated-SENDME digest bookkeeping."""

    __slots__ = ("window", "_digests")

    def __init__(self, window: int = CIRCWINDOW_START) -> None:
        self.window = window
        self._digests: deque[bytes] = deque()

    def can_send(self) -> bool:
        """Whether one more DATA cell may be packaged."""
        return self.window > 0

    def on_data_sent(self, digest: bytes) -> None:
        """Account for a sent DATA cell whose full running digest (after it) is `digest`."""
        self.on_data_sent_many((digest,))

    def on_data_sent_many(self, digests: Sequence[bytes]) -> None:
        """`on_data_sent` for consecutive DATA cells, given the digest after each: only
        the digests of the cells a SENDME will acknowledge are kept."""
        if self.window < len(digests):
            raise AssertionError("DATA packaged with an empty circuit window")
        window = self.window
        for digest in digests:
            if window != CIRCWINDOW_START and (window - 1) % CIRCWINDOW_INCREMENT == 0:
                self._digests.append(digest[:SENDME_DIGEST_LEN])
            window -= 1
        self.window = window

    def on_sendme(self, msg: Sendme, accept_min_version: int = 1) -> SendmeVerdict:
        """Check a circuit-level SENDME; on OK the window has grown by 100."""
        verdict = check_sendme(msg, self._digests, accept_min_version)
        if verdict is not SendmeVerdict.OK:
            return verdict
        if self.window + CIRCWINDOW_INCREMENT > CIRCWINDOW_START:
            return SendmeVerdict.WINDOW_OVERFLOW
        self.window += CIRCWINDOW_INCREMENT
        return SendmeVerdict.OK

    def statistics(self) -> dict[str, int]:
        """A snapshot for the control port and metrics."""
        return {"package_window": self.window, "pending_sendme_digests": len(self._digests)}


class CircuitDeliverWindow:
    """Circuit-level deliver window: decides when to send a SENDME and with which digest.

    `increment` is the cells each SENDME acknowledges: 100, or on a circuit with
    congestion control the negotiated cc_sendme_inc (tor's `sendme_get_inc_count`)."""

    __slots__ = ("window", "emit_version", "increment")

    def __init__(self, window: int = CIRCWINDOW_START, emit_version: int = 1,
                 increment: int = CIRCWINDOW_INCREMENT) -> None:
        self.window = window
        self.emit_version = emit_version
        self.increment = increment

    def on_data_received(self, digest: bytes) -> Sendme | None:
        """Account for a received DATA cell; `digest` is the running digest right after it.

        Returns the SENDME to send now, if any. Raises FlowControlViolation when the peer
        overran the window ("If a deliver window goes below 0, the circuit should be torn down").
        """
        sendmes = self.on_data_received_many((digest,))
        return sendmes[0] if sendmes else None

    def on_data_received_many(self, digests: Sequence[bytes]) -> list[Sendme]:
        """`on_data_received` for consecutive DATA cells (`digests`: the running digest
        after each): the SENDMEs due, in order, found in one step per SENDME rather than
        one per cell."""
        sendmes = []
        done, count = 0, len(digests)
        low = CIRCWINDOW_START - self.increment
        while done < count:
            step = min(max(self.window - low, 1), count - done)
            self.window -= step
            if self.window < 0:
                raise FlowControlViolation("circuit deliver window below zero")
            done += step
            if self.window <= low:
                self.window += self.increment
                sendmes.append(self._sendme(digests[done - 1]))
        return sendmes

    def _sendme(self, digest: bytes) -> Sendme:
        if self.emit_version >= 1:
            return Sendme.v1(digest[:SENDME_DIGEST_LEN])
        return Sendme()

    def statistics(self) -> dict[str, int]:
        """A snapshot for the control port and metrics."""
        return {"deliver_window": self.window}


class StreamPackageWindow:
    """Stream-level package window (tor-spec 7.4)."""

    __slots__ = ("window",)

    def __init__(self, window: int = STREAMWINDOW_START) -> None:
        self.window = window

    def can_send(self) -> bool:
        """Whether one more DATA cell may be packaged on this stream."""
        return self.window > 0

    def on_data_sent(self, cells: int = 1) -> None:
        """Account for `cells` DATA cells sent on this stream."""
        if self.window < cells:
            raise AssertionError("DATA packaged with an empty stream window")
        self.window -= cells

    def on_sendme(self) -> SendmeVerdict:
        """A stream-level SENDME arrived (its body is ignored)."""
        if self.window + STREAMWINDOW_INCREMENT > STREAMWINDOW_START:
            return SendmeVerdict.WINDOW_OVERFLOW
        self.window += STREAMWINDOW_INCREMENT
        return SendmeVerdict.OK


class StreamDeliverWindow:
    """Stream-level deliver window (tor-spec 7.4)."""

    __slots__ = ("window",)

    def __init__(self, window: int = STREAMWINDOW_START) -> None:
        self.window = window

    def on_data_received(self, outbuf_full: bool = False) -> int:
        """Account for a received DATA cell; return how many stream SENDMEs to send now.

        Pass `outbuf_full=True` while ten or more cells' worth of data wait to be flushed to
        the application; call `sendmes_due` again once they are flushed.
        """
        self.window -= 1
        if self.window < 0:
            raise FlowControlViolation("stream deliver window below zero")
        return 0 if outbuf_full else self.sendmes_due()

    def sendmes_due(self) -> int:
        """How many empty stream-level SENDMEs to send now (the window is credited for them)."""
        count = 0
        while self.window <= STREAMWINDOW_START - STREAMWINDOW_INCREMENT:
            self.window += STREAMWINDOW_INCREMENT
            count += 1
        return count
