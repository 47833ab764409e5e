"""RealTorNetwork: a private Tor network of real tor processes on 127.0.0.1.

Used by the interop tests (tests/interop) and by ``zwiebel testnet``. Ports follow
zwiebel.testnet.layout (everything in base_port .. base_port+199); the torrc
choices are explained in zwiebel.testnet.torrc.

``start()`` runs in phases, each a bounded poll (zwiebel.testnet.ready) under one
overall deadline, and records how long each took in ``timings``:

1. ``prepare``: stop leftovers recorded in ``BASE/pids``, wait for the ports to
   be free, tor-gencert for the authorities, ``tor --list-fingerprint`` for every
   relay (fresh DataDirectory), write the torrc files;
2. ``consensus``: authorities and relays started; every authority's DirPort
   serves a consensus listing every relay Running and Valid, exits with Exit;
3. ``directory``: every relay's control port shows that consensus plus all
   server descriptors and microdescriptors, so that a client asking any of them
   gets complete information at once. A relay found behind is nudged with
   ``SIGNAL RELOAD`` (resets tor's download back-off; see ready.Nudger), which
   turns a 10-40 s lag into a few seconds;
4. ``client`` (if a real tor client runs): started only now; waits for
   bootstrap PROGRESS=100 and a complete directory on its control port.

``stop()`` signals exactly the PIDs this object started. Unless disabled, every
tor also gets ``__OwningControllerProcess`` = this process, so tor exits by
itself if the test runner dies without stopping it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from zwiebel.testnet import keys, layout, ready
from zwiebel.testnet.layout import HOST, ExitPolicyMode, Role
from zwiebel.testnet.nodes import TorNode
from zwiebel.testnet.procs import TorProcess, stop_recorded, write_pids
from zwiebel.testnet.ready import NetworkError
from zwiebel.testnet.torrc import (
    Timing,
    TorrcContext,
    exit_vote_line,
    external_relay_lines,
    render_torrc,
)
from zwiebel.testnet.view import NetworkView

DEFAULT_TIMING = Timing()


@dataclass(frozen=True)
class ExternalRelaySlot:
    """Ports and torrc lines for a relay of our own joining the network."""

    index: int
    or_port: int
    dir_port: int
    control_port: int
    torrc_lines: tuple[str, ...]


class RealTorNetwork(NetworkView):
    """Authorities, middles, exits and optionally a client, all real tor.

    ``progress`` (optional) receives one line per finished phase.
    """

    def __init__(self, base_dir: Path | str, base_port: int, *, authorities: int = 1,
                 middles: int = 3, exits: int = 1,
                 exit_policy: ExitPolicyMode | str = ExitPolicyMode.LOOPBACK,
                 with_client: bool = True, tor: str = "tor", gencert: str = "tor-gencert",
                 log_level: str = "notice", timing: Timing = DEFAULT_TIMING,
                 extra_torrc: Sequence[str] = (), timeout: float = 240.0,
                 tie_to_owner: bool = True,
                 progress: Callable[[str], None] | None = None,
                 dns_port: int | None = None) -> None:
        root = Path(base_dir).resolve()
        specs = layout.plan_nodes(base_port, authorities, middles, exits, with_client)
        super().__init__(root, base_port, ExitPolicyMode(exit_policy),
                         {s.name: TorNode(s, root / s.name) for s in specs})
        self.timeout = timeout
        self._binaries = (tor, gencert)
        self._settings = (log_level, timing, tuple(extra_torrc), tie_to_owner)
        self._progress = progress or (lambda line: None)
        self._ctx: TorrcContext | None = None
        self._up: set[str] = set()
        self._nameserver = f"127.0.0.1:{dns_port}" if dns_port else "127.0.0.1"

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> RealTorNetwork:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        """Create keys and torrcs, start every tor and wait until all is ready.

        Raises NetworkError (with log tails) or keys.TorToolError; in both cases
        every process started so far has been stopped again.
        """
        t0 = time.monotonic()
        deadline = t0 + self.timeout
        try:
            self._prepare()
            self._phase_done("prepare", t0)
            self._start_relays(deadline)
            if self.client is not None:
                self._start_client(deadline)
        except BaseException as exc:
            report = self.failure_report()
            self.stop()
            if isinstance(exc, NetworkError):
                raise NetworkError(f"{exc}\n{report}") from exc
            raise
        self.write_json(self.base_dir / "network.json")

    def stop(self) -> None:
        """Stop every tor this object started: SIGTERM to all, bounded wait, SIGKILL."""
        self._up.clear()
        procs = [n.process for n in self.nodes.values() if n.process is not None]
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.finish()

    def _phase_done(self, phase: str, t0: float) -> None:
        self.timings[phase] = round(time.monotonic() - t0, 2)
        self._progress(f"{phase}: {self.timings[phase]}s")

    def _prepare(self) -> None:
        tor = keys.find_binary(self._binaries[0])
        gencert = keys.find_binary(self._binaries[1])
        self._binaries = (tor, gencert)
        self.tor_version = keys.tor_version(tor)
        keys.make_private_dir(self.base_dir)
        stop_recorded(self.base_dir / "pids")
        self._wait_ports_free()
        defaults = self.base_dir / "torrc-defaults"
        defaults.touch()
        (self.base_dir / "resolv.conf").write_text(f"nameserver {self._nameserver}\n")
        for node in self.relays:
            self._make_keys(node, tor, gencert, defaults)
        self._ctx = self._torrc_context()
        for node in self.nodes.values():
            keys.make_private_dir(node.data_dir)
            node.torrc_path.write_text(self._torrc_for(node))
            node.process = TorProcess(tor, node.torrc_path, defaults, node.data_dir)

    def _make_keys(self, node: TorNode, tor: str, gencert: str, defaults: Path) -> None:
        if node.role is Role.AUTHORITY:
            auth = keys.generate_authority_keys(gencert, node.data_dir, node.dir_port)
            node.v3ident, node.authority_certificate = auth.v3ident, auth.certificate
        ids = keys.generate_relay_keys(tor, node.data_dir, node.nickname, node.or_port, defaults)
        node.fingerprint, node.ed25519 = ids.fingerprint, ids.ed25519

    def _torrc_context(self) -> TorrcContext:
        log_level, timing, extra, tie = self._settings
        return TorrcContext(self.dir_authority_lines, self.exit_policy,
                            self.base_dir / "resolv.conf", log_level, timing,
                            os.getpid() if tie else None, extra)

    def _torrc_for(self, node: TorNode) -> str:
        assert self._ctx is not None
        return render_torrc(node.spec, node.data_dir, self._ctx, self.exit_fingerprints())

    def _wait_ports_free(self) -> None:
        ready.wait_ports_free(HOST, (p for n in self.nodes.values() for p in n.spec.ports()))

    def _launch(self, nodes: Iterable[TorNode]) -> None:
        for node in nodes:
            assert node.process is not None
            node.process.start()
            self._up.add(node.nickname)
        records: dict[str, tuple[int, Path]] = {}
        for node in self.nodes.values():
            if node.pid is not None and node.running:
                records[node.nickname] = (node.pid, node.torrc_path)
        write_pids(self.base_dir / "pids", records)

    def _health(self) -> None:
        """NetworkError if a tor that should be running (not stopped on purpose) died."""
        dead = [self.nodes[name] for name in sorted(self._up) if not self.nodes[name].running]
        if dead:
            raise NetworkError("tor exited unexpectedly: " + ", ".join(
                f"{n.nickname} (pid {n.pid}, status {n.process and n.process.exit_code()})"
                for n in dead))

    def _start_relays(self, deadline: float) -> None:
        t0 = time.monotonic()
        self._launch(self.relays)
        wanted = self.wanted_flags()
        checks = [self._dirport_check(a.dir_port, wanted) for a in self.authorities]
        ready.wait_for(ready.all_of(*checks), deadline, "a consensus listing every relay",
                       self._health)
        self._phase_done("consensus", t0)
        t1 = time.monotonic()
        checks = [self._directory_check(n, need_descs=True, need_mds=True)
                  for n in self.relays]
        ready.wait_for(ready.all_of(*checks), deadline,
                       "every relay to hold the consensus and all descriptors", self._health)
        self._phase_done("directory", t1)

    def _start_client(self, deadline: float) -> None:
        client = self.client
        assert client is not None
        t0 = time.monotonic()
        self._launch([client])
        loopback = self.exit_policy is ExitPolicyMode.LOOPBACK
        condition = ready.all_of(
            lambda: ready.client_bootstrapped(client.control_port, client.cookie_path),
            self._directory_check(client, need_descs=loopback, need_mds=not loopback))
        ready.wait_for(condition, deadline, "the tor client to bootstrap", self._health)
        self._phase_done("client", t0)

    def _dirport_check(self, dir_port: int,
                       wanted: Mapping[str, frozenset[str]]) -> ready.Condition:
        return lambda: ready.authority_has_consensus(dir_port, wanted)

    def _directory_check(self, node: TorNode, need_descs: bool,
                         need_mds: bool) -> ready.Condition:
        """Complete directory on ``node``; nudges it (SIGNAL RELOAD) while behind."""
        wanted = self.wanted_flags()
        nudger = ready.Nudger(node.control_port, node.cookie_path)

        def check() -> str | None:
            missing = ready.node_directory_complete(
                node.control_port, node.cookie_path, wanted, need_descs, need_mds)
            if missing is not None and node.role is not Role.AUTHORITY:
                nudger.behind()
                self.nudges[node.nickname] = nudger.count
            return missing

        return check

    # -- single nodes --------------------------------------------------------

    def stop_node(self, name: str) -> None:
        """Stop one node gracefully (SIGTERM, bounded wait, SIGKILL)."""
        self._up.discard(name)
        process = self.nodes[name].process
        if process is not None:
            process.stop()

    def kill_node(self, name: str) -> None:
        """SIGKILL one node at once, as a crash (e.g. a middle relay mid-download)."""
        self._up.discard(name)
        process = self.nodes[name].process
        if process is not None:
            process.kill()

    def start_node(self, name: str, wait: float = 90.0) -> float:
        """(Re)start one stopped node with its keys and torrc and wait (at most
        ``wait`` s) until it reports bootstrap PROGRESS=100; return the seconds."""
        node = self.nodes[name]
        if node.process is None:
            raise NetworkError("start() the network before starting single nodes")
        node.cookie_path.unlink(missing_ok=True)
        self._launch([node])
        return ready.wait_for(
            lambda: ready.client_bootstrapped(node.control_port, node.cookie_path),
            time.monotonic() + wait, f"{name} to bootstrap", self._health)

    # -- consensus and relays of our own -------------------------------------

    def wait_for_relay(self, fingerprint: str,
                       flags: Iterable[str] = ("Running", "Valid"),
                       timeout: float = 90.0) -> float:
        """Wait until every authority's consensus lists ``fingerprint`` with ``flags``,
        and every relay of the network holds such a consensus (a tor exit refuses
        streams arriving from a relay missing from its own consensus: "open a stream
        from unknown relay"); return the seconds waited."""
        wanted = {fingerprint.upper(): frozenset(flags)}
        checks = [self._dirport_check(a.dir_port, wanted) for a in self.authorities]
        checks += [self._relay_knows(node, wanted) for node in self.middles + self.exits]
        return ready.wait_for(ready.all_of(*checks), time.monotonic() + timeout,
                              f"relay {fingerprint} in the consensus", self._health)

    def _relay_knows(self, node: TorNode,
                     wanted: Mapping[str, frozenset[str]]) -> ready.Condition:
        """``node``'s consensus lists ``wanted``; nudges it while it is behind."""
        nudger = ready.Nudger(node.control_port, node.cookie_path)

        def check() -> str | None:
            missing = ready.node_directory_complete(node.control_port, node.cookie_path,
                                                    wanted, False, False)
            if missing is not None:
                nudger.behind()
            return missing

        return check

    def external_slot(self, index: int, nickname: str,
                      exit_relay: bool = False) -> ExternalRelaySlot:
        """Ports (slot 0..4, see layout) and torrc lines for a relay of our own.

        For an exit, also call ``vote_exit(fingerprint)`` once its keys exist.
        """
        assert self._ctx is not None, "start() the network first"
        slot = layout.external_slot(self.base_port, index)
        lines = external_relay_lines(self._ctx, nickname, slot.or_port, exit_relay)
        return ExternalRelaySlot(index, slot.or_port, slot.dir_port, slot.control_port,
                                 tuple(lines))

    def vote_exit(self, fingerprint: str) -> list[str]:
        """Make every authority vote Exit for ``fingerprint`` from the next consensus on:
        SETCONF TestingDirAuthVoteExit on each authority's control port, and the
        authorities' torrc files rewritten so a ``start_node`` restart keeps it.
        Returns the fingerprints now voted Exit."""
        fingerprint = fingerprint.upper().lstrip("$")
        if fingerprint not in self.extra_exits:
            self.extra_exits.append(fingerprint)
        value = exit_vote_line(self.exit_fingerprints())
        for auth in self.authorities:
            auth.torrc_path.write_text(self._torrc_for(auth))
            with self.control(auth.nickname) as ctl:
                ctl.setconf([("TestingDirAuthVoteExit", value)])
        return self.exit_fingerprints()
