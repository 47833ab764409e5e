"""Parsing and verifying v3 votes (zwiebel.netdoc.vote).

Vectors: tests/vectors/dirauth/realnet/vote0..2 and realnet2/vote0..2, the votes of
private networks of three real tor 0.4.9.11 authorities (see the READMEs there); the
consensus captured with them names their vote-digests.
"""

from __future__ import annotations

import base64
import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zwiebel.encoding import ParseError
from zwiebel.netdoc.errors import VerifyError
from zwiebel.netdoc.vote import SharedRandValue, parse_vote, verify_vote

REALNET = Path(__file__).parents[2] / "vectors" / "dirauth" / "realnet"
VOTES = [(REALNET / f"vote{i}").read_text() for i in range(3)]
VOTE_TIME = datetime(2026, 11, 22, 8, 8, 20, tzinfo=UTC)


@pytest.mark.parametrize("net", ["realnet", "realnet2"])
def test_vote_digests_are_the_consensus_vote_digests(net: str) -> None:
    folder = REALNET.parent / net
    if not (folder / "consensus").exists():
        pytest.skip(f"no {net} capture")
    consensus = (folder / "consensus").read_text()
    named = {line.split()[1] for line in consensus.splitlines() if line.startswith("vote-digest")}
    votes = [p.read_text() for p in folder.glob("vote[0-9]")]
    assert {parse_vote(v).digest.hex().upper() for v in votes} == named


REALNET2 = [p.read_text() for p in sorted((REALNET.parent / "realnet2").glob("vote[0-9]"))]


@pytest.mark.parametrize("text", VOTES + REALNET2)
def test_real_votes_verify(text: str) -> None:
    vote = parse_vote(text)
    verify_vote(vote, vote.body.valid_after)
    assert vote.cert.identity == vote.body.authority.identity
    assert vote.signatures[0].identity == vote.cert.identity
    assert vote.signatures[0].signing_key_digest == vote.cert.signing_key_digest
    assert vote.raw == text


def test_fields_of_vote0() -> None:
    body = parse_vote(VOTES[0]).body
    assert body.consensus_methods == (32, 33, 34, 35)
    assert body.valid_after == VOTE_TIME
    assert body.fresh_until - body.valid_after == timedelta(seconds=10)
    assert body.voting_delay == (2, 2)
    assert body.client_versions is None and body.server_versions is None
    assert body.known_flags == ("Authority", "Exit", "Fast", "Guard", "HSDir", "Running",
                                "Stable", "StaleDesc", "Sybil", "V2Dir", "Valid")
    assert body.flag_thresholds is not None and body.flag_thresholds.startswith(
        "stable-uptime=1 stable-mtbf=17 fast-speed=5000 guard-wfu=98.000%")
    assert body.required_client_protocols == "Cons=2 Desc=2 FlowCtrl=1 Link=4 Microdesc=2 Relay=2"
    assert body.params == ()
    a = body.authority
    assert (a.nickname, a.hostname, a.address, a.dir_port, a.or_port, a.contact) == (
        "auth2", "127.0.0.1", "127.0.0.1", 26031, 26030, "auth2@zwiebel-testnet.invalid")
    assert a.identity.hex().upper() == "17A3271A287BBFA572D2D4BC73BFE5197BC617B7"
    assert body.sr_participate and len(body.sr_commits) == 3
    assert body.sr_commits[0].startswith("1 sha3-256 17A3271A287BBFA572D2D4BC73BFE5197BC617B7 ")
    assert body.sr_previous is None
    assert body.sr_current == SharedRandValue(
        0, base64.b64decode("zxJao+gBmFMSezvz/VXkEWEQJD5b/z+7AXNCGoLFVW0="))
    assert [r.nickname for r in body.routers] == ["auth1", "auth0", "relay1", "relay0",
                                                   "exit0", "auth2"][: len(body.routers)]
    r = body.routers[0]
    assert r.flags == {"Authority", "Fast", "Guard", "HSDir", "Running", "Stable", "V2Dir",
                       "Valid"}
    assert (r.version, r.bandwidth, r.measured, r.policy_summary, r.stats) == (
        "Tor 0.4.9.11", 24, None, "reject 1-65535", "wfu=0.944444 tk=18 mtbf=17")
    assert r.protocols is not None and r.protocols.startswith("Conflux=1 Cons=1-2 ")
    assert r.microdescs[0][0] == (32, 33, 34, 35) and len(r.microdescs[0][1]) == 32
    assert r.ed25519_id is not None and len(r.ed25519_id) == 32


def test_expired_certificate_fails_verification() -> None:
    vote = parse_vote(VOTES[1])
    with pytest.raises(VerifyError):
        verify_vote(vote, vote.cert.expires + timedelta(seconds=1))


def test_changed_byte_breaks_signature() -> None:
    tampered = VOTES[0].replace("w Bandwidth=24\n", "w Bandwidth=25\n", 1)
    with pytest.raises(VerifyError):
        verify_vote(parse_vote(tampered), VOTE_TIME)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("known-flags Authority Exit", "known-flags Exit Authority"),
        ("vote-status vote", "vote-status consensus"),
        ("s Authority Fast Guard HSDir Running Stable V2Dir Valid\nv Tor 0.4.9.11\npr Conflux=1",
         "s Authority Fast Guard HSDir Running Stable V2Dir Valid Bogus\nv Tor 0.4.9.11\n"
         "pr Conflux=1"),
        ("dir-source auth2 17A3", "dir-source auth2 27A3"),
        ("params \n", "params b=1 a=2\n"),
        ("directory-footer\n", ""),
        ("network-status-version 3\n", "network-status-version 3 microdesc\n"),
    ],
)
def test_format_violations_are_parse_errors(old: str, new: str) -> None:
    assert old in VOTES[0]
    with pytest.raises(ParseError):
        parse_vote(VOTES[0].replace(old, new, 1))


def test_unsorted_routers_rejected() -> None:
    text = VOTES[0]
    first = text.index("\nr auth1 ") + 1
    second = text.index("\nr auth0 ") + 1
    third = text.index("\nr relay1 ") + 1
    swapped = text[:first] + text[second:third] + text[first:second] + text[third:]
    with pytest.raises(ParseError):
        parse_vote(swapped)


def test_second_signature_rejected() -> None:
    sig_start = VOTES[0].index("directory-signature ")
    with pytest.raises(ParseError):
        parse_vote(VOTES[0] + VOTES[0][sig_start:])


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(VOTES[0]) - 1), st.integers(0, 400), st.text(max_size=20))
def test_mangled_votes_raise_only_parse_error(at: int, cut: int, insert: str) -> None:
    text = VOTES[0][:at] + insert + VOTES[0][at + cut:]
    with contextlib.suppress(ParseError):
        parse_vote(text)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_raise_only_parse_error(data: bytes) -> None:
    with contextlib.suppress(ParseError):
        parse_vote(data.decode("latin-1"))
