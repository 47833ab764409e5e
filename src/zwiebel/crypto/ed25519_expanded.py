"""Ed25519 signing from an *expanded* secret key, as tor stores its keys (RFC 8032 5.1).

tor's key files (``ed25519_master_id_secret_key``, ``ed25519_signing_secret_key``) hold
the 64-byte expanded key ``a || prefix`` (SHA-512 of the seed, first half clamped), not
the 32-byte seed, so the seed can never be recovered; and the ntor cross-certificate
needs a key whose scalar *is* the curve25519 secret with a derived prefix
(tor: ``ed25519_keypair_from_curve25519_keypair``). `cryptography` signs only from a
seed, hence this small pure-Python implementation of RFC 8032's arithmetic in extended
twisted Edwards coordinates. It is not constant-time; a relay signs with it a few times
a day (descriptors, certificates), never per connection. Verification stays with
`cryptography` (`zwiebel.crypto.keys.ed25519_verify`).
"""

from __future__ import annotations

import hashlib

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)

_Point = tuple[int, int, int, int]
"""A point (X, Y, Z, T) in extended coordinates: x = X/Z, y = Y/Z, xy = T/Z."""


def _add(p: _Point, q: _Point) -> _Point:
    """Point addition (RFC 8032 5.1.4, "add-2008-hwcd-3")."""
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _mul(scalar: int, p: _Point) -> _Point:
    """scalar * p by double-and-add."""
    acc: _Point = (0, 1, 1, 0)
    while scalar:
        if scalar & 1:
            acc = _add(acc, p)
        p = _add(p, p)
        scalar >>= 1
    return acc


def _recover_x(y: int, sign: int) -> int:
    """The x coordinate for `y` with the given sign bit (RFC 8032 5.1.3)."""
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P:
        raise ValueError("not a curve point")
    return _P - x if (x & 1) != sign else x


_BY = 4 * pow(5, _P - 2, _P) % _P
_BX = _recover_x(_BY, 0)
_B: _Point = (_BX, _BY, 1, _BX * _BY % _P)


def _encode(p: _Point) -> bytes:
    """The 32-byte encoding: y little-endian with x's low bit on top."""
    zinv = pow(p[2], _P - 2, _P)
    x, y = p[0] * zinv % _P, p[1] * zinv % _P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _h_int(*parts: bytes) -> int:
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little")


def expand_seed(seed: bytes) -> bytes:
    """The 64-byte expanded key of a 32-byte seed (what tor writes to its key files)."""
    if len(seed) != 32:
        raise ValueError("Ed25519 seed must be 32 bytes")
    h = bytearray(hashlib.sha512(seed).digest())
    h[0] &= 248
    h[31] &= 127
    h[31] |= 64
    return bytes(h)


class ExpandedEd25519Private:
    """An Ed25519 key given as ``a || prefix``; same interface as `Ed25519Private`."""

    __slots__ = ("_expanded", "_scalar", "_public")

    def __init__(self, expanded: bytes) -> None:
        if len(expanded) != 64:
            raise ValueError("expanded Ed25519 key must be 64 bytes")
        self._expanded = bytes(expanded)
        self._scalar = int.from_bytes(expanded[:32], "little") % _L
        self._public = _encode(_mul(self._scalar, _B))

    @classmethod
    def from_seed(cls, seed: bytes) -> ExpandedEd25519Private:
        """The key a standard 32-byte seed expands to."""
        return cls(expand_seed(seed))

    def expanded(self) -> bytes:
        """The 64 bytes as tor stores them."""
        return self._expanded

    def public_bytes(self) -> bytes:
        """The 32-byte public key A = aB."""
        return self._public

    def sign(self, msg: bytes) -> bytes:
        """A 64-byte RFC 8032 signature: R = rB, S = r + H(R || A || M) a mod L."""
        r = _h_int(self._expanded[32:], msg) % _L
        big_r = _encode(_mul(r, _B))
        k = _h_int(big_r, self._public, msg) % _L
        s = (r + k * self._scalar) % _L
        return big_r + s.to_bytes(32, "little")


CURVE25519_DERIVE = b"Derive high part of ed25519 key from curve25519 key\x00"
"""tor's string (with its C terminator) for the prefix of an ntor-derived Ed25519 key."""


def from_curve25519_secret(secret: bytes) -> tuple[ExpandedEd25519Private, int]:
    """The Ed25519 key whose scalar is a curve25519 secret, and its sign bit.

    tor: ``ed25519_keypair_from_curve25519_keypair`` (dir-spec 2.1.1,
    "ntor-onion-key-crosscert"): the prefix is the first half of
    SHA-512(secret || CURVE25519_DERIVE); the sign bit is the public key's top bit.
    """
    if len(secret) != 32:
        raise ValueError("curve25519 secret must be 32 bytes")
    prefix = hashlib.sha512(secret + CURVE25519_DERIVE).digest()[:32]
    key = ExpandedEd25519Private(secret + prefix)
    return key, key.public_bytes()[31] >> 7
