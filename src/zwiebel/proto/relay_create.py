"""A relay's answer to CREATE_FAST and CREATE2 (tor-spec 5.1, 5.1.4, 5.1.5; proposals/332).

`answer_create(command, payload, keys, rng)` runs the server half of the handshake the
cell asks for and returns the reply cell and the circuit's key material, or raises
`CreateRefused` with the DESTROY reason tor 0.4.9 uses (`command.c`):

* CREATE (TAP) and CREATE2 with HTYPE 0 (TAP): "We no longer accept TAP, for any
  reason" -> DESTROY with reason PROTOCOL;
* CREATE2 with HTYPE 1 (tor's internal CREATE_FAST number) or an unknown HTYPE, and
  malformed cells -> PROTOCOL;
* a handshake that fails (onionskin for another relay, unknown onion key, bad MAC)
  -> PROTOCOL, as tor's cpuworker reply "failed" closes the circuit.

ntor-v3's client message is a list of extensions (`handshake.extensions`); a message
that does not parse fails the handshake, as in tor's
`congestion_control_parse_ext_request`. A congestion-control request is granted when the
caller passes the consensus's cc_sendme_inc (congestion control enabled, tor's
`negotiate_v3_ntor_server_circ_params`): the server message then carries the response
with that increment and `CreateAnswer.sendme_inc` says so; otherwise the server message
is an empty extension list and the circuit keeps fixed SENDME windows.
"""

from __future__ import annotations

from dataclasses import dataclass

from zwiebel.cells.circuit import (
    Create2,
    Created2,
    CreatedFast,
    CreateFast,
    DestroyReason,
    HandshakeType,
)
from zwiebel.cells.framing import ChannelCommand
from zwiebel.crypto import Rng
from zwiebel.crypto.keys import X25519Private
from zwiebel.encoding import ParseError
from zwiebel.proto.handshake import fast, ntor, ntor_v3
from zwiebel.proto.handshake.extensions import (
    ExtensionType,
    cc_response,
    decode_extensions,
    encode_extensions,
    find_extension,
)
from zwiebel.proto.handshake.keys import KeyMaterial

#: Cell commands that open a circuit at a relay.
CREATE_COMMANDS = frozenset({ChannelCommand.CREATE, ChannelCommand.CREATE_FAST,
                             ChannelCommand.CREATE2})


@dataclass(frozen=True)
class OnionKeys:
    """What the circuit handshakes need of a relay's keys.

    `ntor_keys` are the current ntor onion key first, then the previous one (still
    accepted until it expires, tor-spec 5.1.4 "KEYID").
    """

    rsa_id_digest: bytes
    ed25519_id: bytes
    ntor_keys: tuple[X25519Private, ...]


class CreateRefused(Exception):
    """The create cell is refused; answer with DESTROY `reason`."""

    def __init__(self, reason: DestroyReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class CreateAnswer:
    """The reply cell (command, 509-byte payload) and the new hop's keys."""

    command: ChannelCommand
    payload: bytes
    keys: KeyMaterial
    handshake: str
    #: The cc_sendme_inc of congestion control negotiated in ntor-v3, or None.
    sendme_inc: int | None = None


def answer_create(command: int, payload: bytes, keys: OnionKeys, rng: Rng,
                  cc_sendme_inc: int | None = None) -> CreateAnswer:
    """Run the server half of the handshake in a CREATE* cell; `cc_sendme_inc`: grant
    congestion control with this increment to a client that asks (None: never)."""
    try:
        if command == ChannelCommand.CREATE_FAST:
            return _answer_fast(payload, rng)
        if command == ChannelCommand.CREATE2:
            return _answer_create2(Create2.decode(payload), keys, rng, cc_sendme_inc)
    except ParseError as exc:
        raise CreateRefused(DestroyReason.PROTOCOL, f"bad {_name(command)} cell: {exc}") from exc
    if command == ChannelCommand.CREATE:
        raise CreateRefused(DestroyReason.PROTOCOL, "CREATE (TAP) is no longer accepted")
    raise ValueError(f"not a create command: {command}")


def _answer_fast(payload: bytes, rng: Rng) -> CreateAnswer:
    x = CreateFast.decode(payload).x
    reply, material = fast.server_handshake(rng, x)
    cell = CreatedFast(reply[: fast.HASH_LEN], reply[fast.HASH_LEN :])
    return CreateAnswer(ChannelCommand.CREATED_FAST, cell.encode(), material, "fast")


def _answer_create2(cell: Create2, keys: OnionKeys, rng: Rng,
                    cc_sendme_inc: int | None) -> CreateAnswer:
    granted: int | None = None
    if cell.htype == HandshakeType.NTOR:
        reply, material = ntor.server_handshake(rng, cell.hdata, keys.rsa_id_digest,
                                                keys.ntor_keys)
        name = "ntor"
    elif cell.htype == HandshakeType.NTOR_V3:
        negotiation = _Negotiation(cc_sendme_inc)
        reply, material = ntor_v3.server_handshake(rng, cell.hdata, keys.ed25519_id,
                                                   keys.ntor_keys, negotiation.respond)
        name = "ntor-v3"
        granted = negotiation.granted
    elif cell.htype == HandshakeType.TAP:
        raise CreateRefused(DestroyReason.PROTOCOL, "CREATE2 with TAP is no longer accepted")
    else:
        raise CreateRefused(DestroyReason.PROTOCOL, f"CREATE2 with handshake type {cell.htype}")
    return CreateAnswer(ChannelCommand.CREATED2, Created2(reply).encode(), material, name,
                        granted)


class _Negotiation:
    """The server's side of the ntor-v3 message exchange: which extensions it answers."""

    def __init__(self, cc_sendme_inc: int | None) -> None:
        self.cc_sendme_inc = cc_sendme_inc
        self.granted: int | None = None

    def respond(self, client_message: bytes) -> bytes:
        """The server message for `client_message` (a ParseError if it is malformed).

        tor parses the server message as an extension list whose first byte is the count
        (trn_extension_parse in onion_crypto.c); an empty message fails that parse and the
        client closes the circuit, so "no extensions" is the single byte 0.
        """
        requests = decode_extensions(client_message)
        asked = find_extension(requests, ExtensionType.CC_REQUEST) is not None
        if not asked or self.cc_sendme_inc is None:
            return encode_extensions(())
        self.granted = self.cc_sendme_inc
        return encode_extensions((cc_response(self.cc_sendme_inc),))


def _name(command: int) -> str:
    try:
        return ChannelCommand(command).name
    except ValueError:
        return str(command)

