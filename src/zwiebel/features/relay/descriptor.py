"""The relay's own server descriptor, extra-info and microdescriptor (dir-spec 2.1, 3.3).

`inputs_from_options` reads what tor's ``router_build_fresh_unsigned_routerinfo``
(src/feature/relay/router.c) reads from the configuration; `build_descriptors` makes the
certificates with the relay's keys and signs all three documents with
zwiebel.netdoc.build, as ``router_build_fresh_descriptor`` does: the extra-info first,
so the server descriptor can name it in "extra-info-digest".

What a 0.4.9 authority demands (project notes, spec-pitfalls 5) is always present:
the TAP "onion-key" with its "onion-key-crosscert", "ntor-onion-key-crosscert",
"identity-ed25519"/"master-key-ed25519", the Ed25519 and raw-RSA signatures, a
"platform" it parses as a recent Tor version, and "proto".
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from zwiebel import TOR_COMPAT_VERSION
from zwiebel.config import Options
from zwiebel.features.relay.keys import RelayKeys
from zwiebel.features.relay.keys_certs import ntor_crosscert, tap_crosscert
from zwiebel.features.relay.keys_schedule import onion_key_lifetime
from zwiebel.netdoc.build.extrainfo import ExtraInfo, HistoryLine, build_extrainfo
from zwiebel.netdoc.build.family import declared_family
from zwiebel.netdoc.build.microdesc import build_microdesc
from zwiebel.netdoc.build.serverdesc import ServerDescriptorFields, build_server_descriptor
from zwiebel.netdoc.policy import ExitPolicy
from zwiebel.netdoc.serverdesc import ServerDescriptor, parse_server_descriptor

PLATFORM = f"Tor {TOR_COMPAT_VERSION} on Linux"
"""The "platform" line. Authorities parse "Tor X" as a Tor version and reject versions
below MinimalAcceptedServerVersion (0.4.8.0-alpha-dev) or ones that do not parse; clients
and tools (stem, the network health scripts) also infer features from it. Zwiebel
implements the relay behaviour of tor 0.4.9.11, so it claims that version, as
``GETINFO version`` does ("0.4.9.11 (zwiebel-...)")."""

RELAY_PROTOCOLS = ("Cons=2 Desc=2 DirCache=2 FlowCtrl=1-2 HSDir=2 HSIntro=4-5 HSRend=2 "
                   "Link=4-5 LinkAuth=3 Microdesc=2 Relay=2-4")
"""The "proto" line: the subprotocols tor 0.4.9 requires of relays (spec-pitfalls 5),
in tor's order (sorted by name)."""


@dataclass(frozen=True)
class DescriptorInputs:
    """What the descriptors say besides keys: configuration and current state."""

    nickname: str
    address: str
    or_port: int
    exit_policy: ExitPolicy
    dir_port: int = 0
    or_address_v6: tuple[str, int] | None = None
    contact: str | None = None
    family: tuple[str, ...] = ()
    """MyFamily as configured (canonicalised when the descriptor is built)."""
    bandwidth_rate: int = 1 << 30
    bandwidth_burst: int = 1 << 30
    observed_bandwidth: int = 0
    ipv6_exit: bool = False
    hibernating: bool = False
    uptime: int = 0
    dir_cache: bool = True
    history: tuple[HistoryLine, ...] = ()

    def without_state(self) -> DescriptorInputs:
        """These inputs with the ever-changing state zeroed: for "has the config changed"."""
        return DescriptorInputs(self.nickname, self.address, self.or_port, self.exit_policy,
                                self.dir_port, self.or_address_v6, self.contact, self.family,
                                self.bandwidth_rate, self.bandwidth_burst, 0, self.ipv6_exit,
                                self.hibernating, 0, self.dir_cache, ())


@dataclass(frozen=True)
class DescriptorSet:
    """The three signed documents of one publication."""

    server: str
    extra_info: ExtraInfo
    microdesc: str
    parsed: ServerDescriptor
    """The server descriptor as the project's parser reads it (digest, fields)."""
    inputs: DescriptorInputs

    @property
    def published(self) -> datetime:
        """The "published" time."""
        return self.parsed.published

    def upload_body(self) -> bytes:
        """What tor POSTs to /tor/: the descriptor followed by its extra-info."""
        return (self.server + self.extra_info.text).encode()


def effective_bandwidth(rate: int, burst: int, max_advertised: int, relay_rate: int,
                        relay_burst: int) -> tuple[int, int]:
    """relay_get_effective_bwrate / _bwburst (src/feature/relay/relay_config.c)."""
    rate = min(rate, max_advertised)
    if relay_rate > 0:
        rate = min(rate, relay_rate)
    if relay_burst > 0:
        burst = min(burst, relay_burst)
    return min(rate, 2**31 - 1), min(burst, 2**31 - 1)


def _advertised(options: Options, family: int) -> tuple[str | None, int]:
    """(bind address, port) of the first ORPort of `family` that is advertised."""
    for spec in options.or_ports:
        if spec.no_advertise or spec.unix_path is not None or spec.address is None:
            continue
        if ipaddress.ip_address(spec.address).version == family:
            unspecified = ipaddress.ip_address(spec.address).is_unspecified
            return (None if unspecified else spec.address), spec.port
    return None, 0


def _ipv4_address(options: Options, bound: str | None) -> str:
    for value in options.addresses:
        if ipaddress.ip_address(value.strip("[]")).version == 4:
            return str(value)
    if bound is not None:
        return bound
    raise ValueError("Don't know my address while generating descriptor: set Address")


def _ipv6_or_address(options: Options) -> tuple[str, int] | None:
    """The "or-address" of the advertised IPv6 ORPort: its bind address, or an IPv6
    Address when it listens on [::] (router_get_advertised_ipv6_or_ap)."""
    bound6, port6 = _advertised(options, 6)
    if not port6:
        return None
    if bound6 is None:
        bound6 = next((a.strip("[]") for a in options.addresses
                       if ipaddress.ip_address(a.strip("[]")).version == 6), None)
    return None if bound6 is None else (bound6, port6)


def inputs_from_options(options: Options, exit_policy: ExitPolicy, *, observed_bandwidth: int = 0,
                        uptime: int = 0, hibernating: bool = False,
                        history: tuple[HistoryLine, ...] = ()) -> DescriptorInputs:
    """DescriptorInputs from a relay's `zwiebel.config.Options` (with RELAY_OPTIONS)."""
    bound4, port4 = _advertised(options, 4)
    rate, burst = effective_bandwidth(
        options.bandwidth_rate, options.bandwidth_burst, options.max_advertised_bandwidth,
        options.relay_bandwidth_rate, options.relay_bandwidth_burst)
    dir_ports = [p for p in options.dir_ports if not p.no_advertise and p.unix_path is None]
    return DescriptorInputs(
        nickname=options.nickname or "Unnamed", address=_ipv4_address(options, bound4),
        or_port=port4, exit_policy=exit_policy,
        dir_port=dir_ports[0].port if dir_ports else 0,
        or_address_v6=_ipv6_or_address(options),
        contact=options.contact_info, family=tuple(options.my_family or ()),
        bandwidth_rate=rate, bandwidth_burst=burst, observed_bandwidth=observed_bandwidth,
        ipv6_exit=not exit_policy.is_reject_star(6), hibernating=hibernating, uptime=uptime,
        dir_cache=bool(options.dir_cache), history=history)


def server_fields(keys: RelayKeys, inputs: DescriptorInputs, published: datetime,
                   extra: ExtraInfo, params: Mapping[str, int] | None
                   ) -> ServerDescriptorFields:
    """The server descriptor's fields, certificates made with `keys`."""
    ntor_cc, sign_bit = ntor_crosscert(keys.ntor, keys.master_id,
                                       published + onion_key_lifetime(params))
    policy = inputs.exit_policy
    return ServerDescriptorFields(
        nickname=inputs.nickname, address=inputs.address, or_port=inputs.or_port,
        identity_cert=keys.signing_cert.encode(), master_id=keys.master_id,
        ntor_onion_key=keys.ntor.public_bytes(), ntor_crosscert=ntor_cc.encode(),
        ntor_crosscert_sign_bit=sign_bit, platform=PLATFORM, protocols=RELAY_PROTOCOLS,
        published=published,
        bandwidth=(inputs.bandwidth_rate, inputs.bandwidth_burst,
                   0 if inputs.hibernating else inputs.observed_bandwidth),
        exit_policy_lines=tuple(policy.to_descriptor_lines()), dir_port=inputs.dir_port,
        or_address_v6=inputs.or_address_v6, uptime=inputs.uptime,
        extra_info_digests=(extra.sha1_digest, extra.sha256_digest),
        onion_key_tap=keys.onion_tap.public(),
        onion_key_crosscert=tap_crosscert(keys.onion_tap, keys.fingerprint, keys.master_id),
        family=declared_family(inputs.family, keys.fingerprint, inputs.nickname),
        hibernating=inputs.hibernating, contact=inputs.contact,
        ipv6_policy=policy.summarize(6).encode() if inputs.ipv6_exit else None,
        tunnelled_dir_server=inputs.dir_cache)


def build_descriptors(keys: RelayKeys, inputs: DescriptorInputs, now: datetime,
                      params: Mapping[str, int] | None = None) -> DescriptorSet:
    """Sign a fresh extra-info, server descriptor and microdescriptor published at `now`.

    `params` are the consensus parameters (onion-key-rotation-days sets how long the
    ntor cross-certificate is valid)."""
    published = now.replace(microsecond=0)
    extra = build_extrainfo(inputs.nickname, published, keys.signing_cert.encode(),
                            keys.identity, keys.signing, inputs.history)
    fields = server_fields(keys, inputs, published, extra, params)
    server = build_server_descriptor(fields, keys.identity, keys.signing)
    parsed = parse_server_descriptor(server)
    return DescriptorSet(server, extra, build_microdesc(parsed), parsed, inputs)
