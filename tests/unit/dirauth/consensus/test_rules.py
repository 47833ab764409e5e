"""Single voting rules of dir-spec 3.8, on real votes with one thing changed.

Base: the three real votes of tests/vectors/dirauth/realnet-b1 (tor 0.4.9.11), whose
consensus tor computed and test_compute_vectors checks byte for byte; each test
changes what the rule under test looks at and checks the outcome tor's
networkstatus_compute_consensus (src/feature/dirauth/dirvote.c) gives.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from tests.unit.dirauth.consensus.vectors import votes
from zwiebel.dirauth.consensus import compute_consensus
from zwiebel.netdoc.vote import SharedRandValue, Vote, VoteRouter

BASE = votes("realnet-b1")
TARGET = BASE[0].body.routers[3]


def _body(vote: Vote, **changes: Any) -> Vote:
    return dataclasses.replace(vote, body=dataclasses.replace(vote.body, **changes))


def _router(
    vs: Sequence[Vote], which: Sequence[int], change: Callable[[VoteRouter], VoteRouter]
) -> list[Vote]:
    """Apply `change` to TARGET's entry in the votes numbered `which`."""
    out = []
    for i, vote in enumerate(vs):
        routers = tuple(
            change(rs) if i in which and rs.identity == TARGET.identity else rs
            for rs in vote.body.routers
        )
        out.append(_body(vote, routers=routers))
    return out


def _entry(text: str) -> str:
    """TARGET's entry in a consensus text ("" if absent)."""
    start = text.find(f"\nr {TARGET.nickname} ")
    if start < 0:
        return ""
    end = text.find("\nr ", start + 1)
    end = text.find("\ndirectory-footer", start) if end < 0 else end
    return text[start + 1 : end + 1]


def _ns(vs: Sequence[Vote], **kw: Any) -> str:
    return compute_consensus(vs, "ns", total_authorities=3, **kw)


def test_ed25519_majority_and_no_ed_consensus() -> None:
    base = _ns(BASE)
    other = _router(BASE, [2], lambda rs: dataclasses.replace(rs, ed25519_id=b"\x01" * 32))
    assert _ns(other) == base  # two of three still agree
    unlisted = _router(BASE, [2], lambda rs: dataclasses.replace(rs, ed25519_id=None))
    assert _ns(unlisted) == base  # an entry without a key joins the agreed pair
    split = _router(other, [1], lambda rs: dataclasses.replace(rs, ed25519_id=b"\x02" * 32))
    assert "NoEdConsensus" in _entry(_ns(split)).split("\n")[1]


def test_params_need_majority_or_three_votes() -> None:
    def with_params(*ps: tuple[tuple[str, int], ...]) -> list[Vote]:
        return [_body(v, params=p) for v, p in zip(BASE, ps, strict=True)]

    vs = with_params((("a", 5), ("b", 1)), (("a", 1), ("b", 2)), (("a", 9),))
    assert "\nparams a=5 b=1\n" in _ns(vs)
    vs = with_params((("a", 5),), (), ())
    assert "\nparams " not in _ns(vs)
    five = compute_consensus(with_params((("a", 5),), (("a", 6),), ()), "ns", total_authorities=5)
    assert "\nparams " not in five
    three = with_params((("a", 5),), (("a", 6),), (("a", 7),))
    assert "\nparams a=6\n" in compute_consensus(three, "ns", total_authorities=9)


def test_param_order_is_byte_order_of_name_equals() -> None:
    ps = (("a-b", 1), ("a", 2), ("a0", 3), ("aB", 4))
    vs = [_body(v, params=ps) for v in BASE]
    assert "\nparams a-b=1 a0=3 a=2 aB=4\n" in _ns(vs)


def test_shared_random_majority_and_freshness() -> None:
    value = SharedRandValue(3, b"\x07" * 32)
    vs = [_body(v, sr_previous=value) for v in BASE]
    line = "shared-rand-previous-value 3 BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n"
    assert line in _ns(vs)
    assert line in _ns(vs, srv_fresh=True)
    strict = [_body(v, params=(("AuthDirNumSRVAgreements", 3),)) for v in vs]
    assert line in _ns(strict)
    odd = [strict[0], strict[1], _body(strict[2], sr_previous=SharedRandValue(3, bytes(32)))]
    assert line in _ns(odd) and line not in _ns(odd, srv_fresh=True)
    shy = [_body(v, sr_participate=False) for v in vs[:2]] + [vs[2]]
    assert "shared-rand-" not in _ns(shy)
    assert "shared-rand-" not in _ns(vs, shared_randomness=False)


def test_negative_maxunmeasuredbw_wraps_to_no_cap() -> None:
    measured = votes("realnet-b2")

    def with_cap(cap: int) -> str:
        vs = [_body(v, params=(("maxunmeasuredbw", cap),)) for v in measured]
        return _ns(vs).split("\nparams ", 1)[1].split("\n", 1)[1]

    assert with_cap(-1) == with_cap(2**31 - 1) != with_cap(10)


def test_ipv6_orport_most_common_then_lowest_port() -> None:
    def ipv6(port: int) -> Callable[[VoteRouter], VoteRouter]:
        return lambda rs: dataclasses.replace(rs, or_addresses=(("2001:db8::1", port),))

    vs = _router(_router(BASE, [0, 1], ipv6(9001)), [2], ipv6(9002))
    assert _entry(_ns(vs)).split("\n")[1] == "a [2001:db8::1]:9001"
    tie = _router(_router(BASE, [0], ipv6(9003)), [1], ipv6(9001))
    assert _entry(_ns(tie)).split("\n")[1] == "a [2001:db8::1]:9001"
    md = compute_consensus(tie, "microdesc", total_authorities=3)
    assert "\na [2001:db8::1]:9001\nm " in md


def test_descriptor_choice_prefers_newest_on_a_tie() -> None:
    def newer(seconds: int, digest: bytes) -> Callable[[VoteRouter], VoteRouter]:
        return lambda rs: dataclasses.replace(
            rs, published=rs.published + timedelta(seconds=seconds), descriptor_digest=digest
        )

    vs = _router(_router(BASE, [0], newer(60, b"\xee" * 20)), [1], newer(30, b"\x00" * 20))
    assert "7u7u7u7u7u7u7u7u7u7u7u7u7u4 " in _entry(_ns(vs))
    majority = _router(vs, [2], newer(30, b"\x00" * 20))
    assert "AAAAAAAAAAAAAAAAAAAAAAAAAAA " in _entry(_ns(majority))


def test_missing_microdesc_leaves_router_out_but_weighted() -> None:
    vs = _router(BASE, [0, 1, 2], lambda rs: dataclasses.replace(rs, microdescs=()))
    md = compute_consensus(vs, "microdesc", total_authorities=3)
    ns = _ns(vs)
    assert f"\nr {TARGET.nickname} " not in md and f"\nr {TARGET.nickname} " in ns
    assert md.split("directory-footer\n")[1] == ns.split("directory-footer\n")[1]


def test_version_vote() -> None:
    def version(text: str) -> Callable[[VoteRouter], VoteRouter]:
        return lambda rs: dataclasses.replace(rs, version=text)

    vs = _router(BASE, [2], version("Tor 0.4.9.12"))
    assert "\nv Tor 0.4.9.11\n" in _entry(_ns(vs))
    three = _router(_router(vs, [1], version("Tor 0.4.9.10")), [0], version("Tor 0.4.8.1"))
    assert "\nv Tor 0.4.9.12\n" in _entry(_ns(three))
    none = _router(BASE, [0, 1, 2], version(""))
    assert "\nv " not in _entry(_ns(none))


def test_flags_need_more_than_half_of_those_who_know_them() -> None:
    def flags(add: str) -> Callable[[VoteRouter], VoteRouter]:
        return lambda rs: dataclasses.replace(rs, flags=rs.flags | {add})

    def knowing(vs: list[Vote], which: Sequence[int], flag: str) -> list[Vote]:
        out = []
        for i, v in enumerate(vs):
            known = tuple(sorted({*v.body.known_flags, flag})) if i in which else None
            out.append(_body(v, known_flags=known) if known else v)
        return out

    vs = knowing(_router(BASE, [0], flags("BadExit")), [0], "BadExit")
    assert "BadExit" in _entry(_ns(vs))  # 1 of the 1 vote knowing it
    vs = knowing(_router(BASE, [0], flags("BadExit")), [0, 1], "BadExit")
    assert "BadExit" not in _entry(_ns(vs))  # 1 of 2 is not more than half
    middle = knowing(_router(BASE, [0, 1], flags("MiddleOnly")), [0, 1, 2], "MiddleOnly")
    s_line = _entry(_ns(middle)).split("\n")[1].split()
    assert "MiddleOnly" in s_line and "Guard" not in s_line and "HSDir" not in s_line
    assert "BadExit" not in s_line  # nobody knows BadExit
    both = knowing(middle, [2], "BadExit")
    assert "BadExit" in _entry(_ns(both)).split("\n")[1].split()


def test_not_running_is_left_out() -> None:
    vs = _router(BASE, [0, 1], lambda rs: dataclasses.replace(rs, flags=rs.flags - {"Running"}))
    assert _entry(_ns(vs)) == ""


def test_named_flag() -> None:
    def named(vs: list[Vote]) -> list[Vote]:
        return [_body(v, known_flags=tuple(sorted({*v.body.known_flags, "Named"}))) for v in vs]

    vs = _router(named(BASE), [0], lambda rs: dataclasses.replace(rs, flags=rs.flags | {"Named"}))
    assert "Named" in _entry(_ns(vs)).split("\n")[1].split()
