"""The CREATE_FAST handshake (tor-spec 5.1.5, keys by KDF-TOR 5.2.1).

No public-key cryptography: the client sends random X, the relay answers random Y and
KH = the first 20 bytes of KDF-TOR(X | Y); both derive the circuit keys from the rest.
Only valid for the first hop (the TLS link already authenticated the relay), never inside
EXTEND2. tor 0.4.9 still accepts it from clients that lack the first hop's onion key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zwiebel.crypto.kdf import kdf_tor
from zwiebel.crypto.util import Rng, ct_eq
from zwiebel.proto.handshake.keys import KEY_MATERIAL_LEN, KH_LEN, HandshakeError, KeyMaterial

#: HASH_LEN: the size of X, of Y and of KH.
HASH_LEN = 20
#: Y | KH.
REPLY_LEN = 2 * HASH_LEN


@dataclass(frozen=True)
class FastClientState:
    """The client's X, kept until CREATED_FAST arrives."""

    x: bytes = field(repr=False)


def _kdf(x: bytes, y: bytes) -> bytes:
    return kdf_tor(x + y, KEY_MATERIAL_LEN)


def client_create(rng: Rng) -> tuple[FastClientState, bytes]:
    """Random X: the state and the 20-byte CREATE_FAST key material."""
    x = rng(HASH_LEN)
    return FastClientState(x), x


def client_complete(state: FastClientState, reply: bytes) -> KeyMaterial:
    """Check KH in the CREATED_FAST reply Y | KH and derive the keys."""
    if len(reply) < REPLY_LEN:
        raise HandshakeError("CREATED_FAST reply too short")
    k = _kdf(state.x, reply[:HASH_LEN])
    if not ct_eq(k[:KH_LEN], reply[HASH_LEN:REPLY_LEN]):
        raise HandshakeError("CREATE_FAST: KH does not match")
    return KeyMaterial.from_kdf_tor(k)


def server_handshake(rng: Rng, x: bytes) -> tuple[bytes, KeyMaterial]:
    """Answer the client's X: the 40-byte reply Y | KH and the keys."""
    if len(x) < HASH_LEN:
        raise HandshakeError("CREATE_FAST key material too short")
    y = rng(HASH_LEN)
    k = _kdf(x[:HASH_LEN], y)
    return y + k[:KH_LEN], KeyMaterial.from_kdf_tor(k)
