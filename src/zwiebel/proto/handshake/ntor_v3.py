"""The ntor-v3 handshake, CREATE2 htype 3 (proposals/332-ntor-v3-with-extra-data.md).

ntor-v3 carries an encrypted client message CM to the relay and an encrypted server message
SM back (used for circuit parameter negotiation, see `extensions`). Instantiation (A.1):

    H(s, t) = SHA3_256(ENCAP(t) | s)        MAC(k, msg, t) = SHA3_256(ENCAP(t) | ENCAP(k) | msg)
    KDF(s, t) = SHAKE_256(ENCAP(t) | s)     ENC(k, m) = AES_256_CTR(k, m), ENCAP(s) = u64(len) | s

ID is the relay's 32-byte Ed25519 identity and VER, for circuit extension, is tor's
"circuit extend" (`onion_crypto.c`). The circuit keys are taken from KEYSTREAM (after the
32-byte ENC_KEY) as Df | Db | Kf | Kb | KH: the same tor1 sizes as ntor (A.2).

Client: `client_create` then `client_complete`. Relay: `server_read` (checks the MAC and
decrypts CM) then `server_reply` (encrypts SM, derives keys); `server_handshake` does both
with a callback that turns CM into SM. The `*_keystream` variants return the raw KEYSTREAM of
any length (for test vectors and for future key layouts).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from zwiebel.crypto.cipher import AesCtr
from zwiebel.crypto.digest import sha3_256, shake256
from zwiebel.crypto.keys import X25519Private
from zwiebel.crypto.util import Rng, ct_eq
from zwiebel.encoding import ParseError
from zwiebel.proto.handshake.keys import KEY_MATERIAL_LEN, HandshakeError, KeyMaterial

PROTOID = b"ntor3-curve25519-sha3_256-1"
T_MSGKDF = PROTOID + b":kdf_phase1"
T_MSGMAC = PROTOID + b":msg_mac"
T_KEY_SEED = PROTOID + b":key_seed"
T_VERIFY = PROTOID + b":verify"
T_FINAL = PROTOID + b":kdf_final"
T_AUTH = PROTOID + b":auth_final"

#: The verification string tor uses for circuit extension.
CIRCUIT_VERIFICATION = b"circuit extend"

ID_LEN = 32
PUB_KEY_LEN = 32
MAC_LEN = DIGEST_LEN = ENC_KEY_LEN = MAC_KEY_LEN = 32
#: The onionskin without CM: NODEID | KEYID | CLIENT_PK | MAC.
ONIONSKIN_MIN_LEN = ID_LEN + 2 * PUB_KEY_LEN + MAC_LEN
#: The reply without SM: Y | AUTH.
REPLY_MIN_LEN = PUB_KEY_LEN + DIGEST_LEN


def encap(s: bytes) -> bytes:
    """ENCAP(s) = htonll(len(s)) | s."""
    return len(s).to_bytes(8, "big") + s


def _h(s: bytes, tweak: bytes) -> bytes:
    return sha3_256(encap(tweak) + s)


def _mac(key: bytes, msg: bytes, tweak: bytes) -> bytes:
    return sha3_256(encap(tweak) + encap(key) + msg)


def _kdf(s: bytes, tweak: bytes, length: int) -> bytes:
    return shake256(encap(tweak) + s, length)


def _exp(secret: X25519Private, public: bytes) -> bytes:
    try:
        return secret.exchange(public)
    except ParseError as exc:
        raise HandshakeError("ntor-v3: degenerate curve25519 result") from exc


def _phase1(bx: bytes, relay_id: bytes, x: bytes, b: bytes, ver: bytes) -> tuple[bytes, bytes]:
    """(ENC_K1, MAC_K1) from Bx = Xb."""
    keys = _kdf(bx + relay_id + x + b + PROTOID + encap(ver), T_MSGKDF, ENC_KEY_LEN + MAC_KEY_LEN)
    return keys[:ENC_KEY_LEN], keys[ENC_KEY_LEN:]


def _secret_input(
    xy: bytes, xb: bytes, relay_id: bytes, b: bytes, x: bytes, y: bytes, ver: bytes
) -> bytes:
    """secret_input = Xy | Xb | ID | B | X | Y | PROTOID | ENCAP(VER)."""
    return b"".join((xy, xb, relay_id, b, x, y, PROTOID, encap(ver)))


def _derive(secret_input: bytes, length: int) -> tuple[bytes, bytes, bytes]:
    """(verify, ENC_KEY, `length` bytes of KEYSTREAM) from secret_input."""
    raw = _kdf(_h(secret_input, T_KEY_SEED), T_FINAL, ENC_KEY_LEN + length)
    return _h(secret_input, T_VERIFY), raw[:ENC_KEY_LEN], raw[ENC_KEY_LEN:]


def _auth(verify: bytes, transcript: bytes, encrypted_msg: bytes) -> bytes:
    """AUTH; `transcript` is ID | B | Y | X | MAC."""
    return _h(verify + transcript + encap(encrypted_msg) + PROTOID + b"Server", T_AUTH)


@dataclass(frozen=True)
class NtorV3ClientState:
    """What the client keeps between the onionskin and the reply."""

    relay_id: bytes
    relay_ntor_key: bytes
    x: X25519Private = field(repr=False)
    x_public: bytes
    bx: bytes = field(repr=False)
    msg_mac: bytes
    verification: bytes


def client_create(
    rng: Rng,
    relay_ed_id: bytes,
    relay_ntor_key: bytes,
    client_message: bytes,
    verification: bytes = CIRCUIT_VERIFICATION,
) -> tuple[NtorV3ClientState, bytes]:
    """Make the onionskin ID | B | X | ENC(CM) | MAC for the relay with these keys."""
    if len(relay_ed_id) != ID_LEN or len(relay_ntor_key) != PUB_KEY_LEN:
        raise ValueError("ntor-v3 needs a 32-byte Ed25519 identity and a 32-byte onion key")
    x = X25519Private(rng(32))
    x_pub, b = x.public_bytes(), relay_ntor_key
    bx = _exp(x, b)
    enc_k1, mac_k1 = _phase1(bx, relay_ed_id, x_pub, b, verification)
    encrypted = AesCtr(enc_k1).process(client_message)
    msg_mac = _mac(mac_k1, relay_ed_id + b + x_pub + encrypted, T_MSGMAC)
    state = NtorV3ClientState(relay_ed_id, b, x, x_pub, bx, msg_mac, verification)
    return state, relay_ed_id + b + x_pub + encrypted + msg_mac


def client_complete_keystream(
    state: NtorV3ClientState, reply: bytes, length: int
) -> tuple[bytes, bytes]:
    """Check Y | AUTH | MSG; return (SM, `length` bytes of KEYSTREAM)."""
    if len(reply) < REPLY_MIN_LEN:
        raise HandshakeError("ntor-v3 reply too short")
    y, auth, msg = reply[:PUB_KEY_LEN], reply[PUB_KEY_LEN:REPLY_MIN_LEN], reply[REPLY_MIN_LEN:]
    b, x_pub = state.relay_ntor_key, state.x_public
    secret_input = _secret_input(
        _exp(state.x, y), state.bx, state.relay_id, b, x_pub, y, state.verification
    )
    verify, enc_key, keystream = _derive(secret_input, length)
    if not ct_eq(_auth(verify, state.relay_id + b + y + x_pub + state.msg_mac, msg), auth):
        raise HandshakeError("ntor-v3: AUTH does not match")
    return AesCtr(enc_key).process(msg), keystream


def client_complete(state: NtorV3ClientState, reply: bytes) -> tuple[bytes, KeyMaterial]:
    """Check the reply; return (server message SM, circuit keys)."""
    sm, stream = client_complete_keystream(state, reply, KEY_MATERIAL_LEN)
    return sm, KeyMaterial.from_stream(stream)


@dataclass(frozen=True)
class NtorV3ServerPending:
    """A verified client onionskin, waiting for the relay's reply message."""

    relay_id: bytes
    b: bytes
    x: bytes
    xb: bytes = field(repr=False)
    msg_mac: bytes
    verification: bytes


def server_read(
    onionskin: bytes,
    relay_ed_id: bytes,
    onion_keys: Sequence[X25519Private],
    verification: bytes = CIRCUIT_VERIFICATION,
) -> tuple[NtorV3ServerPending, bytes]:
    """Check NODEID, KEYID and the MAC; return the pending state and the client message CM."""
    if len(onionskin) < ONIONSKIN_MIN_LEN:
        raise HandshakeError("ntor-v3 onionskin too short")
    node_id, b = onionskin[:ID_LEN], onionskin[ID_LEN : ID_LEN + PUB_KEY_LEN]
    x = onionskin[ID_LEN + PUB_KEY_LEN : ID_LEN + 2 * PUB_KEY_LEN]
    msg, mac = onionskin[ID_LEN + 2 * PUB_KEY_LEN : -MAC_LEN], onionskin[-MAC_LEN:]
    if not ct_eq(node_id, relay_ed_id):
        raise HandshakeError("ntor-v3: onionskin is for another relay")
    xb = _exp(_find_key(onion_keys, b), x)
    enc_k1, mac_k1 = _phase1(xb, relay_ed_id, x, b, verification)
    if not ct_eq(_mac(mac_k1, node_id + b + x + msg, T_MSGMAC), mac):
        raise HandshakeError("ntor-v3: client MAC does not match")
    pending = NtorV3ServerPending(relay_ed_id, b, x, xb, mac, verification)
    return pending, AesCtr(enc_k1).process(msg)


def server_reply_keystream(
    rng: Rng, pending: NtorV3ServerPending, server_message: bytes, length: int
) -> tuple[bytes, bytes]:
    """Make the reply Y | AUTH | ENC(SM); return (reply, `length` bytes of KEYSTREAM)."""
    y_secret = X25519Private(rng(32))
    y = y_secret.public_bytes()
    p = pending
    secret_input = _secret_input(_exp(y_secret, p.x), p.xb, p.relay_id, p.b, p.x, y, p.verification)
    verify, enc_key, keystream = _derive(secret_input, length)
    encrypted = AesCtr(enc_key).process(server_message)
    auth = _auth(verify, p.relay_id + p.b + y + p.x + p.msg_mac, encrypted)
    return y + auth + encrypted, keystream


def server_reply(
    rng: Rng, pending: NtorV3ServerPending, server_message: bytes
) -> tuple[bytes, KeyMaterial]:
    """Make the reply; return (reply, circuit keys)."""
    reply, stream = server_reply_keystream(rng, pending, server_message, KEY_MATERIAL_LEN)
    return reply, KeyMaterial.from_stream(stream)


def server_handshake(
    rng: Rng,
    onionskin: bytes,
    relay_ed_id: bytes,
    onion_keys: Sequence[X25519Private],
    respond: Callable[[bytes], bytes],
    verification: bytes = CIRCUIT_VERIFICATION,
) -> tuple[bytes, KeyMaterial]:
    """Read the onionskin, let `respond(CM)` compose SM, and reply: (reply, circuit keys)."""
    pending, client_message = server_read(onionskin, relay_ed_id, onion_keys, verification)
    return server_reply(rng, pending, respond(client_message))


def _find_key(onion_keys: Sequence[X25519Private], key_id: bytes) -> X25519Private:
    for key in onion_keys:
        if ct_eq(key.public_bytes(), key_id):
            return key
    raise HandshakeError("ntor-v3: unknown onion key")
