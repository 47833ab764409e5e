"""Link-handshake message codecs (tor-spec 4.1-4.5), on real tor bytes and generated ones."""

from __future__ import annotations

import contextlib
import ipaddress
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.cells.framing import CellDecoder, ChannelCommand
from zwiebel.cells.link import (
    Auth0003,
    AuthChallenge,
    Authenticate,
    Certs,
    Netinfo,
    Padding,
    UnknownAddress,
    Unrecognized,
    Versions,
    VPadding,
    decode_link_message,
)
from zwiebel.encoding import ParseError

VECTOR = Path(__file__).parents[2] / "vectors" / "link" / "tor-0.4.9.11-responder.json"


def real_cells() -> list[tuple[int, int, bytes]]:
    """The four cells tor 0.4.9.11 sent in the captured handshake."""
    dec = CellDecoder()
    cells = dec.feed(bytes.fromhex(json.loads(VECTOR.read_text())["received_hex"]))
    dec.set_link_version(5)
    return cells + dec.feed(b"")


def test_real_versions_certs_auth_challenge_netinfo() -> None:
    versions, certs, challenge, netinfo = (decode_link_message(c[1], c[2]) for c in real_cells())
    assert versions == Versions((3, 4, 5))
    assert isinstance(certs, Certs) and [t for t, _ in certs.certs] == [1, 2, 4, 5, 7]
    assert certs.encode() == real_cells()[1][2]
    assert isinstance(challenge, AuthChallenge) and challenge.methods == (3,)
    assert challenge.encode() == real_cells()[2][2]
    assert isinstance(netinfo, Netinfo)
    assert netinfo == Netinfo(netinfo.timestamp, ipaddress.IPv4Address("127.0.0.1"),
                              (ipaddress.IPv4Address("127.0.0.1"),))
    assert real_cells()[3][2] == netinfo.encode().ljust(509, b"\0")


def test_versions() -> None:
    assert Versions((4, 5)).encode() == b"\x00\x04\x00\x05"
    assert Versions.decode(b"\x00\x03\x00\x04\x00\x05").best_common((4, 5)) == 5
    assert Versions((3,)).best_common((4, 5)) is None
    with pytest.raises(ParseError):
        Versions.decode(b"\x00\x04\x00")


def test_client_netinfo_bytes() -> None:
    """What tor's clients send: timestamp 0, the peer's address, no own addresses."""
    cell = Netinfo(0, ipaddress.IPv4Address("192.0.2.7"))
    assert cell.encode() == bytes.fromhex("00000000" "0404c0000207" "00")
    v6 = Netinfo(5, ipaddress.IPv6Address("2001:db8::1"), (UnknownAddress(9, b"xy"),))
    assert v6.encode() == (bytes.fromhex("00000005" "0610" "20010db8000000000000000000000001")
                           + b"\x01\x09\x02xy")


def test_netinfo_address_length_must_match_type() -> None:
    with pytest.raises(ParseError):
        Netinfo.decode(bytes.fromhex("00000000" "0405c000020700" "00"))
    with pytest.raises(ParseError):
        Netinfo.decode(bytes.fromhex("00000000" "060400000000" "00"))


def test_trailing_bytes_are_ignored_where_the_spec_says_so() -> None:
    assert Certs.decode(b"\x00junk") == Certs(())
    assert AuthChallenge.decode(bytes(32) + b"\x00\x01\x00\x03tail").methods == (3,)
    assert Authenticate.decode(b"\x00\x03\x00\x01Zextra") == Authenticate(3, b"Z")


def test_auth0003_layout() -> None:
    fields = {name: bytes([i]) * 32 for i, name in enumerate(
        ["cid", "sid", "cid_ed", "sid_ed", "slog", "clog", "scert", "tlssecrets"])}
    body = Auth0003(**fields, rand=b"R" * 24, sig=b"S" * 64)
    encoded = body.encode()
    assert encoded[:8] == b"AUTH0003" and len(encoded) == 8 + 256 + 24 + 64
    assert encoded[8 + 32 * 4 : 8 + 32 * 5] == b"\x04" * 32
    assert Auth0003.decode(encoded) == body
    assert body.signed_part() == encoded[:-64]
    with pytest.raises(ParseError):
        Auth0003.decode(b"AUTH0001" + encoded[8:])


def test_padding_and_unknown() -> None:
    assert decode_link_message(0, bytes(509)) == Padding()
    assert decode_link_message(128, bytes(7)) == VPadding(7)
    assert decode_link_message(3, b"relay") == Unrecognized(3, b"relay")
    assert decode_link_message(ChannelCommand.AUTHORIZE, b"") == Unrecognized(132, b"")


addresses = st.one_of(
    st.ip_addresses(v=4), st.ip_addresses(v=6),
    st.builds(UnknownAddress, st.integers(0, 255).filter(lambda t: t not in (4, 6)),
              st.binary(max_size=20)),
)
u16 = st.integers(0, 0xFFFF)
messages = st.one_of(
    st.builds(Versions, st.lists(u16, max_size=10).map(tuple)),
    st.builds(Certs, st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=300)),
                              max_size=6).map(tuple)),
    st.builds(AuthChallenge, st.binary(min_size=32, max_size=32),
              st.lists(u16, max_size=5).map(tuple)),
    st.builds(Authenticate, u16, st.binary(max_size=400)),
    st.builds(Netinfo, st.integers(0, 2**32 - 1), addresses,
              st.lists(addresses, max_size=4).map(tuple)),
    st.builds(VPadding, st.integers(0, 1000)),
    st.just(Padding()),
)


@given(messages)
def test_decode_encode_roundtrip(
        msg: Versions | Certs | AuthChallenge | Authenticate | Netinfo | VPadding | Padding,
) -> None:
    assert decode_link_message(msg.COMMAND, msg.encode()) == msg


@given(st.sampled_from([7, 8, 129, 130, 131]), st.binary(max_size=600))
def test_random_payloads_raise_only_parse_error(command: int, payload: bytes) -> None:
    with contextlib.suppress(ParseError):
        decode_link_message(command, payload)


@given(st.binary(max_size=400))
def test_random_auth0003_raise_only_parse_error(body: bytes) -> None:
    with contextlib.suppress(ParseError):
        Auth0003.decode(body)
