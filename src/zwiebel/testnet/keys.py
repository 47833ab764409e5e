"""Key material for a private network, made by real tor's own tools.

Authorities: ``tor-gencert --create-identity-key`` writes the v3 authority identity
key, signing key and key certificate (dir-spec 3.1) into ``DATADIR/keys``, where an
authority tor looks for them. Every relay (authorities too): ``tor --list-fingerprint``
with a fresh DataDirectory creates the RSA identity and ed25519 master keys and
writes ``DATADIR/fingerprint`` and ``DATADIR/fingerprint-ed25519``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from zwiebel.testnet.layout import HOST

TOOL_TIMEOUT = 60.0


class TorToolError(RuntimeError):
    """tor or tor-gencert is missing or failed."""


@dataclass(frozen=True)
class RelayKeys:
    """Identities of one relay: RSA fingerprint (40 upper-case hex) and ed25519 (base64)."""

    fingerprint: str
    ed25519: str


@dataclass(frozen=True)
class AuthorityKeys:
    """A v3 authority's identity fingerprint (hex) and its key certificate file."""

    v3ident: str
    certificate: Path


def find_binary(name: str) -> str:
    """Absolute path of ``name`` (a command or path); TorToolError if absent."""
    found = shutil.which(name)
    if found is None:
        raise TorToolError(
            f"{name!r} not found: the interop tests need real tor "
            "(Debian: apt-get install -y tor, which provides tor and tor-gencert)")
    return found


def tor_version(tor: str) -> str:
    """The version tor reports, e.g. '0.4.9.11'."""
    out = run_tool([tor, "--version"])
    match = re.search(r"Tor version (\S+?)\.?\s", out)
    return match.group(1) if match else out.splitlines()[0]


def run_tool(argv: Sequence[str], stdin: bytes = b"") -> str:
    """Run a tor tool to completion (bounded) and return its stdout."""
    try:
        proc = subprocess.run(list(argv), input=stdin, capture_output=True,
                              timeout=TOOL_TIMEOUT, check=False)
    except FileNotFoundError as exc:
        raise TorToolError(f"{argv[0]} not found") from exc
    except subprocess.TimeoutExpired as exc:
        raise TorToolError(f"{' '.join(argv)} took over {TOOL_TIMEOUT}s") from exc
    if proc.returncode != 0:
        raise TorToolError(f"{' '.join(argv)} exited {proc.returncode}: "
                           f"{proc.stdout.decode(errors='replace')}"
                           f"{proc.stderr.decode(errors='replace')}")
    return proc.stdout.decode(errors="replace")


def make_private_dir(path: Path) -> None:
    """Create ``path`` with mode 0700 (tor refuses group/world-readable data dirs)."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def generate_relay_keys(tor: str | Sequence[str], data_dir: Path, nickname: str, or_port: int,
                        defaults_torrc: Path) -> RelayKeys:
    """Create (once) and read the relay identity keys in ``data_dir``.

    ``tor`` is the tor binary or any command that takes tor's command line, such
    as ``[python, "-m", "zwiebel"]`` (Zwiebel writes tor's key files)."""
    make_private_dir(data_dir)
    fp_file = data_dir / "fingerprint"
    command = [tor] if isinstance(tor, str) else list(tor)
    if not fp_file.exists():
        run_tool([*command, "-f", str(data_dir / "no-such-torrc"), "--ignore-missing-torrc",
                  "--defaults-torrc", str(defaults_torrc), "--DataDirectory", str(data_dir),
                  "--ORPort", f"{HOST}:{or_port}", "--Nickname", nickname,
                  "--list-fingerprint", "--quiet"])
    return RelayKeys(_second_word(fp_file), _second_word(data_dir / "fingerprint-ed25519"))


def generate_authority_keys(gencert: str, data_dir: Path, dir_port: int) -> AuthorityKeys:
    """Create (once) the v3 authority keys in ``data_dir/keys`` and read the v3 ident."""
    keys = data_dir / "keys"
    make_private_dir(data_dir)
    make_private_dir(keys)
    cert = keys / "authority_certificate"
    if not cert.exists():
        run_tool([gencert, "--create-identity-key", "-m", "12", "-a", f"{HOST}:{dir_port}",
                  "-i", str(keys / "authority_identity_key"),
                  "-s", str(keys / "authority_signing_key"),
                  "-c", str(cert), "--passphrase-fd", "0"])
    return AuthorityKeys(certificate_fingerprint(cert), cert)


def certificate_fingerprint(cert: Path) -> str:
    """The v3 identity fingerprint ("fingerprint" line) of an authority certificate."""
    match = re.search(r"^fingerprint ([0-9A-F]{40})$", cert.read_text(), re.MULTILINE)
    if match is None:
        raise TorToolError(f"no fingerprint line in {cert}")
    return match.group(1)


def _second_word(path: Path) -> str:
    """The value in tor's 'NICKNAME VALUE' fingerprint files."""
    words = path.read_text().split()
    if len(words) != 2:
        raise TorToolError(f"unexpected contents of {path}: {words!r}")
    return words[1]
