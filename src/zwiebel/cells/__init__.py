"""Cell codecs (layer 1): pure encoders and decoders for what travels on a channel.

One module per tor-spec chapter:

* `framing`: fixed-size and variable-length cells, the `ChannelCommand` numbers and an
  incremental `CellDecoder` (tor-spec 3);
* `link`: the link-handshake messages VERSIONS, CERTS, AUTH_CHALLENGE, AUTHENTICATE
  (with the AUTH0003 body), NETINFO, PADDING, VPADDING (tor-spec 4);
* `torcert`: tor's Ed25519 certificates and the RSA->Ed25519 cross-certificate
  (cert-spec);
* circuit-level cells (CREATE2, CREATED2, DESTROY...), relay cells and messages, and
  link specifiers live in their own modules of this package.

Design notes: messages are frozen dataclasses with ``encode()`` giving the payload and
``decode(payload)`` parsing one; malformed input raises `zwiebel.encoding.ParseError`,
unknown commands decode to an `Unrecognized` value. Decoding never checks signatures:
certificates are parsed here and verified by the protocol layer (`zwiebel.proto`).

Deliberately not here: link protocol versions 1-3 (2-byte circuit IDs are only read
before the VERSIONS exchange), the v1/v2 handshakes and renegotiation, TLS, sockets.
"""
