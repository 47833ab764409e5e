"""A threaded HTTP server on 127.0.0.1 serving random files of given sizes, and taking
uploads (POST, answered with their SHA-256).

Each file is random bytes kept in memory, also written to disk, with its SHA-256, so
a test can compare what came through a Tor circuit byte for byte. Clients that drop
the connection mid-transfer (a relay killed mid-download) are not reported as errors.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import socket
import socketserver
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

HOST = "127.0.0.1"
CHUNK = 64 * 1024
#: Seconds ``POST /slow`` waits after each piece it reads.
SLOW_PAUSE = 0.02

DEFAULT_FILES: Mapping[str, int] = {
    "1k.bin": 1024,
    "1m.bin": 1024 * 1024,
    "10m.bin": 10 * 1024 * 1024,
}


@dataclass(frozen=True)
class ServedFile:
    """One served file: name, size in bytes, hex SHA-256, URL and copy on disk."""

    name: str
    size: int
    sha256: str
    url: str
    path: Path


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._respond(with_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(with_body=False)

    def do_POST(self) -> None:  # noqa: N802
        """Take an upload and answer with its SHA-256 in hex. On ``/slow`` the body is
        read in 64 KiB pieces with a pause after each (about 3 MB/s) through a receive
        buffer kept at 64 KiB (no autotuning to many MB), so that an exit has to buffer
        what the client sends faster."""
        if self.path == "/slow":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CHUNK)
        length = int(self.headers.get("Content-Length", "0"))
        digest = hashlib.sha256()
        left = length
        while left:
            piece = self.rfile.read(min(left, CHUNK))
            if not piece:
                break
            digest.update(piece)
            left -= len(piece)
            if self.path == "/slow":
                time.sleep(SLOW_PAUSE)
        answer = digest.hexdigest().encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def _respond(self, with_body: bool) -> None:
        body = self.server.payloads.get(self.path.lstrip("/"))
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            view = memoryview(body)
            for start in range(0, len(view), CHUNK):
                self.wfile.write(view[start:start + CHUNK])

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    payloads: dict[str, bytes]

    def handle_error(self, request: object, client_address: object) -> None:
        return  # peers vanishing mid-transfer are expected in these tests


class FileServer:
    """Serves ``files`` (name -> size) from memory on 127.0.0.1, port chosen by the OS."""

    def __init__(self, directory: Path, files: Mapping[str, int] = DEFAULT_FILES,
                 host: str = HOST) -> None:
        self.directory = directory
        self.host = host
        self._sizes = dict(files)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.files: dict[str, ServedFile] = {}

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        assert self._server is not None, "start() first"
        return int(self._server.server_address[1])

    def url(self, name: str) -> str:
        """The http://127.0.0.1:PORT/NAME URL of a served file."""
        return f"http://{self.host}:{self.port}/{name}"

    def start(self) -> None:
        """Generate the files and start serving in a daemon thread."""
        self._server = _Server((self.host, 0), _Handler)
        self._server.payloads = {}
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, size in self._sizes.items():
            data = os.urandom(size)
            path = self.directory / name
            path.write_bytes(data)
            self._server.payloads[name] = data
            digest = hashlib.sha256(data).hexdigest()
            self.files[name] = ServedFile(name, size, digest, self.url(name), path)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="test-http-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> FileServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                 exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
