"""Units exactly as tor's src/lib/confmgt/unitparse.c tables."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zwiebel.config import ConfigError
from zwiebel.config.units import parse_interval, parse_memunit, parse_msec_interval


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50", 50), ("50 bytes", 50), ("50 KB", 50 * 1024), ("50KB", 50 * 1024),
        ("1 GB", 1 << 30), ("1 GBytes", 1 << 30), ("1 gigabyte", 1 << 30),
        ("200 kbits", 200 * 128), ("1 mbit", 1 << 17), ("2 M", 2 << 20),
        ("1 TB", 1 << 40), ("1 terabits", 1 << 37), ("1.5 KB", 1536),
    ],
)
def test_memunit(text: str, expected: int) -> None:
    assert parse_memunit(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30", 30), ("30 seconds", 30), ("30 minutes", 1800), ("1 hour", 3600),
        ("1 day", 86400), ("2 weeks", 1209600), ("1 month", 2629728), ("1.5 hours", 5400),
        ("10 MINUTES", 600),
    ],
)
def test_interval(text: str, expected: int) -> None:
    assert parse_interval(text) == expected


def test_msec_interval() -> None:
    assert parse_msec_interval("500") == 500
    assert parse_msec_interval("500 msec") == 500
    assert parse_msec_interval("2 seconds") == 2000
    assert parse_msec_interval("1 minute") == 60_000


def test_errors_use_tors_wording() -> None:
    with pytest.raises(ConfigError, match="Unknown unit in 10 blorps"):
        parse_interval("10 blorps")
    with pytest.raises(ConfigError, match="Unable to parse x as a number"):
        parse_memunit("x")
    with pytest.raises(ConfigError, match="too large"):
        parse_interval("1000 months")
    with pytest.raises(ConfigError):
        parse_interval("-5")
    with pytest.raises(ConfigError, match="Unknown unit"):
        parse_msec_interval("1 month")


@given(st.integers(min_value=0, max_value=(1 << 31) - 1))
def test_bare_interval_is_seconds(n: int) -> None:
    assert parse_interval(str(n)) == n
    assert parse_interval(f"{n} seconds") == n


@given(st.text(max_size=20))
def test_random_text_raises_only_config_error(text: str) -> None:
    with contextlib.suppress(ConfigError):
        parse_memunit(text)
