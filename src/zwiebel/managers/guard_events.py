"""GUARD events (control-spec 4.1.10) from changes of the guard selection.

tor announces a guard when it enters the sample (NEW), when it is found unreachable
(DOWN) or reachable again (UP), and when it leaves the sample (DROPPED;
``entrynodes.c``). The guard code below ``runtime/`` stays free of callbacks: the
circuit manager takes a :meth:`GuardWatcher.snapshot` before it changes the
selection and :meth:`GuardWatcher.report` after, which emits the differences.
"""

from __future__ import annotations

from zwiebel.encoding import b16
from zwiebel.managers.events import EventBus, GuardEvent
from zwiebel.netdir.guards import GuardSelection, Reachable

#: identity -> (nickname, reachability) of every sampled guard.
Snapshot = dict[bytes, tuple[str | None, Reachable]]


class GuardWatcher:
    """Turns before/after snapshots of a guard selection into GUARD events."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    def snapshot(self, guards: GuardSelection) -> Snapshot:
        """The sampled guards and their reachability now."""
        return {g.identity: (g.record.nickname, g.reachable) for g in guards.sampled}

    def report(self, guards: GuardSelection, before: Snapshot) -> None:
        """Emit NEW, UP, DOWN and DROPPED for what changed since ``before``."""
        after = self.snapshot(guards)
        for identity, (nickname, reachable) in after.items():
            old = before.get(identity)
            if old is None:
                self._emit(identity, nickname, "NEW")
            elif old[1] != reachable and reachable != Reachable.MAYBE:
                self._emit(identity, nickname, "UP" if reachable == Reachable.YES else "DOWN")
        for identity, (nickname, _) in before.items():
            if identity not in after:
                self._emit(identity, nickname, "DROPPED")

    def _emit(self, identity: bytes, nickname: str | None, status: str) -> None:
        self.bus.emit(GuardEvent(b16(identity), nickname, status))
