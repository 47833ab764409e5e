"""`zwiebel testnet demo`: a private network on loopback carries a real download.

The demo brings a network up with zwiebel.testnet.launcher (1 authority, 3 relays,
1 exit, 1 client; every node Zwiebel unless ``--real-tor``/``--mixed`` say
otherwise), serves a random file from 127.0.0.2, downloads it through the
client's SocksPort, and prints the circuit the stream used, the time to the first
byte and the throughput, then stops every process.

The file server is on 127.0.0.2, not 127.0.0.1, because every relay's address is
127.0.0.1 and tor sends a stream addressed to a relay's own address out through
that relay; 127.0.0.2 is covered by the exits' ``accept 127.0.0.0/8:*``. The
path comes from the client's control port: ``GETINFO stream-status`` while the
download runs names the circuit, ``GETINFO circuit-status`` its hops
(control-spec 4.1.1, 4.1.2).
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from zwiebel.testnet.fileserver import FileServer
from zwiebel.testnet.impls import choose_impls, role_name
from zwiebel.testnet.launcher import Launcher, LaunchOptions
from zwiebel.testnet.layout import Role, plan_launch
from zwiebel.testnet.netfile import NetworkRecord, NodeRecord
from zwiebel.testnet.progress import ProgressBar
from zwiebel.testnet.socksfetch import Fetched, fetch
from zwiebel.testnet.status import node_table
from zwiebel.testnet.torcontrol import ControlError, TorControl

Print = Callable[[str], None]
FILE_HOST = "127.0.0.2"
#: The demo's network: authorities, middle relays, exits, clients.
SHAPE = (1, 3, 1, 1)
ROLES = ("guard", "middle", "exit")


def describe_shape(opts: LaunchOptions) -> str:
    """``1 authority (tor), 3 relays (zwiebel), ...`` for the demo's header."""
    specs = plan_launch(opts.base_port, opts.authorities, opts.relays, opts.exits,
                        opts.clients)
    impls = choose_impls(specs, opts.real_tor, opts.mixed)
    parts = []
    for role in (Role.AUTHORITY, Role.MIDDLE, Role.EXIT, Role.CLIENT):
        names = [s.name for s in specs if s.role is role]
        kinds = sorted({impls[n].value for n in names})
        plural = "authorities" if role is Role.AUTHORITY and len(names) > 1 else (
            role_name(role) + ("s" if len(names) > 1 else ""))
        parts.append(f"{len(names)} {plural} ({'+'.join(kinds)})")
    return ", ".join(parts)


def run_demo(base_port: int, size_mb: int, say: Print = print,
             real_tor: frozenset[Role] = frozenset(), mixed: bool = False,
             keep: Path | None = None, timeout: float = 300.0) -> int:
    """Bring a network up, download ``size_mb`` MiB through its client, tear down;
    the exit status (0 if the download arrived intact)."""
    with tempfile.TemporaryDirectory(prefix="zwiebel-demo-") as tmp:
        root = keep or Path(tmp)
        opts = LaunchOptions(root / "net", base_port, *SHAPE, real_tor=real_tor, mixed=mixed,
                             timeout=timeout)
        say("Zwiebel demo: a private Tor network on 127.0.0.1")
        say(f"  nodes    {describe_shape(opts)}; ports {base_port}-{base_port + 199}")
        bar = ProgressBar()
        launcher = Launcher(opts, bar)
        try:
            record = launcher.up()
            bar.finish(f"up in {sum(record.timings.values()):.1f} s")
            for line in node_table(record):
                say("  " + line)
            with FileServer(root / "www", {"demo.bin": size_mb * 2**20}, FILE_HOST) as www:
                return _download(record, www, say)
        finally:
            launcher.stop()
            say("  teardown all processes stopped")


def _download(record: NetworkRecord, www: FileServer, say: Print) -> int:
    client = record.with_role("client")[0]
    result: list[Fetched | BaseException] = []

    def worker() -> None:
        try:
            result.append(fetch(client.socks_port, FILE_HOST, www.port, "/demo.bin"))
        except (OSError, ValueError) as exc:
            result.append(exc)

    thread = threading.Thread(target=worker, name="demo-download", daemon=True)
    thread.start()
    hops = watch_circuit(client, f"{FILE_HOST}:{www.port}", thread)
    thread.join()
    got = result[0]
    if isinstance(got, BaseException):
        say(f"  download failed: {got}")
        return 1
    served = www.files["demo.bin"]
    ok = got.status == 200 and got.sha256 == served.sha256 and got.size == served.size
    say(f"  path     {format_path(record, hops)}")
    rate = got.size / got.seconds / 1e6
    verdict = "sha256 matches" if ok else "MISMATCH"
    say(f"  download {got.size / 2**20:.1f} MiB in {got.seconds:.2f} s = {rate:.1f} MB/s "
        f"(first byte after {got.first_byte * 1000:.0f} ms), {verdict}")
    return 0 if ok else 1


def watch_circuit(client: NodeRecord, target: str, download: threading.Thread) -> list[str]:
    """The hops (``$FP~name`` or ``$FP``) of the circuit carrying the stream to
    ``target``, polled on the client's control port while ``download`` runs."""
    try:
        with TorControl.connect(client.control_port, client.cookie, timeout=5.0) as ctl:
            while download.is_alive():
                circuit = _stream_circuit(ctl.getinfo_one("stream-status"), target)
                if circuit is not None:
                    return circuit_hops(ctl.getinfo_one("circuit-status"), circuit)
                time.sleep(0.02)
    except (OSError, ControlError):
        return []
    return []


def _stream_circuit(stream_status: str, target: str) -> str | None:
    """The circuit id of a stream to ``target`` (lines: ID STATUS CIRCID TARGET)."""
    for line in stream_status.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[3] == target and parts[2] != "0":
            return parts[2]
    return None


def circuit_hops(circuit_status: str, circuit: str) -> list[str]:
    """The path of circuit ``circuit`` in GETINFO circuit-status (ID STATUS PATH ...)."""
    for line in circuit_status.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == circuit and parts[2].startswith("$"):
            return parts[2].split(",")
    return []


def format_path(record: NetworkRecord, hops: list[str]) -> str:
    """``relay1 (guard) -> relay0 (middle) -> exit0 (exit)`` with our node names."""
    if not hops:
        return "(not observed)"
    names = {n.fingerprint: n.name for n in record.nodes if n.fingerprint}
    out = []
    for hop, role in zip(hops, ROLES, strict=False):
        fingerprint = hop.lstrip("$").split("~")[0].split("=")[0].upper()
        out.append(f"{names.get(fingerprint, hop)} ({role})")
    return " -> ".join(out)
