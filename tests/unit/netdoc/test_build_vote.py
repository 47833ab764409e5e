"""Building v3 votes (zwiebel.netdoc.build.vote) in tor 0.4.9.11's exact format.

Vectors: tests/vectors/dirauth/realnet/vote0..2 (three real tor authorities; see the
README there). Their signing keys were not captured, so the rebuilt text is compared
up to "directory-signature "; if tests/vectors/dirauth/realnet2/ holds a capture with
keys-auth0/authority_signing_key, auth0's vote is rebuilt byte for byte, signature
included (RSA PKCS#1 v1.5 is deterministic).
"""

from __future__ import annotations

import ipaddress
import string
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zwiebel.crypto.keys import RsaPrivate
from zwiebel.netdoc.build.authcert import add_months, build_authority_cert
from zwiebel.netdoc.build.vote import build_unsigned_vote, build_vote
from zwiebel.netdoc.vote import (
    SharedRandValue,
    VoteAuthority,
    VoteBody,
    VoteRouter,
    parse_vote,
    verify_vote,
)

VECTORS = Path(__file__).parents[2] / "vectors" / "dirauth"
VOTES = [p.read_text() for net in ("realnet", "realnet2")
         for p in sorted((VECTORS / net).glob("vote[0-9]"))]
NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)

IDENTITY = RsaPrivate.generate(1024)
SIGNING = RsaPrivate.generate(1024)
CERT = build_authority_cert(IDENTITY, SIGNING, NOW, add_months(NOW, 12), ("127.0.0.1", 27011))
V3IDENT = IDENTITY.public().fingerprint()


@pytest.mark.parametrize("text", VOTES)
def test_real_votes_rebuild_up_to_the_signature(text: str) -> None:
    vote = parse_vote(text)
    unsigned = build_unsigned_vote(vote.body, vote.cert.raw)
    assert unsigned + "directory-signature " == text[: text.index("directory-signature ") + 20]


def _realnet2_vote() -> tuple[str, Path] | None:
    keys = VECTORS / "realnet2" / "keys-auth0"
    if not (keys / "authority_signing_key").exists():
        return None
    for path in sorted((VECTORS / "realnet2").glob("vote*")):
        text = path.read_text()
        ident = (keys / "authority_certificate").read_text().split("\nfingerprint ")[1][:40]
        if f"\nfingerprint {ident}\n" in text:
            return text, keys
    return None


def test_realnet2_vote_byte_for_byte() -> None:
    found = _realnet2_vote()
    if found is None:
        pytest.skip("no realnet2 capture with auth0's signing key")
    text, keys = found
    vote = parse_vote(text)
    signing = RsaPrivate.from_pem((keys / "authority_signing_key").read_bytes())
    assert build_vote(vote.body, vote.cert.raw, signing) == text


@pytest.mark.parametrize("text", VOTES)
def test_reencoding_a_real_body_with_our_keys_verifies(text: str) -> None:
    real = parse_vote(text).body
    ours = VoteAuthority("zwiebel", V3IDENT, "localhost", "127.0.0.1", 27011, 27010, None)
    body = _replace_authority(real, ours)
    text = build_vote(body, CERT, SIGNING)
    vote = parse_vote(text)
    verify_vote(vote, NOW)
    assert vote.body == body
    assert "\ncontact" not in text
    assert text.count("directory-signature ") == 1
    assert f"directory-signature {V3IDENT.hex().upper()} " in text


def _replace_authority(body: VoteBody, authority: VoteAuthority) -> VoteBody:
    from dataclasses import replace
    return replace(body, authority=authority)


def test_signing_key_must_match_certificate() -> None:
    body = _replace_authority(parse_vote(VOTES[0]).body, VoteAuthority(
        "zwiebel", V3IDENT, "h", "127.0.0.1", 1, 2, "c"))
    with pytest.raises(ValueError):
        build_vote(body, CERT, IDENTITY)


# ---- property test: parse(build(body)).body == body ----

_WORD = st.text(string.ascii_letters + string.digits + "=.-_,%", min_size=1, max_size=10)
_TEXT = st.lists(_WORD, min_size=1, max_size=4).map(" ".join)
_TIME = st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1)).map(
    lambda d: d.replace(microsecond=0, tzinfo=UTC))
_IPV4 = st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n)))
_IPV6 = st.integers(0, 2**128 - 1).map(lambda n: str(ipaddress.IPv6Address(n)))
_PORT = st.integers(0, 65535)
_NICK = st.text(string.ascii_letters + string.digits, min_size=1, max_size=19)
_FLAGS = ("Authority", "BadExit", "Exit", "Fast", "Guard", "HSDir", "MiddleOnly",
          "Running", "Stable", "StaleDesc", "Sybil", "V2Dir", "Valid")
_METHODS = st.lists(st.integers(1, 100), min_size=1, max_size=4).map(tuple)


@st.composite
def _router(draw: st.DrawFn, identity: bytes, known: tuple[str, ...]) -> VoteRouter:
    return VoteRouter(
        nickname=draw(_NICK),
        identity=identity,
        descriptor_digest=draw(st.binary(min_size=20, max_size=20)),
        published=draw(_TIME),
        address=draw(_IPV4),
        or_port=draw(_PORT),
        dir_port=draw(_PORT),
        or_addresses=tuple(draw(st.lists(st.tuples(_IPV4 | _IPV6, _PORT), max_size=2))),
        flags=frozenset(draw(st.lists(st.sampled_from(known), max_size=5))) if known
        else frozenset(),
        version=draw(st.none() | _TEXT),
        protocols=draw(st.none() | _TEXT),
        bandwidth=draw(st.none() | st.integers(0, 2**32 - 1)),
        measured=None,
        policy_summary=draw(st.none() | st.sampled_from(["reject 1-65535", "accept 80,443"])),
        ed25519_id=draw(st.none() | st.binary(min_size=32, max_size=32)),
        stats=draw(st.none() | _TEXT),
        microdescs=tuple(draw(st.lists(
            st.tuples(_METHODS, st.binary(min_size=32, max_size=32)), max_size=2))),
    )


def _unique_eds(routers: list[VoteRouter]) -> bool:
    eds = [r.ed25519_id for r in routers if r.ed25519_id is not None]
    return len(eds) == len(set(eds))


@st.composite
def _body(draw: st.DrawFn) -> VoteBody:
    known = tuple(sorted(draw(st.sets(st.sampled_from(_FLAGS)))))
    ids = sorted(draw(st.sets(st.binary(min_size=20, max_size=20), max_size=3)))
    routers = [draw(_router(i, known)) for i in ids]
    routers = [r if r.bandwidth is None else draw(st.sampled_from(
        [r, _with_measured(r, draw(st.integers(0, 10**6)))])) for r in routers]
    if not _unique_eds(routers):
        routers = [r for r in routers if r.ed25519_id is None]
    params = sorted(draw(st.dictionaries(st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
                                         st.integers(-(2**31), 2**31 - 1), max_size=3)).items())
    srv = st.none() | st.builds(SharedRandValue, st.integers(0, 100),
                                st.binary(min_size=32, max_size=32))
    return VoteBody(
        consensus_methods=draw(_METHODS),
        published=draw(_TIME), valid_after=draw(_TIME), fresh_until=draw(_TIME),
        valid_until=draw(_TIME),
        voting_delay=(draw(st.integers(0, 1000)), draw(st.integers(0, 1000))),
        client_versions=draw(st.none() | st.lists(_NICK, max_size=3).map(tuple)),
        server_versions=draw(st.none() | st.lists(_NICK, max_size=3).map(tuple)),
        known_flags=known,
        flag_thresholds=draw(st.none() | _TEXT),
        recommended_client_protocols=draw(st.none() | _TEXT),
        recommended_relay_protocols=draw(st.none() | _TEXT),
        required_client_protocols=draw(st.none() | _TEXT),
        required_relay_protocols=draw(st.none() | _TEXT),
        params=tuple(params),
        authority=VoteAuthority(draw(_NICK), V3IDENT, draw(_NICK), draw(_IPV4), draw(_PORT),
                                draw(_PORT), draw(st.none() | _TEXT)),
        sr_participate=draw(st.booleans()),
        sr_commits=tuple(draw(st.lists(st.tuples(
            st.lists(_WORD, min_size=3, max_size=4).map(" ".join), st.sampled_from(["", " "])
        ).map("".join), max_size=2))),
        sr_previous=draw(srv),
        sr_current=draw(srv),
        routers=tuple(routers),
    )


def _with_measured(r: VoteRouter, measured: int) -> VoteRouter:
    from dataclasses import replace
    return replace(r, measured=measured)


@settings(max_examples=60, deadline=None)
@given(_body())
def test_parse_build_roundtrip(body: VoteBody) -> None:
    text = build_vote(body, CERT, SIGNING)
    vote = parse_vote(text)
    assert vote.body == body
    verify_vote(vote, NOW)
    assert build_vote(vote.body, vote.cert.raw, SIGNING) == text
