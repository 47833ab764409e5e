"""`NetDir`: the relays of one consensus plus its parameters (dir-spec 3.4.1, 3.8.3).

Lookups by RSA identity, Ed25519 identity and nickname; consensus parameters read with
tor's clamping rule (``networkstatus_get_param``: a value outside [min, max] is clamped);
the position weights of `zwiebel.netdir.weights`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType

from zwiebel.netdir.relay import RelayInfo
from zwiebel.netdir.weights import Position, PositionWeights, weight_scale
from zwiebel.netdoc.params import consensus_param


class NetDir:
    """An immutable view of the network: relays, consensus params, bandwidth weights."""

    def __init__(
        self,
        relays: Iterable[RelayInfo],
        params: Mapping[str, int] | None = None,
        bandwidth_weights: Mapping[str, int] | None = None,
    ) -> None:
        self.relays: tuple[RelayInfo, ...] = tuple(relays)
        self.params: Mapping[str, int] = MappingProxyType(dict(params or {}))
        self.bandwidth_weights: Mapping[str, int] = MappingProxyType(dict(bandwidth_weights or {}))
        self._by_rsa = {r.rsa_identity: r for r in self.relays}
        self._by_ed = {r.ed25519_identity: r for r in self.relays if r.ed25519_identity}
        self._by_nick: dict[str, list[RelayInfo]] = {}
        for relay in self.relays:
            self._by_nick.setdefault(relay.nickname.lower(), []).append(relay)
        scale = weight_scale(self.params)
        self._weights = {p: PositionWeights(self.bandwidth_weights, scale, p) for p in Position}

    def __len__(self) -> int:
        return len(self.relays)

    def __iter__(self) -> Iterator[RelayInfo]:
        return iter(self.relays)

    def by_rsa_id(self, identity: bytes) -> RelayInfo | None:
        """The relay with this 20-byte RSA identity digest, if listed."""
        return self._by_rsa.get(identity)

    def by_ed25519_id(self, identity: bytes) -> RelayInfo | None:
        """The relay with this 32-byte Ed25519 identity, if listed."""
        return self._by_ed.get(identity)

    def by_nickname(self, nickname: str) -> tuple[RelayInfo, ...]:
        """All relays using ``nickname`` (case-insensitive; nicknames are not unique)."""
        return tuple(self._by_nick.get(nickname.lower(), ()))

    def lookup(self, name: str) -> RelayInfo | None:
        """A relay by "$HEX", "HEX", "$HEX=nick"/"$HEX~nick", or a unique nickname."""
        ident = _parse_hex_id(name)
        if ident is not None:
            return self.by_rsa_id(ident)
        matches = self.by_nickname(name)
        return matches[0] if len(matches) == 1 else None

    def param(self, name: str, default: int, minimum: int, maximum: int) -> int:
        """Consensus parameter ``name`` clamped to [minimum, maximum] (dir-spec 3.4.1 "params")."""
        return consensus_param(self.params, name, default, minimum, maximum)

    def usable_relays(self) -> tuple[RelayInfo, ...]:
        """Relays we may put in a circuit at all (`RelayInfo.is_usable`)."""
        return tuple(r for r in self.relays if r.is_usable())

    def weight(self, relay: RelayInfo, position: Position) -> int:
        """``relay``'s selection weight for ``position`` (see `zwiebel.netdir.weights`)."""
        return self._weights[position].weight(relay)


def _parse_hex_id(name: str) -> bytes | None:
    text = name[1:] if name.startswith("$") else name
    hexpart = text[:40]
    if len(hexpart) != 40 or (len(text) > 40 and text[40] not in "=~"):
        return None
    try:
        return bytes.fromhex(hexpart)
    except ValueError:
        return None
