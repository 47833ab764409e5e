"""Real documents from tor 0.4.9.11 (tests/vectors/netdoc, made by capture.py there)."""

from __future__ import annotations

from pathlib import Path

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "netdoc"


def load(name: str) -> str:
    """The text of one captured document."""
    return (VECTORS / name).read_text()


def v3ident() -> bytes:
    """The authority's v3 identity digest."""
    return bytes.fromhex(load("v3ident").strip())


def flip(text: str, needle: str, offset: int = 0) -> str:
    """`text` with one character changed inside the first occurrence of `needle`."""
    pos = text.index(needle) + offset
    ch = text[pos]
    repl = "B" if ch != "B" else "C"
    return text[:pos] + repl + text[pos + 1 :]
