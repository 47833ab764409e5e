"""NetworkView: what a test reads about a running private network.

The lifecycle (keys, torrcs, processes, waiting) is in zwiebel.testnet.realtor;
this base class holds the nodes and answers questions about them: who is an
authority, the DirAuthority lines, control connections, the consensus as the
authority serves it, and a JSON summary.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from zwiebel.testnet import layout
from zwiebel.testnet.dirpoll import StatusEntry, fetch_consensus_entries
from zwiebel.testnet.layout import ExitPolicyMode, Role
from zwiebel.testnet.nodes import TorNode
from zwiebel.testnet.torcontrol import TorControl
from zwiebel.testnet.torrc import dir_authority_line

RUNNING = frozenset({"Running", "Valid"})
RUNNING_EXIT = RUNNING | {"Exit"}


class NetworkView:
    """The nodes of one network and everything derived from them."""

    def __init__(self, base_dir: Path, base_port: int, exit_policy: ExitPolicyMode,
                 nodes: dict[str, TorNode]) -> None:
        self.base_dir = base_dir
        self.base_port = base_port
        self.exit_policy = exit_policy
        self.nodes = nodes
        self.timings: dict[str, float] = {}
        self.nudges: dict[str, int] = {}
        self.tor_version = ""
        self.extra_exits: list[str] = []

    def _with_role(self, *roles: Role) -> list[TorNode]:
        return [n for n in self.nodes.values() if n.role in roles]

    @property
    def authorities(self) -> list[TorNode]:
        """The directory authorities (auth0, ...)."""
        return self._with_role(Role.AUTHORITY)

    @property
    def middles(self) -> list[TorNode]:
        """The non-exit, non-authority relays (relay0, ...)."""
        return self._with_role(Role.MIDDLE)

    @property
    def exits(self) -> list[TorNode]:
        """The exit relays (exit0, ...)."""
        return self._with_role(Role.EXIT)

    @property
    def relays(self) -> list[TorNode]:
        """Every node in the consensus: authorities, middles and exits."""
        return self._with_role(Role.AUTHORITY, Role.MIDDLE, Role.EXIT)

    @property
    def client(self) -> TorNode | None:
        """The real tor client, if the network runs one."""
        return self.nodes.get("client")

    def node(self, name: str) -> TorNode:
        """The node called ``name`` (KeyError if there is none)."""
        return self.nodes[name]

    @property
    def dir_authority_lines(self) -> tuple[str, ...]:
        """The exact ``DirAuthority`` torrc lines for any other tor or Zwiebel."""
        return tuple(dir_authority_line(a.nickname, a.or_port, a.v3ident, a.dir_port,
                                        a.fingerprint) for a in self.authorities)

    @property
    def v3ident(self) -> str:
        """v3 identity fingerprint (hex) of the first authority."""
        return self.authorities[0].v3ident

    @property
    def authority_certificate(self) -> Path:
        """Key certificate file of the first authority (checks consensus signatures)."""
        cert = self.authorities[0].authority_certificate
        assert cert is not None, "keys are made by start()"
        return cert

    @property
    def bootstrap_seconds(self) -> float:
        """Wall time of the whole start(), key generation included."""
        return round(sum(self.timings.values()), 2)

    def spare_port(self, index: int) -> int:
        """A free port of the range (0..7) for a client a test runs itself."""
        return layout.spare_port(self.base_port, index)

    def wanted_flags(self) -> dict[str, frozenset[str]]:
        """Fingerprint -> flags every relay of the network must have in the consensus."""
        return {n.fingerprint: RUNNING_EXIT if n.role is Role.EXIT else RUNNING
                for n in self.relays}

    def exit_fingerprints(self) -> list[str]:
        """Fingerprints the authorities vote Exit for: our exits, then added ones."""
        return [n.fingerprint for n in self.exits] + self.extra_exits

    def control(self, name: str, timeout: float = 10.0) -> TorControl:
        """An authenticated control connection to node ``name`` (caller closes it)."""
        node = self.nodes[name]
        return TorControl.connect(node.control_port, node.cookie_path, timeout)

    def consensus_entries(self, authority: int = 0) -> list[StatusEntry] | None:
        """The status entries of an authority's current consensus (None if none)."""
        return fetch_consensus_entries(self.authorities[authority].dir_port)

    def failure_report(self, lines: int = 12) -> str:
        """The last log lines of every node, for error messages."""
        return "\n".join(f"--- {n.nickname} (pid {n.pid}, {n.log_path}):\n{n.log_tail(lines)}"
                         for n in self.nodes.values())

    def summary(self) -> dict[str, Any]:
        """Everything a test or tool needs about the network, JSON-ready."""
        client = self.client
        return {
            "base_dir": str(self.base_dir), "base_port": self.base_port,
            "tor_version": self.tor_version, "exit_policy": self.exit_policy.value,
            "dir_authority_lines": list(self.dir_authority_lines),
            "v3ident": self.v3ident, "authority_certificate": str(self.authority_certificate),
            "timings": dict(self.timings), "bootstrap_seconds": self.bootstrap_seconds,
            "nudges": dict(self.nudges),
            "client": client.to_json() if client is not None else None,
            "extra_exits": list(self.extra_exits),
            "nodes": [n.to_json() for n in self.nodes.values()],
        }

    def write_json(self, path: Path | str) -> None:
        """Write ``summary()`` to ``path`` (atomically)."""
        target = Path(path)
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.summary(), indent=2) + "\n")
        os.replace(tmp, target)
