"""Link-handshake messages (tor-spec sections 4.1-4.5, 7.2).

Each message is a frozen dataclass whose ``encode()`` gives the cell *payload* and
whose ``decode(payload)`` parses one; framing (circuit ID, command, length, padding)
is `zwiebel.cells.framing`. Decoders follow tor's parsers: trailing bytes are ignored
where the spec says "MUST ignore" (CERTS, AUTH_CHALLENGE, AUTHENTICATE, NETINFO), and
every malformed field raises `ParseError`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import ClassVar

from zwiebel.cells.framing import PAYLOAD_LEN, ChannelCommand
from zwiebel.encoding import ParseError, Reader, Writer


@dataclass(frozen=True)
class Versions:
    """VERSIONS (tor-spec 4.1): the link protocol versions the sender supports."""

    COMMAND: ClassVar[int] = ChannelCommand.VERSIONS
    versions: tuple[int, ...]

    def encode(self) -> bytes:
        """Payload: one big-endian u16 per version, no padding."""
        return b"".join(v.to_bytes(2, "big") for v in self.versions)

    @classmethod
    def decode(cls, payload: bytes) -> Versions:
        """"Either party MUST close the connection if ... the payload contains an odd
        number of bytes"."""
        if len(payload) % 2:
            raise ParseError("VERSIONS payload has an odd length")
        return cls(tuple(int.from_bytes(payload[i : i + 2], "big")
                         for i in range(0, len(payload), 2)))

    def best_common(self, ours: tuple[int, ...]) -> int | None:
        """The highest version in both lists, or None."""
        common = set(self.versions) & set(ours)
        return max(common) if common else None


class CertType:
    """CertType values of a CERTS cell (tor-spec 4.2)."""

    RSA_LINK = 1
    RSA_ID = 2
    RSA_AUTH = 3
    ED_ID_SIGNING = 4
    ED_SIGNING_LINK = 5
    ED_SIGNING_AUTH = 6
    RSA_ED_CROSSCERT = 7


@dataclass(frozen=True)
class Certs:
    """CERTS (tor-spec 4.2): a list of (CertType, certificate body)."""

    COMMAND: ClassVar[int] = ChannelCommand.CERTS
    certs: tuple[tuple[int, bytes], ...]

    def encode(self) -> bytes:
        """Payload: N, then N times CertType, CLEN, body."""
        w = Writer().u8(len(self.certs))
        for cert_type, body in self.certs:
            w.u8(cert_type).nested_u16(body)
        return w.getvalue()

    @classmethod
    def decode(cls, payload: bytes) -> Certs:
        """"Any extra octets at the end of a CERTS cell MUST be ignored"."""
        r = Reader(payload)
        certs = []
        for _ in range(r.u8()):
            cert_type = r.u8()
            certs.append((cert_type, r.take(r.u16())))
        return cls(tuple(certs))


#: AUTH_CHALLENGE / AUTHENTICATE method "Ed25519-SHA256-RFC5705" (tor-spec 4.4.2).
AUTH_METHOD_ED25519_SHA256_RFC5705 = 3


@dataclass(frozen=True)
class AuthChallenge:
    """AUTH_CHALLENGE (tor-spec 4.3): a 32-byte challenge and accepted auth methods."""

    COMMAND: ClassVar[int] = ChannelCommand.AUTH_CHALLENGE
    challenge: bytes
    methods: tuple[int, ...]

    def encode(self) -> bytes:
        """Payload: challenge, N_Methods, methods."""
        if len(self.challenge) != 32:
            raise ValueError("challenge must be 32 bytes")
        w = Writer().raw(self.challenge).u16(len(self.methods))
        for method in self.methods:
            w.u16(method)
        return w.getvalue()

    @classmethod
    def decode(cls, payload: bytes) -> AuthChallenge:
        """"Initiators MUST ignore unexpected bytes at the end of the cell"."""
        r = Reader(payload)
        challenge = r.take(32)
        return cls(challenge, tuple(r.u16() for _ in range(r.u16())))


@dataclass(frozen=True)
class Authenticate:
    """AUTHENTICATE (tor-spec 4.4): AuthType and its Authentication body."""

    COMMAND: ClassVar[int] = ChannelCommand.AUTHENTICATE
    auth_type: int
    body: bytes

    def encode(self) -> bytes:
        """Payload: AuthType, AuthLen, Authentication."""
        return Writer().u16(self.auth_type).nested_u16(self.body).getvalue()

    @classmethod
    def decode(cls, payload: bytes) -> Authenticate:
        """"Responders MUST ignore extra bytes at the end of an AUTHENTICATE cell"."""
        r = Reader(payload)
        auth_type = r.u16()
        return cls(auth_type, r.take(r.u16()))


AUTH0003_TYPE = b"AUTH0003"
_AUTH0003_FIELDS = 8 + 32 * 8 + 24


@dataclass(frozen=True)
class Auth0003:
    """The Authentication body of AuthType 3 (tor-spec 4.4.2).

    CID/SID are SHA-256 digests of the RSA identity keys' DER, CID_ED/SID_ED the
    Ed25519 identities, SLOG/CLOG the handshake transcripts, SCERT the SHA-256 of the
    responder's TLS certificate, TLSSECRETS the RFC 5705 exporter output.
    """

    cid: bytes
    sid: bytes
    cid_ed: bytes
    sid_ed: bytes
    slog: bytes
    clog: bytes
    scert: bytes
    tlssecrets: bytes
    rand: bytes
    sig: bytes = b""

    def signed_part(self) -> bytes:
        """TYPE through RAND: the bytes the initiator's auth key signs."""
        fields = (self.cid, self.sid, self.cid_ed, self.sid_ed, self.slog, self.clog,
                  self.scert, self.tlssecrets)
        if any(len(f) != 32 for f in fields) or len(self.rand) != 24:
            raise ValueError("AUTH0003 field of the wrong length")
        return AUTH0003_TYPE + b"".join(fields) + self.rand

    def encode(self) -> bytes:
        """The whole body, signature last."""
        return self.signed_part() + self.sig

    @classmethod
    def decode(cls, body: bytes) -> Auth0003:
        """Parse a body; the signature is everything after RAND."""
        if len(body) < _AUTH0003_FIELDS or body[:8] != AUTH0003_TYPE:
            raise ParseError("not an AUTH0003 body")
        f = [body[8 + 32 * i : 8 + 32 * (i + 1)] for i in range(8)]
        return cls(cid=f[0], sid=f[1], cid_ed=f[2], sid_ed=f[3], slog=f[4], clog=f[5],
                   scert=f[6], tlssecrets=f[7], rand=body[8 + 256 : _AUTH0003_FIELDS],
                   sig=body[_AUTH0003_FIELDS:])


@dataclass(frozen=True)
class UnknownAddress:
    """A NETINFO address of a type other than IPv4/IPv6 (kept, not interpreted)."""

    atype: int
    value: bytes


NetAddress = ipaddress.IPv4Address | ipaddress.IPv6Address | UnknownAddress
_ATYPE_IPV4 = 4
_ATYPE_IPV6 = 6


def encode_net_address(w: Writer, addr: NetAddress) -> None:
    """Append ATYPE, ALEN, AVAL (tor-spec 4.5)."""
    if isinstance(addr, ipaddress.IPv4Address):
        w.u8(_ATYPE_IPV4).nested_u8(addr.packed)
    elif isinstance(addr, ipaddress.IPv6Address):
        w.u8(_ATYPE_IPV6).nested_u8(addr.packed)
    else:
        w.u8(addr.atype).nested_u8(addr.value)


def decode_net_address(r: Reader) -> NetAddress:
    """Read one address; like tor, an IPv4/IPv6 value of the wrong length is an error."""
    atype = r.u8()
    value = r.take(r.u8())
    if atype == _ATYPE_IPV4:
        if len(value) != 4:
            raise ParseError("IPv4 address with ALEN != 4")
        return ipaddress.IPv4Address(value)
    if atype == _ATYPE_IPV6:
        if len(value) != 16:
            raise ParseError("IPv6 address with ALEN != 16")
        return ipaddress.IPv6Address(value)
    return UnknownAddress(atype, value)


@dataclass(frozen=True)
class Netinfo:
    """NETINFO (tor-spec 4.5): sender's clock, the peer's address, sender's addresses."""

    COMMAND: ClassVar[int] = ChannelCommand.NETINFO
    timestamp: int
    other_address: NetAddress
    my_addresses: tuple[NetAddress, ...] = ()

    def encode(self) -> bytes:
        """Payload without padding (the framing pads fixed cells)."""
        w = Writer().u32(self.timestamp)
        encode_net_address(w, self.other_address)
        w.u8(len(self.my_addresses))
        for addr in self.my_addresses:
            encode_net_address(w, addr)
        if len(w) > PAYLOAD_LEN:
            raise ValueError("NETINFO too long")
        return w.getvalue()

    @classmethod
    def decode(cls, payload: bytes) -> Netinfo:
        """"Implementations MUST ignore unexpected bytes at the end of the cell"."""
        r = Reader(payload)
        timestamp = r.u32()
        other = decode_net_address(r)
        mine = tuple(decode_net_address(r) for _ in range(r.u8()))
        return cls(timestamp, other, mine)


@dataclass(frozen=True)
class Padding:
    """PADDING (tor-spec 7.2): a fixed-size keepalive; its payload is ignored."""

    COMMAND: ClassVar[int] = ChannelCommand.PADDING

    def encode(self) -> bytes:
        """Empty payload (the framing pads it with zeros)."""
        return b""

    @classmethod
    def decode(cls, payload: bytes) -> Padding:
        """Any payload is padding."""
        return cls()


@dataclass(frozen=True)
class VPadding:
    """VPADDING (tor-spec 7.2): variable-length padding of `length` bytes."""

    COMMAND: ClassVar[int] = ChannelCommand.VPADDING
    length: int = 0

    def encode(self) -> bytes:
        """`length` zero bytes."""
        return bytes(self.length)

    @classmethod
    def decode(cls, payload: bytes) -> VPadding:
        """Only the length is kept."""
        return cls(len(payload))


@dataclass(frozen=True)
class Unrecognized:
    """A cell whose command this module does not interpret."""

    command: int
    payload: bytes

    def encode(self) -> bytes:
        """The payload as received."""
        return self.payload


LinkMessage = (Versions | Certs | AuthChallenge | Authenticate | Netinfo | Padding | VPadding
               | Unrecognized)

_DECODERS: dict[int, type[Versions | Certs | AuthChallenge | Authenticate | Netinfo | Padding
                          | VPadding]] = {
    ChannelCommand.VERSIONS: Versions,
    ChannelCommand.CERTS: Certs,
    ChannelCommand.AUTH_CHALLENGE: AuthChallenge,
    ChannelCommand.AUTHENTICATE: Authenticate,
    ChannelCommand.NETINFO: Netinfo,
    ChannelCommand.PADDING: Padding,
    ChannelCommand.VPADDING: VPadding,
}


def decode_link_message(command: int, payload: bytes) -> LinkMessage:
    """Decode a link-handshake cell payload; other commands become `Unrecognized`."""
    decoder = _DECODERS.get(command)
    if decoder is None:
        return Unrecognized(command, payload)
    return decoder.decode(payload)
