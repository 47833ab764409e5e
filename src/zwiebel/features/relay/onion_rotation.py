"""Onion-key rotation while the relay runs (tor 0.4.9.11 relay_periodic.c
rotate_onion_key_callback and check_onion_keys_expiry_time_callback; router.c init_keys
and rotate_onion_key).

The time the onion keys were last set is kept in DataDirectory/state as
LastRotatedOnionKey (set to now on first start). `OnionKeyRotator.check` applies the
decision of `keys_schedule.onion_key_action`:

* ROTATE, ``onion-key-rotation-days`` (consensus parameter, default 28) after that time:
  the TAP and ntor keys become ``secret_onion_key.old`` / ``secret_onion_key_ntor.old``,
  fresh keys replace them, LastRotatedOnionKey is set to now, and ``on_rotated`` runs (the
  service rebuilds and uploads the descriptor at once, as tor does). The relay reads the
  keys through a callable on every CREATE2, so from then on it answers handshakes made
  with either the new key or the previous one;
* EXPIRE_OLD, ``onion-key-grace-period-days`` (default 7) after the rotation: the
  previous keys are forgotten and their files deleted; handshakes made with them fail.

`run` re-checks at the next rotation or expiry and at least hourly, since the consensus
parameters may change. Time and randomness are injected so tests can drive the schedule.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from zwiebel.crypto import Rng
from zwiebel.encoding import ParseError
from zwiebel.features.relay.keys import RelayKeys
from zwiebel.features.relay.keys_schedule import (
    OnionKeyAction,
    next_onion_key_check,
    onion_key_action,
    onion_key_set_at,
)
from zwiebel.features.relay.state_io import read_state, write_state
from zwiebel.state import format_time, parse_time

log = logging.getLogger("zwiebel")
STATE_KEY = "LastRotatedOnionKey"

Params = Callable[[], Mapping[str, int] | None]


class OnionKeyRotator:
    """Rotates and expires the relay's onion keys on tor's schedule."""

    def __init__(self, keys_dir: Path, state_path: Path, get_keys: Callable[[], RelayKeys],
                 set_keys: Callable[[RelayKeys], None], params: Params,
                 clock: Callable[[], dt.datetime], rng: Rng,
                 on_rotated: Callable[[], None] = lambda: None) -> None:
        self.keys_dir = keys_dir
        self.state_path = state_path
        self._get_keys, self._set_keys = get_keys, set_keys
        self._params, self._clock, self._rng = params, clock, rng
        self._on_rotated = on_rotated
        self.set_at = self._load(clock())

    def _load(self, now: dt.datetime) -> dt.datetime:
        """init_keys: LastRotatedOnionKey from the state file, or now (and saved)."""
        text = read_state(self.state_path).get(STATE_KEY)
        try:
            saved = parse_time(text, sep=" ") if text else None
        except ParseError:
            log.warning("Ignoring bad %s in %s: %r", STATE_KEY, self.state_path, text)
            saved = None
        set_at, changed = onion_key_set_at(saved, now)
        if changed:
            self._save(set_at)
        return set_at

    def _save(self, set_at: dt.datetime) -> None:
        state = read_state(self.state_path).replace_all(STATE_KEY,
                                                        [format_time(set_at, sep=" ")])
        write_state(self.state_path, state, self._clock())

    def check(self) -> OnionKeyAction:
        """Rotate or expire now if due; the action taken."""
        now = self._clock()
        keys = self._get_keys()
        action = onion_key_action(self.set_at, now, keys.ntor_old is not None, self._params())
        if action is OnionKeyAction.ROTATE:
            log.info("Rotating onion key.")
            self._set_keys(keys.rotate_onion_keys(self.keys_dir, self._rng))
            self.set_at = now
            self._save(now)
            self._on_rotated()
        elif action is OnionKeyAction.EXPIRE_OLD:
            log.info("Expiring old onion keys.")
            self._set_keys(keys.expire_old_onion_keys(self.keys_dir))
        return action

    def next_check(self) -> dt.datetime:
        """When `check` should run next."""
        have_old = self._get_keys().ntor_old is not None
        return next_onion_key_check(self.set_at, self._clock(), have_old, self._params())

    async def run(self) -> None:
        """Check now and then whenever something is due (at least hourly)."""
        while True:
            self.check()
            wait = (self.next_check() - self._clock()).total_seconds()
            await asyncio.sleep(max(wait, 1.0))
