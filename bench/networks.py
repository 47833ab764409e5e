"""The bench network: a real tor authority with a real tor relay set and a Zwiebel one.

Built on zwiebel.testnet: RealTorNetwork (1 authority auth0, middles relay0 and
relay1, exit exit0, a real tor client) plus three Zwiebel relays in the network's
external slots 0..2 (zguard, zmiddle, zexit; zexit voted Exit by the authority) and
a Zwiebel client on the spare ports. Clients are pinned to their relays with
EntryNodes/MiddleNodes/ExitNodes and StrictNodes 1 (Zwiebel client, tor.1.txt);
the real tor client's streams are attached by controller (bench.attach), one
circuit per stream, so no conflux either.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from bench import circuits
from bench.attach import StreamAttacher
from bench.measure import Target
from zwiebel.testnet.realtor import RealTorNetwork
from zwiebel.testnet.zwiebelproc import ZwiebelProcess

ROLES = ("guard", "middle", "exit")
TOR_RELAYS = {"guard": "relay0", "middle": "relay1", "exit": "exit0"}
ZWIEBEL_RELAYS = {"guard": "zguard", "middle": "zmiddle", "exit": "zexit"}
IDENTITY = r"identity key fingerprint is '\S+ ([0-9A-F]{40})'"
LISTED_TIMEOUT = 120.0
#: Options of the harness's relay lines that Zwiebel rejects (no resolver of its own).
UNSUPPORTED = ("ServerDNS",)
COMMON_CLIENT = ("TestingTorNetwork 1", "UseMicrodescriptors 0", "LearnCircuitBuildTimeout 0",
                 "CircuitBuildTimeout 20", "StrictNodes 1")


def _read_pid(proc: ZwiebelProcess, path: Path, timeout: float = 30.0) -> int:
    """The PID Zwiebel writes to its PidFile; OSError with the log tail if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.returncode is None:
        text = path.read_text().strip() if path.exists() else ""
        if text:
            return int(text)
        time.sleep(0.1)
    tail = "\n".join(proc.lines[-20:])
    raise OSError(f"no pid in {path} (exit status {proc.returncode}); log tail:\n{tail}")


def pin_lines(path: Sequence[str]) -> list[tuple[str, str]]:
    """EntryNodes/MiddleNodes/ExitNodes for a (guard, middle, exit) fingerprint path."""
    return [("EntryNodes", "$" + path[0]), ("MiddleNodes", "$" + path[1]),
            ("ExitNodes", "$" + path[2])]


class BenchNetwork:
    """Starts and stops everything the bench measures; hands out Targets."""

    def __init__(self, work_dir: Path, base_port: int,
                 progress: Callable[[str], None]) -> None:
        self.work_dir = work_dir
        self.progress = progress
        self.net = RealTorNetwork(work_dir / "net", base_port, authorities=1, middles=2,
                                  exits=1, progress=lambda line: progress("tor network " + line))
        self.relays: dict[str, ZwiebelProcess] = {}
        self.relay_pids: dict[str, int] = {}
        self.fingerprints: dict[str, str] = {}
        self.client: ZwiebelProcess | None = None
        self.client_pid = 0
        self.timings: dict[str, float] = {}

    def __enter__(self) -> BenchNetwork:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        """Real network, then Zwiebel relays (listed with their flags), then Zwiebel client."""
        t0 = time.monotonic()
        self.net.start()
        self.timings["tor_network_s"] = round(time.monotonic() - t0, 2)
        for node in self.net.relays:
            self.fingerprints[node.nickname] = node.fingerprint
        t1 = time.monotonic()
        self._start_zwiebel_relays()
        self.timings["zwiebel_relays_s"] = round(time.monotonic() - t1, 2)
        t2 = time.monotonic()
        self._start_zwiebel_client()
        self.timings["zwiebel_client_s"] = round(time.monotonic() - t2, 2)

    def stop(self) -> None:
        """Stop the Zwiebel client and relays, then the real network."""
        if self.client is not None:
            self.client.stop()
        for relay in self.relays.values():
            relay.stop()
        self.net.stop()

    def _start_zwiebel_relays(self) -> None:
        for index, role in enumerate(ROLES):
            name = ZWIEBEL_RELAYS[role]
            slot = self.net.external_slot(index, name, exit_relay=role == "exit")
            data = self.work_dir / name / "data"
            data.parent.mkdir(parents=True)
            pid_file = data.parent / "pid"
            ours = [x for x in slot.torrc_lines if not x.startswith(UNSUPPORTED)]
            lines = [*ours, f"PidFile {pid_file}", "UseMicrodescriptors 0",
                     "ContactInfo Zwiebel bench <nobody@example.invalid>"]
            relay = ZwiebelProcess(data, lines, log_level="notice")
            self.relays[name] = relay
            relay.start()
            self.relay_pids[name] = _read_pid(relay, pid_file)
        for role in ROLES:
            name = ZWIEBEL_RELAYS[role]
            fingerprint = self.relays[name].wait_for(IDENTITY, LISTED_TIMEOUT).group(1)
            self.fingerprints[name] = fingerprint
            if role == "exit":
                self.net.vote_exit(fingerprint)
        for role in ROLES:
            flags = ("Running", "Valid", "Guard") + (("Exit",) if role == "exit" else ())
            self.net.wait_for_relay(self.fingerprints[ZWIEBEL_RELAYS[role]], flags,
                                    LISTED_TIMEOUT)
        self.progress(f"zwiebel relays listed: {self.fingerprints}")

    def _start_zwiebel_client(self) -> None:
        socks, control = self.net.spare_port(0), self.net.spare_port(1)
        data = self.work_dir / "zclient" / "data"
        data.parent.mkdir(parents=True)
        pid_file = data.parent / "pid"
        pins = [f"{key} {value}" for key, value in pin_lines(self.path(ZWIEBEL_RELAYS))]
        lines = [*COMMON_CLIENT, f"SocksPort 127.0.0.1:{socks}",
                 f"ControlPort 127.0.0.1:{control}", "CookieAuthentication 1",
                 f"PidFile {pid_file}", *self.net.dir_authority_lines, *pins]
        self.client = ZwiebelProcess(data, lines, log_level="notice", socks_port=socks)
        self.client.start()
        self.client_pid = _read_pid(self.client, pid_file)
        self.client.wait_for(r"Bootstrapped 100%", LISTED_TIMEOUT)
        self.progress("zwiebel client bootstrapped")

    def path(self, relays: Mapping[str, str]) -> tuple[str, ...]:
        """Fingerprints (guard, middle, exit) of a relay set."""
        return tuple(self.fingerprints[relays[role]] for role in ROLES)

    def tor_attacher(self) -> StreamAttacher:
        """Attaches the real tor client's streams to relay0 -> relay1 -> exit0."""
        client = self.net.client
        assert client is not None
        return StreamAttacher(client.control_port, client.cookie_path, self.path(TOR_RELAYS))

    def tor_target(self) -> Target:
        """All real tor: relay0 -> relay1 -> exit0, real tor client (use with tor_attacher)."""
        client = self.net.client
        assert client is not None and client.pid is not None
        pids = {role: self.net.node(name).pid or 0 for role, name in TOR_RELAYS.items()}
        return Target("tor", client.socks_port, tuple(TOR_RELAYS[r] for r in ROLES),
                      {**pids, "client": client.pid},
                      circuits.builder(client.control_port, client.cookie_path,
                                       self.path(TOR_RELAYS)),
                      "EXTENDCIRCUIT 0 path until CIRC BUILT")

    def zwiebel_target(self) -> Target:
        """All Zwiebel: zguard -> zmiddle -> zexit, Zwiebel client."""
        assert self.client is not None
        pids = {role: self.relay_pids[name] for role, name in ZWIEBEL_RELAYS.items()}
        cookie = self.client.data_dir / "control_auth_cookie"
        return Target("zwiebel", self.client.socks_port,
                      tuple(ZWIEBEL_RELAYS[r] for r in ROLES),
                      {**pids, "client": self.client_pid},
                      circuits.observer(self.net.spare_port(1), cookie),
                      "CIRC LAUNCHED until BUILT of a build the client starts itself")
