"""Per-connection GETINFO answers: ``conn/all`` and ``conn/<circuit id>/<connection id>``.

Zwiebel's implementation of the connection-information keys of proposal 172 in its
first form, "GETINFO controller option for connection information" (Damian Johnson,
2010; the torspec copy in /work/spec is the later rewrite as ``rcirc/*``, which keeps
the motivation and the security discussion). One line per connection::

    CONN_ID=<id> CIRC_ID=<ids> OR_ID=<id> IP=<address>:<port> L_PORT=<port>
        TYPE_FLAGS=<flags> READ=<bytes> WRITE=<bytes> UPTIME=<seconds>

No value contains whitespace; controllers ignore fields they do not know.

* ``CONN_ID``: the connection's number, unique within the process.
* ``CIRC_ID``: the circuits the connection carries (Zwiebel's global circuit numbers,
  comma-separated), ``0`` for none.
* ``OR_ID``: the ``CONN_ID`` of the OR connection the traffic belongs to: an OR
  connection's own id; for an exit, directory or application connection the OR
  connection its circuit uses; ``0`` if none.
* ``IP``: the remote address and port (IPv6 in brackets).
* ``L_PORT``: the local port of the socket (``0`` for a stream without a socket).
* ``TYPE_FLAGS``: three characters. Direction: ``I`` inbound, ``O`` outbound; lower
  case (``i``/``o``) while the connection is not yet established (TLS/link handshake,
  exit connect). Usage: ``C`` client (our own client traffic), ``R`` relay, ``X`` exit,
  ``H`` hidden service, ``D`` directory. ``T`` if the peer is inside the Tor network
  (an authenticated relay), ``t`` if it is outside (a client, a destination server, a
  local application).
* ``READ``/``WRITE``: bytes read from and written to the connection; ``UPTIME``:
  whole seconds since it was opened.

Security (the proposal's "Security Implications"): the addresses and ports of client
and exit connections are what a relay operator must not see. Every connection whose
usage is client or exit, or whose peer is outside the Tor network, is shown with
``IP=0:0`` and ``L_PORT=0``; its existence, flags, byte counts and uptime stay visible.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, replace

from zwiebel.encoding import ParseError


class Usage(enum.StrEnum):
    """What a connection is used for (the proposal's usage flag)."""

    CLIENT = "C"
    """Our own client traffic: SOCKS applications and our channels to guards."""
    RELAY = "R"
    """Circuits relayed for others."""
    EXIT = "X"
    """A TCP connection from the exit to a destination."""
    HIDDEN_SERVICE = "H"
    """Onion service traffic."""
    DIRECTORY = "D"
    """Directory requests (BEGIN_DIR streams)."""


@dataclass(frozen=True)
class ConnInfo:
    """One connection as the control port reports it."""

    conn_id: int
    circ_ids: tuple[int, ...]
    or_id: int
    address: str
    port: int
    local_port: int
    inbound: bool
    established: bool
    usage: Usage
    in_tor: bool
    read: int
    written: int
    uptime: int

    def type_flags(self) -> str:
        """Direction, usage and inside/outside-Tor characters."""
        direction = "I" if self.inbound else "O"
        if not self.established:
            direction = direction.lower()
        return direction + self.usage.value + ("T" if self.in_tor else "t")

    def must_scrub(self) -> bool:
        """Client and exit connections, and peers outside Tor, hide address and ports."""
        return self.usage in (Usage.CLIENT, Usage.EXIT) or not self.in_tor

    def scrubbed(self) -> ConnInfo:
        """The same connection with address and ports replaced by 0 where required."""
        if not self.must_scrub():
            return self
        return replace(self, address="0", port=0, local_port=0)


def _ip_field(address: str, port: int) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"{host}:{port}"


def conn_line(info: ConnInfo) -> str:
    """The proposal's line for one connection, scrubbed as its security section asks."""
    shown = info.scrubbed()
    circs = ",".join(str(c) for c in shown.circ_ids) or "0"
    return (f"CONN_ID={shown.conn_id} CIRC_ID={circs} OR_ID={shown.or_id} "
            f"IP={_ip_field(shown.address, shown.port)} L_PORT={shown.local_port} "
            f"TYPE_FLAGS={shown.type_flags()} READ={shown.read} WRITE={shown.written} "
            f"UPTIME={shown.uptime}")


def conn_all(infos: Iterable[ConnInfo]) -> str:
    """``conn/all``: every connection's line, by CONN_ID, joined by newlines."""
    return "\n".join(conn_line(i) for i in sorted(infos, key=lambda i: i.conn_id))


def parse_conn_key(key: str) -> tuple[int, int]:
    """``conn/<circuit id>/<connection id>`` -> (circuit id, connection id).

    Raises ParseError unless both parts are decimal numbers.
    """
    parts = key.split("/")
    if len(parts) != 3 or parts[0].lower() != "conn":
        raise ParseError(f"not a conn/<circuit>/<connection> key: {key!r}")
    circ, conn = parts[1], parts[2]
    if not (circ.isascii() and circ.isdigit() and conn.isascii() and conn.isdigit()):
        raise ParseError(f"circuit and connection ids must be numbers: {key!r}")
    return int(circ), int(conn)


def find_conn(infos: Iterable[ConnInfo], circ_id: int, conn_id: int) -> ConnInfo | None:
    """The connection ``conn_id`` if it carries circuit ``circ_id`` (0: carries none)."""
    for info in infos:
        if info.conn_id != conn_id:
            continue
        if circ_id in info.circ_ids or (circ_id == 0 and not info.circ_ids):
            return info
    return None
