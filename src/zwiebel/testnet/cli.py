"""`zwiebel testnet`: private Tor networks on loopback.

* ``up DIR``: start a network (Zwiebel nodes by default, ``--real-tor ROLES`` or
  ``--mixed`` for real tor ones), wait until it is ready, print the node table,
  leave it running (zwiebel.testnet.launcher);
* ``status DIR``: processes, consensus and client bootstrap (zwiebel.testnet.status);
* ``down DIR``: stop exactly the recorded processes, keep the logs;
* ``demo``: up in a temporary directory, a download through it, down
  (zwiebel.testnet.demo).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from zwiebel.testnet.demo import run_demo
from zwiebel.testnet.impls import parse_roles
from zwiebel.testnet.keys import TorToolError
from zwiebel.testnet.launcher import Launcher, LaunchOptions, stop_network
from zwiebel.testnet.layout import Role
from zwiebel.testnet.netfile import NETWORK_FILE, read_network
from zwiebel.testnet.progress import ProgressBar
from zwiebel.testnet.ready import NetworkError
from zwiebel.testnet.status import collect_status, format_status, node_table

ROLES_HELP = ("roles run by real tor instead of Zwiebel: any of authority,relay,exit,client "
              "(comma-separated) or all")


def _impl_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--real-tor", default="", metavar="ROLES", help=ROLES_HELP)
    parser.add_argument("--mixed", action="store_true",
                        help="alternate each other role between real tor and Zwiebel "
                             "(the first node of a role real tor)")
    parser.add_argument("--base-port", type=int, default=24000,
                        help="first of the 200 ports the network uses (default 24000)")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds to wait for the network to be ready (default 300)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of `zwiebel testnet`."""
    parser = argparse.ArgumentParser(prog="zwiebel testnet",
                                     description="Private Tor networks on 127.0.0.1.")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start a network in DIR and leave it running")
    up.add_argument("dir", type=Path)
    up.add_argument("--authorities", type=int, choices=(1, 3), default=3)
    up.add_argument("--relays", type=int, default=3, help="middle relays (default 3)")
    up.add_argument("--exits", type=int, default=1, help="exit relays (default 1)")
    up.add_argument("--clients", type=int, default=1, help="clients (default 1)")
    _impl_args(up)
    for name, text in (("status", "report on the network in DIR"),
                       ("down", "stop the network in DIR (logs are kept)")):
        sub.add_parser(name, help=text).add_argument("dir", type=Path)
    demo = sub.add_parser("demo", help="bring a network up, download through it, tear down")
    demo.add_argument("--size-mb", type=int, default=10, help="download size in MiB")
    _impl_args(demo)
    return parser


def main(argv: Sequence[str]) -> int:
    """Entry point for `zwiebel testnet ...`."""
    parser = build_parser()
    args = parser.parse_args(list(argv))
    try:
        real_tor = parse_roles(getattr(args, "real_tor", ""))
    except ValueError as exc:
        parser.error(str(exc))
    try:
        if args.command == "up":
            return _up(args, real_tor)
        if args.command == "status":
            return _status(args.dir)
        if args.command == "down":
            return _down(args.dir)
        return run_demo(args.base_port, args.size_mb, real_tor=real_tor, mixed=args.mixed,
                        timeout=args.timeout)
    except (NetworkError, TorToolError, OSError, ValueError, AssertionError) as exc:
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
        print(f"zwiebel testnet {args.command} failed: {first_line}")
        if isinstance(exc, NetworkError):
            print("\n".join(str(exc).splitlines()[1:]))
        return 1


def _up(args: argparse.Namespace, real_tor: frozenset[Role]) -> int:
    opts = LaunchOptions(args.dir, args.base_port, args.authorities, args.relays, args.exits,
                         args.clients, real_tor, args.mixed, args.timeout)
    bar = ProgressBar(prefix="")
    record = Launcher(opts, bar).up()
    bar.finish(f"network up in {sum(record.timings.values()):.1f} s: {args.dir / NETWORK_FILE}")
    print("\n".join(node_table(record)))
    return 0


def _status(base_dir: Path) -> int:
    record = read_network(base_dir)
    status = collect_status(record)
    print("\n".join(format_status(record, status)))
    return 0 if status.all_alive else 3


def _down(base_dir: Path) -> int:
    stopped = stop_network(base_dir)
    print(f"stopped {len(stopped)} processes: {', '.join(stopped) or '(none running)'}; "
          f"logs kept in {base_dir}")
    return 0
