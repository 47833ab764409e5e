"""Consensus parsing and verification (dir-spec 3.4.1) against real tor 0.4.9.11 output."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

import pytest

from tests.unit.netdoc.vectors import flip, load, v3ident
from zwiebel.crypto.digest import sha1, sha256
from zwiebel.encoding import ParseError
from zwiebel.netdoc.authcert import parse_authority_certs
from zwiebel.netdoc.consensus import Consensus, parse_consensus
from zwiebel.netdoc.consensus_verify import ConsensusVerifyError, verify_consensus


def _signed_portion(text: str) -> bytes:
    """Independent cut: start of document through the space after "directory-signature"."""
    end = text.index("\ndirectory-signature ") + len("\ndirectory-signature ")
    return text[:end].encode()


def _now(c: Consensus) -> datetime:
    return c.valid_after + timedelta(seconds=5)


@pytest.mark.parametrize("name", ["consensus", "consensus-microdesc"])
def test_parse_both_flavors(name: str) -> None:
    text = load(name)
    c = parse_consensus(text)
    assert c.flavor == ("ns" if name == "consensus" else "microdesc")
    assert c.consensus_method == 35
    assert c.valid_until - c.valid_after == timedelta(seconds=20)
    assert c.fresh_until - c.valid_after == timedelta(seconds=10)
    assert c.voting_delay == (2, 2)
    assert c.params == {"AuthDirMaxServersPerAddr": 0, "cc_alg": 2, "circwindow": 1000}
    assert c.required_client_protocols["Link"] == frozenset({4})
    assert c.recommended_relay_protocols["Relay"] == frozenset({2, 3, 4})
    assert "Exit" in c.known_flags and "StaleDesc" in c.known_flags
    assert c.bandwidth_weights["Wgg"] == 10000 and len(c.bandwidth_weights) == 19
    assert [a.identity for a in c.authorities] == [v3ident()]
    assert c.authorities[0].dir_port == 23011 and c.authorities[0].or_port == 23010
    assert sorted(r.nickname for r in c.routers) == ["auth0", "exit0", "relay0"]
    assert c.signed_digests == {
        "sha1": sha1(_signed_portion(text)),
        "sha256": sha256(_signed_portion(text)),
    }


def test_ns_router_entries() -> None:
    routers = {r.nickname: r for r in parse_consensus(load("consensus")).routers}
    exit0, relay0, auth0 = routers["exit0"], routers["relay0"], routers["auth0"]
    assert "Exit" in exit0.flags and "Exit" not in relay0.flags
    assert "Authority" in auth0.flags and auth0.dir_port == 23011
    assert relay0.or_addresses == (("::1", 23021),)
    assert relay0.or_port == 23020 and relay0.address == "127.0.0.1"
    assert exit0.version == "Tor 0.4.9.11"
    assert exit0.protocols["Link"] == frozenset({3, 4, 5})
    assert exit0.bandwidth == 0 and exit0.unmeasured
    assert exit0.policy_summary is not None and exit0.policy_summary.allows_port(443)
    assert relay0.policy_summary is not None and not relay0.policy_summary.allows_port(80)
    assert all(
        r.descriptor_digest is not None and r.microdesc_digest is None for r in routers.values()
    )


def test_microdesc_router_entries() -> None:
    c = parse_consensus(load("consensus-microdesc"))
    for r in c.routers:
        assert r.descriptor_digest is None
        assert r.microdesc_digest is not None and len(r.microdesc_digest) == 32
        assert r.policy_summary is None
    ns = {r.identity: r for r in parse_consensus(load("consensus")).routers}
    assert {r.identity for r in c.routers} == set(ns)


@pytest.mark.parametrize(
    ("name", "algorithm"), [("consensus", "sha1"), ("consensus-microdesc", "sha256")]
)
def test_real_signatures_verify(name: str, algorithm: str) -> None:
    c = parse_consensus(load(name))
    assert [s.algorithm for s in c.signatures] == [algorithm]
    certs = parse_authority_certs(load("keys-all"))
    verified = verify_consensus(c, certs, [v3ident()], _now(c))
    assert verified.signers == frozenset({v3ident()})
    assert verified.live and verified.consensus is c


@pytest.mark.parametrize("name", ["consensus", "consensus-microdesc"])
def test_one_flipped_byte_breaks_verification(name: str) -> None:
    certs = parse_authority_certs(load("keys-all"))
    for needle in ("\nr exit0", "bandwidth-weights Wbd", "-----END SIGNATURE-----"):
        c = parse_consensus(flip(load(name), needle, -8 if needle.startswith("-") else 4))
        with pytest.raises(ConsensusVerifyError, match="bad signatures: 61EA"):
            verify_consensus(c, certs, [v3ident()], _now(c))


def test_missing_certificate_is_reported() -> None:
    c = parse_consensus(load("consensus"))
    with pytest.raises(ConsensusVerifyError) as info:
        verify_consensus(c, [], [v3ident()], _now(c))
    assert info.value.missing_certs == frozenset({v3ident()})
    assert info.value.needed == 1 and not info.value.good


def test_expired_certificate_counts_as_missing() -> None:
    c = parse_consensus(load("consensus"))
    cert = parse_authority_certs(load("keys-all"))[0]
    expired = dataclasses.replace(cert, expires=c.valid_after)
    with pytest.raises(ConsensusVerifyError) as info:
        verify_consensus(c, [expired], [v3ident()], _now(c))
    assert info.value.missing_certs == frozenset({v3ident()})
    verify_consensus(c, [expired, cert], [v3ident()], _now(c))


def test_threshold_is_more_than_half_of_trusted() -> None:
    c = parse_consensus(load("consensus"))
    certs = parse_authority_certs(load("keys-all"))
    others = [bytes([i]) * 20 for i in range(1, 3)]
    verify_consensus(c, certs, [v3ident()], _now(c))
    with pytest.raises(ConsensusVerifyError, match="1 of 2 trusted authorities.*need 2"):
        verify_consensus(c, certs, [v3ident(), others[0]], _now(c))
    with pytest.raises(ConsensusVerifyError, match="need 2"):
        verify_consensus(c, certs, [v3ident(), *others], _now(c))
    with pytest.raises(ConsensusVerifyError, match="0 of 1"):
        verify_consensus(c, certs, [others[0]], _now(c))


def test_reasonably_live_window() -> None:
    c = parse_consensus(load("consensus"))
    certs = parse_authority_certs(load("keys-all"))
    day = timedelta(hours=24)
    stale = verify_consensus(c, certs, [v3ident()], c.valid_until + day)
    assert not stale.live
    early = verify_consensus(c, certs, [v3ident()], c.valid_after - day)
    assert not early.live
    for when in (
        c.valid_until + day + timedelta(seconds=1),
        c.valid_after - day - timedelta(seconds=1),
    ):
        with pytest.raises(ConsensusVerifyError, match="not reasonably live"):
            verify_consensus(c, certs, [v3ident()], when)


def test_unknown_signature_algorithm_is_ignored() -> None:
    text = load("consensus").replace("directory-signature ", "directory-signature sha999 ")
    c = parse_consensus(text)
    assert c.signatures[0].algorithm == "sha999"
    with pytest.raises(ConsensusVerifyError, match="0 of 1"):
        verify_consensus(c, parse_authority_certs(load("keys-all")), [v3ident()], _now(c))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("network-status-version 3\n", "network-status-version 4\n", "unsupported"),
        ("vote-status consensus", "vote-status vote", "not a consensus"),
        ("valid-after 20", "valid-after x20", "bad time"),
        ("known-flags", "known-flagz", "missing known-flags"),
        ("\ns Exit", "\nq Exit", "missing s"),
        ("bandwidth-weights Wbd=3333", "bandwidth-weights Wbd=x", "bad integer"),
        ("\ndir-source", "\nxdir-source", "no dir-source"),
        ("-----BEGIN SIGNATURE-----", "-----BEGIN SIGNATUR-----", "object end line"),
        ("23030 0\n", "70000 0\n", "out of range"),
    ],
)
def test_format_violations(old: str, new: str, message: str) -> None:
    text = load("consensus")
    assert old in text
    with pytest.raises(ParseError, match=message):
        parse_consensus(text.replace(old, new, 1))


def test_unknown_items_are_ignored() -> None:
    text = load("consensus").replace("\nparams", "\nx-future 1 2\nparams")
    assert parse_consensus(text).params == parse_consensus(load("consensus")).params
