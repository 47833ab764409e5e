"""zwiebel.testnet.dirpoll against consensus documents written by real tor (data/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from zwiebel.encoding import ParseError
from zwiebel.testnet.dirpoll import count_descriptors, missing_relays, parse_status_entries

DATA = Path(__file__).parent / "data"
RELAY0 = "3FC953CA6D91A34EE417FA6E29B5416C03DC3901"
EXIT0 = "1ACB60646F165171910C2D29DDFBB60E985000C5"


@pytest.mark.parametrize("flavor", ["ns", "microdesc"])
def test_real_consensus_entries(flavor: str) -> None:
    entries = parse_status_entries((DATA / f"realtor-consensus-{flavor}.txt").read_text())
    by_nick = {e.nickname: e for e in entries}
    assert sorted(by_nick) == ["auth0", "exit0", "relay0", "relay1", "relay2"]
    assert by_nick["relay0"].fingerprint == RELAY0
    assert by_nick["exit0"].fingerprint == EXIT0
    assert by_nick["exit0"].flags == {"Exit", "Fast", "Guard", "HSDir", "Running", "Stable",
                                      "V2Dir", "Valid"}
    assert "Authority" in by_nick["auth0"].flags


def test_missing_relays() -> None:
    entries = parse_status_entries((DATA / "realtor-consensus-ns.txt").read_text())
    running = frozenset({"Running", "Valid"})
    assert missing_relays(entries, {RELAY0: running, EXIT0: running | {"Exit"}}) == []
    assert missing_relays(entries, {RELAY0: running | {"Exit"}}) == [RELAY0]
    assert missing_relays(entries, {"00" * 20: frozenset()}) == ["00" * 20]


def test_entry_without_s_line_has_no_flags() -> None:
    text = "r a AAAAAAAAAAAAAAAAAAAAAAAAAAA x\nr b AQEBAQEBAQEBAQEBAQEBAQEBAQE y\ns Running\n"
    entries = parse_status_entries(text)
    assert [(e.nickname, e.fingerprint, e.flags) for e in entries] == [
        ("a", "00" * 20, frozenset()), ("b", "01" * 20, frozenset({"Running"}))]


@pytest.mark.parametrize("line", ["r short", "r n !!!notbase64", "r n AAAA x"])
def test_bad_r_line(line: str) -> None:
    with pytest.raises(ParseError):
        parse_status_entries(line + "\n")


def test_count_descriptors() -> None:
    descs = "router a 127.0.0.1 1 0 0\nx\nrouter b 127.0.0.1 2 0 0\n"
    mds = "onion-key\nntor-onion-key AAA\nntor-onion-key BBB\nntor-onion-key CCC"
    assert count_descriptors(descs, mds) == (2, 3)
    assert count_descriptors("", "") == (0, 0)
