"""What a relay serves to BEGIN_DIR requests (dir-spec 4.4, 6.2 URLs).

Served from what the relay's own client side holds (its cached consensus, the
authority certificates and the descriptors it downloaded) and the relay's own
descriptors; other consensus, key and descriptor documents are fetched from a
directory server once and kept for a minute (a tor relay caches both consensus
flavors itself). Anything else gets 404, as tor answers for documents it lacks.
On a directory authority, `overlay` answers first with the authority's own documents
(zwiebel.features.dirauth), and nothing is fetched for others: an authority asking the
authorities (itself among them) for a document it lacks would ask itself again, stream
after stream, until its first consensus exists.

Deliberately not here: consensus diffs, votes, extra-info of other relays.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from zwiebel.encoding import decode_list, unb16, unb64
from zwiebel.features.relay.descriptor import DescriptorSet
from zwiebel.managers.directory import DirectoryManager

_CONSENSUS = "/tor/status-vote/current/consensus"
#: Seconds a fetched document is served from memory.
FETCHED_LIFETIME = 60.0
_FETCHABLE = ("/tor/status-vote/current/", "/tor/keys/", "/tor/micro/d/", "/tor/server/")


class DirCacheServer:
    """Answers directory GETs with documents or None (404)."""

    def __init__(self, directory: DirectoryManager,
                 own: Callable[[], DescriptorSet | None]) -> None:
        self._dir = directory
        self._own = own
        self._fetched: dict[str, tuple[float, bytes]] = {}
        self.overlay: Callable[[str], bytes | None] | None = None

    async def get(self, path: str) -> bytes | None:
        """The document for `path` (without ".z"), or None."""
        if self.overlay is not None:
            found = self.overlay(path)
            return found if found is not None else self._local(path)
        local = self._local(path)
        if local is not None or not path.startswith(_FETCHABLE):
            return local
        return await self._fetch(path)

    async def _fetch(self, path: str) -> bytes | None:
        now = time.monotonic()
        held = self._fetched.get(path)
        if held is not None and now - held[0] < FETCHED_LIFETIME:
            return held[1]
        body = await self._dir.fetch_document(path)
        if body is not None:
            self._fetched = {p: v for p, v in self._fetched.items()
                             if now - v[0] < FETCHED_LIFETIME}
            self._fetched[path] = (now, body)
        return body

    def _local(self, path: str) -> bytes | None:
        if path in (_CONSENSUS, _CONSENSUS + "-microdesc"):
            return self._dir.cached_consensus(path.endswith("-microdesc"))
        if path == "/tor/server/authority":
            own = self._own()
            return own.server.encode() if own is not None else None
        if path.startswith("/tor/keys/"):
            return self._dir.cached_certs()
        if path.startswith("/tor/micro/d/"):
            return self._documents(decode_list(path[len("/tor/micro/d/"):], "-", unb64))
        if path.startswith("/tor/server/d/"):
            return self._documents(decode_list(path[len("/tor/server/d/"):], "+", unb16))
        return None

    def _documents(self, keys: list[bytes]) -> bytes | None:
        docs = self._dir.documents()
        found = [docs[d].raw for d in keys if d in docs]
        return "".join(found).encode() if found else None
