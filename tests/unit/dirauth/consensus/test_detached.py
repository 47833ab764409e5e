"""Detached signatures (dir-spec 3.10; tor: networkstatus_get_detached_signatures, dsigs_parse.c).

Vectors: consensus-signatures from /tor/status-vote/next/consensus-signatures of real
tor authorities (tests/vectors/dirauth/<capture>/README.md).
"""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.dirauth.consensus.vectors import WITH_SIGNATURES, text
from zwiebel.dirauth.consensus import (
    DetachedSignatures,
    build_detached,
    detached_for,
    parse_detached,
)
from zwiebel.encoding import ParseError
from zwiebel.netdoc.consensus import DirSignature, parse_consensus


@pytest.mark.parametrize("capture", WITH_SIGNATURES)
def test_real_round_trip(capture: str) -> None:
    raw = text(capture, "consensus-signatures")
    parsed = parse_detached(raw)
    assert build_detached(parsed) == raw
    assert set(parsed.signatures) == {"ns", "microdesc"}
    assert set(parsed.digests) == {"microdesc"}


@pytest.mark.parametrize("capture", WITH_SIGNATURES)
def test_matches_the_consensuses(capture: str) -> None:
    ns, md = text(capture, "consensus"), text(capture, "consensus-microdesc")
    real = parse_detached(text(capture, "consensus-signatures"))
    ours = detached_for([ns, md], real.signatures)
    assert ours == real
    assert build_detached(ours) == text(capture, "consensus-signatures")
    assert real.consensus_digest == parse_consensus(ns).signed_digests["sha1"]
    assert real.digests["microdesc"]["sha256"] == parse_consensus(md).signed_digests["sha256"]
    # Every detached signature is one the published consensus carries.
    assert set(real.signatures["ns"]) <= set(parse_consensus(ns).signatures)
    assert set(real.signatures["microdesc"]) <= set(parse_consensus(md).signatures)


def test_unsigned_texts_give_the_same_document() -> None:
    ns, md = text("realnet2", "consensus"), text("realnet2", "consensus-microdesc")
    sigs = parse_detached(text("realnet2", "consensus-signatures")).signatures
    cut = [t[: t.index("directory-signature")] for t in (ns, md)]
    assert detached_for(cut, sigs) == detached_for([ns, md], sigs)
    with pytest.raises(ValueError):
        detached_for([md], sigs)


def test_duplicates_and_unknown_algorithms_are_ignored() -> None:
    raw = text("realnet2", "consensus-signatures")
    ns_sig = raw[raw.index("directory-signature ") :]
    md_sig = raw[raw.index("additional-signature ") : raw.index("directory-signature ")]
    extra = (
        ns_sig
        + md_sig.replace(" sha256 ", " sha999 ")
        + "additional-digest microdesc sha256 "
        + "00" * 32
        + "\n"
    )
    parsed = parse_detached(raw + extra)
    assert parsed == parse_detached(raw)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[t.index("\n") + 1 :],  # no consensus-digest first
        lambda t: t.replace("valid-after", "valid-afterx"),
        lambda t: t.replace("consensus-digest ", "consensus-digest 00"),
        lambda t: t[: t.index("directory-signature")],  # no ns signature
        lambda t: re.sub(r"SIGNATURE-----\n[^-]*-----END", "SIGNATURE-----\nAAAA\n-----END", t),
        lambda t: t.replace("microdesc sha256 ", "microdesc sha256 0", 1),
    ],
)
def test_rejects(mangle: object) -> None:
    raw = text("realnet2", "consensus-signatures")
    with pytest.raises(ParseError):
        parse_detached(mangle(raw))  # type: ignore[operator]


_TIMES = st.integers(0, 2**33).map(
    lambda s: datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=s)
)
_SIGS = st.builds(
    DirSignature,
    st.just("sha1"),
    st.binary(min_size=20, max_size=20),
    st.binary(min_size=20, max_size=20),
    st.binary(min_size=128, max_size=512),
)


@st.composite
def _documents(draw: st.DrawFn) -> DetachedSignatures:
    ns = draw(st.lists(_SIGS, min_size=1, max_size=3, unique_by=lambda s: s.identity))
    md = draw(st.lists(_SIGS, max_size=3, unique_by=lambda s: s.identity))
    md = [DirSignature("sha256", s.identity, s.signing_key_digest, s.signature) for s in md]
    sigs = {"microdesc": tuple(md), "ns": tuple(ns)} if md else {"ns": tuple(ns)}
    return DetachedSignatures(
        consensus_digest=draw(st.binary(min_size=20, max_size=20)),
        valid_after=draw(_TIMES),
        fresh_until=draw(_TIMES),
        valid_until=draw(_TIMES),
        signatures=MappingProxyType(sigs),
        digests=MappingProxyType(
            {"microdesc": MappingProxyType({"sha256": draw(st.binary(min_size=32, max_size=32))})}
        ),
    )


@given(_documents())
def test_round_trip_property(doc: DetachedSignatures) -> None:
    assert parse_detached(build_detached(doc)) == doc


@given(st.text(max_size=300))
def test_random_text_raises_only_parse_error(junk: str) -> None:
    with contextlib.suppress(ParseError):
        parse_detached(junk)
