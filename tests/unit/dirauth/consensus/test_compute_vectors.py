"""compute_consensus against consensuses real tor 0.4.9.11 authorities computed.

Vectors: tests/vectors/dirauth/<capture>/ (README there): three real votes and the
ns and microdesc consensuses tor made from them. The text up to the first
"directory-signature" must be identical, byte for byte.
"""

from __future__ import annotations

import dataclasses

import pytest

from tests.unit.dirauth.consensus.vectors import CAPTURES, text, unsigned, votes
from zwiebel.dirauth.consensus import compute_consensus

FLAVORS = (("ns", "consensus"), ("microdesc", "consensus-microdesc"))


@pytest.mark.parametrize("capture", CAPTURES)
@pytest.mark.parametrize(("flavor", "name"), FLAVORS)
def test_byte_for_byte(capture: str, flavor: str, name: str) -> None:
    got = compute_consensus(votes(capture), flavor, total_authorities=3)  # type: ignore[arg-type]
    assert got == unsigned(text(capture, name))


@pytest.mark.parametrize("capture", CAPTURES)
def test_vote_order_does_not_matter(capture: str) -> None:
    vs = votes(capture)
    forward = compute_consensus(vs, "ns", total_authorities=3)
    assert compute_consensus(vs[::-1], "ns", total_authorities=3) == forward


def test_method_33_keeps_ns_published_and_34_drops_packages() -> None:
    vs = votes("realnet-b2")
    md35 = compute_consensus(vs, "microdesc", total_authorities=3)
    md32 = compute_consensus(vs, "microdesc", total_authorities=3, method=32)
    assert "consensus-method 32\n" in md32
    assert "2038-01-01 00:00:00" in md35 and "2038-01-01 00:00:00" not in md32
    ns = compute_consensus(vs, "ns", total_authorities=3, method=33)
    assert ns.replace("consensus-method 33", "consensus-method 35") == compute_consensus(
        vs, "ns", total_authorities=3
    )


def test_two_of_three_votes_still_make_a_consensus() -> None:
    vs = votes("realnet-b2")[:2]
    got = compute_consensus(vs, "ns", total_authorities=3)
    assert got.count("\nvote-digest ") == 2
    assert got.count("\nr ") == 8


def test_minority_of_listings_drops_the_router() -> None:
    vs = votes("realnet-b1")
    first = vs[0].body.routers[0]
    trimmed = [
        dataclasses.replace(v, body=dataclasses.replace(v.body, routers=v.body.routers[1:]))
        for v in vs[:2]
    ]
    got = compute_consensus([*trimmed, vs[2]], "ns", total_authorities=3)
    assert f"r {first.nickname} " not in got


def test_rejects_more_votes_than_authorities() -> None:
    with pytest.raises(ValueError):
        compute_consensus(votes("realnet"), "ns", total_authorities=2)
    with pytest.raises(ValueError):
        compute_consensus([], "ns", total_authorities=3)
