"""Onion-key rotation on tor's schedule (zwiebel.features.relay.onion_rotation and
keys_schedule; tor relay_periodic.c rotate_onion_key_callback,
check_onion_keys_expiry_time_callback, router.c init_keys), with an injected clock:
rotation after onion-key-rotation-days, CREATE2 answered with either key during the grace
period, the old key refused after it, LastRotatedOnionKey kept across restarts."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from zwiebel.cells.circuit import Create2, HandshakeType
from zwiebel.features.relay import keys_schedule as ks
from zwiebel.features.relay import onion_keys_of
from zwiebel.features.relay.keys import NTOR_KEY, TAP_KEY, RelayKeys
from zwiebel.features.relay.keys_schedule import OnionKeyAction
from zwiebel.features.relay.onion_rotation import STATE_KEY, OnionKeyRotator
from zwiebel.proto.handshake import ntor
from zwiebel.proto.relay_create import CreateRefused, answer_create
from zwiebel.state import parse_state

T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


class Relay:
    """The service's side of the rotator: the keys, the clock, the consensus params."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.now = T0
        self.params: dict[str, int] | None = None
        self.keys = RelayKeys.load_or_create(data / "keys", T0, os.urandom)
        self.rotations = 0

    def rotator(self) -> OnionKeyRotator:
        return OnionKeyRotator(self.data / "keys", self.data / "state", lambda: self.keys,
                               self._set, lambda: self.params, lambda: self.now, os.urandom,
                               self._rotated)

    def _set(self, keys: RelayKeys) -> None:
        self.keys = keys

    def _rotated(self) -> None:
        self.rotations += 1


def _create2_with(relay: Relay, onion_public: bytes) -> bool:
    """A client's ntor CREATE2 made with ``onion_public``: True if the relay answers it
    and both sides derive the same keys."""
    rsa_id = relay.keys.fingerprint
    state, onionskin = ntor.client_create(os.urandom, rsa_id, onion_public)
    payload = Create2(HandshakeType.NTOR, onionskin).encode()
    answer = answer_create(Create2.command, payload, onion_keys_of(relay.keys), os.urandom)
    created = answer.payload
    reply_len = int.from_bytes(created[:2], "big")
    return ntor.client_complete(state, created[2:2 + reply_len]) == answer.keys


def _saved_set_at(relay: Relay) -> str | None:
    return parse_state((relay.data / "state").read_text()).get(STATE_KEY)


def test_first_start_records_now(tmp_path: Path) -> None:
    relay = Relay(tmp_path)
    rotator = relay.rotator()
    assert rotator.set_at == T0
    assert _saved_set_at(relay) == "2026-11-01 12:00:00"
    assert rotator.check() is OnionKeyAction.KEEP


def test_rotation_after_28_days_then_grace_then_expiry(tmp_path: Path) -> None:
    relay = Relay(tmp_path)
    rotator = relay.rotator()
    first = relay.keys.ntor.public_bytes()
    relay.now = T0 + 28 * DAY - dt.timedelta(seconds=1)
    assert rotator.check() is OnionKeyAction.KEEP and relay.rotations == 0
    relay.now = T0 + 28 * DAY
    assert rotator.check() is OnionKeyAction.ROTATE
    assert relay.rotations == 1 and rotator.set_at == relay.now
    second = relay.keys.ntor.public_bytes()
    assert second != first and relay.keys.ntor_old is not None
    assert relay.keys.ntor_old.public_bytes() == first
    assert (tmp_path / "keys" / (NTOR_KEY + ".old")).is_file()
    assert (tmp_path / "keys" / (TAP_KEY + ".old")).is_file()
    assert _saved_set_at(relay) == "2026-11-29 12:00:00"
    # grace period: CREATE2 with either key works
    assert _create2_with(relay, second) and _create2_with(relay, first)
    relay.now += 7 * DAY - dt.timedelta(seconds=1)
    assert rotator.check() is OnionKeyAction.KEEP
    relay.now += dt.timedelta(seconds=1)
    assert rotator.check() is OnionKeyAction.EXPIRE_OLD
    assert relay.keys.ntor_old is None and relay.keys.onion_tap_old is None
    assert not (tmp_path / "keys" / (NTOR_KEY + ".old")).exists()
    assert _create2_with(relay, second)
    with pytest.raises(CreateRefused, match="unknown onion key"):
        _create2_with(relay, first)
    assert rotator.check() is OnionKeyAction.KEEP


def test_consensus_parameters_shorten_the_schedule(tmp_path: Path) -> None:
    relay = Relay(tmp_path)
    rotator = relay.rotator()
    relay.params = {"onion-key-rotation-days": 3, "onion-key-grace-period-days": 1}
    relay.now = T0 + 2 * DAY
    assert rotator.next_check() == relay.now + ks.ONION_KEY_CHECK_INTERVAL
    relay.now = T0 + 3 * DAY - dt.timedelta(minutes=10)
    assert rotator.next_check() == T0 + 3 * DAY
    relay.now = T0 + 3 * DAY
    assert rotator.check() is OnionKeyAction.ROTATE
    relay.now += dt.timedelta(hours=23)
    assert rotator.next_check() == T0 + 4 * DAY
    relay.now = T0 + 4 * DAY
    assert rotator.check() is OnionKeyAction.EXPIRE_OLD


def test_restart_keeps_the_rotation_time_and_the_old_key(tmp_path: Path) -> None:
    relay = Relay(tmp_path)
    rotator = relay.rotator()
    relay.now = T0 + 28 * DAY
    assert rotator.check() is OnionKeyAction.ROTATE
    old = relay.keys.ntor_old
    assert old is not None
    relay.now += DAY
    restarted = Relay(tmp_path)  # loads the keys, .old ones included, from disk
    restarted.now = relay.now
    rotator = restarted.rotator()
    assert rotator.set_at == T0 + 28 * DAY
    assert restarted.keys.ntor_old is not None
    assert restarted.keys.ntor_old.public_bytes() == old.public_bytes()
    assert rotator.check() is OnionKeyAction.KEEP


def test_a_rotation_time_in_the_future_is_replaced_by_now(tmp_path: Path) -> None:
    (tmp_path / "state").write_text(f"{STATE_KEY} 2030-01-01 00:00:00\n")
    relay = Relay(tmp_path)
    assert relay.rotator().set_at == T0
    assert _saved_set_at(relay) == "2026-11-01 12:00:00"


def test_onion_key_set_at() -> None:
    assert ks.onion_key_set_at(None, T0) == (T0, True)
    assert ks.onion_key_set_at(T0 - DAY, T0) == (T0 - DAY, False)
    assert ks.onion_key_set_at(T0 + DAY, T0) == (T0, True)
    epoch = dt.datetime.fromtimestamp(50, dt.UTC)
    assert ks.onion_key_set_at(epoch, T0) == (T0, True)
