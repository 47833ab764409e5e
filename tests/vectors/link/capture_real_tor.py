"""Capture a real tor relay's side of the link handshake as a test vector.

Source of tests/vectors/link/tor-0.4.9.11-responder.json. Usage (tor listening on
127.0.0.1:PORT with DataDirectory DIR, e.g. ``ORPort 127.0.0.1:23150``,
``AssumeReachable 1``, ``PublishServerDescriptor 0``, ``ExitRelay 0``):

    python tests/vectors/link/capture_real_tor.py PORT DIR OUT.json

It connects with TLS (no verification, TLS >= 1.2), sends VERSIONS [4, 5], and records
every byte the relay sends up to and including its NETINFO, the relay's TLS
certificate, its fingerprints from DIR, and the time of the capture.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import sys
from pathlib import Path

from zwiebel.cells.framing import CellDecoder, ChannelCommand, encode_cell
from zwiebel.cells.link import Versions


def capture(port: int) -> tuple[bytes, bytes, bytes, dt.datetime]:
    """(bytes received, our VERSIONS bytes, TLS certificate DER, capture time)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    sent = encode_cell(0, ChannelCommand.VERSIONS, Versions((4, 5)).encode(), None)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
            ctx.wrap_socket(raw) as tls:
        der = tls.getpeercert(binary_form=True)
        assert der is not None
        tls.sendall(sent)
        when = dt.datetime.now(dt.UTC).replace(microsecond=0)
        return _read_until_netinfo(tls), sent, der, when


def _read_until_netinfo(tls: ssl.SSLSocket) -> bytes:
    received = bytearray()
    decoder = CellDecoder()
    while True:
        chunk = tls.recv(65536)
        if not chunk:
            raise RuntimeError("connection closed before NETINFO")
        received += chunk
        cells = decoder.feed(chunk)
        while cells:
            for _circ, command, payload in cells:
                if command == ChannelCommand.VERSIONS:
                    best = Versions.decode(payload).best_common((4, 5))
                    assert best is not None
                    decoder.set_link_version(best)
                if command == ChannelCommand.NETINFO:
                    return bytes(received)
            cells = decoder.feed(b"")


def main() -> None:
    """Write the vector file."""
    port, data_dir, out = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    received, sent, der, when = capture(port)
    vector = {
        "source": "tor 0.4.9.11 relay on 127.0.0.1, captured by capture_real_tor.py",
        "captured_at": when.isoformat(),
        "sent_hex": sent.hex(),
        "received_hex": received.hex(),
        "tls_cert_der_hex": der.hex(),
        "rsa_fingerprint": (data_dir / "fingerprint").read_text().split()[1],
        "ed25519_identity_b64": (data_dir / "fingerprint-ed25519").read_text().split()[1],
    }
    out.write_text(json.dumps(vector, indent=1) + "\n")


if __name__ == "__main__":
    main()
