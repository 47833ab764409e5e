"""On an authority the directory cache answers from the authority's documents and its
own, and never fetches from the authorities (itself among them)."""

from __future__ import annotations

import asyncio

from zwiebel.features.relay.dircache import DirCacheServer


class _Directory:
    def __init__(self) -> None:
        self.fetched: list[str] = []

    async def fetch_document(self, path: str) -> bytes | None:
        self.fetched.append(path)
        return b"fetched"

    def cached_consensus(self, microdesc: bool) -> bytes | None:
        return None

    def cached_certs(self) -> bytes | None:
        return None


def test_authority_overlay_answers_first_and_nothing_is_fetched() -> None:
    directory = _Directory()
    cache = DirCacheServer(directory, lambda: None)  # type: ignore[arg-type]

    async def run() -> tuple[bytes | None, ...]:
        before = await cache.get("/tor/status-vote/current/consensus")
        cache.overlay = {"/tor/keys/all": b"certs"}.get
        return (before, await cache.get("/tor/keys/all"),
                await cache.get("/tor/status-vote/current/consensus"))

    before, certs, missing = asyncio.run(run())
    assert before == b"fetched" and certs == b"certs" and missing is None
    assert directory.fetched == ["/tor/status-vote/current/consensus"]
