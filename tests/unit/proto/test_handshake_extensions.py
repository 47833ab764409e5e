"""ntor-v3 message encoding (proposals/332 A.2 as tor's trunnel encodes it; proposals/324)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.encoding import ParseError
from zwiebel.proto.handshake.extensions import (
    Extension,
    ExtensionType,
    cc_request,
    cc_response,
    decode_extensions,
    encode_extensions,
    find_extension,
    parse_cc_response,
)

extensions = st.lists(
    st.builds(Extension, st.integers(0, 255), st.binary(max_size=255)), max_size=8
).map(tuple)


def test_congestion_control_bytes() -> None:
    # What tor sends with congestion control on: one extension, type 1, empty.
    assert encode_extensions([cc_request()]) == bytes.fromhex("010100")
    # tor's reply: type 2 carrying sendme_inc (31 is the consensus default cc_sendme_inc).
    assert encode_extensions([cc_response(31)]) == bytes.fromhex("0102011f")
    # No extensions at all is a single zero count.
    assert encode_extensions([]) == b"\x00"


def test_first_occurrence_wins_and_unknown_kept() -> None:
    exts = decode_extensions(bytes.fromhex("030901aa020105020107"))
    assert exts[0] == Extension(9, b"\xaa")
    found = find_extension(exts, ExtensionType.CC_RESPONSE)
    assert found is not None and parse_cc_response(found) == 5
    assert find_extension(exts, ExtensionType.CC_REQUEST) is None


@pytest.mark.parametrize("data", ["", "01", "0101", "010102aa", "0001"])
def test_malformed(data: str) -> None:
    with pytest.raises(ParseError):
        decode_extensions(bytes.fromhex(data))


def test_cc_response_needs_a_byte() -> None:
    with pytest.raises(ParseError):
        parse_cc_response(Extension(2))


@given(extensions)
def test_round_trip(exts: tuple[Extension, ...]) -> None:
    assert decode_extensions(encode_extensions(exts)) == exts


@given(st.binary(max_size=64))
def test_random_bytes_only_parse_error(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        decode_extensions(data)
