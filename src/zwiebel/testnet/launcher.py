"""``zwiebel testnet up``: start a private network of Zwiebel and/or real tor nodes.

Every node gets the same torrc text whichever implementation runs it
(zwiebel.testnet.torrc with ``portable`` set; real tor's extra lines go to its
``--defaults-torrc``), and the command is ``python -m zwiebel -f TORRC`` or
``tor -f TORRC`` (zwiebel.testnet.impls). The processes run detached in sessions
of their own, so the network outlives the ``up`` command; PIDs go to
``DIR/pids.json`` and everything else to ``DIR/network.json`` (netfile).

Phases, each a bounded poll under one overall deadline (zwiebel.testnet.ready),
drawn on a progress bar (zwiebel.testnet.progress):

1. ``keys``: leftovers of an earlier run stopped, ports free, authority v3 keys and
   relay identity keys, torrc files;
2. ``authorities``: every node started; each authority's DirPort accepts connections;
3. ``consensus``: every authority serves a consensus listing every relay Running
   and Valid, exits also Exit;
4. ``clients``: the clients started; each reports bootstrap PROGRESS=100 on its
   control port (real tor clients are nudged with SIGNAL RELOAD while behind).

On failure every process started is stopped again and NetworkError carries the
log tails.

The exits' policy is OPEN (``accept *:*``) by default. With the LOOPBACK policy
(``accept 127.0.0.0/8:*``) a real tor client finds no exit for a destination such
as 127.0.0.2 given by name in SOCKS5: connection_ap_can_use_exit compares an
unresolved address as "any address", which that policy probably rejects; only
streams to a relay's own address (127.0.0.1, the "exit enclave") get through.
Clients only ever connect where they are told, so an open policy is harmless on
loopback.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from zwiebel.testnet import keys, layout, netfile, ready
from zwiebel.testnet.dirpoll import fetch_consensus_entries, missing_relays
from zwiebel.testnet.impls import Impl, authority_keys, base_command, choose_impls, find_gencert
from zwiebel.testnet.layout import HOST, ExitPolicyMode, Role
from zwiebel.testnet.nodes import TorNode
from zwiebel.testnet.procs import TorProcess, stop_pids
from zwiebel.testnet.progress import ProgressBar
from zwiebel.testnet.ready import NetworkError
from zwiebel.testnet.torcontrol import ControlError
from zwiebel.testnet.torrc import (
    Timing,
    TorrcContext,
    dir_authority_line,
    render_torrc,
    tor_only_lines,
)
from zwiebel.testnet.view import RUNNING, RUNNING_EXIT

ZWIEBEL_DEFAULTS = "torrc-defaults"
TOR_DEFAULTS = "torrc-defaults-tor"


@dataclass(frozen=True)
class LaunchOptions:
    """The shape of the network and how to run it (see ``zwiebel testnet up --help``)."""

    base_dir: Path
    base_port: int = 24000
    authorities: int = 3
    relays: int = 3
    exits: int = 1
    clients: int = 1
    real_tor: frozenset[Role] = field(default_factory=frozenset)
    mixed: bool = False
    timeout: float = 300.0
    tor: str = "tor"
    gencert: str = "tor-gencert"
    timing: Timing = Timing()
    log_level: str = "notice"
    exit_policy: ExitPolicyMode = ExitPolicyMode.OPEN


class Launcher:
    """Brings one network up; ``up()`` returns its record with the processes running."""

    def __init__(self, opts: LaunchOptions, bar: ProgressBar | None = None) -> None:
        self.opts = opts
        self.base_dir = opts.base_dir.resolve()
        specs = layout.plan_launch(opts.base_port, opts.authorities, opts.relays, opts.exits,
                                   opts.clients)
        self.impls = choose_impls(specs, opts.real_tor, opts.mixed)
        self.nodes = {s.name: TorNode(s, self.base_dir / s.name) for s in specs}
        self.keys_by: dict[str, str] = {}
        self.timings: dict[str, float] = {}
        self._bar = bar or ProgressBar()
        self._tor = opts.tor

    # -- the whole start ------------------------------------------------------

    def up(self) -> netfile.NetworkRecord:
        """Start the network and wait until it is ready (NetworkError, TorToolError)."""
        deadline = time.monotonic() + self.opts.timeout
        try:
            self._timed("keys", self._prepare)
            self._timed("authorities", lambda: self._start_relays(deadline))
            self._timed("consensus", lambda: self._wait_consensus(deadline))
            self._timed("directory", lambda: self._wait_directories(deadline))
            self._timed("clients", lambda: self._start_clients(deadline))
        except BaseException as exc:
            report = self.failure_report()
            self.stop()
            if isinstance(exc, NetworkError):
                raise NetworkError(f"{exc}\n{report}") from exc
            raise
        record = self.record()
        netfile.write_network(self.base_dir, record)
        return record

    def _timed(self, phase: str, step: Callable[[], None]) -> None:
        t0 = time.monotonic()
        step()
        self.timings[phase] = round(time.monotonic() - t0, 2)

    def stop(self) -> None:
        """Stop every process this launcher started (SIGTERM, bounded wait, SIGKILL)."""
        procs = [n.process for n in self.nodes.values() if n.process is not None]
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.finish()
        (self.base_dir / netfile.PIDS_FILE).unlink(missing_ok=True)

    # -- phase 1: keys and torrc files ---------------------------------------------

    def _prepare(self) -> None:
        if Impl.TOR in self.impls.values():
            self._tor = keys.find_binary(self.opts.tor)
        keys.make_private_dir(self.base_dir)
        stop_pids(netfile.read_pids(self.base_dir))
        self._wait_ports_free()
        defaults = self.base_dir / ZWIEBEL_DEFAULTS
        defaults.write_text("")
        gencert = find_gencert(self.opts.gencert)
        relays = [n for n in self.nodes.values() if n.spec.is_relay]
        for done, node in enumerate(relays):
            self._bar.update("keys", done / len(relays), f"{node.nickname} ({self._impl(node)})")
            self._make_keys(node, gencert, defaults)
        self._bar.update("keys", 1.0, f"{len(relays)} relays")
        self.write_torrcs()

    def _impl(self, node: TorNode) -> str:
        return self.impls[node.nickname].value

    def _make_keys(self, node: TorNode, gencert: str | None, defaults: Path) -> None:
        impl = self.impls[node.nickname]
        if node.role is Role.AUTHORITY:
            auth, self.keys_by[node.nickname] = authority_keys(impl, node.data_dir,
                                                              node.dir_port, gencert)
            node.v3ident, node.authority_certificate = auth.v3ident, auth.certificate
        command = base_command(impl, self._tor)
        ids = keys.generate_relay_keys(command, node.data_dir, node.nickname, node.or_port,
                                       defaults)
        node.fingerprint, node.ed25519 = ids.fingerprint, ids.ed25519

    @property
    def dir_authority_lines(self) -> tuple[str, ...]:
        """The network's DirAuthority lines."""
        return tuple(dir_authority_line(a.nickname, a.or_port, a.v3ident, a.dir_port,
                                        a.fingerprint) for a in self._role(Role.AUTHORITY))

    def _role(self, *roles: Role) -> list[TorNode]:
        return [n for n in self.nodes.values() if n.role in roles]

    def write_torrcs(self) -> None:
        """Write every node's torrc (the same text for either implementation), the
        defaults files (empty for Zwiebel; real tor's extra lines for tor) and the
        exits' resolv.conf, and set up each node's process. Identities must be known."""
        keys.make_private_dir(self.base_dir)
        resolv = self.base_dir / "resolv.conf"
        resolv.write_text("nameserver 127.0.0.1\n")
        defaults = self.base_dir / ZWIEBEL_DEFAULTS
        defaults.write_text("")
        tor_defaults = self.base_dir / TOR_DEFAULTS
        tor_defaults.write_text("\n".join(tor_only_lines(resolv)) + "\n")
        ctx = TorrcContext(self.dir_authority_lines, self.opts.exit_policy, resolv,
                           self.opts.log_level, self.opts.timing, None, (), portable=True)
        exit_fps = [n.fingerprint for n in self._role(Role.EXIT)]
        for node in self.nodes.values():
            keys.make_private_dir(node.data_dir)
            node.torrc_path.write_text(render_torrc(node.spec, node.data_dir, ctx, exit_fps))
            impl = self.impls[node.nickname]
            node.process = TorProcess(base_command(impl, self._tor), node.torrc_path,
                                      tor_defaults if impl is Impl.TOR else defaults,
                                      node.data_dir)

    def _wait_ports_free(self) -> None:
        ready.wait_ports_free(HOST, (p for n in self.nodes.values() for p in n.spec.ports()))

    # -- phases 2-5: processes and readiness --------------------------------------

    def _launch(self, nodes: list[TorNode]) -> None:
        for node in nodes:
            assert node.process is not None
            node.cookie_path.unlink(missing_ok=True)
            node.process.start()
        pids = {n.nickname: (n.pid, n.torrc_path) for n in self.nodes.values()
                if n.pid is not None}
        netfile.write_pids(self.base_dir, pids)

    def _health(self) -> None:
        dead = [n for n in self.nodes.values() if n.pid is not None and not n.running]
        if dead:
            raise NetworkError("exited unexpectedly: " + ", ".join(
                f"{n.nickname} ({self._impl(n)}, pid {n.pid}, status "
                f"{n.process and n.process.exit_code()})" for n in dead))

    def _start_relays(self, deadline: float) -> None:
        self._launch(self._role(Role.AUTHORITY, Role.MIDDLE, Role.EXIT))
        auths = self._role(Role.AUTHORITY)

        def listening() -> str | None:
            up = [a for a in auths if _accepts(a.dir_port)]
            self._bar.update("authorities", len(up) / len(auths),
                             f"{len(up)}/{len(auths)} DirPorts open")
            return None if len(up) == len(auths) else "authority DirPorts not open yet"

        ready.wait_for(listening, deadline, "the authorities' DirPorts", self._health)

    def wanted_flags(self) -> dict[str, frozenset[str]]:
        """Fingerprint -> flags each relay must have in the consensus."""
        return {n.fingerprint: RUNNING_EXIT if n.role is Role.EXIT else RUNNING
                for n in self._role(Role.AUTHORITY, Role.MIDDLE, Role.EXIT)}

    def _wait_consensus(self, deadline: float) -> None:
        wanted = self.wanted_flags()

        def listed() -> str | None:
            worst, notes = len(wanted), []
            for auth in self._role(Role.AUTHORITY):
                entries = fetch_consensus_entries(auth.dir_port)
                missing = list(wanted) if entries is None else missing_relays(entries, wanted)
                worst = min(worst, len(wanted) - len(missing))
                if entries is None or missing:
                    notes.append(f"{auth.nickname}: " + ("no consensus yet" if entries is None
                                                         else f"lacks {missing}"))
            self._bar.update("consensus", worst / len(wanted),
                             f"{worst}/{len(wanted)} relays listed")
            return "; ".join(notes) or None

        ready.wait_for(listed, deadline, "a consensus listing every relay", self._health)

    def _wait_directories(self, deadline: float) -> None:
        """Every real tor relay holds that consensus and every microdescriptor: a tor
        exit refuses streams from relays missing from its consensus ("open a stream
        from unknown relay"), and tor fetches slowly after early 404s, so a relay
        found behind is nudged with SIGNAL RELOAD (ready.Nudger)."""
        wanted = self.wanted_flags()
        relays = [n for n in self._role(Role.MIDDLE, Role.EXIT)
                  if self.impls[n.nickname] is Impl.TOR]
        nudgers = {n.nickname: ready.Nudger(n.control_port, n.cookie_path) for n in relays}

        def complete() -> str | None:
            behind = []
            for node in relays:
                missing = ready.node_directory_complete(
                    node.control_port, node.cookie_path, wanted, False, True)
                if missing is not None:
                    nudgers[node.nickname].behind()
                    behind.append(f"{node.nickname}: {missing}")
            done = len(relays) - len(behind)
            self._bar.update("directory", done / len(relays) if relays else 1.0,
                             f"{done}/{len(relays)} tor relays hold the directory")
            return "; ".join(behind) or None

        ready.wait_for(complete, deadline, "every tor relay to hold the directory",
                       self._health)

    def _start_clients(self, deadline: float) -> None:
        clients = self._role(Role.CLIENT)
        if not clients:
            self._bar.update("clients", 1.0, "no clients")
            return
        self._launch(clients)
        nudgers = {c.nickname: ready.Nudger(c.control_port, c.cookie_path) for c in clients}

        def bootstrapped() -> str | None:
            states = [(c, _bootstrap(c)) for c in clients]
            slowest, (progress, summary) = min(states, key=lambda s: s[1][0])
            for client, (pct, _) in states:
                if pct < 100 and self.impls[client.nickname] is Impl.TOR:
                    nudgers[client.nickname].behind()
            self._bar.update("clients", progress / 100,
                             f"{slowest.nickname} {progress}% {summary}")
            return None if progress >= 100 else f"{slowest.nickname} at {progress}%: {summary}"

        ready.wait_for(bootstrapped, deadline, "every client to bootstrap", self._health)

    # -- results ------------------------------------------------------------------

    def record(self) -> netfile.NetworkRecord:
        """The network as network.json describes it."""
        nodes = tuple(self._node_record(n) for n in self.nodes.values())
        return netfile.NetworkRecord(str(self.base_dir), self.opts.base_port,
                                     self.dir_authority_lines, nodes, dict(self.timings))

    def _node_record(self, node: TorNode) -> netfile.NodeRecord:
        spec = node.spec
        argv = tuple(node.process.argv) if node.process is not None else ()
        return netfile.NodeRecord(
            node.nickname, self._impl(node), spec.role.value, spec.or_port, spec.dir_port,
            spec.socks_port, spec.control_port, node.fingerprint, node.ed25519, node.v3ident,
            self.keys_by.get(node.nickname, ""), str(node.data_dir), str(node.torrc_path),
            str(node.log_path), argv, node.pid)

    def failure_report(self, lines: int = 12) -> str:
        """The last log lines of every node, for error messages."""
        return "\n".join(f"--- {n.nickname} ({self._impl(n)}, pid {n.pid}, {n.log_path}):\n"
                         f"{n.log_tail(lines)}" for n in self.nodes.values()
                         if n.pid is not None)


def _accepts(port: int) -> bool:
    """True if something accepts TCP connections on 127.0.0.1:``port``."""
    try:
        socket.create_connection((HOST, port), timeout=1.0).close()
    except OSError:
        return False
    return True


def _bootstrap(node: TorNode) -> tuple[int, str]:
    """(progress, summary) from the node's control port; (0, reason) if unreadable."""
    try:
        progress, phase = ready.bootstrap_progress(node.control_port, node.cookie_path)
    except (OSError, ControlError):
        return 0, "starting (control port not answering yet)"
    summary = phase.split('SUMMARY="', 1)[-1].split('"', 1)[0] if "SUMMARY=" in phase else phase
    return progress, summary


def stop_network(base_dir: Path) -> list[str]:
    """``zwiebel testnet down``: stop exactly the recorded PIDs (SIGTERM, bounded wait,
    SIGKILL), remove pids.json, keep logs and network.json; the names that ran."""
    records = netfile.read_pids(base_dir)
    if not records and (base_dir / netfile.NETWORK_FILE).exists():
        records = {n.name: (n.pid, Path(n.torrc)) for n in netfile.read_network(base_dir).nodes
                   if n.pid is not None}
    stopped = stop_pids(records)
    (base_dir / netfile.PIDS_FILE).unlink(missing_ok=True)
    return stopped
