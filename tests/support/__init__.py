"""Helpers shared by tests: a local HTTP file server, curl through a SOCKS port,
and control-port conveniences over zwiebel.testnet.torcontrol.

Nothing here starts tor; the real-tor network itself is zwiebel.testnet.realtor,
wrapped in fixtures by tests/interop/conftest.py.
"""
