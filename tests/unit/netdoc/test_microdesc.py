"""Microdescriptors (dir-spec 3.3): fields and digests against real tor 0.4.9.11 output."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.unit.netdoc.vectors import load
from zwiebel.crypto.digest import sha256
from zwiebel.encoding import ParseError
from zwiebel.netdoc.consensus import parse_consensus
from zwiebel.netdoc.microdesc import parse_microdesc, parse_microdescs
from zwiebel.netdoc.serverdesc import parse_server_descriptors


def test_digests_match_consensus_m_lines() -> None:
    mds = parse_microdescs(load("micro-all"))
    consensus = parse_consensus(load("consensus-microdesc"))
    assert {md.digest for md in mds} == {r.microdesc_digest for r in consensus.routers}
    assert "".join(md.raw for md in mds) == load("micro-all")
    for md in mds:
        assert md.digest == sha256(md.raw.encode())
        assert md.raw.startswith("onion-key\n")


def test_fields_match_server_descriptors() -> None:
    mds = {md.ed25519_id: md for md in parse_microdescs(load("micro-all"))}
    for desc in parse_server_descriptors(load("server-all")):
        md = mds[desc.ed25519_id]
        assert md.onion_key_ntor == desc.ntor_onion_key
        assert md.onion_key_tap == desc.onion_key_tap
        assert md.family == desc.family
    exit0 = next(m for m in mds.values() if m.policy_summary is not None)
    assert exit0.policy_summary is not None and exit0.policy_summary.allows_port(80)
    assert not exit0.policy_summary.allows_port(22)
    assert exit0.policy6_summary is not None and exit0.policy6_summary.allows_port(443)


def _without_tap(text: str) -> str:
    """Drop the RSA object of every onion-key (the form tor's parser already allows)."""
    out, skip = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("-----BEGIN RSA PUBLIC KEY"):
            skip = True
        if not skip:
            out.append(line)
        if line.startswith("-----END RSA PUBLIC KEY"):
            skip = False
    return "".join(out)


def test_onion_key_line_without_object() -> None:
    text = _without_tap(load("micro-all"))
    mds = parse_microdescs(text)
    assert len(mds) == 3
    assert all(md.onion_key_tap is None and md.raw.startswith("onion-key\nntor") for md in mds)
    assert "".join(md.raw for md in mds) == text


def test_no_onion_key_line_at_all() -> None:
    text = _without_tap(load("micro-all")).replace("onion-key\nntor", "ntor")
    mds = parse_microdescs(text)
    assert len(mds) == 3
    assert [md.raw.split("\n")[0].split()[0] for md in mds] == ["ntor-onion-key"] * 3
    assert mds[1].digest == sha256(mds[1].raw.encode())
    assert "".join(md.raw for md in mds) == text


def test_annotations_are_outside_the_digest() -> None:
    one = parse_microdescs(load("micro-all"))[0]
    cached = "@last-listed 2026-11-22 05:14:30\n" + one.raw
    md = parse_microdesc(cached)
    assert md.digest == one.digest
    assert md.last_listed == datetime(2026, 11, 22, 5, 14, 30, tzinfo=UTC)
    two = parse_microdescs(cached + cached)
    assert [m.digest for m in two] == [one.digest, one.digest]


def test_unpadded_ntor_key_and_trailing_blank_lines() -> None:
    one = parse_microdescs(load("micro-all"))[0]
    assert "=" not in one.raw.split("ntor-onion-key ")[1].split("\n")[0]
    md = parse_microdesc(one.raw + "\n\n")
    assert md.digest == sha256((one.raw + "\n\n").encode())


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("ntor-onion-key ", "ntor-onion-kex ", "missing ntor-onion-key"),
        ("id ed25519 ", "id ed25519 AAAA", "expected 32 bytes"),
        ("\nid ed25519", "\np accept 80\np accept 443\nid ed25519", "too many p"),
        ("family $", "family\n-----BEGIN X-----\nAA==\n-----END X-----\n$", "bad keyword"),
    ],
)
def test_format_violations(old: str, new: str, message: str) -> None:
    one = next(m.raw for m in parse_microdescs(load("micro-all")) if "family $" in m.raw)
    assert old in one
    with pytest.raises(ParseError, match=message):
        parse_microdescs(one.replace(old, new, 1))


def test_onion_key_must_come_first() -> None:
    one = parse_microdescs(load("micro-all"))[0].raw
    ntor = one[one.index("ntor-onion-key") :]
    head = one[: one.index("ntor-onion-key")]
    with pytest.raises(ParseError):
        parse_microdesc("@last-listed 2026-11-22 05:14:30\n" + ntor + head)
