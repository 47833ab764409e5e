"""Cell framing (tor-spec 3): sizes, the decoder's width switch, chunking."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.cells.framing import (
    PAYLOAD_LEN,
    CellDecoder,
    ChannelCommand,
    encode_cell,
    fixed_cell_len,
    is_var_length,
)

VECTOR = Path(__file__).parents[2] / "vectors" / "link" / "tor-0.4.9.11-responder.json"


def test_command_numbers_match_tor_spec_section_3() -> None:
    assert [int(c) for c in ChannelCommand] == [*range(13), 128, 129, 130, 131, 132]
    assert is_var_length(7) and is_var_length(128) and is_var_length(255)
    assert not any(is_var_length(c) for c in (0, 3, 8, 12, 127))


def test_fixed_cell_sizes() -> None:
    assert fixed_cell_len(None) == fixed_cell_len(3) == 512
    assert fixed_cell_len(4) == fixed_cell_len(5) == 514
    cell = encode_cell(0x80000001, ChannelCommand.CREATE_FAST, b"\x01" * 20, 5)
    assert len(cell) == 514
    assert cell[:5] == b"\x80\x00\x00\x01\x05"
    assert cell[5:25] == b"\x01" * 20 and cell[25:] == bytes(PAYLOAD_LEN - 20)
    assert len(encode_cell(1, ChannelCommand.PADDING, b"", 3)) == 512


def test_versions_cell_always_has_two_byte_circ_id() -> None:
    assert encode_cell(0, ChannelCommand.VERSIONS, b"\x00\x04\x00\x05", None) == bytes.fromhex(
        "0000070004" "00040005")
    assert encode_cell(0, ChannelCommand.CERTS, b"ab", 4) == bytes.fromhex("00000000810002") + b"ab"


def test_encode_rejects_oversized_payloads() -> None:
    with pytest.raises(ValueError):
        encode_cell(0, ChannelCommand.NETINFO, bytes(510), 4)
    with pytest.raises(ValueError):
        encode_cell(0, ChannelCommand.VPADDING, bytes(0x10000), 4)


def test_decoder_pauses_after_versions_until_the_version_is_set() -> None:
    versions = encode_cell(0, ChannelCommand.VERSIONS, b"\x00\x04", None)
    certs = encode_cell(0, ChannelCommand.CERTS, b"\x00", 4)
    netinfo = encode_cell(0, ChannelCommand.NETINFO, b"", 4)
    dec = CellDecoder()
    assert dec.feed(versions + certs + netinfo) == [(0, 7, b"\x00\x04")]
    assert dec.feed(b"") == []
    dec.set_link_version(4)
    assert dec.feed(b"") == [(0, 129, b"\x00"), (0, 8, bytes(509))]
    assert dec.buffered == 0


def test_decoder_real_tor_stream() -> None:
    """tor 0.4.9.11 answers VERSIONS, CERTS, AUTH_CHALLENGE, NETINFO (vector file)."""
    received = bytes.fromhex(json.loads(VECTOR.read_text())["received_hex"])
    dec = CellDecoder()
    cells = dec.feed(received)
    dec.set_link_version(5)
    cells += dec.feed(b"")
    assert [(c[0], c[1]) for c in cells] == [(0, 7), (0, 129), (0, 130), (0, 8)]
    assert cells[0][2] == bytes.fromhex("000300040005")
    assert b"".join(encode_cell(c[0], c[1], c[2], None if c[1] == 7 else 5)
                    for c in cells) == received


cell_strategy = st.tuples(
    st.integers(0, 0xFFFFFFFF),
    st.sampled_from([0, 3, 4, 8, 9, 10, 11, 128, 129, 130, 131, 200]),
    st.binary(max_size=600),
).filter(lambda c: is_var_length(c[1]) or len(c[2]) <= PAYLOAD_LEN)


@given(st.lists(cell_strategy, max_size=8), st.lists(st.integers(1, 700), max_size=20))
def test_decoder_reassembles_any_chunking(cells: list[tuple[int, int, bytes]],
                                          cuts: list[int]) -> None:
    stream = b"".join(encode_cell(*c, 4) for c in cells)
    dec = CellDecoder(4)
    out = []
    pos = 0
    for cut in cuts:
        out += dec.feed(stream[pos : pos + cut])
        pos += cut
    out += dec.feed(stream[pos:])
    expected = [(c[0], c[1], c[2] if is_var_length(c[1]) else c[2].ljust(PAYLOAD_LEN, b"\0"))
                for c in cells]
    assert out == expected
    assert dec.buffered == 0


@given(st.binary(max_size=2000))
def test_decoder_never_raises_on_random_bytes(data: bytes) -> None:
    dec = CellDecoder(5)
    cells = dec.feed(data)
    assert sum(len(encode_cell(c[0], c[1], c[2], 5)) for c in cells) + dec.buffered == len(data)


@given(st.lists(cell_strategy, max_size=6), st.integers(0, 3000))
def test_decoder_takes_any_buffer_type_and_returns_bytes(cells: list[tuple[int, int, bytes]],
                                                         cut: int) -> None:
    """bytearray and memoryview input decode like bytes; payloads are always `bytes` (the
    caller may keep them after the buffer it passed is reused)."""
    stream = bytearray(b"".join(encode_cell(*c, 5) for c in cells))
    dec = CellDecoder(5)
    out = dec.feed(memoryview(stream)[:cut]) + dec.feed(stream[cut:])
    stream[:] = bytes(len(stream))
    assert [c[:2] for c in out] == [c[:2] for c in cells]
    assert all(type(c[2]) is bytes for c in out)
    assert b"".join(encode_cell(*c, 5) for c in out) == b"".join(encode_cell(*c, 5) for c in cells)
