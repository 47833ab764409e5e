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
  (FORCE_REGENERATE_DESCRIPTOR_INTERVAL, router.c) — see publish.py;
* the TLS context (a fresh RSA link key and X.509 certificate) is replaced every
  MAX_SSL_KEY_LIFETIME_INTERNAL, 2 hours, starting 2 hours after start-up, together
  with a new Ed25519 signing->link certificate (CERTS type 5) for it
  (mainloop.c rotate_x509_certificate_callback); the link and authenticate
  certificates live ``TestingLinkCertLifetime``/``TestingAuthKeyLifetime`` (2 days) and
  are remade ``TestingLinkKeySlop``/``TestingAuthKeySlop`` (3 hours) before they expire
  or when the signing key changed; every 30 seconds tor checks whether any of this or the
  signing key is due (relay_periodic.c check_ed_keys_callback, routerkeys.c
  should_make_new_ed_keys).

`onion_key_action` and `next_onion_key_check` are what tor's periodic events
rotate_onion_key and check_onion_keys_expiry_time decide (both re-checked at least every
ONION_KEY_CONSENSUS_CHECK_INTERVAL, an hour, because the consensus parameters may
change); `onion_key_set_at` is init_keys' reading of LastRotatedOnionKey."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import Enum

from zwiebel.netdoc.params import consensus_param

SIGNING_KEY_LIFETIME = timedelta(days=30)
SIGNING_KEY_SLOP = timedelta(days=1)
RSA_ED_CROSSCERT_LIFETIME = timedelta(days=6 * 30)
RSA_ED_CROSSCERT_SLOP = timedelta(days=30)

ONION_KEY_ROTATION_DAYS = (28, 1, 90)
"""onion-key-rotation-days: (default, min, max)."""
ONION_KEY_GRACE_DAYS_DEFAULT = 7
ONION_KEY_GRACE_DAYS_MIN = 1
#: or.h ONION_KEY_CONSENSUS_CHECK_INTERVAL: the onion-key events run at least hourly.
ONION_KEY_CHECK_INTERVAL = timedelta(hours=1)
#: router.c init_keys: a LastRotatedOnionKey at or before this POSIX second is not a time.
_EPOCH_SLOP = 100


def onion_key_lifetime(params: Mapping[str, int] | None = None) -> timedelta:
    """How long an onion key is used (consensus onion-key-rotation-days)."""
    days = consensus_param(params or {}, "onion-key-rotation-days", *ONION_KEY_ROTATION_DAYS)
    return timedelta(days=days)


def onion_key_grace_period(params: Mapping[str, int] | None = None) -> timedelta:
    """How long the previous onion key is still accepted after a rotation."""
    high = onion_key_lifetime(params).days
    days = consensus_param(params or {}, "onion-key-grace-period-days",
                           ONION_KEY_GRACE_DAYS_DEFAULT, ONION_KEY_GRACE_DAYS_MIN, high)
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


#: or.h MAX_SSL_KEY_LIFETIME_INTERNAL: how often the TLS context is replaced.
TLS_ROTATION_INTERVAL = timedelta(hours=2)
#: TestingLinkCertLifetime and TestingAuthKeyLifetime defaults (config.c).
LINK_CERT_LIFETIME = timedelta(days=2)
#: TestingLinkKeySlop and TestingAuthKeySlop defaults: renew this long before expiry.
LINK_KEY_SLOP = timedelta(hours=3)
#: relay_periodic.c check_ed_keys_callback: how often the Ed25519 keys are checked.
ED_KEYS_CHECK_INTERVAL = timedelta(seconds=30)
#: routerkeys.c load_ed_keys: "can't load the master key" is logged at most hourly.
MISSING_MASTER_RETRY = timedelta(hours=1)


def link_identity_due(made_at: datetime | None, now: datetime,
                      interval: timedelta = TLS_ROTATION_INTERVAL,
                      lifetime: timedelta = LINK_CERT_LIFETIME,
                      slop: timedelta = LINK_KEY_SLOP) -> bool:
    """The TLS key and link certificates made at `made_at` should be replaced now:
    none yet, the rotation `interval` is over, or they expire within `slop`."""
    if made_at is None:
        return True
    return made_at + interval <= now or made_at + lifetime < now + slop


def next_link_identity_check(made_at: datetime, now: datetime,
                             interval: timedelta = TLS_ROTATION_INTERVAL,
                             lifetime: timedelta = LINK_CERT_LIFETIME,
                             slop: timedelta = LINK_KEY_SLOP) -> datetime:
    """When `link_identity_due` next becomes true, but no later than the next
    ED_KEYS_CHECK_INTERVAL (a suspended machine wakes up past several deadlines)."""
    due = min(made_at + interval, made_at + lifetime - slop, now + ED_KEYS_CHECK_INTERVAL)
    return max(now, due)


class OnionKeyAction(Enum):
    """What the onion-key periodic events do now."""

    KEEP = "keep"
    ROTATE = "rotate"
    EXPIRE_OLD = "expire old"


def onion_key_action(set_at: datetime, now: datetime, have_old: bool,
                     params: Mapping[str, int] | None = None) -> OnionKeyAction:
    """rotate_onion_key_callback, then check_onion_keys_expiry_time_callback: rotate once
    the lifetime is over; otherwise drop the previous keys once the grace period after
    the last rotation is over."""
    if onion_key_rotation_due(set_at, now, params):
        return OnionKeyAction.ROTATE
    if have_old and old_onion_keys_expired(set_at, now, params):
        return OnionKeyAction.EXPIRE_OLD
    return OnionKeyAction.KEEP


def next_onion_key_check(set_at: datetime, now: datetime, have_old: bool,
                         params: Mapping[str, int] | None = None) -> datetime:
    """When to run `onion_key_action` again: the next rotation or expiry, but no later
    than an hour from now (the parameters may change with the next consensus)."""
    due = [next_onion_key_rotation(set_at, params), now + ONION_KEY_CHECK_INTERVAL]
    if have_old:
        due.append(set_at + onion_key_grace_period(params))
    return max(now, min(due))


def onion_key_set_at(saved: datetime | None, now: datetime) -> tuple[datetime, bool]:
    """init_keys: the saved LastRotatedOnionKey if it is a time in the past, else ``now``
    (a new relay, or a value from the future that would stop rotation for ever); the
    flag says the state file must be updated."""
    if saved is not None and saved.timestamp() > _EPOCH_SLOP and saved < now:
        return saved, False
    return now, True
