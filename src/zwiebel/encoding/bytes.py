"""Big-endian reader and writer over byte buffers (tor-spec section 0.2)."""

from __future__ import annotations


class ParseError(ValueError):
    """Input from a peer, a document or a user that does not follow the format."""


class Reader:
    """Sequential reader over a bytes-like object; every short read is a ParseError."""

    __slots__ = ("_buf", "_pos")

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self._buf = memoryview(data)
        self._pos = 0

    @property
    def remaining(self) -> int:
        """Number of unread bytes."""
        return len(self._buf) - self._pos

    def take(self, n: int) -> bytes:
        """Return the next `n` bytes."""
        if n < 0 or self._pos + n > len(self._buf):
            raise ParseError(f"truncated: wanted {n} bytes, have {self.remaining}")
        out = bytes(self._buf[self._pos : self._pos + n])
        self._pos += n
        return out

    def rest(self) -> bytes:
        """Return all unread bytes."""
        return self.take(self.remaining)

    def u8(self) -> int:
        """Read one unsigned byte."""
        return self.take(1)[0]

    def u16(self) -> int:
        """Read a big-endian 16-bit unsigned integer."""
        return int.from_bytes(self.take(2), "big")

    def u32(self) -> int:
        """Read a big-endian 32-bit unsigned integer."""
        return int.from_bytes(self.take(4), "big")

    def u64(self) -> int:
        """Read a big-endian 64-bit unsigned integer."""
        return int.from_bytes(self.take(8), "big")

    def nested_u8(self) -> Reader:
        """Read a u8 length, then that many bytes as a sub-reader."""
        return Reader(self.take(self.u8()))

    def nested_u16(self) -> Reader:
        """Read a u16 length, then that many bytes as a sub-reader."""
        return Reader(self.take(self.u16()))

    def expect_end(self) -> None:
        """Fail unless every byte was consumed."""
        if self.remaining:
            raise ParseError(f"{self.remaining} unexpected trailing bytes")


class Writer:
    """Append-only big-endian byte builder."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def raw(self, data: bytes) -> Writer:
        """Append bytes as they are."""
        self._buf += data
        return self

    def u8(self, v: int) -> Writer:
        """Append one byte."""
        self._buf += v.to_bytes(1, "big")
        return self

    def u16(self, v: int) -> Writer:
        """Append a big-endian 16-bit integer."""
        self._buf += v.to_bytes(2, "big")
        return self

    def u32(self, v: int) -> Writer:
        """Append a big-endian 32-bit integer."""
        self._buf += v.to_bytes(4, "big")
        return self

    def u64(self, v: int) -> Writer:
        """Append a big-endian 64-bit integer."""
        self._buf += v.to_bytes(8, "big")
        return self

    def nested_u8(self, data: bytes) -> Writer:
        """Append a u8 length followed by `data`."""
        if len(data) > 0xFF:
            raise ValueError("field too long for a u8 length")
        return self.u8(len(data)).raw(data)

    def nested_u16(self, data: bytes) -> Writer:
        """Append a u16 length followed by `data`."""
        if len(data) > 0xFFFF:
            raise ValueError("field too long for a u16 length")
        return self.u16(len(data)).raw(data)

    def __len__(self) -> int:
        return len(self._buf)

    def getvalue(self) -> bytes:
        """The bytes written so far."""
        return bytes(self._buf)
