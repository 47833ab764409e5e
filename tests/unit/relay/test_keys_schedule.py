"""Key renewal and rotation times (features.relay.keys_schedule; tor routerkeys.c,
relay_periodic.c, param-spec "onion-key-rotation-days")."""

from __future__ import annotations

import datetime as dt

from zwiebel.features.relay import keys_schedule as ks

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def test_onion_key_rotation_default_28_days() -> None:
    assert not ks.onion_key_rotation_due(T0, T0 + 28 * DAY - dt.timedelta(seconds=1))
    assert ks.onion_key_rotation_due(T0, T0 + 28 * DAY)
    assert ks.next_onion_key_rotation(T0) == T0 + 28 * DAY


def test_consensus_parameters_are_clamped() -> None:
    assert ks.onion_key_lifetime({"onion-key-rotation-days": 3}) == 3 * DAY
    assert ks.onion_key_lifetime({"onion-key-rotation-days": 0}) == DAY
    assert ks.onion_key_lifetime({"onion-key-rotation-days": 500}) == 90 * DAY
    assert ks.onion_key_grace_period() == 7 * DAY
    params = {"onion-key-rotation-days": 3, "onion-key-grace-period-days": 9}
    assert ks.onion_key_grace_period(params) == 3 * DAY
    assert ks.old_onion_keys_expired(T0, T0 + 7 * DAY)
    assert not ks.old_onion_keys_expired(T0, T0 + 6 * DAY)


def test_signing_key_need_and_want() -> None:
    expires = T0 + 30 * DAY
    assert ks.signing_key_needed(None, T0) and ks.signing_key_wanted(None, T0)
    assert not ks.signing_key_wanted(expires, T0 + 28 * DAY)
    assert ks.signing_key_wanted(expires, T0 + 29 * DAY + dt.timedelta(seconds=1))
    assert not ks.signing_key_needed(expires, T0 + 29 * DAY + dt.timedelta(seconds=1))
    assert ks.signing_key_needed(expires, expires + dt.timedelta(seconds=1))
    assert ks.crosscert_renewal_due(T0 + 29 * DAY, T0)
    assert not ks.crosscert_renewal_due(T0 + 31 * DAY, T0)
