"""Stream flow-control messages of congestion-controlled circuits: XOFF and XON
(proposal 324 sections 4.1 and 7.2; tor's trunnel `flow_control_cells.trunnel`).

    XOFF: VERSION [1] (0)
    XON:  VERSION [1] (0), KBPS_EWMA [4] (the sender's drain rate in kB/s; 0: no limit)

On a circuit that negotiated congestion control, streams have no SENDME windows: the side
that receives a stream's DATA sends XOFF when its buffer toward the application grows too
long and XON once it drains, with the rate it drains at as advice for the sender. Like
tor's parser, bytes after the fields are ignored and a version other than 0 is malformed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from zwiebel.cells.relay import RelayCommand
from zwiebel.encoding import ParseError, Reader, Writer

#: The one version of both messages.
FLOW_VERSION = 0


def _version(r: Reader, name: str) -> None:
    version = r.u8()
    if version != FLOW_VERSION:
        raise ParseError(f"{name} version {version} is not {FLOW_VERSION}")


@dataclass(frozen=True)
class Xoff:
    """RELAY_XOFF: stop packaging DATA on this stream until an XON."""

    command: ClassVar[RelayCommand] = RelayCommand.XOFF

    def encode_body(self) -> bytes:
        """The version byte."""
        return bytes([FLOW_VERSION])

    @classmethod
    def decode_body(cls, data: bytes) -> Xoff:
        """Check the version; the rest is ignored."""
        _version(Reader(data), "XOFF")
        return cls()


@dataclass(frozen=True)
class Xon:
    """RELAY_XON: packaging may resume, at about `kbps_ewma` kB/s (0: no limit)."""

    command: ClassVar[RelayCommand] = RelayCommand.XON
    kbps_ewma: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.kbps_ewma <= 0xFFFFFFFF:
            raise ValueError("XON rate out of range")

    def encode_body(self) -> bytes:
        """Version, then the rate."""
        return Writer().u8(FLOW_VERSION).u32(self.kbps_ewma).getvalue()

    @classmethod
    def decode_body(cls, data: bytes) -> Xon:
        """Version and rate; the rest is ignored."""
        r = Reader(data)
        _version(r, "XON")
        return cls(r.u32())
