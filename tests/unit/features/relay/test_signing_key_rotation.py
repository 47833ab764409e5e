"""Renewing the Ed25519 signing key while running (zwiebel.features.relay.keys_rotation,
RelayKeys.renew_signing_key; tor 0.4.9.11 relay_periodic.c check_ed_keys_callback,
routerkeys.c load_ed_keys), with an injected clock: nothing until the certificate is
within a day of expiring, then a new key signed by the master key, saved in tor's file
format and published; with the master key offline, a warning retried hourly and an
error once expired."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from zwiebel.crypto.keys import ed25519_verify
from zwiebel.features.relay import keys_schedule as ks
from zwiebel.features.relay.descriptor import DescriptorInputs, build_descriptors
from zwiebel.features.relay.keys import MASTER, RelayKeys
from zwiebel.features.relay.keys_rotation import SigningKeyRenewer
from zwiebel.features.relay.publish import rebuild_reason
from zwiebel.netdoc.policy import ExitPolicy

T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)


class Relay:
    """The service's side of the renewer: keys, clock, renewals seen."""

    def __init__(self, data: Path) -> None:
        self.keys_dir = data / "keys"
        self.now = T0
        self.keys = RelayKeys.load_or_create(self.keys_dir, T0, os.urandom)
        self.renewed = 0
        self.renewer = SigningKeyRenewer(self.keys_dir, lambda: self.keys, self._set,
                                         lambda: self.now, os.urandom,
                                         on_renewed=self._on_renewed)

    def _set(self, keys: RelayKeys) -> None:
        self.keys = keys

    def _on_renewed(self) -> None:
        self.renewed += 1


def test_no_renewal_before_the_slop(tmp_path: Path) -> None:
    relay = Relay(tmp_path)
    expires = relay.keys.signing_cert.expires
    assert expires - T0 >= ks.SIGNING_KEY_LIFETIME
    relay.now = expires - DAY - dt.timedelta(seconds=1)
    assert not relay.renewer.check() and relay.renewed == 0


def test_renewal_a_day_before_expiry(tmp_path: Path) -> None:
    relay = Relay(tmp_path)
    old = relay.keys
    relay.now = old.signing_cert.expires - DAY + dt.timedelta(minutes=1)
    assert relay.renewer.check()
    new = relay.keys
    assert relay.renewed == 1
    assert new.signing.public_bytes() != old.signing.public_bytes()
    assert new.master_id == old.master_id and new.fingerprint == old.fingerprint
    cert = new.signing_cert
    assert cert.certified_key == new.signing.public_bytes()
    assert cert.signing_key == new.master_id
    assert ed25519_verify(new.master_id, cert.signature, cert.signed_part())
    assert cert.expires >= relay.now + ks.SIGNING_KEY_LIFETIME
    assert cert.expires < relay.now + ks.SIGNING_KEY_LIFETIME + HOUR
    assert new.ntor is old.ntor and new.onion_tap is old.onion_tap
    reloaded = RelayKeys.load_or_create(relay.keys_dir, relay.now, os.urandom)
    assert reloaded.signing.public_bytes() == new.signing.public_bytes()
    assert reloaded.signing_cert.encode() == cert.encode()
    assert not relay.renewer.check()  # the new one is good for 30 days


def test_descriptor_republished_with_the_new_key(tmp_path: Path) -> None:
    relay = Relay(tmp_path)
    inputs = DescriptorInputs("zw", "127.0.0.1", 9001, ExitPolicy.from_config(["reject *:*"]))
    first = build_descriptors(relay.keys, inputs, T0)
    relay.now = relay.keys.signing_cert.expires - HOUR
    assert relay.renewer.check()
    assert rebuild_reason(first, relay.keys, inputs, relay.now) is not None
    second = build_descriptors(relay.keys, inputs, relay.now)
    assert second.parsed.identity_cert.certified_key == relay.keys.signing.public_bytes()


class Lines(logging.Handler):
    """The "zwiebel" logger's messages (independent of how other tests set logging up)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.text = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.text += record.getMessage() + "\n"


@pytest.fixture()
def lines() -> Iterator[Lines]:
    handler, logger = Lines(), logging.getLogger("zwiebel")
    level, filters = logger.level, list(logger.filters)
    for f in filters:  # e.g. the daemon's rate limit, left by other tests
        logger.removeFilter(f)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        for f in filters:
            logger.addFilter(f)


def test_offline_master_warns_hourly_then_errors(tmp_path: Path, lines: Lines) -> None:
    relay = Relay(tmp_path)
    (relay.keys_dir / f"{MASTER}_secret_key").unlink()
    expires = relay.keys.signing_cert.expires
    relay.now = expires - 2 * HOUR
    assert not relay.renewer.check()
    assert "can't load the master key" in lines.text
    lines.text = ""
    relay.now += ks.ED_KEYS_CHECK_INTERVAL  # the next check: no new attempt yet
    assert not relay.renewer.check() and lines.text == ""
    relay.now = expires - HOUR  # an hour after the first attempt: tried again
    assert not relay.renewer.check() and "can't load the master key" in lines.text
    lines.text = ""
    relay.now = expires + HOUR
    assert not relay.renewer.check()
    assert "Unable to update Ed25519 keys!" in lines.text
    assert relay.renewed == 0


def test_operator_supplied_key_is_picked_up(tmp_path: Path) -> None:
    """tor --keygen with the master key elsewhere: a new signing key and certificate
    appear in the keys folder; the next attempt loads them."""
    relay = Relay(tmp_path)
    secret = (relay.keys_dir / f"{MASTER}_secret_key").read_bytes()
    (relay.keys_dir / f"{MASTER}_secret_key").unlink()
    relay.now = relay.keys.signing_cert.expires - 2 * HOUR
    assert not relay.renewer.check()
    offline = tmp_path / "offline"
    offline.mkdir()
    (offline / f"{MASTER}_secret_key").write_bytes(secret)
    made = RelayKeys.load_or_create(offline, relay.now, os.urandom)
    for name in ("ed25519_signing_secret_key", "ed25519_signing_cert"):
        (relay.keys_dir / name).write_bytes((offline / name).read_bytes())
    relay.now += HOUR
    assert relay.renewer.check()
    assert relay.keys.signing.public_bytes() == made.signing.public_bytes()
