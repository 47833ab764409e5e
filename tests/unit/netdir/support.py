"""Shared test helpers: a deterministic rng and relay builders."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from zwiebel.netdir import RelayInfo

RELAY_PROTOS = {"Relay": frozenset({1, 2, 3, 4}), "Link": frozenset({4, 5})}
BASE_FLAGS = frozenset({"Running", "Valid", "Fast", "Stable", "V2Dir"})


class HashRng:
    """``randbelow`` from SHA-256(seed || counter), unbiased by rejection sampling."""

    def __init__(self, seed: bytes = b"zwiebel") -> None:
        self.seed = seed
        self.counter = 0

    def __call__(self, n: int, /) -> int:
        assert n >= 1
        limit = (1 << 256) - (1 << 256) % n
        while True:
            self.counter += 1
            block = hashlib.sha256(self.seed + self.counter.to_bytes(8, "big")).digest()
            value = int.from_bytes(block, "big")
            if value < limit:
                return value % n


@dataclass(frozen=True)
class Ports:
    """A PortPolicy test double: accepts exactly ``ports``."""

    ports: frozenset[int]

    def allows_port(self, port: int) -> bool:
        return port in self.ports


@dataclass(frozen=True)
class Verdict:
    """A Verdict test double."""

    allowed: bool


@dataclass(frozen=True)
class Full:
    """An AddressPolicy test double: rejects ``bad_addresses``, accepts ``ports``."""

    ports: frozenset[int]
    bad_addresses: frozenset[str] = frozenset()

    def allows(self, address: str | None, port: int) -> Verdict:
        return Verdict(port in self.ports and address not in self.bad_addresses)


def relay(
    n: int,
    *,
    flags: set[str] | frozenset[str] = frozenset(),
    bw: int = 1000,
    address: str | None = None,
    family: set[str] | frozenset[str] = frozenset(),
    policy: Ports | Full | None = None,
    nickname: str | None = None,
    ntor: bool = True,
    ipv6: tuple[tuple[str, int], ...] = (),
) -> RelayInfo:
    """Relay number ``n`` (< 65536): identity ``ident(n)``, address n/256+1.n%256.0.1."""
    return RelayInfo(
        nickname=nickname or f"relay{n}",
        rsa_identity=ident(n),
        ed25519_identity=n.to_bytes(2, "big") * 16,
        address=address or f"{n // 256 + 1}.{n % 256}.0.1",
        or_port=9001,
        ipv6_addresses=ipv6,
        flags=BASE_FLAGS | frozenset(flags),
        bandwidth=bw,
        ntor_onion_key=n.to_bytes(2, "big") * 16 if ntor else None,
        family=frozenset(family),
        exit_policy=policy,
        policy_rejects_all=policy is None or not getattr(policy, "ports", None),
        protocols=RELAY_PROTOS,
    )


def ident(n: int) -> bytes:
    """RSA identity of relay ``n``."""
    return n.to_bytes(2, "big") * 10


def num(identity: bytes) -> int:
    """Inverse of `ident`."""
    return int.from_bytes(identity[:2], "big")


def fp(n: int) -> str:
    """ "$HEX" of relay ``n``."""
    return "$" + ident(n).hex().upper()
