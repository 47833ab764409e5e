"""One voting round of a v3 directory authority (dir-spec 3.3-3.4, 3.8, 3.10).

A round belongs to one valid-after time. It holds the votes of the configured
authorities (ours among them), computes the consensus in both flavors when voting
ends, gathers the other authorities' detached signatures and, at valid-after, gives
the signed documents if more than half of the authorities signed each of them, as
tor's dirvote.c does (dirvote_add_vote, dirvote_compute_consensuses,
dirvote_add_signatures, dirvote_publish_consensus).

No I/O here: the service (zwiebel.features.dirauth.service) fetches and posts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from zwiebel.crypto.digest import sha1, sha256
from zwiebel.dirauth.consensus import (
    DetachedSignatures,
    assemble_consensus,
    build_detached,
    choose_method,
    compute_consensus,
    parse_detached,
    sign_consensus,
)
from zwiebel.dirauth.keys import AuthorityKeys
from zwiebel.encoding import ParseError
from zwiebel.netdoc.authcert import AuthorityCert
from zwiebel.netdoc.consensus import DirSignature, Flavor
from zwiebel.netdoc.errors import VerifyError
from zwiebel.netdoc.sigs import rsa_signature_ok
from zwiebel.netdoc.vote import Vote, parse_vote, verify_vote

FLAVORS: tuple[Flavor, ...] = ("ns", "microdesc")
_ALGORITHM = {"ns": "sha1", "microdesc": "sha256"}


class RoundError(ValueError):
    """A vote or signature the round refuses, or a step it cannot take; the text is
    the reason an HTTP 400 or a log line gives."""


@dataclass(frozen=True)
class Published:
    """The outcome of a round: signed consensus texts by flavor, and the votes used."""

    valid_after: datetime
    documents: Mapping[str, str]
    votes: tuple[Vote, ...]


def signed_digest(unsigned: str, flavor: str) -> bytes:
    """What a consensus signature covers: the text through "directory-signature "."""
    data = (unsigned + "directory-signature ").encode()
    return sha1(data) if _ALGORITHM[flavor] == "sha1" else sha256(data)


class VotingRound:
    """Votes, the computed consensus and its signatures for one valid-after time."""

    def __init__(self, valid_after: datetime, authorities: Mapping[bytes, str],
                 keys: AuthorityKeys) -> None:
        self.valid_after = valid_after
        self.authorities = dict(authorities)
        self.keys = keys
        self.votes: dict[bytes, Vote] = {}
        self.unsigned: dict[str, str] = {}
        self.signatures: dict[str, dict[bytes, DirSignature]] = {}

    @property
    def needed(self) -> int:
        """More than half of the configured authorities (dir-spec 3.4.1)."""
        return len(self.authorities) // 2 + 1

    def add_vote(self, text: str, now: datetime) -> tuple[Vote, bool]:
        """Check and keep a vote; returns it and whether it was new."""
        try:
            vote = parse_vote(text)
        except ParseError as exc:
            raise RoundError(f"Unable to parse vote: {exc}") from None
        ident = vote.cert.identity
        if ident not in self.authorities:
            raise RoundError("Vote not from a recognized v3 authority")
        try:
            verify_vote(vote, now)
        except VerifyError as exc:
            raise RoundError(f"Bad signature on vote: {exc}") from None
        if vote.body.valid_after != self.valid_after:
            raise RoundError(f"Vote has valid-after {vote.body.valid_after:%Y-%m-%d %H:%M:%S}; "
                             f"we were expecting {self.valid_after:%Y-%m-%d %H:%M:%S}")
        held = self.votes.get(ident)
        if held is not None and held.digest == vote.digest:
            return held, False
        if held is not None and held.body.published >= vote.body.published:
            raise RoundError("Already have a newer pending vote from this authority")
        if self.unsigned:
            raise RoundError("Vote arrived after the consensus was computed")
        self.votes[ident] = vote
        return vote, True

    def missing_votes(self) -> list[bytes]:
        """v3 identities of the authorities whose vote we lack."""
        return [ident for ident in self.authorities if ident not in self.votes]

    def compute(self) -> int:
        """Compute and sign both flavors; returns the consensus method used."""
        if len(self.votes) < self.needed:
            raise RoundError(f"We don't have enough votes to generate a consensus: "
                             f"{len(self.votes)} of {self.needed}")
        votes = list(self.votes.values())
        method = choose_method(votes)
        if method is None:
            raise RoundError("No consensus method is supported by enough authorities")
        for flavor in FLAVORS:
            unsigned = compute_consensus(votes, flavor, total_authorities=len(self.authorities),
                                         method=method)
            self.unsigned[flavor] = unsigned
            own = sign_consensus(unsigned, flavor, self.keys)
            self.signatures[flavor] = {self.keys.v3ident: own}
        return method

    @property
    def computed(self) -> bool:
        """Whether the consensus of this round has been computed."""
        return bool(self.unsigned)

    def detached(self) -> str:
        """Our detached-signature document with every signature we hold (dir-spec 3.10)."""
        if not self.computed:
            raise RoundError("No consensus computed yet")
        return build_detached(self._detached_model())

    def _detached_model(self) -> DetachedSignatures:
        va = self.valid_after
        first = self.votes[next(iter(self.votes))].body
        return DetachedSignatures(
            consensus_digest=signed_digest(self.unsigned["ns"], "ns"),
            valid_after=va, fresh_until=first.fresh_until, valid_until=first.valid_until,
            signatures={f: tuple(self._ordered(f)) for f in FLAVORS},
            digests={"microdesc": {"sha256": signed_digest(self.unsigned["microdesc"],
                                                           "microdesc")}},
        )

    def _ordered(self, flavor: str) -> list[DirSignature]:
        held = self.signatures.get(flavor, {})
        return [held[k] for k in sorted(held)]

    def add_signatures(self, text: str) -> int:
        """Add the valid signatures of a detached-signature document; returns how many
        were new. A document for another consensus is refused."""
        if not self.computed:
            raise RoundError("No consensus computed yet")
        try:
            detached = parse_detached(text)
        except ParseError as exc:
            raise RoundError(f"Unable to parse detached signatures: {exc}") from None
        if detached.consensus_digest != signed_digest(self.unsigned["ns"], "ns"):
            raise RoundError("Detached signatures are for a different consensus")
        added = 0
        for flavor, sigs in detached.signatures.items():
            if flavor in self.unsigned:
                added += sum(self._add_signature(flavor, sig) for sig in sigs)
        return added

    def _cert(self, ident: bytes) -> AuthorityCert | None:
        vote = self.votes.get(ident)
        return vote.cert if vote is not None else None

    def _add_signature(self, flavor: str, sig: DirSignature) -> bool:
        held = self.signatures.setdefault(flavor, {})
        cert = self._cert(sig.identity)
        if sig.identity in held or cert is None:
            return False
        if cert.signing_key_digest != sig.signing_key_digest:
            return False
        digest = signed_digest(self.unsigned[flavor], flavor)
        if not rsa_signature_ok(cert.signing_key, sig.signature, digest):
            return False
        held[sig.identity] = sig
        return True

    def publish(self) -> Published:
        """The signed documents, if every flavor has enough signatures."""
        if not self.computed:
            raise RoundError("No consensus computed: nothing to publish")
        documents: dict[str, str] = {}
        for flavor in FLAVORS:
            sigs = self._ordered(flavor)
            if len(sigs) < self.needed:
                raise RoundError(f"Not enough signatures on the {flavor} consensus: "
                                 f"{len(sigs)} of {self.needed} needed")
            documents[flavor] = assemble_consensus(self.unsigned[flavor], sigs)
        return Published(self.valid_after, documents, tuple(self.votes.values()))
