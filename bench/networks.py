"""The three benchmark networks, each started with zwiebel.testnet's Launcher.

Every network has the same shape (1 authority, 3 middles, 1 exit, 1 client) and
its own 100 ports (``base + 100 * index``; the layout uses base .. base+62). Which
program runs each node:

=========  ==========================================================================
network    nodes
=========  ==========================================================================
tor        all real tor
zwiebel    all Zwiebel (its own directory authority)
mixed      authority, relay1 and the client real tor; relay0, relay2 and the exit
           Zwiebel, so every circuit crosses both implementations
=========  ==========================================================================

The mixed assignment is set here rather than by ``LaunchOptions.mixed``: that
alternation starts each role with tor, which in this shape makes the only exit
and the only client real tor and leaves most circuits all-tor.

Real tor gets ``ConfluxEnabled 0`` (in its defaults torrc, so the shared torrc
text stays the same): a tor 0.4.9 client would otherwise carry a fresh stream on
a conflux pair of two circuits, doubling its bulk figure (see
shared/notes/baseline-real-tor.md) while the issue asks for one circuit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from zwiebel.testnet.impls import Impl
from zwiebel.testnet.launcher import TOR_DEFAULTS, Launcher, LaunchOptions
from zwiebel.testnet.netfile import NetworkRecord, NodeRecord
from zwiebel.testnet.progress import ProgressBar

NAMES = ("tor", "zwiebel", "mixed")
PORTS_PER_NETWORK = 100
TOR_EXTRA_LINES = ("ConfluxEnabled 0",)
MIXED_ZWIEBEL = frozenset({"relay0", "relay2", "exit0"})
#: Relays whose path the circuit-build timer asks for: guard, middle, exit.
BUILD_PATH = ("relay0", "relay1", "exit0")
#: The relay the connection-capacity test loads.
LOAD_TARGET = "relay2"

Say = Callable[[str], None]


def impl_for(network: str, node: str) -> Impl:
    """Which program runs ``node`` in ``network`` (see the module docstring)."""
    if network == "tor":
        return Impl.TOR
    if network == "zwiebel":
        return Impl.ZWIEBEL
    return Impl.ZWIEBEL if node in MIXED_ZWIEBEL else Impl.TOR


class _PhaseBar(ProgressBar):
    """Tells ``say`` when a start-up phase begins instead of drawing a bar."""

    def __init__(self, name: str, say: Say) -> None:
        super().__init__(tty=False)
        self._name, self._say, self._phase = name, say, ""

    def update(self, phase: str, fraction: float, detail: str) -> None:
        if phase != self._phase:
            self._phase = phase
            self._say(f"{self._name}: starting, phase {phase}")

    def finish(self, text: str) -> None:
        self._say(f"{self._name}: {text}")


class BenchLauncher(Launcher):
    """A Launcher with the bench's implementation choice and tor-only lines."""

    def __init__(self, name: str, opts: LaunchOptions, say: Say) -> None:
        super().__init__(opts, _PhaseBar(name, say))
        self.impls = {node: impl_for(name, node) for node in self.nodes}

    def write_torrcs(self) -> None:
        """As Launcher, then add TOR_EXTRA_LINES to real tor's defaults torrc."""
        super().write_torrcs()
        with open(self.base_dir / TOR_DEFAULTS, "a", encoding="utf-8") as handle:
            handle.write("\n".join(TOR_EXTRA_LINES) + "\n")


@dataclass(frozen=True)
class Network:
    """One running benchmark network: its record and what the bench looks at."""

    name: str
    record: NetworkRecord

    @property
    def client(self) -> NodeRecord:
        """The network's only client."""
        return self.record.with_role("client")[0]

    @property
    def relays(self) -> list[NodeRecord]:
        """Every node in the consensus (authority, middles, exit)."""
        return self.record.with_role("authority", "middle", "exit")

    def pids(self) -> dict[str, int]:
        """Node name -> PID of every node (relays and client)."""
        return {n.name: n.pid for n in self.record.nodes if n.pid is not None}

    def relay_pids(self) -> dict[str, int]:
        """Node name -> PID of the relays only."""
        return {n.name: n.pid for n in self.relays if n.pid is not None}

    def impls(self) -> dict[str, str]:
        """Node name -> "tor" or "zwiebel"."""
        return {n.name: n.impl for n in self.record.nodes}

    def fingerprints(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """The RSA fingerprints of the named relays, in order."""
        return tuple(self.record.node(n).fingerprint for n in names)


class Networks:
    """Starts and stops the bench's networks; every process started is stopped again."""

    def __init__(self, work_dir: Path, base_port: int, timeout: float, say: Say) -> None:
        self._work_dir, self._base_port, self._timeout, self._say = (
            work_dir, base_port, timeout, say)
        self._launchers: dict[str, BenchLauncher] = {}
        self._lock = threading.Lock()
        self.timings: dict[str, dict[str, float]] = {}

    def launcher(self, name: str) -> BenchLauncher:
        """A (not yet started) launcher for network ``name``."""
        index = NAMES.index(name)
        opts = LaunchOptions(base_dir=self._work_dir / name,
                             base_port=self._base_port + PORTS_PER_NETWORK * index,
                             authorities=1, relays=3, exits=1, clients=1,
                             timeout=self._timeout)
        return BenchLauncher(name, opts, self._say)

    def start(self, name: str) -> Network:
        """Bring network ``name`` up (NetworkError and friends on failure)."""
        launcher = self.launcher(name)
        with self._lock:
            self._launchers[name] = launcher
        record = launcher.up()
        self.timings[name] = dict(launcher.timings)
        self._say(f"{name}: up in {sum(launcher.timings.values()):.1f}s {launcher.timings}")
        return Network(name, record)

    def start_all(self, names: tuple[str, ...]) -> dict[str, Network | BaseException]:
        """Bring several networks up at once, one thread each: name -> network or error."""
        out: dict[str, Network | BaseException] = {}

        def one(name: str) -> None:
            try:
                out[name] = self.start(name)
            except Exception as exc:  # noqa: BLE001 (reported per network)
                out[name] = exc

        threads = [threading.Thread(target=one, args=(n,), name=f"up-{n}") for n in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return {n: out[n] for n in names}

    def stop(self, name: str) -> None:
        """Stop every process of network ``name`` (if it was started)."""
        with self._lock:
            launcher = self._launchers.pop(name, None)
        if launcher is not None:
            launcher.stop()
            self._say(f"{name}: stopped")

    def stop_all(self) -> None:
        """Stop every network still running."""
        for name in list(self._launchers):
            self.stop(name)

    def __enter__(self) -> Networks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()


def log_tails(net: Network, lines: int = 8) -> Mapping[str, str]:
    """The last log lines of each node, for error reports."""
    out: dict[str, str] = {}
    for node in net.record.nodes:
        try:
            text = Path(node.log).read_text(errors="replace").splitlines()[-lines:]
        except OSError as exc:
            text = [str(exc)]
        out[node.name] = "\n".join(text)
    return out
