"""GETINFO answers that describe the network and the client's state (control-spec 3.9).

Pure formatting of plain values, as tor writes them:

* ``ns/*`` router status entries in the controller format (``routerstatus_format_entry``
  with ``NS_CONTROL_PORT``, ``src/feature/nodelist/fmt_routerstatus.c``): an ``r`` line
  with the publication time tor 0.4.9 prints there (``2038-01-01 00:00:00``), ``a`` for
  IPv6, ``s`` flags, ``w Bandwidth=`` and ``p`` when the relay's descriptor is known;
* ``circuit-status``, ``stream-status``, ``orconn-status`` and ``entry-guards`` lines.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

#: The publication time tor prints for a router status given to a controller.
CONTROL_PUBLISHED = "2038-01-01 00:00:00"
#: tor's flag order in ``s`` lines.
FLAG_ORDER = ("Authority", "BadExit", "Exit", "Fast", "Guard", "HSDir", "MiddleOnly",
              "Running", "Stable", "StaleDesc", "Sybil", "V2Dir", "Valid")


def b64_digest(data: bytes) -> str:
    """Base64 without padding, as tor's ``digest_to_base64``."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class StatusEntry:
    """The parts of a consensus entry the controller format shows."""

    nickname: str
    identity: bytes
    descriptor_digest: bytes | None
    address: str
    or_port: int
    dir_port: int
    flags: frozenset[str]
    bandwidth: int
    ipv6: tuple[str, int] | None = None
    policy_summary: str | None = None


def ns_entry(entry: StatusEntry) -> str:
    """One entry in the controller's ``ns`` format, ending in a newline."""
    digest = b64_digest(entry.descriptor_digest or bytes(20))
    lines = [f"r {entry.nickname} {b64_digest(entry.identity)} {digest} {CONTROL_PUBLISHED} "
             f"{entry.address} {entry.or_port} {entry.dir_port}"]
    if entry.ipv6 is not None:
        lines.append(f"a [{entry.ipv6[0]}]:{entry.ipv6[1]}")
    flags = [f for f in FLAG_ORDER if f in entry.flags]
    lines.append("s" + "".join(f" {f}" for f in flags))
    lines.append(f"w Bandwidth={entry.bandwidth}")
    if entry.policy_summary is not None:
        lines.append(f"p {entry.policy_summary}")
    return "".join(f"{line}\n" for line in lines)


def circuit_status_line(circ_id: int, status: str, description: str) -> str:
    """``ID STATUS PATH BUILD_FLAGS= PURPOSE= TIME_CREATED=``."""
    return f"{circ_id} {status} {description}"


def stream_status_line(stream_id: int, status: str, circ_id: int, target: str) -> str:
    """``StreamID StreamStatus CircuitID Target``."""
    return f"{stream_id} {status} {circ_id} {target}"


def orconn_status_line(name: str, status: str) -> str:
    """``LongName STATUS`` of one OR connection."""
    return f"{name} {status}"


def guard_status_line(name: str, status: str) -> str:
    """``$FP~nick status`` (up, down, never-connected, unusable, unlisted)."""
    return f"{name} {status}"


def join_lines(lines: Iterable[str]) -> str:
    """Lines of a list-valued GETINFO answer, joined as tor does (no final newline)."""
    return "\n".join(lines)


def listener_list(addresses: Sequence[str]) -> str:
    """``net/listeners/*``: space-separated quoted ``"addr:port"`` strings."""
    return " ".join(f'"{address}"' for address in addresses)
