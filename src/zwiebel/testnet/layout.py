"""Shape and port layout of a private network of real tor processes.

Every listener binds 127.0.0.1 and every port lies in ``base .. base+199``:

==================  ==========================================================
port                use
==================  ==========================================================
base+0              real tor client: SocksPort
base+1              real tor client: ControlPort
base+2 .. base+9    spare, for clients a test runs itself (``spare_port(i)``)
base+10k            node k: ORPort   (k = 1, 2, ...: authorities, middles, exits)
base+10k+1          node k: DirPort  (authorities only)
base+10k+2          node k: ControlPort
base+150+10i (+1,   external relay slot i (i = 0..4): ORPort, DirPort, ControlPort
+2)                 for a relay of our own (Zwiebel) joining the network
==================  ==========================================================

So at most 14 tor nodes (k <= 14 keeps node ports below base+150).  Node names
are ``auth0..``, ``relay0..`` (middles) and ``exit0..``; the client is ``client``.

``zwiebel testnet up`` (``plan_launch``) may run several clients: they continue
the node numbering, client k getting SocksPort base+10k and ControlPort
base+10k+2, and are called ``client0..``; relays and clients together are at
most 14 nodes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

HOST = "127.0.0.1"
PORT_RANGE = 200
MAX_NODES = 14
EXTERNAL_BASE = 150
EXTERNAL_SLOTS = 5
SPARE_PORTS = 8


class Role(enum.Enum):
    """What a tor process does in the network."""

    AUTHORITY = "authority"
    MIDDLE = "middle"
    EXIT = "exit"
    CLIENT = "client"


class ExitPolicyMode(enum.Enum):
    """How the exits' policies look.

    LOOPBACK: ``accept 127.0.0.0/8:*`` then ``reject *:*``. Its microdescriptor
    summary is ``reject 1-65535``, so the authorities vote Exit explicitly
    (TestingDirAuthVoteExit) and a client must pick exits by full descriptor.
    OPEN: ``accept *:*``; the summary shows an exit, so microdescriptor clients
    can use it (tests still only connect to 127.0.0.1).
    """

    LOOPBACK = "loopback"
    OPEN = "open"


@dataclass(frozen=True)
class NodeSpec:
    """One tor process of the network: its name, role and ports (0 = none)."""

    name: str
    role: Role
    or_port: int = 0
    dir_port: int = 0
    control_port: int = 0
    socks_port: int = 0

    @property
    def is_relay(self) -> bool:
        """True for every node in the consensus (authorities included)."""
        return self.role is not Role.CLIENT

    def ports(self) -> tuple[int, ...]:
        """The ports this node listens on."""
        all_ports = (self.or_port, self.dir_port, self.control_port, self.socks_port)
        return tuple(p for p in all_ports if p)


@dataclass(frozen=True)
class ExternalSlot:
    """Ports reserved for a relay of our own that joins the network."""

    index: int
    or_port: int
    dir_port: int
    control_port: int


def validate_shape(base_port: int, authorities: int, middles: int, exits: int) -> None:
    """Raise ValueError unless the shape fits the layout and can build 3-hop circuits."""
    if authorities not in (1, 3):
        raise ValueError("authorities must be 1 or 3")
    if middles < 0 or exits < 1:
        raise ValueError("need middles >= 0 and exits >= 1")
    total = authorities + middles + exits
    if total < 3:
        raise ValueError("need at least 3 relays (authorities+middles+exits) for 3 hops")
    if total > MAX_NODES:
        raise ValueError(f"at most {MAX_NODES} nodes fit the port layout, asked {total}")
    if not 1024 <= base_port <= 65535 - PORT_RANGE:
        raise ValueError(f"base port {base_port} out of range")


def plan_nodes(
    base_port: int, authorities: int, middles: int, exits: int, with_client: bool
) -> tuple[NodeSpec, ...]:
    """Lay out the network's nodes: authorities, middles, exits, then the client."""
    validate_shape(base_port, authorities, middles, exits)
    nodes: list[NodeSpec] = []
    groups = ((Role.AUTHORITY, authorities, "auth"), (Role.MIDDLE, middles, "relay"),
              (Role.EXIT, exits, "exit"))
    k = 1
    for role, count, prefix in groups:
        for i in range(count):
            port = base_port + 10 * k
            dir_port = port + 1 if role is Role.AUTHORITY else 0
            nodes.append(NodeSpec(f"{prefix}{i}", role, port, dir_port, port + 2))
            k += 1
    if with_client:
        nodes.append(NodeSpec("client", Role.CLIENT, control_port=base_port + 1,
                              socks_port=base_port))
    return tuple(nodes)


def external_slot(base_port: int, index: int) -> ExternalSlot:
    """Ports of external relay slot ``index`` (0..4)."""
    if not 0 <= index < EXTERNAL_SLOTS:
        raise ValueError(f"external slot index must be 0..{EXTERNAL_SLOTS - 1}")
    port = base_port + EXTERNAL_BASE + 10 * index
    return ExternalSlot(index, port, port + 1, port + 2)


def spare_port(base_port: int, index: int) -> int:
    """Spare port ``index`` (0..7) for a client that a test runs itself."""
    if not 0 <= index < SPARE_PORTS:
        raise ValueError(f"spare port index must be 0..{SPARE_PORTS - 1}")
    return base_port + 2 + index


def plan_launch(base_port: int, authorities: int, middles: int, exits: int,
                clients: int) -> tuple[NodeSpec, ...]:
    """Nodes of a ``zwiebel testnet up`` network: the relays as ``plan_nodes``,
    then ``clients`` clients numbered on (client0, client1, ...)."""
    if clients < 0:
        raise ValueError("need clients >= 0")
    if authorities + middles + exits + clients > MAX_NODES:
        raise ValueError(f"at most {MAX_NODES} nodes (relays and clients) fit the port "
                         "layout")
    relays = plan_nodes(base_port, authorities, middles, exits, with_client=False)
    out = list(relays)
    for i in range(clients):
        port = base_port + 10 * (len(relays) + 1 + i)
        out.append(NodeSpec(f"client{i}", Role.CLIENT, control_port=port + 2,
                            socks_port=port))
    return tuple(out)
