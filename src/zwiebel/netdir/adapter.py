"""Build `RelayInfo`/`NetDir` from zwiebel.netdoc documents (dir-spec 3.4.1, 3.3, 2.1).

A microdesc-flavored consensus is joined with microdescriptors by the "m" digest
(SHA-256 of the microdescriptor); an ns-flavored one with server descriptors by the
descriptor digest of the "r" line.  A relay whose document is missing still becomes a
`RelayInfo` (so lookups and guard listing work) but without an ntor key, hence not
usable, as tor does without a descriptor.

Exit policy: the server descriptor's full `ExitPolicy` when known, else the
microdescriptor's "p" summary, else the consensus "p" summary (ns flavor).  "Rejects
all" follows tor's parsers: a descriptor rejects all when its IPv4 policy is reject-star
and its ipv6-policy is absent or reject-star (routerparse.c); a microdescriptor when
both "p" and "p6" are absent or "reject 1-65535" (microdesc_parse.c); a relay with no
descriptor at all is treated as rejecting everything (node_exit_policy_rejects_all).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from zwiebel.netdir.netdir import NetDir
from zwiebel.netdir.relay import ExitPolicyLike, RelayInfo
from zwiebel.netdoc.consensus import Consensus
from zwiebel.netdoc.microdesc import Microdescriptor
from zwiebel.netdoc.policy import PolicySummary
from zwiebel.netdoc.routerstatus import RouterStatus
from zwiebel.netdoc.serverdesc import ServerDescriptor


def relays_from_documents(
    consensus: Consensus, documents: Iterable[Microdescriptor] | Iterable[ServerDescriptor]
) -> list[RelayInfo]:
    """One `RelayInfo` per consensus entry, merged with its microdesc/server descriptor."""
    by_digest: dict[bytes, Microdescriptor | ServerDescriptor] = {d.digest: d for d in documents}
    relays = []
    for status in consensus.routers:
        key = status.microdesc_digest if consensus.flavor == "microdesc" else None
        key = key if key is not None else status.descriptor_digest
        doc = by_digest.get(key) if key is not None else None
        if isinstance(doc, ServerDescriptor):
            relays.append(_from_serverdesc(status, doc))
        elif isinstance(doc, Microdescriptor):
            relays.append(_from_microdesc(status, doc))
        else:
            relays.append(_from_status_only(status))
    return relays


def netdir_from_documents(
    consensus: Consensus, documents: Iterable[Microdescriptor] | Iterable[ServerDescriptor]
) -> NetDir:
    """A `NetDir` with the consensus params and bandwidth weights."""
    relays = relays_from_documents(consensus, documents)
    return NetDir(relays, consensus.params, consensus.bandwidth_weights)


def _relay(
    status: RouterStatus,
    ed25519_id: bytes | None,
    ntor_key: bytes | None,
    family: frozenset[str],
    policy: ExitPolicyLike | None,
    rejects_all: bool,
) -> RelayInfo:
    return RelayInfo(
        nickname=status.nickname,
        rsa_identity=status.identity,
        ed25519_identity=ed25519_id,
        address=status.address,
        or_port=status.or_port,
        ipv6_addresses=_ipv6(status.or_addresses),
        flags=status.flags,
        bandwidth=status.bandwidth,
        ntor_onion_key=ntor_key,
        family=family,
        exit_policy=policy,
        policy_rejects_all=rejects_all,
        protocols=status.protocols,
    )


def _from_microdesc(status: RouterStatus, md: Microdescriptor) -> RelayInfo:
    rejects_all = _summary_rejects(md.policy_summary) and _summary_rejects(md.policy6_summary)
    return _relay(
        status, md.ed25519_id, md.onion_key_ntor, md.family, md.policy_summary, rejects_all
    )


def _from_serverdesc(status: RouterStatus, sd: ServerDescriptor) -> RelayInfo:
    v6_rejects = sd.ipv6_policy is None or sd.ipv6_policy.is_reject_star
    rejects_all = sd.exit_policy.is_reject_star(4) and v6_rejects
    return _relay(status, sd.ed25519_id, sd.ntor_onion_key, sd.family, sd.exit_policy, rejects_all)


def _from_status_only(status: RouterStatus) -> RelayInfo:
    return _relay(status, status.ed25519_id, None, frozenset(), status.policy_summary, True)


def _summary_rejects(summary: PolicySummary | None) -> bool:
    return summary is None or summary.is_reject_star


def _ipv6(addresses: Sequence[tuple[str, int]]) -> tuple[tuple[str, int], ...]:
    return tuple((a, p) for a, p in addresses if ":" in a)
