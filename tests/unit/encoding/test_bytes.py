"""Reader/Writer round trips and truncation."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.encoding import ParseError, Reader, Writer


def test_writer_reader_roundtrip() -> None:
    data = Writer().u8(1).u16(0x0203).u32(0x04050607).nested_u16(b"xy").getvalue()
    assert data == bytes.fromhex("01020304050607") + b"\x00\x02xy"
    r = Reader(data)
    assert (r.u8(), r.u16(), r.u32(), r.nested_u16().rest()) == (1, 0x0203, 0x04050607, b"xy")
    r.expect_end()


def test_truncation_is_parse_error() -> None:
    with pytest.raises(ParseError):
        Reader(b"\x00").u16()


@given(st.binary(max_size=64))
def test_random_nested_reads_raise_only_parse_error(data: bytes) -> None:
    r = Reader(data)
    try:
        while True:
            r.nested_u8()
    except ParseError:
        pass
