"""Server side of SOCKS4, SOCKS4a and SOCKS5 as a sans-I/O state machine.

Implements tor 0.4.9.11's SocksPort handshake (src/core/proto/proto_socks.c,
`fetch_from_buf_socks` and `handle_socks_message`; replies from
src/core/or/connection_edge.c) over RFC 1928, RFC 1929 and socks-extensions.txt.

The message handled next is chosen by (state, first byte) in `_DISPATCH`, as tor
chooses it from the first byte and what was negotiated so far. Faithful quirks:
a SOCKS4 request is accepted at any point of the handshake; a client that chose
"no auth" may still send an RFC 1929 message, which is accepted; an HTTP request
(first byte G, H, P or C) gets tor's "not an HTTP proxy" page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address

from zwiebel.socks import replies, texts
from zwiebel.socks.constants import (
    MAX_SOCKS_ADDR_LEN,
    MAX_SOCKS_MESSAGE_LEN,
    AuthMethod,
    Command,
    Socks5Reply,
    SocksParseError,
)
from zwiebel.socks.events import (
    Auth,
    Event,
    NeedMoreData,
    NoAuth,
    Request,
    Socks4UserId,
    SocksError,
    StreamData,
    Target,
    UsernamePassword,
)
from zwiebel.socks.states import DISPATCH, HANDSHAKE_STATES, State, classify
from zwiebel.socks.wire import (
    ATYP_DOMAINNAME,
    ATYP_IPV4,
    Incomplete,
    Socks4Request,
    Socks5Request,
    is_valid_dest,
    parse_ip,
    parse_method_offer,
    parse_socks4,
    parse_socks5_request,
    parse_userpass,
)


@dataclass(frozen=True)
class SocksOptions:
    """The torrc/SocksPort settings the handshake depends on.

    `has_mapping(address)` answers tor's `addressmap_have_mapping`: an IP address
    with a MapAddress entry is not reported as unsafe.
    """

    safe_socks: bool = False
    test_socks: bool = False
    prefer_no_auth: bool = False
    ipv6_client: bool = False
    safe_logging: bool = True
    has_mapping: Callable[[str], bool] = field(default=lambda _address: False)


class SocksServerConnection:
    """One client connection to a SocksPort: feed bytes in, read events and bytes out."""

    def __init__(self, options: SocksOptions | None = None) -> None:
        self.options = options or SocksOptions()
        self.state = State.START
        self.version = 0
        self.request: Request | None = None
        self._auth: Auth = NoAuth()
        self._inbuf = b""
        self._outbuf = bytearray()
        self._events: list[Event] = []
        self._pending: bytes | None = None

    def data_to_send(self) -> bytes:
        """Return and forget the bytes queued for the client."""
        out = bytes(self._outbuf)
        self._outbuf.clear()
        return out

    def receive_data(self, data: bytes) -> list[Event]:
        """Process bytes from the client; never raises on malformed input.

        As in tor, the handshake replies produced while handling one batch of input
        replace each other: only the last one is sent (a client that pipelines its
        greeting and request gets the request's answer only).
        """
        if self.state is State.CLOSED:
            return []
        self._inbuf += data
        self._events = []
        self._pending = None
        try:
            self._run_handshake()
        except SocksParseError as err:
            self._fail(err)
        if self._pending is not None:
            self._outbuf += self._pending
        if self.state in (State.AWAITING_REPLY, State.OPEN) and self._inbuf:
            self._events.append(StreamData(self._inbuf))
            self._inbuf = b""
        return self._events

    def _run_handshake(self) -> None:
        while self.state in HANDSHAKE_STATES:
            if len(self._inbuf) < 2:
                self._events.append(NeedMoreData())
                return
            handler = getattr(self, DISPATCH[(self.state, classify(self._inbuf[0]))])
            try:
                used: int = handler(self._inbuf)
            except Incomplete:
                self._events.append(NeedMoreData())
                return
            self._inbuf = self._inbuf[used:]

    def _fail(self, err: SocksParseError) -> None:
        if err.reply is not None:
            self._pending = err.reply
        elif self._pending is None:
            self._pending = replies.protocol_error_reply(
                self.version, ipv6_client=self.options.ipv6_client
            )
        warnings = getattr(err, "warnings", ())
        status = getattr(err, "client_status", ())
        self._events.append(SocksError(str(err), self._pending, warnings, status))
        self.state = State.CLOSED
        self._inbuf = b""

    # -- handlers: each returns the number of bytes used --------------------

    def _on_http(self, data: bytes) -> int:
        raise _rejection(
            texts.unknown_version_warning(data[0]),
            replies.HTTP_NOT_A_PROXY_PAGE,
            client_status=(texts.unknown_protocol_status(data),),
        )

    def _on_unknown(self, data: bytes) -> int:
        raise _rejection(
            texts.unknown_version_warning(data[0]),
            client_status=(texts.unknown_protocol_status(data),),
        )

    def _on_methods(self, data: bytes) -> int:
        offer, used = parse_method_offer(data)
        if not offer.methods:
            raise SocksParseError("socks5: no authentication method offered. Rejecting.")
        has_userpass = AuthMethod.USERNAME_PASSWORD in offer.methods
        has_noauth = AuthMethod.NO_AUTH in offer.methods
        if has_userpass and not (has_noauth and self.options.prefer_no_auth):
            self.state = State.SOCKS5_AUTH
            method = AuthMethod.USERNAME_PASSWORD
        elif has_noauth:
            self.state = State.SOCKS5_REQUEST
            method = AuthMethod.NO_AUTH
        else:
            raise SocksParseError(
                "socks5: offered methods don't include 'no auth' or username/password. Rejecting.",
                replies.method_selection(AuthMethod.NO_ACCEPTABLE),
            )
        self.version = 5
        self._pending = replies.method_selection(method)
        return used

    def _on_userpass(self, data: bytes) -> int:
        auth, used = parse_userpass(data)
        user = auth.username
        if user.startswith(b"<torS0X>") and user != b"<torS0X>0":
            raise SocksParseError("socks5: unsupported extended-parameter username.")
        if self.version != 5:
            raise SocksParseError("socks5: username/password before method selection.")
        self._auth = UsernamePassword(auth.username, auth.password)
        self._pending = replies.userpass_success()
        self.state = State.SOCKS5_REQUEST_AUTHED
        return used

    def _on_socks4(self, data: bytes) -> int:
        if len(data) < 8:
            raise Incomplete
        self.version = 4
        try:
            req, used = parse_socks4(data)
        except Incomplete:
            if len(data) >= MAX_SOCKS_MESSAGE_LEN:
                raise SocksParseError("socks4: parsing failed - invalid request.") from None
            raise
        self._deliver(self._socks4_request(req))
        return used

    def _socks4_request(self, req: Socks4Request) -> Request:
        if (req.port == 0 and req.command != Command.RESOLVE) or req.ip == 0:
            raise SocksParseError("socks4: Port or DestIP is zero. Rejecting.")
        if req.hostname is not None and len(req.hostname) >= MAX_SOCKS_ADDR_LEN:
            raise SocksParseError("socks4: Destaddr too long. Rejecting.")
        auth: Auth = Socks4UserId(req.userid) if req.userid else NoAuth()
        address: Target = (
            IPv4Address(req.ip) if req.hostname is None else req.hostname.decode("latin-1")
        )
        warnings, status, unsafe = self._unsafe_check(4, address, req.port)
        if req.command not in (Command.CONNECT, Command.RESOLVE):
            raise SocksParseError(f"socks4: command {req.command} not recognized. Rejecting.")
        notices = self._good_notice("socks4a", req.port) if req.hostname is not None else ()
        self._check_dest(4, str(address), req.port, None)
        return Request(
            4,
            Command(req.command),
            address,
            req.port,
            auth,
            req.hostname is not None,
            warnings,
            notices,
            status,
            unsafe,
        )

    def _on_socks5_request(self, data: bytes) -> int:
        try:
            req, used = parse_socks5_request(data)
        except SocksParseError as err:
            raise SocksParseError(str(err), _socks5_error(Socks5Reply.GENERAL_ERROR)) from None
        self._deliver(self._socks5_request(req))
        return used

    def _socks5_request(self, req: Socks5Request) -> Request:
        text = _socks5_address_text(req)
        if req.command not in (Command.CONNECT, Command.RESOLVE, Command.RESOLVE_PTR):
            raise SocksParseError(
                f"socks5: command {req.command} not supported. Rejecting.",
                _socks5_error(Socks5Reply.COMMAND_NOT_SUPPORTED),
            )
        ptr_target = parse_ip(text)
        if req.command == Command.RESOLVE_PTR and ptr_target is None:
            raise SocksParseError(
                "socks5 received RESOLVE_PTR command with a malformed address. Rejecting.",
                _socks5_error(Socks5Reply.ADDRESS_TYPE_NOT_SUPPORTED),
            )
        self._check_dest(5, text, req.port, _socks5_error(Socks5Reply.GENERAL_ERROR))
        address: Target = text
        warnings: tuple[str, ...] = ()
        status: tuple[str, ...] = ()
        unsafe = False
        if req.atyp != ATYP_DOMAINNAME:
            address = (
                IPv4Address(req.address) if req.atyp == ATYP_IPV4 else IPv6Address(req.address)
            )
            if req.command != Command.RESOLVE_PTR:
                warnings, status, unsafe = self._unsafe_check(5, address, req.port)
        if req.command == Command.RESOLVE_PTR and ptr_target is not None:
            address = ptr_target
        return Request(
            5,
            Command(req.command),
            address,
            req.port,
            self._auth,
            False,
            warnings,
            self._good_notice("socks5", req.port),
            status,
            unsafe,
        )

    # -- checks shared by both versions -----------------------------------

    def _unsafe_check(
        self, version: int, address: Target, port: int
    ) -> tuple[tuple[str, ...], tuple[str, ...], bool]:
        if isinstance(address, str) or self.options.has_mapping(_addr_text(address)):
            return (), (), False
        safe = self.options.safe_socks
        warnings = (texts.unsafe_socks_warning(version, port, safe),)
        status = (texts.dangerous_socks_status(version, _addr_text(address), port),)
        if safe:
            reply = _socks5_error(Socks5Reply.NOT_ALLOWED) if version == 5 else None
            raise _rejection(warnings[0], reply, warnings=warnings, client_status=status)
        return warnings, status, True

    def _good_notice(self, protocol: str, port: int) -> tuple[str, ...]:
        return (texts.good_socks_notice(protocol, port),) if self.options.test_socks else ()

    def _check_dest(self, version: int, text: str, port: int, reply: bytes | None) -> None:
        if is_valid_dest(text):
            return
        shown = (
            "[scrubbed]" if self.options.safe_logging else texts.esc_for_log(text.encode("latin-1"))
        )
        raise SocksParseError(texts.malformed_hostname_warning(version, port, shown), reply)

    def _deliver(self, request: Request) -> None:
        self.request = request
        self.state = State.AWAITING_REPLY
        self._events.append(request)

    # -- answering the request ----------------------------------------------

    def send_connect_reply(
        self,
        end_reason: int = 0,
        *,
        extended_error: Socks5Reply | None = None,
        bound: IPv4Address | IPv6Address | None = None,
        bound_port: int = 0,
    ) -> None:
        """Answer the request: success for `end_reason` 0, else tor's mapped error.

        `extended_error` replaces the mapped SOCKS5 code (SocksPort ExtendedErrors).
        """
        self._require_reply()
        if extended_error is not None and self.version == 5:
            reply = replies.socks5_reply(extended_error, ipv6=self.options.ipv6_client)
        else:
            reply = replies.connect_reply(
                self.version,
                end_reason,
                ipv6_client=self.options.ipv6_client,
                bound=bound,
                bound_port=bound_port,
            )
        self._outbuf += reply
        succeeded = end_reason == 0 and extended_error is None
        self.state = State.OPEN if succeeded else State.CLOSED

    def send_resolved(self, answer: replies.ResolvedAnswer | None) -> None:
        """Answer RESOLVE/RESOLVE_PTR with an address, a hostname, or `None` (failed)."""
        self._require_reply()
        self._outbuf += replies.resolved_reply(self.version, answer)
        self.state = State.CLOSED

    def _require_reply(self) -> None:
        if self.state is not State.AWAITING_REPLY:
            raise RuntimeError(f"no SOCKS request awaits a reply (state {self.state.value})")


class _Rejection(SocksParseError):
    """A SocksParseError that also carries warnings and controller status lines."""

    warnings: tuple[str, ...] = ()
    client_status: tuple[str, ...] = ()


def _rejection(
    message: str,
    reply: bytes | None = None,
    *,
    warnings: tuple[str, ...] = (),
    client_status: tuple[str, ...] = (),
) -> _Rejection:
    err = _Rejection(message, reply)
    err.warnings = warnings
    err.client_status = client_status
    return err


def _socks5_error(code: Socks5Reply) -> bytes:
    """tor's socks_request_set_socks5_error: always ATYP 1 with zero address and port."""
    return replies.socks5_reply(code)


def _socks5_address_text(req: Socks5Request) -> str:
    """tor's req->address: the name up to its first NUL, or the address text."""
    if req.atyp == ATYP_DOMAINNAME:
        return req.address.split(b"\x00", 1)[0].decode("latin-1")
    if req.atyp == ATYP_IPV4:
        return str(IPv4Address(req.address))
    return f"[{IPv6Address(req.address).compressed}]"


def _addr_text(address: IPv4Address | IPv6Address) -> str:
    return str(address) if address.version == 4 else f"[{address.compressed}]"
