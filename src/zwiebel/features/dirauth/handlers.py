"""The authority's answers to directory requests (dir-spec 6.2; tor's dircache.c
and directory_handle_command_post).

GETs are answered from `serve.AuthorityDocuments`; POSTs are descriptor uploads
(``/tor/``), votes (``/tor/post/vote``) and detached signatures
(``/tor/post/consensus-signature``). BEGIN_DIR streams on the ORPort get the same
documents through the relay's directory cache (its `overlay`, set by the service).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from zwiebel.features.dirauth.round import RoundError
from zwiebel.features.dirauth.uploads import handle_upload
from zwiebel.proto.dirserver import DirReply, DirRequest, PeerInfo
from zwiebel.runtime.clock import utcnow

if TYPE_CHECKING:
    from zwiebel.features.dirauth.service import AuthorityService

log = logging.getLogger("zwiebel")
NOTICE = 25
#: Seconds a consensus may be cached by HTTP caches (tor uses the time to fresh-until).
CACHE_LIFETIME = 60


class AuthorityHandlers:
    """Dispatches one request to the authority's documents and state."""

    def __init__(self, service: AuthorityService) -> None:
        self.service = service

    async def handle(self, request: DirRequest, peer: PeerInfo) -> DirReply:
        """The answer to one DirPort request."""
        if request.method == "GET":
            return self._get(request.path)
        if request.method == "POST":
            return self._post(request, peer)
        return DirReply.short(400, "Bad request")

    def _get(self, path: str) -> DirReply:
        body = self.service.documents.get(path)
        if body is None:
            return DirReply.short(404, "Not found")
        return DirReply.document(body, cache_lifetime=CACHE_LIFETIME)

    def _post(self, request: DirRequest, peer: PeerInfo) -> DirReply:
        source = f"{peer.address}:{peer.port}"
        if request.path == "/tor/":
            return self._upload(request.body, source)
        if request.path == "/tor/post/vote":
            return self._vote(request.body, source)
        if request.path == "/tor/post/consensus-signature":
            return self._signatures(request.body, source)
        return DirReply.short(400, "Nonauthoritative directory does not accept posted "
                                   "server descriptors")

    def _upload(self, body: bytes, source: str) -> DirReply:
        service = self.service
        outcome = handle_upload(service.store, body, utcnow(), source, service.note_descriptor)
        service.refresh_extras()
        if outcome.status != 200:
            return DirReply.short(outcome.status, outcome.reason)
        if outcome.not_new:
            return DirReply.headers_only((("X-Descriptor-Not-New", "Yes"),))
        return DirReply.short(200, "OK")

    def _vote(self, body: bytes, source: str) -> DirReply:
        now = utcnow()
        voting = self.service.current_round(now)
        try:
            vote, new = voting.add_vote(body.decode("utf-8", "replace"), now)
        except RoundError as exc:
            log.warning("Rejected vote from %s: %s", source, exc)
            return DirReply.short(400, str(exc))
        if new:
            log.log(NOTICE, "Added a vote from %s (%s) for %s.", vote.body.authority.nickname,
                    source, f"{voting.valid_after:%Y-%m-%d %H:%M:%S}")
        return DirReply.short(200, "Vote stored")

    def _signatures(self, body: bytes, source: str) -> DirReply:
        voting = self.service.round
        if voting is None or not voting.computed:
            self.service.voting.hold_signatures(body)
            return DirReply.short(200, "Signatures stored")
        try:
            added = voting.add_signatures(body.decode("utf-8", "replace"))
        except RoundError as exc:
            log.warning("Rejected detached signatures from %s: %s", source, exc)
            return DirReply.short(400, str(exc))
        log.info("Added %d signature(s) from %s.", added, source)
        return DirReply.short(200, "Signatures stored")
