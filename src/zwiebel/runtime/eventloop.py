"""Which asyncio event loop the daemon runs on.

uvloop (libuv, with its sockets, transports and TLS in C) when it is installed; it is a
dependency, and it roughly halves the event-loop and socket overhead of each cell batch
(the client's SOCKS writes and TLS reads). ``ZWIEBEL_EVENT_LOOP=asyncio`` selects the
standard library's loop instead (for debugging, or to compare the two).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop constructor, or None for asyncio's default loop."""
    if os.environ.get("ZWIEBEL_EVENT_LOOP") == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
