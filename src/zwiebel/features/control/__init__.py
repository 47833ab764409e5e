"""zwiebel.features.control: the ControlPort that stem, txtorcon and nyx drive.

What it does
    :class:`~.feature.ControlFeature` listens on every ControlPort (TCP or
    ``unix:PATH``); each connection (:mod:`.connection`) reads commands with the
    sans-I/O grammar of :mod:`zwiebel.control`, enforces authentication
    (:mod:`.authcmds`), and dispatches (:mod:`.commands`, :mod:`.confcmds`).
    :mod:`.service` holds what connections share (cookie, subscriptions, SIGNAL,
    atomic configuration changes); :mod:`.eventbridge` turns the managers' event bus,
    the traffic counters and log records into controller events (with
    :mod:`.bwevents` for STREAM_BW/CIRC_BW/CONN_BW and :mod:`.clockskew` for the
    CLOCK_SKEW an authority's NETINFO reveals);
    :mod:`.getinfo` is the key registry that :mod:`.info_client` and
    :mod:`.info_relay` register providers into. :mod:`.info_relay` also answers the
    connection keys (``conn/*``, proposal 172) from the registry of
    :mod:`zwiebel.managers.conntrack`, fed by :mod:`.conn_sources` (the relay's OR
    connections, exit and directory streams, the client's channels) and by the SOCKS
    listener.

Design notes
    Handlers are synchronous, as in tor: they read the managers and return reply
    lines. The daemon is seen only through :class:`~.host.ControlHost`, so the
    feature can be tested with a fake. The S2K password check is passed in
    (:class:`~.host.HostInfo`) because it lives in the application layer.

Deliberately not here (yet)
    See :mod:`zwiebel.control` for the full list of what is and is not implemented.
"""

from zwiebel.features.control.feature import ControlFeature
from zwiebel.features.control.getinfo import GetInfoError, GetInfoRegistry
from zwiebel.features.control.host import ControlHost, HostInfo

__all__ = ["ControlFeature", "ControlHost", "GetInfoError", "GetInfoRegistry", "HostInfo"]
