"""Talking to the other authorities of the network (dir-spec 3.5, 3.10, 6.2).

Votes go out with ``POST /tor/post/vote`` and detached signatures with
``POST /tor/post/consensus-signature``, to every other v3 authority's DirPort
(tor's directory_post_to_dirservers with DIRIND_DIRECT_CONN). Missing votes are
fetched with ``GET /tor/status-vote/next/authority`` from the authority that lacks
one, and missing signatures with ``GET /tor/status-vote/next/consensus-signatures``.
Outcomes are logged with tor's wording where it has one (dirclient.c).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from zwiebel.config.authorities import DirAuthoritySpec
from zwiebel.encoding import ParseError
from zwiebel.runtime.dirfetch import fetch_dirport
from zwiebel.runtime.dirpost import post_dirport

log = logging.getLogger("zwiebel")
NOTICE = 25
TIMEOUT = 10.0


def _where(peer: DirAuthoritySpec) -> str:
    return f"{peer.address}:{peer.dir_port}"


async def _post_one(peer: DirAuthoritySpec, path: str, body: bytes, what: str) -> bool:
    try:
        answer = await post_dirport(peer.address, peer.dir_port, path, body, TIMEOUT)
    except (OSError, TimeoutError, ParseError) as exc:
        log.info("Couldn't upload %s to dirserver %s: %s", what, _where(peer), exc)
        return False
    if answer.status == 200:
        log.info("Uploaded %s to dirserver %s", what, _where(peer))
        return True
    log.warning('http status %d ("%s") response after uploading %s to dirserver %s. '
                "Please correct.", answer.status, answer.reason, what, _where(peer))
    return False


async def post_to_all(peers: Sequence[DirAuthoritySpec], path: str, body: bytes,
                      what: str) -> int:
    """POST `body` to every peer at once; returns how many accepted it."""
    results = await asyncio.gather(*(_post_one(p, path, body, what) for p in peers))
    return sum(results)


async def fetch_text(peer: DirAuthoritySpec, path: str) -> str | None:
    """GET `path` from a peer's DirPort; None unless it answered 200."""
    try:
        answer = await fetch_dirport(peer.address, peer.dir_port, path, TIMEOUT)
    except (OSError, TimeoutError, ParseError) as exc:
        log.info("Couldn't fetch %s from dirserver %s: %s", path, _where(peer), exc)
        return None
    if answer.status != 200:
        log.info("Dirserver %s answered %d to %s", _where(peer), answer.status, path)
        return None
    return answer.body.decode("utf-8", "replace")
