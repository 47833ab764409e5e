"""Cryptographic primitives (layer 0): the only package that imports `cryptography`.

Everything tor needs, in the shapes tor uses them:

* `digest`: SHA-1, SHA-256, SHA3-256, SHAKE-256 and running digests that can be copied
  (relay-cell digests, tor-spec 6.1);
* `cipher`: AES-128/256 in counter mode as a stream (tor-spec 0.3);
* `keys`: Ed25519, X25519 and RSA-1024 keys, including tor's raw PKCS#1 v1.5 signatures
  without a DigestInfo (see the project notes, "RSA signatures");
* `kdf`: KDF-TOR, HKDF-SHA256 (RFC 5869) and SHAKE-based KDFs (tor-spec 5.2);
* `x509`: what the link handshake needs from X.509 certificates.

Randomness is never drawn here: callers pass key material or a `Rng` callable, so the
protocol core stays deterministic under test. Constant-time comparison is `ct_eq`.
"""

from zwiebel.crypto.util import Rng, ct_eq

__all__ = ["Rng", "ct_eq"]
