"""`zwiebel testnet`: private Tor networks on loopback (only `demo` for now).

`demo` starts a network of real tor relays with a Zwiebel client, downloads a file
through it and tears everything down. `up`, `status` and `down` arrive with Zwiebel's
own directory authority (see the issue tracker).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from zwiebel.testnet.demo import run_demo
from zwiebel.testnet.keys import TorToolError
from zwiebel.testnet.ready import NetworkError


def main(argv: Sequence[str]) -> int:
    """Entry point for `zwiebel testnet ...`."""
    parser = argparse.ArgumentParser(prog="zwiebel testnet",
                                     description="Private Tor networks on 127.0.0.1.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="bring a network up, download through it, tear down")
    demo.add_argument("--base-port", type=int, default=24000,
                      help="first of the 200 ports the network uses (default 24000)")
    demo.add_argument("--size-mb", type=int, default=10, help="download size in MiB")
    args = parser.parse_args(list(argv))
    try:
        return run_demo(args.base_port, args.size_mb)
    except (NetworkError, TorToolError, OSError, AssertionError) as exc:
        first_line = (str(exc).splitlines() or [type(exc).__name__])[0]
        print(f"zwiebel testnet demo failed: {first_line}")
        return 1
