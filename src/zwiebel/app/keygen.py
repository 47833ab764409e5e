"""``zwiebel keygen authority [--months N] [--address IP:PORT] KEYS_DIR``.

Zwiebel's counterpart of ``tor-gencert --create-identity-key -m N -a IP:PORT``
(src/tools/tor-gencert.c): makes a directory authority's RSA-3072 identity key,
RSA-2048 signing key and key certificate, writes ``authority_identity_key``,
``authority_signing_key`` and ``authority_certificate`` into KEYS_DIR (a tor
``DataDirectory/keys``), and prints ``v3ident=<HEX>``, the token a DirAuthority line
needs. Unlike tor-gencert, the identity key is written unencrypted (no passphrase);
like it, an existing identity key is never overwritten.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from zwiebel.dirauth.keys import (
    IDENTITY_FILE,
    generate_authority_keys,
    write_authority_keys,
)
from zwiebel.netdoc.build.authcert import MAX_MONTHS


def _address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected IP:PORT, got {text!r}")
    return host, int(port)


def _months(text: str) -> int:
    if not text.isdigit() or int(text) > MAX_MONTHS:
        raise argparse.ArgumentTypeError(f"lifetime in months must be 0..{MAX_MONTHS}")
    return int(text)


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description="Make directory authority keys.")
    parser.add_argument("--months", "-m", type=_months, default=12,
                        help="certificate lifetime in months (default 12)")
    parser.add_argument("--address", "-a", type=_address, default=None,
                        help="dir-address IP:DIRPORT to put in the certificate")
    parser.add_argument("keys_dir", type=Path, help="directory for the key files")
    return parser


def run_authority(argv: Sequence[str], prog: str = "zwiebel keygen authority") -> int:
    """Generate and write the keys; print the v3ident; exit status."""
    args = _parser(prog).parse_args(list(argv))
    keys_dir: Path = args.keys_dir
    if (keys_dir / IDENTITY_FILE).exists():
        print(f"{keys_dir / IDENTITY_FILE} already exists; not overwriting it.", file=sys.stderr)
        return 1
    identity, signing, cert_text = generate_authority_keys(
        datetime.now(UTC), args.months, args.address
    )
    write_authority_keys(keys_dir, identity, signing, cert_text)
    print(f"v3ident={identity.public().fingerprint().hex().upper()}")
    return 0


def main(argv: Sequence[str]) -> int:
    """``zwiebel keygen KIND ...``; only ``authority`` exists."""
    if not argv or argv[0] != "authority":
        print("usage: zwiebel keygen authority [--months N] [--address IP:PORT] KEYS_DIR",
              file=sys.stderr)
        return 2
    return run_authority(argv[1:])


def gencert_main() -> int:
    """Console-script entry ``zwiebel-gencert [--months N] [--address IP:PORT] KEYS_DIR``."""
    return run_authority(sys.argv[1:], prog="zwiebel-gencert")
