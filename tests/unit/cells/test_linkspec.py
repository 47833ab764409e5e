"""Link specifiers (tor-spec 5.1.2)."""

from __future__ import annotations

import contextlib
from ipaddress import IPv4Address, IPv6Address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.cells.linkspec import (
    LinkSpecEd25519Id,
    LinkSpecifier,
    LinkSpecIPv4,
    LinkSpecIPv6,
    LinkSpecLegacyId,
    LinkSpecUnrecognized,
    canonical_order,
    check_unique_identities,
    encode_link_specifier,
    encode_link_specifiers,
    read_link_specifiers,
)
from zwiebel.encoding import ParseError, Reader

ports = st.integers(0, 0xFFFF)
specs: st.SearchStrategy[LinkSpecifier] = st.one_of(
    st.builds(LinkSpecIPv4, st.ip_addresses(v=4), ports),
    st.builds(LinkSpecIPv6, st.ip_addresses(v=6), ports),
    st.builds(LinkSpecLegacyId, st.binary(min_size=20, max_size=20)),
    st.builds(LinkSpecEd25519Id, st.binary(min_size=32, max_size=32)),
    st.builds(LinkSpecUnrecognized, st.integers(4, 255), st.binary(max_size=255)),
)


def test_bytes() -> None:
    assert encode_link_specifier(LinkSpecIPv4(IPv4Address("127.0.0.1"), 9001)) == bytes.fromhex(
        "00067f0000012329"
    )
    v6 = encode_link_specifier(LinkSpecIPv6(IPv6Address("::1"), 443))
    assert v6 == bytes.fromhex("0112" + "00" * 15 + "01" + "01bb")
    assert encode_link_specifier(LinkSpecLegacyId(b"\x11" * 20)) == b"\x02\x14" + b"\x11" * 20
    assert encode_link_specifier(LinkSpecEd25519Id(b"\x22" * 32)) == b"\x03\x20" + b"\x22" * 32


def test_unknown_kept_verbatim() -> None:
    raw = bytes.fromhex("020903aabbcc00067f0000012329")
    parsed = read_link_specifiers(Reader(raw))
    assert parsed[0] == LinkSpecUnrecognized(9, b"\xaa\xbb\xcc")
    assert encode_link_specifiers(parsed) == raw


@pytest.mark.parametrize("raw", ["01000500000000", "010213" + "00" * 19, "01", "0100"])
def test_malformed(raw: str) -> None:
    with pytest.raises(ParseError):
        read_link_specifiers(Reader(bytes.fromhex(raw)))


def test_order_and_uniqueness() -> None:
    v4 = LinkSpecIPv4(IPv4Address("1.2.3.4"), 1)
    v6 = LinkSpecIPv6(IPv6Address("::2"), 2)
    rsa, ed = LinkSpecLegacyId(bytes(20)), LinkSpecEd25519Id(bytes(32))
    assert canonical_order([v6, ed, rsa, v4]) == (v4, rsa, ed, v6)
    check_unique_identities([v4, rsa, ed, v6])
    with pytest.raises(ParseError):
        check_unique_identities([rsa, v4, rsa])


def test_unrecognized_cannot_shadow_known_types() -> None:
    with pytest.raises(ValueError):
        LinkSpecUnrecognized(2, bytes(20))


@given(st.lists(specs, max_size=10))
def test_round_trip(items: list[LinkSpecifier]) -> None:
    r = Reader(encode_link_specifiers(items))
    assert read_link_specifiers(r) == tuple(items)
    assert r.remaining == 0


@given(st.binary(max_size=80))
def test_random_bytes_only_parse_error(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        read_link_specifiers(Reader(data))
