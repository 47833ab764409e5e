"""TLS contexts for OR connections (tor-spec 2: "TLS ... at least 1.2; 1.3 fine")."""

from __future__ import annotations

import ssl


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
