"""tor1 relay crypto (tor-spec 5.5, 6.1): independent digests, the 3-hop onion, rollback."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zwiebel.cells.relay import RelayCell, RelayCommand
from zwiebel.crypto.cipher import AesCtr
from zwiebel.proto.handshake import KeyMaterial
from zwiebel.proto.relaycrypto import (
    ClientCryptoPath,
    RelayHopCrypto,
    UniformRun,
    UnrecognizedCellError,
)


def _keys(seed: int) -> KeyMaterial:
    return KeyMaterial.from_stream(hashlib.shake_256(bytes([seed])).digest(92))


def _body(data: bytes, stream_id: int = 7) -> bytes:
    return RelayCell(RelayCommand.DATA, stream_id, data).encode(lambda n: b"\xa5" * n)


def _circuit(n: int = 3) -> tuple[ClientCryptoPath, list[RelayHopCrypto]]:
    path = ClientCryptoPath()
    relays = []
    for i in range(n):
        path.add_hop(_keys(i))
        relays.append(RelayHopCrypto(_keys(i)))
    return path, relays


def _with_digest(body: bytes, digest4: bytes) -> bytes:
    return body[:5] + digest4 + body[9:]


def test_one_hop_forward_matches_spec_formula() -> None:
    keys = _keys(0)
    path, (relay,) = _circuit(1)
    body = _body(b"hello")
    cell = path.encrypt_outbound(body, 0)
    full = hashlib.sha1(keys.df + body).digest()
    assert cell == AesCtr(keys.kf).process(_with_digest(body, full[:4]))
    assert path.last_forward_digest(0) == full
    ours, plain = relay.decrypt_forward(cell)
    assert ours and plain == _with_digest(body, full[:4])
    assert relay.last_forward_digest == full


def test_one_hop_backward_matches_spec_formula() -> None:
    keys = _keys(0)
    path, (relay,) = _circuit(1)
    body = _body(b"world")
    cell = relay.originate_backward(body)
    full = hashlib.sha1(keys.db + body).digest()
    assert cell == AesCtr(keys.kb).process(_with_digest(body, full[:4]))
    assert path.decrypt_inbound(cell) == (0, _with_digest(body, full[:4]))
    assert path.last_backward_digest(0) == relay.last_backward_digest == full


def test_digest_field_is_zeroed_before_hashing() -> None:
    keys = _keys(0)
    path, _ = _circuit(1)
    body = _body(b"x")
    path.encrypt_outbound(_with_digest(body, b"\xff\xff\xff\xff"), 0)
    assert path.last_forward_digest(0) == hashlib.sha1(keys.df + body).digest()


@pytest.mark.parametrize("target", [0, 1, 2])
def test_three_hop_forward_recognized_exactly_at_target(target: int) -> None:
    path, relays = _circuit()
    for round_ in range(3):
        body = _body(bytes([target, round_]) * 10)
        cell = path.encrypt_outbound(body, target)
        for i, relay in enumerate(relays):
            ours, cell = relay.decrypt_forward(cell)
            if i < target:
                assert not ours
                continue
            assert ours and cell[9:] == body[9:] and cell[:5] == body[:5]
            assert relay.last_forward_digest == path.last_forward_digest(target)
            break


@pytest.mark.parametrize("origin", [0, 1, 2])
def test_three_hop_backward_decrypts_with_hop_index(origin: int) -> None:
    path, relays = _circuit()
    for round_ in range(3):
        body = _body(bytes([origin, round_]) * 10)
        cell = relays[origin].originate_backward(body)
        for relay in reversed(relays[:origin]):
            cell = relay.relay_backward(cell)
        hop, plain = path.decrypt_inbound(cell)
        assert hop == origin
        assert plain[9:] == body[9:]
        assert path.last_backward_digest(origin) == relays[origin].last_backward_digest


def test_unrecognized_inbound_raises() -> None:
    path, _ = _circuit()
    with pytest.raises(UnrecognizedCellError):
        path.decrypt_inbound(bytes(509))


def test_running_digest_not_advanced_on_false_recognized() -> None:
    """recognized == 0 but a wrong digest: not ours, and our digest must stay put."""
    keys = _keys(5)
    relay = RelayHopCrypto(keys)
    shadow = AesCtr(keys.kf)
    decoy = _with_digest(_body(b"decoy"), b"\x01\x02\x03\x04")
    ours, plain = relay.decrypt_forward(shadow.process(decoy))
    assert not ours and plain == decoy
    real = _body(b"real")
    expected = hashlib.sha1(keys.df + real).digest()  # the decoy is *not* in the digest
    ours, _ = relay.decrypt_forward(shadow.process(_with_digest(real, expected[:4])))
    assert ours
    assert relay.last_forward_digest == expected


def test_truncate_drops_hops() -> None:
    path, relays = _circuit()
    path.truncate(1)
    assert len(path) == 1
    cell = relays[0].originate_backward(_body(b"t"))
    assert path.decrypt_inbound(cell)[0] == 0


def test_rejects_wrong_sizes() -> None:
    path, relays = _circuit(1)
    with pytest.raises(ValueError):
        path.encrypt_outbound(bytes(508), 0)
    with pytest.raises(ValueError):
        relays[0].decrypt_forward(bytes(510))


@settings(max_examples=40)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 2), st.binary(max_size=498)), max_size=12))
def test_interleaved_traffic_stays_in_sync(traffic: list[tuple[bool, int, bytes]]) -> None:
    path, relays = _circuit()
    for forward, hop, data in traffic:
        body = _body(data)
        if forward:
            cell = path.encrypt_outbound(body, hop)
            for i in range(hop + 1):
                ours, cell = relays[i].decrypt_forward(cell)
                assert ours == (i == hop)
        else:
            cell = relays[hop].originate_backward(body)
            for relay in reversed(relays[:hop]):
                cell = relay.relay_backward(cell)
            assert path.decrypt_inbound(cell)[0] == hop


@given(st.integers(1, 12), st.integers(0, 3))
def test_backward_run_equals_cell_by_cell(count: int, before: int) -> None:
    """One AES call over joined bodies gives the bytes of `count` separate calls, also
    after `before` single cells have moved the keystream on."""
    bodies = [_body(bytes([i]) * 40) for i in range(before + count)]
    one_by_one, batched = RelayHopCrypto(_keys(5)), RelayHopCrypto(_keys(5))
    singles = [one_by_one.relay_backward(b) for b in bodies]
    for index in range(before):
        assert batched.relay_backward(bodies[index]) == singles[index]
    assert batched.relay_backward_many(b"".join(bodies[before:])) == b"".join(singles[before:])


def test_backward_run_rejects_partial_cells() -> None:
    relay = RelayHopCrypto(_keys(1))
    for bad in (b"", bytes(508), bytes(509 * 2 + 1)):
        with pytest.raises(ValueError):
            relay.relay_backward_many(bad)


def test_originate_backward_with_dirty_digest_field() -> None:
    """The sender zeroes the digest field before hashing, whatever the body held there."""
    body = _body(b"hello")
    clean, dirty = RelayHopCrypto(_keys(2)), RelayHopCrypto(_keys(2))
    assert dirty.originate_backward(_with_digest(body, b"\xff" * 4)) == \
        clean.originate_backward(body)


def test_originate_backward_many_equals_one_by_one() -> None:
    """One AES call for a run of originated cells: the bytes and digests of cell-by-cell
    sealing, and the client recognizes every cell of the run."""
    path, relays = _circuit(3)
    twin = RelayHopCrypto(_keys(2))
    bodies = [_body(bytes([i]) * (i * 37 % 499)) for i in range(12)]
    singles, digests = [], []
    for body in bodies:
        singles.append(relays[2].originate_backward(body))
        digests.append(relays[2].last_backward_digest)
    run, run_digests = twin.originate_backward_many(b"".join(bodies))
    assert run == b"".join(singles) and run_digests == digests
    assert twin.last_backward_digest == digests[-1]
    for i, body in enumerate(bodies):
        cell = relays[0].relay_backward(relays[1].relay_backward(singles[i]))
        hop, plain = path.decrypt_inbound(cell)
        assert hop == 2 and plain[9:] == body[9:]
    with pytest.raises(ValueError):
        twin.originate_backward_many(b"")
    with pytest.raises(ValueError):
        twin.originate_backward_many(bytes(508))


@pytest.mark.parametrize("bad", [0, 5, 11])
def test_run_with_a_forged_digest_field(bad: int) -> None:
    """A run from the last hop whose cell `bad` has 'recognized' zero but a wrong digest
    field: the cells before it are recognized, it and every cell after it (sealed over
    the digest that included the original) are not, and the running digest stays at the
    last good cell."""
    path, relays = _circuit(3)
    bodies = [_body(bytes([i]) * 400) for i in range(12)]
    cells, digests = [], []
    for body in bodies:
        cell = relays[2].originate_backward(body)
        digests.append(relays[2].last_backward_digest)
        cells.append(relays[0].relay_backward(relays[1].relay_backward(cell)))
    forged = bytearray(cells[bad])
    forged[6] ^= 0x40  # CTR: the same bit flips in the plaintext's digest field
    cells[bad] = bytes(forged)
    run = path.decrypt_inbound_run(b"".join(cells))
    assert isinstance(run, list)
    assert [hop for hop, *_ in run] == [2] * bad + [-1] * (12 - bad)
    assert [digest for *_, digest in run[:bad]] == digests[:bad]
    if bad:
        assert path.last_backward_digest(2) == digests[bad - 1]


def test_whole_run_from_one_hop_is_uniform() -> None:
    """A run the last hop originated comes back as one `UniformRun`: the bodies and the
    running digest after each, as the relay sealed them."""
    path, relays = _circuit(3)
    bodies = b"".join(_body(bytes([i]) * 498) for i in range(20))
    sealed, digests = relays[2].originate_backward_many(bodies)
    run = path.decrypt_inbound_run(relays[0].relay_backward_many(
        relays[1].relay_backward_many(sealed)))
    assert isinstance(run, UniformRun)
    assert run.hop == 2 and run.digests == digests
    assert [run.plain[i:i + 509][9:] for i in range(0, len(bodies), 509)] == \
        [bodies[i:i + 509][9:] for i in range(0, len(bodies), 509)]
    assert path.last_backward_digest(2) == digests[-1]
