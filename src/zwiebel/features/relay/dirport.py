"""A relay's DirPort (dir-spec 6.2): directory GETs over plain HTTP.

A relay with a DirPort answers the same documents as over BEGIN_DIR, from its
directory cache (`dircache.DirCacheServer`); uploads are for authorities only, so a
POST gets tor's answer for a non-authority ("Nonauthoritative directory does not
accept posted server descriptors", directory_handle_command_post).
"""

from __future__ import annotations

from zwiebel.features.relay.dircache import DirCacheServer
from zwiebel.proto.dirserver import DirReply, DirRequest, PeerInfo
from zwiebel.runtime.dirport import DirPortServer

NOT_AUTHORITY = "Nonauthoritative directory does not accept posted server descriptors"


class RelayDirPort:
    """The handler and listener of a non-authority relay's DirPort."""

    def __init__(self, cache: DirCacheServer) -> None:
        self.cache = cache
        self.server = DirPortServer(self.handle)

    async def handle(self, request: DirRequest, peer: PeerInfo) -> DirReply:
        """GET from the cache (404 when absent); anything else is refused."""
        del peer
        if request.method != "GET":
            return DirReply.short(400, NOT_AUTHORITY)
        body = await self.cache.get(request.path)
        if body is None:
            return DirReply.short(404, "Not found")
        return DirReply.document(body)

    async def start(self, host: str, port: int) -> None:
        """Listen on host:port."""
        await self.server.listen(host, port)

    async def close(self) -> None:
        """Stop listening."""
        await self.server.close()
