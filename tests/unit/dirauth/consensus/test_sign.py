"""Signing a consensus (dir-spec 3.4.1) with real authority keys.

Vectors: captures with keys-authN/ (the signing key and certificate of each real tor
authority, tests/vectors/dirauth/<capture>/README.md). tor's signatures are raw
PKCS#1 v1.5 over the digest, hence deterministic: ours must equal theirs.
"""

from __future__ import annotations

import dataclasses

import pytest

from tests.unit.dirauth.consensus.vectors import ROOT, WITH_KEYS, text, unsigned, votes
from zwiebel.dirauth.consensus import (
    assemble_consensus,
    compute_consensus,
    sign_consensus,
    signed_digest,
)
from zwiebel.dirauth.keys import load_authority_keys
from zwiebel.netdoc.authcert import parse_authority_certs
from zwiebel.netdoc.consensus import parse_consensus
from zwiebel.netdoc.consensus_verify import ConsensusVerifyError, verify_consensus

FLAVORS = (("ns", "consensus"), ("microdesc", "consensus-microdesc"))


@pytest.mark.parametrize("capture", WITH_KEYS)
@pytest.mark.parametrize(("flavor", "name"), FLAVORS)
def test_signatures_equal_tor(capture: str, flavor: str, name: str) -> None:
    doc = text(capture, name)
    parsed = parse_consensus(doc)
    ours = []
    for i in range(3):
        keys = load_authority_keys(ROOT / capture / f"keys-auth{i}", parsed.valid_after)
        sig = sign_consensus(unsigned(doc), flavor, keys)  # type: ignore[arg-type]
        assert sig in parsed.signatures
        ours.append(sig)
    assert assemble_consensus(unsigned(doc), ours[::-1]) == doc


@pytest.mark.parametrize("capture", WITH_KEYS)
@pytest.mark.parametrize(("flavor", "name"), FLAVORS)
def test_computed_and_signed_verifies(capture: str, flavor: str, name: str) -> None:
    body = compute_consensus(votes(capture), flavor, total_authorities=3)  # type: ignore[arg-type]
    parsed0 = parse_consensus(text(capture, name))
    keys = [
        load_authority_keys(ROOT / capture / f"keys-auth{i}", parsed0.valid_after) for i in range(3)
    ]
    doc = assemble_consensus(body, [sign_consensus(body, flavor, k) for k in keys])  # type: ignore[arg-type]
    parsed = parse_consensus(doc)
    digest = signed_digest(body, flavor)  # type: ignore[arg-type]
    assert parsed.signed_digests["sha1" if flavor == "ns" else "sha256"] == digest
    certs = parse_authority_certs(text(capture, "keys-all"))
    trusted = [k.v3ident for k in keys]
    verified = verify_consensus(parsed, certs, trusted, parsed.valid_after)
    assert verified.signers == frozenset(trusted)
    # One signer of three is not enough.
    lone = parse_consensus(assemble_consensus(body, [sign_consensus(body, flavor, keys[0])]))  # type: ignore[arg-type]
    with pytest.raises(ConsensusVerifyError):
        verify_consensus(lone, certs, trusted, parsed.valid_after)


def test_signature_lines() -> None:
    doc = text("realnet2", "consensus-microdesc")
    sig = parse_consensus(doc).signatures[0]
    assembled = assemble_consensus(unsigned(doc), [sig])
    assert f"directory-signature sha256 {sig.identity.hex().upper()} " in assembled
    ns = text("realnet2", "consensus")
    ns_sig = parse_consensus(ns).signatures[0]
    assert f"\ndirectory-signature {ns_sig.identity.hex().upper()} " in assemble_consensus(
        unsigned(ns), [ns_sig]
    )


def test_signature_by_a_non_voter_is_refused() -> None:
    doc = text("realnet2", "consensus")
    sig = parse_consensus(doc).signatures[0]
    stranger = dataclasses.replace(sig, identity=b"\x01" * 20)
    with pytest.raises(ValueError):
        assemble_consensus(unsigned(doc), [stranger])
