"""A voting round against a real round of three tor 0.4.9.11 authorities.

tests/vectors/dirauth/realnet2 holds the three votes of one round, the consensus of both
flavors they produced, auth0's detached signatures and every authority's signing key.
Playing two of those authorities, the round must sign exactly what tor signed and, with
the third authority's signatures added, publish the real documents byte for byte.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zwiebel.dirauth.keys import AuthorityKeys, load_authority_keys
from zwiebel.features.dirauth.round import RoundError, VotingRound
from zwiebel.netdoc.consensus import parse_consensus

VECTORS = Path(__file__).parents[3] / "vectors" / "dirauth" / "realnet2"
CONSENSUS = (VECTORS / "consensus").read_text()
MD_CONSENSUS = (VECTORS / "consensus-microdesc").read_text()
VALID_AFTER = parse_consensus(CONSENSUS).valid_after
NOW = VALID_AFTER
VOTES = [(VECTORS / f"vote{i}").read_text() for i in range(3)]


def _keys(name: str) -> AuthorityKeys:
    return load_authority_keys(VECTORS / f"keys-{name}", NOW)


def _authorities() -> dict[bytes, str]:
    found = re.findall(r"^dir-source (\S+) ([0-9A-F]{40}) ", CONSENSUS, re.M)
    return {bytes.fromhex(ident): nick for nick, ident in found}


def _round(name: str) -> VotingRound:
    voting = VotingRound(VALID_AFTER, _authorities(), _keys(name))
    for text in VOTES:
        voting.add_vote(text, NOW)
    return voting


def test_own_signature_is_the_one_tor_made() -> None:
    voting = _round("auth1")
    assert voting.compute() == 35
    ns_unsigned = CONSENSUS[:CONSENSUS.index("directory-signature ")]
    md_unsigned = MD_CONSENSUS[:MD_CONSENSUS.index("directory-signature ")]
    assert voting.unsigned == {"ns": ns_unsigned, "microdesc": md_unsigned}
    own = voting.signatures
    ident = _keys("auth1").v3ident
    real = parse_consensus(CONSENSUS).signatures
    assert own["ns"][ident].signature == next(s.signature for s in real if s.identity == ident)


def test_publishes_the_real_documents_once_signatures_are_exchanged() -> None:
    mine, theirs, third = _round("auth1"), _round("auth2"), _round("auth0")
    for voting in (mine, theirs, third):
        voting.compute()
    with pytest.raises(RoundError, match="Not enough signatures"):
        mine.publish()
    assert mine.add_signatures(theirs.detached()) == 2
    assert mine.add_signatures(theirs.detached()) == 0
    assert mine.add_signatures((VECTORS / "consensus-signatures").read_text()) == 2
    published = mine.publish()
    assert published.documents["ns"] == CONSENSUS
    assert published.documents["microdesc"] == MD_CONSENSUS
    assert len(published.votes) == 3


def test_refuses_votes_for_another_period_and_strangers() -> None:
    later = VALID_AFTER.replace(year=VALID_AFTER.year + 1)
    voting = VotingRound(later, _authorities(), _keys("auth0"))
    with pytest.raises(RoundError, match="we were expecting"):
        voting.add_vote(VOTES[0], NOW)
    stranger = VotingRound(VALID_AFTER, {b"\x01" * 20: "other"}, _keys("auth0"))
    with pytest.raises(RoundError, match="recognized v3 authority"):
        stranger.add_vote(VOTES[0], NOW)
    with pytest.raises(RoundError, match="Unable to parse vote"):
        stranger.add_vote("network-status-version 3\n", NOW)


def test_the_same_vote_twice_is_kept_once_and_too_few_votes_cannot_compute() -> None:
    voting = VotingRound(VALID_AFTER, _authorities(), _keys("auth0"))
    _, new = voting.add_vote(VOTES[0], NOW)
    _, again = voting.add_vote(VOTES[0], NOW)
    assert (new, again) == (True, False)
    with pytest.raises(RoundError, match="enough votes"):
        voting.compute()
    assert len(voting.missing_votes()) == 2


def test_signatures_for_another_consensus_are_refused() -> None:
    voting = _round("auth1")
    voting.compute()
    other = (VECTORS / "consensus-signatures").read_text().replace(
        "consensus-digest B", "consensus-digest C", 1)
    with pytest.raises(RoundError, match="different consensus"):
        voting.add_signatures(other)
