"""Which implementation runs each node of a ``zwiebel testnet up`` network, and how.

A node is Zwiebel or real tor. Both read the same torrc and take the same command
line, so only the command in front differs: ``python -m zwiebel`` or ``tor``. By
default every node is Zwiebel; ``--real-tor ROLES`` makes whole roles real tor and
``--mixed`` alternates within each remaining role (the first node real tor, the next
Zwiebel, ...).

Key material is made by the implementation that will use it where possible: a
relay's identity keys by its own ``--list-fingerprint`` (Zwiebel writes tor's key
files), a real tor authority's v3 keys by tor-gencert, a Zwiebel authority's by
zwiebel.dirauth.keys (tor-gencert if that module is missing, or for a real tor
authority when tor-gencert is missing: the files are the same format).
"""

from __future__ import annotations

import enum
import importlib
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from zwiebel.testnet import keys
from zwiebel.testnet.layout import HOST, NodeSpec, Role


class Impl(enum.Enum):
    """The program a node runs."""

    ZWIEBEL = "zwiebel"
    TOR = "tor"


#: Role names on the command line (``relay`` is a middle relay).
ROLE_NAMES: dict[str, Role] = {
    "authority": Role.AUTHORITY, "relay": Role.MIDDLE, "exit": Role.EXIT,
    "client": Role.CLIENT,
}


def parse_roles(text: str) -> frozenset[Role]:
    """``authority,relay,exit,client`` (any subset), ``all`` or empty -> roles."""
    words = [w.strip().lower() for w in text.split(",") if w.strip()]
    if words == ["all"]:
        return frozenset(ROLE_NAMES.values())
    unknown = [w for w in words if w not in ROLE_NAMES]
    if unknown:
        raise ValueError(f"unknown role(s) {', '.join(unknown)}; use "
                         f"{','.join(ROLE_NAMES)} or all")
    return frozenset(ROLE_NAMES[w] for w in words)


def role_name(role: Role) -> str:
    """The command-line name of ``role``."""
    return next(name for name, r in ROLE_NAMES.items() if r is role)


def choose_impls(specs: Iterable[NodeSpec], real_tor: frozenset[Role],
                 mixed: bool) -> dict[str, Impl]:
    """Node name -> implementation: ``real_tor`` roles all tor; with ``mixed`` the
    other roles alternate tor, Zwiebel, tor, ... in node order; else Zwiebel."""
    seen: dict[Role, int] = {}
    out: dict[str, Impl] = {}
    for spec in specs:
        index = seen.get(spec.role, 0)
        seen[spec.role] = index + 1
        tor = spec.role in real_tor or (mixed and index % 2 == 0)
        out[spec.name] = Impl.TOR if tor else Impl.ZWIEBEL
    return out


def zwiebel_command() -> list[str]:
    """The command that runs Zwiebel with this Python."""
    return [sys.executable, "-m", "zwiebel"]


def base_command(impl: Impl, tor: str) -> list[str]:
    """The program part of a node's command line (``tor`` is the tor binary)."""
    return [tor] if impl is Impl.TOR else zwiebel_command()


def zwiebel_authority_keys(data_dir: Path, dir_port: int) -> keys.AuthorityKeys | None:
    """Create (once) v3 authority keys in ``data_dir/keys`` with zwiebel.dirauth.keys;
    None if that module is not there."""
    try:
        dirauth_keys = importlib.import_module("zwiebel.dirauth.keys")
    except ImportError:
        return None
    keys_dir = data_dir / "keys"
    cert = keys_dir / "authority_certificate"
    keys.make_private_dir(data_dir)
    if not cert.exists():
        identity, signing, cert_text = dirauth_keys.generate_authority_keys(
            datetime.now(UTC), 12, (HOST, dir_port))
        dirauth_keys.write_authority_keys(keys_dir, identity, signing, cert_text)
    return keys.AuthorityKeys(keys.certificate_fingerprint(cert), cert)


def authority_keys(impl: Impl, data_dir: Path, dir_port: int,
                   gencert: str | None) -> tuple[keys.AuthorityKeys, str]:
    """The authority's v3 keys and the tool that made them ("tor-gencert" or
    "zwiebel.dirauth.keys"); see the module docstring for the choice."""
    if impl is Impl.TOR and gencert is not None:
        return keys.generate_authority_keys(gencert, data_dir, dir_port), "tor-gencert"
    made = zwiebel_authority_keys(data_dir, dir_port)
    if made is not None:
        return made, "zwiebel.dirauth.keys"
    if gencert is None:
        raise keys.TorToolError("neither zwiebel.dirauth.keys nor tor-gencert is available")
    return keys.generate_authority_keys(gencert, data_dir, dir_port), "tor-gencert"


def find_gencert(name: str) -> str | None:
    """tor-gencert's path, None if it is not installed."""
    try:
        return keys.find_binary(name)
    except keys.TorToolError:
        return None
