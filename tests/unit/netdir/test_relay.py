"""RelayInfo rules: usability, family (mutual, $HEX and nickname forms), same network,
exit policy checks."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.unit.netdir.support import Full, Ports, fp, ident, relay
from zwiebel.netdir import NetDir, RelayInfo, in_same_family, in_same_network


def test_usable_needs_running_valid_ntor_and_relay2() -> None:
    base = relay(1)
    assert base.is_usable()
    assert not replace(base, flags=base.flags - {"Running"}).is_usable()
    assert not replace(base, flags=base.flags - {"Valid"}).is_usable()
    assert not relay(1, ntor=False).is_usable()
    assert not replace(base, protocols={"Relay": frozenset({1})}).is_usable()
    assert not replace(base, protocols={}).is_usable()


def test_bad_lengths_rejected() -> None:
    with pytest.raises(ValueError):
        RelayInfo("x", b"\x01" * 19, None, "1.2.3.4", 1)
    with pytest.raises(ValueError):
        RelayInfo("x", b"\x01" * 20, b"\x01" * 31, "1.2.3.4", 1)


def test_family_must_be_mutual() -> None:
    a = relay(1, family={fp(2)})
    b = relay(2, family={fp(1)})
    c = relay(3, family={fp(1)})
    assert in_same_family(a, b) and in_same_family(b, a)
    assert not in_same_family(a, c)  # c lists a, a does not list c


def test_family_nickname_and_decorated_forms() -> None:
    a = relay(1, nickname="Alpha", family={"beta"})
    b = relay(2, nickname="Beta", family={fp(1) + "=alpha"})
    assert in_same_family(a, b)
    wrong_nick = relay(2, nickname="Beta", family={fp(1) + "~gamma"})
    assert not in_same_family(a, wrong_nick)
    lower_hex = relay(2, nickname="Beta", family={fp(1).lower()})
    assert in_same_family(a, lower_hex)


def test_same_network_ipv4_16_and_ipv6_32() -> None:
    assert in_same_network(relay(1, address="10.1.2.3"), relay(2, address="10.1.200.9"))
    assert not in_same_network(relay(1, address="10.1.2.3"), relay(2, address="10.2.2.3"))
    a = relay(1, address="10.1.0.1", ipv6=(("2001:db8:1::1", 9001),))
    b = relay(2, address="10.9.0.1", ipv6=(("2001:db8:ffff::2", 443),))
    c = relay(3, address="10.8.0.1", ipv6=(("2001:db9::2", 443),))
    assert in_same_network(a, b)
    assert not in_same_network(a, c)


def test_exit_allows_full_policy_and_summary() -> None:
    full = relay(1, policy=Full(frozenset({80, 443}), frozenset({"192.0.2.1"})))
    summary = relay(2, policy=Ports(frozenset({443})))
    none = relay(3)
    assert full.exit_allows(None, 80) and full.exit_allows("198.51.100.1", 443)
    assert not full.exit_allows("192.0.2.1", 80)
    assert summary.exit_allows("192.0.2.1", 443) and not summary.exit_allows(None, 80)
    assert not none.exit_allows(None, 80)
    assert not replace(full, policy_rejects_all=True).exit_allows(None, 80)


def test_netdir_lookups_and_params() -> None:
    relays = [relay(1, nickname="Same"), relay(2, nickname="same"), relay(3, nickname="Solo")]
    netdir = NetDir(relays, {"p": 50}, {})
    assert netdir.by_rsa_id(ident(1)) is relays[0]
    assert netdir.by_ed25519_id(relays[2].ed25519_identity or b"") is relays[2]
    assert netdir.by_nickname("SAME") == (relays[0], relays[1])
    assert netdir.lookup("solo") is relays[2]
    assert netdir.lookup("same") is None  # ambiguous
    assert netdir.lookup(fp(2)) is relays[1]
    assert netdir.lookup(fp(2)[1:] + "~same") is relays[1]
    assert netdir.lookup("$" + "ZZ" * 20) is None
    assert netdir.param("p", 1, 0, 10) == 10
    assert netdir.param("q", 7, 0, 10) == 7
    assert len(netdir) == 3 and list(netdir) == relays
    assert netdir.usable_relays() == tuple(relays)
