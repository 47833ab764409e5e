"""The STATUS_GENERAL CLOCK_SKEW event from a NETINFO cell (control-spec 4.1.10; tor's
``channel_tls_process_netinfo_cell`` and ``clock_skew_warning``).

When a channel we opened is up, the peer's NETINFO time says how far our clock is off
(``ChannelEstablished.clock_skew``: our time minus theirs). As tor does, a skew of
more than an hour from a directory authority becomes ``CLOCK_SKEW SKEW=<seconds>
SOURCE=OR:<address>:<port>``; skews reported by other relays are not trusted enough
for an event. Not here: the consensus-based ``CLOCK_SKEW MIN_SKEW=`` (Zwiebel does not
compare consensus times with its clock that way) and tor's log line (the channel
layer's business).
"""

from __future__ import annotations

from zwiebel.managers.channels import ChannelManager
from zwiebel.managers.events import OrConnEvent, OrConnStatus, StatusEvent

#: tor's NETINFO_NOTICE_SKEW: seconds of skew worth telling about.
NETINFO_NOTICE_SKEW = 3600


def clock_skew_status(event: OrConnEvent, channels: ChannelManager,
                      authorities: frozenset[str]) -> StatusEvent | None:
    """The CLOCK_SKEW event for a CONNECTED channel to an authority, if its skew is
    large; ``authorities`` are upper-case hex RSA fingerprints."""
    if event.status is not OrConnStatus.CONNECTED or event.fingerprint not in authorities:
        return None
    channel = next((c for c in channels.channels() if c.conn_id == event.conn_id), None)
    if channel is None or not channel.ready.done() or channel.ready.exception():
        return None
    skew = channel.ready.result().clock_skew
    if skew is None or abs(skew) <= NETINFO_NOTICE_SKEW:
        return None
    return StatusEvent("GENERAL", "WARN", "CLOCK_SKEW",
                       (("SKEW", str(skew)), ("SOURCE", f"OR:{event.address}")))
