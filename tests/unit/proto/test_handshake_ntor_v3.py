"""ntor-v3 (proposals/332): the X.2 vector byte for byte, round trips and failures."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from zwiebel.crypto.keys import X25519Private
from zwiebel.crypto.util import Rng
from zwiebel.proto.handshake import HandshakeError, KeyMaterial, ntor_v3
from zwiebel.proto.handshake.extensions import cc_request, cc_response, encode_extensions

VECTOR = Path(__file__).parents[2] / "vectors" / "handshake" / "ntor_v3_prop332_x2.json"


def _vector() -> dict[str, bytes]:
    raw: dict[str, str] = json.loads(VECTOR.read_text())
    return {k: bytes.fromhex(v) for k, v in raw.items() if k != "source"}


def _fixed(value: bytes) -> Rng:
    def rng(n: int) -> bytes:
        assert n == len(value)
        return value

    return rng


def _rng(seed: int) -> Rng:
    state = [seed]

    def rng(n: int) -> bytes:
        state[0] += 1
        return hashlib.shake_256(state[0].to_bytes(8, "big")).digest(n)

    return rng


def test_x2_client_handshake() -> None:
    v = _vector()
    assert X25519Private(v["b"]).public_bytes() == v["B"]
    assert X25519Private(v["x"]).public_bytes() == v["X"]
    state, onionskin = ntor_v3.client_create(_fixed(v["x"]), v["ID"], v["B"], v["CM"], v["VER"])
    assert onionskin == v["client_handshake"]
    assert state.msg_mac == v["msg_mac"]


def test_x2_server_reads_client_message_and_replies() -> None:
    v = _vector()
    pending, cm = ntor_v3.server_read(
        v["client_handshake"], v["ID"], [X25519Private(v["b"])], v["VER"]
    )
    assert cm == v["CM"]
    reply, keystream = ntor_v3.server_reply_keystream(_fixed(v["y"]), pending, v["SM"], 256)
    assert reply == v["server_handshake"]
    assert reply[32:64] == v["AUTH"]
    assert keystream == v["KEYSTREAM"]


def test_x2_client_completes() -> None:
    v = _vector()
    state, _ = ntor_v3.client_create(_fixed(v["x"]), v["ID"], v["B"], v["CM"], v["VER"])
    sm, keystream = ntor_v3.client_complete_keystream(state, v["server_handshake"], 256)
    assert sm == v["SM"]
    assert keystream == v["KEYSTREAM"]
    sm2, keys = ntor_v3.client_complete(state, v["server_handshake"])
    assert sm2 == v["SM"]
    assert keys == KeyMaterial.from_stream(v["KEYSTREAM"])
    assert keys.df == v["KEYSTREAM"][:20] and keys.kb == v["KEYSTREAM"][56:72]
    assert keys.kh == v["KEYSTREAM"][72:92]


def test_x2_intermediate_values_from_the_formulas() -> None:
    """ENC_K1, MAC_K1 and key_seed recomputed from proposal 332's definitions."""
    v = _vector()
    protoid = b"ntor3-curve25519-sha3_256-1"

    def encap(s: bytes) -> bytes:
        return len(s).to_bytes(8, "big") + s

    bx = X25519Private(v["x"]).exchange(v["B"])
    phase1 = hashlib.shake_256(
        encap(protoid + b":kdf_phase1") + bx + v["ID"] + v["X"] + v["B"] + protoid + encap(v["VER"])
    ).digest(64)
    assert phase1 == v["ENC_K1"] + v["MAC_K1"]
    yx = X25519Private(v["y"]).exchange(v["X"])
    secret_input = yx + bx + v["ID"] + v["B"] + v["X"] + v["Y"] + protoid + encap(v["VER"])
    key_seed = hashlib.sha3_256(encap(protoid + b":key_seed") + secret_input).digest()
    assert key_seed == v["key_seed"]
    verify = hashlib.sha3_256(encap(protoid + b":verify") + secret_input).digest()
    assert verify == v["verify"]
    raw = hashlib.shake_256(encap(protoid + b":kdf_final") + key_seed).digest(32)
    assert raw == v["ENC_KEY"]


def test_round_trip_with_circuit_verification_and_extensions() -> None:
    rng = _rng(1)
    relay_key, relay_id = X25519Private(rng(32)), rng(32)
    request = encode_extensions([cc_request()])
    state, onionskin = ntor_v3.client_create(rng, relay_id, relay_key.public_bytes(), request)
    seen: list[bytes] = []

    def respond(cm: bytes) -> bytes:
        seen.append(cm)
        return encode_extensions([cc_response(31)])

    reply, server_keys = ntor_v3.server_handshake(rng, onionskin, relay_id, [relay_key], respond)
    assert seen == [request]
    sm, client_keys = ntor_v3.client_complete(state, reply)
    assert sm == bytes.fromhex("0102011f")
    assert client_keys == server_keys


def test_verification_string_must_agree() -> None:
    rng = _rng(2)
    relay_key, relay_id = X25519Private(rng(32)), rng(32)
    _, onionskin = ntor_v3.client_create(rng, relay_id, relay_key.public_bytes(), b"", b"one")
    with pytest.raises(HandshakeError):
        ntor_v3.server_read(onionskin, relay_id, [relay_key], b"two")


def test_failures_raise_handshake_error() -> None:
    rng = _rng(3)
    relay_key, relay_id = X25519Private(rng(32)), rng(32)
    state, onionskin = ntor_v3.client_create(rng, relay_id, relay_key.public_bytes(), b"hi")
    with pytest.raises(HandshakeError):
        ntor_v3.server_read(onionskin, rng(32), [relay_key])
    with pytest.raises(HandshakeError):
        ntor_v3.server_read(onionskin, relay_id, [X25519Private(rng(32))])
    with pytest.raises(HandshakeError):
        ntor_v3.server_read(onionskin[:127], relay_id, [relay_key])
    tampered = bytearray(onionskin)
    tampered[97] ^= 4  # inside the encrypted message
    with pytest.raises(HandshakeError):
        ntor_v3.server_read(bytes(tampered), relay_id, [relay_key])
    reply, _ = ntor_v3.server_handshake(rng, onionskin, relay_id, [relay_key], lambda cm: b"ok")
    for i in (0, 40, len(reply) - 1):
        bad = bytearray(reply)
        bad[i] ^= 1
        with pytest.raises(HandshakeError):
            ntor_v3.client_complete(state, bytes(bad))
    with pytest.raises(HandshakeError):
        ntor_v3.client_complete(state, reply[:63])
