"""Sans-I/O protocol state machines (layer 2).

Each machine takes bytes or parsed cells plus the current time (and an RNG callable
where it needs randomness) and returns events and bytes to send; nothing here opens a
socket, reads the clock or draws random numbers on its own, so every rule is testable
with plain calls, test vectors and replayed captures of real tor.

* `channel`: the initiator's link handshake (tor-spec 4) as a transition table,
  with `channel_certs` (CERTS checks, tor-spec 4.2), `channel_auth` (AUTHENTICATE
  method 3, tor-spec 4.4.2) and `channel_keys` (a relay's own CERTS cells);
* circuit handshakes, relay-cell crypto and SENDME flow control live in their own
  modules of this package.
* the directory protocol's HTTP: `dirhttp` (a client's GET), `dirserver` (a directory
  server's request parsing, tor-exact replies and URL routing) and `dircompress`
  (tor's compression names and server preference; zstd when ``zstandard`` is present).

Design notes: a peer's protocol violation raises `ProtocolViolation` with a message
fit for the log; the caller closes the channel. Verified results (e.g. `PeerIdentity`)
are separate types from parsed-but-unchecked cells.

Deliberately not here: the responder's side of the link handshake as a state machine
(its certificate and AUTHENTICATE checks exist as functions), RSA-only (AuthType 1)
authentication, and link padding negotiation.
"""
