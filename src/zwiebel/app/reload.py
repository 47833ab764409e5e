"""SIGHUP and the control port's SIGNAL RELOAD: read the torrc again, apply what can
change while running, name what cannot.

tor's ``do_hup`` (``src/app/main/main.c``) re-reads the same torrc-defaults, torrc and
command-line options it started with. A configuration that no longer parses or
validates is reported with tor's line ("Reading config failed--see warnings above. For
usage, try -h."); unlike tor, which then exits, Zwiebel keeps the old configuration and
keeps running, as the relay issue asks. A good configuration is compared with the
running one option by option (:func:`plan_reload`, a pure function):

* exit options (ExitPolicy and friends) go to ``RelayService.set_exit_policy_from``,
  which also hands the descriptor inputs (Nickname, ContactInfo, MyFamily, bandwidth
  values) to the publisher; it rebuilds and uploads on its next check. Circuits stay.
  BandwidthRate/Burst and RelayBandwidthRate/Burst also go to
  ``RelayService.set_bandwidth_from`` (the token buckets);
* AccountingMax, AccountingStart and AccountingRule (and the bandwidth rates, which
  accounting's usage estimate reads) go to ``RelayService.set_accounting_from``, as tor's
  options_act_relay_accounting: the running period is kept, shifted or restarted, the
  wake-up time recomputed, and accounting may be turned on or off; a bad AccountingStart
  is reported and the accounting in force kept;
* client path options and MaxCircuitDirtiness go to the circuit manager for new circuits;
* Log and SafeLogging: the log destinations are set up again, which also reopens log
  files (every reload does that, for logrotate);
* options read when they are used (ShutdownWaitLength, HashedControlPassword) simply
  take the new value;
* every other changed option needs a restart: it is named in a warning (tor's "While
  Tor is running, changing X is not allowed") and keeps its old value.

:func:`path_restrictions` and :func:`build_timeout` turn options into the client's
settings, both at start and on reload.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from zwiebel.app.cli import parse_command_line
from zwiebel.app.logsetup import LOGGER_NAME, NOTICE, SeverityRange, setup_logging
from zwiebel.app.main import load_options
from zwiebel.config import ConfigError, Options
from zwiebel.config.values import RouterSet
from zwiebel.features.control.confcmds import changed_entries
from zwiebel.features.relay.service import RelayConfigError, RelayService
from zwiebel.managers.circuits import CircuitManager
from zwiebel.managers.events import EventBus
from zwiebel.netdir.restrict import NameSet, PathRestrictions

log = logging.getLogger(LOGGER_NAME)
#: tor's initial circuit build timeout before it has learned one (circuitstats.h).
DEFAULT_BUILD_TIMEOUT = 60.0


class Area(enum.Enum):
    """Where a changed option takes effect."""

    EXIT = "exit policy"
    DESCRIPTOR = "descriptor"
    BANDWIDTH = "bandwidth"
    ACCOUNTING = "accounting"
    CLIENT = "client paths"
    LOGGING = "logging"
    ON_DEMAND = "read when used"
    RESTART = "needs a restart"


_AREAS: dict[str, Area] = {
    **dict.fromkeys(("ExitPolicy", "ExitRelay", "ExitPolicyRejectPrivate",
                     "ExitPolicyRejectLocalInterfaces", "ReducedExitPolicy", "IPv6Exit"),
                    Area.EXIT),
    **dict.fromkeys(("Nickname", "ContactInfo", "MyFamily", "MaxAdvertisedBandwidth"),
                    Area.DESCRIPTOR),
    **dict.fromkeys(("BandwidthRate", "BandwidthBurst", "RelayBandwidthRate",
                     "RelayBandwidthBurst"), Area.BANDWIDTH),
    **dict.fromkeys(("AccountingMax", "AccountingStart", "AccountingRule"), Area.ACCOUNTING),
    **dict.fromkeys(("MaxCircuitDirtiness", "ExcludeNodes", "ExcludeExitNodes", "ExitNodes",
                     "EntryNodes", "MiddleNodes", "StrictNodes", "EnforceDistinctSubnets",
                     "CircuitBuildTimeout", "LearnCircuitBuildTimeout", "NumEntryGuards",
                     "NumPrimaryGuards"), Area.CLIENT),
    **dict.fromkeys(("Log", "SafeLogging"), Area.LOGGING),
    **dict.fromkeys(("ShutdownWaitLength", "HashedControlPassword"), Area.ON_DEMAND),
}


def area_of(name: str) -> Area:
    """Where a change of option ``name`` (canonical spelling) takes effect."""
    return _AREAS.get(name, Area.RESTART)


@dataclass(frozen=True)
class ReloadPlan:
    """The options a reload changes, split into applied now and needing a restart."""

    live: tuple[str, ...]
    restart: tuple[str, ...]

    def touches(self, area: Area) -> bool:
        """True if some changed option belongs to ``area``."""
        return any(area_of(name) is area for name in self.live)


def changed_options(old: Options, new: Options) -> tuple[str, ...]:
    """Canonical names of the options whose resolved values differ, in registry order."""
    return tuple(opt.name for opt in new.registry
                 if opt.name in old.registry and old.get(opt.name) != new.get(opt.name))


def plan_reload(old: Options, new: Options) -> ReloadPlan:
    """Which changed options apply live and which need a restart."""
    changed = changed_options(old, new)
    return ReloadPlan(tuple(n for n in changed if area_of(n) is not Area.RESTART),
                      tuple(n for n in changed if area_of(n) is Area.RESTART))


def effective_options(old: Options, new: Options, plan: ReloadPlan) -> Options:
    """``new`` with every restart-only option kept at its running value."""
    return new.with_values(**{name: old.get(name) for name in plan.restart})


def read_config(argv: Sequence[str]) -> Options:
    """Read torrc-defaults, torrc and the command line ``argv`` again, validated.

    Raises :class:`ConfigError` as start-up would; validation warnings are logged.
    """
    options, warnings = load_options(parse_command_line(argv))
    for warning in warnings:
        log.warning("%s", warning)
    return options


# -- client settings from options ---------------------------------------------------------
def _names(value: RouterSet | None) -> NameSet | None:
    if not value:
        return None
    unsupported = list(value.countries) + list(value.addresses)
    if unsupported:
        log.warning("Country codes and address patterns in node lists are not supported "
                    "yet and are ignored: %s", ", ".join(unsupported))
    return NameSet(frozenset(value.fingerprints) | frozenset(value.nicknames))


def path_restrictions(options: Options) -> PathRestrictions:
    """The torrc options that shape paths."""
    return PathRestrictions(
        exclude_nodes=_names(options.get("ExcludeNodes")),
        exclude_exit_nodes=_names(options.get("ExcludeExitNodes")),
        exit_nodes=_names(options.get("ExitNodes")),
        entry_nodes=_names(options.get("EntryNodes")),
        middle_nodes=_names(options.get("MiddleNodes")),
        strict_nodes=bool(options.get("StrictNodes")),
        enforce_distinct_subnets=bool(options.get("EnforceDistinctSubnets")),
    )


def build_timeout(options: Options) -> float:
    """CircuitBuildTimeout when fixed, else tor's initial 60 s."""
    fixed = float(options.get("CircuitBuildTimeout") or 0)
    if fixed > 0 and not options.get("LearnCircuitBuildTimeout"):
        return fixed
    return DEFAULT_BUILD_TIMEOUT


# -- applying -------------------------------------------------------------------------------
class Reloadable(Protocol):
    """The parts of the daemon a reload changes."""

    options: Options
    circuits: CircuitManager
    relay: RelayService | None
    events: EventBus


def reopen_logs(options: Options) -> None:
    """Set up the Log destinations again (reopening files), keeping foreign handlers
    such as the control port's log-event handler."""
    logger = logging.getLogger(LOGGER_NAME)
    foreign = [h for h in logger.handlers
               if not any(isinstance(f, SeverityRange) for f in h.filters)]
    level = logger.level
    setup_logging(options.logs)
    for handler in foreign:
        logger.addHandler(handler)
    if foreign:
        logger.setLevel(min(level, logger.level))


def apply_reload(target: Reloadable, new: Options) -> ReloadPlan:
    """Apply ``new`` to the running daemon as far as it can change live."""
    old = target.options
    plan = plan_reload(old, new)
    effective = effective_options(old, new, plan)
    target.options = effective
    reopen_logs(effective)
    relay = target.relay
    relay_areas = (Area.EXIT, Area.DESCRIPTOR, Area.BANDWIDTH)
    if relay is not None and any(plan.touches(area) for area in relay_areas):
        relay.set_exit_policy_from(effective)
        log.log(NOTICE, "Applied the new exit policy and descriptor options; the next "
                        "descriptor will carry them. Open circuits are kept.")
    if relay is not None and plan.touches(Area.BANDWIDTH):
        relay.set_bandwidth_from(effective)
    if relay is not None and (plan.touches(Area.ACCOUNTING) or plan.touches(Area.BANDWIDTH)):
        apply_accounting(relay, effective)
    if plan.touches(Area.CLIENT):
        target.circuits.reconfigure(path_restrictions(effective), build_timeout(effective),
                                    float(effective.get("MaxCircuitDirtiness")))
        target.circuits.guard_counts = (int(effective.get("NumPrimaryGuards")),
                                        int(effective.get("NumEntryGuards")))
    for name in plan.restart:
        log.warning("While Tor is running, changing %s is not allowed; it keeps its old "
                    "value until Zwiebel is restarted.", name)
    if plan.live:
        log.log(NOTICE, "Reloaded options: %s.", ", ".join(plan.live))
    event = changed_entries(old, effective)
    if event.entries:
        target.events.emit(event)
    return plan


def apply_accounting(relay: RelayService, options: Options) -> None:
    """The Accounting* options to the running relay; a bad value keeps the old ones."""
    try:
        relay.set_accounting_from(options)
    except RelayConfigError as exc:
        log.warning("%s Keeping the accounting settings in force.", exc)


def reload_daemon(target: Reloadable, argv: Sequence[str]) -> bool:
    """SIGHUP / SIGNAL RELOAD; False when the new configuration was refused."""
    log.log(NOTICE, "Received reload signal (hup). Reloading config and resetting "
                    "internal state.")
    try:
        new = read_config(argv)
    except ConfigError as exc:
        log.warning("Failed to parse/validate config: %s", exc)
        log.error("Reading config failed--see warnings above. For usage, try -h.")
        log.warning("Keeping the previous configuration; Zwiebel keeps running.")
        return False
    apply_reload(target, new)
    return True
