"""TLS contexts for OR connections (tor-spec 2: "TLS ... at least 1.2; 1.3 fine")."""

from __future__ import annotations

import ssl

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from OpenSSL import SSL

from zwiebel.crypto.keys import RsaPrivate


def client_context() -> ssl.SSLContext:
    """A context for connecting to an ORPort.

    Relays present self-signed link certificates, so X.509 path validation is off; the
    peer's identity is proven by the CERTS cell instead, which binds the TLS certificate
    (tor-spec 4.2). The certificate itself is still read, for that binding.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    return ctx


# -- relays: TLS with an RFC 5705 exporter (pyOpenSSL over memory BIOs) ----------------
#
# A relay needs the TLS exporter on both ends of a channel (spec-pitfalls 2): as the
# initiator to sign AUTHENTICATE, as the responder to check it. The stdlib ssl module has
# no exporter, so relay channels run pyOpenSSL connections over memory BIOs and asyncio
# carries the raw TCP bytes (`TlsEngine`). Client-only code keeps `client_context`.


def relay_server_context(cert_der: bytes, key: RsaPrivate) -> SSL.Context:
    """The ORPort's context: our link certificate and key, TLS 1.2 or later, no client
    certificate requested (initiators prove themselves with CERTS/AUTHENTICATE)."""
    ctx = _relay_context()
    ctx.use_certificate(x509.load_der_x509_certificate(cert_der))
    ctx.use_privatekey(key.native)
    ctx.check_privatekey()
    return ctx


def relay_client_context() -> SSL.Context:
    """A relay's context for connecting to other relays (no X.509 path validation: the
    CERTS cell binds the peer's certificate, tor-spec 4.2)."""
    ctx = _relay_context()
    ctx.set_verify(SSL.VERIFY_NONE, lambda *args: True)
    return ctx


def _relay_context() -> SSL.Context:
    """TLS 1.2 or later; an idle connection gives its record buffers back, as tor sets
    SSL_MODE_RELEASE_BUFFERS (tortls_openssl.c; the stdlib ssl module sets it too). The
    bench's 5,000 idle connections with a circuit each took 55 KiB apiece without it and
    35 KiB with it (tor: 19 KiB)."""
    ctx = SSL.Context(SSL.TLS_METHOD)
    ctx.set_min_proto_version(SSL.TLS1_2_VERSION)
    ctx.set_mode(SSL.MODE_RELEASE_BUFFERS)
    return ctx


#: Bytes taken from the memory BIO per read; a shorter read means it is empty.
_BIO_CHUNK = 1 << 18


class TlsError(Exception):
    """The TLS layer failed (handshake or record error)."""


class TlsEngine:
    """One TLS connection over memory BIOs: TCP bytes in, plaintext out, and back.

    `feed(data)` takes bytes from the socket and returns decrypted application data;
    `send(data)` encrypts; `pending_output()` drains what must be written to the socket.
    """

    __slots__ = ("_conn", "handshake_done", "closed")

    def __init__(self, ctx: SSL.Context, server: bool) -> None:
        self._conn = SSL.Connection(ctx, None)
        if server:
            self._conn.set_accept_state()
        else:
            self._conn.set_connect_state()
        self.handshake_done = False
        self.closed = False

    def start(self) -> None:
        """Begin the handshake (the client's first flight)."""
        self._handshake()

    def feed(self, data: bytes) -> bytes:
        """Process bytes from the network; return application data decrypted so far."""
        try:
            if data:
                self._conn.bio_write(data)
        except SSL.Error as exc:
            raise TlsError(f"TLS input error: {exc}") from exc
        if not self.handshake_done and not self._handshake():
            return b""
        return self._read_plaintext()

    def _handshake(self) -> bool:
        try:
            self._conn.do_handshake()
        except SSL.WantReadError:
            return False
        except SSL.Error as exc:
            raise TlsError(f"TLS handshake failed: {exc}") from exc
        self.handshake_done = True
        return True

    def _read_plaintext(self) -> bytes:
        chunks = []
        while True:
            try:
                chunks.append(self._conn.recv(65536))
            except SSL.WantReadError:
                break
            except SSL.ZeroReturnError:
                self.closed = True
                break
            except SSL.Error as exc:
                raise TlsError(f"TLS record error: {exc}") from exc
        return b"".join(chunks)

    def send(self, data: bytes | bytearray) -> None:
        """Encrypt application data (after the handshake): one SSL_write for all of it,
        which OpenSSL cuts into full-size records."""
        view = memoryview(data)
        while view:
            try:
                sent = self._conn.send(view)
            except SSL.Error as exc:
                raise TlsError(f"TLS write error: {exc}") from exc
            view = view[sent:]

    def pending_output(self) -> bytes:
        """Encrypted bytes waiting to go to the socket."""
        chunks = []
        while True:
            try:
                chunk = self._conn.bio_read(_BIO_CHUNK)
            except SSL.WantReadError:
                break
            chunks.append(chunk)
            if len(chunk) < _BIO_CHUNK:
                break
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    def exporter(self, label: bytes, context: bytes, length: int) -> bytes:
        """RFC 5705 keying material (tor-spec 4.4.2 TLSSECRETS)."""
        return bytes(self._conn.export_keying_material(label, length, context))

    def peer_cert_der(self) -> bytes | None:
        """The DER of the peer's certificate, if it sent one."""
        cert = self._conn.get_peer_certificate(as_cryptography=True)
        return None if cert is None else cert.public_bytes(serialization.Encoding.DER)
