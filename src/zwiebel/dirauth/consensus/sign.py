"""Signing a consensus and writing its signatures (dir-spec 3.4.1, 1.3).

The signed portion runs from "network-status-version" through the space after the
first "directory-signature". The ns flavor is signed over its SHA-1 and names the
signer as "directory-signature <v3ident> <signing key digest>"; the microdesc
flavor over its SHA-256, as "directory-signature sha256 <v3ident> <signing key
digest>" (tor: networkstatus_compute_consensus and networkstatus_format_signatures,
src/feature/dirauth/dirvote.c). The signature is tor's raw PKCS#1 v1.5 over the
bare digest, so the same key and text give the same bytes.

Signatures are written in the order of the voters in the authority section (sorted
by v3 identity), each voter's in the order given.
"""

from __future__ import annotations

from collections.abc import Sequence

from zwiebel.crypto.digest import sha1, sha256
from zwiebel.dirauth.consensus.entry import Flavor
from zwiebel.dirauth.keys import AuthorityKeys
from zwiebel.netdoc.consensus import DirSignature
from zwiebel.netdoc.tokenizer import format_object

SIGNATURE_KEYWORD = "directory-signature "


def flavor_of(text: str) -> Flavor:
    """The flavor a consensus text declares on its first line."""
    first = text.split("\n", 1)[0]
    if first == "network-status-version 3":
        return "ns"
    if first == "network-status-version 3 microdesc":
        return "microdesc"
    raise ValueError(f"not a v3 consensus of a known flavor: {first!r}")


def signed_digest(unsigned: str, flavor: Flavor) -> bytes:
    """The digest a signature covers: the text plus "directory-signature "."""
    data = (unsigned + SIGNATURE_KEYWORD).encode()
    return sha1(data) if flavor == "ns" else sha256(data)


def sign_consensus(unsigned: str, flavor: Flavor, keys: AuthorityKeys) -> DirSignature:
    """This authority's signature on the unsigned text of `flavor`."""
    digest = signed_digest(unsigned, flavor)
    return DirSignature(
        algorithm="sha1" if flavor == "ns" else "sha256",
        identity=keys.v3ident,
        signing_key_digest=keys.signing_key.public().fingerprint(),
        signature=keys.signing_key.sign_raw(digest),
    )


def format_signature(
    sig: DirSignature, flavor: Flavor, keyword: str = "directory-signature"
) -> str:
    """One signature item; the microdesc flavor names the digest algorithm."""
    ids = f"{sig.identity.hex().upper()} {sig.signing_key_digest.hex().upper()}"
    head = f"{keyword} {ids}" if flavor == "ns" else f"{keyword} {sig.algorithm} {ids}"
    return f"{head}\n{format_object('SIGNATURE', sig.signature)}"


def _voters(unsigned: str) -> list[bytes]:
    return [
        bytes.fromhex(line.split(" ")[2])
        for line in unsigned.split("\n")
        if line.startswith("dir-source ") and len(line.split(" ")) > 2
    ]


def assemble_consensus(unsigned: str, signatures: Sequence[DirSignature]) -> str:
    """The full consensus: the unsigned text and the signatures in tor's order.

    Every signature must come from one of the consensus's voters (ValueError).
    """
    flavor = flavor_of(unsigned)
    voters = _voters(unsigned)
    for sig in signatures:
        if sig.identity not in voters:
            raise ValueError(f"signature by {sig.identity.hex().upper()}, not a voter")
    ordered = sorted(signatures, key=lambda s: voters.index(s.identity))
    return unsigned + "".join(format_signature(s, flavor) for s in ordered)
