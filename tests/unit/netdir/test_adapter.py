"""RelayInfo/NetDir from real tor documents (tests/vectors/netdoc: a private network of
tor 0.4.9.11 relays, see its README): both consensus flavors, family, IPv6, policies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from tests.unit.netdir.support import HashRng
from tests.unit.netdoc.vectors import load
from zwiebel.netdir import (
    NetDir,
    NoPathError,
    PathRestrictions,
    Position,
    Purpose,
    choose_path,
    in_same_family,
)
from zwiebel.netdir.adapter import netdir_from_documents, relays_from_documents
from zwiebel.netdoc.consensus import parse_consensus
from zwiebel.netdoc.microdesc import parse_microdescs
from zwiebel.netdoc.policy import ExitPolicy, PolicySummary
from zwiebel.netdoc.serverdesc import parse_server_descriptors

RELAY0 = bytes.fromhex("06594DD7602CEAB1457144C258D3D702D135E459")
EXIT0 = bytes.fromhex("6C468FFF6BCD7AE3821761CCC1DD9AE4DDD35B3C")
AUTH0 = bytes.fromhex("44FCFC34A6DC17BC0DB143E36F6E71BD099A7893")


def _micro() -> NetDir:
    consensus = parse_consensus(load("consensus-microdesc"))
    return netdir_from_documents(consensus, parse_microdescs(load("micro-all")))


def _ns() -> NetDir:
    consensus = parse_consensus(load("consensus"))
    return netdir_from_documents(consensus, parse_server_descriptors(load("server-all")))


@pytest.mark.parametrize("make", [_micro, _ns])
def test_relays_merged_with_their_documents(make: Callable[[], NetDir]) -> None:
    netdir = make()
    assert [r.nickname for r in netdir] == ["relay0", "auth0", "exit0"]
    assert all(r.is_usable() for r in netdir)
    relay0, auth0, exit0 = (netdir.by_rsa_id(i) for i in (RELAY0, AUTH0, EXIT0))
    assert relay0 is not None and auth0 is not None and exit0 is not None
    assert relay0.ipv6_addresses == (("::1", 23021),)
    assert relay0.ntor_onion_key is not None and len(relay0.ntor_onion_key) == 32
    assert relay0.ed25519_identity is not None
    assert in_same_family(relay0, exit0) and not in_same_family(relay0, auth0)
    assert exit0.exit_allows(None, 443) and not exit0.exit_allows(None, 22)
    assert not exit0.policy_rejects_all
    assert relay0.policy_rejects_all and auth0.policy_rejects_all
    assert netdir.bandwidth_weights["Wgd"] == 3333
    assert netdir.params["circwindow"] == 1000
    # Bandwidth=0 everywhere: weights are zero, choice falls back to uniform
    assert netdir.weight(exit0, Position.EXIT) == 0


def test_policy_types_by_flavor() -> None:
    micro_exit = _micro().by_rsa_id(EXIT0)
    assert micro_exit is not None and isinstance(micro_exit.exit_policy, PolicySummary)
    exit0 = _ns().by_rsa_id(EXIT0)
    assert exit0 is not None and isinstance(exit0.exit_policy, ExitPolicy)
    assert exit0.exit_allows("192.0.2.1", 80)


def test_missing_documents_leave_relays_unusable() -> None:
    consensus = parse_consensus(load("consensus-microdesc"))
    relays = relays_from_documents(consensus, [])
    assert [r.is_usable() for r in relays] == [False, False, False]
    assert all(r.ntor_onion_key is None and r.policy_rejects_all for r in relays)
    assert relays_from_documents(parse_consensus(load("consensus")), [])[0].family == frozenset()


def test_paths_on_the_real_network_respect_family_and_subnet() -> None:
    netdir = _micro()
    rng = HashRng(b"real")
    # every relay is on 127.0.0.1: /16 rule leaves no path
    with pytest.raises(NoPathError):
        choose_path(netdir, Purpose.EXIT, 443, None, rng, PathRestrictions())
    # without it, relay0 and exit0 are one family, so no 3-hop path through exit0 either
    lax = PathRestrictions(enforce_distinct_subnets=False)
    with pytest.raises(NoPathError):
        choose_path(netdir, Purpose.EXIT, 443, None, rng, lax)
    # drop relay0's family declaration: relay0 may now be the middle
    relays = [replace(r, family=frozenset()) if r.rsa_identity == RELAY0 else r for r in netdir]
    open_family = NetDir(relays, netdir.params, netdir.bandwidth_weights)
    path = choose_path(open_family, Purpose.EXIT, 443, None, rng, lax)
    assert path[2].nickname == "exit0"
    assert {path[0].nickname, path[1].nickname} == {"auth0", "relay0"}
