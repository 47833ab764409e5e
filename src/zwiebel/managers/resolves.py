"""Resolve requests as tor reports them to controllers (control-spec 4.1.2, 4.1.7).

A resolve (SOCKS RESOLVE/RESOLVE_PTR or the RESOLVE command) is a stream of its own:
NEWRESOLVE, SENTRESOLVE, then SUCCEEDED or FAILED and CLOSED. The answer goes out as
an ADDRMAP event with the stream's ID and an expiry of now + TTL, or ``<error>`` with
``error=yes`` when the exit could not resolve the name
(``tell_controller_about_resolved_result`` in tor's ``connection_edge.c``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

from zwiebel.cells.relay_msgs import Resolved, ResolvedType
from zwiebel.managers.events import AddrMapEvent
from zwiebel.managers.trackers import StreamRecord, StreamTracker
from zwiebel.runtime.clock import utcnow

Attempt = Callable[[StreamRecord], Awaitable[Resolved]]


async def resolve_with_events(tracker: StreamTracker, hostname: str,
                              attempt: Attempt) -> Resolved:
    """Run ``attempt`` as a resolve stream, reporting each step and the answer."""
    record = tracker.new_resolve(hostname)
    try:
        reply = await attempt(record)
    except BaseException:
        tracker.bus.emit(addrmap_for(hostname, None, record.stream_id))
        tracker.resolved(record, False)
        raise
    event = addrmap_for(hostname, reply, record.stream_id)
    tracker.bus.emit(event)
    tracker.resolved(record, event.error is None)
    return reply


def addrmap_for(hostname: str, reply: Resolved | None, stream_id: int) -> AddrMapEvent:
    """The ADDRMAP event for the first usable answer of ``reply`` (None: failure)."""
    for answer in reply.answers if reply is not None else ():
        expires = utcnow() + dt.timedelta(seconds=answer.ttl)
        if answer.type in (ResolvedType.IPV4, ResolvedType.IPV6) and answer.address:
            return AddrMapEvent(hostname, str(answer.address), expires, stream_id=stream_id)
        if answer.type == ResolvedType.HOSTNAME and answer.hostname:
            return AddrMapEvent(hostname, answer.hostname, expires, stream_id=stream_id)
    return AddrMapEvent(hostname, "<error>", utcnow(), "error=yes", stream_id=stream_id)
