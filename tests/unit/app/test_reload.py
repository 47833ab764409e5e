"""Reload decisions (zwiebel.app.reload): which changes apply live, which need a restart,
and that a torrc that no longer parses keeps the old configuration."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from zwiebel.app import reload
from zwiebel.app.reload import Area, apply_reload, area_of, plan_reload, reload_daemon
from zwiebel.config import Options, build_options, lex
from zwiebel.managers.events import ConfChangedEvent, EventBus


def opts(text: str) -> Options:
    return build_options(lex(text))


BASE = "SocksPort 9050\nExitPolicy accept *:80\nMaxCircuitDirtiness 600\n"


def test_unchanged_config_changes_nothing() -> None:
    plan = plan_reload(opts(BASE), opts(BASE))
    assert plan.live == () and plan.restart == ()


def test_exit_policy_and_client_options_apply_live() -> None:
    new = BASE.replace("accept *:80", "reject *:*").replace("600", "300")
    plan = plan_reload(opts(BASE), opts(new + "ContactInfo op@example.org\n"))
    assert set(plan.live) == {"ContactInfo", "ExitPolicy", "MaxCircuitDirtiness"}
    assert plan.restart == ()
    assert plan.touches(Area.EXIT) and plan.touches(Area.CLIENT)
    assert plan.touches(Area.DESCRIPTOR) and not plan.touches(Area.LOGGING)


def test_ports_and_data_directory_need_a_restart() -> None:
    new = BASE.replace("9050", "9150") + "DataDirectory /tmp/elsewhere\nSafeLogging 0\n"
    plan = plan_reload(opts(BASE), opts(new))
    assert set(plan.restart) == {"SocksPort", "DataDirectory"}
    assert plan.live == ("SafeLogging",)


@pytest.mark.parametrize(("name", "area"), [
    ("ExitPolicy", Area.EXIT), ("ReducedExitPolicy", Area.EXIT),
    ("Nickname", Area.DESCRIPTOR), ("ExcludeNodes", Area.CLIENT), ("Log", Area.LOGGING),
    ("BandwidthRate", Area.BANDWIDTH), ("AccountingMax", Area.ACCOUNTING),
    ("AccountingStart", Area.ACCOUNTING), ("AccountingRule", Area.ACCOUNTING),
    ("ShutdownWaitLength", Area.ON_DEMAND), ("ORPort", Area.RESTART),
    ("ConnLimit", Area.RESTART), ("ControlPort", Area.RESTART),
])
def test_area_of(name: str, area: Area) -> None:
    assert area_of(name) is area


class FakeCircuits:
    def __init__(self) -> None:
        self.reconfigured: list[tuple[object, float, float]] = []
        self.guard_counts = (0, 0)

    def reconfigure(self, rules: object, timeout: float, dirtiness: float) -> None:
        self.reconfigured.append((rules, timeout, dirtiness))


class FakeDaemon:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.circuits = FakeCircuits()
        self.relay = None
        self.events = EventBus()


@pytest.fixture(autouse=True)
def _keep_logging() -> object:
    logger = logging.getLogger("zwiebel")
    handlers, level = list(logger.handlers), logger.level
    yield
    logger.handlers[:] = handlers
    logger.setLevel(level)


def test_apply_keeps_restart_options_and_applies_the_rest() -> None:
    daemon = FakeDaemon(opts(BASE))
    events: list[ConfChangedEvent] = []
    daemon.events.subscribe(ConfChangedEvent, events.append)
    new = opts(BASE.replace("9050", "9150").replace("600", "120"))
    plan = apply_reload(daemon, new)  # type: ignore[arg-type]
    assert plan.restart == ("SocksPort",)
    assert daemon.options.socks_ports[0].port == 9050
    assert daemon.options.get("MaxCircuitDirtiness") == 120
    assert daemon.circuits.reconfigured[0][2] == 120.0
    assert events and events[0].entries


def test_bad_torrc_keeps_the_old_configuration(tmp_path: Path,
                                               caplog: pytest.LogCaptureFixture) -> None:
    torrc = tmp_path / "torrc"
    torrc.write_text(f"DataDirectory {tmp_path}\n{BASE}")
    daemon = FakeDaemon(opts(BASE))
    before = daemon.options
    torrc.write_text("ExitPolicy accept *:80\nNoSuchOption 1\n")
    logging.getLogger("zwiebel").propagate = True
    assert not reload_daemon(daemon, ["-f", str(torrc)])  # type: ignore[arg-type]
    assert daemon.options is before
    assert "Reading config failed--see warnings above. For usage, try -h." in caplog.text


def test_good_torrc_is_read_with_command_line_overrides(tmp_path: Path) -> None:
    torrc = tmp_path / "torrc"
    torrc.write_text(f"DataDirectory {tmp_path}\nSocksPort 0\nMaxCircuitDirtiness 300\n")
    read = reload.read_config(["-f", str(torrc), "MaxCircuitDirtiness", "90"])
    assert read.get("MaxCircuitDirtiness") == 90
