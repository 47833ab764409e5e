"""Microdescriptors an authority derives from server descriptors (dir-spec 3.3, 3.9).

tor 0.4.9.11 dirvote_create_microdescriptor (src/feature/dirauth/dirvote.c):
"onion-key" with the TAP key (no microdescriptor without one), "ntor-onion-key"
(unpadded base64), the canonical "family" (nodefamily_canonicalize), from consensus
method 35 (MIN_METHOD_FOR_FAMILY_IDS) "family-ids" with the checked family-cert keys,
"p" with the IPv4 policy summary and "p6" with the re-encoded "ipv6-policy" (each
unless it rejects everything), and "id ed25519": `zwiebel.netdoc.build.microdesc`, given
the family-ids from the method that brings them on.

A vote names, per relay, each distinct microdescriptor with the consensus methods
that produce it (dirvote_format_all_microdesc_vote_lines): tor computes one per range
of microdesc_consensus_methods ({32-34}, {35}) and merges adjacent equal ones, so a
relay without family-certs gets the single line "m 32,33,34,35 sha256=...".
"""

from __future__ import annotations

from zwiebel.crypto.digest import sha256
from zwiebel.dirauth.accept import family_ids
from zwiebel.encoding import b64_nopad
from zwiebel.netdoc.build.microdesc import build_microdesc
from zwiebel.netdoc.serverdesc import ServerDescriptor

MIN_SUPPORTED_CONSENSUS_METHOD = 32
MAX_SUPPORTED_CONSENSUS_METHOD = 35
MIN_METHOD_FOR_FAMILY_IDS = 35
METHOD_RANGES = ((MIN_SUPPORTED_CONSENSUS_METHOD, MIN_METHOD_FOR_FAMILY_IDS - 1),
                 (MIN_METHOD_FOR_FAMILY_IDS, MAX_SUPPORTED_CONSENSUS_METHOD))
"""tor: microdesc_consensus_methods."""


def microdescriptor_for(desc: ServerDescriptor, method: int) -> str | None:
    """The microdescriptor consensus method `method` makes of `desc`; None without TAP key."""
    if desc.onion_key_tap is None:
        return None
    ids = family_ids(desc) if method >= MIN_METHOD_FOR_FAMILY_IDS else ()
    return build_microdesc(desc, ids)


def microdesc_lines(desc: ServerDescriptor) -> tuple[tuple[tuple[int, ...], str], ...]:
    """(consensus methods, microdescriptor text) per distinct microdescriptor, in tor's order."""
    groups: list[tuple[int, int, str]] = []
    for low, high in METHOD_RANGES:
        text = microdescriptor_for(desc, low)
        if text is None:
            continue
        if groups and groups[-1][2] == text and groups[-1][1] + 1 == low:
            groups[-1] = (groups[-1][0], high, text)
        else:
            groups.append((low, high, text))
    return tuple((tuple(range(low, high + 1)), text) for low, high, text in groups)


def vote_microdescs(desc: ServerDescriptor) -> tuple[tuple[tuple[int, ...], bytes], ...]:
    """VoteRouter.microdescs: (methods, SHA-256 of the microdescriptor) per "m" line."""
    return tuple((methods, sha256(text.encode())) for methods, text in microdesc_lines(desc))


def format_m_line(methods: tuple[int, ...], digest: bytes) -> str:
    """One vote "m" line: "m 32,33,34,35 sha256=<unpadded base64>"."""
    return f"m {','.join(map(str, methods))} sha256={b64_nopad(digest)}\n"
