"""Consensus method choice (dir-spec 3.8.1; tor: compute_consensus_method)."""

from __future__ import annotations

import dataclasses

from tests.unit.dirauth.consensus.vectors import CAPTURES, votes
from zwiebel.dirauth.consensus import (
    MAX_SUPPORTED_METHOD,
    SUPPORTED_METHODS,
    agreed_method,
    choose_method,
    compute_consensus,
)
from zwiebel.netdoc.vote import Vote


def _with_methods(*lists: tuple[int, ...]) -> list[Vote]:
    base = votes("realnet")
    return [
        dataclasses.replace(v, body=dataclasses.replace(v.body, consensus_methods=m))
        for v, m in zip(base, lists, strict=False)
    ]


def test_real_votes_pick_35() -> None:
    assert SUPPORTED_METHODS == (32, 33, 34, 35)
    for capture in CAPTURES:
        assert choose_method(votes(capture)) == 35


def test_needs_more_than_two_thirds() -> None:
    # 3 votes: more than 2 (= 3*2//3) must list it.
    assert agreed_method(_with_methods((32, 33, 34, 35), (32, 33, 34, 35), (32, 33, 34))) == 34
    # 2 votes: more than 1.
    assert agreed_method(_with_methods((32, 33), (32, 34))) == 32
    # 1 vote: more than 0.
    assert agreed_method(_with_methods((33, 40))) == 40


def test_duplicates_in_one_vote_count_once() -> None:
    # Counted three times, 35 would be "more than 2"; once, nothing qualifies.
    assert agreed_method(_with_methods((35, 35, 35), (32,), (32,))) == 1


def test_nothing_agreed_is_method_1_and_unsupported() -> None:
    vs = _with_methods((32,), (33,), (34,))
    assert agreed_method(vs) == 1
    assert choose_method(vs) is None


def test_unsupported_agreement_computes_with_our_highest() -> None:
    vs = _with_methods((36, 37), (36, 37), (36, 37))
    assert agreed_method(vs) == 37
    assert choose_method(vs) is None
    text = compute_consensus(vs, "ns", total_authorities=3)
    assert f"\nconsensus-method {MAX_SUPPORTED_METHOD}\n" in text
