"""The client's circuit manager (path-spec 2, guard-spec 4; tor's circuituse.c).

It builds three-hop exit circuits (guard from the guard selection, middle and exit by
bandwidth weight), hands streams circuits that suit them — an exit that accepts the
target, the same isolation key, not dirtier than MaxCircuitDirtiness — and retries a
stream on a fresh circuit after EXITPOLICY, a timeout or a dead circuit, as tor does.
Guard state is saved in DataDirectory/state after every change.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Hashable
from dataclasses import replace
from pathlib import Path

from zwiebel.cells.relay_msgs import EndReason, Resolved
from zwiebel.config.files import atomic_write
from zwiebel.control.addrmap import AddressMap
from zwiebel.encoding import ParseError
from zwiebel.managers.bootstrap import BootstrapState, Phase
from zwiebel.managers.channels import ChannelManager
from zwiebel.managers.circuit_control import (
    BEGIN_TIMEOUTS,
    RETRY_REASONS,
    ControlledCircuits,
    controller_attached,
)
from zwiebel.managers.directory import DirectoryManager
from zwiebel.managers.events import EventBus
from zwiebel.managers.guard_events import GuardWatcher
from zwiebel.managers.resolves import resolve_with_events
from zwiebel.managers.trackers import CircuitTracker, StreamRecord, StreamTracker
from zwiebel.netdir.guard_params import GuardParams
from zwiebel.netdir.guards import CircState, Guard, GuardContext, GuardSelection
from zwiebel.netdir.netdir import NetDir
from zwiebel.netdir.path import (
    LONG_LIVED_PORTS,
    NoPathError,
    choose_entry,
    choose_exit,
    choose_middle,
)
from zwiebel.netdir.relay import RelayInfo
from zwiebel.netdir.restrict import PathRestrictions
from zwiebel.runtime.channel import ChannelError
from zwiebel.runtime.circuit import Circuit, CircuitError
from zwiebel.runtime.clock import monotonic, randbelow, utcnow
from zwiebel.runtime.stream import Stream, StreamClosed
from zwiebel.state.guard_line import format_guard_line, parse_guard_line
from zwiebel.state.statefile import StateFile, format_state, parse_state, with_written

log = logging.getLogger("zwiebel")

#: How many circuits a stream may try before it fails (tor: up to the stream's timeout).
STREAM_ATTEMPTS = 4
#: Build attempts before a request fails with "no route".
BUILD_ATTEMPTS = 5
#: Seconds a relay that failed to take an extension is left out of new paths.
FAILED_RELAY_PENALTY = 60.0


class FirstHopError(CircuitError):
    """The guard could not be reached or refused to create the circuit."""


class CircuitManager:
    """Owns the client's exit circuits and its guards."""

    def __init__(
        self,
        directory: DirectoryManager,
        channels: ChannelManager,
        restrictions: PathRestrictions,
        state_path: Path,
        bootstrap: BootstrapState,
        build_timeout: float,
        max_dirtiness: float,
        use_guards: bool,
        events: EventBus | None = None,
    ) -> None:
        self._dir = directory
        self._channels = channels
        self._rules = restrictions
        self._state_path = state_path
        self._bootstrap = bootstrap
        self.build_timeout = build_timeout
        self._max_dirtiness = max_dirtiness
        self._use_guards = use_guards
        self._guards = GuardSelection()
        self._state = StateFile()
        self._circuits: list[Circuit] = []
        self._next_id = 1
        self._failed: dict[bytes, float] = {}
        #: (NumPrimaryGuards, NumEntryGuards) from the torrc; 0 means the consensus value.
        self.guard_counts = (0, 0)
        self.events = events if events is not None else EventBus()
        self.circ_events = CircuitTracker(self.events)
        self.stream_events = StreamTracker(self.events)
        #: MAPADDRESS mappings and virtual addresses, applied to every stream target.
        self.addressmap = AddressMap()
        #: True while __LeaveStreamsUnattached is set: streams wait for ATTACHSTREAM.
        self.leave_unattached: Callable[[], bool] = lambda: False
        #: Seconds a stream may wait for the controller (SocksTimeout).
        self.controller_wait_timeout = 120.0
        self._guard_watch = GuardWatcher(self.events)
        #: EXTENDCIRCUIT and friends.
        self.controlled = ControlledCircuits(self)
        self._load_state()

    # -- state file -------------------------------------------------------------
    def _load_state(self) -> None:
        try:
            self._state = parse_state(self._state_path.read_text())
        except OSError:
            return
        records = [parse_guard_line(v) for v in self._state.get_all("Guard")]
        self._guards.load_records(records, utcnow())

    def reconfigure(self, restrictions: PathRestrictions, build_timeout: float,
                    max_dirtiness: float) -> None:
        """SIGHUP: new path rules and timeouts for circuits built from now on."""
        self._rules = restrictions
        self.build_timeout = build_timeout
        self._max_dirtiness = max_dirtiness

    def save_state(self) -> None:
        """Write the guards to the state file atomically, in tor's format, keeping what
        other parts of the daemon (accounting) saved there since we last read it."""
        lines = [format_guard_line(r, i) for i, r in enumerate(self._guards.records())]
        try:
            current = parse_state(self._state_path.read_text())
        except (OSError, ParseError):
            current = self._state
        self._state = current.replace_all("Guard", lines)
        now = utcnow()
        text = format_state(with_written(self._state, now, "0.4.9.11"), now)
        atomic_write(str(self._state_path), text)

    # -- circuits ------------------------------------------------------------------
    @property
    def circuits(self) -> list[Circuit]:
        """Open client circuits."""
        self._circuits = [c for c in self._circuits if c.is_open]
        return list(self._circuits)

    def guard_list(self) -> list[Guard]:
        """The sampled guards, for GETINFO entry-guards."""
        return list(self._guards.sampled)

    def new_identity(self) -> None:
        """NEWNYM: no circuit used so far is handed to a new stream again."""
        for circuit in self.circuits:
            circuit.dirty_since = circuit.dirty_since or monotonic()
            circuit.isolation = ("retired", circuit.global_id)

    async def open_stream(
        self, address: str, port: int, isolation: Hashable
    ) -> tuple[Stream, Circuit]:
        """A connected stream to address:port on a suitable circuit, with tor's retries.

        After EXITPOLICY the exit is avoided for this stream; after a timeout or a dead
        circuit, that circuit takes no new streams (circuituse.c, connection_ap_expire_*).
        Each step is reported as a STREAM event.
        """
        record = self.stream_events.new(address, port)
        try:
            if self.leave_unattached():
                stream, circuit = await controller_attached(self, record, isolation)
            else:
                self.remap(record)
                stream, circuit = await self._open_stream(record.address, port, isolation,
                                                          record)
        except BaseException as exc:
            self.stream_events.failed(record, exc)
            raise
        self.stream_events.succeeded(record, stream)
        return stream, circuit

    async def _open_stream(
        self, address: str, port: int, isolation: Hashable, record: StreamRecord
    ) -> tuple[Stream, Circuit]:
        excluded: set[bytes] = set()
        last: Exception = StreamClosed(EndReason.MISC)
        for attempt in range(STREAM_ATTEMPTS):
            circuit = await self.circuit_for(address, port, isolation, excluded)
            self.stream_events.sent_connect(record, circuit)
            try:
                stream = await circuit.open_stream(address, port, BEGIN_TIMEOUTS[attempt])
            except StreamClosed as exc:
                last = exc
                if exc.reason not in RETRY_REASONS:
                    raise
                self._after_failed_begin(circuit, exc.reason, excluded)
                self.stream_events.detached(record, exc.reason)
                log.info("Stream to port %d failed (%s); retrying on another circuit.",
                         port, _reason(exc.reason))
                continue
            log.info("Stream %d to port %d attached to circuit %d.", stream.stream_id, port,
                     circuit.global_id)
            return stream, circuit
        raise last

    def remap(self, record: StreamRecord) -> None:
        """Apply the address map to the stream's target (STREAM REMAP if it changed)."""
        mapped = self.addressmap.rewrite(record.address)
        if mapped != record.address:
            self.stream_events.remapped(record, mapped)

    def _after_failed_begin(self, circuit: Circuit, reason: int, excluded: set[bytes]) -> None:
        if reason == EndReason.EXITPOLICY:
            excluded.add(circuit.path[-1].rsa_identity)
        else:
            circuit.isolation = ("retired", circuit.global_id)

    async def resolve(self, hostname: str, isolation: Hashable, query: str | None = None
                      ) -> Resolved:
        """RELAY_RESOLVE through an exit circuit (tor-spec 6.4), reported as a
        resolve stream and an ADDRMAP event with the answer; ``query`` is what the
        exit is asked if not ``hostname`` itself (an in-addr.arpa name)."""
        name = self.addressmap.rewrite(query or hostname)

        async def attempt(record: StreamRecord) -> Resolved:
            circuit = await self.circuit_for(None, None, isolation, set())
            self.stream_events.sent_resolve(record, circuit)
            return await circuit.resolve(name, BEGIN_TIMEOUTS[0])

        return await resolve_with_events(self.stream_events, hostname, attempt)

    async def circuit_for(
        self, address: str | None, port: int | None, isolation: Hashable, excluded: set[bytes]
    ) -> Circuit:
        """An open circuit that suits the request, building one if needed."""
        for circuit in self.circuits:
            if self._suits(circuit, address, port, isolation, excluded):
                circuit.isolation = isolation
                return circuit
        circuit = await self.build_exit_circuit(address, port, excluded)
        circuit.isolation = isolation
        return circuit

    def _suits(
        self, circuit: Circuit, address: str | None, port: int | None,
        isolation: Hashable, excluded: set[bytes],
    ) -> bool:
        if circuit.purpose != "GENERAL" or len(circuit.path) < 2:
            return False
        if not circuit.path or circuit.isolation not in (None, isolation):
            return False
        if circuit.path[-1].rsa_identity in excluded:
            return False
        dirty = circuit.dirty_since
        if dirty is not None and monotonic() - dirty > self._max_dirtiness:
            return False
        if port is None:
            return True
        return circuit.path[-1].exit_allows(_ip_or_none(address), port)

    async def build_exit_circuit(
        self, address: str | None, port: int | None, excluded: set[bytes],
    ) -> Circuit:
        """Build a new three-hop circuit whose exit accepts address:port."""
        last: Exception = CircuitError("no circuit could be built")
        for _ in range(BUILD_ATTEMPTS):
            try:
                return await self._attempt(address, port, excluded)
            except NoPathError as exc:
                raise CircuitError(f"no suitable path: {exc}") from exc
            except (CircuitError, ChannelError, OSError, TimeoutError) as exc:
                last = exc
                log.info("Circuit build failed: %s", exc)
        raise CircuitError(f"circuit build failed: {last}")

    async def build_chosen(self, global_id: int, purpose: str) -> Circuit:
        """One build with a path the manager chooses (EXTENDCIRCUIT 0 without a path)."""
        try:
            return await self._attempt(None, None, set(), global_id, purpose)
        except NoPathError as exc:
            raise CircuitError(f"no suitable path: {exc}") from exc

    async def _attempt(self, address: str | None, port: int | None, excluded: set[bytes],
                       global_id: int | None = None, purpose: str = "GENERAL") -> Circuit:
        netdir = self._dir.netdir
        if netdir is None:
            raise CircuitError("no directory information yet")
        avoid = frozenset(excluded) | self._recently_failed()
        rules = replace(self._rules, extra_excluded=avoid)
        return await self._build_once(netdir, rules, address, port, global_id, purpose)

    async def _build_once(
        self, netdir: NetDir, rules: PathRestrictions, address: str | None, port: int | None,
        global_id: int | None = None, purpose: str = "GENERAL",
    ) -> Circuit:
        """Exit first, then a guard that is not the exit, then a middle (path-spec 2.2)."""
        target = _ip_or_none(address)
        exit_relay = choose_exit(netdir, rules, randbelow, port, target)
        guard = self._pick_guard(netdir, rules, exit_relay)
        entry = netdir.by_rsa_id(guard[0].identity) if guard else None
        if entry is None:
            entry = choose_entry(netdir, rules, randbelow, [exit_relay])
        middle = choose_middle(netdir, rules, randbelow, [entry, exit_relay],
                               port in LONG_LIVED_PORTS)
        try:
            circuit = await self.build_path([entry, middle, exit_relay], global_id, purpose)
        except FirstHopError:
            if guard is not None:
                before = self._guard_watch.snapshot(self._guards)
                self._guards.note_failure(guard[0], utcnow())
                self._guard_watch.report(self._guards, before)
                self.save_state()
            raise
        if guard is not None:
            ctx = GuardContext(netdir, rules, utcnow(), randbelow)
            before = self._guard_watch.snapshot(self._guards)
            self._guards.note_success(guard[0], guard[1], ctx)
            self._guard_watch.report(self._guards, before)
            self.save_state()
        self._bootstrap.reach(Phase.DONE)
        return circuit

    def _recently_failed(self) -> frozenset[bytes]:
        now = monotonic()
        self._failed = {k: t for k, t in self._failed.items() if now - t < FAILED_RELAY_PENALTY}
        return frozenset(self._failed)

    def _pick_guard(
        self, netdir: NetDir, rules: PathRestrictions, exit_relay: RelayInfo
    ) -> tuple[Guard, CircState] | None:
        if not self._use_guards:
            return None
        ctx = GuardContext(netdir, rules, utcnow(), randbelow)
        self._guards.params = GuardParams.from_netdir(netdir, *self.guard_counts)
        before = self._guard_watch.snapshot(self._guards)
        self._guards.update(ctx)
        chosen = self._guards.select(ctx, avoid=[exit_relay])
        self._guard_watch.report(self._guards, before)
        return chosen

    def drop_guards(self) -> None:
        """DROPGUARDS: forget every guard (remove_all_entry_guards) and save."""
        before = self._guard_watch.snapshot(self._guards)
        self._guards = GuardSelection(params=self._guards.params)
        self._guard_watch.report(self._guards, before)
        self.save_state()

    def reserve_id(self) -> int:
        """A global circuit ID for a circuit a controller is told about before it exists."""
        global_id = self._next_id
        self._next_id += 1
        return global_id

    async def build_path(self, path: list[RelayInfo], global_id: int | None = None,
                         purpose: str = "GENERAL") -> Circuit:
        """Build exactly ``path`` (its global ID reserved beforehand if given)."""
        first = path[0]
        self._bootstrap.reach(Phase.AP_CONN)
        try:
            channel = await self._channels.get(first.address, first.or_port,
                                               first.rsa_identity)
        except (ChannelError, OSError, TimeoutError) as exc:
            raise FirstHopError(f"cannot reach ${first.fingerprint}: {exc}") from exc
        self._bootstrap.reach(Phase.AP_HANDSHAKE_DONE)
        circuit = Circuit(channel, global_id if global_id is not None else self.reserve_id())
        circuit.purpose = purpose
        self._bootstrap.reach(Phase.CIRCUIT_CREATE)
        self.circ_events.launched(circuit)
        try:
            await circuit.create(first, self.build_timeout)
            self.circ_events.extended(circuit)
            for relay in path[1:]:
                try:
                    await circuit.extend(relay, self.build_timeout)
                except CircuitError:
                    self._failed[relay.rsa_identity] = monotonic()
                    raise
                self.circ_events.extended(circuit)
        except BaseException as exc:
            self.circ_events.failed(circuit, exc)
            circuit.close("build failed")
            raise
        circuit.mark_open()
        self.circ_events.built(circuit)
        self._circuits.append(circuit)
        log.info("Circuit %d built: %s", circuit.global_id,
                 ",".join(f"${r.fingerprint}~{r.nickname}" for r in path))
        return circuit

    def close_all(self) -> None:
        """Destroy every circuit."""
        for circuit in self.circuits:
            circuit.close("shutting down")


def _ip_or_none(address: str | None) -> str | None:
    if address is None:
        return None
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None
    return address


def _reason(reason: int) -> str:
    try:
        return EndReason(reason).name
    except ValueError:
        return str(reason)
