"""STATUS_SERVER and STATUS_GENERAL events (control-spec 4.1.10) as Zwiebel emits them:
HIBERNATION_STATUS from `BandwidthMeter`, the descriptor upload statuses from
`RelayService._upload_status` and CLOCK_SKEW from an authority's NETINFO, with tor's
wording from hibernate.c, dirclient.c and connection.c (clock_skew_warning)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

from zwiebel.control import events as fmt
from zwiebel.features.control.clockskew import clock_skew_status
from zwiebel.features.relay.accounting import AccountingConfig
from zwiebel.features.relay.accounting_period import parse_accounting_start
from zwiebel.features.relay.accounting_service import BandwidthMeter
from zwiebel.features.relay.publish import UploadResult
from zwiebel.features.relay.service import RelayService
from zwiebel.managers.events import EventBus, OrConnEvent, OrConnStatus, StatusEvent
from zwiebel.proto.tokenbucket import BandwidthConfig
from zwiebel.runtime.ratelimit import BandwidthLimiter

MB = 1 << 20


def _line(event: StatusEvent) -> str:
    """The event as the control port's bridge formats it."""
    words = [f'{k}="{v}"' if k in event.quoted else f"{k}={v}" for k, v in event.arguments]
    return fmt.status_event(event.kind, event.severity, event.action, " ".join(words))


async def _nothing() -> None:
    return None


def test_hibernation_status_follows_the_state(tmp_path: Path) -> None:
    async def run() -> list[str]:
        limiter = BandwidthLimiter(BandwidthConfig(rate=MB, burst=MB))
        accounting = AccountingConfig(MB, parse_accounting_start("day 00:00"), "max", MB, 0,
                                      bytes(range(20)))
        meter = BandwidthMeter(limiter, tmp_path / "state", 0, None, _nothing, _nothing)
        names: list[str] = []
        meter.on_hibernation = names.append
        meter.reconfigure(accounting)
        assert meter.accounting is not None
        meter.accounting.add_bytes(0, 2 * MB, 1)
        await meter.start()  # soft and hard limit in one step: one event, HARD
        meter.reconfigure(None)
        await asyncio.sleep(0)
        meter.reconfigure(None)  # no change, no event
        await meter.stop()
        return names

    assert asyncio.run(run()) == ["HARD", "AWAKE"]


def _uploads(*results: UploadResult) -> list[str]:
    bus = EventBus()
    seen: list[StatusEvent] = []
    bus.subscribe(StatusEvent, seen.append)
    relay = object.__new__(RelayService)
    relay.channels = SimpleNamespace(events=bus)  # type: ignore[assignment]
    relay._upload_status(list(results))
    return [_line(e) for e in seen]


def test_accepted_everywhere_is_a_good_descriptor() -> None:
    assert _uploads(UploadResult("127.0.0.1:7001", 200), UploadResult("127.0.0.1:7011", 200)
                    ) == [
        "STATUS_SERVER NOTICE ACCEPTED_SERVER_DESCRIPTOR DIRAUTH=127.0.0.1:7001",
        "STATUS_SERVER NOTICE ACCEPTED_SERVER_DESCRIPTOR DIRAUTH=127.0.0.1:7011",
        "STATUS_SERVER NOTICE GOOD_SERVER_DESCRIPTOR"]


def test_a_refused_descriptor_is_bad_and_not_good() -> None:
    refused = UploadResult("127.0.0.1:7011", 400, 'Rejected: "bad" platform')
    assert _uploads(UploadResult("127.0.0.1:7001", 200), refused,
                    UploadResult("127.0.0.1:7021", 0, error="timed out")) == [
        "STATUS_SERVER NOTICE ACCEPTED_SERVER_DESCRIPTOR DIRAUTH=127.0.0.1:7001",
        # tor writes REASON=\"%s\" around escaped(reason), which quotes it again
        'STATUS_SERVER WARN BAD_SERVER_DESCRIPTOR DIRAUTH=127.0.0.1:7011 '
        'REASON=""Rejected: \\"bad\\" platform""']
    assert _uploads() == []


class _Ready:
    """A finished handshake whose NETINFO gave ``skew``."""

    def __init__(self, skew: int | None) -> None:
        self.skew = skew

    def done(self) -> bool:
        return True

    def exception(self) -> None:
        return None

    def result(self) -> SimpleNamespace:
        return SimpleNamespace(clock_skew=self.skew)


AUTH = "A" * 40


def _skew_event(skew: int | None, fingerprint: str = AUTH,
                status: OrConnStatus = OrConnStatus.CONNECTED) -> str | None:
    channel = SimpleNamespace(conn_id=7, ready=_Ready(skew))
    channels = SimpleNamespace(channels=lambda: [channel])
    event = OrConnEvent(7, status, fingerprint, "127.0.0.1:5000")
    found = clock_skew_status(event, channels, frozenset({AUTH}))  # type: ignore[arg-type]
    return None if found is None else _line(found)


def test_clock_skew_from_an_authority_beyond_an_hour() -> None:
    assert _skew_event(7200) == "STATUS_GENERAL WARN CLOCK_SKEW SKEW=7200 SOURCE=OR:127.0.0.1:5000"
    assert _skew_event(-3601) == ("STATUS_GENERAL WARN CLOCK_SKEW SKEW=-3601 "
                                  "SOURCE=OR:127.0.0.1:5000")


def test_no_clock_skew_event_when_small_untrusted_or_unknown() -> None:
    assert _skew_event(3600) is None
    assert _skew_event(None) is None
    assert _skew_event(7200, fingerprint="B" * 40) is None
    assert _skew_event(7200, status=OrConnStatus.CLOSED) is None
