"""Choosing the consensus method (dir-spec 3.8.1).

"The highest consensus method that is listed by more than 2/3 of the votes"
(tor: compute_consensus_method in src/feature/dirauth/dirvote.c, where "more than
2/3" is count > (n_votes * 2) / 3 in integer arithmetic, each vote counting a method
once). When no method qualifies tor's answer is 1; an authority that does not
support the agreed method computes with its own highest (MAX_SUPPORTED).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from zwiebel.netdoc.vote import Vote

MIN_SUPPORTED_METHOD = 32
MAX_SUPPORTED_METHOD = 35
SUPPORTED_METHODS: tuple[int, ...] = tuple(range(MIN_SUPPORTED_METHOD, MAX_SUPPORTED_METHOD + 1))

MIN_METHOD_TO_SUPPRESS_MD_PUBLISHED = 33
"""From here, microdesc consensus entries say "2038-01-01 00:00:00" as published."""
MIN_METHOD_TO_OMIT_PACKAGE_FINGERPRINTS = 34
"""From here, no "package" lines."""
MIN_METHOD_FOR_FAMILY_IDS = 35
"""Microdescriptors carry "family-ids" (affects microdescriptors, not this text)."""


def agreed_method(votes: Sequence[Vote]) -> int:
    """tor's compute_consensus_method: the highest method > 2/3 of votes list, else 1."""
    minimum = len(votes) * 2 // 3
    counts = Counter(m for vote in votes for m in set(vote.body.consensus_methods))
    acceptable = [m for m, n in counts.items() if n > minimum]
    return max(acceptable) if acceptable else 1


def choose_method(votes: Sequence[Vote]) -> int | None:
    """The agreed method if we support it; None if we do not (tor then uses its maximum)."""
    method = agreed_method(votes)
    return method if method in SUPPORTED_METHODS else None


def method_for(votes: Sequence[Vote]) -> int:
    """The method tor would compute with: the agreed one, or our highest."""
    return choose_method(votes) or MAX_SUPPORTED_METHOD
