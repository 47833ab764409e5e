"""conn/* formatting and scrubbing (zwiebel.control.conninfo; proposal 172, first form)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.control.conninfo import (
    ConnInfo,
    Usage,
    conn_all,
    conn_line,
    find_conn,
    parse_conn_key,
)
from zwiebel.encoding import ParseError


def info(**kw: object) -> ConnInfo:
    base: dict[str, object] = dict(
        conn_id=3, circ_ids=(7, 9), or_id=3, address="10.1.2.3", port=9001,
        local_port=40000, inbound=False, established=True, usage=Usage.RELAY, in_tor=True,
        read=1234, written=567, uptime=42)
    base.update(kw)
    return ConnInfo(**base)  # type: ignore[arg-type]


def test_relay_connection_line_shows_address() -> None:
    assert conn_line(info()) == (
        "CONN_ID=3 CIRC_ID=7,9 OR_ID=3 IP=10.1.2.3:9001 L_PORT=40000 TYPE_FLAGS=ORT "
        "READ=1234 WRITE=567 UPTIME=42")


@pytest.mark.parametrize(("inbound", "established", "usage", "in_tor", "flags"), [
    (True, True, Usage.RELAY, True, "IRT"),
    (True, False, Usage.RELAY, True, "iRT"),
    (False, False, Usage.RELAY, True, "oRT"),
    (False, True, Usage.EXIT, False, "OXt"),
    (True, True, Usage.CLIENT, False, "ICt"),
    (False, True, Usage.CLIENT, True, "OCT"),
    (True, True, Usage.DIRECTORY, True, "IDT"),
    (True, True, Usage.HIDDEN_SERVICE, True, "IHT"),
])
def test_type_flags(inbound: bool, established: bool, usage: Usage, in_tor: bool,
                    flags: str) -> None:
    assert info(inbound=inbound, established=established, usage=usage,
                in_tor=in_tor).type_flags() == flags


def test_exit_connection_is_scrubbed_but_counts_stay() -> None:
    line = conn_line(info(usage=Usage.EXIT, in_tor=False, address="93.184.216.34", port=443,
                          circ_ids=(5,), or_id=2, read=100, written=200, uptime=7))
    assert line == ("CONN_ID=3 CIRC_ID=5 OR_ID=2 IP=0:0 L_PORT=0 TYPE_FLAGS=OXt "
                    "READ=100 WRITE=200 UPTIME=7")
    assert "93.184" not in line


def test_inbound_client_connection_is_scrubbed() -> None:
    line = conn_line(info(inbound=True, in_tor=False, address="198.51.100.7", port=51000,
                          local_port=9001))
    assert "IP=0:0 L_PORT=0 TYPE_FLAGS=IRt" in line
    assert "198.51.100.7" not in line and "51000" not in line


def test_own_client_channel_is_scrubbed() -> None:
    assert "IP=0:0 L_PORT=0 TYPE_FLAGS=OCT" in conn_line(info(usage=Usage.CLIENT))


def test_ipv6_in_brackets_and_no_circuits() -> None:
    line = conn_line(info(address="2001:db8::1", circ_ids=()))
    assert "CIRC_ID=0 " in line and "IP=[2001:db8::1]:9001 " in line


def test_conn_all_sorted_by_id_and_newline_joined() -> None:
    text = conn_all([info(conn_id=9), info(conn_id=2)])
    lines = text.split("\n")
    assert [ln.split()[0] for ln in lines] == ["CONN_ID=2", "CONN_ID=9"]
    assert conn_all([]) == ""


def test_parse_conn_key() -> None:
    assert parse_conn_key("conn/12/4") == (12, 4)
    assert parse_conn_key("CONN/0/1") == (0, 1)
    for bad in ("conn/all", "conn/1", "conn/a/1", "conn/1/2/3", "conn/-1/2", "conn/١/2"):
        with pytest.raises(ParseError):
            parse_conn_key(bad)


def test_find_conn_needs_matching_circuit() -> None:
    conns = [info(conn_id=3, circ_ids=(7, 9)), info(conn_id=4, circ_ids=())]
    assert find_conn(conns, 9, 3) == conns[0]
    assert find_conn(conns, 8, 3) is None
    assert find_conn(conns, 0, 4) == conns[1]
    assert find_conn(conns, 0, 3) is None
    assert find_conn(conns, 7, 5) is None


@given(st.text(max_size=30))
def test_parse_conn_key_raises_only_parse_error(key: str) -> None:
    try:
        circ, conn = parse_conn_key(key)
    except ParseError:
        return
    assert key.lower() == f"conn/{key.split('/')[1]}/{key.split('/')[2]}".lower()
    assert circ >= 0 and conn >= 0


@given(st.builds(
    ConnInfo, conn_id=st.integers(1, 2**31), circ_ids=st.tuples(st.integers(1, 2**31)),
    or_id=st.integers(0, 2**31), address=st.ip_addresses().map(str),
    port=st.integers(0, 65535), local_port=st.integers(0, 65535), inbound=st.booleans(),
    established=st.booleans(), usage=st.sampled_from(Usage), in_tor=st.booleans(),
    read=st.integers(0, 2**60), written=st.integers(0, 2**60), uptime=st.integers(0, 2**31)))
def test_line_shape_and_scrubbing(conn: ConnInfo) -> None:
    line = conn_line(conn)
    fields = dict(part.split("=", 1) for part in line.split(" "))
    assert list(fields) == ["CONN_ID", "CIRC_ID", "OR_ID", "IP", "L_PORT", "TYPE_FLAGS",
                            "READ", "WRITE", "UPTIME"]
    assert fields["READ"] == str(conn.read) and fields["UPTIME"] == str(conn.uptime)
    if conn.usage in (Usage.CLIENT, Usage.EXIT) or not conn.in_tor:
        assert fields["IP"] == "0:0" and fields["L_PORT"] == "0"
    else:
        assert fields["IP"].endswith(f":{conn.port}")
