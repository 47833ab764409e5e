"""Consensus vectors from real tor 0.4.9.11 networks (tests/vectors/dirauth/*/README.md)."""

from __future__ import annotations

from pathlib import Path

from zwiebel.netdoc.vote import Vote, parse_vote

ROOT = Path(__file__).resolve().parents[3] / "vectors" / "dirauth"
CAPTURES = ("realnet", "realnet2", "realnet-b1", "realnet-b2", "realnet-b3", "realnet-b4")
"""Every capture with three votes and the consensuses they produced."""
WITH_SIGNATURES = tuple(c for c in CAPTURES if (ROOT / c / "consensus-signatures").exists())
WITH_KEYS = tuple(c for c in CAPTURES if (ROOT / c / "keys-auth0").exists())


def text(capture: str, name: str) -> str:
    """One captured document."""
    return (ROOT / capture / name).read_text()


def votes(capture: str) -> list[Vote]:
    """The capture's three votes, parsed."""
    return [parse_vote(text(capture, f"vote{i}")) for i in range(3)]


def unsigned(document: str) -> str:
    """A consensus up to (not including) its first "directory-signature"."""
    return document[: document.index("directory-signature")]
