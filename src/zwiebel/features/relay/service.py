"""The relay role inside the daemon: keys, ORPort, exit policy, descriptors, self-test.

`RelayService` turns a relay's torrc (Nickname, ORPort, Address, ContactInfo,
ExitPolicy, ExitRelay, ...) into a running relay the way tor's start-up does it:
load or create the keys (DataDirectory/keys, tor's formats) and write the fingerprint
files; open the ORPort; test that the ORPort is reachable by building a circuit
through another relay back to ourselves (skipped with AssumeReachable 1); then publish
the descriptors to every authority and keep them fresh (PublishServerDescriptor).

Onion keys rotate on tor's schedule (`onion_rotation.OnionKeyRotator`, with the
consensus's onion-key-rotation-days and onion-key-grace-period-days); a rotation
publishes a new descriptor at once. The Ed25519 signing key is renewed a day before its
certificate expires (`keys_rotation.SigningKeyRenewer`, SigningKeyLifetime): the link
certificates are remade and a new descriptor published at once. The TLS key and link
certificates rotate every two hours inside `RelayFeature`.

ORPorts: one IPv4 ORPort that listens (tor requires one on a relay) and optionally one
IPv6 ORPort (``ORPort [::1]:9001``), advertised as the descriptor's "or-address".

Bandwidth: BandwidthRate/Burst and RelayBandwidthRate/Burst are enforced by the
process's token buckets (`zwiebel.runtime.ratelimit`); the observed bandwidth and, with
AccountingMax, accounting and hibernation run in `accounting_service.BandwidthMeter`.

The DirPort, when configured, serves the same directory cache (`dirport.RelayDirPort`).
Controllers hear of reachability, uploads and hibernation as STATUS_SERVER events
(control-spec 4.1.10: CHECKING_REACHABILITY, REACHABILITY_SUCCEEDED,
ACCEPTED_SERVER_DESCRIPTOR, GOOD_SERVER_DESCRIPTOR, BAD_SERVER_DESCRIPTOR,
HIBERNATION_STATUS), emitted next to the log lines tor sends them with.
Not here yet: the reachability self-test of the IPv6 ORPort (tor tests it through an
IPv6-capable relay), finding an IPv6 address by itself for ``ORPort [::]:PORT``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import logging
import os
from pathlib import Path

from zwiebel.cells.relay_ctrl import Drop
from zwiebel.config import Options
from zwiebel.config.dirservers import trusted_authorities
from zwiebel.config.ports import ListenPortSpec
from zwiebel.features.relay import RelayFeature, RelaySettings
from zwiebel.features.relay.accounting_period import AccountingConfigError
from zwiebel.features.relay.accounting_service import (
    BandwidthMeter,
    accounting_config_of,
    bandwidth_config_of,
)
from zwiebel.features.relay.descriptor import inputs_from_options
from zwiebel.features.relay.dircache import DirCacheServer
from zwiebel.features.relay.keys import RelayKeys, write_fingerprint_files
from zwiebel.features.relay.keys_rotation import SigningKeyRenewer
from zwiebel.features.relay.onion_rotation import OnionKeyRotator
from zwiebel.features.relay.publish import DescriptorPublisher, UploadResult, escaped
from zwiebel.managers.channels import ChannelManager
from zwiebel.managers.directory import DirectoryManager
from zwiebel.managers.events import StatusEvent
from zwiebel.netdir.relay import RelayInfo
from zwiebel.netdoc.policy import ExitPolicy
from zwiebel.netdoc.policy_build import ExitPolicyOptions, build_exit_policy
from zwiebel.runtime import ratelimit
from zwiebel.runtime.channel import ChannelError
from zwiebel.runtime.circuit import Circuit, CircuitError
from zwiebel.runtime.clock import randbelow, utcnow

log = logging.getLogger("zwiebel")
NOTICE = 25
#: Seconds between descriptor checks (tor checks every minute).
PUBLISH_CHECK = 60.0
TESTING_PUBLISH_CHECK = 5.0
#: Seconds between reachability self-tests until one succeeds.
SELF_TEST_RETRY = 20.0
SELF_TEST_TIMEOUT = 20.0
#: Bytes of a cell on the wire (link protocol 4+) and the circuit window (tor-spec 7.3).
CELL_NETWORK_SIZE = 514
CIRCWINDOW_START = 1000


class RelayConfigError(Exception):
    """A relay option Zwiebel cannot honour; start-up stops with this message."""


def exit_policy_of(options: Options) -> ExitPolicy:
    """The effective exit policy from the torrc (tor's policies_parse_exit_policy)."""
    lines = tuple(options.exit_policy) or None
    addresses = tuple(ipaddress.ip_address(a) for a in options.addresses if _is_ip(a))
    return build_exit_policy(ExitPolicyOptions(
        exit_policy=lines,
        exit_relay=options.get("ExitRelay"),
        reduced_exit_policy=bool(options.get("ReducedExitPolicy")),
        ipv6_exit=bool(options.get("IPv6Exit")),
        reject_private=bool(options.get("ExitPolicyRejectPrivate")),
        reject_local_interfaces=bool(options.get("ExitPolicyRejectLocalInterfaces")),
        relay_addresses=addresses,
    ))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _family(spec: ListenPortSpec) -> int:
    return 0 if spec.address is None else ipaddress.ip_address(spec.address).version


def listening_or_ports(options: Options) -> tuple[ListenPortSpec, ListenPortSpec | None]:
    """The IPv4 ORPort and the optional IPv6 one that listen; `RelayConfigError` for a
    set Zwiebel cannot run (no IPv4 ORPort, more than one per family, unix sockets)."""
    listening = [p for p in options.or_ports if not p.no_listen and p.port]
    v4 = [p for p in listening if _family(p) == 4]
    v6 = [p for p in listening if _family(p) == 6]
    if len(v4) != 1 or len(v6) > 1 or len(v4) + len(v6) != len(listening):
        raise RelayConfigError("Zwiebel supports one IPv4 ORPort and at most one IPv6 "
                               "ORPort (TCP) for now.")
    return v4[0], (v6[0] if v6 else None)


def check_relay_options(options: Options) -> None:
    """Refuse what is not built."""
    listening_or_ports(options)


class RelayService:
    """A relay's long-lived parts, started after the client side is up."""

    def __init__(self, options: Options, data_dir: Path, directory: DirectoryManager,
                 channels: ChannelManager) -> None:
        check_relay_options(options)
        self.channels = channels
        self.options = options
        self.data_dir = data_dir
        self.directory = directory
        self.started = dt.datetime.now(dt.UTC)
        lifetime = dt.timedelta(seconds=float(options.get("SigningKeyLifetime")))
        self.keys = RelayKeys.load_or_create(data_dir / "keys", self.started, os.urandom,
                                             signing_lifetime=lifetime)
        self.nickname = options.nickname or "Unnamed"
        self.exit_policy = exit_policy_of(options)
        self.publisher = DescriptorPublisher(trusted_authorities(options),
                                             options.publish_server_descriptor)
        self.cache = DirCacheServer(directory, lambda: self.publisher.current)
        self.feature_settings = self._settings()
        self.meter = self._bandwidth_meter()
        self.feature = RelayFeature(lambda: self.keys, self.feature_settings,
                                    hibernating=self.meter.hibernating,
                                    consensus_params=self._consensus_params)
        self.rotator = OnionKeyRotator(data_dir / "keys", data_dir / "state",
                                       lambda: self.keys, self._set_keys,
                                       self._consensus_params, utcnow, os.urandom,
                                       on_rotated=self.publish_soon)
        self.signing_renewer = SigningKeyRenewer(data_dir / "keys", lambda: self.keys,
                                                 self._set_keys, utcnow, os.urandom,
                                                 lifetime, on_renewed=self._signing_renewed)
        self._publish_kick = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def _set_keys(self, keys: RelayKeys) -> None:
        self.keys = keys

    def _consensus_params(self) -> dict[str, int] | None:
        consensus = self.directory.consensus
        return dict(consensus.params) if consensus is not None else None

    def _signing_renewed(self) -> None:
        """New link certificates for the new signing key, and a new descriptor."""
        self.feature.request_identity_renewal()
        self.publish_soon()

    def publish_soon(self) -> None:
        """Check the descriptor now rather than at the next minute (after a key change)."""
        self._publish_kick.set()

    def _bandwidth_meter(self) -> BandwidthMeter:
        limiter = ratelimit.install(bandwidth_config_of(self.options))
        assert limiter is not None
        try:
            accounting = accounting_config_of(self.options, self.keys.fingerprint)
        except AccountingConfigError as exc:
            raise RelayConfigError(str(exc)) from None
        min_observation = int(self.options.get("TestingMinTimeToReportBandwidth"))
        meter = BandwidthMeter(limiter, self.data_dir / "state", min_observation, accounting,
                               on_dormant=self.feature_stop, on_wake=self.feature_start)
        meter.on_hibernation = lambda name: self._server_status(
            "NOTICE", "HIBERNATION_STATUS", ("STATUS", name))
        return meter

    def _server_status(self, severity: str, action: str, *args: tuple[str, str],
                       quoted: frozenset[str] = frozenset()) -> None:
        """control_event_server_status: a STATUS_SERVER event for controllers."""
        self.channels.events.emit(StatusEvent("SERVER", severity, action, args, quoted))

    async def feature_stop(self) -> None:
        """Hibernation's hard limit: close the ORPort and every OR connection."""
        await self.feature.stop()

    async def feature_start(self) -> None:
        """Hibernation ended: open the ORPort again."""
        await self.feature.start()

    def _settings(self) -> RelaySettings:
        spec, spec6 = listening_or_ports(self.options)
        host = spec.address or "127.0.0.1"
        advertised = [a for a in self.options.addresses if _is_ip(a)] or [host]
        extra: tuple[tuple[str, int], ...] = ()
        if spec6 is not None and spec6.address is not None:
            extra = ((spec6.address, spec6.port),)
            if not any(":" in a for a in advertised) and not spec6.no_advertise \
                    and not ipaddress.ip_address(spec6.address).is_unspecified:
                advertised.append(spec6.address)
        outbound = [a for a in (self.options.get("OutboundBindAddress") or ()) if _is_ip(a)]
        return RelaySettings(
            or_host=host, or_port=spec.port, extra_listeners=extra,
            addresses=tuple(ipaddress.ip_address(a) for a in advertised),
            exit_policy=self.exit_policy,
            allow_private_extend=bool(self.options.get("ExtendAllowPrivateAddresses")),
            outbound_bind=outbound[0] if outbound else None,
            dir_cache=self.cache.get if self.options.get("DirCache") else None,
        )

    async def start(self) -> None:
        """Write the fingerprint files, open the ORPort, start testing and publishing."""
        write_fingerprint_files(self.data_dir, self.nickname, self.keys)
        await self.meter.start()
        if not self.meter.dormant():  # a relay asleep since its last run keeps it closed
            await self.feature.start()
        self._tasks = [asyncio.create_task(self._publish_loop()),
                       asyncio.create_task(self.rotator.run()),
                       asyncio.create_task(self.signing_renewer.run())]

    def set_exit_policy_from(self, options: Options) -> None:
        """SIGHUP: apply a changed ExitPolicy without dropping circuits."""
        self.options = options
        self.exit_policy = exit_policy_of(options)
        self.feature.set_exit_policy(self.exit_policy)

    def set_bandwidth_from(self, options: Options) -> None:
        """SIGHUP: apply changed BandwidthRate/Burst and RelayBandwidthRate/Burst to the
        buckets (tor's connection_bucket_adjust)."""
        limiter = ratelimit.installed()
        if limiter is not None:
            limiter.reconfigure(bandwidth_config_of(options))

    def set_accounting_from(self, options: Options) -> None:
        """SIGHUP: apply changed AccountingMax/Start/Rule (and the rates accounting's
        estimate uses) to the running accounting (tor's options_act_relay_accounting).
        Raises `RelayConfigError` for a bad AccountingStart; nothing changes then."""
        try:
            accounting = accounting_config_of(options, self.keys.fingerprint)
        except AccountingConfigError as exc:
            raise RelayConfigError(str(exc)) from None
        self.meter.reconfigure(accounting)

    async def _publish_loop(self) -> None:
        if self.options.get("AssumeReachable"):
            log.log(NOTICE, "AssumeReachable is set: not testing ORPort reachability.")
        else:
            await self._until_reachable()
        while True:
            try:
                await self._publish_once()
            except (OSError, TimeoutError) as exc:
                log.warning("Descriptor upload failed: %s", exc)
            await self._until_next_publish_check()

    async def _until_next_publish_check(self) -> None:
        try:
            async with asyncio.timeout(self._publish_check_interval()):
                await self._publish_kick.wait()
        except TimeoutError:
            pass
        self._publish_kick.clear()

    def _publish_check_interval(self) -> float:
        """tor checks its descriptor every minute; a test network (whose votes come every
        few seconds) gets a changed observed bandwidth published within seconds."""
        return TESTING_PUBLISH_CHECK if self.options.get("TestingTorNetwork") else PUBLISH_CHECK

    async def _until_reachable(self) -> None:
        settings = self.feature_settings
        log.log(NOTICE, "Now checking whether IPv4 ORPort %s:%d is reachable... (this may "
                "take up to 20 minutes -- look for log messages indicating success)",
                settings.addresses[0], settings.or_port)
        oraddress = ("ORADDRESS", f"{settings.addresses[0]}:{settings.or_port}")
        self._server_status("NOTICE", "CHECKING_REACHABILITY", oraddress)
        while True:
            if self.meter.dormant():  # hibernating: no ORPort to test (tor waits too)
                await asyncio.sleep(SELF_TEST_RETRY)
                continue
            try:
                await self._self_test()
            except (ChannelError, CircuitError, OSError, TimeoutError, IndexError) as exc:
                log.info("ORPort self-test failed: %s", exc)
                await asyncio.sleep(SELF_TEST_RETRY)
                continue
            log.log(NOTICE, "Self-testing indicates your ORPort is reachable from the "
                    "outside. Excellent. Publishing server descriptor.")
            self._server_status("NOTICE", "REACHABILITY_SUCCEEDED", oraddress)
            return

    async def _self_test(self) -> None:
        """Build a circuit through another relay back to our own ORPort (tor's
        router_do_reachability_checks), proving the ORPort answers from outside."""
        while self.directory.netdir is None:
            await asyncio.sleep(1.0)
        me = self.keys.fingerprint
        others = [r for r in self.directory.netdir.relays
                  if r.is_usable() and r.rsa_identity != me]
        first = others[randbelow(len(others))]
        channel = await self.channels.get(first.address, first.or_port, first.rsa_identity)
        circuit = Circuit(channel, 0)
        try:
            await circuit.create(first, SELF_TEST_TIMEOUT)
            await circuit.extend(self._self_info(), SELF_TEST_TIMEOUT)
            self._bandwidth_test(circuit)
        finally:
            circuit.close("self-test done")

    def _bandwidth_test(self, circuit: Circuit) -> None:
        """tor's router_perform_bandwidth_test: BandwidthRate * 10 / 514 DROP cells (at most
        a circuit window, 1000) to ourselves, so the observed bandwidth is not zero."""
        cells = min(int(self.options.get("BandwidthRate")) * 10 // CELL_NETWORK_SIZE,
                    CIRCWINDOW_START)
        for _ in range(cells):
            circuit.core.send_message(Drop(), 0)
        for command, payload in circuit.core.cells_to_send():
            circuit.channel.send_cell(circuit.circ_id, command, payload)
        log.log(NOTICE, "Performing bandwidth self-test...done.")

    def _self_info(self) -> RelayInfo:
        settings = self.feature_settings
        return RelayInfo(nickname=self.nickname, rsa_identity=self.keys.fingerprint,
                         ed25519_identity=self.keys.master_id,
                         address=str(settings.addresses[0]), or_port=settings.or_port,
                         ntor_onion_key=self.keys.ntor.public_bytes())

    async def _publish_once(self) -> None:
        now = dt.datetime.now(dt.UTC)
        uptime = int((now - self.started).total_seconds())
        inputs = inputs_from_options(self.options, self.exit_policy, uptime=uptime,
                                     observed_bandwidth=self.meter.observed(),
                                     hibernating=self.meter.hibernating())
        consensus = self.directory.consensus
        params = consensus.params if consensus is not None else None
        self._upload_status(await self.publisher.tick(self.keys, inputs, now, params))

    def _upload_status(self, results: list[UploadResult]) -> None:
        """ACCEPTED_SERVER_DESCRIPTOR per 200, GOOD_SERVER_DESCRIPTOR once every
        authority accepted, BAD_SERVER_DESCRIPTOR per 400 (tor's dirclient.c; REASON is
        tor's escaped() text inside the quotes, as tor writes it)."""
        for result in results:
            dirauth = ("DIRAUTH", result.authority)
            if result.status == 200:
                self._server_status("NOTICE", "ACCEPTED_SERVER_DESCRIPTOR", dirauth)
            elif result.status == 400:
                self._server_status("WARN", "BAD_SERVER_DESCRIPTOR", dirauth,
                                    ("REASON", escaped(result.reason)),
                                    quoted=frozenset({"REASON"}))
        if results and all(r.status == 200 for r in results):
            self._server_status("NOTICE", "GOOD_SERVER_DESCRIPTOR")

    async def stop(self) -> None:
        """Close the ORPort and stop publishing."""
        for task in self._tasks:
            task.cancel()
        await self.meter.stop()
        await self.feature.stop()
