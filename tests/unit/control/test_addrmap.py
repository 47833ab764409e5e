"""The address map (control/addrmap.py) against tor's addressmap.c rules, and the
GeoIP file parser (control/geoip.py) on lines in tor's geoip/geoip6 format."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.control.addrmap import AddressMap, AddressMapError, is_invalid_map_target
from zwiebel.control.geoip import parse_geoip


def test_plain_and_wildcard_mappings() -> None:
    amap = AddressMap()
    amap.register("a.example", "b.example")
    amap.register("b.example", "10.0.0.1")
    amap.register("*.wild.example", "*.other.example")
    amap.register("*.any.example", "fixed.example")
    assert amap.rewrite("A.EXAMPLE") == "10.0.0.1"
    assert amap.rewrite("x.y.wild.example") == "x.y.other.example"
    assert amap.rewrite("deep.any.example") == "fixed.example"
    assert amap.rewrite("unmapped.example") == "unmapped.example"
    assert amap.lines() == ["a.example b.example NEVER", "b.example 10.0.0.1 NEVER",
                            "*.wild.example *.other.example NEVER",
                            "*.any.example fixed.example NEVER"]
    assert amap.register("a.example", "a.example") is None  # maps to itself: removed
    assert amap.rewrite("a.example") == "a.example"


def test_rewrite_loops_stop_after_sixteen() -> None:
    amap = AddressMap()
    amap.register("x.example", "y.example")
    amap.register("y.example", "x.example")
    assert amap.rewrite("x.example") in ("x.example", "y.example")


@pytest.mark.parametrize(("source", "target", "message"), [
    ("*", "a.example", "can't remap from or to *"),
    ("a.example", "*.b.example", "can only use wildcard (i.e. '*.') if 'from' address "
                                 "uses wildcard also"),
    ("a.example", "bad host!", "destination is invalid"),
])
def test_refused_mappings(source: str, target: str, message: str) -> None:
    with pytest.raises(AddressMapError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace(".", r"\.").replace("*", r"\*")):
        AddressMap().register(source, target)


def test_invalid_targets() -> None:
    assert is_invalid_map_target("a b")
    assert not is_invalid_map_target("*.example.com")
    assert not is_invalid_map_target("::1")


def test_virtual_addresses_are_in_range_and_reused() -> None:
    amap = AddressMap()
    rng = random.Random(7).randrange
    v4 = amap.register_virtual("ipv4", "dest.example", rng)
    assert v4 is not None
    assert v4.startswith("127.") and int(v4.split(".")[1]) & 0xC0 == 0xC0
    assert v4.split(".")[3] not in ("0", "255")
    assert amap.register_virtual("ipv4", "dest.example", rng) == v4
    v6 = amap.register_virtual("ipv6", "dest.example", rng)
    assert v6 is not None and v6.startswith("[fe") and v6.endswith("]")
    host = amap.register_virtual("hostname", "dest.example", rng)
    assert host is not None and host.endswith(".virtual") and len(host) == 16 + 8
    for alias in (v4, v6, v6.strip("[]"), host):
        assert amap.rewrite(alias) == "dest.example"


GEOIP4 = """# tor geoip file: INTIPLOW,INTIPHIGH,CC
16777216,16777471,AU
"16777472","16778239","CN","China"
3232235520,3232301055,ZZ
not a line
"""
GEOIP6 = """# tor geoip6 file
2001:db8::,2001:db8::ffff,DE
2001:db9::,2001:db9::1,nl
"""


def test_geoip_lookups() -> None:
    v4 = parse_geoip(GEOIP4, ipv6=False)
    assert v4.country(16777216) == "au"
    assert v4.country(16777999) == "cn"
    assert v4.country(3232235777) == "zz"  # 192.168.1.1
    assert v4.country(5) == "??"
    assert v4.bad_lines == ["not a line"]
    v6 = parse_geoip(GEOIP6, ipv6=True)
    assert v6.country(int.from_bytes(bytes.fromhex("20010db8" + "00" * 11 + "05"))) == "de"
    assert v6.country(1) == "??"


@given(st.text())
def test_geoip_parser_never_raises(text: str) -> None:
    parse_geoip(text, ipv6=False)
    parse_geoip(text, ipv6=True)
