"""SENDME windows (tor-spec 7.3-7.4, proposal 289) and their digest sequences."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zwiebel.cells.relay import RelayCell, RelayCommand
from zwiebel.cells.relay_ctrl import Sendme
from zwiebel.proto.handshake import KeyMaterial
from zwiebel.proto.relaycrypto import ClientCryptoPath, RelayHopCrypto
from zwiebel.proto.sendme import (
    CircuitDeliverWindow,
    CircuitPackageWindow,
    FlowControlViolation,
    SendmeVerdict,
    StreamDeliverWindow,
    StreamPackageWindow,
)


def _digest(i: int) -> bytes:
    return hashlib.sha1(i.to_bytes(4, "big")).digest()


def test_package_records_digest_of_every_hundredth_cell() -> None:
    w = CircuitPackageWindow()
    for i in range(1, 301):
        assert w.can_send()
        w.on_data_sent(_digest(i))
    assert w.window == 700
    assert w.statistics() == {"package_window": 700, "pending_sendme_digests": 3}
    for i in (100, 200, 300):
        assert w.on_sendme(Sendme.v1(_digest(i))) is SendmeVerdict.OK
    assert w.window == 1000


def test_package_window_exhausts() -> None:
    w = CircuitPackageWindow()
    for i in range(1000):
        w.on_data_sent(_digest(i))
    assert not w.can_send()
    with pytest.raises(AssertionError):
        w.on_data_sent(b"")


def test_sendme_violations() -> None:
    w = CircuitPackageWindow()
    assert w.on_sendme(Sendme.v1(_digest(1))) is SendmeVerdict.UNEXPECTED
    for i in range(1, 201):
        w.on_data_sent(_digest(i))
    assert w.on_sendme(Sendme.v1(_digest(200))) is SendmeVerdict.DIGEST_MISMATCH  # FIFO
    assert w.on_sendme(Sendme()) is SendmeVerdict.BAD_VERSION
    assert w.on_sendme(Sendme(2, _digest(200))) is SendmeVerdict.BAD_VERSION
    assert w.on_sendme(Sendme(1, _digest(200) + b"x")) is SendmeVerdict.DIGEST_MISMATCH
    assert SendmeVerdict.DIGEST_MISMATCH.is_violation and not SendmeVerdict.OK.is_violation


def test_version_zero_when_accepted() -> None:
    w = CircuitPackageWindow()
    for i in range(100):
        w.on_data_sent(_digest(i))
    assert w.on_sendme(Sendme(), accept_min_version=0) is SendmeVerdict.OK
    assert w.on_sendme(Sendme(), accept_min_version=0) is SendmeVerdict.UNEXPECTED


def test_window_overflow() -> None:
    w = CircuitPackageWindow()
    for i in range(100):
        w.on_data_sent(_digest(i))
    w.window = 1000
    assert w.on_sendme(Sendme.v1(_digest(99))) is SendmeVerdict.WINDOW_OVERFLOW


def test_deliver_sends_v1_with_digest_of_hundredth_cell() -> None:
    w = CircuitDeliverWindow()
    out = [w.on_data_received(_digest(i)) for i in range(1, 251)]
    sent = [(i + 1, m) for i, m in enumerate(out) if m is not None]
    assert sent == [(100, Sendme.v1(_digest(100))), (200, Sendme.v1(_digest(200)))]
    assert w.window == 950
    assert CircuitDeliverWindow(emit_version=0).window == 1000
    v0 = CircuitDeliverWindow(window=901, emit_version=0)
    assert v0.on_data_received(_digest(0)) == Sendme()


def _one_by_one(window: CircuitDeliverWindow, digests: list[bytes]) -> list[Sendme] | None:
    """The SENDMEs of handing the cells over one at a time; None for an overrun."""
    sendmes = []
    try:
        for digest in digests:
            sendme = window.on_data_received(digest)
            if sendme is not None:
                sendmes.append(sendme)
    except FlowControlViolation:
        return None
    return sendmes


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 1000), st.lists(st.integers(1, 400), min_size=1, max_size=6),
       st.sampled_from([0, 1]))
def test_deliver_many_equals_one_by_one(window: int, runs: list[int], version: int) -> None:
    """A run's SENDMEs, their digests, the window and an overrun are those of handing the
    cells over one at a time."""
    one = CircuitDeliverWindow(window=window, emit_version=version)
    many = CircuitDeliverWindow(window=window, emit_version=version)
    serial = 0
    for count in runs:
        digests = [_digest(serial + i) for i in range(count)]
        serial += count
        expected = _one_by_one(one, digests)
        if expected is None:
            with pytest.raises(FlowControlViolation):
                many.on_data_received_many(digests)
            return
        assert many.on_data_received_many(digests) == expected
        assert many.window == one.window


def test_deliver_overrun() -> None:
    with pytest.raises(FlowControlViolation):
        CircuitDeliverWindow(window=0).on_data_received(_digest(0))
    with pytest.raises(FlowControlViolation):
        StreamDeliverWindow(window=0).on_data_received()


def _keys(seed: int) -> KeyMaterial:
    return KeyMaterial.from_stream(hashlib.shake_256(bytes([seed, 1])).digest(92))


def _data_body(n: int) -> bytes:
    return RelayCell(RelayCommand.DATA, 1, n.to_bytes(4, "big")).encode(lambda k: bytes(k))


def test_authenticated_sendme_through_real_relay_crypto() -> None:
    """Client uploads 300 DATA cells to hop 1; the relay's SENDMEs authenticate at the client."""
    path = ClientCryptoPath()
    relays = [RelayHopCrypto(_keys(i)) for i in range(2)]
    for i in range(2):
        path.add_hop(_keys(i))
    package, deliver = CircuitPackageWindow(), CircuitDeliverWindow()
    verdicts = []
    for n in range(300):
        cell = path.encrypt_outbound(_data_body(n), 1)
        package.on_data_sent(path.last_forward_digest(1))
        for relay in relays:
            ours, cell = relay.decrypt_forward(cell)
        assert ours
        sendme = deliver.on_data_received(relays[1].last_forward_digest)
        if sendme is not None:
            verdicts.append(package.on_sendme(sendme))
    assert verdicts == [SendmeVerdict.OK] * 3
    assert package.window == 1000


def test_authenticated_sendme_downloads() -> None:
    """The exit sends DATA; the client's SENDMEs carry its backward digests."""
    path = ClientCryptoPath()
    path.add_hop(_keys(7))
    exit_relay = RelayHopCrypto(_keys(7))
    package, deliver = CircuitPackageWindow(), CircuitDeliverWindow()
    sendmes = 0
    for n in range(200):
        cell = exit_relay.originate_backward(_data_body(n))
        package.on_data_sent(exit_relay.last_backward_digest)
        assert path.decrypt_inbound(cell)[0] == 0
        sendme = deliver.on_data_received(path.last_backward_digest(0))
        if sendme is not None:
            assert package.on_sendme(sendme) is SendmeVerdict.OK
            sendmes += 1
    assert sendmes == 2


def test_stream_windows() -> None:
    p = StreamPackageWindow()
    assert p.on_sendme() is SendmeVerdict.WINDOW_OVERFLOW
    for _ in range(50):
        p.on_data_sent()
    assert p.window == 450
    assert p.on_sendme() is SendmeVerdict.OK and p.window == 500
    d = StreamDeliverWindow()
    counts = [d.on_data_received() for _ in range(50)]
    assert counts == [0] * 49 + [1] and d.window == 500
    for _ in range(120):
        assert d.on_data_received(outbuf_full=True) == 0
    assert d.window == 380
    assert d.sendmes_due() == 2 and d.window == 480
    empty = StreamPackageWindow(window=0)
    assert not empty.can_send()
    with pytest.raises(AssertionError):
        empty.on_data_sent()
