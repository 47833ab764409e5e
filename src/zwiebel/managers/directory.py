"""The client's directory manager (dir-spec 4, 5; tor's networkstatus.c and microdesc.c).

It gets and keeps what a client needs to build circuits: the authorities' key
certificates, a consensus (the microdesc flavor, or the ns flavor when
UseMicrodescriptors is 0) verified against those certificates, and the microdescriptors
or server descriptors it lists. Everything is cached in the DataDirectory under tor's
file names and reused at the next start while the consensus is still reasonably live.
Directory requests go over BEGIN_DIR on a one-hop CREATE_FAST circuit to an authority
or a fallback directory, chosen at random, as tor's clients do; a failed server is
followed by another.

Simplified on purpose: descriptors are fetched all at once from one directory server per
batch rather than spread over several; the refresh time is drawn uniformly from the
window dir-spec 5.1 gives.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from zwiebel.config.authorities import DirAuthoritySpec, FallbackDirSpec
from zwiebel.config.files import atomic_write
from zwiebel.encoding import ParseError, b64_nopad, unb16
from zwiebel.managers.bootstrap import BootstrapState, Phase
from zwiebel.managers.channels import ChannelManager
from zwiebel.netdir.adapter import netdir_from_documents
from zwiebel.netdir.netdir import NetDir
from zwiebel.netdoc.authcert import AuthorityCert, check_authority_cert, parse_authority_certs
from zwiebel.netdoc.consensus import Consensus, parse_consensus
from zwiebel.netdoc.consensus_verify import (
    ConsensusVerifyError,
    is_reasonably_live,
    verify_consensus,
)
from zwiebel.netdoc.errors import VerifyError
from zwiebel.netdoc.microdesc import Microdescriptor, parse_microdescs
from zwiebel.netdoc.serverdesc import ServerDescriptor, parse_server_descriptors
from zwiebel.proto.dirhttp import DirResponse
from zwiebel.runtime.circuit import Circuit
from zwiebel.runtime.clock import utcnow
from zwiebel.runtime.dirfetch import fetch_over

log = logging.getLogger("zwiebel")

#: Descriptors per request (tor: DIR_MICRODESC_DOWNLOAD_... batches of 92 / 96).
BATCH = 92
REQUEST_TIMEOUT = 30.0


class DirectoryError(Exception):
    """No usable directory information could be obtained."""


@dataclass(frozen=True)
class DirServer:
    """A directory server we can reach with BEGIN_DIR."""

    address: str
    or_port: int
    rsa_id: bytes


class DirectoryManager:
    """Bootstraps and refreshes the client's view of the network."""

    def __init__(
        self,
        authorities: Sequence[DirAuthoritySpec],
        fallbacks: Sequence[FallbackDirSpec],
        data_dir: Path,
        microdescs: bool,
        channels: ChannelManager,
        bootstrap: BootstrapState,
    ) -> None:
        self._authorities = [a for a in authorities if a.v3ident and not a.is_bridge_authority]
        self._trusted = [unb16(a.v3ident or "") for a in self._authorities]
        self._servers = [DirServer(a.address, a.or_port, unb16(a.fingerprint))
                         for a in self._authorities]
        self._servers += [DirServer(f.address, f.or_port, unb16(f.fingerprint))
                          for f in fallbacks]
        self._data_dir = data_dir
        self._flavor = "microdesc" if microdescs else "ns"
        self._channels = channels
        self._bootstrap = bootstrap
        self._certs: dict[tuple[bytes, bytes], AuthorityCert] = {}
        self._docs: dict[bytes, Microdescriptor | ServerDescriptor] = {}
        self.consensus: Consensus | None = None
        self.netdir: NetDir | None = None
        self.changed = asyncio.Event()
        #: Told of each consensus accepted and each batch of new server descriptors
        #: (the control port's NEWCONSENSUS and NEWDESC events).
        self.on_consensus: Callable[[Consensus], None] = lambda consensus: None
        self.on_descriptors: Callable[[list[ServerDescriptor]], None] = lambda docs: None

    # -- cache file names (tor's) -------------------------------------------------
    @property
    def _consensus_file(self) -> Path:
        name = "cached-microdesc-consensus" if self._flavor == "microdesc" else "cached-consensus"
        return self._data_dir / name

    @property
    def _docs_file(self) -> Path:
        name = "cached-microdescs" if self._flavor == "microdesc" else "cached-descriptors"
        return self._data_dir / name

    # -- bootstrapping ----------------------------------------------------------------
    async def bootstrap(self) -> NetDir:
        """Load the cache or fetch everything; returns a NetDir good enough to build with."""
        if not self._servers:
            raise DirectoryError("no directory authorities configured")
        self._load_cache()
        if self.netdir is None or not self._has_enough():
            await self.refresh()
        assert self.netdir is not None
        return self.netdir

    async def refresh(self) -> None:
        """Fetch from randomly chosen directory servers until one gives what we need."""
        servers = random.sample(self._servers, k=min(len(self._servers), 3))
        for server in servers[:-1]:
            try:
                await self._refresh_from(server)
                return
            except (DirectoryError, ParseError, VerifyError, OSError, TimeoutError) as exc:
                log.info("Directory fetch from %s:%d failed: %s", server.address,
                         server.or_port, exc)
        await self._refresh_from(servers[-1])

    async def _refresh_from(self, server: DirServer) -> None:
        circuit = await self._dir_circuit(server)
        try:
            self._bootstrap.reach(Phase.REQUESTING_STATUS)
            text = await self._get_text(circuit, self._consensus_path())
            self._bootstrap.reach(Phase.LOADING_STATUS)
            consensus = parse_consensus(text)
            self._bootstrap.reach(Phase.LOADING_KEYS)
            await self._ensure_certs(circuit, consensus)
            self._verify(consensus)
            atomic_write(str(self._consensus_file), text)
            self.consensus = consensus
            self.on_consensus(consensus)
            log.info("Received a new %s consensus, valid-after %s, from %s:%d.",
                     self._flavor, consensus.valid_after.strftime("%Y-%m-%d %H:%M:%S"),
                     server.address, server.or_port)
            self._bootstrap.reach(Phase.REQUESTING_DESCRIPTORS)
            await self._fetch_missing_docs(circuit, consensus)
            self._bootstrap.reach(Phase.LOADING_DESCRIPTORS)
        finally:
            circuit.close("directory fetch done")
        self._rebuild()

    def _consensus_path(self) -> str:
        suffix = "-microdesc" if self._flavor == "microdesc" else ""
        return f"/tor/status-vote/current/consensus{suffix}"

    async def _dir_circuit(self, server: DirServer) -> Circuit:
        self._bootstrap.reach(Phase.CONN)
        channel = await self._channels.get(server.address, server.or_port, server.rsa_id)
        self._bootstrap.reach(Phase.HANDSHAKE_DONE)
        self._bootstrap.reach(Phase.ONEHOP_CREATE)
        circuit = Circuit(channel, 0)
        await circuit.create(None, REQUEST_TIMEOUT)
        return circuit

    async def _get_text(self, circuit: Circuit, path: str) -> str:
        stream = await circuit.open_dir_stream(REQUEST_TIMEOUT)
        async with asyncio.timeout(REQUEST_TIMEOUT):
            response: DirResponse = await fetch_over(stream, path)
        if response.status != 200:
            raise DirectoryError(f"GET {path}: {response.status} {response.reason}")
        return response.body.decode("utf-8", errors="replace")

    async def _ensure_certs(self, circuit: Circuit, consensus: Consensus) -> None:
        needed = {(s.identity, s.signing_key_digest) for s in consensus.signatures
                  if s.identity in self._trusted}
        if needed <= set(self._certs):
            return
        text = await self._get_text(circuit, "/tor/keys/all")
        self._add_certs(text)
        atomic_write(str(self._data_dir / "cached-certs"),
                     "".join(c.raw for c in self._certs.values()))

    def _add_certs(self, text: str) -> None:
        now = utcnow()
        for cert in parse_authority_certs(text):
            if cert.identity not in self._trusted:
                continue
            try:
                check_authority_cert(cert, now)
            except VerifyError as exc:
                log.warning("Ignoring authority certificate: %s", exc)
                continue
            self._certs[(cert.identity, cert.signing_key_digest)] = cert

    def _verify(self, consensus: Consensus) -> None:
        try:
            verify_consensus(consensus, list(self._certs.values()), self._trusted, utcnow())
        except ConsensusVerifyError as exc:
            raise DirectoryError(f"consensus did not verify: {exc}") from exc

    async def _fetch_missing_docs(self, circuit: Circuit, consensus: Consensus) -> None:
        wanted = [d for d in self._digests(consensus) if d not in self._docs]
        for i in range(0, len(wanted), BATCH):
            batch = wanted[i : i + BATCH]
            text = await self._get_text(circuit, self._docs_path(batch))
            self._add_docs(text)
        live = set(self._digests(consensus))
        self._docs = {k: v for k, v in self._docs.items() if k in live}
        atomic_write(str(self._docs_file), "".join(d.raw for d in self._docs.values()))

    def _digests(self, consensus: Consensus) -> list[bytes]:
        if self._flavor == "microdesc":
            return [r.microdesc_digest for r in consensus.routers if r.microdesc_digest]
        return [r.descriptor_digest for r in consensus.routers if r.descriptor_digest]

    def _docs_path(self, digests: list[bytes]) -> str:
        if self._flavor == "microdesc":
            return "/tor/micro/d/" + "-".join(b64_nopad(d) for d in digests)
        return "/tor/server/d/" + "+".join(d.hex().upper() for d in digests)

    def _add_docs(self, text: str) -> None:
        docs: Sequence[Microdescriptor | ServerDescriptor]
        if self._flavor == "microdesc":
            docs = parse_microdescs(text)
        else:
            docs = parse_server_descriptors(text)
        for doc in docs:
            self._docs[doc.digest] = doc
        self.on_descriptors([d for d in docs if isinstance(d, ServerDescriptor)])

    def documents(self) -> Mapping[bytes, Microdescriptor | ServerDescriptor]:
        """The descriptors held, by the digest the consensus names them with."""
        return self._docs

    async def fetch_document(self, path: str) -> bytes | None:
        """GET `path` from a random directory server over BEGIN_DIR, unverified (for a
        relay's directory cache, whose clients verify what they get); None on failure."""
        server = random.choice(self._servers)
        try:
            circuit = await self._dir_circuit(server)
            try:
                return (await self._get_text(circuit, path)).encode()
            finally:
                circuit.close("directory fetch done")
        except (DirectoryError, ParseError, OSError, TimeoutError) as exc:
            log.info("Fetching %s for the directory cache failed: %s", path, exc)
            return None

    def cached_consensus(self, microdesc: bool) -> bytes | None:
        """The cached consensus text of that flavor, if it is the one we keep."""
        if microdesc != (self._flavor == "microdesc"):
            return None
        return _read(self._consensus_file)

    def cached_certs(self) -> bytes | None:
        """The cached authority certificates."""
        return _read(self._data_dir / "cached-certs")

    # -- state ---------------------------------------------------------------------------
    def _has_enough(self) -> bool:
        if self.consensus is None or not is_reasonably_live(self.consensus, utcnow()):
            return False
        wanted = self._digests(self.consensus)
        return bool(wanted) and all(d in self._docs for d in wanted)

    def _rebuild(self) -> None:
        assert self.consensus is not None
        docs = list(self._docs.values())
        self.netdir = netdir_from_documents(self.consensus, docs)  # type: ignore[arg-type]
        self._bootstrap.reach(Phase.ENOUGH_DIRINFO)
        self.changed.set()

    def _load_cache(self) -> None:
        try:
            certs = (self._data_dir / "cached-certs").read_text()
            self._add_certs(certs)
            consensus = parse_consensus(self._consensus_file.read_text())
            self._verify(consensus)
            self._add_docs(self._docs_file.read_text())
        except (OSError, ParseError, DirectoryError, VerifyError) as exc:
            log.info("No usable cached directory information: %s", exc)
            return
        self.consensus = consensus
        if self._has_enough():
            log.info("Loaded a usable consensus and descriptors from the cache.")
            self._rebuild()

    def next_refresh_delay(self) -> float:
        """Seconds until a refresh, drawn from dir-spec 5.1's window for clients."""
        if self.consensus is None:
            return 5.0
        c = self.consensus
        fresh = (c.fresh_until - c.valid_after).total_seconds()
        valid = (c.valid_until - c.fresh_until).total_seconds()
        start = c.fresh_until + dt.timedelta(seconds=fresh * 0.75)
        span = max(valid * 7 / 8 - fresh * 0.75, 1.0)
        when = start + dt.timedelta(seconds=random.uniform(0, span))
        return max((when - utcnow()).total_seconds(), 1.0)

    async def run_refresh_loop(self) -> None:
        """Keep the consensus fresh until cancelled."""
        while True:
            await asyncio.sleep(self.next_refresh_delay())
            try:
                await self.refresh()
            except (DirectoryError, ParseError, VerifyError, OSError, TimeoutError) as exc:
                log.warning("Directory refresh failed: %s", exc)
            except Exception as exc:  # a failed refresh must not end the loop
                log.warning("Directory refresh failed: %s: %s", type(exc).__name__, exc)


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
