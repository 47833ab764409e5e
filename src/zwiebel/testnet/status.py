"""``zwiebel testnet status`` and the node table ``up`` prints.

Status reads ``DIR/network.json`` and asks the live network: is each recorded
process still running its torrc, what consensus does each authority's DirPort serve
(valid-after, how many relays, whether all of ours are listed with their flags),
and how far has each client bootstrapped (control port ``GETINFO
status/bootstrap-phase``, control-spec 4.1.10; else the last "Bootstrapped" line of
its log).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from zwiebel.testnet.dirpoll import CONSENSUS_PATHS, fetch_dir_document, parse_status_entries
from zwiebel.testnet.netfile import NetworkRecord, NodeRecord
from zwiebel.testnet.ready import bootstrap_progress
from zwiebel.testnet.torcontrol import ControlError

COLUMNS = ("name", "impl", "role", "ORPort", "DirPort", "SocksPort", "ControlPort", "pid",
           "fingerprint")


@dataclass(frozen=True)
class ConsensusStatus:
    """What one authority's DirPort serves as its current ns consensus."""

    authority: str
    valid_after: str | None
    relays: int
    ours_listed: int


@dataclass(frozen=True)
class NodeStatus:
    """One recorded process: alive, and for a client its bootstrap state."""

    name: str
    impl: str
    role: str
    pid: int | None
    alive: bool
    bootstrap: str | None


@dataclass(frozen=True)
class NetworkStatus:
    """Everything ``status`` reports."""

    nodes: tuple[NodeStatus, ...]
    consensus: tuple[ConsensusStatus, ...]

    @property
    def all_alive(self) -> bool:
        """True if every recorded process runs."""
        return all(n.alive for n in self.nodes)


def node_table(record: NetworkRecord) -> list[str]:
    """The nodes as an aligned text table (0 ports shown as '-')."""
    rows = [COLUMNS] + [_row(n) for n in record.nodes]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
            for r in rows]


def _row(node: NodeRecord) -> tuple[str, ...]:
    ports = (node.or_port, node.dir_port, node.socks_port, node.control_port)
    return (node.name, node.impl, node.role, *(str(p) if p else "-" for p in ports),
            str(node.pid) if node.pid is not None else "-", node.fingerprint or "-")


def consensus_status(record: NetworkRecord, authority: NodeRecord) -> ConsensusStatus:
    """The authority's current consensus as its DirPort serves it."""
    text = fetch_dir_document(authority.dir_port, CONSENSUS_PATHS["ns"])
    if text is None:
        return ConsensusStatus(authority.name, None, 0, 0)
    match = re.search(r"^valid-after (.+)$", text, re.MULTILINE)
    entries = parse_status_entries(text)
    ours = {n.fingerprint for n in record.nodes if n.fingerprint}
    listed = sum(1 for e in entries if e.fingerprint in ours and "Running" in e.flags)
    return ConsensusStatus(authority.name, match.group(1) if match else None, len(entries),
                           listed)


def client_bootstrap(node: NodeRecord) -> str:
    """``PROGRESS% SUMMARY`` from the control port, else from the log, else unknown."""
    try:
        progress, phase = bootstrap_progress(node.control_port, node.cookie)
    except (OSError, ControlError):
        return _bootstrap_from_log(Path(node.log)) or "unknown (control port closed, no log)"
    summary = re.search(r'SUMMARY="([^"]*)"', phase)
    return f"{progress}% {summary.group(1) if summary else phase}"


def _bootstrap_from_log(log: Path) -> str | None:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return None
    found = re.findall(r"Bootstrapped (\d+)% \([^)]*\): (.*)", text)
    return f"{found[-1][0]}% {found[-1][1]} (from log)" if found else None


def collect_status(record: NetworkRecord) -> NetworkStatus:
    """Ask the processes, the authorities and the clients."""
    nodes = tuple(
        NodeStatus(n.name, n.impl, n.role, n.pid, n.alive(),
                   client_bootstrap(n) if n.role == "client" else None)
        for n in record.nodes)
    consensus = tuple(consensus_status(record, a) for a in record.with_role("authority"))
    return NetworkStatus(nodes, consensus)


def format_status(record: NetworkRecord, status: NetworkStatus) -> list[str]:
    """Lines for the terminal."""
    ours = len([n for n in record.nodes if n.fingerprint])
    lines = [f"network in {record.base_dir} (ports {record.base_port}-"
             f"{record.base_port + 199})"]
    for node in status.nodes:
        state = "alive" if node.alive else "dead"
        extra = f", bootstrap {node.bootstrap}" if node.bootstrap is not None else ""
        lines.append(f"  {node.name:<9} {node.impl:<8} {node.role:<10} pid {node.pid or '-'} "
                     f"{state}{extra}")
    for cons in status.consensus:
        if cons.valid_after is None:
            lines.append(f"  consensus from {cons.authority}: none served")
        else:
            lines.append(f"  consensus from {cons.authority}: valid-after {cons.valid_after}, "
                         f"{cons.relays} relays, {cons.ours_listed}/{ours} of ours Running")
    return lines
