"""Renewing the medium-term Ed25519 signing key while the relay runs (tor 0.4.9.11
relay_periodic.c check_ed_keys_callback, routerkeys.c load_ed_keys).

Every 30 seconds (ED_KEYS_CHECK_INTERVAL) `SigningKeyRenewer.check` asks whether the
signing key certificate (type 4, cert-spec 2.1) expires within TestingSigningKeySlop, a
day. If so, `RelayKeys.renew_signing_key` signs a fresh key with the master identity key
(``SigningKeyLifetime``, 30 days by default) and saves both to DataDirectory/keys; then
``on_renewed`` runs: the relay makes new link certificates (CERTS types 4, 5 and 6 are
all signed through the signing key) and publishes a descriptor with the new
"identity-ed25519" at once (tor would wait for its next 18-hourly descriptor, which the
day of slop allows for; publishing at once is what `publish.rebuild_reason` does when the
signing key differs).

When the master secret key is offline, tor warns at most hourly ("Signing key will
expire soon, but I can't load the master key to sign a new one!") and picks up a key an
operator made with ``tor --keygen`` at its next attempt; here attempts that changed
nothing are repeated hourly (MISSING_MASTER_RETRY). Once the certificate has expired
without a replacement tor exits ("Unable to update Ed25519 keys!  Exiting."); Zwiebel
logs the same error and keeps retrying, since peers refuse its handshakes anyway.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable
from pathlib import Path

from zwiebel.crypto import Rng
from zwiebel.features.relay.keys import KeyFileError, RelayKeys
from zwiebel.features.relay.keys_schedule import (
    ED_KEYS_CHECK_INTERVAL,
    MISSING_MASTER_RETRY,
    SIGNING_KEY_LIFETIME,
    signing_key_needed,
    signing_key_wanted,
)

log = logging.getLogger("zwiebel")
NOTICE = 25


class SigningKeyRenewer:
    """Replaces the relay's signing key a day before its certificate expires."""

    def __init__(self, keys_dir: Path, get_keys: Callable[[], RelayKeys],
                 set_keys: Callable[[RelayKeys], None], clock: Callable[[], dt.datetime],
                 rng: Rng, lifetime: dt.timedelta = SIGNING_KEY_LIFETIME,
                 on_renewed: Callable[[], None] = lambda: None) -> None:
        self.keys_dir = keys_dir
        self._get_keys, self._set_keys = get_keys, set_keys
        self._clock, self._rng = clock, rng
        self.lifetime = lifetime
        self._on_renewed = on_renewed
        self._retry_at: dt.datetime | None = None

    def _attempt_due(self, keys: RelayKeys, now: dt.datetime) -> bool:
        if not signing_key_wanted(keys.signing_cert.expires, now):
            return False
        return self._retry_at is None or self._retry_at <= now

    def check(self) -> bool:
        """Renew the signing key if due; True when it was replaced."""
        now = self._clock()
        keys = self._get_keys()
        if not self._attempt_due(keys, now):
            return False
        try:
            renewed = keys.renew_signing_key(self.keys_dir, now, self._rng, self.lifetime)
        except (KeyFileError, OSError) as exc:
            renewed = keys
            if signing_key_needed(keys.signing_cert.expires, now):
                log.error("Unable to update Ed25519 keys!  %s", exc)
            else:
                log.warning("Could not renew the Ed25519 signing key: %s", exc)
        if renewed is keys:
            self._retry_at = now + MISSING_MASTER_RETRY
            return False
        self._retry_at = None
        self._set_keys(renewed)
        log.log(NOTICE, "Made a new medium-term Ed25519 signing key; its certificate "
                "expires %s.", renewed.signing_cert.expires.strftime("%Y-%m-%d %H:%M:%S"))
        self._on_renewed()
        return True

    async def run(self) -> None:
        """Check every 30 seconds, as tor does."""
        while True:
            self.check()
            await asyncio.sleep(ED_KEYS_CHECK_INTERVAL.total_seconds())
