"""The client role: SocksPort listeners on top of the directory and circuit managers.

`ClientFeature` starts the directory bootstrap, the circuit manager and one listener per
SocksPort; streams are isolated by the SocksPort's isolation flags (tor's
IsolateSOCKSAuth, IsolateClientAddr, IsolateDestAddr, IsolateDestPort).
Not here yet: DNSPort, TransPort, HTTPTunnelPort, onion services, MapAddress.
"""
