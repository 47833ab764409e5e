"""Circuit-creation handshakes as pure functions (tor-spec 5.1.4, 5.1.5; proposals/332).

Modules: `ntor` (CREATE2 htype 2), `ntor_v3` (htype 3, with encrypted extra data whose
encoding is in `extensions`), `fast` (CREATE_FAST) and `keys` (the key material they all
produce, `KeyMaterial`, and `HandshakeError`).

Design notes: every function takes its randomness as an `rng(n) -> bytes` argument and
keeps no hidden state: the client's state between its two steps is a frozen dataclass the
caller holds. The relay halves take the relay's keys as arguments, so the relay feature and
the tests share them. Failures a peer causes (malformed messages, wrong AUTH or MAC,
unknown onion key, degenerate curve25519 results) raise `HandshakeError`, a `ParseError`.

Deliberately absent: TAP (CREATE/CREATE2 htype 0), which tor 0.4.9 refuses; hs-ntor, which
belongs with onion services; the CGO key layout of proposal 359.
"""

from zwiebel.proto.handshake.keys import KEY_MATERIAL_LEN, HandshakeError, KeyMaterial

__all__ = ["KEY_MATERIAL_LEN", "HandshakeError", "KeyMaterial"]
