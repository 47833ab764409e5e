"""Per-hop relay cell crypto, "tor1" (tor-spec 5.5, 6.1; tor's `relay_crypto_tor1.c`).

Each hop shares with the client two AES-128-CTR streams (Kf forward, Kb backward, IV zero)
and two running SHA-1 digests seeded with Df and Db. A cell's 'recognized' field is zero and
its 4-byte digest field holds the first bytes of the running digest over every relay body
"destined for this hop ... or originated from this hop ... including this RELAY cell's entire
payload (taken with the digest field set to zero)".

Running digest rule (as tor does it): the sender always folds the body into its digest. A
receiver folds a body in only when 'recognized' is zero *and* the digest matches; otherwise
"the running digest at that node should not be updated, and the cell should be forwarded
on". tor checkpoints and restores the digest; here the check runs on a copy, which is only
kept on a match. The full 20-byte digest after each originated or recognized cell is kept as
the SENDME v1 tag (proposal 289), separately per direction.

`ClientCryptoPath` is the client's stack of hops; `RelayHopCrypto` is one relay's layer.
Bodies are 509-byte `bytes`; every call returns new `bytes` (the AES calls are the copies).
A run of cells relayed toward the client takes one AES call (`relay_backward_many`), and so
do a run of cells a relay originates (`originate_backward_many`: the digests are still
folded in cell by cell) and a run the client deciphers (`decrypt_inbound_many`).
Not here: the CGO relay crypto of proposal 359 and the SHA3/AES-256 onion-service variant.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

from zwiebel.cells.circuit import CELL_PAYLOAD_LEN
from zwiebel.cells.relay import DIGEST_LEN, DIGEST_OFFSET
from zwiebel.crypto.cipher import AesCtr
from zwiebel.crypto.digest import running_digest
from zwiebel.encoding import ParseError
from zwiebel.proto.handshake.keys import KeyMaterial

if TYPE_CHECKING:
    from hashlib import _Hash as HashObject

_ZERO_DIGEST = bytes(DIGEST_LEN)
_DIGEST_END = DIGEST_OFFSET + DIGEST_LEN
_NOT_RECOGNIZED_YET = bytes(2)
#: The offsets of a body's digest field, and the length of a full SHA-1 digest.
_FIELD = range(DIGEST_OFFSET, _DIGEST_END)
_FULL_LEN = 20


class UnrecognizedCellError(ParseError):
    """An inbound relay cell that no hop of the circuit recognizes (a protocol violation)."""


def _check_len(body: bytes) -> None:
    if len(body) != CELL_PAYLOAD_LEN:
        raise ValueError(f"relay cell body must be {CELL_PAYLOAD_LEN} bytes")


class _Direction:
    """One direction of one hop: cipher, running digest, last full digest."""

    __slots__ = ("cipher", "digest", "last")

    def __init__(self, key: bytes, seed: bytes) -> None:
        self.cipher = AesCtr(key)
        self.digest = running_digest("sha1", seed)
        self.last = b""

    def seal(self, body: bytes) -> bytes:
        """Originate: set the digest field from the running digest, then encrypt (one
        working copy of the body, patched in place)."""
        work = bytearray(body)
        work[DIGEST_OFFSET:_DIGEST_END] = _ZERO_DIGEST
        self.digest.update(work)
        self.last = self.digest.digest()
        work[DIGEST_OFFSET:_DIGEST_END] = self.last[:DIGEST_LEN]
        return self.cipher.process(work)

    def seal_many(self, bodies: bytes) -> tuple[bytes, list[bytes]]:
        """`seal` for each body of `bodies` (consecutive 509-byte bodies) in order, with
        one AES call: (the encrypted bodies joined, the full running digest after each)."""
        work = _zeroed(bodies)
        fulls = _fold(self.digest, work)
        joined = b"".join(fulls)
        for k, at in enumerate(_FIELD):
            work[at::CELL_PAYLOAD_LEN] = joined[k::_FULL_LEN]
        self.last = fulls[-1]
        return self.cipher.process(work), fulls

    def recognizes(self, plain: bytes) -> bool:
        """Check 'recognized' and the digest; advance the running digest only on a match."""
        if plain[1:3] != _NOT_RECOGNIZED_YET:
            return False
        return self.recognizes_at(memoryview(plain), 0) is not None

    def recognizes_at(self, plain: memoryview, start: int) -> bytes | None:
        """`recognizes` for the body at `start` in `plain`, whose 'recognized' field the
        caller found zero: the full running digest after it on a match, else None."""
        found = _trial_digest(self.digest, plain, start)
        if found is None:
            return None
        self.digest, self.last = found
        return self.last


def _zeroed(bodies: bytes) -> bytearray:
    """A copy of consecutive 509-byte bodies with every digest field zeroed (four strided
    slice assignments, no loop per body)."""
    work = bytearray(bodies)
    zeros = bytes(len(bodies) // CELL_PAYLOAD_LEN)
    for at in _FIELD:
        work[at::CELL_PAYLOAD_LEN] = zeros
    return work


def _fold(running: HashObject, work: bytearray) -> list[bytes]:
    """Fold each body of `work` into `running`, in order: the full digest after each."""
    update, digest = running.update, running.digest
    view = memoryview(work)
    fulls: list[bytes] = []
    keep = fulls.append
    for start in range(0, len(work), CELL_PAYLOAD_LEN):
        update(view[start:start + CELL_PAYLOAD_LEN])
        keep(digest())
    view.release()
    return fulls


def _recognize_all(direction: _Direction, plain: bytes) -> list[bytes] | None:
    """The common case of `_recognize_run`: every body of `plain` has a zero 'recognized'
    field and its digest field matches. Tried on a copy of the running digest, which
    becomes the direction's only if all match: the full digests after each body."""
    trial = direction.digest.copy()
    fulls = _fold(trial, _zeroed(plain))
    joined = b"".join(fulls)
    for k, at in enumerate(_FIELD):
        if joined[k::_FULL_LEN] != plain[at::CELL_PAYLOAD_LEN]:
            return None
    direction.digest = trial
    direction.last = fulls[-1]
    return fulls


def _trial_digest(running: HashObject, plain: memoryview, start: int
                  ) -> tuple[HashObject, bytes] | None:
    """The running digest advanced over the body at `start` (its digest field taken as
    zero) and its full value, if the value's first four bytes match that field."""
    trial = running.copy()
    trial.update(plain[start:start + DIGEST_OFFSET])
    trial.update(_ZERO_DIGEST)
    trial.update(plain[start + _DIGEST_END:start + CELL_PAYLOAD_LEN])
    full = trial.digest()
    if full[:DIGEST_LEN] != plain[start + DIGEST_OFFSET:start + _DIGEST_END]:
        return None
    return trial, full


class UniformRun(NamedTuple):
    """A run of relay cells that one hop recognized entirely (a download's cells, from the
    hop it comes from): the hop, the deciphered bodies joined, and the running digest
    after each body."""

    hop: int
    plain: bytes
    digests: list[bytes]

    def cells(self) -> list[InboundCell]:
        """The run as `decrypt_inbound_many` gives it, a tuple per cell."""
        return [(self.hop, self.plain, index * CELL_PAYLOAD_LEN, digest)
                for index, digest in enumerate(self.digests)]


#: A relay cell the client deciphered: the hop that recognized it (-1: none), the
#: plaintext of its run, its body's offset in that plaintext, and the running digest
#: after it. A plain tuple, without a copy of the body: one is made per cell on the
#: client's hottest path.
InboundCell = tuple[int, bytes, int, bytes]


def _recognized_zero(plain: bytes) -> Sequence[int]:
    """Offsets of the bodies in `plain` whose 'recognized' field is zero. The fields are
    read in two strided slices: at the hop a download comes from all are zero, at the
    hops before it almost none are (1 in 65536), and both cases take no loop per cell."""
    high = plain[1::CELL_PAYLOAD_LEN]
    low = plain[2::CELL_PAYLOAD_LEN]
    zeros = bytes(len(high))
    if high == zeros and low == zeros:
        return range(0, len(plain), CELL_PAYLOAD_LEN)
    found = []
    index = high.find(0)
    while index != -1:
        if not low[index]:
            found.append(index * CELL_PAYLOAD_LEN)
        index = high.find(0, index + 1)
    return found


def _recognize_run(direction: _Direction, hop: int, plain: bytes, candidates: Sequence[int],
                   waiting: list[int], out: list[InboundCell | None]
                   ) -> tuple[list[int], bytes]:
    """Mark the cells of `plain` (the run of `waiting` cells, deciphered by `hop`) that
    `hop` recognizes in `out`; return the rest: their indexes and bodies joined.

    `_Direction.recognizes_at` over the run: only bodies whose 'recognized' field is zero
    (`candidates`, their offsets) are tried, and a candidate's trial digest becomes the
    running digest only when it matches. At a hop that recognizes none of the run (the
    middle hops of a download) the run goes on unchanged."""
    view = memoryview(plain)
    running = direction.digest
    taken: list[int] = []
    for start in candidates:
        found = _trial_digest(running, view, start)
        if found is not None:
            running, full = found
            direction.last = full
            out[waiting[start // CELL_PAYLOAD_LEN]] = (hop, plain, start, full)
            taken.append(start // CELL_PAYLOAD_LEN)
    direction.digest = running
    if not taken:
        return waiting, plain
    if len(taken) == len(waiting):
        return [], b""
    gone = set(taken)
    keep = [k for k in range(len(waiting)) if k not in gone]
    rest = b"".join(view[k * CELL_PAYLOAD_LEN:(k + 1) * CELL_PAYLOAD_LEN] for k in keep)
    return [waiting[k] for k in keep], rest


class _Hop:
    __slots__ = ("fwd", "bwd")

    def __init__(self, keys: KeyMaterial) -> None:
        self.fwd = _Direction(keys.kf, keys.df)
        self.bwd = _Direction(keys.kb, keys.db)


class ClientCryptoPath:
    """The client's relay crypto for a circuit: one layer per hop, hop 0 first."""

    __slots__ = ("_hops",)

    def __init__(self) -> None:
        self._hops: list[_Hop] = []

    def __len__(self) -> int:
        return len(self._hops)

    def add_hop(self, keys: KeyMaterial) -> None:
        """Append the layer of a newly created or extended hop."""
        self._hops.append(_Hop(keys))

    def truncate(self, n_hops: int) -> None:
        """Forget every hop after the first `n_hops` (after TRUNCATED)."""
        del self._hops[n_hops:]

    def encrypt_outbound(self, body: bytes, hop: int) -> bytes:
        """Seal a plaintext body for `hop` and wrap it in every layer from `hop` back to 0."""
        _check_len(body)
        hops = self._hops
        cell = hops[hop].fwd.seal(body)
        for i in range(hop - 1, -1, -1):
            cell = hops[i].fwd.cipher.process(cell)
        return cell

    def decrypt_inbound(self, cell: bytes) -> tuple[int, bytes]:
        """Peel layers until a hop recognizes the cell: (hop index, plaintext body)."""
        _check_len(cell)
        [(hop, plain, at, _)] = self.decrypt_inbound_many([cell])
        if hop < 0:
            raise UnrecognizedCellError("inbound relay cell not recognized by any hop")
        return hop, plain[at:at + CELL_PAYLOAD_LEN]

    def decrypt_inbound_many(self, cells: Sequence[bytes]) -> list[InboundCell]:
        """`decrypt_inbound` for consecutive cells of the circuit: a tuple per cell, whose
        hop is -1 when no hop recognized it (the caller fails the circuit there)."""
        if cells and set(map(len, cells)) != {CELL_PAYLOAD_LEN}:
            raise ValueError(f"relay cell body must be {CELL_PAYLOAD_LEN} bytes")
        run = self.decrypt_inbound_run(b"".join(cells))
        return run.cells() if isinstance(run, UniformRun) else run

    def decrypt_inbound_run(self, data: bytes) -> UniformRun | list[InboundCell]:
        """Decipher consecutive 509-byte cell bodies of the circuit with one AES call per
        hop: every cell takes keystream from each hop up to the one that recognizes it,
        so each hop deciphers, in one piece, the cells no earlier hop recognized.

        The client's hottest path. When one hop recognizes the whole run, the answer is a
        `UniformRun` (no tuple per cell); otherwise a tuple per cell as in
        `decrypt_inbound_many`."""
        count = len(data) // CELL_PAYLOAD_LEN
        if len(data) != count * CELL_PAYLOAD_LEN:
            raise ValueError(f"relay cell bodies must be {CELL_PAYLOAD_LEN} bytes each")
        out: list[InboundCell | None] = [None] * count
        waiting = list(range(count))
        for index, hop in enumerate(self._hops):
            if not waiting:
                break
            plain = hop.bwd.cipher.process(data)
            candidates = _recognized_zero(plain)
            if len(candidates) == count:
                digests = _recognize_all(hop.bwd, plain)
                if digests is not None:
                    return UniformRun(index, plain, digests)
            waiting, data = _recognize_run(hop.bwd, index, plain, candidates, waiting, out)
        for i in waiting:
            out[i] = (-1, b"", 0, b"")
        return out  # type: ignore[return-value]

    def last_forward_digest(self, hop: int) -> bytes:
        """The 20-byte running digest after the last cell we sent to `hop`."""
        return self._hops[hop].fwd.last

    def last_backward_digest(self, hop: int) -> bytes:
        """The 20-byte running digest after the last cell we recognized from `hop`."""
        return self._hops[hop].bwd.last


class RelayHopCrypto:
    """A relay's layer of a circuit: keys as the handshake derived them, seen from the relay."""

    __slots__ = ("_hop",)

    def __init__(self, keys: KeyMaterial) -> None:
        self._hop = _Hop(keys)

    def decrypt_forward(self, cell: bytes) -> tuple[bool, bytes]:
        """Remove our layer from a cell coming from the client: (for us?, body).

        When the first item is False the body goes on to the next hop unchanged.
        """
        _check_len(cell)
        fwd = self._hop.fwd
        body = fwd.cipher.process(cell)
        return fwd.recognizes(body), body

    def originate_backward(self, body: bytes) -> bytes:
        """Seal a plaintext body we send to the client."""
        _check_len(body)
        return self._hop.bwd.seal(body)

    def originate_backward_many(self, bodies: bytes) -> tuple[bytes, list[bytes]]:
        """`originate_backward` for each of the consecutive 509-byte `bodies`, in one AES
        call: (the cells joined, the 20-byte running digest after each, for SENDME v1
        bookkeeping)."""
        if not bodies or len(bodies) % CELL_PAYLOAD_LEN:
            raise ValueError(f"relay cell bodies must be {CELL_PAYLOAD_LEN} bytes each")
        return self._hop.bwd.seal_many(bodies)

    def relay_backward(self, cell: bytes) -> bytes:
        """Add our layer to a cell from further along the circuit, on its way to the client."""
        _check_len(cell)
        return self._hop.bwd.cipher.process(cell)

    def relay_backward_many(self, cells: bytes) -> bytes:
        """`relay_backward` for consecutive cell bodies joined together, in one AES call:
        the backward layer of a relayed cell is pure keystream (nothing is recognized on
        the way to the client), so the result equals the bodies processed one by one."""
        if not cells or len(cells) % CELL_PAYLOAD_LEN:
            raise ValueError(f"relay cell bodies must be multiples of {CELL_PAYLOAD_LEN} bytes")
        return self._hop.bwd.cipher.process(cells)

    @property
    def last_forward_digest(self) -> bytes:
        """The 20-byte running digest after the last cell we recognized from the client."""
        return self._hop.fwd.last

    @property
    def last_backward_digest(self) -> bytes:
        """The 20-byte running digest after the last cell we originated toward the client."""
        return self._hop.bwd.last
