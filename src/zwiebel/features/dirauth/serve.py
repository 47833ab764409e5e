"""What a v3 authority serves to directory GETs (dir-spec 4.4, 6.2 "URLs").

The same answers go out over the DirPort and over BEGIN_DIR streams. Documents are
looked up by the URL forms tor's clients, caches and authorities use
(src/feature/dircache/dircache.c url_table): the current consensus of each flavor
(with or without the "/<fingerprint prefixes>" suffix clients add), votes of the
current and the pending round, detached signatures while a round is signing,
authority certificates, server descriptors, extra-info and microdescriptors. Several
documents asked for at once are concatenated; none found is None (a 404).

Deliberately not here: consensus diffs (clients fall back to the full document).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from zwiebel.encoding import decode_list, unb16, unb64
from zwiebel.features.dirauth.round import VotingRound
from zwiebel.netdoc.vote import Vote

_CURRENT = "/tor/status-vote/current/"
_NEXT = "/tor/status-vote/next/"


@dataclass
class ServedDocs:
    """Everything the authority can answer with; the service keeps it up to date."""

    consensus: dict[str, str] = field(default_factory=dict)
    """Flavor ("ns", "microdesc") to the current signed consensus."""
    current_votes: tuple[Vote, ...] = ()
    own_current_vote: str | None = None
    pending: VotingRound | None = None
    own_pending_vote: str | None = None
    certs: dict[bytes, str] = field(default_factory=dict)
    """v3 identity to certificate text, ours first."""
    own_cert: str = ""
    servers: dict[bytes, str] = field(default_factory=dict)
    """Descriptor digest (SHA-1 of the signed part) to server descriptor text."""
    servers_by_id: dict[bytes, bytes] = field(default_factory=dict)
    """RSA identity digest to the digest of its newest descriptor."""
    extras: dict[bytes, str] = field(default_factory=dict)
    extras_by_id: dict[bytes, bytes] = field(default_factory=dict)
    micro: dict[bytes, str] = field(default_factory=dict)
    """SHA-256 digest to microdescriptor text."""
    own_server: Callable[[], str | None] = lambda: None


def _join(found: Iterable[str | None]) -> bytes | None:
    texts = [t for t in found if t]
    return "".join(texts).encode() if texts else None


class AuthorityDocuments:
    """Answers a GET path (without ".z") with document bytes, or None."""

    def __init__(self, docs: ServedDocs) -> None:
        self.docs = docs

    def get(self, path: str) -> bytes | None:
        """The answer for `path`."""
        if path.startswith(_CURRENT):
            return self._current(path[len(_CURRENT):])
        if path.startswith(_NEXT):
            return self._next(path[len(_NEXT):])
        if path.startswith("/tor/keys/"):
            return self._keys(path[len("/tor/keys/"):])
        if path.startswith("/tor/server/"):
            return self._descriptors(path[len("/tor/server/"):], self.docs.servers,
                                     self.docs.servers_by_id, own=True)
        if path.startswith("/tor/extra/"):
            return self._descriptors(path[len("/tor/extra/"):], self.docs.extras,
                                     self.docs.extras_by_id, own=False)
        if path.startswith("/tor/micro/d/"):
            digests = decode_list(path[len("/tor/micro/d/"):], "-", unb64)
            return _join(self.docs.micro.get(d) for d in digests)
        return None

    def _current(self, rest: str) -> bytes | None:
        name = rest.split("/", 1)[0]
        if name in ("consensus", "consensus-ns") and "/diff/" not in rest:
            return _join([self.docs.consensus.get("ns")])
        if name == "consensus-microdesc" and "/diff/" not in rest:
            return _join([self.docs.consensus.get("microdesc")])
        if rest == "authority":
            return _join([self.docs.own_current_vote])
        if rest.startswith("d/"):
            return self._votes_by_digest(rest[2:], self.docs.current_votes)
        return None

    def _next(self, rest: str) -> bytes | None:
        pending = self.docs.pending
        if rest == "authority":
            return _join([self.docs.own_pending_vote])
        if pending is None:
            return None
        if rest == "consensus-signatures":
            return pending.detached().encode() if pending.computed else None
        if rest.startswith("d/"):
            return self._votes_by_digest(rest[2:], tuple(pending.votes.values()))
        return None

    @staticmethod
    def _votes_by_digest(rest: str, votes: tuple[Vote, ...]) -> bytes | None:
        wanted = set(decode_list(rest, "+", unb16))
        return _join(v.raw for v in votes if v.digest in wanted)

    def _keys(self, rest: str) -> bytes | None:
        certs = self.docs.certs
        if rest == "all":
            return _join(certs.values())
        if rest == "authority":
            return _join([self.docs.own_cert])
        if rest.startswith("fp/"):
            return _join(certs.get(i) for i in decode_list(rest[3:], "+", unb16))
        if rest.startswith("fp-sk/"):
            return self._keys_by_pair(rest[6:])
        return None

    def _keys_by_pair(self, rest: str) -> bytes | None:
        idents = "+".join(pair.partition("-")[0] for pair in rest.split("+"))
        wanted = set(decode_list(idents, "+", unb16))
        return _join(self.docs.certs.get(i) for i in sorted(wanted))

    def _descriptors(self, rest: str, by_digest: Mapping[bytes, str],
                     by_id: Mapping[bytes, bytes], own: bool) -> bytes | None:
        if rest == "all":
            return _join(by_digest[d] for d in by_id.values() if d in by_digest)
        if rest == "authority" and own:
            return _join([self.docs.own_server()])
        if rest.startswith("d/"):
            return _join(by_digest.get(d) for d in decode_list(rest[2:], "+", unb16))
        if rest.startswith("fp/"):
            digests = (by_id.get(i) for i in decode_list(rest[3:], "+", unb16))
            return _join(by_digest.get(d) for d in digests if d is not None)
        return None
