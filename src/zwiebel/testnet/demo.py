"""`zwiebel testnet demo`: a private network on loopback carries a real download.

Until Zwiebel has its own directory authority, the network's authority and relays are
real tor 0.4.9; the client is Zwiebel, configured only with the network's DirAuthority
line. The demo prints each step, the path the download took and its throughput, then
tears everything down.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from zwiebel.testnet.fileserver import FileServer
from zwiebel.testnet.realtor import RealTorNetwork
from zwiebel.testnet.socksfetch import fetch
from zwiebel.testnet.zwiebelproc import ZwiebelProcess

Print = Callable[[str], None]
BAR = 30


def _bar(percent: int) -> str:
    filled = BAR * percent // 100
    return "[" + "#" * filled + "." * (BAR - filled) + f"] {percent:3d}%"


def _client_bootstrap(proc: ZwiebelProcess, say: Print, timeout: float) -> float:
    start = time.monotonic()
    seen = 0
    while True:
        match = proc.wait_for(r"Bootstrapped (\d+)% \(\w+\): (.*)", timeout, seen)
        index = next(i for i in range(seen, len(proc.lines)) if match.group(0) in proc.lines[i])
        seen = index + 1
        say(f"  zwiebel  {_bar(int(match.group(1)))} {match.group(2)}")
        if match.group(1) == "100":
            return time.monotonic() - start


def _path(proc: ZwiebelProcess) -> str:
    attached = proc.matches(r"attached to circuit (\d+)")
    if not attached:
        return "(unknown)"
    circuit = attached[-1].group(1)
    for built in proc.matches(r"Circuit (\d+) built: (\S+)"):
        if built.group(1) == circuit:
            names = [hop.split("~")[1] for hop in built.group(2).split(",")]
            roles = ("guard", "middle", "exit")
            return " -> ".join(f"{n} ({r})" for n, r in zip(names, roles, strict=False))
    return "(unknown)"


def run_demo(base_port: int, size_mb: int, say: Print = print, keep: Path | None = None) -> int:
    """Bring a network up, download `size_mb` MiB through Zwiebel, tear down; exit status."""
    with tempfile.TemporaryDirectory(prefix="zwiebel-demo-") as tmp:
        root = keep or Path(tmp)
        say("Zwiebel demo: a private Tor network on 127.0.0.1")
        say(f"  real tor: 1 directory authority, 3 relays, 1 exit (ports {base_port}-"
            f"{base_port + 199}); client: Zwiebel")
        net = RealTorNetwork(root / "net", base_port, with_client=False,
                             progress=lambda line: say(f"  network  {line}"))
        files = {"demo.bin": size_mb * 1024 * 1024}
        with FileServer(root / "www", files) as www, net:
            say(f"  network  up in {net.bootstrap_seconds:.1f} s")
            return _client_part(net, www, root, say)


def _client_part(net: RealTorNetwork, www: FileServer, root: Path, say: Print) -> int:
    socks = net.spare_port(0)
    torrc = ["TestingTorNetwork 1", f"SocksPort 127.0.0.1:{socks}", "UseMicrodescriptors 0",
             *net.dir_authority_lines]
    with ZwiebelProcess(root / "zwiebel", torrc, socks_port=socks) as proc:
        seconds = _client_bootstrap(proc, say, 90.0)
        say(f"  zwiebel  bootstrapped in {seconds:.2f} s, SocksPort 127.0.0.1:{socks}")
        served = www.files["demo.bin"]
        got = fetch(socks, "127.0.0.1", www.port, "/demo.bin")
        ok = got.status == 200 and got.sha256 == served.sha256 and got.size == served.size
        say(f"  path     {_path(proc)}")
        rate = got.size / got.seconds / 1e6
        verdict = "sha256 matches" if ok else "MISMATCH"
        say(f"  download {got.size / 2**20:.1f} MiB in {got.seconds:.2f} s = {rate:.1f} MB/s "
            f"(first byte after {got.first_byte * 1000:.0f} ms), {verdict}")
    say("  teardown all processes stopped")
    return 0 if ok else 1
