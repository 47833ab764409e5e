"""The v3 consensus from the authorities' votes, as tor 0.4.9 computes it (dir-spec 3.8-3.10).

All authorities sign the same digest, so a Zwiebel authority voting with real tor
authorities must produce the consensus text byte for byte as tor's
networkstatus_compute_consensus (src/feature/dirauth/dirvote.c) does, for every
consensus method tor 0.4.9 supports (32..35).

Modules, along the spec's seams:

* `method`: the consensus method (3.8.1);
* `preamble`: times, versions, known-flags, protocol lines, params, shared random
  values and the authority section;
* `collate`: which entries describe the same router (RSA + Ed25519 identity);
* `choose`, `routers`, `entry`: one router's descriptor, flags, version, protocols,
  bandwidth, policy summary and microdescriptor, and its text;
* `weights`: the bandwidth-weights line (3.8.3);
* `compute`: the whole unsigned text; `sign`: signatures and the assembled document;
* `detached`: detached signatures (3.10);
* `versions`, `protover`, `tally`: tor's version order, protocol-list vote and
  counting helpers with its exact tie-breaking.

Design notes: pure functions over parsed votes (zwiebel.netdoc.vote); no clock, no
I/O. Where tor's answer depends on its own state, it is a parameter:
`total_authorities` (get_n_authorities), `srv_fresh` (the shared random state) and
`shared_randomness` (AuthDirSharedRandomness). The real-tor vectors under
tests/vectors/dirauth/ are the reference; the tests require byte equality.

Deliberately not here: votes' "package" lines (method 32/33 would list them; votes
from tor 0.4.9 have none and VoteBody does not keep them), legacy authority keys
("dir-source <nick>-legacy", legacy signatures), GuardFraction, and the distinction
between "id ed25519 none" and no "id" line (VoteRouter folds both into None). Which
votes count (known authorities, valid signatures, right times) is the caller's
business, as it is dirvote_add_vote's in tor.
"""

from zwiebel.dirauth.consensus.compute import compute_consensus
from zwiebel.dirauth.consensus.detached import (
    DetachedSignatures,
    build_detached,
    detached_for,
    parse_detached,
)
from zwiebel.dirauth.consensus.entry import Flavor
from zwiebel.dirauth.consensus.method import (
    MAX_SUPPORTED_METHOD,
    MIN_SUPPORTED_METHOD,
    SUPPORTED_METHODS,
    agreed_method,
    choose_method,
)
from zwiebel.dirauth.consensus.sign import (
    assemble_consensus,
    format_signature,
    sign_consensus,
    signed_digest,
)
from zwiebel.dirauth.consensus.weights import Totals, compute_weights

__all__ = [
    "MAX_SUPPORTED_METHOD",
    "MIN_SUPPORTED_METHOD",
    "SUPPORTED_METHODS",
    "DetachedSignatures",
    "Flavor",
    "Totals",
    "agreed_method",
    "assemble_consensus",
    "build_detached",
    "choose_method",
    "compute_consensus",
    "compute_weights",
    "detached_for",
    "format_signature",
    "parse_detached",
    "sign_consensus",
    "signed_digest",
]
