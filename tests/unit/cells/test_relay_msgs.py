"""Relay messages (tor-spec 5.1.2, 5.4, 6.2-6.4, 7.3.1) in the byte forms tor 0.4.9 uses.

Expected bytes follow the tor functions named in each test (connection_edge.c, relay.c,
sendme.c, onion.c); round trips and random input are property tests.
"""

from __future__ import annotations

import contextlib
from ipaddress import IPv4Address, IPv6Address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.cells.circuit import DestroyReason, HandshakeType
from zwiebel.cells.linkspec import LinkSpecEd25519Id, LinkSpecIPv4, LinkSpecLegacyId
from zwiebel.cells.relay import RelayCell, RelayCommand
from zwiebel.cells.relay_ctrl import Drop, Extend2, Extended2, Sendme, Truncate, Truncated
from zwiebel.cells.relay_message import (
    RelayMessage,
    Unrecognized,
    decode_cell,
    decode_message,
    encode_message,
)
from zwiebel.cells.relay_msgs import (
    Begin,
    BeginDir,
    BeginFlags,
    Connected,
    Data,
    End,
    EndReason,
    Resolve,
    Resolved,
    ResolvedAnswer,
    ResolvedType,
)
from zwiebel.encoding import ParseError


def _zero_rng(n: int) -> bytes:
    return bytes(n)


def test_begin_bytes() -> None:
    # connection_ap_handshake_send_begin(): "host:port\0", flags only when nonzero.
    assert Begin("example.com", 80).encode_body() == b"example.com:80\x00"
    flagged = Begin("::1", 443, BeginFlags.IPV6_OK | BeginFlags.IPV6_PREFERRED)
    assert flagged.encode_body() == b"[::1]:443\x00\x00\x00\x00\x05"
    assert Begin.decode_body(b"[::1]:443\x00\x00\x00\x00\x05") == flagged
    assert Begin.decode_body(b"10.0.0.1:22\x00\x00\x00") == Begin("10.0.0.1", 22)


@pytest.mark.parametrize(
    "raw",
    [
        b"example.com:80",
        b"example.com\x00",
        b"example.com:0\x00",
        b":80\x00",
        b"h:x\x00",
        b"\xff:80\x00",
        b"h:99999\x00",
    ],
)
def test_begin_malformed(raw: bytes) -> None:
    with pytest.raises(ParseError):
        Begin.decode_body(raw)


def test_end_forms() -> None:
    # connection_edge_end(): reason, plus address and TTL for EXITPOLICY.
    assert End(EndReason.DONE).encode_body() == b"\x06"
    exitpolicy = End(EndReason.EXITPOLICY, IPv4Address("192.0.2.7"), 300)
    assert exitpolicy.encode_body() == bytes.fromhex("04c00002070000012c")
    assert End.decode_body(exitpolicy.encode_body()) == exitpolicy
    v6 = End(EndReason.EXITPOLICY, IPv6Address("2001:db8::1"), 60)
    assert End.decode_body(v6.encode_body()) == v6
    assert End.decode_body(b"\x04\x01\x02") == End(EndReason.EXITPOLICY)  # bad length: ignored
    assert End.decode_body(b"\x04\x01\x02\x03\x04") == End(4, IPv4Address("1.2.3.4"))
    assert End.decode_body(b"") == End(EndReason.MISC)
    assert End.decode_body(b"\x63").reason == 99
    assert End.decode_body(b"\x06trailing") == End(EndReason.DONE)


def test_connected_forms() -> None:
    # connected_cell_format_payload() and connected_cell_parse().
    assert Connected().encode_body() == b""
    v4 = Connected(IPv4Address("198.51.100.2"), 3600)
    assert v4.encode_body() == bytes.fromhex("c633640200000e10")
    addr6 = IPv6Address("2001:db8::2")
    v6 = Connected(addr6, 7)
    assert v6.encode_body() == bytes(4) + b"\x06" + addr6.packed + b"\x00\x00\x00\x07"
    for msg in (v4, v6, Connected(IPv4Address("1.1.1.1"))):
        assert Connected.decode_body(msg.encode_body()) == msg
    for bad in (b"\x01\x02", bytes(4) + b"\x04" + bytes(20), bytes(8)):
        with pytest.raises(ParseError):
            Connected.decode_body(bad)


def test_resolved_answers() -> None:
    msg = Resolved(
        (
            ResolvedAnswer.of_address(IPv4Address("203.0.113.9"), 60),
            ResolvedAnswer.of_address(IPv6Address("2001:db8::9"), 61),
            ResolvedAnswer.of_hostname("example.org", 62),
        )
    )
    raw = msg.encode_body()
    assert raw[:10] == bytes.fromhex("0404cb0071090000003c")
    back = Resolved.decode_body(raw)
    assert back == msg
    assert back.answers[1].address == IPv6Address("2001:db8::9")
    assert back.answers[2].hostname == "example.org"
    err = ResolvedAnswer.of_error(transient=True)
    assert err.is_error and err.type is ResolvedType.ERROR_TRANSIENT
    assert Resolved.decode_body(Resolved((err,)).encode_body()).answers == (err,)
    assert Resolved.decode_body(b"\x99\x01x\x00\x00\x00\x00").answers[0].type == 0x99


@pytest.mark.parametrize("raw", ["040301020300000000", "000000000000", "0404010203", "04"])
def test_resolved_malformed(raw: str) -> None:
    with pytest.raises(ParseError):
        Resolved.decode_body(bytes.fromhex(raw))


def test_resolve_and_simple_messages() -> None:
    assert Resolve("example.com").encode_body() == b"example.com\x00"
    assert Resolve.decode_body(b"4.3.2.1.in-addr.arpa\x00junk") == Resolve("4.3.2.1.in-addr.arpa")
    assert BeginDir().encode_body() == b"" and BeginDir.decode_body(b"\x00" * 5) == BeginDir()
    assert Truncate.decode_body(b"x") == Truncate()
    assert Truncated(DestroyReason.CONNECTFAILED).encode_body() == b"\x06"
    with pytest.raises(ParseError):
        Truncated.decode_body(b"")
    assert Drop().encode_body() == b""


def test_sendme_forms() -> None:
    # sendme.c: v1 is VERSION=1, DATA_LEN=20, DIGEST; v0 is an empty body.
    digest = bytes(range(20))
    assert Sendme.v1(digest).encode_body() == b"\x01\x00\x14" + digest
    assert Sendme().encode_body() == b""
    assert Sendme.decode_body(b"") == Sendme()
    assert Sendme.decode_body(b"\x01\x00\x14" + digest).digest == digest
    assert Sendme.decode_body(b"\x01\x00\x15" + digest + b"x").digest is None
    with pytest.raises(ParseError):
        Sendme.decode_body(b"\x01\x00\x14" + digest[:19])


def test_extend2_bytes() -> None:
    specs = (
        LinkSpecIPv4(IPv4Address("127.0.0.1"), 5000),
        LinkSpecLegacyId(b"\x11" * 20),
        LinkSpecEd25519Id(b"\x22" * 32),
    )
    msg = Extend2(specs, HandshakeType.NTOR_V3, b"\x33" * 100)
    raw = msg.encode_body()
    assert raw[0] == 3 and raw[1:9] == bytes.fromhex("00067f0000011388")
    assert raw[9 + 22 + 34 :][:4] == bytes.fromhex("00030064")
    assert Extend2.decode_body(raw) == msg
    assert msg.create2().hdata == b"\x33" * 100
    with pytest.raises(ValueError):
        Extend2(specs, 2, bytes(440)).encode_body()
    ext = Extended2(b"\x44" * 64)
    assert ext.encode_body() == b"\x00\x40" + b"\x44" * 64
    assert Extended2.decode_body(ext.encode_body() + b"pad") == ext


def test_dispatch_and_cells() -> None:
    assert decode_message(RelayCommand.DATA, b"abc") == Data(b"abc")
    unknown = decode_message(RelayCommand.INTRODUCE1, b"\x01")
    assert unknown == Unrecognized(RelayCommand.INTRODUCE1, b"\x01")
    assert decode_message(250, b"") == Unrecognized(250, b"")
    body = encode_message(Begin("example.com", 443), 9, _zero_rng)
    assert body[:11] == bytes.fromhex("0100000009000000000010")
    assert decode_cell(body) == (9, Begin("example.com", 443))
    assert decode_cell(encode_message(unknown, 0, _zero_rng)) == (0, unknown)


ip4 = st.ip_addresses(v=4).filter(lambda a: int(a) != 0)
ip6 = st.ip_addresses(v=6)
ttl = st.integers(0, 0xFFFFFFFF)
host = st.from_regex(r"[a-z0-9.-]{1,60}", fullmatch=True)
answers = st.one_of(
    st.builds(ResolvedAnswer.of_address, ip4 | ip6, ttl),
    st.builds(ResolvedAnswer.of_hostname, host, ttl),
    st.builds(ResolvedAnswer.of_error, st.booleans(), ttl),
)
messages: st.SearchStrategy[RelayMessage] = st.one_of(
    st.builds(Begin, host, st.integers(1, 0xFFFF), st.integers(0, 0xFFFFFFFF)),
    st.builds(Begin, ip6.map(str), st.integers(1, 0xFFFF)),
    st.just(BeginDir()),
    st.builds(Data, st.binary(max_size=498)),
    st.builds(End, st.integers(0, 255).filter(lambda r: r != 4)),
    st.builds(End, st.just(EndReason.EXITPOLICY), ip4 | ip6, ttl),
    st.just(Connected()),
    st.builds(Connected, ip4, ttl | st.none()),
    st.builds(Connected, ip6, ttl),
    st.builds(Resolve, host),
    st.builds(Resolved, st.lists(answers, max_size=5).map(tuple)),
    st.builds(Sendme.v1, st.binary(min_size=20, max_size=20)),
    st.builds(Sendme, st.integers(0, 255), st.binary(min_size=1, max_size=50)),
    st.builds(
        Extend2,
        st.lists(st.builds(LinkSpecLegacyId, st.binary(min_size=20, max_size=20)), max_size=3).map(
            tuple
        ),
        st.integers(0, 0xFFFF),
        st.binary(max_size=300),
    ),
    st.builds(Extended2, st.binary(max_size=496)),
    st.just(Truncate()),
    st.builds(Truncated, st.integers(0, 255)),
    st.builds(Drop, st.binary(max_size=498)),
)


@given(messages, st.integers(0, 0xFFFF))
def test_round_trip(msg: RelayMessage, stream_id: int) -> None:
    body = encode_message(msg, stream_id, _zero_rng)
    assert decode_cell(body) == (stream_id, msg)


@given(st.sampled_from(list(RelayCommand)), st.binary(max_size=498))
def test_random_bodies_only_parse_error(command: RelayCommand, data: bytes) -> None:
    with contextlib.suppress(ParseError):
        decode_message(command, data)


def test_relay_cell_with_unknown_command_is_unrecognized() -> None:
    cell = RelayCell(77, 3, b"payload")
    assert decode_cell(cell.encode(_zero_rng)) == (3, Unrecognized(77, b"payload"))
