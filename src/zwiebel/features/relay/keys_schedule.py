"""When a relay renews its signing key and rotates its onion keys: pure functions of `now`.

tor 0.4.9.11, src/feature/relay/routerkeys.c and relay_periodic.c, param-spec 2:

* the Ed25519 signing key certificate lives ``SigningKeyLifetime`` (30 days); a new
  key is *needed* once it has expired and *wanted* ``TestingSigningKeySlop`` (1 day)
  before (load_ed_keys' need_new_signing_key / want_new_signing_key);
* the RSA->Ed25519 cross-certificate of the link handshake lives 6 months and is
  remade 30 days before it expires;
* onion keys (TAP and ntor together) rotate ``onion-key-rotation-days`` (consensus
  parameter, default 28, 1..90) after they were set (state file LastRotatedOnionKey);
  the previous keys are still accepted for ``onion-key-grace-period-days`` (default 7,
  1..rotation days) after a rotation, then deleted (expire_old_onion_keys);
* descriptors are rebuilt and uploaded at least every 18 hours
  (FORCE_REGENERATE_DESCRIPTOR_INTERVAL, router.c) — see publish.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

SIGNING_KEY_LIFETIME = timedelta(days=30)
SIGNING_KEY_SLOP = timedelta(days=1)
RSA_ED_CROSSCERT_LIFETIME = timedelta(days=6 * 30)
RSA_ED_CROSSCERT_SLOP = timedelta(days=30)

ONION_KEY_ROTATION_DAYS = (28, 1, 90)
"""onion-key-rotation-days: (default, min, max)."""
ONION_KEY_GRACE_DAYS_DEFAULT = 7
ONION_KEY_GRACE_DAYS_MIN = 1


def _param(params: Mapping[str, int], name: str, default: int, low: int, high: int) -> int:
    """A consensus parameter clamped to its range (networkstatus_get_param)."""
    value = params.get(name, default)
    return max(low, min(high, value))


def onion_key_lifetime(params: Mapping[str, int] | None = None) -> timedelta:
    """How long an onion key is used (consensus onion-key-rotation-days)."""
    default, low, high = ONION_KEY_ROTATION_DAYS
    return timedelta(days=_param(params or {}, "onion-key-rotation-days", default, low, high))


def onion_key_grace_period(params: Mapping[str, int] | None = None) -> timedelta:
    """How long the previous onion key is still accepted after a rotation."""
    high = onion_key_lifetime(params).days
    days = _param(params or {}, "onion-key-grace-period-days", ONION_KEY_GRACE_DAYS_DEFAULT,
                  ONION_KEY_GRACE_DAYS_MIN, high)
    return timedelta(days=days)


def onion_key_rotation_due(set_at: datetime, now: datetime,
                           params: Mapping[str, int] | None = None) -> bool:
    """True once the onion keys set at `set_at` should be replaced."""
    return set_at + onion_key_lifetime(params) <= now


def next_onion_key_rotation(set_at: datetime, params: Mapping[str, int] | None = None
                            ) -> datetime:
    """When the onion keys set at `set_at` will be rotated."""
    return set_at + onion_key_lifetime(params)


def old_onion_keys_expired(set_at: datetime, now: datetime,
                           params: Mapping[str, int] | None = None) -> bool:
    """True once the keys replaced at `set_at` are past their grace period."""
    return set_at + onion_key_grace_period(params) <= now


def signing_key_needed(cert_expires: datetime | None, now: datetime) -> bool:
    """A new signing key is required: none, or its certificate has expired."""
    return cert_expires is None or cert_expires < now


def signing_key_wanted(cert_expires: datetime | None, now: datetime,
                       slop: timedelta = SIGNING_KEY_SLOP) -> bool:
    """A new signing key should be made: needed, or expiring within `slop`."""
    return cert_expires is None or cert_expires < now + slop


def crosscert_renewal_due(cert_expires: datetime | None, now: datetime) -> bool:
    """The RSA->Ed25519 link cross-certificate should be remade."""
    return cert_expires is None or cert_expires < now + RSA_ED_CROSSCERT_SLOP
