"""Downloading through a SOCKS port with curl (socks5-hostname), bounded in time."""

from __future__ import annotations

import hashlib
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CurlResult:
    """Outcome of one curl run: exit code, bytes written, SHA-256, seconds, stderr."""

    returncode: int
    size: int
    sha256: str
    seconds: float
    stderr: str

    @property
    def ok(self) -> bool:
        """True if curl exited 0."""
        return self.returncode == 0


def curl_via_socks(socks_port: int, url: str, out: Path, max_time: float = 120.0,
                   isolation: str | None = None) -> CurlResult:
    """Fetch ``url`` through the SOCKS5 proxy on 127.0.0.1:``socks_port`` into ``out``.

    The host name goes to the proxy unresolved (--socks5-hostname). ``isolation``
    becomes the SOCKS username, which makes tor use a circuit of its own.
    """
    proxy = f"127.0.0.1:{socks_port}"
    argv = ["curl", "--silent", "--show-error", "--fail", "--max-time", str(max_time),
            "--socks5-hostname", proxy, "--output", str(out)]
    if isolation is not None:
        argv += ["--proxy-user", f"{isolation}:x"]
    start = time.monotonic()
    proc = subprocess.run(argv + [url], capture_output=True, timeout=max_time + 30,
                          check=False)
    seconds = time.monotonic() - start
    data = out.read_bytes() if out.exists() else b""
    return CurlResult(proc.returncode, len(data), hashlib.sha256(data).hexdigest(),
                      round(seconds, 3), proc.stderr.decode(errors="replace"))


def upload_via_socks(socks_port: int, url: str, body: Path, max_time: float = 120.0,
                     isolation: str | None = None) -> tuple[CurlResult, str]:
    """POST the file ``body`` to ``url`` through the SOCKS5 proxy: (curl's outcome, the
    server's answer, which `FileServer` makes the upload's SHA-256 in hex)."""
    proxy = f"127.0.0.1:{socks_port}"
    argv = ["curl", "--silent", "--show-error", "--fail", "--max-time", str(max_time),
            "--socks5-hostname", proxy, "--data-binary", f"@{body}",
            "-H", "Content-Type: application/octet-stream"]
    if isolation is not None:
        argv += ["--proxy-user", f"{isolation}:x"]
    start = time.monotonic()
    proc = subprocess.run(argv + [url], capture_output=True, timeout=max_time + 30,
                          check=False)
    answer = proc.stdout.decode(errors="replace").strip()
    result = CurlResult(proc.returncode, len(proc.stdout), hashlib.sha256(proc.stdout).hexdigest(),
                        round(time.monotonic() - start, 3), proc.stderr.decode(errors="replace"))
    return result, answer
