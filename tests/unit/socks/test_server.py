"""Request parsing, reply bytes and state transitions of SocksServerConnection.

Expected reply bytes follow tor 0.4.9.11's connection_edge.c builders
(connection_ap_handshake_socks_reply / _socks_resolved) and socks-extensions.txt.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zwiebel.socks import (
    Command,
    EndReason,
    NeedMoreData,
    NoAuth,
    Request,
    Socks4UserId,
    Socks5Reply,
    SocksError,
    SocksOptions,
    SocksServerConnection,
    State,
    StreamData,
    UsernamePassword,
    socks5_reply_for_end_reason,
)

S5_IPV4_CONNECT = bytes.fromhex("05010005010001c000020101bb")
S5_NAME_CONNECT = b"\x05\x01\x00" + b"\x05\x01\x00\x03\x0bexample.com\x00\x50"


def _request(data: bytes, **opts: object) -> tuple[SocksServerConnection, Request]:
    conn = SocksServerConnection(SocksOptions(**opts))  # type: ignore[arg-type]
    events = [e for e in conn.receive_data(data) if isinstance(e, Request)]
    assert len(events) == 1
    return conn, events[0]


def test_socks4_connect_with_userid() -> None:
    conn, req = _request(bytes.fromhex("04010050c0000201") + b"alice\x00")
    assert (req.version, req.command, req.port, req.socks4a) == (4, Command.CONNECT, 80, False)
    assert req.address == IPv4Address("192.0.2.1")
    assert req.auth == Socks4UserId(b"alice")
    assert req.unsafe and req.client_status == (
        "DANGEROUS_SOCKS PROTOCOL=SOCKS4 ADDRESS=192.0.2.1:80",
    )
    assert conn.data_to_send() == b""
    conn.send_connect_reply()
    assert conn.data_to_send() == bytes.fromhex("005a000000000000")
    assert conn.state is State.OPEN


def test_socks4a_resolve_and_reply() -> None:
    conn, req = _request(bytes.fromhex("04f0000000000001") + b"\x00torproject.org\x00")
    assert (req.command, req.address, req.auth, req.socks4a) == (
        Command.RESOLVE,
        "torproject.org",
        NoAuth(),
        True,
    )
    assert not req.unsafe and req.warnings == ()
    conn.send_resolved(IPv4Address("198.51.100.7"))
    assert conn.data_to_send() == bytes.fromhex("005a0000c6336407")
    assert conn.state is State.CLOSED


def test_socks4_resolve_ipv6_answer_is_rejection() -> None:
    conn, _ = _request(bytes.fromhex("04f0000000000001") + b"\x00a.example\x00")
    conn.send_resolved(IPv6Address("2001:db8::1"))
    assert conn.data_to_send() == bytes.fromhex("005b000000000000")


def test_socks5_hostname_connect_then_stream_data() -> None:
    conn = SocksServerConnection()
    events = conn.receive_data(S5_NAME_CONNECT + b"GET /")
    assert conn.data_to_send() == b"\x05\x00"
    assert isinstance(events[0], Request) and events[1] == StreamData(b"GET /")
    assert (events[0].address, events[0].port, events[0].auth) == ("example.com", 80, NoAuth())
    conn.send_connect_reply()
    assert conn.data_to_send() == bytes.fromhex("05000001000000000000")
    assert conn.receive_data(b"more") == [StreamData(b"more")]


def test_socks5_ipv4_and_ipv6_targets() -> None:
    _, req = _request(S5_IPV4_CONNECT)
    assert req.address == IPv4Address("192.0.2.1") and req.port == 443 and req.unsafe
    v6 = b"\x05\x01\x00\x05\x01\x00\x04" + IPv6Address("2001:db8::5").packed + b"\x00\x16"
    _, req6 = _request(v6)
    assert req6.address == IPv6Address("2001:db8::5")
    assert req6.client_status == ("DANGEROUS_SOCKS PROTOCOL=SOCKS5 ADDRESS=[2001:db8::5]:22",)


def test_socks5_userpass_credentials() -> None:
    data = b"\x05\x02\x00\x02" + b"\x01\x03bob\x03pwd" + S5_NAME_CONNECT[3:]
    conn = SocksServerConnection()
    conn.receive_data(data[:4])
    assert conn.data_to_send() == b"\x05\x02"
    conn.receive_data(data[4:13])
    assert conn.data_to_send() == b"\x01\x00"
    (req,) = conn.receive_data(data[13:])
    assert isinstance(req, Request) and req.auth == UsernamePassword(b"bob", b"pwd")


def test_prefer_no_auth() -> None:
    conn = SocksServerConnection(SocksOptions(prefer_no_auth=True))
    conn.receive_data(b"\x05\x02\x00\x02")
    assert conn.data_to_send() == b"\x05\x00" and conn.state is State.SOCKS5_REQUEST


def test_socks5_resolve_replies() -> None:
    name_resolve = b"\x05\x01\x00\x05\xf0\x00\x03\x09a.example\x00\x00"
    conn, req = _request(name_resolve)
    assert req.command is Command.RESOLVE
    conn.data_to_send()
    conn.send_resolved(IPv6Address("2001:db8::1"))
    assert conn.data_to_send() == bytes.fromhex("0500000420010db8" + "00" * 10 + "00010000")
    conn, _ = _request(name_resolve)
    conn.data_to_send()
    conn.send_resolved(None)
    assert conn.data_to_send() == bytes.fromhex("05040000000000000000")


def test_socks5_resolve_ptr() -> None:
    conn, req = _request(b"\x05\x01\x00\x05\xf1\x00\x01\xc6\x33\x64\x07\x00\x00")
    assert req.command is Command.RESOLVE_PTR and req.address == IPv4Address("198.51.100.7")
    assert not req.unsafe
    conn.data_to_send()
    conn.send_resolved("host.example")
    assert conn.data_to_send() == b"\x05\x00\x00\x03\x0chost.example\x00\x00"
    _, by_name = _request(b"\x05\x01\x00\x05\xf1\x00\x03\x071.2.3.4\x00\x00")
    assert by_name.address == IPv4Address("1.2.3.4")


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        (EndReason.MISC, 1),
        (EndReason.RESOLVEFAILED, 4),
        (EndReason.CONNECTREFUSED, 5),
        (EndReason.EXITPOLICY, 2),
        (EndReason.DESTROY, 1),
        (EndReason.DONE, 5),
        (EndReason.TIMEOUT, 6),
        (EndReason.NOROUTE, 4),
        (EndReason.HIBERNATING, 1),
        (EndReason.INTERNAL, 1),
        (EndReason.RESOURCELIMIT, 1),
        (EndReason.CONNRESET, 5),
        (EndReason.TORPROTOCOL, 1),
        (EndReason.NOTDIRECTORY, 1),
        (EndReason.ENTRYPOLICY, 2),
        (EndReason.NET_UNREACHABLE, 3),
        (EndReason.EXITPOLICY | 512, 2),
        (0, 0),
        (99, 1),
    ],
)
def test_end_reason_mapping(reason: int, code: int) -> None:
    assert socks5_reply_for_end_reason(reason) == code
    conn, _ = _request(S5_NAME_CONNECT)
    conn.data_to_send()
    conn.send_connect_reply(reason)
    assert conn.data_to_send() == bytes((5, code, 0, 1)) + bytes(6)
    conn4, _ = _request(bytes.fromhex("0401005000000001") + b"\x00h.example\x00")
    conn4.send_connect_reply(reason)
    assert conn4.data_to_send() == bytes((0, 90 if code == 0 else 91)) + bytes(6)


def test_ipv6_client_and_extended_errors() -> None:
    conn, _ = _request(S5_NAME_CONNECT, ipv6_client=True)
    conn.data_to_send()
    conn.send_connect_reply(extended_error=Socks5Reply.HS_NOT_FOUND)
    assert conn.data_to_send() == bytes((5, 0xF0, 0, 4)) + bytes(18)
    assert conn.state is State.CLOSED


def test_safe_socks_rejection_carries_warning() -> None:
    conn = SocksServerConnection(SocksOptions(safe_socks=True))
    *_, err = conn.receive_data(S5_IPV4_CONNECT)
    assert isinstance(err, SocksError) and err.message.endswith(" Rejecting.")
    assert err.warnings == (err.message,)
    assert err.client_status == ("DANGEROUS_SOCKS PROTOCOL=SOCKS5 ADDRESS=192.0.2.1:443",)
    assert conn.data_to_send() == bytes.fromhex("05020001000000000000")


def test_mapped_address_is_not_unsafe() -> None:
    _, req = _request(S5_IPV4_CONNECT, safe_socks=True, has_mapping=lambda a: a == "192.0.2.1")
    assert not req.unsafe and req.warnings == ()


def test_test_socks_notice_and_scrubbed_hostname() -> None:
    _, req = _request(S5_NAME_CONNECT, test_socks=True)
    assert req.notices == (
        "Your application (using socks5 to port 80) instructed Tor to take care of the "
        "DNS resolution itself if necessary. This is good.",
    )
    conn = SocksServerConnection()
    *_, err = conn.receive_data(b"\x05\x01\x00\x05\x01\x00\x03\x03a b\x00\x50")
    assert isinstance(err, SocksError) and "malformed hostname: [scrubbed]." in err.message


def test_socks4_long_username_without_nul_fails_at_512_bytes() -> None:
    conn = SocksServerConnection()
    assert conn.receive_data(bytes.fromhex("04010050c0000201") + b"u" * 503) == [NeedMoreData()]
    *_, err = conn.receive_data(b"u")
    assert isinstance(err, SocksError) and conn.data_to_send() == bytes.fromhex("005b" + "00" * 6)


def test_reply_without_request_is_a_bug() -> None:
    with pytest.raises(RuntimeError):
        SocksServerConnection().send_connect_reply()


def test_closed_connection_ignores_input() -> None:
    conn = SocksServerConnection()
    conn.receive_data(b"\x06\x00")
    assert conn.state is State.CLOSED and conn.receive_data(b"\x05\x01\x00") == []


@settings(max_examples=400, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=8))
def test_random_input_never_raises(chunks: list[bytes]) -> None:
    conn = SocksServerConnection(SocksOptions(safe_socks=True))
    for chunk in chunks:
        for event in conn.receive_data(chunk):
            assert isinstance(event, NeedMoreData | Request | SocksError | StreamData)
        conn.data_to_send()


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=300), st.data())
def test_fragmentation_does_not_change_requests(data: bytes, draw: st.DataObject) -> None:
    whole = SocksServerConnection()
    whole_events = [e for e in whole.receive_data(data) if not isinstance(e, NeedMoreData)]
    cut = draw.draw(st.integers(min_value=0, max_value=len(data)))
    split = SocksServerConnection()
    split_events = split.receive_data(data[:cut]) + split.receive_data(data[cut:])
    requests = [e for e in split_events if isinstance(e, Request)]
    assert requests == [e for e in whole_events if isinstance(e, Request)]
    assert split.state is whole.state


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-.", min_size=1, max_size=60))
def test_valid_hostnames_round_trip_through_socks4a(name: str) -> None:
    conn = SocksServerConnection()
    request = bytes.fromhex("0401005000000001") + b"\x00" + name.encode() + b"\x00"
    events = conn.receive_data(request)
    for e in events:
        if isinstance(e, Request):
            assert e.address == name


def test_dispatch_table_covers_every_handshake_pair() -> None:
    from zwiebel.socks.states import DISPATCH, HANDSHAKE_STATES, Head

    conn = SocksServerConnection()
    for state in HANDSHAKE_STATES:
        for head in Head:
            assert callable(getattr(conn, DISPATCH[(state, head)]))
