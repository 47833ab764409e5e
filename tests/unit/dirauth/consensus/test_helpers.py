"""Version order, protocol votes, IPv6 text and counting helpers.

Vectors: tor 0.4.9.11's own unit tests (src/test/test_dir.c test_dir_versions,
src/test/test_protover.c test_protover_vote) and tor_inet_ntop's documented forms.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.dirauth.consensus.entry import ipv6_text
from zwiebel.dirauth.consensus.protover import compute_protocol_vote, encode_mask, parse_protocols
from zwiebel.dirauth.consensus.tally import c_div, frequent_members, low_median, most_frequent
from zwiebel.dirauth.consensus.versions import compare_versions, parse_version, sort_versions

PRE, RC, RELEASE = 0, 1, 2


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        ("0.3.4pre2-cvs", (0, 3, 4, PRE, 2, b"cvs")),
        ("0.3.4rc1", (0, 3, 4, RC, 1, b"")),
        ("1.3.4", (1, 3, 4, RELEASE, 0, b"")),
        ("1.3.4.999", (1, 3, 4, RELEASE, 999, b"")),
        ("0.1.2.4-alpha", (0, 1, 2, RELEASE, 4, b"alpha")),
        ("10.1", (10, 1, 0, RELEASE, 0, b"")),
        ("5.99.999", (5, 99, 999, RELEASE, 0, b"")),
        ("10.1-alpha", (10, 1, 0, RELEASE, 0, b"alpha")),
        ("2.1.700-alpha", (2, 1, 700, RELEASE, 0, b"alpha")),
        ("1.6.8-alpha-dev", (1, 6, 8, RELEASE, 0, b"alpha-dev")),
        ("0.2.9.6-rc-dev", (0, 2, 9, RELEASE, 6, b"rc-dev")),
        ("0.2.9.9-dev", (0, 2, 9, RELEASE, 9, b"dev")),
        ("0.2147483647.0", (0, 2147483647, 0, RELEASE, 0, b"")),
        ("Tor 0.4.9.11", (0, 4, 9, RELEASE, 11, b"")),
        ("tor 0.4.9.11 (git-abcd)", (0, 4, 9, RELEASE, 11, b"")),
    ],
)
def test_parse_version(text: str, fields: tuple[object, ...]) -> None:
    key = parse_version(text)
    assert key is not None and key[:6] == fields


@pytest.mark.parametrize(
    "text",
    ["0.2147483648.0", "0.4294967295.0", "0.-1.0", "0.-0.0", "+1.0.0", "1", "x.1", "0.1.2x3"],
)
def test_unparseable_versions(text: str) -> None:
    assert parse_version(text) is None


def test_git_tag_and_svn() -> None:
    assert parse_version("0.4.9.11 (git-0a1B)") == (0, 4, 9, RELEASE, 11, b"", 0, 2, b"\x0a\x1b")
    assert parse_version("0.4.9.11 (r1234)") == (0, 4, 9, RELEASE, 11, b"", 1234, 0, b"")
    assert parse_version("0.4.9.11 (git-abc)") is None


def test_version_order() -> None:
    assert compare_versions("0.0.7rc2", "0.0.7") < 0
    assert compare_versions("0.0.2pre1", "0.0.2") < 0
    assert compare_versions("0.2.9.9", "0.2.9.9-dev") < 0  # "" sorts before "dev"
    assert compare_versions("Tor 0.4.9.11", "0.4.9.11") == 0
    assert compare_versions("0.4.9.11", "BetterTor 1") < 0  # parsed before unparsed
    assert compare_versions("b", "a") > 0
    ordered = ["0.4.9.11", "0.4.8.10", "junk", "0.4.9.10-alpha", "0.4.8.10"]
    assert sort_versions(ordered) == ["0.4.8.10", "0.4.8.10", "0.4.9.10-alpha", "0.4.9.11", "junk"]
    assert sort_versions(ordered, remove_duplicates=True) == [
        "0.4.8.10",
        "0.4.9.10-alpha",
        "0.4.9.11",
        "junk",
    ]


def test_protocol_vote_tor_cases() -> None:
    assert compute_protocol_vote([], 1) == ""
    one = ["Foo=1-10,63 Bar=1,3-7,8"]
    assert compute_protocol_vote(one, 1) == "Bar=1,3-8 Foo=1-10,63"
    two = [*one, "Quux=12-45 Bar=2-6,8 Foo=9"]
    assert compute_protocol_vote(two, 1) == "Bar=1-8 Foo=1-10,63 Quux=12-45"
    assert compute_protocol_vote(two, 2) == "Bar=3-6,8 Foo=9"
    assert compute_protocol_vote(two, 3) == ""
    assert compute_protocol_vote(["Foo=1 Foo=1", "Bar=1-2,2-3"], 2) == ""
    assert compute_protocol_vote(["Faux=10-5"], 1) == ""
    assert compute_protocol_vote(["Faux=-0"], 1) == ""
    assert compute_protocol_vote(["Sleen=1-63"], 1) == "Sleen=1-63"
    assert compute_protocol_vote(["DoS" + "a" * 138 + "=1"], 1) == ""


def test_protocol_list_syntax() -> None:
    assert parse_protocols("") == []
    assert parse_protocols("A=1  B=2 ") == [("A", 2), ("B", 4)]
    assert parse_protocols("A=") == [("A", 0)]
    for bad in (" A=1", "A=1,", "A=,1", "A=64", "A=1-2-3", "A", "=1", "A_B=1", "A=١"):
        assert parse_protocols(bad) is None
    assert encode_mask((1 << 64) - 1) == "0-63"


@given(st.integers(0, 2**64 - 1))
def test_mask_round_trip(mask: int) -> None:
    parsed = parse_protocols(f"X={encode_mask(mask)}")
    assert parsed == [("X", mask)]


@pytest.mark.parametrize(
    ("address", "text"),
    [
        ("2001:db8::1", "2001:db8::1"),
        ("::1", "::1"),
        ("1::", "1::"),
        ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
        ("1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0"),
        ("::ffff:1.2.3.4", "::ffff:1.2.3.4"),
        ("::1.2.3.4", "::1.2.3.4"),
        ("::", "::"),
        ("FE80::AB", "fe80::ab"),
    ],
)
def test_ipv6_text(address: str, text: str) -> None:
    assert ipv6_text(ipaddress.IPv6Address(address).packed) == text


def test_counting_helpers() -> None:
    assert low_median([5, 1, 4, 2]) == 2
    assert low_median([3]) == 3
    assert most_frequent(["a", "a", "b", "b"]) == "b"
    assert most_frequent(["a", "a", "a", "b", "b"]) == "a"
    assert most_frequent([]) is None
    assert frequent_members(["a", "a", "b", "c", "c", "c"], 1) == ["a", "c"]
    assert (c_div(-7, 2), c_div(7, -2), c_div(7, 2), c_div(-7, -2)) == (-3, -3, 3, 3)
