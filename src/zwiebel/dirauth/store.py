"""The authority's descriptor store (dir-spec 3.2; tor's routerlist as an authority keeps it).

The stateful half of tor 0.4.9.11's dirserv_add_descriptor (process_descs.c) and
router_add_to_routerlist (routerlist.c): the same descriptor twice is "not new"; a
newer one that differs only cosmetically from the stored one does not replace it
(router_differences_are_cosmetic), so authorities converge on one descriptor; an
RSA/Ed25519 pair is pinned once seen; an older one than the stored one is "not new".
Extra-info documents are kept next to the descriptor that names them.

`serialize()` writes every current descriptor and extra-info (tor's cached-descriptors
and cached-extrainfo, in one text with "@" annotations) and `load()` reads it back;
pins are rebuilt from the loaded descriptors. Replaced descriptors stay reachable by
digest (as tor's old_routers) until `prune()` drops those older than ROUTER_MAX_AGE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from zwiebel.dirauth.accept import (
    AcceptOptions,
    DescriptorRejected,
    ExtraInfo,
    check_extrainfo,
    check_server_descriptor,
)
from zwiebel.netdoc.serverdesc import ServerDescriptor

ROUTER_MAX_AGE = timedelta(hours=48)
"""tor: how long a replaced descriptor is kept (or.h ROUTER_MAX_AGE)."""
ROUTER_MAX_COSMETIC_TIME_DIFFERENCE = timedelta(hours=2)
ROUTER_ALLOW_UPTIME_DRIFT = 6 * 3600

MSG_NOT_NEW = "Router descriptor was not new."
MSG_COSMETIC = ("Not replacing router descriptor; no information has changed since the "
                "last one with this identity.")
MSG_KEYPIN = (
    "Looks like your keypair has changed? This authority previously recorded a different "
    "RSA identity for this Ed25519 identity (or vice versa.) Did you replace or copy some "
    "of your key files, but not the others? You should either restore the expected "
    "keypair, or delete your keys and restart Tor to start your relay with a new identity.")
MSG_ACCEPTED = "Descriptor accepted"
MSG_UPDATED = "Valid server updated"


def _same_text(a: str | None, b: str | None) -> bool:
    return (a is None) == (b is None) and (a or "").lower() == (b or "").lower()


def _key_fields_equal(r1: ServerDescriptor, r2: ServerDescriptor) -> bool:
    return (r1.address == r2.address and r1.nickname.lower() == r2.nickname.lower()
            and r1.or_port == r2.or_port and r1.or_addresses[:1] == r2.or_addresses[:1]
            and r1.dir_port == r2.dir_port and r1.onion_key_tap == r2.onion_key_tap
            and r1.identity == r2.identity and _same_text(r1.platform, r2.platform)
            and _same_text(r1.contact, r2.contact) and r1.hibernating == r2.hibernating
            and r1.exit_policy_lines == r2.exit_policy_lines
            and r1.tunnelled_dir_server == r2.tunnelled_dir_server
            and sorted(f.lower() for f in r1.family) == sorted(f.lower() for f in r2.family))


def differences_are_cosmetic(r1: ServerDescriptor, r2: ServerDescriptor) -> bool:
    """router_differences_are_cosmetic (routerlist.c): no need to replace r1 by r2."""
    if r1.published > r2.published:
        r1, r2 = r2, r1
    if not _key_fields_equal(r1, r2):
        return False
    (rate1, burst1, cap1), (rate2, burst2, cap2) = r1.bandwidth, r2.bandwidth
    if cap1 < cap2 // 2 or cap2 < cap1 // 2 or rate1 != rate2 or burst1 != burst2:
        return False
    if r1.published + ROUTER_MAX_COSMETIC_TIME_DIFFERENCE < r2.published:
        return False
    up1, up2 = r1.uptime or 0, r2.uptime or 0
    drift = abs(up2 - (up1 + int((r2.published - r1.published).total_seconds())))
    return not (drift > ROUTER_ALLOW_UPTIME_DRIFT and drift > up1 * .05 and drift > up2 * .05)


@dataclass(frozen=True)
class AddResult:
    """What add_server did: the stored descriptor and tor's message for the uploader."""

    descriptor: ServerDescriptor
    message: str
    replaced: ServerDescriptor | None


class DescriptorStore:
    """Current server descriptors by RSA identity, with extra-info and key pins."""

    def __init__(self, opts: AcceptOptions, own_identity: bytes | None = None) -> None:
        self.opts = opts
        self.own_identity = own_identity
        self._current: dict[bytes, ServerDescriptor] = {}
        self._by_digest: dict[bytes, ServerDescriptor] = {}
        self._extra: dict[bytes, ExtraInfo] = {}
        self._ed_for_rsa: dict[bytes, bytes] = {}
        self._rsa_for_ed: dict[bytes, bytes] = {}

    # --- server descriptors ---

    def add_server(self, raw: str, now: datetime) -> ServerDescriptor:
        """Check and store one uploaded descriptor; DescriptorRejected if not taken."""
        return self.add_server_verbose(raw, now).descriptor

    def add_server_verbose(self, raw: str, now: datetime) -> AddResult:
        """As add_server, also returning tor's success message ("Descriptor accepted")."""
        desc = check_server_descriptor(raw, now, self.opts)
        old = self._current.get(desc.identity)
        if desc.digest in self._by_digest:
            raise DescriptorRejected(MSG_NOT_NEW, outdated=True)
        if (old is not None and old.published < desc.published
                and desc.identity != self.own_identity and differences_are_cosmetic(old, desc)):
            raise DescriptorRejected(MSG_COSMETIC, outdated=True)
        if self._pin_conflict(desc) and self.opts.pin_keys:
            raise DescriptorRejected(MSG_KEYPIN)
        if old is not None and desc.published <= old.published:
            raise DescriptorRejected(MSG_NOT_NEW, outdated=True)
        self._insert(desc)
        return AddResult(desc, MSG_UPDATED if old else MSG_ACCEPTED, old)

    def _pin_conflict(self, desc: ServerDescriptor) -> bool:
        """keypin_check: the RSA id pinned to another Ed25519 key, or the reverse."""
        if desc.ed25519_id is None:
            return False
        ed = self._ed_for_rsa.get(desc.identity)
        rsa = self._rsa_for_ed.get(desc.ed25519_id)
        return (ed is not None and ed != desc.ed25519_id) or (
            rsa is not None and rsa != desc.identity)

    def _insert(self, desc: ServerDescriptor) -> None:
        old = self._current.get(desc.identity)
        if old is not None and old.extra_info_digest in self._extra:
            del self._extra[old.extra_info_digest]
        self._current[desc.identity] = desc
        self._by_digest[desc.digest] = desc
        if desc.ed25519_id is not None and (
                self.opts.pin_keys or desc.identity not in self._ed_for_rsa):
            self._ed_for_rsa.setdefault(desc.identity, desc.ed25519_id)
            self._rsa_for_ed.setdefault(desc.ed25519_id, desc.identity)

    def server(self, identity: bytes) -> ServerDescriptor | None:
        """The current descriptor of the relay with this RSA identity digest."""
        return self._current.get(identity)

    def servers(self) -> list[ServerDescriptor]:
        """All current descriptors, sorted by identity digest."""
        return [self._current[k] for k in sorted(self._current)]

    def by_digest(self, sha1: bytes) -> ServerDescriptor | None:
        """A current or recently replaced descriptor by its SHA-1 digest."""
        return self._by_digest.get(sha1)

    def remove(self, identity: bytes) -> None:
        """Forget a relay's current descriptor (e.g. it is now rejected)."""
        desc = self._current.pop(identity, None)
        if desc is not None and desc.extra_info_digest is not None:
            self._extra.pop(desc.extra_info_digest, None)

    def prune(self, now: datetime) -> None:
        """Drop replaced descriptors published more than ROUTER_MAX_AGE ago."""
        current = {d.digest for d in self._current.values()}
        for digest, desc in list(self._by_digest.items()):
            if digest not in current and desc.published < now - ROUTER_MAX_AGE:
                del self._by_digest[digest]

    # --- extra-info ---

    def add_extrainfo(self, raw: str, now: datetime) -> ExtraInfo:
        """Check an extra-info document against its descriptor and store it."""
        del now
        ei = check_extrainfo(raw, self._current)
        self._extra[ei.digest] = ei
        return ei

    def extrainfo(self, sha1: bytes) -> ExtraInfo | None:
        """A stored extra-info document by its SHA-1 digest."""
        return self._extra.get(sha1)

    def extrainfos(self) -> list[ExtraInfo]:
        """All stored extra-info documents."""
        return list(self._extra.values())

    # --- persistence ---

    def serialize(self) -> str:
        """Every current descriptor, then every extra-info, concatenated."""
        out = [d.raw for d in self.servers()] + [e.raw for e in self._extra.values()]
        return "".join(t if t.endswith("\n") else t + "\n" for t in out)

    def load(self, text: str, now: datetime) -> list[str]:
        """Re-add a serialize() text; returns the reasons of documents not re-added."""
        problems = []
        for chunk in _split_documents(text):
            try:
                if chunk.startswith("extra-info "):
                    self.add_extrainfo(chunk, now)
                else:
                    self.add_server(chunk, now)
            except DescriptorRejected as exc:
                problems.append(str(exc))
        return problems


def _split_documents(text: str) -> list[str]:
    """Split at each "router " / "extra-info " line that starts a document."""
    starts = [0] if text.startswith(("router ", "extra-info ")) else []
    pos = 0
    while True:
        hits = [i for i in (text.find("\nrouter ", pos), text.find("\nextra-info ", pos))
                if i >= 0]
        if not hits:
            break
        pos = min(hits) + 1
        starts.append(pos)
    return [text[a:b] for a, b in zip(starts, starts[1:] + [len(text)], strict=True)]
