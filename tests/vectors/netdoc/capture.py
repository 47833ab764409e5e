#!/usr/bin/env python3
"""Capture real directory documents from a private network of C tor on 127.0.0.1.

This is how the files beside this script were made (the source of the netdoc test
vectors).  It starts one v3 authority (key certificate from `tor-gencert`) and two
relays with `TestingTorNetwork 1`, waits for a consensus that lists all three, then
saves what a client fetches from the authority's DirPort:

    consensus             /tor/status-vote/current/consensus
    consensus-microdesc   /tor/status-vote/current/consensus-microdesc
    keys-all              /tor/keys/all
    server-all            /tor/server/all
    micro-all             /tor/micro/d/<every digest in consensus-microdesc, "-" separated>

Usage:  python tests/vectors/netdoc/capture.py OUTDIR [--base-port 23000] [--timeout 180]

Ports used: base+10 (authority ORPort), base+11 (its DirPort), base+20/base+21 (relay0,
IPv4 and IPv6 ORPort), base+30 (exit0).  Only the standard library and the `tor`
package are needed; every tor started here is stopped before the script returns.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HOST = "127.0.0.1"

COMMON = """TestingTorNetwork 1
RunAsDaemon 0
SafeLogging 0
ShutdownWaitLength 0
AssumeReachable 1
SocksPort 0
Address 127.0.0.1
ClientUseIPv6 0
ServerDNSDetectHijacking 0
ServerDNSAllowBrokenConfig 1
"""

AUTHORITY = """AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
V3AuthVotingInterval 10
V3AuthVoteDelay 2
V3AuthDistDelay 2
TestingV3AuthInitialVotingInterval 10
TestingV3AuthInitialVoteDelay 2
TestingV3AuthInitialDistDelay 2
V3AuthNIntervalsValid 2
TestingMinExitFlagThreshold 0
TestingMinFastFlagThreshold 0
TestingDirAuthVoteGuard *
TestingDirAuthVoteHSDir *
ExitRelay 0
ExitPolicy reject *:*
ConsensusParams circwindow=1000 cc_alg=2
AuthDirHasIPv6Connectivity 1
"""


def run(cmd: list[str], stdin: bytes = b"") -> None:
    """Run a helper command, failing loudly."""
    subprocess.run(cmd, input=stdin, check=True, capture_output=True, timeout=60)


def fingerprint(work: Path, name: str, or_port: int) -> str:
    """The RSA identity fingerprint tor generates for a fresh data directory."""
    data = work / name
    run(
        [
            "tor",
            "--ignore-missing-torrc",
            "-f",
            str(work / "none"),
            "--DataDirectory",
            str(data),
            "--ORPort",
            f"{HOST}:{or_port}",
            "--Nickname",
            name,
            "--list-fingerprint",
            "--quiet",
        ]
    )
    return (data / "fingerprint").read_text().split()[1]


def make_authority(work: Path, dir_port: int) -> str:
    """Create the authority's v3 identity and certificate; return the v3 identity."""
    keys = work / "auth0" / "keys"
    keys.mkdir(parents=True, mode=0o700)
    cert = keys / "authority_certificate"
    run(
        [
            "tor-gencert",
            "--create-identity-key",
            "-m",
            "12",
            "-a",
            f"{HOST}:{dir_port}",
            "-i",
            str(keys / "authority_identity_key"),
            "-s",
            str(keys / "authority_signing_key"),
            "-c",
            str(cert),
            "--passphrase-fd",
            "0",
        ]
    )
    match = re.search(r"^fingerprint ([0-9A-F]{40})$", cert.read_text(), re.M)
    if match is None:
        raise SystemExit("tor-gencert wrote no fingerprint")
    return match.group(1)


def node_torrc(work: Path, name: str, extra: str, dirauth: str) -> Path:
    """Write DIR/name/torrc and return its path."""
    data = work / name
    text = COMMON + f"DataDirectory {data}\nNickname {name}\n"
    text += f"Log notice file {data / 'tor.log'}\n"
    text += f"ServerDNSResolvConfFile {work / 'resolv.conf'}\n"
    text += f"ContactInfo {name} <{name}@example.invalid>\n"
    text += dirauth + "\n" + extra
    path = data / "torrc"
    path.write_text(text)
    return path


def build(work: Path, base: int) -> list[Path]:
    """Keys and torrc files for auth0, relay0 and exit0."""
    (work / "resolv.conf").write_text("nameserver 127.0.0.1\n")
    v3ident = make_authority(work, base + 11)
    fps = {
        n: fingerprint(work, n, base + p) for n, p in (("auth0", 10), ("relay0", 20), ("exit0", 30))
    }
    dirauth = (
        f"DirAuthority auth0 orport={base + 10} v3ident={v3ident} {HOST}:{base + 11} {fps['auth0']}"
    )
    family = f"MyFamily ${fps['relay0']},${fps['exit0']}\n"
    return [
        node_torrc(
            work,
            "auth0",
            AUTHORITY + f"ORPort {HOST}:{base + 10}\n"
            f"DirPort {HOST}:{base + 11}\nTestingDirAuthVoteExit ${fps['exit0']}\n",
            dirauth,
        ),
        node_torrc(
            work,
            "relay0",
            f"ORPort {HOST}:{base + 20}\nORPort [::1]:{base + 21}\n"
            "ExitRelay 0\nExitPolicy reject *:*\n" + family,
            dirauth,
        ),
        node_torrc(
            work,
            "exit0",
            f"ORPort {HOST}:{base + 30}\nExitRelay 1\nIPv6Exit 1\n"
            "ExitPolicyRejectPrivate 0\nExitPolicy accept *:80,accept *:443\n"
            "ExitPolicy accept6 [::]:22\nExitPolicy accept 127.0.0.0/8:1-1024\n"
            "ExitPolicy reject *:*\n" + family,
            dirauth,
        ),
    ]


def fetch(base: int, path: str) -> str | None:
    """GET a document from the authority's DirPort; None while it is not there yet."""
    try:
        with urllib.request.urlopen(f"http://{HOST}:{base + 11}{path}", timeout=10) as resp:
            return str(resp.read().decode())
    except (urllib.error.URLError, OSError):
        return None


def md_digests(text: str) -> list[str]:
    """The "m" digests of a microdesc-flavored consensus."""
    return re.findall(r"^m (\S+)$", text, re.M)


def try_capture(base: int) -> dict[str, str] | None:
    """Every document, if the network is complete (three routers everywhere)."""
    ns = fetch(base, "/tor/status-vote/current/consensus")
    md = fetch(base, "/tor/status-vote/current/consensus-microdesc")
    if ns is None or md is None or ns.count("\nr ") != 3 or len(md_digests(md)) != 3:
        return None
    keys = fetch(base, "/tor/keys/all")
    servers = fetch(base, "/tor/server/all")
    micro = fetch(base, "/tor/micro/d/" + "-".join(md_digests(md)))
    if keys is None or servers is None or micro is None:
        return None
    if servers.count("router-signature") != 3 or micro.count("ntor-onion-key") != 3:
        return None
    return {
        "consensus": ns,
        "consensus-microdesc": md,
        "keys-all": keys,
        "server-all": servers,
        "micro-all": micro,
    }


def same_period(docs: dict[str, str]) -> bool:
    """Both flavors from the same voting period."""

    def va(t: str) -> str:
        m = re.search(r"^valid-after (.*)$", t, re.M)
        return m.group(1) if m else ""

    return va(docs["consensus"]) == va(docs["consensus-microdesc"])


def wait_and_capture(base: int, timeout: float) -> dict[str, str]:
    """Poll the DirPort until the documents are complete, within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        docs = try_capture(base)
        if docs is not None and same_period(docs):
            return docs
        time.sleep(2)
    raise SystemExit(f"no complete consensus within {timeout:.0f} s")


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Terminate exactly the tor processes started here."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def main() -> int:
    """Start the network, capture, stop it, write OUTDIR/*."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--base-port", type=int, default=23000)
    ap.add_argument("--timeout", type=float, default=180.0)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="zwiebel-netdoc-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for torrc in build(work, args.base_port):
            procs.append(
                subprocess.Popen(
                    ["tor", "-f", str(torrc)],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        docs = wait_and_capture(args.base_port, args.timeout)
    finally:
        stop(procs)
    args.outdir.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (args.outdir / name).write_text(text)
    cert = (work / "auth0" / "keys" / "authority_certificate").read_text()
    (args.outdir / "authority-certificate").write_text(cert)
    (args.outdir / "v3ident").write_text(re.findall(r"^fingerprint (\S+)$", cert, re.M)[0] + "\n")
    shutil.rmtree(work)
    print(f"captured {len(docs)} documents into {args.outdir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.umask(0o077)
    sys.exit(main())
