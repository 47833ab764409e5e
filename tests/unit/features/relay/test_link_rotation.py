"""TLS and link-certificate rotation while the relay runs (zwiebel.features.relay
RelayFeature, keys_schedule; tor 0.4.9.11 mainloop.c rotate_x509_certificate_callback,
routerkeys.c generate_ed_link_cert / should_make_new_ed_keys), with an injected clock:
due every 2 hours or 3 hours before the 2-day link certificates expire; after a
rotation, new connections get a new TLS certificate whose CERTS type-5 certificate
certifies it, and a channel opened before keeps working."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import os
import socket
import ssl
from pathlib import Path

import pytest

from zwiebel.cells.link import CertType
from zwiebel.cells.torcert import Ed25519Cert
from zwiebel.crypto.digest import sha256
from zwiebel.features.relay import RelayFeature, RelaySettings
from zwiebel.features.relay import keys_schedule as ks
from zwiebel.features.relay.keys import RelayKeys
from zwiebel.runtime.channel import open_channel
from zwiebel.runtime.circuit import Circuit

T0 = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
HOST = "127.0.0.1"


def test_link_identity_due_every_two_hours() -> None:
    assert ks.link_identity_due(None, T0)
    assert not ks.link_identity_due(T0, T0 + 2 * HOUR - dt.timedelta(seconds=1))
    assert ks.link_identity_due(T0, T0 + 2 * HOUR)
    assert ks.next_link_identity_check(T0, T0) == T0 + ks.ED_KEYS_CHECK_INTERVAL
    assert ks.next_link_identity_check(T0, T0 + 2 * HOUR - dt.timedelta(seconds=10)) \
        == T0 + 2 * HOUR


def test_link_identity_due_before_expiry_with_a_long_interval() -> None:
    """With a rotation interval longer than the certificates live (SSLKeyLifetime-like),
    the 3-hour slop before the 2-day expiry still triggers (should_make_new_ed_keys)."""
    week = dt.timedelta(days=7)
    renew_at = T0 + ks.LINK_CERT_LIFETIME - ks.LINK_KEY_SLOP
    assert not ks.link_identity_due(T0, renew_at, interval=week)
    assert ks.link_identity_due(T0, renew_at + dt.timedelta(seconds=1), interval=week)
    late = renew_at - dt.timedelta(seconds=5)
    assert ks.next_link_identity_check(T0, late, interval=week) == renew_at
    assert ks.next_link_identity_check(T0, renew_at + HOUR, interval=week) == renew_at + HOUR


def _presented_cert(port: int) -> bytes:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection((HOST, port), timeout=5) as raw, \
            ctx.wrap_socket(raw) as tls:
        cert = tls.getpeercert(binary_form=True)
    assert cert is not None
    return cert


def _certs_of(relay: RelayFeature) -> dict[int, bytes]:
    assert relay.identity is not None
    return dict(relay.identity.responder_certs.certs)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


def test_rotation_replaces_tls_and_link_certs(tmp_path: Path) -> None:
    keys = RelayKeys.load_or_create(tmp_path / "keys", dt.datetime.now(dt.UTC), os.urandom)
    clock = Clock()
    relay = RelayFeature(lambda: keys, RelaySettings(HOST, 0, (ipaddress.IPv4Address(HOST),)),
                         clock=clock)

    async def run() -> None:
        await relay.start()
        try:
            identity = relay.identity
            assert identity is not None and not relay.identity_due()
            before = _certs_of(relay)
            old_channel = await open_channel(HOST, relay.or_port, keys.fingerprint)
            assert await asyncio.to_thread(_presented_cert, relay.or_port) \
                == identity.tls_cert
            clock.now += 2 * HOUR
            assert relay.identity_due()
            assert await relay.renew_identity() is identity  # same object, new contents
            assert relay.rotations == 1 and not relay.identity_due()
            after = _certs_of(relay)
            presented = await asyncio.to_thread(_presented_cert, relay.or_port)
            assert presented == identity.tls_cert == after[CertType.RSA_LINK]
            assert presented != before[CertType.RSA_LINK]
            link = Ed25519Cert.decode(after[CertType.ED_SIGNING_LINK])
            assert link.certified_key == sha256(presented)
            assert link.expires > dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
            assert identity.rsa_id == keys.fingerprint  # tor remakes the id cert too
            new_channel = await open_channel(HOST, relay.or_port, keys.fingerprint)
            for channel in (old_channel, new_channel):  # both carry circuits
                circuit = Circuit(channel, 1)
                await circuit.create(None, 10)
                circuit.close("done")
            assert old_channel.is_open() and new_channel.is_open()
            old_channel.close()
            new_channel.close()
        finally:
            await relay.stop()

    asyncio.run(run())


def test_rotation_loop_renews_on_request(tmp_path: Path) -> None:
    """request_identity_renewal (the signing key changed) wakes the rotation task."""
    keys = RelayKeys.load_or_create(tmp_path / "keys", dt.datetime.now(dt.UTC), os.urandom)
    relay = RelayFeature(lambda: keys, RelaySettings(HOST, 0, (ipaddress.IPv4Address(HOST),)))

    async def run() -> None:
        await relay.start()
        try:
            relay.request_identity_renewal()
            for _ in range(100):
                if relay.rotations:
                    break
                await asyncio.sleep(0.05)
            assert relay.rotations == 1
        finally:
            await relay.stop()

    asyncio.run(run())


def test_rotation_loop_follows_the_interval(tmp_path: Path) -> None:
    keys = RelayKeys.load_or_create(tmp_path / "keys", dt.datetime.now(dt.UTC), os.urandom)
    settings = RelaySettings(HOST, 0, (ipaddress.IPv4Address(HOST),),
                             tls_rotation_interval=dt.timedelta(seconds=0.3))
    relay = RelayFeature(lambda: keys, settings)

    async def run() -> None:
        await relay.start()
        try:
            await asyncio.sleep(1.5)
        finally:
            await relay.stop()
        assert relay.rotations >= 2

    asyncio.run(run())


@pytest.mark.parametrize("slop_hours", [2, 4])
def test_link_certs_renewed_within_slop(tmp_path: Path, slop_hours: int) -> None:
    """The identity made at T0 is due once its 2-day link certificates are within 3
    hours of expiring, even with a long rotation interval."""
    long = dt.timedelta(days=30)
    when = T0 + ks.LINK_CERT_LIFETIME - dt.timedelta(hours=slop_hours)
    assert ks.link_identity_due(T0, when, interval=long) == (slop_hours < 3)
