"""What a test needs to know about one tor process of the network."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zwiebel.testnet.layout import NodeSpec, Role
from zwiebel.testnet.procs import TorProcess


@dataclass
class TorNode:
    """One tor of the network: static layout, identities, files and its process.

    ``fingerprint`` (RSA identity, 40 upper-case hex) and ``ed25519`` (base64) are
    empty for the client; ``v3ident`` and ``authority_certificate`` are set for
    authorities only. ``pid`` is that of the running (or last) process.
    """

    spec: NodeSpec
    data_dir: Path
    fingerprint: str = ""
    ed25519: str = ""
    v3ident: str = ""
    authority_certificate: Path | None = None
    process: TorProcess | None = field(default=None, repr=False)

    @property
    def nickname(self) -> str:
        """The node's nickname (also its directory name): auth0, relay1, exit0, client."""
        return self.spec.name

    @property
    def role(self) -> Role:
        """Authority, middle, exit or client."""
        return self.spec.role

    @property
    def or_port(self) -> int:
        """ORPort on 127.0.0.1 (0 for the client)."""
        return self.spec.or_port

    @property
    def dir_port(self) -> int:
        """DirPort on 127.0.0.1 (authorities only, else 0)."""
        return self.spec.dir_port

    @property
    def control_port(self) -> int:
        """ControlPort on 127.0.0.1 (cookie authentication)."""
        return self.spec.control_port

    @property
    def socks_port(self) -> int:
        """SocksPort on 127.0.0.1 (client only, else 0)."""
        return self.spec.socks_port

    @property
    def cookie_path(self) -> Path:
        """The control-port authentication cookie tor writes."""
        return self.data_dir / "control_auth_cookie"

    @property
    def torrc_path(self) -> Path:
        """The node's torrc."""
        return self.data_dir / "torrc"

    @property
    def log_path(self) -> Path:
        """The node's notice-level log."""
        return self.data_dir / "tor.log"

    @property
    def pid(self) -> int | None:
        """PID of the node's tor, None if never started."""
        return self.process.pid if self.process is not None else None

    @property
    def running(self) -> bool:
        """True while the node's tor process runs."""
        return self.process is not None and self.process.alive()

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of the node's log (or stdout if tor never opened its log)."""
        for path in (self.log_path, self.data_dir / "stdout.log"):
            try:
                text = path.read_text(errors="replace")
            except OSError:
                continue
            if text.strip():
                return "\n".join(text.splitlines()[-lines:])
        return "(no log)"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary of the node."""
        out: dict[str, Any] = {
            "nickname": self.nickname, "role": self.role.value,
            "control_port": self.control_port, "cookie": str(self.cookie_path),
            "data_dir": str(self.data_dir), "pid": self.pid, "running": self.running,
        }
        if self.role is Role.CLIENT:
            out["socks_port"] = self.socks_port
            return out
        out.update(or_port=self.or_port, fingerprint=self.fingerprint, ed25519=self.ed25519)
        if self.role is Role.AUTHORITY:
            out.update(dir_port=self.dir_port, v3ident=self.v3ident,
                       authority_certificate=str(self.authority_certificate))
        return out
