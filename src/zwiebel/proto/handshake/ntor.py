"""The ntor handshake, CREATE2 htype 2 (tor-spec 5.1.4; key expansion 5.2.2).

Client: `client_create` makes the 84-byte onionskin NODEID | KEYID(B) | X and a state;
`client_complete` checks the 64-byte reply Y | AUTH and derives the keys. Relay:
`server_handshake` answers an onionskin with its RSA identity digest and ntor onion keys
(current and previous, chosen by KEYID).

    secret_input = EXP(Y,x) | EXP(B,x) | ID | B | X | Y | PROTOID
    KEY_SEED = H(secret_input, t_key); verify = H(secret_input, t_verify)
    auth_input = verify | ID | B | Y | X | PROTOID | "Server"; AUTH = H(auth_input, t_mac)

The key material is HKDF-SHA256(IKM=secret_input, salt=t_key, info=m_expand): its extract
step is exactly KEY_SEED. Both sides reject an all-zero EXP() result (point at infinity).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from zwiebel.crypto.kdf import hkdf_sha256, hmac_sha256
from zwiebel.crypto.keys import X25519Private
from zwiebel.crypto.util import Rng, ct_eq
from zwiebel.encoding import ParseError
from zwiebel.proto.handshake.keys import KEY_MATERIAL_LEN, HandshakeError, KeyMaterial

PROTOID = b"ntor-curve25519-sha256-1"
T_MAC = PROTOID + b":mac"
T_KEY = PROTOID + b":key_extract"
T_VERIFY = PROTOID + b":verify"
M_EXPAND = PROTOID + b":key_expand"

ID_LEN = 20
G_LEN = 32
H_LEN = 32
#: NODEID | KEYID | CLIENT_KP.
ONIONSKIN_LEN = ID_LEN + H_LEN + G_LEN
#: SERVER_KP | AUTH.
REPLY_LEN = G_LEN + H_LEN


@dataclass(frozen=True)
class NtorClientState:
    """What the client keeps between sending the onionskin and reading the reply."""

    relay_id: bytes
    relay_ntor_key: bytes
    x: X25519Private = field(repr=False)
    x_public: bytes


def _exp(secret: X25519Private, public: bytes) -> bytes:
    try:
        return secret.exchange(public)
    except ParseError as exc:
        raise HandshakeError("ntor: degenerate curve25519 result") from exc


def _finish(
    secret_input: bytes, relay_id: bytes, b: bytes, x: bytes, y: bytes
) -> tuple[bytes, KeyMaterial]:
    """AUTH and the key material from secret_input."""
    verify = hmac_sha256(T_VERIFY, secret_input)
    auth_input = verify + relay_id + b + y + x + PROTOID + b"Server"
    auth = hmac_sha256(T_MAC, auth_input)
    keys = hkdf_sha256(secret_input, T_KEY, M_EXPAND, KEY_MATERIAL_LEN)
    return auth, KeyMaterial.from_stream(keys)


def client_create(
    rng: Rng, relay_rsa_id: bytes, relay_ntor_key: bytes
) -> tuple[NtorClientState, bytes]:
    """Start a handshake with the relay whose RSA identity digest and ntor key are given."""
    if len(relay_rsa_id) != ID_LEN or len(relay_ntor_key) != G_LEN:
        raise ValueError("ntor needs a 20-byte identity digest and a 32-byte onion key")
    x = X25519Private(rng(32))
    x_public = x.public_bytes()
    state = NtorClientState(relay_rsa_id, relay_ntor_key, x, x_public)
    return state, relay_rsa_id + relay_ntor_key + x_public


def client_complete(state: NtorClientState, reply: bytes) -> KeyMaterial:
    """Check the relay's reply (Y | AUTH) and derive the keys; HandshakeError on mismatch."""
    if len(reply) < REPLY_LEN:
        raise HandshakeError("ntor reply too short")
    y, auth = reply[:G_LEN], reply[G_LEN:REPLY_LEN]
    b = state.relay_ntor_key
    secret_input = b"".join(
        (_exp(state.x, y), _exp(state.x, b), state.relay_id, b, state.x_public, y, PROTOID)
    )
    expected, keys = _finish(secret_input, state.relay_id, b, state.x_public, y)
    if not ct_eq(expected, auth):
        raise HandshakeError("ntor: AUTH does not match")
    return keys


def server_handshake(
    rng: Rng, onionskin: bytes, relay_rsa_id: bytes, onion_keys: Sequence[X25519Private]
) -> tuple[bytes, KeyMaterial]:
    """Answer a client onionskin: returns the 64-byte reply and the circuit keys.

    `onion_keys` are this relay's ntor keys (current first); the one whose public key equals
    KEYID is used. A wrong NODEID or unknown KEYID is a HandshakeError.
    """
    if len(onionskin) < ONIONSKIN_LEN:
        raise HandshakeError("ntor onionskin too short")
    node_id, key_id = onionskin[:ID_LEN], onionskin[ID_LEN : ID_LEN + H_LEN]
    x = onionskin[ID_LEN + H_LEN : ONIONSKIN_LEN]
    if not ct_eq(node_id, relay_rsa_id):
        raise HandshakeError("ntor: onionskin is for another relay")
    b_secret = _find_key(onion_keys, key_id)
    y_secret = X25519Private(rng(32))
    y = y_secret.public_bytes()
    secret_input = b"".join(
        (_exp(y_secret, x), _exp(b_secret, x), relay_rsa_id, key_id, x, y, PROTOID)
    )
    auth, keys = _finish(secret_input, relay_rsa_id, key_id, x, y)
    return y + auth, keys


def _find_key(onion_keys: Sequence[X25519Private], key_id: bytes) -> X25519Private:
    for key in onion_keys:
        if ct_eq(key.public_bytes(), key_id):
            return key
    raise HandshakeError("ntor: unknown onion key")
