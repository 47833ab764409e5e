"""Microdescriptors and vote "m" lines an authority derives (zwiebel.dirauth.microdescs).

Vectors: tests/vectors/dirauth/realnet/ from three real tor 0.4.9.11 authorities (see
its README): `server-all` (the descriptors), `micro` (the microdescriptors they served
for the consensus' m lines), `vote0..2` and `consensus-microdesc`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from zwiebel.crypto.digest import sha256
from zwiebel.dirauth.microdescs import (
    format_m_line,
    microdesc_lines,
    microdescriptor_for,
    vote_microdescs,
)
from zwiebel.encoding import b64_nopad
from zwiebel.netdoc.microdesc import parse_microdescs
from zwiebel.netdoc.serverdesc import ServerDescriptor, parse_server_descriptors

REALNET = Path(__file__).parents[2] / "vectors" / "dirauth" / "realnet"
DESCS = parse_server_descriptors((REALNET / "server-all").read_text())
MICRO = (REALNET / "micro").read_text()


def _vote_m_lines(name: str) -> dict[str, list[str]]:
    """Per "r" line's identity (base64): that entry's "m" lines."""
    out: dict[str, list[str]] = {}
    current = ""
    for line in (REALNET / name).read_text().splitlines(keepends=True):
        if line.startswith("r "):
            current = line.split()[2]
            out[current] = []
        elif line.startswith("m ") and current:
            out[current].append(line)
    return out


@pytest.mark.parametrize("desc", DESCS, ids=lambda d: d.nickname)
def test_microdescriptor_equals_real_tor_byte_for_byte(desc: ServerDescriptor) -> None:
    real = {m.raw: m for m in parse_microdescs(MICRO)}
    for method in (32, 33, 34, 35):
        text = microdescriptor_for(desc, method)
        assert text is not None and text in real
        assert sha256(text.encode()) == real[text].digest


def test_digests_are_the_consensus_m_lines() -> None:
    consensus = (REALNET / "consensus-microdesc").read_text()
    wanted = {line.split()[1] for line in consensus.splitlines() if line.startswith("m ")}
    ours = {b64_nopad(vote_microdescs(d)[0][1]) for d in DESCS}
    assert ours == wanted


@pytest.mark.parametrize("vote", ["vote0", "vote1", "vote2"])
def test_m_lines_equal_the_votes(vote: str) -> None:
    # The microdescriptor depends on keys and policy only, which no relay changed
    # between the descriptors a vote names and those in server-all.
    lines = _vote_m_lines(vote)
    checked = 0
    for desc in DESCS:
        key = b64_nopad(desc.identity)
        ours = [format_m_line(methods, digest) for methods, digest in vote_microdescs(desc)]
        assert ours == lines[key]
        checked += 1
    assert checked == len(lines) == 6


def test_one_line_for_all_methods_without_family_ids() -> None:
    (methods, text), = microdesc_lines(DESCS[0])
    assert methods == (32, 33, 34, 35)
    assert text == microdescriptor_for(DESCS[0], 35)


def test_no_microdescriptor_without_tap_key() -> None:
    import dataclasses

    bare = dataclasses.replace(DESCS[0], onion_key_tap=None)
    assert microdescriptor_for(bare, 35) is None
    assert microdesc_lines(bare) == ()


def test_family_and_policy_lines() -> None:
    import dataclasses

    from zwiebel.netdoc.policy import ExitPolicy, PolicySummary

    d = dataclasses.replace(
        DESCS[0], family=frozenset({"Bob", "$" + "ab" * 20}),
        exit_policy=ExitPolicy.from_descriptor_lines(["accept *:80", "reject *:*"]),
        ipv6_policy=PolicySummary.parse("accept 443"))
    text = microdescriptor_for(d, 35)
    assert text is not None
    own = "$" + d.identity.hex().upper()
    family = sorted(["$" + "AB" * 20, own]) + ["bob"]
    assert f"family {' '.join(family)}\np accept 80\np6 accept 443\nid ed25519 " in text
