"""Zwiebel: Tor, the onion router, in Python."""

__version__ = "0.1.0"
#: The tor release whose behaviour Zwiebel implements (see control-spec GETINFO version).
TOR_COMPAT_VERSION = "0.4.9.11"

