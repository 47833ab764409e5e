"""Checking a consensus: authority signatures and validity times (dir-spec 3.4.1, 5.1).

A client accepts a consensus when more than half of the authorities it trusts have
validly signed it (tor: networkstatus_check_consensus_signature requires
n_authorities/2 + 1 good signers). One signer counts once, however many of its
signatures (sha1, sha256) verify. A signature is checked with the certificate whose
identity and signing-key digests match it, after the certificate itself verified
and has not expired.

Liveness follows tor's "reasonably live" rule (networkstatus_consensus_reasonably_live,
src/feature/nodelist/networkstatus.c): a consensus is usable from 24 hours before
its valid-after until 24 hours after its valid-until.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from zwiebel.netdoc.authcert import AuthorityCert, check_authority_cert
from zwiebel.netdoc.consensus import Consensus, DirSignature
from zwiebel.netdoc.errors import VerifyError
from zwiebel.netdoc.sigs import rsa_signature_ok

REASONABLY_LIVE = timedelta(hours=24)
"""How far outside [valid-after, valid-until] tor still uses a consensus."""


class ConsensusVerifyError(VerifyError):
    """Not enough trusted authorities validly signed, or the consensus is not live.

    `missing_certs` lists the v3 identities of trusted authorities that signed but
    whose certificate (matching the signing key digest) we lack or could not use:
    fetch /tor/keys/fp/<hex identity> (or /tor/keys/fp-sk/<id>-<skd>) and retry.
    """

    def __init__(
        self,
        reason: str,
        good: frozenset[bytes] = frozenset(),
        needed: int = 0,
        missing_certs: frozenset[bytes] = frozenset(),
        bad: frozenset[bytes] = frozenset(),
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.good = good
        self.needed = needed
        self.missing_certs = missing_certs
        self.bad = bad


@dataclass(frozen=True)
class VerifiedConsensus:
    """A consensus whose signatures and times checked out."""

    consensus: Consensus
    signers: frozenset[bytes]
    """v3 identities of the trusted authorities with a valid signature."""
    live: bool
    """Whether `now` was within [valid-after, valid-until] (not merely reasonably live)."""


def is_reasonably_live(consensus: Consensus, now: datetime) -> bool:
    """tor's networkstatus_consensus_reasonably_live."""
    return consensus.valid_after - REASONABLY_LIVE <= now <= consensus.valid_until + REASONABLY_LIVE


def is_live(consensus: Consensus, now: datetime) -> bool:
    """Whether `now` lies in [valid-after, valid-until]."""
    return consensus.valid_after <= now <= consensus.valid_until


def _usable_cert(
    sig: DirSignature, certs: Sequence[AuthorityCert], now: datetime
) -> AuthorityCert | None:
    """The verified, unexpired certificate matching a signature's two digests."""
    for cert in certs:
        if cert.identity != sig.identity or cert.signing_key_digest != sig.signing_key_digest:
            continue
        try:
            check_authority_cert(cert, now)
        except VerifyError:
            continue
        return cert
    return None


def _tally(
    c: Consensus, certs: Sequence[AuthorityCert], trusted: Collection[bytes], now: datetime
) -> tuple[set[bytes], set[bytes], set[bytes]]:
    """(good, missing cert, bad) sets of trusted identities, over every signature."""
    good: set[bytes] = set()
    missing: set[bytes] = set()
    bad: set[bytes] = set()
    for sig in c.signatures:
        digest = c.signed_digests.get(sig.algorithm)
        if sig.identity not in trusted or digest is None:
            continue
        cert = _usable_cert(sig, certs, now)
        if cert is None:
            missing.add(sig.identity)
        elif rsa_signature_ok(cert.signing_key, sig.signature, digest):
            good.add(sig.identity)
        else:
            bad.add(sig.identity)
    return good, missing - good, bad - good


def _hexes(idents: set[bytes]) -> str:
    return ", ".join(sorted(i.hex().upper() for i in idents)) or "none"


def verify_consensus(
    c: Consensus,
    certs: Sequence[AuthorityCert],
    trusted_v3idents: Collection[bytes],
    now: datetime,
) -> VerifiedConsensus:
    """Check signatures and times; raise ConsensusVerifyError with the reason."""
    trusted = frozenset(trusted_v3idents)
    needed = len(trusted) // 2 + 1
    if not is_reasonably_live(c, now):
        raise ConsensusVerifyError(
            f"consensus valid {c.valid_after:%Y-%m-%d %H:%M:%S} to "
            f"{c.valid_until:%Y-%m-%d %H:%M:%S} is not reasonably live at "
            f"{now:%Y-%m-%d %H:%M:%S}",
            needed=needed,
        )
    good, missing, bad = _tally(c, certs, trusted, now)
    if len(good) < needed:
        raise ConsensusVerifyError(
            f"{len(good)} of {len(trusted)} trusted authorities signed validly, need {needed}; "
            f"missing certificates: {_hexes(missing)}; bad signatures: {_hexes(bad)}",
            frozenset(good),
            needed,
            frozenset(missing),
            frozenset(bad),
        )
    return VerifiedConsensus(c, frozenset(good), is_live(c, now))
