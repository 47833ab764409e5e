"""CREATE2, CREATED2, CREATE_FAST, CREATED_FAST, DESTROY payloads (tor-spec 5.1, 5.1.5, 5.4)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.cells.circuit import (
    CELL_PAYLOAD_LEN,
    Create2,
    Created2,
    CreatedFast,
    CreateFast,
    Destroy,
    DestroyReason,
    HandshakeType,
)
from zwiebel.cells.framing import ChannelCommand
from zwiebel.encoding import ParseError


def test_create2_bytes() -> None:
    onionskin = bytes(range(84))
    payload = Create2(HandshakeType.NTOR, onionskin).encode()
    assert len(payload) == CELL_PAYLOAD_LEN
    assert payload[:4] == bytes.fromhex("00020054")
    assert payload[4:88] == onionskin and payload[88:] == bytes(509 - 88)
    decoded = Create2.decode(payload)
    assert decoded == Create2(2, onionskin) and decoded.htype is HandshakeType.NTOR
    assert Create2.command is ChannelCommand.CREATE2


def test_created2_and_fast_and_destroy_bytes() -> None:
    assert Created2(b"\xaa" * 64).encode()[:3] == b"\x00\x40\xaa"
    assert CreateFast(b"\x01" * 20).encode() == b"\x01" * 20 + bytes(489)
    cf = CreatedFast(b"\x02" * 20, b"\x03" * 20)
    assert CreatedFast.decode(cf.encode()) == cf
    assert Destroy(DestroyReason.PROTOCOL).encode() == b"\x01" + bytes(508)
    assert Destroy.decode(b"\x0b" + bytes(508)).reason is DestroyReason.DESTROYED
    assert Destroy.decode(b"\xee" + bytes(508)).reason == 0xEE  # unknown reasons kept


@pytest.mark.parametrize(
    "payload",
    [bytes(508), bytes(510), b"\x00\x02\x01\xfe" + bytes(505), b"\x00\x02\x01\xfa" + bytes(505)],
)
def test_create2_malformed(payload: bytes) -> None:
    with pytest.raises(ParseError):
        Create2.decode(payload)


def test_created2_hlen_past_end() -> None:
    with pytest.raises(ParseError):
        Created2.decode(b"\x01\xfe" + bytes(507))


def test_construction_limits() -> None:
    with pytest.raises(ValueError):
        Create2(2, bytes(506))
    with pytest.raises(ValueError):
        CreateFast(bytes(19))
    with pytest.raises(ValueError):
        Destroy(256)


@given(st.integers(0, 0xFFFF), st.binary(max_size=505))
def test_create2_round_trip(htype: int, hdata: bytes) -> None:
    assert Create2.decode(Create2(htype, hdata).encode()) == Create2(htype, hdata)


@given(st.binary(max_size=507))
def test_created2_round_trip(hdata: bytes) -> None:
    assert Created2.decode(Created2(hdata).encode()) == Created2(hdata)


@given(
    st.binary(min_size=20, max_size=20), st.binary(min_size=20, max_size=20), st.integers(0, 255)
)
def test_fast_and_destroy_round_trip(a: bytes, b: bytes, reason: int) -> None:
    assert CreateFast.decode(CreateFast(a).encode()) == CreateFast(a)
    assert CreatedFast.decode(CreatedFast(a, b).encode()) == CreatedFast(a, b)
    assert Destroy.decode(Destroy(reason).encode()) == Destroy(reason)


@given(st.binary(min_size=505, max_size=512))
def test_random_payloads_only_parse_error(data: bytes) -> None:
    for cls in (Create2, Created2, CreateFast, CreatedFast, Destroy):
        with contextlib.suppress(ParseError):
            cls.decode(data)
