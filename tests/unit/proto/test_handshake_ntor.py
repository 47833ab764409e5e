"""ntor (tor-spec 5.1.4): a published vector, both halves against each other, and an
independent computation written straight from the spec's formulas."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from zwiebel.crypto.keys import X25519Private
from zwiebel.crypto.util import Rng
from zwiebel.proto.handshake import HandshakeError, KeyMaterial, ntor

VECTORS = Path(__file__).parents[2] / "vectors" / "handshake"


def _load(name: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((VECTORS / name).read_text())
    return data


def _fixed(*chunks: bytes) -> Rng:
    """An rng that returns the given chunks in order."""
    queue = list(chunks)

    def rng(n: int) -> bytes:
        chunk = queue.pop(0)
        assert len(chunk) == n
        return chunk

    return rng


def _counter_rng(seed: int) -> Rng:
    """A deterministic rng for tests."""
    state = [seed]

    def rng(n: int) -> bytes:
        state[0] += 1
        return hashlib.shake_256(state[0].to_bytes(8, "big")).digest(n)

    return rng


def test_arti_vector_byte_for_byte() -> None:
    v = {k: bytes.fromhex(x) for k, x in _load("ntor_arti_testvec.json").items() if k != "source"}
    relay_key = X25519Private(v["b"])
    assert relay_key.public_bytes() == v["B"]
    state, onionskin = ntor.client_create(_fixed(v["x"]), v["ID"], v["B"])
    assert onionskin == v["client_handshake"]
    assert len(onionskin) == ntor.ONIONSKIN_LEN == 84
    reply, server_keys = ntor.server_handshake(_fixed(v["y"]), onionskin, v["ID"], [relay_key])
    assert reply == v["server_handshake"]
    assert len(reply) == ntor.REPLY_LEN == 64
    client_keys = ntor.client_complete(state, reply)
    assert client_keys == server_keys
    assert client_keys.circuit_keys() == v["keys"]


def test_hkdf_vectors_of_proposal_216() -> None:
    """The ntor KDF is HKDF-SHA256 with salt t_key and info m_expand."""
    from zwiebel.crypto.kdf import hkdf_sha256

    cases = json.loads((VECTORS / "hkdf_prop216.json").read_text())["cases"]
    for case in cases:
        out = hkdf_sha256(bytes.fromhex(case["input"]), ntor.T_KEY, ntor.M_EXPAND, 100)
        assert out.hex() == case["output"]


def _spec_ntor(x: bytes, y: bytes, b: bytes, relay_id: bytes) -> tuple[bytes, bytes]:
    """tor-spec 5.1.4 and 5.2.2, computed independently: (reply, 92 bytes of keys)."""
    protoid = b"ntor-curve25519-sha256-1"

    def h(msg: bytes, key: bytes) -> bytes:
        return hmac.new(key, msg, hashlib.sha256).digest()

    xk, yk, bk = X25519Private(x), X25519Private(y), X25519Private(b)
    big_x, big_y, big_b = xk.public_bytes(), yk.public_bytes(), bk.public_bytes()
    secret_input = (
        xk.exchange(big_y) + xk.exchange(big_b) + relay_id + big_b + big_x + big_y + protoid
    )
    key_seed = h(secret_input, protoid + b":key_extract")
    verify = h(secret_input, protoid + b":verify")
    auth_input = verify + relay_id + big_b + big_y + big_x + protoid + b"Server"
    auth = h(auth_input, protoid + b":mac")
    m_expand = protoid + b":key_expand"
    keys, block, i = b"", b"", 1
    while len(keys) < 92:
        block = h(block + m_expand + bytes([i]), key_seed)
        keys += block
        i += 1
    return big_y + auth, keys[:92]


@pytest.mark.parametrize("seed", range(5))
def test_matches_independent_spec_computation(seed: int) -> None:
    rng = _counter_rng(seed)
    x, y, b, relay_id = rng(32), rng(32), rng(32), rng(20)
    relay_key = X25519Private(b)
    state, onionskin = ntor.client_create(_fixed(x), relay_id, relay_key.public_bytes())
    reply, keys = ntor.server_handshake(_fixed(y), onionskin, relay_id, [relay_key])
    expected_reply, expected_keys = _spec_ntor(x, y, b, relay_id)
    assert reply == expected_reply
    assert keys == KeyMaterial.from_stream(expected_keys)
    assert ntor.client_complete(state, reply) == keys


def test_server_picks_the_onion_key_named_by_keyid() -> None:
    rng = _counter_rng(9)
    old, current = X25519Private(rng(32)), X25519Private(rng(32))
    relay_id = rng(20)
    state, onionskin = ntor.client_create(rng, relay_id, old.public_bytes())
    reply, keys = ntor.server_handshake(rng, onionskin, relay_id, [current, old])
    assert ntor.client_complete(state, reply) == keys


def test_failures_raise_handshake_error() -> None:
    rng = _counter_rng(3)
    relay_key, relay_id = X25519Private(rng(32)), rng(20)
    state, onionskin = ntor.client_create(rng, relay_id, relay_key.public_bytes())
    with pytest.raises(HandshakeError):  # wrong NODEID
        ntor.server_handshake(rng, onionskin, bytes(20), [relay_key])
    with pytest.raises(HandshakeError):  # unknown KEYID
        ntor.server_handshake(rng, onionskin, relay_id, [X25519Private(rng(32))])
    with pytest.raises(HandshakeError):
        ntor.server_handshake(rng, onionskin[:83], relay_id, [relay_key])
    reply, _ = ntor.server_handshake(rng, onionskin, relay_id, [relay_key])
    for i in (0, 40, 63):
        bad = bytearray(reply)
        bad[i] ^= 1
        with pytest.raises(HandshakeError):
            ntor.client_complete(state, bytes(bad))
    with pytest.raises(HandshakeError):
        ntor.client_complete(state, reply[:63])
    with pytest.raises(HandshakeError):  # Y of all zeros: EXP gives the point at infinity
        ntor.client_complete(state, bytes(32) + reply[32:])


def test_key_material_is_not_shown_by_repr() -> None:
    rng = _counter_rng(4)
    relay_key, relay_id = X25519Private(rng(32)), rng(20)
    _, onionskin = ntor.client_create(rng, relay_id, relay_key.public_bytes())
    _, keys = ntor.server_handshake(rng, onionskin, relay_id, [relay_key])
    assert keys.kf.hex() not in repr(keys)
