"""Guard line codec against lines written by real tor 0.4.9.11 (data/tor-rewritten.state)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.encoding import ParseError
from zwiebel.state import GuardRecord, format_guard_line, parse_guard_line, parse_state

TOR_LINES = parse_state((Path(__file__).parent / "data" / "tor-rewritten.state").read_text())


def test_tor_lines_round_trip_exactly() -> None:
    lines = TOR_LINES.get_all("Guard")
    for index, line in enumerate(lines):
        record = parse_guard_line(line)
        assert record.sampled_idx == index
        assert format_guard_line(record, index) == line


def test_tor_line_fields() -> None:
    first = parse_guard_line(TOR_LINES.get_all("Guard")[0])
    assert first == GuardRecord(
        selection="default",
        rsa_identity=b"\xaa" * 20,
        nickname="alpha",
        sampled_on=datetime(2026, 11, 10, 1, 2, 3, tzinfo=UTC),
        sampled_idx=0,
        sampled_by="0.4.9.11",
        listed=True,
        confirmed_on=datetime(2026, 11, 12, tzinfo=UTC),
        confirmed_idx=0,
        path_bias=(("circ_attempts", "5.000000"), ("circ_successes", "4.000000")),
        extra=("zw_extra=1",),
    )
    second = parse_guard_line(TOR_LINES.get_all("Guard")[1])
    assert not second.listed and second.unlisted_since == datetime(2026, 11, 15, tzinfo=UTC)
    third = parse_guard_line(TOR_LINES.get_all("Guard")[2])
    assert third.nickname is None and third.confirmed_idx is None


def test_order_free_reading_and_duplicates_go_to_extra() -> None:
    rec = parse_guard_line(
        "listed=1 rsa_id=" + "ab" * 20 + " in=default in=other noequals sampled_idx=x"
    )
    assert rec.selection == "default" and rec.listed and rec.sampled_idx is None
    assert rec.extra == ("in=other", "noequals")
    assert format_guard_line(rec, 4) == (
        "in=default rsa_id=" + "AB" * 20 + " sampled_idx=4 listed=1 in=other noequals"
    )


def test_bad_time_becomes_none() -> None:
    rec = parse_guard_line("in=default rsa_id=" + "00" * 20 + " sampled_on=yesterday")
    assert rec.sampled_on is None


@pytest.mark.parametrize(
    "line",
    ["rsa_id=" + "00" * 20, "in=default", "in=default rsa_id=1234", "in=d rsa_id=" + "zz" * 20],
)
def test_lines_tor_would_drop(line: str) -> None:
    with pytest.raises(ParseError):
        parse_guard_line(line)


_times = st.none() | st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))


@given(
    st.binary(min_size=20, max_size=20),
    st.none() | st.from_regex(r"[A-Za-z0-9]{1,19}", fullmatch=True),
    _times,
    _times,
    _times,
    st.booleans(),
    st.none() | st.integers(0, 1000),
    st.lists(st.from_regex(r"zz[a-z]{0,5}=[a-z0-9]{0,5}", fullmatch=True), max_size=3),
    st.integers(0, 1000),
)
def test_record_round_trip(
    identity: bytes,
    nickname: str | None,
    sampled_on: datetime | None,
    unlisted: datetime | None,
    confirmed_on: datetime | None,
    listed: bool,
    confirmed_idx: int | None,
    extra: list[str],
    idx: int,
) -> None:
    record = GuardRecord(
        selection="default",
        rsa_identity=identity,
        nickname=nickname,
        sampled_on=sampled_on,
        sampled_idx=idx,
        sampled_by="0.4.9.11",
        unlisted_since=unlisted,
        listed=listed,
        confirmed_on=confirmed_on if confirmed_idx is not None else None,
        confirmed_idx=confirmed_idx if confirmed_on is not None else None,
        path_bias=(("use_attempts", "1.000000"),),
        extra=tuple(extra),
    )
    assert parse_guard_line(format_guard_line(record, idx)) == record


@given(st.text(max_size=120))
def test_random_text_raises_only_parse_error(text: str) -> None:
    with contextlib.suppress(ParseError):
        parse_guard_line(text)
