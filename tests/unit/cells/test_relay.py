"""The relay cell body (tor-spec 6.1): header layout, padding as tor pads, commands."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.cells.relay import (
    RELAY_DATA_MAX,
    RelayCell,
    RelayCommand,
    encode_data_bodies,
    encode_data_body,
    relay_padding,
)
from zwiebel.cells.relay_message import decode_cell, decode_message, encode_message
from zwiebel.cells.relay_msgs import Data
from zwiebel.encoding import ParseError


def _rng(n: int) -> bytes:
    return b"\xee" * n


def test_header_layout() -> None:
    body = RelayCell(RelayCommand.DATA, 0x1234, b"hello").encode(_rng)
    assert len(body) == 509
    assert body[:11] == bytes.fromhex("0200001234000000000005")
    assert body[11:16] == b"hello"
    # relay_msg.c relay_cell_pad(): four zero bytes, then random bytes to the end.
    assert body[16:20] == bytes(4)
    assert body[20:] == b"\xee" * (509 - 20)


def test_padding_when_little_room() -> None:
    assert RELAY_DATA_MAX == 498
    full = RelayCell(RelayCommand.DATA, 1, bytes(498)).encode(_rng)
    assert len(full) == 509
    assert relay_padding(505, _rng) == bytes(4)  # fewer than 5 left: all zero
    assert relay_padding(504, _rng) == bytes(4) + b"\xee"
    assert relay_padding(509, _rng) == b""


def test_rng_is_only_asked_for_what_fits() -> None:
    asked: list[int] = []

    def rng(n: int) -> bytes:
        asked.append(n)
        return bytes(n)

    RelayCell(RelayCommand.DROP, 0, b"").encode(rng)
    assert asked == [509 - 11 - 4]


def test_decode_keeps_recognized_and_digest() -> None:
    raw = bytes.fromhex("0fabcd0000010203040003") + b"xyz" + bytes(495)
    cell = RelayCell.decode(raw)
    assert cell == RelayCell(RelayCommand.EXTENDED2, 0, b"xyz", 0xABCD, b"\x01\x02\x03\x04")
    assert RelayCell.decode(b"\xc8" + raw[1:]).command == 200  # unknown command kept


@pytest.mark.parametrize("raw", [bytes(508), bytes(510), bytes(9) + b"\x01\xf3" + bytes(498)])
def test_malformed(raw: bytes) -> None:
    with pytest.raises(ParseError):
        RelayCell.decode(raw)


def test_every_command_documented() -> None:
    assert int(RelayCommand.XON) == 44 and int(RelayCommand.BEGIN_DIR) == 13
    assert len(RelayCommand) == 35


@given(st.integers(0, 255), st.integers(0, 0xFFFF), st.binary(max_size=498))
def test_round_trip(command: int, stream_id: int, data: bytes) -> None:
    cell = RelayCell(command, stream_id, data)
    assert RelayCell.decode(cell.encode(_rng)) == cell


@given(st.binary(min_size=509, max_size=509))
def test_random_bodies_only_parse_error(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        RelayCell.decode(data)


def _counting_rng(asked: list[int]) -> Callable[[int], bytes]:
    """Deterministic padding that also records every request (count and size)."""
    def rng(n: int) -> bytes:
        asked.append(n)
        return hashlib.shake_256(len(asked).to_bytes(4, "big")).digest(n)
    return rng


@given(st.integers(0, 0xFFFF), st.binary(max_size=RELAY_DATA_MAX))
def test_fast_data_encoder_equals_encode_message(stream_id: int, data: bytes) -> None:
    """`encode_data_body` gives encode_message's bytes and asks the rng the same things."""
    slow_asked: list[int] = []
    fast_asked: list[int] = []
    slow = encode_message(Data(data), stream_id, _counting_rng(slow_asked))
    fast = encode_data_body(stream_id, data, _counting_rng(fast_asked))
    assert fast == slow and fast_asked == slow_asked
    assert decode_cell(fast) == (stream_id, Data(data))


@given(st.integers(0, 0xFFFF), st.integers(0, 40), st.binary(max_size=RELAY_DATA_MAX))
def test_data_bodies_in_one_piece_equal_one_by_one(stream_id: int, full: int,
                                                   last: bytes) -> None:
    """`encode_data_bodies` (full chunks and a last one of any size) gives the bodies
    `encode_data_body` gives chunk by chunk, with the same rng calls."""
    chunks = [bytes([i]) * RELAY_DATA_MAX for i in range(full)] + [last]
    one_asked: list[int] = []
    many_asked: list[int] = []
    one = b"".join(encode_data_body(stream_id, c, _counting_rng(one_asked)) for c in chunks)
    many = encode_data_bodies(stream_id, chunks, _counting_rng(many_asked))
    assert many == one and many_asked == one_asked
    assert encode_data_bodies(stream_id, [], _rng) == b""


def test_data_bodies_need_full_chunks_before_the_last() -> None:
    with pytest.raises(ValueError):
        encode_data_bodies(1, [b"short", bytes(RELAY_DATA_MAX)], _rng)


def test_fast_data_encoder_limits() -> None:
    with pytest.raises(ValueError):
        encode_data_body(1, bytes(RELAY_DATA_MAX + 1), _rng)
    with pytest.raises(ValueError):
        encode_data_body(0x10000, b"x", _rng)


@given(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF), st.binary(min_size=498, max_size=498),
       st.integers(0, 0xFFFF))
def test_decode_cell_data_fast_path_equals_general_path(
        stream_id: int, recognized: int, payload: bytes, length: int) -> None:
    """DATA bodies (any length field, valid or not) decode as the general path decodes."""
    body = (bytes((RelayCommand.DATA,)) + recognized.to_bytes(2, "big")
            + stream_id.to_bytes(2, "big") + bytes(4) + length.to_bytes(2, "big") + payload)
    try:
        cell = RelayCell.decode(body)
        expected: object = (cell.stream_id, decode_message(cell.command, cell.data))
    except ParseError as exc:
        expected = type(exc)
    try:
        got: object = decode_cell(body)
    except ParseError as exc:
        got = type(exc)
    assert got == expected
