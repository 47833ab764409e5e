"""The directory authority role inside the daemon (dir-spec 3; tor's dirvote_act).

`AuthorityService` runs next to the relay role (an authority is a relay too): it
loads the authority keys (DataDirectory/keys, tor-gencert's files), opens the
DirPort, takes descriptor uploads, tests relays' ORPorts, and walks the voting
schedule: vote and send the vote to the other authorities, fetch votes still
missing, compute and sign the consensus in both flavors and send the detached
signatures, fetch signatures still missing, publish. The documents are served over
the DirPort and over BEGIN_DIR (`serve.AuthorityDocuments`).

State kept across restarts, written atomically in the DataDirectory: the
descriptors (``authority-descriptors``), the reachability history
(``authority-history.json``) and the published consensus of each flavor
(``cached-consensus``, ``cached-microdesc-consensus``, tor's file names).

Deliberately not here: shared randomness (Zwiebel authorities do not take part:
their votes carry no commits), bandwidth files (no measured bandwidths), legacy
keys, bridge authority mode, consensus diffs.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path

from zwiebel.config import Options
from zwiebel.config.authorities import DirAuthoritySpec
from zwiebel.config.dirservers import trusted_authorities
from zwiebel.config.files import atomic_write
from zwiebel.crypto.digest import sha256
from zwiebel.dirauth.history import ReachabilityHistory
from zwiebel.dirauth.keys import AuthorityKeyError, AuthorityKeys, load_authority_keys
from zwiebel.dirauth.microdescs import microdesc_lines
from zwiebel.dirauth.schedule import LiveConsensus, VotingSchedule
from zwiebel.dirauth.store import DescriptorStore
from zwiebel.dirauth.votebuild import SharedRandom, build_vote_body
from zwiebel.encoding import ParseError
from zwiebel.features.dirauth import settings
from zwiebel.features.dirauth.handlers import AuthorityHandlers
from zwiebel.features.dirauth.reachability import ReachabilityTester
from zwiebel.features.dirauth.round import Published, RoundError, VotingRound
from zwiebel.features.dirauth.serve import AuthorityDocuments, ServedDocs
from zwiebel.features.dirauth.voting import VotingLoop
from zwiebel.features.relay.service import RelayService
from zwiebel.managers.channels import ChannelManager
from zwiebel.netdoc.build.vote import build_vote
from zwiebel.netdoc.consensus import parse_consensus
from zwiebel.netdoc.serverdesc import ServerDescriptor
from zwiebel.netdoc.vote import VoteAuthority
from zwiebel.runtime.clock import utcnow
from zwiebel.runtime.dirport import DirPortServer

log = logging.getLogger("zwiebel")
NOTICE = 25
STORE_FILE = "authority-descriptors"
HISTORY_FILE = "authority-history.json"
CONSENSUS_FILES = {"ns": "cached-consensus", "microdesc": "cached-microdesc-consensus"}


class AuthorityConfigError(Exception):
    """The authority cannot start; the text says what to fix."""


class AuthorityService:
    """A v3 directory authority's long-lived parts."""

    def __init__(self, options: Options, data_dir: Path, relay: RelayService,
                 channels: ChannelManager) -> None:
        self.options = options
        self.data_dir = data_dir
        self.relay = relay
        self.started = utcnow()
        self.keys = _load_keys(data_dir, self.started)
        self.authorities = [a for a in trusted_authorities(options) if a.is_v3]
        self.peers = self._peers()
        own_id = relay.keys.fingerprint
        self.store = DescriptorStore(settings.accept_options(options), own_identity=own_id)
        self.history = self._load_history()
        self.schedule = VotingSchedule(settings.schedule_config(options))
        self.vote_options = settings.vote_options(options, own_id, self.started)
        self.docs = ServedDocs(own_cert=self.keys.cert_text,
                               certs={self.keys.v3ident: self.keys.cert_text},
                               own_server=self._own_server)
        self.documents = AuthorityDocuments(self.docs)
        self.round: VotingRound | None = None
        self.live: LiveConsensus | None = None
        self.tester = ReachabilityTester(channels, self.history, self.store)
        self.handlers = AuthorityHandlers(self)
        self.dirport = DirPortServer(self.handlers.handle)
        self.voting = VotingLoop(self)
        self._tasks: list[asyncio.Task[None]] = []
        self._load_store()
        self._load_consensus()
        self._report_state()

    def _peers(self) -> list[DirAuthoritySpec]:
        own = self.keys.v3ident.hex().upper()
        if not any((a.v3ident or "").upper() == own for a in self.authorities):
            raise AuthorityConfigError(
                f"This authority's v3 identity {own} is not in any DirAuthority line; add "
                "it (with v3ident=) so that the other authorities and clients know it.")
        return [a for a in self.authorities if (a.v3ident or "").upper() != own]

    def authority_map(self) -> dict[bytes, str]:
        """v3 identity to nickname of every configured v3 authority."""
        return {bytes.fromhex(a.v3ident or ""): a.nickname or a.address
                for a in self.authorities}

    def _own_server(self) -> str | None:
        current = self.relay.publisher.current
        return current.server if current is not None else None

    # -- start and stop ---------------------------------------------------------------
    async def start(self) -> None:
        """Open the DirPort and start voting and testing reachability."""
        spec = next((p for p in self.options.dir_ports if p.port and not p.no_listen), None)
        if spec is None:
            raise AuthorityConfigError("A directory authority needs a DirPort.")
        await self.dirport.listen(spec.address or "127.0.0.1", spec.port)
        self.relay.cache.overlay = self.documents.get
        log.log(NOTICE, "Directory authority %s: DirPort open on %s:%d, voting every %d s.",
                self.options.nickname or "Unnamed", spec.address or "127.0.0.1", spec.port,
                self.schedule.config.voting_interval)
        self._tasks = [asyncio.create_task(self.voting.run()),
                       asyncio.create_task(self.tester.run())]

    async def stop(self) -> None:
        """Stop the loops, close the DirPort, save state."""
        for task in self._tasks:
            task.cancel()
        await self.dirport.close()
        self.save_state()

    # -- documents --------------------------------------------------------------------
    def note_descriptor(self, desc: ServerDescriptor) -> None:
        """A newly accepted descriptor: serve it and test its ORPort soon."""
        self._index_descriptor(desc)
        self.tester.test_soon(desc)

    def _index_descriptor(self, desc: ServerDescriptor) -> None:
        self.docs.servers[desc.digest] = desc.raw
        self.docs.servers_by_id[desc.identity] = desc.digest
        for _methods, text in microdesc_lines(desc):
            self.docs.micro[sha256(text.encode())] = text

    def refresh_extras(self) -> None:
        """Index the stored extra-info documents for serving."""
        for extra in self.store.extrainfos():
            self.docs.extras[extra.digest] = extra.raw
            self.docs.extras_by_id[extra.identity] = extra.digest

    def make_vote(self, now: datetime) -> str:
        """Our signed vote for the round being voted on."""
        body = build_vote_body(self.store, self.history, now,
                               self.schedule.vote_times(now, self.live), self._vote_authority(),
                               self.vote_options, SharedRandom(participate=False))
        return build_vote(body, self.keys.cert_text, self.keys.signing_key)

    def _vote_authority(self) -> VoteAuthority:
        dir_spec = next(p for p in self.options.dir_ports if p.port and not p.no_listen)
        settings_ = self.relay.feature_settings
        address = str(settings_.addresses[0]) if settings_.addresses else settings_.or_host
        contact = self.options.get("ContactInfo")
        return VoteAuthority(
            nickname=self.options.nickname or "Unnamed", identity=self.keys.v3ident,
            hostname=address, address=address, dir_port=dir_spec.port,
            or_port=settings_.or_port, contact=str(contact) if contact else None)

    def current_round(self, now: datetime) -> VotingRound:
        """The round whose consensus becomes valid next, made on first use."""
        valid_after = self.schedule.timetable(now, self.live).interval_starts
        if self.round is None or self.round.valid_after != valid_after:
            self.round = VotingRound(valid_after, self.authority_map(), self.keys)
            self.docs.pending = self.round
            self.docs.own_pending_vote = None
        return self.round

    def install(self, published: Published) -> None:
        """Serve a newly published consensus and keep it on disk."""
        self.docs.consensus = dict(published.documents)
        self.docs.current_votes = published.votes
        self.docs.own_current_vote = next(
            (v.raw for v in published.votes if v.cert.identity == self.keys.v3ident), None)
        for vote in published.votes:
            self.docs.certs.setdefault(vote.cert.identity, vote.cert.raw)
        for flavor, text in published.documents.items():
            atomic_write(str(self.data_dir / CONSENSUS_FILES[flavor]), text)
        self.live = _live_of(published.documents["ns"])
        self.save_state()

    # -- persistence ------------------------------------------------------------------
    def save_state(self) -> None:
        """Write the descriptors and the reachability history atomically."""
        atomic_write(str(self.data_dir / STORE_FILE), self.store.serialize())
        atomic_write(str(self.data_dir / HISTORY_FILE), self.history.serialize())

    def _load_history(self) -> ReachabilityHistory:
        path = self.data_dir / HISTORY_FILE
        try:
            return ReachabilityHistory.load(path.read_text())
        except FileNotFoundError:
            return ReachabilityHistory()
        except (OSError, ValueError, KeyError) as exc:
            log.warning("Could not read %s (%s); starting a new reachability history.",
                        path, exc)
            return ReachabilityHistory()

    def _load_store(self) -> None:
        path = self.data_dir / STORE_FILE
        try:
            text = path.read_text()
        except OSError:
            return
        for problem in self.store.load(text, self.started):
            log.info("Dropped a stored descriptor: %s", problem)
        for desc in self.store.servers():
            self._index_descriptor(desc)
        self.refresh_extras()

    def _report_state(self) -> None:
        """Say what the DataDirectory gave back (an operator restarting an authority
        sees that it did not start from nothing)."""
        log.log(NOTICE, "Directory authority state read from %s: %d relay descriptors, "
                "the reachability history of %d relays, %s.", self.data_dir,
                len(self.store.servers()), len(self.history.relays),
                _describe_live(self.live))

    def _load_consensus(self) -> None:
        docs = {}
        for flavor, name in CONSENSUS_FILES.items():
            try:
                docs[flavor] = (self.data_dir / name).read_text()
            except OSError:
                return
        try:
            live = _live_of(docs["ns"])
        except ParseError:
            return
        if live.valid_after + timedelta(seconds=3 * live.interval) > self.started:
            self.docs.consensus = docs
            self.live = live


def _describe_live(live: LiveConsensus | None) -> str:
    if live is None:
        return "no consensus recent enough to serve"
    return f"the consensus valid after {live.valid_after:%Y-%m-%d %H:%M:%S}"


def _load_keys(data_dir: Path, now: datetime) -> AuthorityKeys:
    try:
        return load_authority_keys(data_dir / "keys", now)
    except AuthorityKeyError as exc:
        raise AuthorityConfigError(
            f"Cannot load the authority keys in {data_dir / 'keys'}: {exc.reason}. Make them "
            f"with: zwiebel keygen authority {data_dir / 'keys'}") from None


def _live_of(text: str) -> LiveConsensus:
    consensus = parse_consensus(text)
    vote, dist = consensus.voting_delay
    return LiveConsensus(consensus.valid_after, consensus.fresh_until, vote, dist)


__all__ = ["AuthorityConfigError", "AuthorityService", "RoundError"]
