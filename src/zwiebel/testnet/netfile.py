"""``DIR/network.json`` and ``DIR/pids.json`` of a ``zwiebel testnet up`` network.

network.json describes the network for people and tools (``status``, tests): every
node's name, implementation, role, ports, identities, files, command and PID, the
DirAuthority lines and how long each start-up phase took. pids.json holds only
what ``down`` needs: name -> PID and torrc. A PID is signalled only while
``/proc/PID/cmdline`` still names that torrc (zwiebel.testnet.procs), so a stale
file never hits an unrelated process. Both files are replaced atomically.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from zwiebel.testnet.procs import pid_runs_torrc

NETWORK_FILE = "network.json"
PIDS_FILE = "pids.json"


@dataclass(frozen=True)
class NodeRecord:
    """One node: ports are 0 where the node has none; identities empty for clients."""

    name: str
    impl: str
    role: str
    or_port: int
    dir_port: int
    socks_port: int
    control_port: int
    fingerprint: str
    ed25519: str
    v3ident: str
    keys_by: str
    data_dir: str
    torrc: str
    log: str
    command: tuple[str, ...]
    pid: int | None = None

    @property
    def cookie(self) -> Path:
        """The control-port authentication cookie."""
        return Path(self.data_dir) / "control_auth_cookie"

    def alive(self) -> bool:
        """True while the recorded PID runs this node's torrc."""
        return self.pid is not None and pid_runs_torrc(self.pid, Path(self.torrc))

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> NodeRecord:
        """The inverse of ``asdict``."""
        return cls(**{**raw, "command": tuple(raw["command"])})


@dataclass(frozen=True)
class NetworkRecord:
    """The whole network as network.json stores it."""

    base_dir: str
    base_port: int
    dir_authority_lines: tuple[str, ...]
    nodes: tuple[NodeRecord, ...]
    timings: dict[str, float] = field(default_factory=dict)

    def node(self, name: str) -> NodeRecord:
        """The node called ``name`` (KeyError if absent)."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)

    def with_role(self, *roles: str) -> list[NodeRecord]:
        """Nodes whose role is one of ``roles`` ("authority", "middle", "exit", "client")."""
        return [n for n in self.nodes if n.role in roles]

    def with_pids(self, pids: dict[str, int]) -> NetworkRecord:
        """A copy with the given PIDs filled in."""
        nodes = tuple(replace(n, pid=pids.get(n.name, n.pid)) for n in self.nodes)
        return replace(self, nodes=nodes)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> NetworkRecord:
        """The inverse of ``to_json``."""
        return cls(raw["base_dir"], int(raw["base_port"]), tuple(raw["dir_authority_lines"]),
                   tuple(NodeRecord.from_json(n) for n in raw["nodes"]),
                   dict(raw.get("timings", {})))


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def write_network(base_dir: Path, record: NetworkRecord) -> None:
    """Write ``DIR/network.json``."""
    _write_json(base_dir / NETWORK_FILE, record.to_json())


def read_network(base_dir: Path) -> NetworkRecord:
    """Read ``DIR/network.json`` (OSError if absent, ValueError/KeyError if malformed)."""
    return NetworkRecord.from_json(json.loads((base_dir / NETWORK_FILE).read_text()))


def write_pids(base_dir: Path, pids: dict[str, tuple[int, Path]]) -> None:
    """Write ``DIR/pids.json``: name -> {pid, torrc}."""
    _write_json(base_dir / PIDS_FILE,
                {name: {"pid": pid, "torrc": str(torrc)} for name, (pid, torrc) in pids.items()})


def read_pids(base_dir: Path) -> dict[str, tuple[int, Path]]:
    """The records of ``write_pids``; {} if there is no pids.json."""
    path = base_dir / PIDS_FILE
    if not path.exists():
        return {}
    raw = json.loads(path.read_text())
    return {name: (int(v["pid"]), Path(v["torrc"])) for name, v in raw.items()}
